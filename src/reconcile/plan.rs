//! `plan(config, desired, observed, policy) -> Plan`: the pure diff between what the operator
//! declared and what LVM has. It never sees an LVM handle, so it cannot change anything.
//!
//! Phases, in order (one function each): classify what exists against what is declared
//! ([`classify`]), ownership and pruning ([`prune`]: marks, the grace period, the deletion
//! circuit breaker), the pool (after deletions: they may free its space), activation of
//! inactive volumes, and admission of growth and creation against the capacity left
//! ([`capacity::Capacity`]).
//!
//! Rules (each has a test): only LVs carrying ember's tag *and this backend's* are touched,
//! plus the backend's thin pool `<vg>-pool`; nothing shrinks; `state: absent` deletes at once,
//! a volume that `prune: true` finds undeclared is first marked and deleted only after
//! `prune_grace`; no deletion at all when more than `max_deletions_per_pass` are due, nor a
//! prune that would leave the backend with no volume unless the file says `volumes: {}`;
//! thin volumes are admitted one by one while provisioned + new ≤ ratio × pool size ×
//! (1 − reserved%); extent rounding never causes a plan.

mod capacity;
mod classify;
mod clear;
pub mod export;
mod growth;
mod guard;
mod mda;
mod pool;
mod prune;
mod snapshots;
mod types;
pub mod vg;

use serde::Serialize;

use crate::config::{BackendConfig, EmberSettings, Ratio};
use crate::desired::BackendDesired;
use crate::lvm::{LvInfo, Observed, Owner};
use crate::names::LvName;
use crate::size::Bytes;

pub use capacity::{Figures, METADATA_FULL, POOL_FULL};
pub(crate) use classify::adoptable;

/// Cinder's share of the VG's free space for a thin pool it creates itself.
pub const DEFAULT_POOL_FRACTION: f64 = 0.95;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// A pass with more deletions than this deletes nothing (a one-shot confirmation raises it
    /// for one pass of one backend).
    pub max_deletions_per_pass: u32,
    /// Seconds a volume stays marked undeclared before a prune deletes it (0: at once).
    pub prune_grace: u64,
    /// Unix seconds the plan is made at (marks are dated with it).
    pub now: u64,
    /// The operator confirmed this pass (`--allow-deletions`): a desired state that declares
    /// none of the backend's volumes is carried out.
    pub confirmed: bool,
}

impl Policy {
    pub fn new(s: &EmberSettings, now: u64) -> Policy {
        Policy {
            max_deletions_per_pass: s.max_deletions_per_pass,
            prune_grace: s.prune_grace.as_secs(),
            now,
            confirmed: false,
        }
    }
}

pub use types::*;
pub use vg::VgAction;

/// The over-subscription ratio in force: fixed, or cinder's `auto`
/// (`1 + provisioned / (used + 1)` in GiB once anything is provisioned, else 20).
pub fn effective_ratio(ratio: Ratio, pool: Option<&LvInfo>, provisioned: u64) -> f64 {
    match ratio {
        Ratio::Fixed(r) => r,
        Ratio::Auto => {
            const GIB: f64 = (1u64 << 30) as f64;
            if provisioned == 0 {
                return 20.0;
            }
            let used = pool
                .map(|p| p.size as f64 * p.data_percent.unwrap_or(0.0) / 100.0)
                .unwrap_or(0.0);
            1.0 + (provisioned as f64 / GIB) / (used / GIB + 1.0)
        }
    }
}

/// Whose an LV is, seen from one backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Whose {
    Foreign,
    /// This backend's (`legacy`: tagged by an ember from before backend tags).
    Mine {
        legacy: bool,
    },
    Other(String),
}

pub(crate) fn whose(cfg: &BackendConfig, lv: &LvInfo) -> Whose {
    match lv.owner() {
        Owner::Foreign => Whose::Foreign,
        Owner::Legacy => Whose::Mine { legacy: true },
        Owner::Backend(b) if b == cfg.name => Whose::Mine { legacy: false },
        Owner::Backend(b) => Whose::Other(b),
    }
}

/// Plans one backend. `observed` is the backend's volume group as LVM reports it now.
pub fn plan(
    cfg: &BackendConfig,
    desired: &BackendDesired,
    observed: &Observed,
    policy: &Policy,
) -> Plan {
    plan_with_targets(cfg, desired, observed, None, policy)
}

