//! Properties of snapshots and copies, planned and applied on the simulated LVM over random
//! hosts and desired states: what is planned lvm accepts, a second plan is empty, a snapshot or
//! copy is made only of the backend's own volumes, snapshots stay inactive and skipped at
//! activation, copies are never smaller than their source, the deletion cap counts
//! snapshots, admission counts them, and nothing foreign changes; other tools' COW snapshots of
//! the backend's volumes are never removed (their origins are never deleted), and apply removes
//! only what the plan listed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

use proptest::prelude::*;

mod common;

use ember::config::BackendConfig;
use ember::desired::BackendDesired;
use ember::lvm::sim::{SimLv, SimLvm, SimState, SimVg};
use ember::lvm::{LvKind, LvmRead, Owner};
use ember::names::{OWNERSHIP_TAG, Tag, VgName};
use ember::reconcile::{self, Action, Policy};

const M: u64 = 1 << 20;
const G: u64 = 1 << 30;
const NOW: u64 = 1_800_000_000;

fn cfg(ratio: f64) -> BackendConfig {
    common::backend_config(true, ratio)
}

#[derive(Debug, Clone)]
struct Case {
    ratio: f64,
    /// existing volumes v0..: size in 4 MiB extents, owner (0 foreign, 1 this backend, 2 other)
    volumes: Vec<(u64, u8)>,
    /// existing snapshots _snapshot-0..: of volume index, owner
    snapshots: Vec<(u8, u8)>,
    /// declared volumes: index (beyond the existing: new), extents, source (0 none, 1 a volume,
    /// 2 a snapshot; with an index), absent
    declared: Vec<(u8, u64, (u8, u8), bool)>,
    /// declared snapshots: index, of volume index, absent
    declared_snapshots: Vec<(u8, u8, bool)>,
    prune: bool,
    cap: u32,
    /// existing volumes (by index) another tool took a COW snapshot of (`lvcreate -s -L 4M`,
    /// untagged): `c<index>`
    cow: Vec<u8>,
}

/// Mostly this backend's.
fn owner() -> impl Strategy<Value = u8> {
    prop_oneof![3 => Just(1u8), 1 => Just(0u8), 1 => Just(2u8)]
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![Just(1.0), Just(2.0), Just(20.0)],
        prop::collection::vec((1u64..400, owner()), 0..5),
        prop::collection::vec((0u8..6, owner()), 0..4),
        prop::collection::vec((0u8..8, 1u64..500, (0u8..3, 0u8..4), any::<bool>()), 0..8),
        prop::collection::vec((0u8..4, 0u8..6, any::<bool>()), 0..6),
        (any::<bool>(), 0u32..4, prop::collection::vec(0u8..6, 0..3)),
    )
        .prop_map(
            |(ratio, volumes, snapshots, declared, declared_snapshots, (prune, cap, cow))| Case {
                ratio,
                volumes,
                snapshots,
                declared,
                declared_snapshots,
                prune,
                cap,
                cow,
            },
        )
}

fn tags(owner: u8) -> Vec<String> {
    match owner {
        0 => vec![],
        1 => vec![OWNERSHIP_TAG.to_string(), Tag::backend("b").to_string()],
        _ => vec![OWNERSHIP_TAG.to_string(), Tag::backend("other").to_string()],
    }
}

