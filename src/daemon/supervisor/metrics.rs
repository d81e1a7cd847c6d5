//! `[ember] metrics_file`: the supervisor writes the metrics file after every pass and pool
//! check of any worker, and while a pass writes (at most once a second). A file that cannot be
//! written is a warning in `ember status` and the journal (once, until it can be again), never
//! a failure of the daemon.

use std::time::Duration;

use tokio::time::Instant;

use super::Supervisor;
use crate::daemon::ipc::ToSupervisor;

/// While a pass writes, the file follows it at most this often.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub(super) struct MetricsFile {
    last_write: Option<Instant>,
    /// Why the last write failed; `None` when it succeeded (or none was due).
    pub problem: Option<String>,
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
        ToSupervisor::Pass { .. } | ToSupervisor::Pool { .. } => When::Now,
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
        match crate::metrics::file::write(&path, &text) {
            Ok(()) => {
                if self.metrics.problem.take().is_some() {
                    tracing::info!(path = %path.display(), "the metrics file is written again");
                }
            }
            Err(e) => {
                if self.metrics.problem.as_deref() != Some(e.as_str()) {
                    tracing::warn!(path = %path.display(), "{e}; the daemon goes on without it");
                }
                self.metrics.problem = Some(e);
            }
        }
    }
}
