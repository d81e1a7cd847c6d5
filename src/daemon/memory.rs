//! Memory the daemon's processes freed, given back to the system.

/// Gives freed memory back to the system. A pass over 1000 volumes allocates a few MiB (lvm's
/// report, the plan, the results) on its own thread; glibc keeps what is freed in that
/// thread's arena, so without this a worker's RSS stays at the high-water mark of its biggest
/// pass (measured by `bench/run`: 2026-11-30). The supervisor parses each worker's report of a
/// pass and its list of volumes (hundreds of KiB at 1000 volumes) and keeps what it needs.
pub(crate) fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own arenas under their locks; it takes no pointers.
    unsafe {
        libc::malloc_trim(0);
    }
}
