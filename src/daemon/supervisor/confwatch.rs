//! cinder.conf under the running daemon: the files it read and its `--config-dir` directories
//! are watched as the desired state is. A change is not applied by itself (operators expect
//! `systemctl reload` to be the moment a service's configuration changes): the new files are
//! validated at once, and `ember status`, the journal and `STATUS=` say whether a reload would
//! apply them or what is wrong with them. With `[ember] reload_on_change = true` a valid change
//! is reloaded by itself, debounced, exactly as on SIGHUP.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::Supervisor;
use crate::config;
use crate::daemon::spawn::Event;

/// A change is read once the files have been quiet this long.
pub(super) const QUIET: Duration = Duration::from_millis(500);

/// The watcher over the configuration's directories (kept alive by its owner).
pub(super) struct ConfigWatch {
    _watcher: notify::RecommendedWatcher,
}

impl ConfigWatch {
    /// Watches the directories of `files` (for those names) and `dirs` (for `*.conf`).
    pub(super) fn new(
        files: &[PathBuf],
        dirs: &[PathBuf],
        tx: mpsc::UnboundedSender<Event>,
    ) -> Option<ConfigWatch> {
        use notify::Watcher;
        let names: Vec<std::ffi::OsString> = files
            .iter()
            .filter_map(|f| f.file_name().map(|n| n.to_os_string()))
            .collect();
        let conf_dirs: Vec<PathBuf> = dirs.to_vec();
        let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            let Ok(ev) = res else { return };
            // events were lost (the kernel's queue overflowed): look again
            if ev.need_rescan() {
                let _ = tx.send(Event::ConfigFiles);
                return;
            }
            // reading cinder.conf (every `ember status` does) is not a change
            if ev.kind.is_access() || ev.kind.is_other() {
                return;
            }
            let relevant = ev.paths.iter().any(|p| {
                p.file_name()
                    .is_some_and(|n| n == "..data" || names.iter().any(|x| x == n))
                    || (p.extension().is_some_and(|e| e == "conf")
                        && p.parent().is_some_and(|d| conf_dirs.iter().any(|c| c == d)))
            });
            if relevant {
                let _ = tx.send(Event::ConfigFiles);
            }
        })
        .map_err(|e| tracing::warn!("cannot watch cinder.conf: {e}"))
        .ok()?;
        let parent = |p: &Path| {
            p.parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf()
        };
        let mut watched: Vec<PathBuf> = files.iter().map(|f| parent(f)).collect();
        watched.extend(dirs.iter().cloned());
        watched.sort();
        watched.dedup();
        for d in &watched {
            if let Err(e) = watcher.watch(d, notify::RecursiveMode::NonRecursive) {
                tracing::warn!("cannot watch {}: {e}", d.display());
            }
        }
        Some(ConfigWatch { _watcher: watcher })
    }
}

impl Supervisor<'_> {
    /// (Re)starts watching what the configuration in force was read from.
    pub(super) fn watch_config(&mut self) {
        let sources = self.g.sources();
        self.config_watch = ConfigWatch::new(
            &self.config.config_files,
            &sources.config_dirs,
            self.events.clone(),
        );
    }

    /// The files changed: read them again once they have been quiet.
    pub(super) fn config_files_changed(&mut self) {
        self.config_dirty = Some(Instant::now());
    }

    /// Called from the timers: validates a quiet change, and says what a reload would do (or
    /// reloads, with `reload_on_change`).
    pub(super) fn config_quiet(&mut self) {
        if self.config_dirty.is_none_or(|t| t.elapsed() < QUIET) {
            return;
        }
        self.config_dirty = None;
        let loaded = config::load(&self.g.sources());
        let notice = match &loaded.config {
            None => Some(format!(
                "cinder.conf changed on disk and is invalid (the running configuration stays): {}",
                loaded.error_text()
            )),
            Some(c) if *c == self.config => None,
            Some(_) if self.config.ember.reload_on_change => {
                tracing::info!("cinder.conf changed on disk: reloading (reload_on_change)");
                let _ = self.reload();
                None
            }
            Some(_) => Some(
                "cinder.conf changed on disk: `systemctl reload ember` (or `ember reload`) applies it"
                    .to_string(),
            ),
        };
        if notice != self.config_notice {
            match &notice {
                Some(n) => tracing::warn!("{n}"),
                None if self.config_notice.is_some() => {
                    tracing::info!("cinder.conf on disk is the configuration in force again")
                }
                None => {}
            }
            self.config_notice = notice;
            let line = self.status().summary();
            if line != self.last_status_line {
                crate::daemon::systemd::status(&line);
                self.last_status_line = line;
            }
        }
    }
}
