//! Ownership and the soft prune, planned against made-up VGs.

use crate::config::{BackendConfig, LvmType};
use crate::lvm::{LvInfo, LvKind, Observed, VgInfo};
use crate::names::{OWNERSHIP_TAG, Tag};
use crate::reconcile::plan::{
    Action, DeleteReason, Policy, RefusalKind, UnmarkReason, WarningKind, plan,
};
use crate::reconcile::render::plan_text;

const G: u64 = 1 << 30;
const NOW: u64 = 1_800_000_000;
const GRACE: Policy = Policy {
    max_deletions_per_pass: 5,
    prune_grace: 600,
    now: NOW,
    confirmed: false,
};

fn cfg() -> BackendConfig {
    crate::testkit::backend("lvm-1", LvmType::Thin)
}

use crate::testkit::desired;

/// A thin volume of `owner` ("" = foreign, "legacy" = ember-managed alone), marked at `marked`.
fn vol(name: &str, owner: &str, marked: Option<u64>) -> LvInfo {
    let mut l = crate::testkit::lv(name, LvKind::Thin, G, Some(owner).filter(|o| !o.is_empty()));
    if owner == "legacy" {
        l.tags = vec![OWNERSHIP_TAG.to_string()];
    }
    l.tags.extend(marked.map(|t| Tag::mark(t).to_string()));
    LvInfo {
        data_percent: Some(0.0),
        ..l
    }
}

fn vg(mut lvs: Vec<LvInfo>) -> Observed {
    let mut pool = vol("vg-pool", "legacy", None);
    pool.kind = LvKind::ThinPool;
    pool.pool = None;
    pool.size = 50 * G;
    lvs.push(pool);
    Observed {
        pvs: vec![],
        vg: VgInfo {
            name: "vg".into(),
            size: 100 * G,
            free: 40 * G,
            extent_size: 4 << 20,
            ..Default::default()
        },
        lvs,
    }
}

fn verbs(p: &crate::reconcile::Plan) -> Vec<(&'static str, String)> {
    p.actions
        .iter()
        .map(|a| (a.verb(), a.subject().to_string()))
        .collect()
}

const KEEP: &str = "prune: true\nvolumes:\n  keep: {size: 1G}\n";

#[test]
fn an_undeclared_volume_is_marked_first_and_not_deleted() {
    let o = vg(vec![vol("keep", "lvm-1", None), vol("gone", "lvm-1", None)]);
    let p = plan(&cfg(), &desired(KEEP), &o, &GRACE);
    assert_eq!(
        p.actions,
        [Action::MarkVolume {
            volume: crate::names::LvName::new("gone").unwrap(),
            uuid: crate::testkit::uuid("gone"),
            size: crate::size::Bytes(G),
            since: NOW,
            delete_at: NOW + 600,
        }]
    );
    assert_eq!(p.next_deletion_at(), Some(NOW + 600));
    assert!(
        plan_text(&p).contains(
            "~ mark volume gone 1.0 GiB (not declared, prune: true): deleted in 10 min unless declared again"
        ),
        "{}",
        plan_text(&p)
    );
}

#[test]
fn a_marked_volume_waits_for_its_grace_period_then_is_deleted() {
    let o = vg(vec![
        vol("keep", "lvm-1", None),
        vol("gone", "lvm-1", Some(NOW - 120)),
    ]);
    let p = plan(&cfg(), &desired(KEEP), &o, &GRACE);
    assert!(p.actions.is_empty(), "{p:?}");
    assert_eq!(p.scheduled.len(), 1);
    assert_eq!(p.scheduled[0].delete_at, NOW + 480);
    assert!(
        plan_text(&p).contains("- delete volume gone 1.0 GiB (not declared, prune: true) in 8 min"),
        "{}",
        plan_text(&p)
    );
    let o = vg(vec![
        vol("keep", "lvm-1", None),
        vol("gone", "lvm-1", Some(NOW - 600)),
    ]);
    let p = plan(&cfg(), &desired(KEEP), &o, &GRACE);
    assert_eq!(verbs(&p), [("delete_volume", "gone".to_string())]);
    assert!(matches!(
        p.actions[0],
        Action::DeleteVolume {
            reason: DeleteReason::Prune,
            ..
        }
    ));
}