fn build(c: &Case) -> (tempfile::TempDir, SimLvm, BackendDesired) {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimLvm::open(&dir.path().join("lvm.json"));
    let mut vg = SimVg::new(40 * G);
    vg.lvs.insert("vg-pool".into(), {
        let mut p = SimLv::new(LvKind::ThinPool, 10 * G);
        p.tags = tags(1);
        p
    });
    for (i, (extents, owner)) in c.volumes.iter().enumerate() {
        let mut l = SimLv::new(LvKind::Thin, extents * 4 * M);
        l.pool = Some("vg-pool".into());
        l.tags = tags(*owner);
        vg.lvs.insert(format!("v{i}"), l);
    }
    for (i, (of, owner)) in c.snapshots.iter().enumerate() {
        let origin = format!("v{of}");
        let Some(o) = vg.lvs.get(&origin) else {
            continue;
        };
        let mut l = SimLv::new(LvKind::Thin, o.size);
        l.pool = Some("vg-pool".into());
        l.origin = Some(origin);
        l.tags = tags(*owner);
        l.active = false;
        l.skip_activation = true;
        vg.lvs.insert(format!("_snapshot-{i}"), l);
    }
    for i in &c.cow {
        if vg.lvs.contains_key(&format!("v{i}")) {
            vg.lvs.insert(
                format!("c{i}"),
                SimLv::cow_snapshot(&format!("v{i}"), 4 * M),
            );
        }
    }
    let mut st = SimState::default();
    st.vgs.insert("vg".into(), vg);
    sim.save(&st).unwrap();
    let mut yaml = format!("prune: {}\nvolumes:\n", c.prune);
    let mut seen = std::collections::HashSet::new();
    for (i, extents, (kind, from), absent) in &c.declared {
        if !seen.insert(format!("v{i}")) {
            continue;
        }
        let source = match kind {
            1 => format!(", source: {{ volume: v{from} }}"),
            2 => format!(", source: {{ snapshot: _snapshot-{from} }}"),
            _ => String::new(),
        };
        if *absent {
            yaml.push_str(&format!("  v{i}: {{ state: absent }}\n"));
        } else {
            yaml.push_str(&format!("  v{i}: {{ size: {}M{source} }}\n", extents * 4));
        }
    }
    if seen.is_empty() {
        yaml = format!("prune: {}\nvolumes: {{}}\n", c.prune);
    }
    yaml.push_str("snapshots:\n");
    let mut any = false;
    for (i, of, absent) in &c.declared_snapshots {
        if !seen.insert(format!("_snapshot-{i}")) {
            continue;
        }
        any = true;
        if *absent {
            yaml.push_str(&format!("  _snapshot-{i}: {{ state: absent }}\n"));
        } else {
            yaml.push_str(&format!("  _snapshot-{i}: {{ volume: v{of} }}\n"));
        }
    }
    if !any {
        yaml = yaml.replace("snapshots:\n", "");
    }
    let desired = serde_yaml::from_str(&yaml).unwrap();
    (dir, sim, desired)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn snapshots_and_copies_converge_and_never_do_what_they_must_not(c in case()) {
        let (_dir, sim, desired) = build(&c);
        let cfg = cfg(c.ratio);
        let policy = Policy { max_deletions_per_pass: c.cap, prune_grace: 0, now: NOW, confirmed: false };
        let vg = VgName::new("vg").unwrap();
        let before = sim.observe(&vg).unwrap().unwrap();
        let (_, plan) = reconcile::observe_and_plan(&cfg, Some(&desired), &sim, &policy).unwrap();
        prop_assert!(plan.actions.iter().filter(|a| a.is_destructive()).count() <= c.cap as usize);
        // no deletion of a volume a COW snapshot depends on: lvremove would take the snapshot
        // (not listed) with it
        for a in plan.actions.iter().filter(|a| a.is_destructive()) {
            let cow = before.lvs.iter().find(|l| l.kind == LvKind::CowSnapshot && l.origin.as_deref() == Some(a.subject().as_str()));
            prop_assert!(cow.is_none(), "deleting {} takes {:?} with it", a.subject(), cow);
        }
        let report = reconcile::converge(&cfg, Some(&desired), &sim, &policy, &std::sync::atomic::AtomicBool::new(false), &|| true);
        prop_assert!(report.ok(), "lvm refused what was planned: {:?}\n{:?}", report, plan);
        let remaining = report.remaining.as_ref().unwrap();
        prop_assert!(remaining.actions.is_empty(), "second plan not empty: {:?}", remaining.actions);
        let after = sim.observe(&vg).unwrap().unwrap();
        let mine = |o: &ember::lvm::Observed, n: &str| o.lv(n).is_some_and(|l| l.owner() == Owner::Backend("b".into()));
        for lv in &after.lvs {
            if before.lv(&lv.name).is_some() || lv.kind != LvKind::Thin {
                continue;
            }
            // new: ember's, and if made from something, from the backend's own
            prop_assert!(mine(&after, &lv.name), "{} not tagged", lv.name);
            if let Some(o) = &lv.origin {
                prop_assert!(mine(&after, o), "{} made from {o}, which is not the backend's", lv.name);
                prop_assert!(lv.size >= after.lv(o).unwrap().size, "{} smaller than its source", lv.name);
            }
            if lv.name.is_snapshot_name() {
                prop_assert!(lv.skip_activation && !lv.active && lv.origin.is_some(), "{lv:?}");
            } else {
                prop_assert!(lv.active && !lv.skip_activation, "{lv:?}");
            }
        }
        for lv in &before.lvs {
            // apply removes only what the plan listed
            if after.lv(&lv.name).is_none() {
                prop_assert!(
                    plan.actions.iter().any(|a| a.is_destructive() && a.subject().as_str() == lv.name),
                    "{} vanished, not listed in {:?}", lv.name, plan.actions
                );
            }
            let foreign = !lv.is_owned() || lv.owner() == Owner::Backend("other".into());
            if foreign && lv.name != "vg-pool" {
                // (a snapshot whose origin was deleted no longer names it, as in lvm)
                // (and a COW snapshot is activated with its origin, by lvm)
                let cow = lv.kind == LvKind::CowSnapshot;
                let now = after.lv(&lv.name).map(|l| (l.size, &l.tags, l.active || cow, l.skip_activation));
                prop_assert_eq!(now, Some((lv.size, &lv.tags, lv.active || cow, lv.skip_activation)), "foreign LV changed: {}", lv.name);
            }
        }
        // admission: whatever was made fits the ratio (or nothing was made)
        let provisioned = |o: &ember::lvm::Observed| -> u64 { o.lvs.iter().filter(|l| l.name != "vg-pool").map(|l| l.size).sum() };
        let made = plan.actions.iter().any(Action::creates);
        if made {
            let limit = (10.0 * G as f64 * c.ratio) as u64;
            prop_assert!(provisioned(&after) <= limit.max(provisioned(&before)), "over-subscribed: {} > {limit}", provisioned(&after));
        }
    }
}
