//! ember's durable record of the thin volumes whose creation is under way, per volume group:
//! `<state_dir>/in-flight-<vg>.json` (`[ember] state_dir`, `/var/lib/ember`).
//!
//! A power cut during `lvcreate` can leave a thin volume in LVM's metadata that its pool never
//! recorded; so can a `lvconvert --repair`, a `--swapmetadata` or a `thin_restore` that lost a
//! device that held data (which may still be recoverable from the old metadata). Only the first
//! may be made again empty, and only ember knows which creations it started and did not see
//! end: a pass writes the names of the thin volumes it is about to create here, on disk
//! (`fsync`ed, then renamed into place, the directory `fsync`ed) before its first `lvcreate`,
//! and removes them once their creation returned. One write per pass that creates, whatever
//! the number of volumes (an lvm tag removed after each creation would cost one more metadata
//! commit per volume: measured, docs/decisions.md).
//!
//! What may decide that a volume is made again empty is trusted only from ember: the directory
//! is root's (the effective user's), writable by it alone, and not a link; the file likewise,
//! opened relative to the checked directory without following links. Anything else reads as
//! nothing recorded (nothing is ever mended from it).

use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::fcntl::{self, OFlag};
use nix::sys::stat::{self, Mode};
use nix::unistd::{self, UnlinkatFlags};

use crate::names::{LvName, VgName};

/// A record is small (names only); a larger file is not read.
const MAX_SIZE: u64 = 4 << 20;

#[derive(serde::Serialize, serde::Deserialize)]
struct Record {
    vg: String,
    volumes: Vec<LvName>,
}

/// The record in a state directory.
#[derive(Debug, Clone)]
pub struct InFlight {
    dir: PathBuf,
}

fn file_name(vg: &VgName) -> String {
    format!("in-flight-{vg}.json")
}

/// Owned by the effective user and writable by nobody else (of an open file: no path can be
/// swapped under the check).
fn private(fd: impl AsFd) -> Result<(), String> {
    let me = unistd::geteuid().as_raw();
    let st = stat::fstat(fd).map_err(|e| e.to_string())?;
    if st.st_uid != me {
        return Err(format!("owned by uid {}, not {me}", st.st_uid));
    }
    if st.st_mode & 0o022 != 0 {
        return Err(format!(
            "writable by others (mode {:o})",
            st.st_mode & 0o7777
        ));
    }
    Ok(())
}

impl InFlight {
    pub fn new(dir: &Path) -> InFlight {
        InFlight {
            dir: dir.to_path_buf(),
        }
    }

    /// The directory, made (0700) if it is missing, opened without following a link, and
    /// checked.
    fn open_dir(&self, create: bool) -> Result<OwnedFd, String> {
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let open = || fcntl::open(&self.dir, flags, Mode::empty());
        let fd = match open() {
            Err(nix::errno::Errno::ENOENT) if create => {
                match unistd::mkdir(&self.dir, Mode::from_bits_truncate(0o700)) {
                    Ok(()) | Err(nix::errno::Errno::EEXIST) => open(),
                    Err(e) => Err(e),
                }
            }
            r => r,
        }
        .map_err(|e| format!("{}: {e}", self.dir.display()))?;
        private(&fd).map_err(|e| format!("{}: {e}", self.dir.display()))?;
        Ok(fd)
    }

    /// The volumes of `vg` recorded as being created (none when nothing is recorded).
    pub fn read(&self, vg: &VgName) -> Result<Vec<LvName>, String> {
        let dir = match self.open_dir(false) {
            Err(e) if e.ends_with(&nix::errno::Errno::ENOENT.to_string()) => return Ok(vec![]),
            r => r?,
        };
        let name = file_name(vg);
        let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let fd = match fcntl::openat(&dir, name.as_str(), flags, Mode::empty()) {
            Err(nix::errno::Errno::ENOENT) => return Ok(vec![]),
            r => r.map_err(|e| format!("{}: {e}", self.dir.join(&name).display()))?,
        };
        let path = self.dir.join(&name);
        private(&fd).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut text = String::new();
        std::fs::File::from(fd)
            .take(MAX_SIZE)
            .read_to_string(&mut text)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let r: Record =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        if r.vg != vg.as_str() {
            return Err(format!("{}: the record of VG {:?}", path.display(), r.vg));
        }
        Ok(r.volumes)
    }

    /// Records `volumes` as the volumes of `vg` being created, on disk before it returns;
    /// none: the record is removed.
    pub fn write(&self, vg: &VgName, volumes: &[LvName]) -> Result<(), String> {
        let name = file_name(vg);
        let path = self.dir.join(&name);
        let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
        if volumes.is_empty() {
            let dir = match self.open_dir(false) {
                Err(e) if e.ends_with(&nix::errno::Errno::ENOENT.to_string()) => return Ok(()),
                r => r?,
            };
            return match unistd::unlinkat(&dir, name.as_str(), UnlinkatFlags::NoRemoveDir) {
                // the removal on disk too: a record that came back after a crash would name
                // volumes whose creation returned
                Ok(()) => unistd::fsync(&dir).map_err(|e| err(&e)),
                Err(nix::errno::Errno::ENOENT) => Ok(()),
                Err(e) => Err(err(&e)),
            };
        }
        let dir = self.open_dir(true)?;
        let text = serde_json::to_vec(&Record {
            vg: vg.to_string(),
            volumes: volumes.to_vec(),
        })
        .map_err(|e| err(&e))?;
        let tmp = format!(".{name}.{}", std::process::id());
        let flags = OFlag::O_WRONLY
            | OFlag::O_CREAT
            | OFlag::O_TRUNC
            | OFlag::O_NOFOLLOW
            | OFlag::O_CLOEXEC;
        let fd = fcntl::openat(&dir, tmp.as_str(), flags, Mode::from_bits_truncate(0o600))
            .map_err(|e| err(&e))?;
        let mut f = std::fs::File::from(fd);
        f.write_all(&text)
            .and_then(|()| f.sync_all())
            .map_err(|e| err(&e))?;
        fcntl::renameat(&dir, tmp.as_str(), &dir, name.as_str()).map_err(|e| err(&e))?;
        // the rename itself on disk
        unistd::fsync(&dir).map_err(|e| err(&e))
    }
}

#[cfg(test)]
mod tests;
