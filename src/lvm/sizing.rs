//! Facts about how lvm2 sizes what it creates, shared by the planner and the simulator.

use crate::size::Bytes;

/// VG space a thin pool takes beyond its data: the metadata LV and its spare (lvm2 sizes
/// metadata at roughly 64 bytes per 64 KiB chunk; this estimate is twice that, at least 2 MiB
/// each, rounded to extents: it errs on the side of refusing early rather than failing midway).
pub fn pool_overhead(data: u64, extent: u64) -> u64 {
    2 * Bytes((data / 512).max(2 << 20)).round_up(extent).0
}
