//! The guard against a VG swap and another host's file, planned against made-up VGs.

use crate::config::LvmType;
use crate::lvm::{LvInfo, LvKind, Observed, VgInfo};
use crate::reconcile::plan::{Action, Policy, RefusalKind, plan, plan_pool_check};
use crate::reconcile::render::plan_text;

const G: u64 = 1 << 30;
const NOW: u64 = 1_800_000_000;
const POLICY: Policy = Policy {
    max_deletions_per_pass: 5,
    prune_grace: 0,
    now: NOW,
    confirmed: false,
};
const CONFIRMED: Policy = Policy {
    confirmed: true,
    ..POLICY
};

fn cfg() -> crate::config::BackendConfig {
    crate::testkit::backend("lvm-1", LvmType::Thin)
}

fn vol(name: &str, owner: Option<&str>) -> LvInfo {
    crate::testkit::lv(name, LvKind::Thin, G, owner)
}

/// The VG `vg` with its pool (90% full, autoextend would grow it), these LVs and VG tags.
fn vg(mut lvs: Vec<LvInfo>, tags: &[&str]) -> Observed {
    let mut pool = vol("vg-pool", Some("lvm-1"));
    pool.kind = LvKind::ThinPool;
    pool.pool = None;
    pool.size = 50 * G;
    pool.data_percent = Some(90.0);
    pool.metadata_percent = Some(10.0);
    pool.metadata_size = Some(1 << 30);
    lvs.push(pool);
    Observed {
        pvs: vec![],
        vg: VgInfo {
            name: "vg".into(),
            size: 100 * G,
            free: 40 * G,
            extent_size: 4 << 20,
            tags: tags.iter().map(|t| t.to_string()).collect(),
            ..Default::default()
        },
        lvs,
    }
}

fn desired(yaml: &str) -> crate::desired::BackendDesired {
    crate::testkit::desired(yaml)
}

/// The one refusal of `kind` (the guard says why once).
fn held(p: &crate::reconcile::Plan, kind: RefusalKind) -> &crate::reconcile::plan::Refusal {
    let r: Vec<_> = p.refused.iter().filter(|r| r.kind == kind).collect();
    assert_eq!(r.len(), 1, "{}", plan_text(p));
    r[0]
}

const NEW_AND_A: &str = "prune: true\nvolumes:\n  a: {size: 1G}\n  new: {size: 1G}\n";

#[test]
fn a_vg_marked_for_another_backend_takes_no_write() {
    let o = vg(vec![vol("a", Some("lvm-2"))], &["ember-backend=lvm-2"]);
    let p = plan(&cfg(), &desired(NEW_AND_A), &o, &POLICY);
    assert!(p.actions.is_empty(), "{}", plan_text(&p));
    assert!(!p.mark_vg);
    let r = held(&p, RefusalKind::VgOfAnotherBackend);
    assert_eq!(r.subject, "vg");
    assert!(
        r.reason.contains("marked for backend lvm-2")
            && r.reason.contains("held: 1 action(s): new"),
        "{}",
        r.reason
    );
    // nothing to do but the VG is still not this backend's: said all the same
    let p = plan(&cfg(), &desired("volumes: {}\n"), &o, &POLICY);
    held(&p, RefusalKind::VgOfAnotherBackend);
    // a confirmation does not lift it: the VG's tag must be changed by hand
    let p = plan(&cfg(), &desired(NEW_AND_A), &o, &CONFIRMED);
    assert!(p.actions.is_empty(), "{}", plan_text(&p));
}

#[test]
fn an_unmarked_vg_holding_only_another_backends_volumes_takes_no_write() {
    // (the swap on a host whose VGs ember wrote before it marked VGs)
    let o = vg(vec![vol("a", Some("lvm-2")), vol("b", Some("lvm-2"))], &[]);
    let p = plan(&cfg(), &desired(NEW_AND_A), &o, &POLICY);
    assert!(p.actions.is_empty(), "{}", plan_text(&p));
    assert!(
        held(&p, RefusalKind::VgOfAnotherBackend)
            .reason
            .contains("holds volumes of backend lvm-2 and none of lvm-1's"),
        "{}",
        plan_text(&p)
    );
    // and its pool is not grown by this backend's pool check either
    let grow =
        desired("thin_pool: { size: 50G, autoextend: { threshold: 80%, step: 10%, max: 90G } }\n");
    assert!(plan_pool_check(&cfg(), &grow, &o, NOW).actions.is_empty());
    let mine = vg(vec![vol("a", Some("lvm-1"))], &["ember-backend=lvm-1"]);
    assert!(
        !plan_pool_check(&cfg(), &grow, &mine, NOW)
            .actions
            .is_empty(),
        "the check grows its own pool (the test can fail)"
    );
}

