use super::super::*;
use crate::config::LvmType;
use crate::desired::Source;
use crate::lvm::{LvKind, VgInfo};

const G: u64 = 1 << 30;
const M: u64 = 1 << 20;
const NOW: u64 = 1_800_000_000;
const POLICY: Policy = Policy {
    max_deletions_per_pass: 5,
    prune_grace: 0,
    now: NOW,
    confirmed: false,
};

fn n(s: &str) -> LvName {
    LvName::new(s).unwrap()
}

fn cfg() -> BackendConfig {
    let mut c = crate::testkit::backend("lvm-1", LvmType::Thin);
    c.max_over_subscription_ratio = crate::config::Ratio::Fixed(1.0);
    c
}

/// This backend's thin volume (or snapshot, by its name) in vg-pool.
fn mine(name: &str, size: u64) -> LvInfo {
    crate::testkit::lv(name, LvKind::Thin, size, Some("lvm-1"))
}

fn snapshot_of(name: &str, origin: &str, size: u64, owner: Option<&str>) -> LvInfo {
    let mut l = crate::testkit::lv(name, LvKind::Thin, size, owner);
    l.origin = Some(origin.into());
    l.active = false;
    l.skip_activation = true;
    l
}

/// A VG with a 100 GiB pool (ratio 1: 100 GiB may be provisioned) and `lvs` in it.
fn observed(lvs: Vec<LvInfo>) -> Observed {
    let mut all = vec![crate::testkit::lv(
        "vg-pool",
        LvKind::ThinPool,
        100 * G,
        None,
    )];
    all[0].metadata_size = Some(G);
    all.extend(lvs);
    Observed {
        pvs: vec![],
        vg: VgInfo {
            name: "vg".into(),
            size: 200 * G,
            free: 50 * G,
            extent_size: 4 * M,
            ..Default::default()
        },
        lvs: all,
    }
}

fn plan_of(yaml: &str, lvs: Vec<LvInfo>) -> Plan {
    plan(
        &cfg(),
        &crate::testkit::desired(yaml),
        &observed(lvs),
        &POLICY,
    )
}

fn refusal(p: &Plan, subject: &str) -> Option<(RefusalKind, String)> {
    p.refused
        .iter()
        .find(|r| r.subject == subject)
        .map(|r| (r.kind, r.reason.clone()))
}

#[test]
fn a_snapshot_of_an_existing_volume_is_made_with_its_virtual_size() {
    let p = plan_of(
        "volumes:\n  volume-a: {size: 10G}\nsnapshots:\n  _snapshot-s1: {volume: volume-a}\n",
        vec![mine("volume-a", 10 * G)],
    );
    assert_eq!(
        p.actions,
        vec![Action::CreateSnapshot {
            snapshot: n("_snapshot-s1"),
            origin: n("volume-a"),
            size: Bytes(10 * G),
        }]
    );
    assert_eq!(
        p.actions[0].line(),
        "+ create snapshot _snapshot-s1 of volume-a"
    );
    assert!(p.refused.is_empty(), "{p:?}");
}

#[test]
fn everything_new_is_made_in_one_pass_each_after_what_it_is_made_from() {
    // declared in an order that is not the order they can be made in
    let p = plan_of(
        "volumes:\n  volume-a: {size: 10G}\n  volume-b: {size: 20G, source: {snapshot: _snapshot-s1}}\n  volume-c: {size: 10G, source: {volume: volume-a}}\n  volume-d: {size: 10G, source: {volume: volume-c}}\nsnapshots:\n  _snapshot-s1: {volume: volume-a}\n",
        vec![],
    );
    assert!(p.refused.is_empty(), "{p:?}");
    let order: Vec<&str> = p.actions.iter().map(|a| a.subject().as_str()).collect();
    let at = |s: &str| order.iter().position(|o| *o == s).unwrap();
    assert!(at("volume-a") < at("_snapshot-s1"), "{order:?}");
    assert!(at("_snapshot-s1") < at("volume-b"), "{order:?}");
    assert!(at("volume-a") < at("volume-c"), "{order:?}");
    assert!(at("volume-c") < at("volume-d"), "{order:?}");
    let lines: Vec<String> = p.actions.iter().map(Action::line).collect();
    assert!(
        lines.contains(&"+ create volume volume-b 20.0 GiB from snapshot _snapshot-s1".into()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"+ clone volume volume-c from volume-a".into()),
        "{lines:?}"
    );
    assert!(
        p.actions.contains(&Action::CreateFromSource {
            volume: n("volume-b"),
            size: Bytes(20 * G),
            source: Source::Snapshot(n("_snapshot-s1")),
            source_size: Bytes(10 * G),
        }),
        "{p:?}"
    );
}

