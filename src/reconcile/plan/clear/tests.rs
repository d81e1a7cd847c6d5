//! The clear before a deletion, and deletions whose clear was cut short, planned against
//! made-up VGs.

use crate::config::{BackendConfig, ClearSettings, LvmType, VolumeClear};
use crate::lvm::{LvInfo, LvKind, Observed, VgInfo};
use crate::names::Tag;
use crate::reconcile::plan::{Action, Clear, DeleteReason, Policy, RefusalKind, WarningKind, plan};
use crate::reconcile::render::plan_text;
use crate::size::Bytes;
use crate::testkit::desired;

const G: u64 = 1 << 30;
const M: u64 = 1 << 20;
const NOW: u64 = 1_800_000_000;
const POLICY: Policy = Policy {
    max_deletions_per_pass: 5,
    prune_grace: 0,
    now: NOW,
    confirmed: false,
};

fn thick(clear: ClearSettings) -> BackendConfig {
    BackendConfig {
        volume_clear: clear,
        ..crate::testkit::backend("lvm-1", LvmType::Default)
    }
}

fn zero() -> ClearSettings {
    ClearSettings::default()
}

fn vol(name: &str, kind: LvKind, owner: Option<&str>) -> LvInfo {
    let mut l = crate::testkit::lv(name, kind, G, owner);
    l.device = Some((253, 4));
    l
}

fn vg(lvs: Vec<LvInfo>) -> Observed {
    Observed {
        pvs: vec![],
        vg: VgInfo {
            name: "vg".into(),
            size: 100 * G,
            free: 40 * G,
            extent_size: 4 * M,
            ..Default::default()
        },
        lvs,
    }
}

fn deletion(p: &crate::reconcile::Plan, name: &str) -> Option<(DeleteReason, Option<Clear>)> {
    p.actions.iter().find_map(|a| match a {
        Action::DeleteVolume {
            volume,
            reason,
            clear,
            ..
        } if volume.as_str() == name => Some((*reason, clear.clone())),
        _ => None,
    })
}

const GONE: &str = "volumes:\n  keep: {size: 1G}\n  gone: {state: absent}\n";

#[test]
fn a_thick_volume_is_cleared_before_its_deletion_all_of_it_by_default() {
    let o = vg(vec![
        vol("keep", LvKind::Linear, Some("lvm-1")),
        vol("gone", LvKind::Linear, Some("lvm-1")),
    ]);
    let p = plan(&thick(zero()), &desired(GONE), &o, &POLICY);
    let (reason, clear) = deletion(&p, "gone").expect("deleted");
    assert_eq!(reason, DeleteReason::Absent);
    assert_eq!(
        clear,
        Some(Clear {
            method: VolumeClear::Zero,
            bytes: Bytes(G),
            device: Some((253, 4)),
        })
    );
    // the LV as read: what the clear proves the device against and the removal is bound to
    assert!(
        p.actions.iter().any(|a| matches!(a,
            Action::DeleteVolume { volume, uuid, .. }
                if volume.as_str() == "gone" && *uuid == crate::testkit::uuid("gone"))),
        "{p:?}"
    );
    assert!(
        plan_text(&p)
            .contains("- delete volume gone 1.0 GiB (state: absent; cleared first: zero, 1.0 GiB)"),
        "{}",
        plan_text(&p)
    );
}

#[test]
fn volume_clear_size_clears_the_first_mib_and_none_clears_nothing() {
    let o = vg(vec![
        vol("keep", LvKind::Linear, Some("lvm-1")),
        vol("gone", LvKind::Linear, Some("lvm-1")),
    ]);
    let first = ClearSettings {
        size_mib: 1,
        ..zero()
    };
    let p = plan(&thick(first), &desired(GONE), &o, &POLICY);
    assert_eq!(deletion(&p, "gone").unwrap().1.unwrap().bytes, Bytes(M));
    assert!(
        plan_text(&p).contains("(state: absent; cleared first: zero, the first 1.0 MiB)"),
        "{}",
        plan_text(&p)
    );
    let none = ClearSettings {
        method: VolumeClear::None,
        ..zero()
    };
    let p = plan(&thick(none), &desired(GONE), &o, &POLICY);
    assert_eq!(deletion(&p, "gone"), Some((DeleteReason::Absent, None)));
    assert!(!plan_text(&p).contains("cleared"), "{}", plan_text(&p));
}

