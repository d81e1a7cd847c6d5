//! Properties of plan + apply on the simulated LVM, over random starting states and random
//! desired states: apply(plan) reaches the desired state where allowed, a second plan is empty,
//! nothing destructive happens without permission, foreign LVs are never changed, nothing
//! shrinks, no deleted volume's data is left on the space it freed (`volume_clear = zero`), and
//! no data of a volume that stays is touched.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

use std::collections::BTreeMap;

use proptest::prelude::*;

mod common;

use ember::config::BackendConfig;
use ember::desired::{BackendDesired, PoolDesired, VolumeDesired, VolumeState};
use ember::lvm::attr::Health;
use ember::lvm::sim::{SimData, SimLv, SimLvm, SimState, SimVg};
use ember::lvm::{LvKind, LvmRead, Observed, Owner};
use ember::names::{LvName, OWNERSHIP_TAG, Tag, VgName};
use ember::reconcile::plan::DeleteReason;
use ember::reconcile::{self, Action, Policy, RefusalKind};
use ember::size::{Bytes, SizeSpec};

const M: u64 = 1 << 20;
const G: u64 = 1 << 30;
const NOW: u64 = 1_800_000_000;

fn cfg(thin: bool, ratio: f64) -> BackendConfig {
    common::backend_config(thin, ratio)
}

#[derive(Debug, Clone)]
struct Case {
    thin: bool,
    ratio: f64,
    vg_gib: u64,
    pool_gib: Option<u64>,
    /// existing LVs: name index, size in MiB, owner (0 foreign, 1 an ember from before backend
    /// tags, 2 this backend, 3 another backend), marked undeclared this many seconds ago; each
    /// holds its tenant's data, and one of this backend's whose size in MiB is a multiple of 5
    /// is tagged as a clear of it was cut short
    existing: Vec<(u8, u64, u8, Option<u64>)>,
    /// desired volumes: name index, size in MiB (None = absent)
    desired: Vec<(u8, Option<u64>)>,
    prune: bool,
    desired_pool_pct: Option<u8>,
    cap: u32,
    prune_grace: u64,
    /// lv_attr's health of the pool
    pool_health: Health,
    /// The pass is confirmed (`--allow-deletions`).
    confirmed: bool,
    /// existing volumes (by name index) that another tool took a COW snapshot of
    /// (`lvcreate -s -L 4M`, untagged): `c<index>`
    cow: Vec<u8>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        any::<bool>(),
        prop_oneof![Just(1.0), Just(2.0), Just(20.0)],
        4u64..64,
        prop::option::of(1u64..4),
        prop::collection::vec(
            (0u8..12, 1u64..3000, 0u8..4, prop::option::of(0u64..1200)),
            0..8,
        ),
        prop::collection::vec((0u8..12, prop::option::of(1u64..5000)), 0..10),
        any::<bool>(),
        prop::option::of(10u8..100),
        (
            0u32..6,
            prop_oneof![Just(0u64), Just(600u64)],
            prop_oneof![4 => Just(Health::Ok), 1 => Just(Health::OutOfData), 1 => Just(Health::MetadataReadOnly)],
            any::<bool>(),
            prop::collection::vec(0u8..12, 0..4),
        ),
    )
        .prop_map(
            |(
                thin,
                ratio,
                vg_gib,
                pool_gib,
                existing,
                desired,
                prune,
                desired_pool_pct,
                (cap, prune_grace, pool_health, confirmed, cow),
            )| {
                Case {
                    thin,
                    ratio,
                    vg_gib,
                    pool_gib,
                    existing,
                    desired,
                    prune,
                    desired_pool_pct,
                    cap,
                    prune_grace,
                    pool_health,
                    confirmed,
                    cow,
                }
            },
        )
}

fn name(i: u8) -> String {
    format!("v{i}")
}

