//! lvm2's and the kernel's limits on a thin pool, which the desired state is checked against
//! and the planner sizes within.

/// The smallest thin pool chunk (`DM_THIN_MIN_DATA_BLOCK_SIZE`); every chunk is a multiple.
pub const MIN_CHUNK: u64 = 64 << 10;
/// The largest (`DM_THIN_MAX_DATA_BLOCK_SIZE`).
pub const MAX_CHUNK: u64 = 1 << 30;
/// The smallest thin pool metadata lvm2 makes (`DEFAULT_THIN_POOL_MIN_METADATA_SIZE`).
pub const MIN_METADATA: u64 = 2 << 20;
/// The most metadata the kernel's thin target uses (`DM_THIN_MAX_METADATA_SIZE`: 255 × 16 Ki
/// 4 KiB blocks less 128 MiB, about 15.81 GiB); lvm2 allows a little more, which is never used.
pub const MAX_METADATA: u64 = (255 * 16384 * 8 - 262_144) * 512;
