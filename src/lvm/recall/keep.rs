//! The memory of a volume group kept between processes: `<run_dir>/memory/<vg>.json`, so that
//! `ember apply` (a process per run) and a restarted worker start from the last full read and
//! its stamp, as a running worker does between its passes.
//!
//! What is kept is trusted no more than a worker's memory: only while the stamp read now is
//! the one kept (read before that full read). And only from a file this ember wrote: the
//! directory, the one it is in (`run_dir`) and the file are the effective user's, writable by
//! it alone, reached from `/` through directories only root can change and opened without
//! following links from `run_dir` on, each checked on its descriptor
//! ([`crate::trust::walk`]: nothing can be swapped in between the check and the read); the file names this very binary (a rebuilt
//! or upgraded ember parses afresh), ember's version, the layout and the volume group. Anything else, or anything unreadable, is a full read.
//! A write through a remembering handle deletes the file before it writes.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use nix::fcntl;
use nix::unistd::{self, UnlinkatFlags};

use super::Memo;
use crate::lvm::stamp::{FileId, Stamp};
use crate::lvm::{LvmSpec, Observed};
use crate::names::VgName;
use crate::trust::walk::{Dir, Open, Untrusted};

/// The version of the file's layout (another is not read): bumped whenever `Observed` or what
/// it holds changes meaning.
const FORMAT: u32 = 3;
/// A kept file is read up to this size (10000 volumes take about 5 MiB); a longer one is cut,
/// so not parsed: a full read.
const MAX_SIZE: u64 = 64 << 20;
/// The directory in `run_dir`.
const MEMORY: &str = "memory";

fn file_name(vg: &str) -> String {
    format!("{vg}.json")
}

/// Where the memory of each volume group is kept.
#[derive(Debug, Clone)]
pub struct Keeper {
    /// The directory it is made in (`run_dir`), and its name there.
    parent: PathBuf,
    name: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Kept {
    format: u32,
    /// ember's version and the binary that wrote it.
    version: String,
    ember: Option<FileId>,
    vg: String,
    stamp: Option<Stamp>,
    observed: Observed,
}

/// [`Kept`] as it is written: borrowed (a worker's read of 1000 volumes is not copied to be
/// saved), the same fields.
#[derive(serde::Serialize)]
struct KeptRef<'a> {
    format: u32,
    version: &'a str,
    ember: Option<FileId>,
    vg: &'a str,
    stamp: &'a Option<Stamp>,
    observed: &'a Observed,
}

fn this_binary() -> Option<FileId> {
    FileId::of(&std::env::current_exe().ok()?)
}

impl Keeper {
    /// Kept in `run_dir/memory`.
    pub fn in_run_dir(run_dir: &Path) -> Keeper {
        Keeper {
            parent: run_dir.to_path_buf(),
            name: MEMORY.into(),
        }
    }

    /// Where `spec`'s memory is kept: the real LVM's in `run_dir/memory`, the simulator's
    /// beside its state file (its volume groups are that file's, as its locks are).
    pub fn for_lvm(spec: &LvmSpec, run_dir: &Path) -> Keeper {
        match spec {
            LvmSpec::Exec(_) => Keeper::in_run_dir(run_dir),
            LvmSpec::Sim(p) => Keeper {
                parent: p.parent().unwrap_or(Path::new(".")).to_path_buf(),
                name: format!(
                    "{}.memory",
                    p.file_name().unwrap_or_default().to_string_lossy()
                ),
            },
        }
    }

    fn dir(&self) -> PathBuf {
        self.parent.join(&self.name)
    }

    /// The memory directory, opened through a private parent (created when `create`): the
    /// walk from `/` of [`crate::trust::walk`], as for every directory of root's ember keeps.
    fn open(&self, create: bool) -> Result<Dir, Untrusted> {
        let mode = create.then_some(0o700);
        Dir::open(&self.parent, mode)?.subdir(&self.name, mode)
    }

    /// The memory of `vg` this binary kept, if there is a trustworthy one.
    pub(super) fn load(&self, vg: &VgName) -> Option<Memo> {
        let dir = self.open(false).ok()?;
        let file = dir.file(&file_name(vg.as_str()), Open::Read).ok()?;
        let mut text = vec![];
        file.take(MAX_SIZE).read_to_end(&mut text).ok()?;
        let kept: Kept = match serde_json::from_slice(&text) {
            Ok(k) => k,
            Err(e) => {
                tracing::debug!(path = %self.dir().display(), vg = %vg, "not read: {e}");
                return None;
            }
        };
        let ours = kept.format == FORMAT
            && kept.version == env!("CARGO_PKG_VERSION")
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
            tracing::debug!(dir = %self.dir().display(), "the volume group's memory is not kept: {e}");
            // (an older file may be there: the stamp would refuse it, but it goes anyway)
            self.discard(&memo.observed.vg.name);
        }
    }

    fn try_save(&self, memo: &Memo) -> Result<(), String> {
        let vg = &memo.observed.vg.name;
        let dir = self.open(true).map_err(|e| e.to_string())?;
        let kept = KeptRef {
            format: FORMAT,
            version: env!("CARGO_PKG_VERSION"),
            ember: this_binary(),
            vg,
            stamp: &memo.stamp,
            observed: &memo.observed,
        };
        static SAVES: AtomicU64 = AtomicU64::new(0);
        let n = SAVES.fetch_add(1, Ordering::Relaxed);
        let tmp = format!(".{vg}.json.{}.{n}", std::process::id());
        let file = dir
            .file(&tmp, Open::CreateNew { mode: 0o600 })
            .map_err(|e| e.to_string())?;
        let mut out = std::io::BufWriter::new(file);
        let written = serde_json::to_writer(&mut out, &kept)
            .map_err(|e| e.to_string())
            .and_then(|()| out.flush().map_err(|e| e.to_string()))
            .and_then(|()| {
                fcntl::renameat(&dir, tmp.as_str(), &dir, file_name(vg).as_str())
                    .map_err(|e| e.to_string())
            });
        if written.is_err() {
            let _ = unistd::unlinkat(&dir, tmp.as_str(), UnlinkatFlags::NoRemoveDir);
        }
        written
    }

    /// Forgets what is kept of `vg` (before a write).
    pub(super) fn discard(&self, vg: &str) {
        let Ok(dir) = self.open(false) else {
            return;
        };
        match unistd::unlinkat(&dir, file_name(vg).as_str(), UnlinkatFlags::NoRemoveDir) {
            Ok(()) | Err(nix::errno::Errno::ENOENT) => {}
            Err(e) => {
                tracing::warn!(dir = %self.dir().display(), vg, "cannot remove the volume group's memory: {e}")
            }
        }
    }
}