#[test]
fn a_snapshot_of_a_foreign_volume_is_refused_and_nothing_is_made() {
    let p = plan_of(
        "volumes:\n  volume-c: {size: 1G, source: {volume: cinders}}\nsnapshots:\n  _snapshot-s1: {volume: cinders}\n",
        vec![crate::testkit::lv("cinders", LvKind::Thin, G, None)],
    );
    assert!(p.actions.is_empty(), "{p:?}");
    for s in ["_snapshot-s1", "volume-c"] {
        let (kind, why) = refusal(&p, s).unwrap();
        assert_eq!(kind, RefusalKind::SourceNotOwned, "{why}");
        assert!(why.contains("without ember's tag"), "{why}");
    }
}

#[test]
fn another_backends_volume_is_no_source() {
    let p = plan_of(
        "snapshots:\n  _snapshot-s1: {volume: theirs}\n",
        vec![crate::testkit::lv("theirs", LvKind::Thin, G, Some("lvm-2"))],
    );
    let (kind, why) = refusal(&p, "_snapshot-s1").unwrap();
    assert_eq!(kind, RefusalKind::SourceNotOwned);
    assert!(why.contains("backend lvm-2's"), "{why}");
}

#[test]
fn a_missing_source_is_refused_with_the_reason() {
    let p = plan_of(
        "volumes:\n  volume-b: {size: 1G, source: {snapshot: _snapshot-nope}}\nsnapshots:\n  _snapshot-s1: {volume: volume-nope}\n",
        vec![],
    );
    assert!(p.actions.is_empty(), "{p:?}");
    let (kind, why) = refusal(&p, "volume-b").unwrap();
    assert_eq!(kind, RefusalKind::SourceMissing);
    assert_eq!(
        why,
        "its source, snapshot _snapshot-nope, does not exist and is not made in this pass: nothing is created"
    );
    let (kind, why) = refusal(&p, "_snapshot-s1").unwrap();
    assert_eq!(kind, RefusalKind::SourceMissing);
    assert!(
        why.starts_with("the volume it is of, volume-nope,"),
        "{why}"
    );
}

#[test]
fn a_source_larger_than_the_volume_is_refused() {
    let p = plan_of(
        "volumes:\n  volume-a: {size: 10G}\n  volume-c: {size: 5G, source: {volume: volume-a}}\n",
        vec![mine("volume-a", 10 * G)],
    );
    assert!(p.actions.is_empty(), "{p:?}");
    let (kind, why) = refusal(&p, "volume-c").unwrap();
    assert_eq!(kind, RefusalKind::SourceLarger);
    assert!(
        why.contains("is 10.0 GiB, larger than the 5.0 GiB declared"),
        "{why}"
    );
}

#[test]
fn a_source_grown_in_the_same_pass_counts_at_its_new_size() {
    let p = plan_of(
        "volumes:\n  volume-a: {size: 20G}\n  volume-c: {size: 10G, source: {volume: volume-a}}\n",
        vec![mine("volume-a", 10 * G)],
    );
    assert_eq!(
        refusal(&p, "volume-c").map(|r| r.0),
        Some(RefusalKind::SourceLarger),
        "{p:?}"
    );
}

#[test]
fn a_larger_clone_is_extended_after_the_snapshot() {
    let p = plan_of(
        "volumes:\n  volume-a: {size: 10G}\n  volume-c: {size: 15G, source: {volume: volume-a}}\n",
        vec![mine("volume-a", 10 * G)],
    );
    assert_eq!(
        p.actions[0].line(),
        "+ clone volume volume-c from volume-a, extended 10.0 GiB -> 15.0 GiB"
    );
}

#[test]
fn what_is_made_from_each_other_or_from_a_refused_lv_is_refused() {
    let p = plan_of(
        "volumes:\n  x: {size: 1G, source: {volume: y}}\n  y: {size: 1G, source: {volume: x}}\n  big: {size: 200G}\n  copy: {size: 200G, source: {volume: big}}\n",
        vec![],
    );
    assert!(p.actions.is_empty(), "{p:?}");
    assert!(refusal(&p, "x").unwrap().1.contains("made from each other"));
    assert!(refusal(&p, "y").unwrap().1.contains("made from each other"));
    assert_eq!(
        refusal(&p, "big").map(|r| r.0),
        Some(RefusalKind::OverSubscription)
    );
    let (kind, why) = refusal(&p, "copy").unwrap();
    assert_eq!(kind, RefusalKind::SourceMissing);
    assert!(why.contains("it is refused"), "{why}");
}

