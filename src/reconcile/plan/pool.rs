//! Phase 3: the thin pool, created or grown after the deletions (they may free its space), never
//! shrunk.

use std::collections::HashMap;

use super::{Action, DEFAULT_POOL_FRACTION, Plan, RefusalKind, pool_overhead};
use crate::config::BackendConfig;
use crate::desired::{BackendDesired, VolumeState};
use crate::lvm::{LvInfo, LvKind, Observed};
use crate::names::LvName;
use crate::size::Bytes;

/// Phase 3: the thin pool. Returns its data size after this plan, when it is usable.
pub(super) fn plan_pool(
    cfg: &BackendConfig,
    desired: &BackendDesired,
    observed: &Observed,
    lv: &HashMap<&str, &LvInfo>,
    pool_name: Option<&LvName>,
    vg_free: &mut u64,
    plan: &mut Plan,
) -> Option<u64> {
    let vg = &observed.vg;
    let extent = vg.extent_size.max(1);
    let Some(name) = pool_name else {
        plan.refuse(
            &cfg.pool_name(),
            RefusalKind::PoolUnavailable,
            "the pool name derived from the volume group is not a valid LV name".into(),
        );
        return None;
    };
    match lv.get(name.as_str()).copied() {
        Some(l) if l.kind != LvKind::ThinPool => {
            plan.refuse(
                &l.name,
                RefusalKind::WrongKind,
                format!(
                    "an LV named {} exists but is not a thin pool; ember will not use or change it",
                    l.name
                ),
            );
            None
        }
        Some(l) => {
            let Some(spec) = &desired.thin_pool else {
                return Some(l.size);
            };
            let target = spec.size.resolve(vg.size, extent).0;
            if target < l.size {
                plan.refuse(
                    name.as_str(),
                    RefusalKind::Shrink,
                    format!(
                        "the pool is {}, the desired state says {} ({}): ember never shrinks",
                        Bytes(l.size),
                        Bytes(target),
                        spec.size
                    ),
                );
                return Some(l.size);
            }
            if target == l.size {
                return Some(l.size);
            }
            let grow = target - l.size
                + pool_overhead(target, extent).saturating_sub(pool_overhead(l.size, extent));
            if grow > *vg_free {
                plan.refuse(
                    name.as_str(),
                    RefusalKind::InsufficientSpace,
                    format!(
                        "growing the pool to {} needs {} free in the volume group, which has {}",
                        Bytes(target),
                        Bytes(grow),
                        Bytes(*vg_free)
                    ),
                );
                return Some(l.size);
            }
            *vg_free -= grow;
            plan.actions.push(Action::ExtendPool {
                pool: name.clone(),
                from: Bytes(l.size),
                to: Bytes(target),
            });
            Some(target)
        }
        None => {
            let wants_volumes = desired
                .volumes
                .iter()
                .any(|(_, v)| v.state() == VolumeState::Present);
            if !wants_volumes && desired.thin_pool.is_none() {
                return None;
            }
            let size = match &desired.thin_pool {
                Some(spec) => spec.size.resolve(vg.size, extent),
                None => Bytes((vg.free as f64 * DEFAULT_POOL_FRACTION) as u64).round_down(extent),
            };
            let need = size.0 + pool_overhead(size.0, extent);
            if size.0 == 0 || need > *vg_free {
                plan.refuse(name.as_str(), RefusalKind::InsufficientSpace, format!(
                    "creating the pool with {} needs {} free in the volume group (with its metadata), which has {}",
                    size, Bytes(need), Bytes(*vg_free)));
                return None;
            }
            *vg_free -= need;
            plan.actions.push(Action::CreatePool {
                pool: name.clone(),
                size,
            });
            Some(size.0)
        }
    }
}
