//! `plan(config, desired, observed, policy) -> Plan`: the pure diff between what the operator
//! declared and what LVM has. It never sees an LVM handle, so it cannot change anything.
//!
//! Order: deletions, then the pool (deletions may free its space), activation of inactive
//! volumes, growth, creation.
//!
//! Rules (each has a test): only LVs carrying ember's tag are touched, plus the backend's thin
//! pool `<vg>-pool`; nothing shrinks; deletions only for `state: absent` or `prune: true`, and
//! none at all when more than `max_deletions_per_pass` are planned; thin volumes are admitted one by one while provisioned +
//! new ≤ ratio × pool size × (1 − reserved%); extent rounding never causes a plan.

use serde::Serialize;

use crate::config::{BackendConfig, Ratio};
use crate::desired::{BackendDesired, VolumeState};
use crate::lvm::{LvInfo, LvKind, Observed};
use crate::names::LvName;
use crate::size::Bytes;

/// Cinder's share of the VG's free space for a thin pool it creates itself.
pub const DEFAULT_POOL_FRACTION: f64 = 0.95;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub max_deletions_per_pass: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeleteReason {
    /// `state: absent` in the desired state.
    Absent,
    /// Owned, not declared, and the backend has `prune: true`.
    Prune,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    CreatePool {
        pool: LvName,
        size: Bytes,
    },
    ExtendPool {
        pool: LvName,
        from: Bytes,
        to: Bytes,
    },
    CreateVolume {
        volume: LvName,
        size: Bytes,
        thin: bool,
    },
    ExtendVolume {
        volume: LvName,
        from: Bytes,
        to: Bytes,
    },
    DeleteVolume {
        volume: LvName,
        size: Bytes,
        reason: DeleteReason,
    },
    /// An owned, declared volume that is inactive: activated, as cinder-volume's
    /// `ensure_export` does for its volumes at start.
    ActivateVolume {
        volume: LvName,
        size: Bytes,
        thin: bool,
    },
    /// Never planned: what applying does with a thin volume whose activation shows that its
    /// pool has no such device (a creation cut short by a crash or power cut; it holds no
    /// data): removed from LVM's metadata and created again, empty, as declared.
    RecreateVolume {
        volume: LvName,
        size: Bytes,
    },
}

impl Action {
    pub fn is_destructive(&self) -> bool {
        matches!(self, Action::DeleteVolume { .. })
    }
    pub fn subject(&self) -> &LvName {
        match self {
            Action::CreatePool { pool, .. } | Action::ExtendPool { pool, .. } => pool,
            Action::CreateVolume { volume, .. }
            | Action::ExtendVolume { volume, .. }
            | Action::DeleteVolume { volume, .. }
            | Action::ActivateVolume { volume, .. }
            | Action::RecreateVolume { volume, .. } => volume,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalKind {
    Shrink,
    Foreign,
    OverSubscription,
    DeletionCap,
    InsufficientSpace,
    PoolUnavailable,
    PoolFull,
    WrongKind,
}

/// Something the desired state asks for that ember will not do, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub subject: String,
    pub kind: RefusalKind,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub backend: String,
    pub volume_group: String,
    pub actions: Vec<Action>,
    pub refused: Vec<Refusal>,
}

impl Plan {
    pub fn has_changes(&self) -> bool {
        !self.actions.is_empty()
    }
}

/// A pool whose data is this full (fraction of its size) takes no new or growing volumes.
pub const POOL_FULL: f64 = 0.99;
/// Nor one whose metadata is this full (percent).
pub const METADATA_FULL: f64 = 95.0;

/// VG space a thin pool takes beyond its data: the metadata LV and its spare (lvm2 sizes
/// metadata at roughly 64 bytes per 64 KiB chunk; this estimate is twice that, at least 2 MiB
/// each, rounded to extents: it errs on the side of refusing early rather than failing midway).
pub fn pool_overhead(data: u64, extent: u64) -> u64 {
    2 * Bytes((data / 512).max(2 << 20)).round_up(extent).0
}

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

/// Decides whether growth or creation by `delta` bytes fits what capacity is left.
type Admit<'a> = dyn FnMut(&mut Ctx, &LvName, u64) -> bool + 'a;

struct Ctx<'a> {
    cfg: &'a BackendConfig,
    plan: Plan,
}

impl Ctx<'_> {
    fn refuse(&mut self, subject: &str, kind: RefusalKind, reason: String) {
        self.plan.refused.push(Refusal {
            subject: subject.to_string(),
            kind,
            reason,
        });
    }
}