fn build(c: &Case) -> (tempfile::TempDir, SimLvm, BackendConfig, BackendDesired) {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimLvm::open(&dir.path().join("lvm.json"));
    let mut vg = SimVg::new(c.vg_gib * G);
    if c.thin
        && let Some(p) = c.pool_gib
    {
        vg.lvs.insert(
            "vg-pool".into(),
            SimLv {
                health: c.pool_health,
                ..SimLv::new(LvKind::ThinPool, p * G)
            },
        );
    }
    for (i, mib, owner, marked) in &c.existing {
        let size = mib * M / (4 * M) * (4 * M) + 4 * M;
        let (kind, pool) = if c.thin && c.pool_gib.is_some() {
            (LvKind::Thin, Some("vg-pool".to_string()))
        } else {
            (LvKind::Linear, None)
        };
        if kind == LvKind::Linear && vg.free() < size {
            continue;
        }
        let mut tags = match owner {
            0 => vec![],
            1 => vec![OWNERSHIP_TAG.to_string()],
            2 => vec![OWNERSHIP_TAG.to_string(), Tag::backend("b").to_string()],
            _ => vec![OWNERSHIP_TAG.to_string(), Tag::backend("other").to_string()],
        };
        if let Some(ago) = marked {
            tags.push(Tag::mark(NOW - ago).to_string());
        }
        let lv = SimLv::new(kind, size);
        if *owner == 2 && mib % 5 == 0 {
            tags.push(Tag::clearing(&lv.uuid_of(&name(*i))).unwrap().to_string());
        }
        vg.lvs.insert(
            name(*i),
            SimLv {
                pool,
                tags,
                // some volumes inactive (as after a boot without autoactivation)
                active: mib % 3 != 0,
                data: vec![SimData {
                    at: 0,
                    text: format!("tenant of {}", name(*i)),
                }],
                ..lv
            },
        );
    }
    // another tool's COW snapshots of some of them, active or not with their origin (as lvm)
    for i in &c.cow {
        let Some(origin) = vg.lvs.get(&name(*i)) else {
            continue;
        };
        let mut snap = SimLv::cow_snapshot(&name(*i), 4 * M);
        snap.active = origin.active;
        if vg.free() >= 4 * M {
            vg.lvs.insert(format!("c{i}"), snap);
        }
    }
    let mut st = SimState::default();
    st.vgs.insert("vg".into(), vg);
    sim.save(&st).unwrap();
    let mut volumes = BTreeMap::new();
    for (i, mib) in &c.desired {
        let v = match mib {
            Some(m) => VolumeDesired::Present {
                size: Bytes(m * M),
                source: None,
                export: None,
            },
            None => VolumeDesired::Absent,
        };
        volumes.insert(LvName::new(&name(*i)).unwrap(), v);
    }
    let desired = BackendDesired {
        volume_group: None,
        thin_pool: c
            .desired_pool_pct
            .filter(|_| c.thin)
            .map(|p| PoolDesired::of_size(SizeSpec::Percent(p as f64))),
        prune: c.prune,
        // adoption changes foreign LVs' tags on purpose: tests/cli_sim.rs, src/reconcile/plan
        adopt: false,
        volumes: volumes.into_iter().collect(),
        volumes_listed: true,
        snapshots: Default::default(),
        snapshots_listed: true,
    };
    (dir, sim, cfg(c.thin, c.ratio), desired)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn apply_converges_and_never_does_what_it_must_not(c in case()) {
        let (_dir, sim, cfg, desired) = build(&c);
        let policy = Policy { max_deletions_per_pass: c.cap, prune_grace: c.prune_grace, now: NOW, confirmed: c.confirmed };
        let vg = VgName::new("vg").unwrap();
        let before = sim.observe(&vg).unwrap().unwrap();
        let (_, plan) = reconcile::observe_and_plan(&cfg, Some(&desired), &sim, &policy).unwrap();

        // a VG that is another backend's, or a file that names none of the backend's volumes
        // (unconfirmed): nothing at all is done, and the next pass sees the same
        let guarded = plan.refused.iter().any(|r| matches!(r.kind, RefusalKind::VgOfAnotherBackend | RefusalKind::UnknownVolumes));
        if guarded {
            prop_assert!(plan.actions.is_empty() && !plan.mark_vg, "held, yet: {:?}", plan.actions);
            let report = reconcile::converge(&cfg, Some(&desired), &sim, &policy, &std::sync::atomic::AtomicBool::new(false), &|| true);
            prop_assert_eq!(sim.observe(&vg).unwrap().unwrap(), before, "a held backend changed: {:?}", report);
            return Ok(());
        }
        let owns = |o: &Observed| o.lvs.iter().any(|l| l.owner() == Owner::Backend("b".into()));
        if owns(&before) && !c.confirmed && !plan.actions.is_empty() {
            prop_assert!(
                desired.volumes.iter().any(|(k, _)| before.lv(k.as_str()).is_some_and(|l| l.owner() == Owner::Backend("b".into()))),
                "a file that names none of the backend's volumes was carried out unconfirmed"
            );
        }

        // no destructive action without permission; none of a volume a COW snapshot depends
        // on (lvremove would remove the snapshot, which no plan lists, with it)
        for a in &plan.actions {
            if let Action::DeleteVolume { volume, reason, clear, .. } = a {
                let lv = before.lv(volume.as_str()).unwrap();
                prop_assert!(
                    !before.lvs.iter().any(|l| l.kind == LvKind::CowSnapshot && l.origin.as_deref() == Some(volume.as_str())),
                    "deleting {volume}, whose COW snapshot the plan does not list"
                );
                prop_assert!(lv.is_owned(), "deleting a foreign LV: {volume}");
                prop_assert!(lv.owner() != Owner::Backend("other".into()), "deleting another backend's LV: {volume}");
                // a linear LV is cleared first, all of it; a thin one (in a pool that zeroes) not
                prop_assert_eq!(clear.as_ref().map(|c| c.bytes.0), (lv.kind == LvKind::Linear).then_some(lv.size));
                // one whose clear was cut short is finished whatever is declared
                if *reason == DeleteReason::Resume {
                    prop_assert!(lv.is_clearing() && lv.owner() == Owner::Backend("b".into()));
                    continue;
                }
                prop_assert!(lv.owner() != Owner::Legacy || desired.volumes.iter().any(|(k, _)| k.as_str() == volume.as_str()), "pruning an unclaimed old volume: {volume}");
                let declared = desired.volumes.iter().find(|(k, _)| k.as_str() == volume.as_str());
                match declared {
                    Some((_, v)) => prop_assert_eq!(v.state(), VolumeState::Absent),
                    None => {
                        prop_assert!(desired.prune, "pruning without prune: {}", volume);
                        // a prune deletes only what has been undeclared for prune_grace
                        prop_assert!(
                            c.prune_grace == 0 || lv.marked_since().is_some_and(|t| t + c.prune_grace <= NOW),
                            "pruned {} before its grace period ended", volume
                        );
                    }
                }
            }
        }
        // a pool that needs a repair gets no write at all
        if c.thin && c.pool_gib.is_some() && c.pool_health.needs_repair() {
            prop_assert!(plan.actions.is_empty(), "writes to a pool that needs repair: {:?}", plan.actions);
        }
        // (a resumed deletion was counted when its clear began)
        let deletions = plan
            .actions
            .iter()
            .filter(|a| a.is_destructive() && !matches!(a, Action::DeleteVolume { reason: DeleteReason::Resume, .. }))
            .count();
        prop_assert!(deletions <= c.cap as usize);

        let data_before = sim.load().unwrap().vgs["vg"].lvs.clone();
        let report = reconcile::converge(&cfg, Some(&desired), &sim, &policy, &std::sync::atomic::AtomicBool::new(false), &|| true);
        prop_assert!(report.ok(), "apply failed: {:?}", report);
        let after = sim.observe(&vg).unwrap().unwrap();

        // nothing of a deleted volume's tenant is left where the next volume may read it, and
        // what stays holds what it held
        let state = sim.load().unwrap();
        prop_assert!(state.vgs["vg"].freed.is_empty(), "left on freed space: {:?}", state.vgs["vg"].freed);
        for (n, l) in &state.vgs["vg"].lvs {
            if let Some(b) = data_before.get(n).filter(|b| b.uuid_of(n) == l.uuid_of(n)) {
                prop_assert_eq!(&b.data, &l.data, "the data of {} changed", n);
            }
        }

        // a second plan has nothing to do
        let remaining = report.remaining.as_ref().unwrap();
        prop_assert!(remaining.actions.is_empty(), "second plan not empty: {:?}", remaining.actions);

        // foreign LVs unchanged; nothing shrank; only permitted deletions
        for lv in &before.lvs {
            match after.lv(&lv.name) {
                // deleted and made again (its clear had been cut short): a new LV
                Some(now) if now.uuid != lv.uuid => prop_assert!(
                    plan.actions.iter().any(|a| a.is_destructive() && a.subject().as_str() == lv.name),
                    "{} replaced without a deletion", lv.name
                ),
                Some(now) => {
                    prop_assert!(now.size >= lv.size, "{} shrank", lv.name);
                    if (!lv.is_owned() || lv.owner() == Owner::Backend("other".into())) && lv.name != "vg-pool" {
                        // (a COW snapshot is activated with its origin, by lvm)
                        let mut now = now.clone();
                        if lv.kind == LvKind::CowSnapshot {
                            now.active = lv.active;
                        }
                        prop_assert_eq!(&now, lv, "foreign LV changed");
                    }
                    // what this backend keeps carries its tag afterwards
                    let held = c.thin && c.pool_gib.is_some() && c.pool_health.needs_repair();
                    let undeclared_legacy = lv.owner() == Owner::Legacy
                        && !desired.volumes.iter().any(|(k, _)| k.as_str() == lv.name.as_str());
                    if lv.is_owned() && lv.owner() != Owner::Backend("other".into()) && !held && !undeclared_legacy {
                        prop_assert_eq!(now.owner(), Owner::Backend("b".into()));
                    }
                }
                // apply removes only what the plan listed (a COW snapshot's origin is never listed)
                None => prop_assert!(plan.actions.iter().any(|a| a.is_destructive() && a.subject().as_str() == lv.name), "{} vanished, not listed in {:?}", lv.name, plan.actions),
            }
        }

        // what was not refused is now as declared
        for (n, v) in desired.volumes.iter() {
            let refused = plan.refused.iter().any(|r| r.subject == n.as_str());
            let lv = after.lv(n.as_str());
            match v.state() {
                VolumeState::Present if !refused => {
                    let lv = lv.unwrap();
                    let want = v.size().unwrap().0;
                    prop_assert!(lv.size >= want && lv.size - want < after.vg.extent_size, "{} is {} not {:?}", n, lv.size, v.size());
                    prop_assert!(lv.is_owned());
                }
                VolumeState::Absent if !refused => {
                    if let Some(lv) = lv {
                        prop_assert!(!lv.is_owned() || plan.refused.iter().any(|r| r.kind == RefusalKind::DeletionCap));
                    }
                }
                _ => {}
            }
        }
    }
}

