//! The answer to `ember reconcile --wait`: per backend, the pass that answered the request (the
//! first to start after it) and the state it left the backend in, in `ember status`'s words.

use serde::{Deserialize, Serialize};

use super::{BackendStatus, PassSummary, WorkerState, refused_line};

/// What one backend's requested pass came to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PassOutcome {
    pub backend: String,
    /// The backend's state once that pass ended (what `ember status` then shows).
    pub state: WorkerState,
    /// The pass that answered; `None` when none did (no worker ran, or it exited first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass: Option<PassSummary>,
    /// Why no pass answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Every backend asked for: the outcomes of the passes that ended, and the backends whose pass
/// had not ended at the time limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PassAnswer {
    pub outcomes: Vec<PassOutcome>,
    #[serde(default)]
    pub unfinished: Vec<String>,
    /// The time limit, in seconds.
    pub timeout: u64,
}

impl PassOutcome {
    /// The backend's state after the pass that answered (its status, as it is now).
    pub fn of(b: &BackendStatus) -> PassOutcome {
        PassOutcome {
            backend: b.name.clone(),
            state: b.state,
            pass: b.last_pass.clone(),
            error: None,
        }
    }

    /// No pass answered for this backend: `why`; its state is what status shows.
    pub fn without_pass(b: &BackendStatus, why: String) -> PassOutcome {
        PassOutcome {
            backend: b.name.clone(),
            // a pass that never ran reached nothing
            state: match b.state {
                s @ (WorkerState::Restarting | WorkerState::Stopping | WorkerState::Starting) => s,
                _ => WorkerState::Error,
            },
            pass: None,
            error: Some(why),
        }
    }

    /// `backend lvm-1: converged (pass "reconcile": 2 done, 0 failed, 0 pending, 120 ms)`, then
    /// the pass's error, failures and refusals, one line each (as `ember status` prints them).
    pub fn lines(&self) -> Vec<String> {
        let mut first = format!("backend {}: {}", self.backend, self.state);
        let mut v = vec![];
        if let Some(e) = &self.error {
            first.push_str(&format!(": {e}"));
        }
        if let Some(p) = &self.pass {
            match self.state {
                WorkerState::Blocked => first.push_str(&format!(": {}", refused_line(p))),
                WorkerState::Error => {
                    if let Some(e) = p.error.as_ref().or(p.failed.first()) {
                        first.push_str(&format!(": {e}"));
                    }
                }
                _ => {}
            }
            first.push_str(&format!(
                " (pass {:?}: {} done, {} failed, {} pending, {} ms)",
                p.trigger,
                p.done.len(),
                p.failed.len(),
                p.pending,
                p.duration_ms
            ));
            v.extend(p.failed.iter().map(|f| format!("  failed: {f}")));
            v.extend(p.refused.iter().map(|r| format!("  refused: {r}")));
            v.extend(p.warnings.iter().map(|w| format!("  warning: {w}")));
        }
        v.insert(0, first);
        v
    }
}

#[cfg(test)]
mod tests;