#[test]
fn the_first_write_marks_the_vg_and_a_marked_vg_is_not_marked_again() {
    // a VG with this backend's volume and a foreign one, never marked: marked by the pass
    let o = vg(vec![vol("a", Some("lvm-1")), vol("f", None)], &[]);
    let p = plan(&cfg(), &desired(NEW_AND_A), &o, &POLICY);
    assert!(p.mark_vg, "{}", plan_text(&p));
    assert!(p.refused.is_empty(), "{}", plan_text(&p));
    assert!(
        plan_text(&p)
            .contains("~ mark volume group vg as backend lvm-1's (VG tag ember-backend=lvm-1)")
    );
    // a fresh VG (nothing of anyone's) is marked with its first write
    let p = plan(&cfg(), &desired(NEW_AND_A), &vg(vec![], &[]), &POLICY);
    assert!(p.mark_vg && p.has_changes());
    // marked already, or nothing to write: no mark
    let marked = vg(vec![vol("a", Some("lvm-1"))], &["ember-backend=lvm-1"]);
    assert!(!plan(&cfg(), &desired(NEW_AND_A), &marked, &POLICY).mark_vg);
    let p = plan(
        &cfg(),
        &desired("prune: true\nvolumes:\n  a: {size: 1G}\n"),
        &o,
        &POLICY,
    );
    assert!(!p.has_changes() && !p.mark_vg, "{}", plan_text(&p));
}

#[test]
fn a_file_that_declares_none_of_the_backends_volumes_changes_nothing_until_confirmed() {
    // host B's file on host A: prune, no grace, two volumes of A's, one new of B's
    let o = vg(
        vec![vol("a1", Some("lvm-1")), vol("a2", Some("lvm-1"))],
        &["ember-backend=lvm-1"],
    );
    let other = desired("prune: true\nvolumes:\n  b1: {size: 1G}\n");
    let p = plan(&cfg(), &other, &o, &POLICY);
    assert!(
        p.actions.is_empty(),
        "no marks, no deletions, no creations: {}",
        plan_text(&p)
    );
    assert_eq!(p.refused.len(), 1);
    let r = &p.refused[0];
    assert_eq!(r.kind, RefusalKind::UnknownVolumes);
    for needle in [
        "declares none of backend lvm-1's 2 volume(s) (a1, a2)",
        "--allow-deletions",
        "held: 3 action(s)",
    ] {
        assert!(r.reason.contains(needle), "{needle}: {}", r.reason);
    }
    // with a grace period: not even marked (the next pass sees the same thing)
    let graced = Policy {
        prune_grace: 600,
        ..POLICY
    };
    let p = plan(&cfg(), &other, &o, &graced);
    assert!(p.actions.is_empty(), "{}", plan_text(&p));
    // confirmed once: carried out
    let p = plan(&cfg(), &other, &o, &CONFIRMED);
    let deletes = p
        .actions
        .iter()
        .filter(|a| matches!(a, Action::DeleteVolume { .. }))
        .count();
    assert_eq!(deletes, 2, "{}", plan_text(&p));
    assert!(p.refused.is_empty());
}

#[test]
fn a_file_that_declares_one_existing_volume_is_carried_out() {
    let o = vg(
        vec![vol("a1", Some("lvm-1")), vol("a2", Some("lvm-1"))],
        &["ember-backend=lvm-1"],
    );
    // one of them declared (absent counts: it names the volume)
    for yaml in [
        "prune: true\nvolumes:\n  a1: {size: 1G}\n  b1: {size: 1G}\n",
        "volumes:\n  a1: {state: absent}\n  b1: {size: 1G}\n",
    ] {
        let p = plan(&cfg(), &desired(yaml), &o, &POLICY);
        assert!(p.refused.is_empty(), "{yaml}: {}", plan_text(&p));
        assert!(p.has_changes());
    }
    // a backend with no volume yet: its first file is carried out
    let p = plan(
        &cfg(),
        &desired("volumes:\n  b1: {size: 1G}\n"),
        &vg(vec![], &[]),
        &POLICY,
    );
    assert!(p.refused.is_empty() && p.has_changes(), "{}", plan_text(&p));
    // a file that changes nothing needs no confirmation (and says nothing)
    let p = plan(&cfg(), &desired("volumes: {}\n"), &o, &POLICY);
    assert!(
        p.refused.is_empty() && !p.has_changes(),
        "{}",
        plan_text(&p)
    );
}