/// A thin pool with usage, and an autoextend policy, in a VG with or without room.
#[derive(Debug, Clone)]
struct PoolCase {
    vg_gib: u64,
    pool_mib: u64,
    data: f64,
    meta_mib: u64,
    meta: f64,
    out_of_data: bool,
    threshold: u8,
    /// a percentage step (true) or MiB
    step: (bool, u64),
    /// the cap: % of the VG (true) or MiB
    max: (bool, u64),
    /// MiB of the VG taken by a foreign linear LV
    other_mib: u64,
}

fn pool_case() -> impl Strategy<Value = PoolCase> {
    (
        (
            2u64..40,
            64u64..8192,
            0.0f64..100.0,
            2u64..512,
            0.0f64..100.0,
            any::<bool>(),
        ),
        (
            50u8..=95,
            (any::<bool>(), 1u64..2048),
            (any::<bool>(), 1u64..20_000),
            0u64..30_000,
        ),
    )
        .prop_map(
            |((vg_gib, pool_mib, data, meta_mib, meta, ood), (threshold, step, max, other))| {
                PoolCase {
                    vg_gib,
                    pool_mib,
                    data,
                    meta_mib,
                    meta,
                    out_of_data: ood && data > 90.0,
                    threshold,
                    step: (step.0, if step.0 { step.1 % 100 + 1 } else { step.1 }),
                    max: (max.0, if max.0 { max.1 % 100 + 1 } else { max.1 }),
                    other_mib: other,
                }
            },
        )
}