#[test]
fn snapshots_count_toward_over_subscription_with_their_virtual_size() {
    // 60 GiB provisioned of 100: one 30 GiB snapshot fits, the second does not
    let p = plan_of(
        "volumes:\n  volume-a: {size: 30G}\n  volume-b: {size: 30G}\nsnapshots:\n  _snapshot-1: {volume: volume-a}\n  _snapshot-2: {volume: volume-b}\n",
        vec![mine("volume-a", 30 * G), mine("volume-b", 30 * G)],
    );
    assert_eq!(p.actions.len(), 1, "{p:?}");
    assert_eq!(
        refusal(&p, "_snapshot-2").map(|r| r.0),
        Some(RefusalKind::OverSubscription)
    );
    // and existing snapshots are provisioned
    let p = plan_of(
        "volumes:\n  volume-a: {size: 30G}\n  volume-c: {size: 50G}\n",
        vec![
            mine("volume-a", 30 * G),
            snapshot_of("_snapshot-1", "volume-a", 30 * G, Some("lvm-1")),
        ],
    );
    assert_eq!(
        refusal(&p, "volume-c").map(|r| r.0),
        Some(RefusalKind::OverSubscription),
        "{p:?}"
    );
}

#[test]
fn a_snapshot_that_exists_is_converged_and_never_activated() {
    let p = plan_of(
        "volumes:\n  volume-a: {size: 10G}\nsnapshots:\n  _snapshot-s1: {volume: volume-a}\n",
        vec![
            mine("volume-a", 10 * G),
            snapshot_of("_snapshot-s1", "volume-a", 10 * G, Some("lvm-1")),
        ],
    );
    assert!(p.actions.is_empty() && p.refused.is_empty(), "{p:?}");
}

#[test]
fn a_snapshot_of_another_volume_than_declared_is_refused() {
    let p = plan_of(
        "volumes:\n  volume-a: {size: 10G}\nsnapshots:\n  _snapshot-s1: {volume: volume-a}\n",
        vec![
            mine("volume-a", 10 * G),
            mine("volume-z", 10 * G),
            snapshot_of("_snapshot-s1", "volume-z", 10 * G, Some("lvm-1")),
        ],
    );
    let (kind, why) = refusal(&p, "_snapshot-s1").unwrap();
    assert_eq!(kind, RefusalKind::WrongKind);
    assert!(why.contains("is a snapshot of volume-z"), "{why}");
}

#[test]
fn an_absent_snapshot_is_deleted_if_it_is_the_backends_and_counts_toward_the_cap() {
    let lvs = || {
        vec![
            mine("volume-a", 10 * G),
            snapshot_of("_snapshot-1", "volume-a", 10 * G, Some("lvm-1")),
            snapshot_of("_snapshot-2", "volume-a", 10 * G, None),
        ]
    };
    let p = plan_of(
        "volumes:\n  volume-a: {size: 10G}\nsnapshots:\n  _snapshot-1: {state: absent}\n  _snapshot-2: {state: absent}\n",
        lvs(),
    );
    assert_eq!(
        p.actions.iter().map(Action::line).collect::<Vec<_>>(),
        vec!["- delete snapshot _snapshot-1 10.0 GiB (state: absent)"]
    );
    assert_eq!(
        refusal(&p, "_snapshot-2").map(|r| r.0),
        Some(RefusalKind::Foreign)
    );
    let mut one = POLICY;
    one.max_deletions_per_pass = 1;
    let p = plan(
        &cfg(),
        &crate::testkit::desired(
            "volumes:\n  volume-a: {state: absent}\nsnapshots:\n  _snapshot-1: {state: absent}\n",
        ),
        &observed(lvs()),
        &one,
    );
    assert!(!p.deletes(), "{p:?}");
    assert_eq!(
        refusal(&p, "_snapshot-1").map(|r| r.0),
        Some(RefusalKind::DeletionCap)
    );
}

