//! One daemon per `run_dir`: the lock file the daemon holds for its lifetime (each volume group
//! has its own writer's lock besides: `crate::lvm::vglock`).
//!
//! `run_dir` is opened as ember's other root-only directories are ([`crate::trust::walk`]):
//! reached from `/` through directories only root can change, root's alone, and its lock file
//! opened without following a link, checked on its descriptor (a regular file of root's that
//! only root can write) before it is locked, and emptied only once locked. Whoever could write
//! `run_dir` could otherwise make root truncate any file through a link named `ember.lock`.

use std::io::{Read, Seek, Write};

use crate::config::Config;
use crate::trust::walk::{Dir, Open};

/// The lock file's name in `run_dir`.
pub(super) const LOCK_FILE: &str = "ember.lock";

/// Holds `run_dir/ember.lock` for the daemon's lifetime: one daemon per host. `run_dir` is
/// made (0700) when missing; a `run_dir` or lock file that is not root's alone is refused.
/// When the control socket is in `run_dir`, the directory goes to `group` ([`give_run_dir`]).
pub(super) fn single_instance(
    cfg: &Config,
    group: Option<nix::unistd::Gid>,
) -> Result<(Dir, nix::fcntl::Flock<std::fs::File>), String> {
    let path = cfg.ember.run_dir.join(LOCK_FILE);
    let dir = Dir::open(&cfg.ember.run_dir, Some(0o700))
        .map_err(|e| format!("refusing the run directory: {e}"))?;
    if cfg.ember.control_socket.parent() == Some(cfg.ember.run_dir.as_path()) {
        give_run_dir(&dir, group)?;
    }
    let f = dir
        .file(LOCK_FILE, Open::ReadWrite { create: 0o600 })
        .map_err(|e| format!("refusing the lock file: {e}"))?;
    let mut lock = nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusiveNonblock)
        .map_err(|(mut f, _)| {
            let mut holder = String::new();
            let _ = f.read_to_string(&mut holder);
            format!(
                "another ember daemon is running (pid {}; lock {})",
                holder.trim(),
                path.display()
            )
        })?;
    let _ = lock.set_len(0);
    let _ = lock.rewind();
    let _ = write!(lock, "{}", std::process::id());
    Ok((dir, lock))
}

/// `run_dir` as the control socket's users need it: root's, and `[ember] control_group`'s to
/// enter (0750: the socket is 0660 root:group) when there is one, else root's alone (0700).
/// Nothing else there is the group's: the lock file is 0600, `memory/` and `lock/` 0700. Set at
/// every start, so that a group removed from cinder.conf loses it (systemd sets the unit's
/// `RuntimeDirectoryMode=` and root's group again before that).
fn give_run_dir(dir: &Dir, group: Option<nix::unistd::Gid>) -> Result<(), String> {
    let mode = if group.is_some() { 0o750 } else { 0o700 };
    dir.set_group(group.map(|g| g.as_raw()), mode)
        .map_err(|e| format!("cannot give the run directory to the control group: {e}"))
}

#[cfg(test)]
mod tests;
