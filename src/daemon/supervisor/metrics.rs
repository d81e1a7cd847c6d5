//! `[ember] metrics_file`: the supervisor renders the metrics file after every pass and pool
//! check of any worker, and while a pass writes (at most once a second); a thread of its own
//! writes it (a slow disk must not stall the supervisor's loop, its watchdog pings included),
//! the newest text first. A file that cannot be written is a warning in `ember status` and the
//! journal (once, until it can be again), never a failure of the daemon.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use tokio::time::Instant;

use super::Supervisor;
use crate::daemon::ipc::ToSupervisor;

/// While a pass writes, the file follows it at most this often.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub(super) struct MetricsFile {
    last_write: Option<Instant>,
    writer: Option<mpsc::Sender<(PathBuf, String)>>,
    /// Why the last write failed; `None` when it succeeded (or none was due).
    problem: Arc<Mutex<Option<String>>>,
}

impl MetricsFile {
    pub(super) fn problem(&self) -> Option<String> {
        self.problem.lock().ok().and_then(|p| p.clone())
    }

    /// Hands the text to the writer thread (started on first use).
    fn send(&mut self, path: PathBuf, text: String) {
        if self.writer.is_none() {
            let (tx, rx) = mpsc::channel::<(PathBuf, String)>();
            let problem = self.problem.clone();
            let spawned = std::thread::Builder::new()
                .name("metrics".into())
                .spawn(move || write_loop(&rx, &problem));
            if let Err(e) = spawned {
                tracing::warn!("cannot start the metrics writer: {e}");
                return;
            }
            self.writer = Some(tx);
        }
        if let Some(tx) = &self.writer
            && tx.send((path, text)).is_err()
        {
            self.writer = None;
        }
    }
}

/// Writes what it is sent, skipping to the newest when several are waiting.
fn write_loop(rx: &mpsc::Receiver<(PathBuf, String)>, problem: &Mutex<Option<String>>) {
    while let Ok(mut job) = rx.recv() {
        while let Ok(newer) = rx.try_recv() {
            job = newer;
        }
        let (path, text) = job;
        let result = crate::metrics::file::write(&path, &text);
        let Ok(mut p) = problem.lock() else {
            return;
        };
        match result {
            Ok(()) => {
                if p.take().is_some() {
                    tracing::info!(path = %path.display(), "the metrics file is written again");
                }
            }
            Err(e) => {
                if p.as_deref() != Some(e.as_str()) {
                    tracing::warn!(path = %path.display(), "{e}; the daemon goes on without it");
                }
                *p = Some(e);
            }
        }
    }
}

/// Whether a worker's message is news for the metrics file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum When {
    Now,
    /// A pass's progress: at most every [`PROGRESS_EVERY`].
    Throttled,
    Not,
}

pub(super) fn when(msg: &ToSupervisor) -> When {
    match msg {
        ToSupervisor::Pass { .. }
        | ToSupervisor::Pool { .. }
        | ToSupervisor::Confirmed { .. }
        | ToSupervisor::Exports { .. } => When::Now,
        ToSupervisor::Progress { .. } => When::Throttled,
        _ => When::Not,
    }
}

impl Supervisor<'_> {
    pub(super) fn publish_metrics(&mut self, when: When) {
        let Some(path) = self.config.ember.metrics_file.clone() else {
            return;
        };
        let recent = self
            .metrics
            .last_write
            .is_some_and(|t| t.elapsed() < PROGRESS_EVERY);
        if when == When::Not || (when == When::Throttled && recent) {
            return;
        }
        self.metrics.last_write = Some(Instant::now());
        let text = crate::metrics::render(&self.status());
        self.metrics.send(path, text);
    }
}