#[test]
fn deleting_a_volume_says_that_its_snapshots_stay() {
    let p = plan_of(
        "volumes:\n  volume-a: {state: absent}\nsnapshots:\n  _snapshot-1: {volume: volume-a}\n",
        vec![
            mine("volume-a", 10 * G),
            snapshot_of("_snapshot-1", "volume-a", 10 * G, Some("lvm-1")),
        ],
    );
    assert_eq!(
        p.actions.iter().map(Action::line).collect::<Vec<_>>(),
        vec![
            "- delete volume volume-a 10.0 GiB (state: absent; its snapshot _snapshot-1 stays (thin snapshots do not need their origin))"
        ]
    );
}

#[test]
fn prune_covers_snapshots() {
    let lvs = vec![
        mine("volume-a", 10 * G),
        snapshot_of("_snapshot-1", "volume-a", 10 * G, Some("lvm-1")),
        snapshot_of("_snapshot-2", "volume-a", 10 * G, Some("lvm-1")),
    ];
    let p = plan_of(
        "prune: true\nvolumes:\n  volume-a: {size: 10G}\nsnapshots:\n  _snapshot-1: {volume: volume-a}\n",
        lvs,
    );
    assert_eq!(
        p.actions.iter().map(Action::line).collect::<Vec<_>>(),
        vec!["- delete snapshot _snapshot-2 10.0 GiB (not declared, prune: true)"]
    );
}

#[test]
fn a_source_declared_absent_is_no_source() {
    let p = plan_of(
        "volumes:\n  volume-a: {state: absent}\n  volume-c: {size: 10G, source: {volume: volume-a}}\nsnapshots:\n  _snapshot-1: {volume: volume-a}\n",
        vec![mine("volume-a", 10 * G)],
    );
    assert_eq!(p.actions.len(), 1, "only the deletion: {p:?}");
    for s in ["volume-c", "_snapshot-1"] {
        let (kind, why) = refusal(&p, s).unwrap();
        assert_eq!(kind, RefusalKind::SourceMissing);
        assert!(why.contains("is declared absent"), "{why}");
    }
}

#[test]
fn the_source_of_an_existing_volume_is_ignored_with_a_warning_if_it_names_nothing() {
    let p = plan_of(
        "volumes:\n  volume-b: {size: 10G, source: {snapshot: _snapshot-gone}}\n  volume-c: {size: 10G, source: {volume: volume-b}}\n",
        vec![mine("volume-b", 10 * G), mine("volume-c", 10 * G)],
    );
    assert!(p.actions.is_empty() && p.refused.is_empty(), "{p:?}");
    assert_eq!(p.warnings.len(), 1, "{p:?}");
    assert_eq!(p.warnings[0].kind, WarningKind::SourceIgnored);
    assert!(p.warnings[0].message.contains("_snapshot-gone"));
}

#[test]
fn a_cinder_snapshot_is_adopted_when_declared_with_adopt() {
    let mut vol = crate::testkit::lv("volume-a", LvKind::Thin, 10 * G, None);
    vol.active = true;
    let p = plan_of(
        "adopt: true\nvolumes:\n  volume-a: {size: 10G}\nsnapshots:\n  _snapshot-1: {volume: volume-a}\n  _snapshot-2: {volume: volume-a}\n",
        vec![
            vol,
            snapshot_of("_snapshot-1", "volume-a", 10 * G, None),
            snapshot_of("_snapshot-2", "volume-x", 10 * G, None),
        ],
    );
    let lines: Vec<String> = p.actions.iter().map(Action::line).collect();
    assert_eq!(
        lines,
        vec![
            "+ adopt volume volume-a 10.0 GiB (thin)",
            "+ adopt snapshot _snapshot-1 10.0 GiB (thin)"
        ]
    );
    assert_eq!(
        refusal(&p, "_snapshot-2").map(|r| r.0),
        Some(RefusalKind::NotAdoptable)
    );
}

#[test]
fn a_copy_that_exists_is_never_recreated_empty() {
    let mut c = mine("volume-c", 10 * G);
    c.origin = Some("volume-a".into());
    c.active = false;
    let p = plan_of(
        "volumes:\n  volume-a: {size: 10G}\n  volume-c: {size: 10G, source: {volume: volume-a}}\n",
        vec![mine("volume-a", 10 * G), c],
    );
    assert!(
        matches!(p.actions[..], [Action::ActivateVolume { .. }]),
        "{p:?}"
    );
    assert_eq!(p.copies, vec![n("volume-c")]);
}

