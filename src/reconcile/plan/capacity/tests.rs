//! A thin pool's health, as lvm marks it in lv_attr, decides what a plan may do.

use crate::config::{BackendConfig, LvmType};
use crate::lvm::attr::Health;
use crate::lvm::{LvInfo, LvKind, Observed, VgInfo};
use crate::reconcile::plan::{Action, Policy, RefusalKind, plan};

const G: u64 = 1 << 30;
const POLICY: Policy = Policy {
    max_deletions_per_pass: 5,
    prune_grace: 0,
    now: 1_800_000_000,
    confirmed: false,
};

fn cfg() -> BackendConfig {
    crate::testkit::backend("b", LvmType::Thin)
}

fn lv(name: &str, kind: LvKind, size: u64, health: Health) -> LvInfo {
    LvInfo {
        data_percent: Some(10.0),
        metadata_percent: Some(5.0),
        zeroes: true,
        health,
        ..crate::testkit::lv(name, kind, size, Some("b"))
    }
}

fn observed(pool: Health) -> Observed {
    Observed {
        pvs: vec![],
        vg: VgInfo {
            name: "vg".into(),
            size: 100 * G,
            free: 50 * G,
            extent_size: 4 << 20,
            ..Default::default()
        },
        lvs: vec![
            lv("vg-pool", LvKind::ThinPool, 40 * G, pool),
            lv("old", LvKind::Thin, G, Health::Ok),
            lv("small", LvKind::Thin, G, Health::Ok),
        ],
    }
}

use crate::testkit::desired;

const EVERYTHING: &str =
    "thin_pool: {size: 45G}\nprune: true\nvolumes:\n  small: {size: 2G}\n  new: {size: 1G}\n";

#[test]
fn a_failed_or_read_only_pool_gets_no_write_at_all() {
    for health in [Health::Failed, Health::MetadataReadOnly] {
        let p = plan(&cfg(), &desired(EVERYTHING), &observed(health), &POLICY);
        assert!(p.actions.is_empty(), "{health:?}: {p:?}");
        assert!(
            p.refused.len() >= 4
                && p.refused
                    .iter()
                    .all(|r| r.kind == RefusalKind::PoolNeedsRepair),
            "the pool growth, the extension, the deletion and the creation: {p:?}"
        );
        assert!(
            p.refused[0].reason.contains("lvconvert --repair"),
            "{:?}",
            p.refused[0]
        );
        assert!(p.refused[0].reason.contains(health.describe()));
        // with nothing to do, the refusal is still there to see
        let p = plan(
            &cfg(),
            &desired("volumes:\n  small: {size: 1G}\n  old: {size: 1G}\n"),
            &observed(health),
            &POLICY,
        );
        assert_eq!(p.refused.len(), 1, "{p:?}");
        assert_eq!(p.refused[0].subject, "vg-pool");
    }
}

#[test]
fn a_pool_out_of_data_space_takes_no_new_volume_but_may_grow() {
    let p = plan(
        &cfg(),
        &desired("volumes:\n  small: {size: 2G}\n  new: {size: 1G}\n  old: {size: 1G}\n"),
        &observed(Health::OutOfData),
        &POLICY,
    );
    assert!(p.actions.is_empty(), "{p:?}");
    assert_eq!(p.refused.len(), 2);
    assert!(p.refused.iter().all(|r| r.kind == RefusalKind::PoolFull));
    assert!(
        p.refused[0]
            .reason
            .contains("vg-pool is full (data 100.00%), and lvm marks it out of data space"),
        "{:?}",
        p.refused
    );
    // growing it in the same pass is the remedy
    let p = plan(
        &cfg(),
        &desired(
            "thin_pool: {size: 45G}\nvolumes:\n  small: {size: 2G}\n  new: {size: 1G}\n  old: {size: 1G}\n",
        ),
        &observed(Health::OutOfData),
        &POLICY,
    );
    assert!(p.refused.is_empty(), "{p:?}");
    assert!(matches!(p.actions[0], Action::ExtendPool { .. }));
    assert_eq!(p.actions.len(), 3);
}
