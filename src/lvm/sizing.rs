//! Facts about how lvm2 sizes what it creates, shared by the planner and the simulator.
//!
//! lvm2 sizes a thin pool's metadata from its data alone: 64 bytes per chunk
//! (`_estimate_metadata_size` in lib/metadata/thin_manip.c), 2 MiB at least, rounded up to
//! extents, and puts a spare of the same size (`lvol0_pmspare`) beside it. Chunks are 64 KiB for
//! the pools ember creates.

use crate::size::Bytes;

/// lvm2's chunk size for a thin pool of ember's (its default).
pub const CHUNK: u64 = 64 << 10;
/// lvm2's smallest thin pool metadata.
pub const MIN_METADATA: u64 = 2 << 20;

/// What lvm2 gives a thin pool of `data` bytes as metadata (one LV; the spare is the same again).
pub fn lvm_metadata(data: u64, extent: u64) -> u64 {
    Bytes((data / CHUNK * 64).max(MIN_METADATA))
        .round_up(extent)
        .0
}

/// VG space the planner reserves for a thin pool beyond its data: metadata and spare, each
/// estimated at twice lvm2's size (at least 2 MiB, rounded to extents). It errs on the side of
/// refusing early rather than failing midway; the simulator charges lvm2's real size
/// ([`lvm_metadata`]), so a test fails if this estimate ever falls below it.
pub fn pool_overhead(data: u64, extent: u64) -> u64 {
    2 * Bytes((data / 512).max(MIN_METADATA)).round_up(extent).0
}

#[cfg(test)]
mod tests;