fn spec(v: (bool, u64), unit: &str) -> String {
    if v.0 {
        format!("{}%", v.1)
    } else {
        format!("{}{unit}", v.1)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// autoextend never shrinks, never grows past its cap or the VG, and what it plans the
    /// (simulated) lvm accepts; grown short of both, the pool is under its threshold.
    #[test]
    fn autoextend_stays_within_its_cap_and_the_vg(c in pool_case()) {
        let dir = tempfile::tempdir().unwrap();
        let sim = SimLvm::open(&dir.path().join("lvm.json"));
        let mut vg = SimVg::new(c.vg_gib * G);
        let mut pool = SimLv::new(LvKind::ThinPool, c.pool_mib / 4 * 4 * M + 4 * M);
        pool.data_percent = Some(if c.out_of_data { 100.0 } else { c.data });
        pool.metadata_size = Some(c.meta_mib / 4 * 4 * M + 4 * M);
        pool.metadata_percent = Some(c.meta);
        pool.tags = vec![OWNERSHIP_TAG.to_string(), Tag::backend("b").to_string()];
        if c.out_of_data {
            pool.health = Health::OutOfData;
        }
        vg.lvs.insert("vg-pool".into(), pool);
        if vg.free() < 4 * M {
            return Ok(());
        }
        let other = (c.other_mib * M).min(vg.free()) / (4 * M) * (4 * M);
        if other > 0 {
            vg.lvs.insert("other".into(), SimLv::new(LvKind::Linear, other));
        }
        let mut st = SimState::default();
        st.vgs.insert("vg".into(), vg);
        sim.save(&st).unwrap();
        let yaml = format!(
            "thin_pool:\n  size: 1M\n  autoextend: {{ threshold: {}%, step: {}, max: {} }}\n",
            c.threshold, spec(c.step, "M"), spec(c.max, "M")
        );
        let desired: BackendDesired = serde_yaml::from_str(&yaml).unwrap();
        let cfg = cfg(true, 20.0);
        let policy = Policy { max_deletions_per_pass: 5, prune_grace: 600, now: NOW, confirmed: false };
        let v = VgName::new("vg").unwrap();
        let before = sim.observe(&v).unwrap().unwrap();
        let report = reconcile::converge(&cfg, Some(&desired), &sim, &policy, &std::sync::atomic::AtomicBool::new(false), &|| true);
        prop_assert!(report.ok(), "lvm refused what was planned: {:?}", report);
        let after = sim.observe(&v).unwrap().unwrap();
        let (p0, p1) = (before.lv("vg-pool").unwrap(), after.lv("vg-pool").unwrap());
        prop_assert!(p1.size >= p0.size && p1.metadata_size >= p0.metadata_size, "shrank: {p0:?} -> {p1:?}");
        // the cap, worked out here: never more than it says, in whole extents
        let e = before.vg.extent_size;
        let max = if c.max.0 {
            (before.vg.size as f64 * c.max.1 as f64 / 100.0).floor() as u64 / e * e
        } else {
            c.max.1 * M / e * e
        };
        prop_assert!(p1.size <= p0.size.max(max), "past the cap {max}: {} -> {}", p0.size, p1.size);
        // the VG holds the data, the metadata and its spare
        prop_assert!(p1.size + 2 * p1.metadata_size.unwrap() + other <= after.vg.size);
        let grew = p1.size > p0.size;
        let used = p0.size as f64 * p0.data_percent.unwrap() / 100.0;
        let short_of_both = p1.size + 64 * M < max && after.vg.free > 1024 * M + 2 * p1.size;
        if grew && short_of_both {
            prop_assert!(used * 100.0 / (p1.size as f64) < c.threshold as f64, "grown to {} and still above the threshold", p1.size);
        }
    }
}
