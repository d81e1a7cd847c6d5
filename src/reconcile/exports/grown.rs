//! The volumes whose NVMe/TCP export must still tell its hosts a new size:
//! `/run/ember/grown/<vg>/<volume>`, one empty file each.
//!
//! nvmet keeps a namespace's size until it is told (`revalidate_size`), and configfs does not
//! show the size nvmet holds: a pass cannot see that an extended volume's hosts still see the
//! old one. So a pass marks each volume it is about to extend whose export it will resize,
//! before the `lvextend`, and unmarks it once the resize is done (or the volume unexported).
//! A pass that finds a mark plans the resize again: after a resize that failed, or a worker
//! killed between the two.
//!
//! In `/run` (the unit's runtime directory, kept across restarts of the service), not in the
//! state directory: a reboot empties nvmet too, and the export made again then opens the
//! device at its new size. A mark left for nothing costs one resize that changes nothing.

use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::PathBuf;

use super::Done;
use crate::config::BackendConfig;
use crate::lvm::TargetRoot;
use crate::names::LvName;
use crate::reconcile::plan::Plan;
use crate::reconcile::plan::export::ExportAction;

/// The marks of one volume group's volumes.
pub struct Grown {
    dir: PathBuf,
}

impl Grown {
    /// The host's (`/run/ember/grown/<vg>`), or beside a modelled configfs.
    pub fn of(vg: &str, root: &TargetRoot) -> Grown {
        let base = match root.modelled {
            true => {
                let mut p = root.path.clone().into_os_string();
                p.push(".grown");
                PathBuf::from(p)
            }
            false => PathBuf::from("/run/ember/grown"),
        };
        Grown { dir: base.join(vg) }
    }

    /// The volumes marked (sorted; none when nothing is, or the marks cannot be read: a
    /// warning says so).
    pub fn read(&self) -> Vec<LvName> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(d) => d,
            Err(e) if e.kind() == ErrorKind::NotFound => return vec![],
            Err(e) => {
                tracing::warn!("cannot read {}: {e}", self.dir.display());
                return vec![];
            }
        };
        let mut v: Vec<LvName> = entries
            .flatten()
            .filter_map(|e| LvName::new(e.file_name().to_str()?).ok())
            .collect();
        v.sort();
        v
    }

    /// Marks `volume` (the mark is made before this returns).
    pub fn mark(&self, volume: &LvName) -> Result<(), String> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|e| format!("cannot make {}: {e}", self.dir.display()))?;
        let path = self.dir.join(volume.as_str());
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&path)
            .map(drop)
            .map_err(|e| format!("cannot make {}: {e}", path.display()))
    }

    /// Unmarks `volume` (nothing when it is not marked).
    pub fn unmark(&self, volume: &LvName) -> Result<(), String> {
        let path = self.dir.join(volume.as_str());
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != ErrorKind::NotFound => {
                Err(format!("cannot remove {}: {e}", path.display()))
            }
            _ => Ok(()),
        }
    }
}

/// Marks the volumes whose resize `plan` holds, before its `lvextend`s.
pub(super) fn mark_planned(cfg: &BackendConfig, root: &TargetRoot, plan: &Plan) {
    let grown = Grown::of(&cfg.volume_group, root);
    for a in &plan.export_actions {
        if let ExportAction::Resize { volume, .. } = a
            && let Err(e) = grown.mark(volume)
        {
            tracing::warn!(backend = %cfg.name, volume = %volume, "{e}");
        }
    }
}

/// Unmarks a volume once its resize is done, or its export gone.
pub(super) fn unmark_done(cfg: &BackendConfig, root: &TargetRoot, results: &[Done]) {
    let grown = Grown::of(&cfg.volume_group, root);
    for (a, r) in results {
        if r.is_ok()
            && matches!(
                a,
                ExportAction::Resize { .. } | ExportAction::Unexport { .. }
            )
            && let Err(e) = grown.unmark(a.volume())
        {
            tracing::warn!(backend = %cfg.name, volume = %a.volume(), "{e}");
        }
    }
}

/// Unmarks the volumes for which `plan`, carried out, held no resize: those ember no longer
/// exports (deleted, unexported, another tool's now), which have nothing left to tell.
pub(super) fn unmark_unplanned(cfg: &BackendConfig, root: &TargetRoot, plan: &Plan) {
    let grown = Grown::of(&cfg.volume_group, root);
    let marked = grown.read();
    if marked.is_empty() {
        return;
    }
    let resized = |v: &LvName| {
        plan.export_actions
            .iter()
            .any(|a| matches!(a, ExportAction::Resize { volume, .. } if volume == v))
    };
    for v in marked.iter().filter(|v| !resized(v)) {
        if let Err(e) = grown.unmark(v) {
            tracing::warn!(backend = %cfg.name, volume = %v, "{e}");
        }
    }
}
