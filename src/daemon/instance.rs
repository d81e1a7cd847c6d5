//! One daemon per `run_dir`: the lock file the daemon holds for its lifetime (each volume group
//! has its own writer's lock besides: `crate::lvm::vglock`).

use crate::config::Config;

/// Holds `run_dir/ember.lock` for the daemon's lifetime: one daemon per host.
pub(super) fn single_instance(cfg: &Config) -> Result<nix::fcntl::Flock<std::fs::File>, String> {
    use std::io::Write;
    let dir = &cfg.ember.run_dir;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join("ember.lock");
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut lock = nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusiveNonblock)
        .map_err(|(_, _)| {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            format!(
                "another ember daemon is running (pid {}; lock {})",
                holder.trim(),
                path.display()
            )
        })?;
    let _ = lock.set_len(0);
    let _ = write!(lock, "{}", std::process::id());
    Ok(lock)
}
