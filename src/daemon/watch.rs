//! Watching the desired-state file for a worker (notify, on the directories that matter).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::mpsc;

/// Watches the desired-state file: the directory it is named in (renames, `..data` symlink
/// swaps) and, when it is a symlink, the directory of its target (in-place edits there). The
/// target is re-resolved after every change, since a swap moves it.
pub(super) struct DesiredWatch {
    watcher: notify::RecommendedWatcher,
    path: PathBuf,
    dirs: Vec<PathBuf>,
    names: Arc<std::sync::Mutex<Vec<std::ffi::OsString>>>,
}

impl DesiredWatch {
    /// Sends `true` for a file renamed into place (complete by construction: it is read at
    /// once), `false` for any other change (it may be half written: read once it is quiet).
    pub(super) fn new(path: &Path, tx: mpsc::UnboundedSender<bool>) -> Option<DesiredWatch> {
        let names: Arc<std::sync::Mutex<Vec<std::ffi::OsString>>> = Arc::default();
        let seen = names.clone();
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            let Ok(ev) = res else { return };
            // events were lost (the kernel's queue overflowed): look again
            if ev.need_rescan() {
                let _ = tx.send(false);
                return;
            }
            // a read (`ember plan`, `ember check`) is not a change, and must not hold off the
            // debounce
            if ev.kind.is_access() || ev.kind.is_other() {
                return;
            }
            let Ok(names) = seen.lock() else { return };
            if ev
                .paths
                .iter()
                .any(|p| p.file_name().is_some_and(|n| names.iter().any(|x| x == n)))
            {
                let replaced = matches!(
                    ev.kind,
                    notify::EventKind::Modify(notify::event::ModifyKind::Name(
                        notify::event::RenameMode::To | notify::event::RenameMode::Both
                    ))
                );
                let _ = tx.send(replaced);
            }
        })
        .map_err(|e| {
            tracing::warn!(
                "cannot watch {}: {e}; relying on the periodic resync",
                path.display()
            )
        })
        .ok()?;
        let mut w = DesiredWatch {
            watcher,
            path: path.to_path_buf(),
            dirs: vec![],
            names,
        };
        w.refresh();
        Some(w)
    }

    pub(super) fn refresh(&mut self) {
        use notify::Watcher;
        let parent = |p: &Path| {
            p.parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf()
        };
        let mut dirs = vec![parent(&self.path)];
        let mut names = vec![std::ffi::OsString::from("..data")];
        names.extend(self.path.file_name().map(|n| n.to_os_string()));
        if let Ok(target) = std::fs::canonicalize(&self.path) {
            if !dirs.contains(&parent(&target)) {
                dirs.push(parent(&target));
            }
            names.extend(target.file_name().map(|n| n.to_os_string()));
        }
        if let Ok(mut n) = self.names.lock() {
            *n = names;
        }
        for old in self.dirs.iter().filter(|d| !dirs.contains(d)) {
            let _ = self.watcher.unwatch(old);
        }
        for new in dirs.iter().filter(|d| !self.dirs.contains(d)) {
            if let Err(e) = self.watcher.watch(new, notify::RecursiveMode::NonRecursive) {
                tracing::warn!(
                    "cannot watch {}: {e}; relying on the periodic resync",
                    new.display()
                );
            }
        }
        self.dirs = dirs;
    }
}
