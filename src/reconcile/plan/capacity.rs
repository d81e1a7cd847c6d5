//! Admission: growth and creation take capacity one by one, and what does not fit is refused
//! with the numbers.

use super::{RefusalKind, effective_ratio};
use crate::config::BackendConfig;
use crate::lvm::attr::Health;
use crate::lvm::{LvInfo, LvKind, Observed};
use crate::size::Bytes;

/// A pool whose data is this full (fraction of its size) takes no new or growing volumes.
pub const POOL_FULL: f64 = 0.99;
/// Nor one whose metadata is this full (percent).
pub const METADATA_FULL: f64 = 95.0;

/// A backend's capacity as cinder's LVM driver reports it to the scheduler
/// (`_update_volume_stats` over os-brick's `LVM.update_volume_group_info`): ember admits with
/// these numbers and `ember status` shows them, so the two never disagree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    /// Thin: the pool's size; thick: the VG's.
    pub total: u64,
    /// Thin: pool size × (1 − data%); thick: the VG's free space.
    pub free: u64,
    /// Thin: the sizes of every LV in the VG except the pool (thin or linear, ember's or not);
    /// thick: total − free.
    pub provisioned: u64,
    /// `max_over_subscription_ratio` in force (`auto` computed as cinder does; 1 for thick).
    pub ratio: f64,
}

impl Figures {
    pub fn of(cfg: &BackendConfig, observed: &Observed) -> Figures {
        let pool_name = cfg.pool_name();
        let pool = observed
            .lv(&pool_name)
            .filter(|l| l.kind == LvKind::ThinPool);
        if !cfg.lvm_type.is_thin() {
            let (total, free) = (observed.vg.size, observed.vg.free);
            return Figures {
                total,
                free,
                provisioned: total.saturating_sub(free),
                ratio: 1.0,
            };
        }
        let provisioned = observed
            .lvs
            .iter()
            .filter(|l| l.name != pool_name.as_str())
            .map(|l| l.size)
            .sum();
        let (total, free) = match pool {
            Some(p) => (
                p.size,
                (p.size as f64 * (1.0 - p.data_percent.unwrap_or(0.0) / 100.0)) as u64,
            ),
            None => (0, 0),
        };
        Figures {
            total,
            free,
            provisioned,
            ratio: effective_ratio(cfg.max_over_subscription_ratio, pool, provisioned),
        }
    }
}

/// What is left to admit into, for this plan.
pub(super) enum Capacity {
    Thin {
        pool_name: String,
        /// Why the pool takes nothing (full data or metadata).
        full: Option<String>,
        /// ratio × pool size × (1 − reserved%); `None` when there is no usable pool.
        limit: Option<u64>,
        pool_size: u64,
        ratio: f64,
        reserved: u8,
        provisioned: u64,
    },
    Thick {
        available: u64,
        reserved: u8,
    },
}

impl Capacity {
    /// `pool_size`: the pool's data size after this plan; `freed`: the sizes of the volumes this
    /// plan deletes (they no longer count as provisioned).
    pub(super) fn thin(
        cfg: &BackendConfig,
        observed: &Observed,
        pool: Option<&LvInfo>,
        pool_size: Option<u64>,
        freed: u64,
    ) -> Capacity {
        let pool_name = cfg.pool_name();
        let Figures {
            provisioned: provisioned_now,
            ratio,
            ..
        } = Figures::of(cfg, observed);
        // a full pool takes no more (cinder's scheduler would see no free capacity either);
        // growing it in this same pass counts
        let full = pool.and_then(|p| {
            let used = p.size as f64 * p.data_percent.unwrap_or(0.0) / 100.0;
            let after = pool_size.unwrap_or(p.size) as f64;
            let meta = p.metadata_percent.unwrap_or(0.0);
            let out_of_data = p.health == Health::OutOfData && pool_size.is_none_or(|s| s <= p.size);
            if used >= after * POOL_FULL {
                Some(format!("the thin pool {} is full (data {:.2}%){}: grow it (thin_pool size) before adding or growing volumes", p.name, used * 100.0 / after,
                    if out_of_data { ", and lvm marks it out of data space" } else { "" }))
            } else if out_of_data {
                Some(format!("lvm marks the thin pool {} out of data space: grow it (thin_pool size) before adding or growing volumes", p.name))
            } else if meta >= METADATA_FULL {
                Some(format!("the thin pool {}'s metadata is {meta:.2}% full: grow it (lvextend --poolmetadatasize) before adding or growing volumes", p.name))
            } else {
                None
            }
        });
        Capacity::Thin {
            pool_name,
            full,
            limit: pool_size.map(|s| {
                (s as f64 * ratio * (1.0 - cfg.reserved_percentage as f64 / 100.0)) as u64
            }),
            pool_size: pool_size.unwrap_or(0),
            ratio,
            reserved: cfg.reserved_percentage,
            provisioned: provisioned_now.saturating_sub(freed),
        }
    }

    /// `vg_free`: the VG's free space after this plan's deletions.
    pub(super) fn thick(cfg: &BackendConfig, observed: &Observed, vg_free: u64) -> Capacity {
        let reserve = (observed.vg.size as f64 * cfg.reserved_percentage as f64 / 100.0) as u64;
        Capacity::Thick {
            available: vg_free.saturating_sub(reserve),
            reserved: cfg.reserved_percentage,
        }
    }

    /// Takes `delta` bytes, or says why not.
    pub(super) fn admit(&mut self, delta: u64) -> Result<(), (RefusalKind, String)> {
        match self {
            Capacity::Thin {
                full: Some(why), ..
            } => Err((RefusalKind::PoolFull, why.clone())),
            Capacity::Thin {
                limit: None,
                pool_name,
                ..
            } => Err((
                RefusalKind::PoolUnavailable,
                format!("the thin pool {pool_name} is not available"),
            )),
            Capacity::Thin {
                limit: Some(limit),
                pool_size,
                ratio,
                reserved,
                provisioned,
                ..
            } => {
                if provisioned.saturating_add(delta) > *limit {
                    return Err((
                        RefusalKind::OverSubscription,
                        format!(
                            "would provision {} in a pool of {} (limit {} = ratio {:.2} x pool{}); provisioned already {}",
                            Bytes(provisioned.saturating_add(delta)),
                            Bytes(*pool_size),
                            Bytes(*limit),
                            ratio,
                            if *reserved > 0 {
                                format!(" x (1 - {reserved}% reserved)")
                            } else {
                                String::new()
                            },
                            Bytes(*provisioned)
                        ),
                    ));
                }
                *provisioned = provisioned.saturating_add(delta);
                Ok(())
            }
            Capacity::Thick {
                available,
                reserved,
            } => {
                if delta > *available {
                    return Err((
                        RefusalKind::InsufficientSpace,
                        format!(
                            "needs {} but the volume group has {} available{}",
                            Bytes(delta),
                            Bytes(*available),
                            if *reserved > 0 {
                                format!(" ({reserved}% reserved)")
                            } else {
                                String::new()
                            }
                        ),
                    ));
                }
                *available -= delta;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests;