#[test]
fn declared_again_or_prune_off_removes_the_mark_and_nothing_else() {
    let o = vg(vec![vol("keep", "lvm-1", Some(NOW - 500))]);
    let p = plan(&cfg(), &desired(KEEP), &o, &GRACE);
    match &p.actions[..] {
        [Action::UnmarkVolume { tags, reason, .. }] => {
            assert_eq!(*reason, UnmarkReason::Declared);
            assert_eq!(tags, &[Tag::mark(NOW - 500)]);
        }
        other => panic!("{other:?}"),
    }
    let o = vg(vec![
        vol("keep", "lvm-1", None),
        vol("x", "lvm-1", Some(NOW - 5000)),
    ]);
    let p = plan(
        &cfg(),
        &desired("volumes:\n  keep: {size: 1G}\n"),
        &o,
        &GRACE,
    );
    assert!(matches!(
        &p.actions[..],
        [Action::UnmarkVolume {
            reason: UnmarkReason::PruneOff,
            ..
        }]
    ));
}

#[test]
fn state_absent_deletes_at_once_and_the_cap_counts_due_deletions() {
    let o = vg(vec![vol("keep", "lvm-1", None), vol("x", "lvm-1", None)]);
    let p = plan(
        &cfg(),
        &desired("prune: true\nvolumes:\n  keep: {size: 1G}\n  x: {state: absent}\n"),
        &o,
        &GRACE,
    );
    assert_eq!(verbs(&p), [("delete_volume", "x".to_string())]);
    let mut lvs = vec![vol("keep", "lvm-1", None)];
    for i in 0..3 {
        lvs.push(vol(&format!("old{i}"), "lvm-1", Some(NOW - 700)));
    }
    let p = plan(
        &cfg(),
        &desired(KEEP),
        &vg(lvs),
        &Policy {
            max_deletions_per_pass: 2,
            ..GRACE
        },
    );
    assert!(p.actions.is_empty(), "{p:?}");
    assert_eq!(p.refused.len(), 3);
    assert!(p.refused.iter().all(|r| r.kind == RefusalKind::DeletionCap));
    assert!(
        p.refused[0]
            .reason
            .contains("ember apply --backend lvm-1 --allow-deletions 3"),
        "{}",
        p.refused[0].reason
    );
}

#[test]
fn another_backends_volumes_are_reported_and_never_touched() {
    let o = vg(vec![
        vol("keep", "lvm-1", None),
        vol("b1", "beta", None),
        vol("b2", "beta", Some(NOW - 9000)),
    ]);
    let d = desired("prune: true\nvolumes:\n  keep: {size: 1G}\n  b1: {size: 2G}\n");
    let p = plan(
        &cfg(),
        &d,
        &o,
        &Policy {
            prune_grace: 0,
            ..GRACE
        },
    );
    assert!(
        p.actions.is_empty(),
        "nothing of beta's is grown, marked or deleted: {p:?}"
    );
    assert_eq!(p.refused.len(), 1);
    assert_eq!(p.refused[0].kind, RefusalKind::OtherBackend);
    assert!(
        p.refused[0].reason.contains("owned by backend beta"),
        "{:?}",
        p.refused
    );
    assert_eq!(p.warnings.len(), 1);
    assert_eq!(p.warnings[0].kind, WarningKind::OtherBackend);
    assert!(p.warnings[0].message.contains("b2") && p.warnings[0].message.contains("backend beta"));
}

#[test]
fn volumes_of_an_ember_from_before_backend_tags_are_claimed_when_declared_and_never_pruned() {
    let o = vg(vec![
        vol("keep", "legacy", None),
        vol("old", "legacy", None),
    ]);
    let p = plan(&cfg(), &desired(KEEP), &o, &GRACE);
    // the declared one is claimed; the undeclared one may be another backend's (a swapped VG):
    // reported, neither claimed nor pruned
    assert_eq!(verbs(&p), [("claim_volume", "keep".to_string())]);
    assert_eq!(p.warnings.len(), 1);
    assert_eq!(p.warnings[0].kind, WarningKind::Unclaimed);
    assert!(p.warnings[0].message.contains("old"), "{:?}", p.warnings);
}

#[test]
fn a_prune_of_every_volume_needs_an_explicit_empty_list() {
    let o = || {
        vg(vec![
            vol("a", "lvm-1", None),
            vol("b", "lvm-1", Some(NOW - 9000)),
        ])
    };
    for yaml in ["prune: true\n", "prune: true\nthin_pool: {size: 50%}\n"] {
        let p = plan(&cfg(), &desired(yaml), &o(), &GRACE);
        assert!(
            !p.actions
                .iter()
                .any(|a| matches!(a, Action::MarkVolume { .. } | Action::DeleteVolume { .. })),
            "{yaml}: {p:?}"
        );
        assert_eq!(
            p.refused
                .iter()
                .filter(|r| r.kind == RefusalKind::PruneAll)
                .count(),
            2,
            "{yaml}"
        );
        assert!(
            p.refused[0].reason.contains("volumes: {}"),
            "{:?}",
            p.refused
        );
    }
    // an empty list declares none of the backend's volumes: confirmed once (as another host's
    // file would be: reconcile/plan/guard.rs)
    let held = plan(&cfg(), &desired("prune: true\nvolumes: {}\n"), &o(), &GRACE);
    assert!(held.actions.is_empty(), "{held:?}");
    assert_eq!(held.refused[0].kind, RefusalKind::UnknownVolumes);
    let confirmed = Policy {
        confirmed: true,
        ..GRACE
    };
    let p = plan(
        &cfg(),
        &desired("prune: true\nvolumes: {}\n"),
        &o(),
        &confirmed,
    );
    assert_eq!(
        verbs(&p),
        [
            ("mark_volume", "a".to_string()),
            ("delete_volume", "b".to_string())
        ]
    );
}