/// Plans one backend. `observed` is the backend's volume group as LVM reports it now.
pub fn plan(
    cfg: &BackendConfig,
    desired: &BackendDesired,
    observed: &Observed,
    policy: &Policy,
) -> Plan {
    let mut cx = Ctx {
        cfg,
        plan: Plan {
            backend: cfg.name.clone(),
            volume_group: cfg.volume_group.clone(),
            actions: vec![],
            refused: vec![],
        },
    };
    let vg = &observed.vg;
    // one index instead of a scan per declared volume: plans stay linear in the LV count
    let by_name: std::collections::HashMap<&str, &LvInfo> =
        observed.lvs.iter().map(|l| (l.name.as_str(), l)).collect();
    let lv = |name: &str| by_name.get(name).copied();
    let extent = vg.extent_size.max(1);
    let thin = cfg.lvm_type.is_thin();
    let mut vg_free = vg.free;

    // --- names ---------------------------------------------------------------------------
    let pool_name = LvName::new(&cfg.pool_name()).ok();
    let wants_thin_volumes = desired
        .volumes
        .iter()
        .any(|(_, v)| v.state == VolumeState::Present);
    // --- volumes: classify ---------------------------------------------------------------
    let mut creates: Vec<(LvName, u64)> = vec![];
    let mut extends: Vec<(LvName, u64, u64)> = vec![];
    let mut deletes: Vec<(LvName, u64, DeleteReason)> = vec![];
    let mut activates: Vec<(LvName, u64)> = vec![];
    for (name, spec) in desired.volumes.iter() {
        let existing = lv(name.as_str());
        if let Some(l) = existing
            && spec.state == VolumeState::Present
            && !l.active
            && l.is_owned()
            && expected_kind(cx.cfg, l)
        {
            activates.push((name.clone(), l.size));
        }
        match (spec.state, existing) {
            (VolumeState::Absent, None) => {}
            (VolumeState::Absent, Some(lv)) if !lv.is_owned() => cx.refuse(name.as_str(), RefusalKind::Foreign, format!(
                "declared absent, but the LV exists without ember's tag ({}): not ember's to delete", crate::names::OWNERSHIP_TAG)),
            (VolumeState::Absent, Some(lv)) if !matches!(lv.kind, LvKind::Thin | LvKind::Linear) => cx.refuse(name.as_str(), RefusalKind::WrongKind, format!(
                "declared absent, but the LV is a {:?}, not a volume", lv.kind)),
            (VolumeState::Absent, Some(lv)) => deletes.push((name.clone(), lv.size, DeleteReason::Absent)),
            (VolumeState::Present, _) => {
                let Some(size) = spec.size else { continue };
                let want = size.round_up(extent).0;
                match existing {
                    None => creates.push((name.clone(), want)),
                    Some(lv) if !lv.is_owned() => cx.refuse(name.as_str(), RefusalKind::Foreign, format!(
                        "an LV with this name exists without ember's tag ({}): ember leaves it alone", crate::names::OWNERSHIP_TAG)),
                    Some(lv) if !expected_kind(cx.cfg, lv) => cx.refuse(name.as_str(), RefusalKind::WrongKind, format!(
                        "exists as a {:?} LV{}, but this backend makes {} volumes: ember will not convert it",
                        lv.kind, lv.pool.as_ref().map(|p| format!(" in pool {p}")).unwrap_or_default(),
                        if thin { "thin" } else { "thick" })),
                    Some(lv) if lv.size > want => cx.refuse(name.as_str(), RefusalKind::Shrink, format!(
                        "is {}, the desired state says {}: ember never shrinks", Bytes(lv.size), Bytes(want))),
                    Some(lv) if lv.size < want => extends.push((name.clone(), lv.size, want)),
                    Some(_) => {}
                }
            }
        }
    }
    if desired.prune {
        let mut undeclared: Vec<&LvInfo> = observed.lvs.iter().collect();
        undeclared.sort_by(|a, b| a.name.cmp(&b.name));
        for lv in undeclared {
            let declared = desired.volumes.contains_key_str(&lv.name);
            let is_pool = pool_name.as_ref().is_some_and(|p| p.as_str() == lv.name);
            if !declared
                && !is_pool
                && lv.is_owned()
                && matches!(lv.kind, LvKind::Thin | LvKind::Linear)
                && let Ok(name) = LvName::new(&lv.name)
            {
                deletes.push((name, lv.size, DeleteReason::Prune));
            }
        }
    }

    // --- deletions: a circuit breaker, not a rate limit --------------------------------------
    // More deletions than the cap in one pass means none happen: a bad edit (a truncated but
    // valid list with prune: true) must not be carried out slowly, a few volumes every pass.
    let cap = policy.max_deletions_per_pass as usize;
    let mut freed_thin = 0u64;
    if deletes.len() > cap {
        let n = deletes.len();
        for (name, _, _) in deletes {
            cx.refuse(name.as_str(), RefusalKind::DeletionCap, format!(
                "{n} deletions planned, more than max_deletions_per_pass = {cap}: none done; raise it in [ember] to confirm"));
        }
    } else {
        for (name, size, reason) in deletes {
            match lv(name.as_str()).map(|l| l.kind) {
                Some(LvKind::Thin) => freed_thin += size,
                _ => vg_free += size,
            }
            cx.plan.actions.push(Action::DeleteVolume {
                volume: name,
                size: Bytes(size),
                reason,
            });
        }
    }

    // --- the thin pool (after deletions: they may free the space it needs) ------------
    let mut pool_size: Option<u64> = None; // the pool's data size after this plan, if usable
    if thin {
        match (&pool_name, pool_name.as_ref().and_then(|p| lv(p.as_str()))) {
            (None, _) => cx.refuse(
                &cfg.pool_name(),
                RefusalKind::PoolUnavailable,
                "the pool name derived from the volume group is not a valid LV name".into(),
            ),
            (Some(_), Some(lv)) if lv.kind != LvKind::ThinPool => {
                cx.refuse(&lv.name, RefusalKind::WrongKind, format!("an LV named {} exists but is not a thin pool; ember will not use or change it", lv.name));
            }
            (Some(name), Some(lv)) => {
                pool_size = Some(lv.size);
                if let Some(spec) = &desired.thin_pool {
                    let target = spec.size.resolve(vg.size, extent).0;
                    if target > lv.size {
                        let grow = target - lv.size
                            + pool_overhead(target, extent)
                                .saturating_sub(pool_overhead(lv.size, extent));
                        if grow > vg_free {
                            cx.refuse(name.as_str(), RefusalKind::InsufficientSpace, format!(
                                "growing the pool to {} needs {} free in the volume group, which has {}",
                                Bytes(target), Bytes(grow), Bytes(vg_free)));
                        } else {
                            vg_free -= grow;
                            pool_size = Some(target);
                            cx.plan.actions.push(Action::ExtendPool {
                                pool: name.clone(),
                                from: Bytes(lv.size),
                                to: Bytes(target),
                            });
                        }
                    } else if target < lv.size {
                        cx.refuse(name.as_str(), RefusalKind::Shrink, format!(
                            "the pool is {}, the desired state says {} ({}): ember never shrinks",
                            Bytes(lv.size), Bytes(target), spec.size));
                    }
                }
            }
            (Some(name), None) if wants_thin_volumes || desired.thin_pool.is_some() => {
                let size = match &desired.thin_pool {
                    Some(spec) => spec.size.resolve(vg.size, extent),
                    None => {
                        Bytes((vg.free as f64 * DEFAULT_POOL_FRACTION) as u64).round_down(extent)
                    }
                };
                let need = size.0 + pool_overhead(size.0, extent);
                if size.0 == 0 || need > vg_free {
                    cx.refuse(name.as_str(), RefusalKind::InsufficientSpace, format!(
                        "creating the pool with {} needs {} free in the volume group (with its metadata), which has {}", size, Bytes(need), Bytes(vg_free)));
                } else {
                    vg_free -= need;
                    pool_size = Some(size.0);
                    cx.plan.actions.push(Action::CreatePool {
                        pool: name.clone(),
                        size,
                    });
                }
            }
            (Some(_), None) => {}
        }
    }

    // --- activation (before growth and creation: a volume that turns out to be unknown to
    // its pool is mended before anything new is made; see apply) -------------------------
    for (volume, size) in activates {
        cx.plan.actions.push(Action::ActivateVolume {
            volume,
            size: Bytes(size),
            thin,
        });
    }

    // --- growth and creation within capacity ---------------------------------------------
    // admits growth and creation one by one against the capacity left
    let mut admit: Box<Admit> = if thin {
        let pool_lv = pool_name.as_ref().and_then(|p| lv(p.as_str()));
        let provisioned_now: u64 = observed
            .lvs
            .iter()
            .filter(|l| {
                l.kind == LvKind::Thin
                    && pool_name
                        .as_ref()
                        .is_some_and(|p| l.pool.as_deref() == Some(p.as_str()))
            })
            .map(|l| l.size)
            .sum();
        let ratio = effective_ratio(cfg.max_over_subscription_ratio, pool_lv, provisioned_now);
        let mut provisioned = provisioned_now.saturating_sub(freed_thin);
        // a full pool takes no more (cinder's scheduler would see no free capacity either);
        // growing it in this same pass counts
        let full = pool_lv.and_then(|p| {
            let used = p.size as f64 * p.data_percent.unwrap_or(0.0) / 100.0;
            let after = pool_size.unwrap_or(p.size) as f64;
            let meta = p.metadata_percent.unwrap_or(0.0);
            if used >= after * POOL_FULL {
                Some(format!("the thin pool {} is full (data {:.2}%): grow it (thin_pool size) before adding or growing volumes", p.name, used * 100.0 / after))
            } else if meta >= METADATA_FULL {
                Some(format!("the thin pool {}'s metadata is {meta:.2}% full: grow it (lvextend --poolmetadatasize) before adding or growing volumes", p.name))
            } else {
                None
            }
        });
        let limit = pool_size
            .map(|s| (s as f64 * ratio * (1.0 - cfg.reserved_percentage as f64 / 100.0)) as u64);
        let admit = move |cx: &mut Ctx, name: &LvName, delta: u64| -> bool {
            if let Some(why) = &full {
                cx.refuse(name.as_str(), RefusalKind::PoolFull, why.clone());
                return false;
            }
            let Some(limit) = limit else {
                cx.refuse(
                    name.as_str(),
                    RefusalKind::PoolUnavailable,
                    format!("the thin pool {} is not available", cx.cfg.pool_name()),
                );
                return false;
            };
            if provisioned + delta > limit {
                cx.refuse(name.as_str(), RefusalKind::OverSubscription, format!(
                    "would provision {} in a pool of {} (limit {} = ratio {:.2} x pool{}); provisioned already {}",
                    Bytes(provisioned + delta), Bytes(pool_size.unwrap_or(0)), Bytes(limit), ratio,
                    if cx.cfg.reserved_percentage > 0 { format!(" x (1 - {}% reserved)", cx.cfg.reserved_percentage) } else { String::new() },
                    Bytes(provisioned)));
                return false;
            }
            provisioned += delta;
            true
        };
        Box::new(admit)
    } else {
        let reserve = (vg.size as f64 * cfg.reserved_percentage as f64 / 100.0) as u64;
        let mut available = vg_free.saturating_sub(reserve);
        let admit = move |cx: &mut Ctx, name: &LvName, delta: u64| -> bool {
            if delta > available {
                cx.refuse(
                    name.as_str(),
                    RefusalKind::InsufficientSpace,
                    format!(
                        "needs {} but the volume group has {} available{}",
                        Bytes(delta),
                        Bytes(available),
                        if reserve > 0 {
                            format!(" ({}% reserved)", cx.cfg.reserved_percentage)
                        } else {
                            String::new()
                        }
                    ),
                );
                return false;
            }
            available -= delta;
            true
        };
        Box::new(admit)
    };
    for (name, from, to) in extends {
        if admit(&mut cx, &name, to - from) {
            cx.plan.actions.push(Action::ExtendVolume {
                volume: name,
                from: Bytes(from),
                to: Bytes(to),
            });
        }
    }
    for (name, size) in creates {
        if admit(&mut cx, &name, size) {
            cx.plan.actions.push(Action::CreateVolume {
                volume: name,
                size: Bytes(size),
                thin,
            });
        }
    }
    cx.plan
}

fn expected_kind(cfg: &BackendConfig, lv: &LvInfo) -> bool {
    if cfg.lvm_type.is_thin() {
        lv.kind == LvKind::Thin && lv.pool.as_deref() == Some(cfg.pool_name().as_str())
    } else {
        lv.kind == LvKind::Linear
    }
}

#[cfg(test)]
mod tests;
