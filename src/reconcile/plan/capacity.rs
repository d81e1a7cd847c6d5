//! Admission: growth and creation take capacity one by one, and what does not fit is refused
//! with the numbers.

use super::pool::PoolAfter;
use super::{RefusalKind, effective_ratio};
use crate::config::BackendConfig;
use crate::lvm::{LvKind, Observed};
use crate::size::Bytes;

/// A pool whose data is this full (fraction of its size) takes no new or growing volumes.
pub const POOL_FULL: f64 = 0.99;
pub use crate::lvm::sizing::METADATA_FULL;

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
        /// Why the pool takes nothing (full data or metadata, at its cap).
        full: Option<(RefusalKind, String)>,
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

/// The metadata usage (percent) from which a pool takes no new or growing volume: ember's 95 %,
/// or lower where lvm itself would refuse (small metadata). Unknown metadata: ember's.
fn metadata_limit(metadata: u64) -> f64 {
    if metadata == 0 {
        return METADATA_FULL;
    }
    METADATA_FULL.min(crate::lvm::sizing::lvm_metadata_limit(metadata))
}

/// Why a pool takes no new or growing volumes after this plan (cinder's scheduler would see no
/// free capacity either), if it does not: full data, lvm's out-of-data mark, metadata 95 %
/// full, or above its autoextend threshold with no room to grow.
fn closed(name: &str, p: &PoolAfter) -> Option<(RefusalKind, String)> {
    let d = p.data_percent;
    let full = |why: String| Some((RefusalKind::PoolFull, why));
    if d >= POOL_FULL * 100.0 {
        full(format!(
            "the thin pool {name} is full (data {d:.2}%){}: grow it (thin_pool size) before adding or growing volumes",
            if p.out_of_data {
                ", and lvm marks it out of data space"
            } else {
                ""
            }
        ))
    } else if p.out_of_data {
        full(format!(
            "lvm marks the thin pool {name} out of data space: grow it (thin_pool size) before adding or growing volumes"
        ))
    } else if p.metadata_percent >= metadata_limit(p.metadata_size) {
        let limit = metadata_limit(p.metadata_size);
        let whose = if limit < METADATA_FULL {
            format!(
                "lvm refuses new thin volumes from {limit:.0}% of a metadata of {} (it keeps 25% or 4 MiB free)",
                Bytes(p.metadata_size)
            )
        } else {
            format!("ember takes no new or growing volumes from {METADATA_FULL}%")
        };
        full(format!(
            "the thin pool {name}'s metadata is {:.2}% full ({whose}): grow it (thin_pool metadata_size, or autoextend) before adding or growing volumes",
            p.metadata_percent
        ))
    } else {
        p.at_cap.clone().map(|why| (RefusalKind::PoolAtCap, why))
    }
}

impl Capacity {
    /// `pool_size`: the pool's data size after this plan; `freed`: the sizes of the volumes this
    /// plan deletes (they no longer count as provisioned).
    pub(super) fn thin(
        cfg: &BackendConfig,
        observed: &Observed,
        pool: Option<&PoolAfter>,
        freed: u64,
    ) -> Capacity {
        let pool_name = cfg.pool_name();
        let Figures {
            provisioned: provisioned_now,
            ratio,
            ..
        } = Figures::of(cfg, observed);
        Capacity::Thin {
            full: pool.and_then(|p| closed(&pool_name, p)),
            limit: pool.map(|p| {
                (p.size as f64 * ratio * (1.0 - cfg.reserved_percentage as f64 / 100.0)) as u64
            }),
            pool_name,
            pool_size: pool.map_or(0, |p| p.size),
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
            } => Err(why.clone()),
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
                    let (would, limit) =
                        crate::size::apart(Bytes(provisioned.saturating_add(delta)), Bytes(*limit));
                    return Err((
                        RefusalKind::OverSubscription,
                        format!(
                            "would provision {would} in a pool of {} (limit {limit} = ratio {:.2} x pool{}); provisioned already {}",
                            Bytes(*pool_size),
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