/// [`plan`], with the kernel's target configuration as read (`None`: not read, for a backend
/// that exports through nothing ember writes: no export phase).
pub fn plan_with_targets(
    cfg: &BackendConfig,
    desired: &BackendDesired,
    observed: &Observed,
    targets: Option<&export::Targets>,
    policy: &Policy,
) -> Plan {
    let mut plan = Plan::new(&cfg.name, &cfg.volume_group, policy.now);
    // one index instead of a scan per declared volume: plans stay linear in the LV count
    let by_name: std::collections::HashMap<&str, &LvInfo> =
        observed.lvs.iter().map(|l| (l.name.as_str(), l)).collect();
    let pool_name = LvName::new(&cfg.pool_name()).ok();
    let cow = observed.cow_snapshots();
    let c = classify::classify(
        cfg,
        desired,
        observed.vg.extent_size.max(1),
        &by_name,
        &cow,
        &mut plan,
    );
    let snaps = snapshots::classify(cfg, desired, &by_name, &mut plan);
    adoptions(
        cfg,
        desired,
        &by_name,
        [c.adopts, snaps.adopts].concat(),
        &mut plan,
    );
    let freed = prune::ownership_and_deletions(
        cfg,
        desired,
        observed,
        pool_name.as_ref(),
        [c.absent, snaps.absent].concat(),
        &c.creates,
        &cow,
        policy,
        &mut plan,
    );
    let mut vg_free = observed.vg.free + freed.linear;
    let pool_after = if cfg.lvm_type.is_thin() {
        pool::plan_pool(
            cfg,
            desired,
            observed,
            &by_name,
            pool_name.as_ref(),
            &mut vg_free,
            &mut plan,
        )
    } else {
        None
    };
    // activation before growth and creation: a volume that turns out to be unknown to its pool
    // is mended before anything new is made (see apply)
    for (volume, uuid, size) in c.activates {
        plan.actions.push(Action::ActivateVolume {
            volume,
            uuid: Some(uuid),
            size: Bytes(size),
            thin: cfg.lvm_type.is_thin(),
        });
    }
    let mut cap = if cfg.lvm_type.is_thin() {
        capacity::Capacity::thin(
            cfg,
            observed,
            pool_after.as_ref(),
            freed.thin + freed.linear,
        )
    } else {
        capacity::Capacity::thick(cfg, observed, vg_free)
    };
    for (volume, uuid, from, to) in c.extends {
        match cap.admit(to - from) {
            Ok(()) => plan.actions.push(Action::ExtendVolume {
                volume,
                uuid,
                from: Bytes(from),
                to: Bytes(to),
            }),
            Err((kind, why)) => plan.refuse(volume.as_str(), kind, why),
        }
    }
    // an inactive volume with a COW snapshot grows first (lvm grows it only so), then is active
    for (volume, uuid, size) in c.activates_after_growth {
        plan.actions.push(Action::ActivateVolume {
            volume,
            uuid: Some(uuid),
            size: Bytes(size),
            thin: cfg.lvm_type.is_thin(),
        });
    }
    // a name that exists is made only after its deletion in this plan (a clear cut short, then
    // declared again): a deletion refused leaves nothing to make
    let deleted: std::collections::HashSet<LvName> = plan
        .actions
        .iter()
        .filter(|a| matches!(a, Action::DeleteVolume { .. }))
        .map(|a| a.subject().clone())
        .collect();
    let creates = c
        .creates
        .into_iter()
        .filter(|(v, _)| !by_name.contains_key(v.as_str()) || deleted.contains(v));
    for (volume, size) in creates {
        match cap.admit(size) {
            Ok(()) => plan.actions.push(Action::CreateVolume {
                volume,
                size: Bytes(size),
                thin: cfg.lvm_type.is_thin(),
            }),
            Err((kind, why)) => plan.refuse(volume.as_str(), kind, why),
        }
    }
    snapshots::make(
        cfg,
        desired,
        &by_name,
        snaps.creates,
        c.copies,
        &mut cap,
        &mut plan,
    );
    mda::hold_to_metadata_area(&observed.vg, observed.lvs.len(), &mut plan);
    if let Some(pool) = pool_name.as_ref().and_then(|p| by_name.get(p.as_str()))
        && cfg.lvm_type.is_thin()
        && pool.health.needs_repair()
    {
        hold_everything(&mut plan, pool);
    }
    guard::hold_if_not_ours(cfg, desired, observed, policy, &mut plan);
    if let Some(targets) = targets {
        export::plan_exports(cfg, desired, observed, targets, &mut plan);
        // a backend held whole is held for its exports too
        let held = [
            RefusalKind::VgOfAnotherBackend,
            RefusalKind::UnknownVolumes,
            RefusalKind::PoolNeedsRepair,
        ];
        if plan.refused.iter().any(|r| held.contains(&r.kind)) {
            plan.export_actions.clear();
        }
    }
    plan
}

