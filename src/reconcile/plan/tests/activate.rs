//! Inactive volumes of this backend's, declared: activated before growth and creation, each
//! bound to the LV the plan read.
use super::*;

#[test]
fn inactive_owned_declared_volumes_are_activated_before_growth_and_creation() {
    let pool = lv("vg-pool", LvKind::ThinPool, 50 * G, true);
    let mut asleep = lv("asleep", LvKind::Thin, G, true);
    asleep.active = false;
    let mut small = lv("small", LvKind::Thin, G, true);
    small.active = false;
    let mut foreign = lv("foreign", LvKind::Thin, G, false);
    foreign.active = false;
    let mut undeclared = lv("undeclared", LvKind::Thin, G, true);
    undeclared.active = false;
    let mut gone = lv("gone", LvKind::Thin, G, true);
    gone.active = false;
    let p = plan(
        &cfg(LvmType::Auto),
        &desired(
            "volumes:\n  asleep: {size: 1G}\n  small: {size: 2G}\n  foreign: {size: 1G}\n  new: {size: 1G}\n  gone: {state: absent}\n",
        ),
        &observed(40 * G, vec![pool, asleep, small, foreign, undeclared, gone]),
        &POLICY,
    );
    let n = |s: &str| LvName::new(s).unwrap();
    assert_eq!(
        p.actions,
        vec![
            Action::DeleteVolume {
                volume: n("gone"),
                uuid: crate::testkit::uuid("gone"),
                size: Bytes(G),
                reason: DeleteReason::Absent,
                snapshots: vec![],
                clear: None,
            },
            Action::ActivateVolume {
                volume: n("asleep"),
                uuid: Some(crate::testkit::uuid("asleep")),
                size: Bytes(G),
                thin: true
            },
            Action::ActivateVolume {
                volume: n("small"),
                uuid: Some(crate::testkit::uuid("small")),
                size: Bytes(G),
                thin: true
            },
            Action::ExtendVolume {
                volume: n("small"),
                uuid: crate::testkit::uuid("small"),
                from: Bytes(G),
                to: Bytes(2 * G)
            },
            Action::CreateVolume {
                volume: n("new"),
                size: Bytes(G),
                thin: true
            },
        ],
        "foreign and undeclared volumes are not activated"
    );
}
