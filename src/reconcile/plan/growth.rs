//! Growing a thin pool by `autoextend`: whole steps until usage is under the threshold, never
//! past the cap, never past what the volume group has. Pure arithmetic, shared by every pass
//! and the daemon's pool check.

use crate::desired::Autoextend;
use crate::lvm::LvInfo;
use crate::lvm::attr::Health;
use crate::lvm::sizing::MAX_METADATA;
use crate::size::Bytes;

use super::Growth;

/// A bound on the steps one growth may take (a tiny absolute step on a huge pool).
const MAX_STEPS: u32 = 1_000_000;

/// The size to grow `size` bytes holding `used` bytes to: whole steps until `used` is under
/// `threshold` percent of it, never past `cap`. `size` itself when it cannot or need not grow.
pub(super) fn steps(
    size: u64,
    used: u64,
    threshold: f64,
    cap: u64,
    step: impl Fn(u64) -> u64,
) -> u64 {
    let mut to = size;
    let mut n = 0;
    while to < cap && used as f64 * 100.0 >= threshold * to as f64 && n < MAX_STEPS {
        to = to.saturating_add(step(to).max(1)).min(cap);
        n += 1;
    }
    to.max(size)
}

/// Usage in percent of `used` in `size`.
pub(super) fn percent(used: u64, size: u64) -> f64 {
    if size == 0 {
        100.0
    } else {
        used as f64 * 100.0 / size as f64
    }
}

/// A pool's data and metadata in use now (bytes), as lvm reports them. A pool lvm marks out of
/// data space is full whatever its percentage says.
pub(super) fn used(pool: &LvInfo) -> (u64, u64) {
    let data = if pool.health == Health::OutOfData {
        pool.size
    } else {
        (pool.size as f64 * pool.data_percent.unwrap_or(0.0) / 100.0).ceil() as u64
    };
    let meta = pool.metadata_size.map_or(0, |m| {
        (m as f64 * pool.metadata_percent.unwrap_or(0.0) / 100.0).ceil() as u64
    });
    (data, meta)
}

/// What autoextend does to the data of `pool`, from `from` (its size, or a larger declared
/// size this plan grows it to): the new size and why, or `None`; `room` is the VG space it
/// may take, `cap` the largest it may become.
pub(super) fn grow_data(
    a: &Autoextend,
    pool: &LvInfo,
    from: u64,
    cap: u64,
    room: u64,
    extent: u64,
) -> Option<(u64, Growth)> {
    let (used, _) = used(pool);
    let out_of_data = pool.health == Health::OutOfData;
    let pct = percent(used, from);
    if !out_of_data && pct < a.threshold {
        return None;
    }
    let limit = cap.min(Bytes(from.saturating_add(room)).round_down(extent).0);
    let to = steps(from, used, a.threshold, limit, |s| a.step_from(s, extent));
    let growth = if out_of_data {
        Growth::OutOfData
    } else {
        Growth::Usage {
            percent: pct,
            threshold: a.threshold,
        }
    };
    (to > from).then_some((to, growth))
}

/// What autoextend does to the metadata, from `from` bytes, for a pool whose data will be
/// `data` bytes: metadata grows with its spare, so it takes twice its growth of `room`.
pub(super) fn grow_metadata(
    a: &Autoextend,
    pool: &LvInfo,
    from: u64,
    data: u64,
    room: u64,
    extent: u64,
) -> Option<(u64, Growth)> {
    let (_, used) = used(pool);
    let pct = percent(used, from);
    if pool.metadata_size.is_none() || pct < a.threshold {
        return None;
    }
    let limit = Bytes(MAX_METADATA)
        .round_down(extent)
        .0
        .min(Bytes(from.saturating_add(room / 2)).round_down(extent).0);
    let to = steps(from, used, a.threshold, limit, |s| {
        a.metadata_step_from(s, data, extent)
    });
    (to > from).then_some((
        to,
        Growth::Usage {
            percent: pct,
            threshold: a.threshold,
        },
    ))
}

#[cfg(test)]
mod tests;