#[test]
fn a_new_name_like_an_undeclared_one_is_a_did_you_mean() {
    let o = vg(vec![
        vol("keep", "lvm-1", None),
        vol("volume-2c7e0f33", "lvm-1", None),
    ]);
    for new in ["Volume-2c7e0f33", "volume-2c7e0f3", "volume-2c7e0f34"] {
        let d = desired(&format!(
            "prune: true\nvolumes:\n  keep: {{size: 1G}}\n  {new}: {{size: 1G}}\n"
        ));
        let p = plan(&cfg(), &d, &o, &GRACE);
        assert_eq!(p.warnings.len(), 1, "{new}: {p:?}");
        assert_eq!(p.warnings[0].kind, WarningKind::DidYouMean);
        assert!(
            p.warnings[0]
                .message
                .contains("did you mean volume-2c7e0f33?"),
            "{}",
            p.warnings[0].message
        );
        assert!(
            plan_text(&p).contains("warning: new volume"),
            "{}",
            plan_text(&p)
        );
    }
    let d = desired("prune: true\nvolumes:\n  keep: {size: 1G}\n  volume-9ab14d21: {size: 1G}\n");
    assert!(
        plan(&cfg(), &d, &o, &GRACE).warnings.is_empty(),
        "a different name"
    );
}

#[test]
fn volumes_marked_in_separate_edits_add_up_against_the_cap() {
    // two edits seconds apart each removed two volumes; the first two are due, two more wait
    let mut lvs = vec![vol("keep", "lvm-1", None)];
    for i in 0..2 {
        lvs.push(vol(&format!("first{i}"), "lvm-1", Some(NOW - 601)));
        lvs.push(vol(&format!("second{i}"), "lvm-1", Some(NOW - 597)));
    }
    let cap3 = Policy {
        max_deletions_per_pass: 3,
        ..GRACE
    };
    let p = plan(&cfg(), &desired(KEEP), &vg(lvs), &cap3);
    assert!(!p.deletes(), "4 in all, more than 3: {p:?}");
    assert!(
        p.refused[0]
            .reason
            .contains("4 deletions planned (2 due now, 2 marked for later)")
            && p.refused[0].reason.contains("--allow-deletions 4"),
        "{}",
        p.refused[0].reason
    );
}

#[test]
fn a_wrong_clock_neither_marks_nor_prunes_and_a_future_mark_is_redated() {
    let o = vg(vec![
        vol("keep", "lvm-1", None),
        vol("gone", "lvm-1", Some(5)),
    ]);
    let p = plan(&cfg(), &desired(KEEP), &o, &Policy { now: 0, ..GRACE });
    assert!(p.actions.is_empty() && p.scheduled.is_empty(), "{p:?}");
    assert_eq!(p.warnings[0].kind, WarningKind::Clock);
    let o = vg(vec![
        vol("keep", "lvm-1", None),
        vol("gone", "lvm-1", Some(NOW + 10 * 86_400)),
    ]);
    let p = plan(&cfg(), &desired(KEEP), &o, &GRACE);
    assert_eq!(
        verbs(&p),
        [
            ("unmark_volume", "gone".to_string()),
            ("mark_volume", "gone".to_string())
        ]
    );
    assert_eq!(p.next_deletion_at(), Some(NOW + 600));
}

/// Deletions against what real lvm reported (`crate::testkit::cow_fixture`): `lvremove` of an
/// origin removes its COW snapshots, so no plan deletes one while they exist; thin snapshots
/// hold nothing back.
mod cow {
    use super::*;
    use crate::testkit::{cow_backend, cow_fixture};

    fn refusal(p: &crate::reconcile::Plan, subject: &str) -> (RefusalKind, String) {
        p.refused
            .iter()
            .find(|r| r.subject == subject)
            .map(|r| (r.kind, r.reason.clone()))
            .unwrap_or_else(|| panic!("no refusal of {subject}: {p:?}"))
    }