#[test]
fn thin_volumes_are_not_cleared_and_a_pool_that_does_not_zero_is_a_warning() {
    let cfg = BackendConfig {
        volume_clear: zero(),
        ..crate::testkit::backend("lvm-1", LvmType::Thin)
    };
    let pool = crate::testkit::lv("vg-pool", LvKind::ThinPool, 50 * G, Some("lvm-1"));
    let lvs = vec![
        pool.clone(),
        vol("keep", LvKind::Thin, Some("lvm-1")),
        vol("gone", LvKind::Thin, Some("lvm-1")),
    ];
    let p = plan(&cfg, &desired(GONE), &vg(lvs.clone()), &POLICY);
    assert_eq!(deletion(&p, "gone"), Some((DeleteReason::Absent, None)));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    // the same pool made with -Zn (lv_attr without z)
    let mut lvs = lvs;
    lvs[0].zeroes = false;
    let p = plan(&cfg, &desired(GONE), &vg(lvs), &POLICY);
    assert_eq!(deletion(&p, "gone"), Some((DeleteReason::Absent, None)));
    let w: Vec<_> = p
        .warnings
        .iter()
        .filter(|w| w.kind == WarningKind::NotWiped)
        .collect();
    assert_eq!(w.len(), 1, "{:?}", p.warnings);
    assert!(
        w[0].message.contains("does not zero new blocks")
            && w[0].message.contains("lvchange --zero y vg/vg-pool"),
        "{}",
        w[0].message
    );
}

#[test]
fn no_deletion_without_a_uuid_to_prove_the_device_nor_of_a_cow_origin() {
    // an LV whose uuid lvm did not report is no LV to plan from at all (every write is bound to
    // its uuid): the read fails, so nothing is planned, let alone deleted
    let report = r#"{"report":[{"vg":[{"vg_name":"vg","vg_size":"107374182400","vg_free":"42949672960","vg_extent_size":"4194304"}],"lv":[{"lv_name":"gone","lv_attr":"-wi-a-----","lv_layout":"linear","lv_size":"1073741824","lv_tags":"ember-managed,ember-backend=lvm-1"}]}]}"#;
    let e = crate::lvm::report::parse_fullreport(report, "vg").unwrap_err();
    assert!(e.to_string().contains("lv_uuid"), "{e}");
    // a COW snapshot of it (another tool's): clearing the origin would copy into the snapshot
    let mut snap = vol("backup", LvKind::Other, None);
    snap.origin = Some("gone".into());
    let o = vg(vec![
        vol("keep", LvKind::Linear, Some("lvm-1")),
        vol("gone", LvKind::Linear, Some("lvm-1")),
        snap,
    ]);
    let p = plan(&thick(zero()), &desired(GONE), &o, &POLICY);
    assert_eq!(deletion(&p, "gone"), None);
    assert!(
        p.refused
            .iter()
            .any(|r| r.kind == RefusalKind::NotWiped && r.reason.contains("snapshot backup")),
        "{:?}",
        p.refused
    );
}

/// The uuid [`vol`] gives `name`.
fn own(name: &str) -> String {
    crate::testkit::uuid(name).to_string()
}

/// `name`, this backend's, tagged as a clear of it began (or of another LV, `uuid`).
fn clearing(name: &str, uuid: &str) -> LvInfo {
    let mut l = vol(name, LvKind::Linear, Some("lvm-1"));
    l.tags.push(Tag::clearing(uuid).unwrap().to_string());
    l
}

