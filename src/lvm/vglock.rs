//! One writer per volume group: an exclusive `flock` on a file named after the VG, held by
//! whoever writes it (a daemon worker for its lifetime, `ember apply` for its pass).
//!
//! The path depends on nothing a setting changes: `/run/lock/ember/<vg>.lock` for the real
//! LVM (volume groups are the host's), beside the state file for the simulator (its volume
//! groups are that file's). `ember plan` takes no lock: it never writes.

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};

use super::LvmSpec;
use crate::names::VgName;

/// Where the real LVM's locks live (systemd's and Debian's `/run/lock`).
pub const LOCK_DIR: &str = "/run/lock/ember";

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
        match self {
            LvmSpec::Exec(_) => Path::new(LOCK_DIR).join(format!("{vg}.lock")),
            LvmSpec::Sim(p) => {
                let mut name = p.file_name().unwrap_or_default().to_os_string();
                name.push(format!(".{vg}.lock"));
                p.with_file_name(name)
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
fn read_holder(path: &Path) -> (String, String) {
    let mut s = String::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        let _ = f.read_to_string(&mut s);
    }
    let mut it = s.trim().splitn(2, ' ');
    let pid = it.next().unwrap_or("?").to_string();
    (
        if pid.is_empty() { "?".into() } else { pid },
        it.next().unwrap_or("").to_string(),
    )
}

/// The real LVM's lock directory: created 0700 by root, and refused when it is not root's own
/// directory (`/run/lock` is world-writable: anyone could have made it first).
fn private_dir(dir: &Path) -> Result<(), LockError> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
    }
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io(dir, e)),
    }
    let m = std::fs::symlink_metadata(dir).map_err(|e| io(dir, e))?;
    let me = nix::unistd::geteuid().as_raw();
    if !m.file_type().is_dir() || m.uid() != me || m.mode() & 0o022 != 0 {
        return Err(io(
            dir,
            format!(
                "not a directory of uid {me} that only it can write (uid {}, mode {:o}): refusing to take a lock there",
                m.uid(),
                m.mode() & 0o7777
            ),
        ));
    }
    Ok(())
}

/// Opens the lock file without following a symlink and checks that it is a regular file of
/// ours before anything is written into it.
fn open_lock_file(path: &Path) -> Result<std::fs::File, LockError> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| io(path, e))?;
    let m = f.metadata().map_err(|e| io(path, e))?;
    if !m.file_type().is_file() || m.uid() != nix::unistd::geteuid().as_raw() {
        return Err(io(
            path,
            "not a regular file of ours: refusing to use it as a lock",
        ));
    }
    Ok(f)
}

/// Whether `f` is still the file at `path` (a lock on a file that was removed or replaced
/// would lock nothing).
fn still_there(f: &std::fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (f.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
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
        let path = spec.lock_path(vg);
        if let LvmSpec::Exec(_) = spec
            && let Some(dir) = path.parent()
        {
            private_dir(dir)?;
        }
        let start = Instant::now();
        let mut waited = false;
        loop {
            let f = open_lock_file(&path)?;
            match Flock::lock(f, FlockArg::LockExclusiveNonblock) {
                Ok(file) if !still_there(&file, &path) => {
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
                    let (pid, line) = read_holder(&path);
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