    #[test]
    fn a_volume_a_cow_snapshot_depends_on_is_not_deleted_and_the_refusal_names_it() {
        let o = cow_fixture(Some("lvm-1"));
        for (lvm_type, volume, snapshot) in [
            (LvmType::Default, "thick", "thicksnap"),
            (LvmType::Thin, "thinc", "thincow"),
            (LvmType::Thin, "both", "bothcow"),
            (LvmType::Thin, "thinsnap", "thinsnapcow"),
        ] {
            let yaml = format!("volumes:\n  {volume}: {{state: absent}}\n");
            let p = plan(&cow_backend(lvm_type), &desired(&yaml), &o, &GRACE);
            assert!(!p.deletes(), "{p:?}");
            let (kind, why) = refusal(&p, volume);
            assert_eq!(kind, RefusalKind::HasCowSnapshot, "{why}");
            assert!(
                why.starts_with(&format!(
                    "declared absent, but it has the COW snapshot {snapshot} "
                )) && why.contains(&format!("lvremove vgcow/{snapshot}")),
                "{why}"
            );
            assert!(
                !why.contains("boththin"),
                "a thin snapshot is not in the way"
            );
        }
        // a volume with thin snapshots only is deleted; they stay
        let p = plan(
            &cow_backend(LvmType::Thin),
            &desired("volumes:\n  thinv: {state: absent}\n"),
            &o,
            &GRACE,
        );
        assert_eq!(verbs(&p), [("delete_volume", "thinv".to_string())], "{p:?}");
    }

    #[test]
    fn a_prune_due_keeps_an_origin_and_the_cap_counts_only_what_is_deleted() {
        let o = cow_fixture(Some("lvm-1"));
        let mut now = GRACE;
        now.prune_grace = 0;
        now.max_deletions_per_pass = 1;
        // undeclared: thick, thinc, both and thinsnap, each held by a COW snapshot, and
        // boththin: one deletion due, within the cap of 1
        let p = plan(
            &cow_backend(LvmType::Thin),
            &desired("prune: true\nvolumes:\n  thinv: {size: 64M}\n"),
            &o,
            &now,
        );
        assert_eq!(
            verbs(&p),
            [("delete_volume", "boththin".to_string())],
            "{p:?}"
        );
        for (v, s) in [
            ("thick", "thicksnap"),
            ("thinc", "thincow"),
            ("both", "bothcow"),
            ("thinsnap", "thinsnapcow"),
        ] {
            let (kind, why) = refusal(&p, v);
            assert_eq!(kind, RefusalKind::HasCowSnapshot);
            assert!(
                why.starts_with(&format!(
                    "undeclared and due to be pruned, but it has the COW snapshot {s} "
                )),
                "{why}"
            );
        }
        assert!(p.refused.iter().all(|r| r.kind != RefusalKind::DeletionCap));
        // the rendered plan names the snapshot, and says no LV stays that lvm would remove
        let text = plan_text(&p);
        assert!(text.contains("it has the COW snapshot thincow"), "{text}");
        assert!(!text.contains("stays"), "{text}");
    }

    #[test]
    fn only_thin_snapshots_are_said_to_stay() {
        // volume-a with a thin snapshot and a COW snapshot named as cinder names snapshots:
        // nothing deleted, nothing said to stay
        let mut thin = vol("_snapshot-thin", "lvm-1", None);
        thin.origin = Some("volume-a".into());
        let mut cow = crate::testkit::lv("_snapshot-cow", LvKind::CowSnapshot, G / 4, None);
        cow.origin = Some("volume-a".into());
        cow.pool = None;
        let o = vg(vec![vol("volume-a", "lvm-1", None), thin, cow]);
        let p = plan(
            &cfg(),
            &desired("volumes:\n  volume-a: {state: absent}\n"),
            &o,
            &GRACE,
        );
        assert!(!p.deletes(), "{p:?}");
        assert_eq!(
            refusal(&p, "volume-a").0,
            RefusalKind::HasCowSnapshot,
            "{p:?}"
        );
        // without the COW snapshot: deleted, and the thin one said to stay
        let o = vg(o
            .lvs
            .into_iter()
            .filter(|l| l.name != "_snapshot-cow" && l.name != "vg-pool")
            .collect());
        let p = plan(
            &cfg(),
            &desired("volumes:\n  volume-a: {state: absent}\n"),
            &o,
            &GRACE,
        );
        assert_eq!(
            p.actions.iter().map(Action::line).collect::<Vec<_>>(),
            [
                "- delete volume volume-a 1.0 GiB (state: absent; its snapshot _snapshot-thin stays (thin snapshots do not need their origin))"
            ]
        );
    }
}