#[test]
fn a_clear_cut_short_is_finished_whatever_is_declared_and_beside_the_cap() {
    let o = vg(vec![
        vol("keep", LvKind::Linear, Some("lvm-1")),
        clearing("half", &own("half")),
        vol("gone", LvKind::Linear, Some("lvm-1")),
    ]);
    // declared present again: deleted (cleared again), then made again, empty, with a warning
    let p = plan(
        &thick(zero()),
        &desired("volumes:\n  keep: {size: 1G}\n  half: {size: 1G}\n  gone: {size: 1G}\n"),
        &o,
        &POLICY,
    );
    let (reason, clear) = deletion(&p, "half").expect("finished");
    assert_eq!(reason, DeleteReason::Resume);
    assert_eq!(clear.unwrap().bytes, Bytes(G));
    let verbs: Vec<_> = p
        .actions
        .iter()
        .map(|a| (a.verb(), a.subject().as_str()))
        .collect();
    assert_eq!(
        verbs,
        [("delete_volume", "half"), ("create_volume", "half")],
        "{p:?}"
    );
    assert!(
        p.warnings
            .iter()
            .any(|w| w.kind == WarningKind::WipeResumed && w.subject == "half"),
        "{:?}",
        p.warnings
    );
    assert!(
        plan_text(&p).contains("- delete volume half 1.0 GiB (its clear was cut short (tag ember-clearing): cleared again and removed; cleared first: zero, 1.0 GiB)"),
        "{}",
        plan_text(&p)
    );
    // not declared, prune off, and a cap of 0 that refuses the other deletion: still finished
    let cap0 = Policy {
        max_deletions_per_pass: 0,
        ..POLICY
    };
    let p = plan(&thick(zero()), &desired(GONE), &o, &cap0);
    assert_eq!(
        deletion(&p, "half").map(|d| d.0),
        Some(DeleteReason::Resume)
    );
    assert_eq!(deletion(&p, "gone"), None);
    assert!(
        p.refused
            .iter()
            .any(|r| r.subject == "gone" && r.kind == RefusalKind::DeletionCap)
    );
    // with a grace period and prune: at once, not marked
    let grace = Policy {
        prune_grace: 600,
        ..POLICY
    };
    let p = plan(
        &thick(zero()),
        &desired("prune: true\nvolumes:\n  keep: {size: 1G}\n  gone: {size: 1G}\n"),
        &o,
        &grace,
    );
    assert_eq!(
        deletion(&p, "half").map(|d| d.0),
        Some(DeleteReason::Resume)
    );
    assert!(p.actions.iter().all(|a| a.verb() != "mark_volume"), "{p:?}");
}

#[test]
fn a_clearing_tag_on_what_is_not_this_backends_or_of_another_lv_deletes_nothing() {
    let mut foreign = clearing("foreign", &own("foreign"));
    foreign.tags.retain(|t| t.starts_with("ember-clearing="));
    let mut other = clearing("other", &own("other"));
    other.tags = vec![
        crate::names::OWNERSHIP_TAG.into(),
        Tag::backend("lvm-2").to_string(),
        Tag::clearing(&own("other")).unwrap().to_string(),
    ];
    // this backend's, but the tag names the LV that had its name before
    let renamed = clearing("renamed", "uuid-an-older-lv");
    let o = vg(vec![
        vol("keep", LvKind::Linear, Some("lvm-1")),
        foreign,
        other,
        renamed,
    ]);
    let p = plan(
        &thick(zero()),
        &desired("volumes:\n  keep: {size: 1G}\n  renamed: {size: 1G}\n"),
        &o,
        &POLICY,
    );
    assert!(!p.deletes(), "{p:?}");
    assert!(p.actions.is_empty(), "{p:?}");
    let w: Vec<_> = p
        .warnings
        .iter()
        .filter(|w| w.kind == WarningKind::StrayClearTag)
        .collect();
    assert_eq!(w.len(), 1, "{:?}", p.warnings);
    assert!(
        w[0].message
            .contains("lvchange --deltag ember-clearing=uuid-an-older-lv vg/renamed"),
        "{}",
        w[0].message
    );
}

#[test]
fn a_prune_marks_first_and_clears_when_it_deletes() {
    let grace = Policy {
        prune_grace: 600,
        ..POLICY
    };
    let mut old = vol("old", LvKind::Linear, Some("lvm-1"));
    let o = vg(vec![
        vol("keep", LvKind::Linear, Some("lvm-1")),
        old.clone(),
    ]);
    let keep = "prune: true\nvolumes:\n  keep: {size: 1G}\n";
    let p = plan(&thick(zero()), &desired(keep), &o, &grace);
    assert_eq!(p.actions[0].verb(), "mark_volume");
    assert!(!p.deletes());
    old.tags.push(Tag::mark(NOW - 600).to_string());
    let o = vg(vec![vol("keep", LvKind::Linear, Some("lvm-1")), old]);
    let p = plan(&thick(zero()), &desired(keep), &o, &grace);
    let (reason, clear) = deletion(&p, "old").unwrap();
    assert_eq!(reason, DeleteReason::Prune);
    assert_eq!(clear.unwrap().bytes, Bytes(G));
}
