//! The supervisor's reload (SIGHUP, `ember reload`) and its stop (SIGTERM).

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{Fate, Supervisor};
use crate::config::{self, BackendConfig};
use crate::daemon::ipc::ToWorker;
use crate::daemon::spawn::Event;
use crate::daemon::{reload, systemd};
use crate::lvm::Busy;
use crate::status::WorkerState;

impl Supervisor<'_> {
    /// SIGHUP: re-read cinder.conf; start, stop, restart or reload workers accordingly.
    pub(super) fn reload(&mut self) -> Result<String, String> {
        systemd::reloading();
        // whatever the outcome, cinder.conf on disk is what was just read
        self.config_notice = None;
        self.config_dirty = None;
        let loaded = config::load(&self.g.sources());
        let Some(new) = loaded.config.clone() else {
            let errs = loaded.error_text();
            tracing::error!("reload: {errs}");
            tracing::error!(
                "reload failed: the configuration has errors; the running configuration stays in force"
            );
            self.config_problems = loaded.problems;
            let line = self.status().summary();
            systemd::ready(&line);
            self.last_status_line = line;
            return Err(format!("configuration invalid, nothing changed: {errs}"));
        };
        self.config_problems = loaded.problems;
        // in force from here on: workers started or configured below get this one
        let old = std::mem::replace(&mut self.config, new);
        self.watch_config();
        let running: BTreeMap<String, BackendConfig> = self
            .workers
            .iter()
            .map(|(n, w)| (n.clone(), w.cfg.clone()))
            .collect();
        let diff = reload::diff(&running, &self.config);
        let mut awaiting = HashSet::new();
        for name in &diff.removed {
            if self.send(name, ToWorker::Stop) {
                if let Some(w) = self.workers.get_mut(name) {
                    w.fate = Fate::Remove;
                    w.status.state = WorkerState::Stopping;
                }
            } else {
                self.workers.remove(name);
            }
        }
        for b in &diff.restarted {
            awaiting.insert(b.name.clone());
            if self.send(&b.name, ToWorker::Stop) {
                if let Some(w) = self.workers.get_mut(&b.name) {
                    w.fate = Fate::Respawn(Box::new(b.clone()));
                }
            } else if let Some(w) = self.workers.get_mut(&b.name) {
                w.cfg = b.clone();
                self.spawn(&b.name);
            }
        }
        for name in &diff.reloaded {
            let config = Box::new(self.config.clone());
            self.send(name, ToWorker::Configure { config });
        }
        for b in &diff.added {
            awaiting.insert(b.name.clone());
            self.add_worker(b.clone());
        }
        if old.ember.control_socket != self.config.ember.control_socket
            || old.ember.run_dir != self.config.ember.run_dir
        {
            tracing::warn!(
                "[ember] run_dir and control_socket take effect on restart, not on reload"
            );
        }
        let msg = diff.message();
        tracing::info!("{msg}");
        self.ready = false;
        self.awaiting = Some(awaiting);
        Ok(msg)
    }

    pub(super) async fn shutdown(&mut self, events: &mut mpsc::UnboundedReceiver<Event>) {
        tracing::info!("stopping: telling workers to finish the lvm command under way");
        systemd::stopping();
        self.shutting_down = true;
        let names: Vec<String> = self.workers.keys().cloned().collect();
        for n in &names {
            if let Some(w) = self.workers.get_mut(n) {
                w.fate = Fate::Remove;
            }
            if !self.send(n, ToWorker::Stop) {
                self.workers.remove(n);
            }
        }
        let deadline = Instant::now() + self.config.ember.stop_timeout;
        while !self.workers.is_empty() {
            tokio::select! {
                Some(ev) = events.recv() => self.handle(ev),
                _ = tokio::time::sleep_until(deadline) => break,
            }
        }
        for (name, w) in &self.workers {
            let (Some(pid), Some(kill)) = (w.status.pid, &w.kill) else {
                continue;
            };
            if w.status.busy.as_ref().is_some_and(Busy::is_write) {
                tracing::error!(backend = %name, pid, "worker still writing after the stop timeout: leaving it to finish (it exits after the write)");
            } else {
                tracing::warn!(backend = %name, pid, "worker did not stop within the stop timeout: killing it");
                kill.kill();
                // the task that owns the child reaps it; give it a moment before we exit
                let _ = tokio::time::timeout(Duration::from_secs(2), events.recv()).await;
            }
        }
        tracing::info!("ember daemon stopped");
    }
}