#[test]
fn deleting_a_snapshot_names_no_volume_made_from_it() {
    let mut b = mine("volume-b", 10 * G);
    b.origin = Some("_snapshot-1".into());
    let p = plan_of(
        "volumes:\n  volume-b: {size: 10G}\nsnapshots:\n  _snapshot-1: {state: absent}\n",
        vec![
            mine("volume-a", 10 * G),
            snapshot_of("_snapshot-1", "volume-a", 10 * G, Some("lvm-1")),
            b,
        ],
    );
    assert_eq!(
        p.actions.iter().map(Action::line).collect::<Vec<_>>(),
        vec!["- delete snapshot _snapshot-1 10.0 GiB (state: absent)"]
    );
}

#[test]
fn without_a_snapshots_list_prune_deletes_no_snapshot() {
    let lvs = || {
        vec![
            mine("volume-a", 10 * G),
            snapshot_of("_snapshot-1", "volume-a", 10 * G, Some("lvm-1")),
        ]
    };
    let p = plan_of("prune: true\nvolumes:\n  volume-a: {size: 10G}\n", lvs());
    assert!(!p.has_changes(), "{p:?}");
    let (kind, why) = refusal(&p, "_snapshot-1").unwrap();
    assert_eq!(kind, RefusalKind::PruneAll);
    assert!(why.contains("snapshots: {}"), "{why}");
    let p = plan_of(
        "prune: true\nvolumes:\n  volume-a: {size: 10G}\nsnapshots: {}\n",
        lvs(),
    );
    assert_eq!(
        p.actions.iter().map(Action::line).collect::<Vec<_>>(),
        vec!["- delete snapshot _snapshot-1 10.0 GiB (not declared, prune: true)"]
    );
}

#[test]
fn an_old_embers_volume_is_a_source_only_once_claimed() {
    let mut legacy = crate::testkit::lv("volume-x", LvKind::Thin, 10 * G, None);
    legacy.tags = vec![crate::names::OWNERSHIP_TAG.to_string()];
    let p = plan_of(
        "snapshots:\n  _snapshot-1: {volume: volume-x}\n",
        vec![legacy.clone()],
    );
    assert!(!p.has_changes(), "{p:?}");
    assert_eq!(
        refusal(&p, "_snapshot-1").map(|r| r.0),
        Some(RefusalKind::SourceNotOwned)
    );
    // declared, it is claimed in the same pass, and then copied
    let p = plan_of(
        "volumes:\n  volume-x: {size: 10G}\nsnapshots:\n  _snapshot-1: {volume: volume-x}\n",
        vec![legacy],
    );
    assert!(p.refused.is_empty(), "{p:?}");
    assert!(matches!(
        p.actions.last(),
        Some(Action::CreateSnapshot { .. })
    ));
}

#[test]
fn a_source_declared_absent_is_refused_even_when_its_deletion_is_held() {
    let mut one = POLICY;
    one.max_deletions_per_pass = 0;
    let p = plan(
        &cfg(),
        &crate::testkit::desired(
            "volumes:\n  volume-a: {state: absent}\n  volume-c: {size: 10G, source: {volume: volume-a}}\n",
        ),
        &observed(vec![mine("volume-a", 10 * G)]),
        &one,
    );
    assert!(!p.has_changes(), "{p:?}");
    let (kind, why) = refusal(&p, "volume-c").unwrap();
    assert_eq!(kind, RefusalKind::SourceMissing);
    assert!(why.contains("is declared absent"), "{why}");
}

#[test]
fn a_snapshot_declared_without_its_volume_is_kept_and_never_made() {
    let p = plan_of(
        "snapshots:\n  _snapshot-1: {}\n  _snapshot-2: {}\n",
        vec![snapshot_of("_snapshot-1", "gone", 10 * G, Some("lvm-1"))],
    );
    assert!(!p.has_changes(), "{p:?}");
    assert!(refusal(&p, "_snapshot-1").is_none());
    assert_eq!(
        refusal(&p, "_snapshot-2").map(|r| r.0),
        Some(RefusalKind::SourceMissing)
    );
}

#[test]
fn a_copy_is_known_by_its_tag_once_lvm_forgets_its_source() {
    let mut b = mine("volume-b", 10 * G);
    b.tags.push(crate::names::COPY_TAG.to_string());
    b.active = false;
    let p = plan_of("volumes:\n  volume-b: {size: 10G}\n", vec![b]);
    assert_eq!(p.copies, vec![n("volume-b")]);
}
