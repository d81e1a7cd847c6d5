//! A backend's passes over the daemon's life: the one under way, and counters of all of them
//! (what the metrics file publishes, and `ember status --json` shows, from the same numbers).

use serde::{Deserialize, Serialize};

use super::{PassSummary, WorkerState};

/// A pass under way: how many of its plan's actions are finished (`applying 350/1000`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PassProgress {
    pub done: usize,
    pub total: usize,
    /// A volume being cleared before its deletion (`volume_clear`), and how far.
    #[serde(default)]
    pub clearing: Option<crate::reconcile::Clearing>,
}

impl std::fmt::Display for PassProgress {
    /// `applying 3/10`, `applying 3/10 (clearing volume-1 before its deletion: 45%)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "applying {}/{}", self.done, self.total)?;
        if let Some(c) = &self.clearing {
            write!(
                f,
                " (clearing {} before its deletion: {}%, {} of {})",
                c.volume,
                c.percent(),
                crate::size::Bytes(c.done),
                crate::size::Bytes(c.total)
            )?;
        }
        Ok(())
    }
}

/// Counters since the daemon started, kept across worker restarts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PassCounters {
    /// Passes by result: converged, pending (changes left), blocked (something refused),
    /// error.
    pub converged: u64,
    pub pending: u64,
    #[serde(default)]
    pub blocked: u64,
    pub error: u64,
    /// lvm commands run by passes (reads and writes).
    pub lvm_commands: u64,
    /// Unix seconds of the end of the last pass without an error or a failed action.
    #[serde(default)]
    pub last_success_at: Option<u64>,
}

impl PassCounters {
    /// Counts one finished pass.
    pub fn count(&mut self, s: &PassSummary) {
        match s.outcome() {
            WorkerState::Converged => self.converged += 1,
            WorkerState::Error => self.error += 1,
            WorkerState::Blocked => self.blocked += 1,
            _ => self.pending += 1,
        }
        self.lvm_commands += s.lvm_commands.max(s.lvm_calls);
        if s.error.is_none() && s.failed.is_empty() {
            self.last_success_at = Some(s.finished_at);
        }
    }
}
