//! The memory of a volume group kept between processes: `<run_dir>/memory/<vg>.json`, so that
//! `ember apply` (a process per run) and a restarted worker start from the last full read and
//! its stamp, as a running worker does between its passes.
//!
//! What is kept is trusted no more than a worker's memory: only while the stamp read now is
//! the one kept (read before that full read). And only from a file this ember wrote: the
//! directory and the file are the effective user's, writable by it alone (`/run` is root's;
//! anything else is not read), the file names this very binary (a rebuilt or upgraded ember
//! parses afresh) and the volume group. Anything else, or anything unreadable, is a full read.
//! A write through a remembering handle deletes the file before it writes.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::Memo;
use crate::lvm::stamp::{FileId, Stamp};
use crate::lvm::{LvmSpec, Observed};
use crate::names::VgName;

/// The version of the file's layout (another is not read).
const FORMAT: u32 = 1;

/// Where the memory of each volume group is kept.
#[derive(Debug, Clone)]
pub struct Keeper {
    dir: PathBuf,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Kept {
    format: u32,
    /// The ember binary that wrote it.
    ember: Option<FileId>,
    vg: String,
    stamp: Option<Stamp>,
    observed: Observed,
}

fn this_binary() -> Option<FileId> {
    FileId::of(&std::env::current_exe().ok()?)
}

/// Owned by the effective user and writable by nobody else.
fn private(path: &Path) -> bool {
    let me = nix::unistd::geteuid().as_raw();
    std::fs::symlink_metadata(path).is_ok_and(|m| m.uid() == me && m.mode() & 0o022 == 0)
}

impl Keeper {
    /// Kept in `run_dir/memory`.
    pub fn in_run_dir(run_dir: &Path) -> Keeper {
        Keeper {
            dir: run_dir.join("memory"),
        }
    }

    /// Where `spec`'s memory is kept: the real LVM's in `run_dir/memory`, the simulator's
    /// beside its state file (its volume groups are that file's, as its locks are).
    pub fn for_lvm(spec: &LvmSpec, run_dir: &Path) -> Keeper {
        match spec {
            LvmSpec::Exec(_) => Keeper::in_run_dir(run_dir),
            LvmSpec::Sim(p) => {
                let mut name = p.file_name().unwrap_or_default().to_os_string();
                name.push(".memory");
                Keeper {
                    dir: p.with_file_name(name),
                }
            }
        }
    }

    fn path(&self, vg: &str) -> PathBuf {
        self.dir.join(format!("{vg}.json"))
    }

    /// The memory of `vg` this binary kept, if there is a trustworthy one.
    pub(super) fn load(&self, vg: &VgName) -> Option<Memo> {
        let path = self.path(vg.as_str());
        if !private(&self.dir) || !private(&path) {
            return None;
        }
        let text = std::fs::read(&path).ok()?;
        let kept: Kept = match serde_json::from_slice(&text) {
            Ok(k) => k,
            Err(e) => {
                tracing::debug!(path = %path.display(), "not read: {e}");
                return None;
            }
        };
        let ours = kept.format == FORMAT
            && kept.ember.is_some()
            && kept.ember == this_binary()
            && kept.vg == vg.as_str()
            && kept.observed.vg.name == vg.as_str();
        ours.then_some(Memo {
            stamp: kept.stamp,
            observed: kept.observed,
        })
    }

    /// Keeps `memo` (a temporary file renamed into place: a reader sees the old file or the
    /// new one). A failure costs the next process a full read, nothing else.
    pub(super) fn save(&self, memo: &Memo) {
        if let Err(e) = self.try_save(memo) {
            tracing::debug!(dir = %self.dir.display(), "the volume group's memory is not kept: {e}");
        }
    }

    fn try_save(&self, memo: &Memo) -> Result<(), String> {
        let vg = &memo.observed.vg.name;
        if let Some(parent) = self.dir.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        match std::fs::DirBuilder::new().mode(0o700).create(&self.dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e.to_string()),
        }
        if !private(&self.dir) {
            return Err("the directory is not the effective user's alone".into());
        }
        let kept = Kept {
            format: FORMAT,
            ember: this_binary(),
            vg: vg.clone(),
            stamp: memo.stamp.clone(),
            observed: memo.observed.clone(),
        };
        let text = serde_json::to_vec(&kept).map_err(|e| e.to_string())?;
        static SAVES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = SAVES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = self
            .dir
            .join(format!(".{vg}.json.{}.{n}", std::process::id()));
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .and_then(|mut f| f.write_all(&text));
        let renamed = written.and_then(|()| std::fs::rename(&tmp, self.path(vg)));
        if renamed.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        renamed.map_err(|e| e.to_string())
    }

    /// Forgets what is kept of `vg` (before a write).
    pub(super) fn discard(&self, vg: &str) {
        match std::fs::remove_file(self.path(vg)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(path = %self.path(vg).display(), "cannot remove the volume group's memory: {e}")
            }
        }
    }
}
