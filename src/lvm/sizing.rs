//! Facts about how lvm2 and the kernel size a thin pool, shared by the planner and the
//! simulator, and ember's rule for the metadata of the pools it creates.
//!
//! lvm2 sizes a thin pool's metadata from its data alone: 64 bytes per chunk
//! (`_estimate_metadata_size` in lib/metadata/thin_manip.c), 2 MiB at least, rounded up to
//! extents, and puts a spare of the same size (`lvol0_pmspare`) beside it. That holds the
//! mappings of a full pool but leaves no room for many thin volumes: a 4 GiB pool gets 4 MiB,
//! which refused its 644th thin volume in ember's benchmark.

use crate::size::Bytes;

pub use crate::size::limits::{MAX_CHUNK, MAX_METADATA, MIN_METADATA};
/// lvm2's smallest thin pool chunk, and its chunk for pools up to 128 GiB.
pub const CHUNK: u64 = crate::size::limits::MIN_CHUNK;
/// How many thin volumes and snapshots ember's default metadata holds, whatever the pool size.
pub const DEFAULT_THINS: u64 = 5000;
/// lvm2's target for metadata it sizes itself: above it, lvm2 doubles the chunk instead
/// (`DEFAULT_THIN_POOL_OPTIMAL_METADATA_SIZE`, the `generic` chunk size policy).
const OPTIMAL_METADATA: u64 = 128 << 20;

/// What lvm2 gives a thin pool of `data` bytes as metadata (one LV; the spare is the same again).
pub fn lvm_metadata(data: u64, extent: u64) -> u64 {
    Bytes((data / CHUNK * 64).max(MIN_METADATA))
        .round_up(extent)
        .0
}

/// Metadata usage (percent) from which lvm2 refuses new thin volumes: it wants 25 % of the
/// metadata free, or 4 MiB when that is less (`pool_metadata_min_threshold`,
/// lib/metadata/thin_manip.c; seen in the VM: a 4 MiB metadata refused its next thin volume
/// at 75 %). ember stops at the lower of this and [`METADATA_FULL`].
pub fn lvm_metadata_limit(metadata: u64) -> f64 {
    let free = (4u64 << 20) as f64 * 100.0 / metadata.max(1) as f64;
    100.0 - free.min(25.0)
}

/// Metadata usage (percent) from which ember creates no new or growing volumes in a pool,
/// whatever is configured: running out of metadata needs an offline `lvconvert --repair`.
pub const METADATA_FULL: f64 = 95.0;

/// thin-provisioning-tools' `thin_metadata_size -b CHUNK -s POOL -m THINS`: one 4 KiB
/// superblock, one leaf of 126 mappings per 126 chunks, one 4 KiB block per thin device.
pub fn thin_metadata_size(chunk: u64, pool: u64, thins: u64) -> u64 {
    const BLOCK: u64 = 4096;
    const PER_LEAF: u64 = 126;
    let chunks = pool / chunk.max(1);
    let blocks = 1 + chunks.div_ceil(PER_LEAF) + thins;
    (blocks * BLOCK).min(255 * 16320 * BLOCK)
}

/// The chunk size lvm2's `generic` policy picks for a pool of `data` bytes: 64 KiB, doubled
/// while lvm2's own metadata estimate would exceed 128 MiB.
pub fn default_chunk(data: u64) -> u64 {
    let mut chunk = CHUNK;
    while chunk < MAX_CHUNK && data / chunk * 64 > OPTIMAL_METADATA {
        chunk *= 2;
    }
    chunk
}

/// ember's metadata for a pool it creates without `metadata_size`: room for
/// [`DEFAULT_THINS`] thin volumes and snapshots beside the mappings of a full pool of
/// `largest` bytes (its size, or its autoextend cap), and never less than lvm2's own size;
/// within lvm2's limits, in whole extents.
///
/// `thin_metadata_size` counts one 4 KiB block per thin volume; measured in the VM (lvm
/// 2.03.16, tests/vm_lvm/pool.rs), a thin volume takes about 4.1 KiB, a new pool already uses
/// about 10 % of its metadata, and lvm refuses new thin volumes while less than 4 MiB (or 25 %)
/// is free. Half as much again, plus 8 MiB, covers all three.
pub fn default_metadata(chunk: u64, largest: u64, extent: u64) -> u64 {
    let tools = thin_metadata_size(chunk, largest, DEFAULT_THINS);
    let want = (tools.saturating_mul(3) / 2)
        .saturating_add(8 << 20)
        .max(lvm_metadata(largest, extent))
        .clamp(MIN_METADATA, MAX_METADATA);
    let rounded = Bytes(want).round_up(extent).0;
    if rounded > MAX_METADATA {
        Bytes(MAX_METADATA).round_down(extent).0
    } else {
        rounded
    }
}

#[cfg(test)]
mod tests;