/// Adoptions come first: what a pass then does to an adopted volume (an extension) it does to
/// one of ember's.
fn adoptions(
    cfg: &BackendConfig,
    desired: &BackendDesired,
    by_name: &std::collections::HashMap<&str, &LvInfo>,
    adopts: Vec<(LvName, u64)>,
    plan: &mut Plan,
) {
    for (volume, size) in adopts {
        // (every LV adopted was read in this VG)
        let Some(lv) = by_name.get(volume.as_str()) else {
            continue;
        };
        plan.actions.push(Action::AdoptVolume {
            uuid: lv.uuid.clone(),
            volume,
            size: Bytes(size),
            thin: cfg.lvm_type.is_thin(),
        });
    }
    if desired.adopt && desired.prune {
        plan.warn(
            &cfg.name,
            WarningKind::AdoptPrune,
            format!(
                "backend {} has adopt: true and prune: true: every volume it adopts is then its own, and is deleted (after prune_grace) when it is no longer listed",
                cfg.name
            ),
        );
    }
}

/// The daemon's pool check: only what `autoextend` would grow now, from a read of the pool
/// alone (`observed` holds the VG and the pool). Never a volume, never a declared size.
pub fn plan_pool_check(
    cfg: &BackendConfig,
    desired: &BackendDesired,
    observed: &Observed,
    now: u64,
) -> Plan {
    let mut plan = Plan::new(&cfg.name, &cfg.volume_group, now);
    let pool_name = cfg.pool_name();
    let Some(pool) = observed
        .lv(&pool_name)
        .filter(|l| l.kind == crate::lvm::LvKind::ThinPool && cfg.lvm_type.is_thin())
    else {
        return plan;
    };
    if pool.health.needs_repair() || !guard::vg_is_ours(cfg, observed) {
        return plan;
    }
    // autoextend from the pool as it is: a declared size or metadata size waits for a pass
    // (and the volumes are not this check's business)
    let desired = BackendDesired {
        thin_pool: desired.thin_pool.clone().map(|mut spec| {
            spec.size = crate::size::SizeSpec::Bytes(Bytes(pool.size));
            spec.metadata_size = None;
            spec
        }),
        ..BackendDesired::default()
    };
    let by_name = std::collections::HashMap::from([(pool_name.as_str(), pool)]);
    let mut vg_free = observed.vg.free;
    pool::plan_pool(
        cfg,
        &desired,
        observed,
        &by_name,
        Some(&pool.name),
        &mut vg_free,
        &mut plan,
    );
    plan.actions.retain(|a| match a {
        Action::ExtendPool { growth, .. } | Action::ExtendPoolMetadata { growth, .. } => {
            growth.is_automatic()
        }
        _ => false,
    });
    plan.refused.clear();
    plan
}

/// A thin pool lvm marks failed or metadata read-only takes no write at all: every action of
/// the plan becomes a refusal that says why (it needs a repair by hand).
fn hold_everything(plan: &mut Plan, pool: &LvInfo) {
    let why = format!(
        "lvm marks the thin pool {} {} (lv_attr health): ember writes nothing to this backend until it is repaired by hand (lvconvert --repair; lvmthin(7), \"Thin Pool Metadata Exhaustion\")",
        pool.name,
        pool.health.describe()
    );
    for a in std::mem::take(&mut plan.actions) {
        plan.refuse(
            a.subject().as_str(),
            RefusalKind::PoolNeedsRepair,
            why.clone(),
        );
    }
    if plan
        .refused
        .iter()
        .all(|r| r.kind != RefusalKind::PoolNeedsRepair)
    {
        plan.refuse(&pool.name, RefusalKind::PoolNeedsRepair, why);
    }
}

#[cfg(test)]
mod tests;
