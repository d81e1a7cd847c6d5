//! Declared volumes against what real lvm reported (`crate::testkit::cow_fixture`): a volume
//! with a COW snapshot is still the volume (grown when lvm allows it, adopted), a COW snapshot
//! is never one.

use crate::config::LvmType;
use crate::lvm::{LvKind, Observed};
use crate::reconcile::plan::{Plan, Policy, RefusalKind, plan};
use crate::testkit::{cow_backend, cow_fixture, desired};

const POLICY: Policy = Policy {
    max_deletions_per_pass: 5,
    prune_grace: 0,
    now: 1_800_000_000,
    confirmed: false,
};

fn run(lvm_type: LvmType, yaml: &str, o: &Observed) -> Plan {
    plan(&cow_backend(lvm_type), &desired(yaml), o, &POLICY)
}

fn verbs(p: &Plan) -> Vec<(&'static str, String)> {
    p.actions
        .iter()
        .map(|a| (a.verb(), a.subject().to_string()))
        .collect()
}

fn refusal(p: &Plan, subject: &str) -> (RefusalKind, String) {
    p.refused
        .iter()
        .find(|r| r.subject == subject)
        .map(|r| (r.kind, r.reason.clone()))
        .unwrap_or_else(|| panic!("no refusal of {subject}: {p:?}"))
}

#[test]
fn an_active_volume_with_a_cow_snapshot_is_not_grown_and_the_refusal_names_the_snapshot() {
    let o = cow_fixture(Some("lvm-1"));
    for (lvm_type, volume, snapshot) in [
        (LvmType::Default, "thick", "thicksnap"),
        (LvmType::Thin, "thinc", "thincow"),
        (LvmType::Thin, "both", "bothcow"),
    ] {
        let p = run(
            lvm_type,
            &format!("volumes:\n  {volume}: {{size: 128M}}\n"),
            &o,
        );
        assert!(p.actions.is_empty(), "{p:?}");
        let (kind, why) = refusal(&p, volume);
        assert_eq!(kind, RefusalKind::HasCowSnapshot, "{why}");
        assert!(
            why.contains(&format!("the COW snapshot {snapshot} "))
                && why.contains("only while it is inactive")
                && why.contains(&format!("lvchange -an vgcow/{volume}")),
            "{why}"
        );
    }
    // a thin snapshot holds nothing back
    let p = run(LvmType::Thin, "volumes:\n  thinv: {size: 128M}\n", &o);
    assert_eq!(verbs(&p), [("extend_volume", "thinv".to_string())], "{p:?}");
}

#[test]
fn an_inactive_volume_with_a_cow_snapshot_grows_first_then_is_activated() {
    let mut o = cow_fixture(Some("lvm-1"));
    for l in o
        .lvs
        .iter_mut()
        .filter(|l| l.name.as_str().starts_with("thick"))
    {
        l.active = false;
    }
    let p = run(LvmType::Default, "volumes:\n  thick: {size: 128M}\n", &o);
    assert_eq!(
        verbs(&p),
        [
            ("extend_volume", "thick".to_string()),
            ("activate_volume", "thick".to_string())
        ],
        "{p:?}"
    );
    assert_eq!(p.origins, ["thick"]);
    // not growing: activated as any volume
    let p = run(LvmType::Default, "volumes:\n  thick: {size: 64M}\n", &o);
    assert_eq!(verbs(&p), [("activate_volume", "thick".to_string())]);
}

#[test]
fn a_volume_with_a_cow_snapshot_is_adopted_and_the_snapshot_never_is() {
    let o = cow_fixture(None);
    let p = run(
        LvmType::Default,
        "adopt: true\nvolumes:\n  thick: {size: 64M}\n  thicksnap: {size: 16M}\n",
        &o,
    );
    assert_eq!(verbs(&p), [("adopt_volume", "thick".to_string())], "{p:?}");
    let (kind, why) = refusal(&p, "thicksnap");
    assert_eq!(kind, RefusalKind::NotAdoptable);
    assert!(why.contains("this LV is a COW snapshot of thick"), "{why}");
    let p = run(
        LvmType::Thin,
        "adopt: true\nvolumes:\n  thinc: {size: 64M}\n  both: {size: 64M}\n",
        &o,
    );
    assert_eq!(
        verbs(&p),
        [
            ("adopt_volume", "both".to_string()),
            ("adopt_volume", "thinc".to_string())
        ],
        "{p:?}"
    );
}

#[test]
fn a_cow_snapshot_is_never_a_volume_of_ember_s_whoever_s_tags_it_carries() {
    // the thick volume and every COW snapshot tagged as ember's (by hand)
    let mut o = cow_fixture(None);
    for l in o
        .lvs
        .iter_mut()
        .filter(|l| l.kind == LvKind::CowSnapshot || l.name == "thick")
    {
        l.tags = o_tags();
    }
    let p = run(
        LvmType::Default,
        "volumes:\n  thicksnap: {state: absent}\n",
        &o,
    );
    assert!(p.actions.is_empty(), "{p:?}");
    let (kind, why) = refusal(&p, "thicksnap");
    assert_eq!(kind, RefusalKind::WrongKind);
    assert!(
        why.contains("the LV is a COW snapshot of thick")
            && why.contains("ember never removes one"),
        "{why}"
    );
    let p = run(LvmType::Default, "volumes:\n  thicksnap: {size: 1G}\n", &o);
    assert!(p.actions.is_empty(), "{p:?}");
    assert_eq!(refusal(&p, "thicksnap").0, RefusalKind::WrongKind);
    // nor is it pruned or marked
    let p = plan(
        &cow_backend(LvmType::Default),
        &desired("prune: true\nvolumes:\n  thick: {size: 64M}\n"),
        &o,
        &POLICY,
    );
    assert!(p.actions.is_empty() && p.refused.is_empty(), "{p:?}");
}

fn o_tags() -> Vec<String> {
    vec![
        crate::names::OWNERSHIP_TAG.to_string(),
        crate::names::Tag::backend("lvm-1").to_string(),
    ]
}
