//! One writer per volume group: an exclusive `flock` on a file named after the VG, held by
//! whoever writes it (a daemon worker for its lifetime, `ember apply` for its pass).
//!
//! The path depends on nothing a setting changes: `/run/ember/lock/<vg>.lock` for the real
//! LVM (volume groups are the host's), beside the state file for the simulator (its volume
//! groups are that file's). `ember plan` takes no lock: it never writes.
//!
//! No one but root can make anything in `/run`, so no user can take the lock's place first
//! (`/run/lock`, where it used to be, is world-writable: a user's `mkdir /run/lock/ember` stopped
//! every write). `/run/ember` is the unit's `RuntimeDirectory=` (kept across restarts,
//! `RuntimeDirectoryPreserve=yes`, so that a lock is never removed under its holder); `ember
//! apply` from a root shell makes it (0700) when the daemon never ran. The directory is opened
//! by [`crate::trust::walk`]: reached from `/` through directories only root can change, root's
//! alone, its lock files opened without following a link. Anything else is refused with the
//! reason, never followed.

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};

use super::LvmSpec;
use crate::names::VgName;
use crate::trust::walk::{Dir, Open};

/// Where the real LVM's locks live: in ember's root-only runtime directory.
pub const LOCK_DIR: &str = "/run/ember/lock";

/// Who holds a lock, as written into the lock file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// A daemon's worker for this backend.
    Daemon { backend: String },
    /// `ember apply`.
    Apply,
}

impl Holder {
    fn line(&self) -> String {
        match self {
            Holder::Daemon { backend } => format!("daemon {backend}"),
            Holder::Apply => "apply".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "volume group {vg} is managed by a running ember daemon (pid {pid}, backend {backend}): it converges the volume group itself; ask it for a pass with `ember reconcile --backend {backend}`, or `systemctl reload ember` after an edit"
    )]
    Daemon {
        vg: String,
        pid: String,
        backend: String,
    },
    #[error(
        "volume group {vg} is being written by another `ember apply` (pid {pid}); waited {secs} s"
    )]
    Apply { vg: String, pid: String, secs: u64 },
    #[error("cannot take the lock {path}: {detail}")]
    Io { path: PathBuf, detail: String },
}

/// An exclusive lock on one volume group, released when dropped (or when the process dies).
#[derive(Debug)]
pub struct VgLock {
    _file: Flock<std::fs::File>,
}

impl LvmSpec {
    /// The lock file of `vg` for this LVM.
    pub fn lock_path(&self, vg: &VgName) -> PathBuf {
        let (dir, name) = self.lock_place(vg);
        dir.join(name)
    }

    /// The directory of `vg`'s lock file, and its name there.
    fn lock_place(&self, vg: &VgName) -> (PathBuf, String) {
        match self {
            LvmSpec::Exec(_) => (PathBuf::from(LOCK_DIR), format!("{vg}.lock")),
            LvmSpec::Sim(p) => {
                let mut name = p.file_name().unwrap_or_default().to_os_string();
                name.push(format!(".{vg}.lock"));
                let dir = match p.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                    _ => PathBuf::from("."),
                };
                (dir, name.to_string_lossy().into_owned())
            }
        }
    }
}

fn io(path: &Path, e: impl std::fmt::Display) -> LockError {
    LockError::Io {
        path: path.to_path_buf(),
        detail: e.to_string(),
    }
}

/// What the current holder wrote: (pid, holder line).
fn read_holder(dir: &Dir, name: &str) -> (String, String) {
    let mut s = String::new();
    if let Ok(mut f) = dir.file(name, Open::Read) {
        let _ = f.read_to_string(&mut s);
    }
    let mut it = s.trim().splitn(2, ' ');
    let pid = it.next().unwrap_or("?").to_string();
    (
        if pid.is_empty() { "?".into() } else { pid },
        it.next().unwrap_or("").to_string(),
    )
}

/// Whether `f` is still the file `name` in `dir` (a lock on a file that was removed or
/// replaced would lock nothing).
fn still_there(f: &std::fs::File, dir: &Dir, name: &str) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (f.metadata(), dir.identity(name)) {
        (Ok(a), Some(b)) => (a.dev(), a.ino()) == b,
        _ => false,
    }
}

impl VgLock {
    /// Takes the lock of `vg`. A daemon holding it is a refusal at once; another `ember apply`
    /// holding it is waited for, up to `wait`.
    pub fn acquire(
        spec: &LvmSpec,
        vg: &VgName,
        who: &Holder,
        wait: Duration,
    ) -> Result<VgLock, LockError> {
        let (dir, name) = spec.lock_place(vg);
        Self::acquire_in(&dir, &name, vg, who, wait)
    }

    /// [`VgLock::acquire`] with the lock file `name` in `dir` (made 0700 when missing).
    fn acquire_in(
        dir: &Path,
        name: &str,
        vg: &VgName,
        who: &Holder,
        wait: Duration,
    ) -> Result<VgLock, LockError> {
        let path = dir.join(name);
        let dir = Dir::open(dir, Some(0o700)).map_err(|e| io(&path, e))?;
        let start = Instant::now();
        let mut waited = false;
        loop {
            let f = dir
                .file(name, Open::ReadWrite { create: 0o600 })
                .map_err(|e| io(&path, e))?;
            match Flock::lock(f, FlockArg::LockExclusiveNonblock) {
                Ok(file) if !still_there(&file, &dir, name) => {
                    // removed or replaced between open and lock: take the one there now
                    drop(file);
                    continue;
                }
                Ok(mut file) => {
                    let _ = file.set_len(0);
                    let _ = file.rewind();
                    let _ = writeln!(file, "{} {}", std::process::id(), who.line());
                    return Ok(VgLock { _file: file });
                }
                Err((_, nix::errno::Errno::EWOULDBLOCK)) => {
                    let (pid, line) = read_holder(&dir, name);
                    // the line is the last holder's: one that just took the lock has not written
                    // its own yet, so a daemon's line counts only while that daemon's pid lives
                    let alive = Path::new("/proc").join(&pid).exists();
                    if let Some(backend) = line.strip_prefix("daemon ").filter(|_| alive) {
                        return Err(LockError::Daemon {
                            vg: vg.to_string(),
                            pid,
                            backend: backend.to_string(),
                        });
                    }
                    if !waited && !wait.is_zero() {
                        waited = true;
                        tracing::warn!(
                            "waiting for `ember apply` (pid {pid}), which is writing volume group {vg}"
                        );
                    }
                    if start.elapsed() >= wait {
                        return Err(LockError::Apply {
                            vg: vg.to_string(),
                            pid,
                            secs: start.elapsed().as_secs(),
                        });
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err((_, e)) => return Err(io(&path, e)),
            }
        }
    }
}

#[cfg(test)]
mod tests;
