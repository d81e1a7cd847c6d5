use super::*;
use crate::config::{LvmType, Ratio};
use crate::lvm::{LvInfo, VgInfo};
use crate::reconcile::plan::{Policy, RefusalKind, plan};

const G: u64 = 1 << 30;
const M: u64 = 1 << 20;

fn cfg(lvm_type: LvmType) -> BackendConfig {
    BackendConfig {
        max_over_subscription_ratio: Ratio::Fixed(2.0),
        ..crate::testkit::backend("b", lvm_type)
    }
}

fn lv(name: &str, kind: LvKind, size: u64, owned: bool) -> LvInfo {
    let pool = kind == LvKind::ThinPool;
    LvInfo {
        data_percent: pool.then_some(25.0),
        metadata_percent: pool.then_some(3.0),
        zeroes: true,
        ..crate::testkit::lv(name, kind, size, owned.then_some("b"))
    }
}

/// A VG with a pool, an owned and a foreign thin volume, an owned and a foreign linear one.
fn mixed() -> Observed {
    Observed {
        pvs: vec![],
        vg: VgInfo {
            name: "vg".into(),
            size: 100 * G,
            free: 30 * G,
            extent_size: 4 * M,
            ..Default::default()
        },
        lvs: vec![
            lv("vg-pool", LvKind::ThinPool, 40 * G, true),
            lv("thin-owned", LvKind::Thin, 10 * G, true),
            lv("thin-foreign", LvKind::Thin, 20 * G, false),
            lv("linear-owned", LvKind::Linear, 5 * G, true),
            lv("linear-foreign", LvKind::Linear, 15 * G, false),
            lv("_snapshot-1", LvKind::Thin, 10 * G, true),
        ],
    }
}

#[test]
fn status_shows_cinders_figures() {
    let c = Capacity::of(&cfg(LvmType::Thin), &mixed());
    assert_eq!((c.total, c.free), (40 * G, 30 * G), "the pool, 25% used");
    assert_eq!(
        c.provisioned,
        60 * G,
        "every LV but the pool, ember's or not, snapshots with their virtual size"
    );
    assert_eq!((c.volumes, c.owned_volumes), (4, 2));
    assert_eq!((c.snapshots, c.owned_snapshots), (1, 1));
    let c = Capacity::of(&cfg(LvmType::Default), &mixed());
    assert_eq!((c.total, c.free, c.provisioned), (100 * G, 30 * G, 70 * G));
    assert_eq!(c.max_over_subscription_ratio, 1.0);
}

#[test]
fn status_and_plan_agree_on_what_fits() {
    // ratio 2 x pool 40 GiB = 80 GiB; status says 60 GiB are provisioned: 20 GiB fit
    let o = mixed();
    let c = Capacity::of(&cfg(LvmType::Thin), &o);
    let room = (c.total as f64 * c.max_over_subscription_ratio) as u64 - c.provisioned;
    assert_eq!(room, 20 * G);
    let policy = Policy {
        max_deletions_per_pass: 5,
        prune_grace: 0,
        now: 0,
        // (the file names none of the backend's volumes: confirmed, as the operator would)
        confirmed: true,
    };
    let want = |size: u64| {
        serde_yaml::from_str::<crate::desired::BackendDesired>(&format!(
            "volumes:\n  new: {{size: {size}B}}\n"
        ))
        .unwrap()
    };
    let fits = plan(&cfg(LvmType::Thin), &want(room), &o, &policy);
    assert!(
        fits.refused.is_empty() && fits.actions.len() == 1,
        "{fits:?}"
    );
    let over = plan(&cfg(LvmType::Thin), &want(room + 4 * M), &o, &policy);
    assert_eq!(over.refused.len(), 1, "{over:?}");
    assert_eq!(over.refused[0].kind, RefusalKind::OverSubscription);
    assert!(
        over.refused[0]
            .reason
            .contains("provisioned already 60.0 GiB"),
        "{}",
        over.refused[0].reason
    );
}

#[test]
fn a_volume_with_a_cow_snapshot_counts_as_a_volume_and_the_snapshot_apart() {
    // as real lvm reported them (src/lvm/kind.rs): origins are volumes; COW snapshots, thin
    // snapshots not named as cinder names them, counted as what they are
    let o = crate::testkit::cow_fixture(Some("lvm-1"));
    let c = Capacity::of(&crate::testkit::cow_backend(LvmType::Thin), &o);
    // thick, thinc, both, thinv, and the thin snapshots thinsnap and boththin (not `_snapshot-`)
    assert_eq!((c.volumes, c.owned_volumes), (6, 6));
    assert_eq!(c.cow_snapshots, 4);
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["cow_snapshots"], 4);
    let c = Capacity::of(&cfg(LvmType::Thin), &mixed());
    assert_eq!(c.cow_snapshots, 0);
    // every field is there, whatever its value (the JSON's shape does not change with the host)
    assert_eq!(serde_json::to_value(&c).unwrap()["cow_snapshots"], 0);
}
