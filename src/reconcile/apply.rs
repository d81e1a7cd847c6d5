//! Carrying out a plan, in the order the planner gave: pool, deletions, growth, creation.
//! A failed pool step or deletion stops the steps that relied on it (the next pass re-plans
//! from a fresh read); other failures are independent and reported one by one.

use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use super::plan::{Action, Plan};
use crate::lvm::LvmWrite;
use crate::names::{LvName, VgName};

#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcome {
    pub done: Vec<Action>,
    pub failed: Vec<Failure>,
    pub skipped: Vec<Failure>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub action: Action,
    pub error: String,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.failed.is_empty() && self.skipped.is_empty()
    }
}

/// `stop` is checked between steps: a worker told to stop finishes the lvm command under way,
/// then skips the rest (the next pass, in whatever process, plans again from a fresh read).
pub fn apply(
    lvm: &dyn LvmWrite,
    vg: &VgName,
    plan: &Plan,
    pool: Option<&LvName>,
    stop: &AtomicBool,
) -> Outcome {
    let mut out = Outcome::default();
    let mut blocked: Option<String> = None;
    for action in &plan.actions {
        let skip = if stop.load(Ordering::Relaxed) {
            Some("skipped: ember is stopping".to_string())
        } else if matches!(
            action,
            Action::CreateVolume { .. } | Action::ExtendVolume { .. }
        ) {
            blocked.clone()
        } else {
            None
        };
        if let Some(why) = skip {
            out.skipped.push(Failure {
                action: action.clone(),
                error: why,
            });
            continue;
        }
        let result = match action {
            Action::CreatePool { pool, size } => lvm.create_thin_pool(vg, pool, *size),
            Action::ExtendPool { pool, to, .. } => lvm.extend(vg, pool, *to),
            Action::CreateVolume { volume, size, thin } => {
                lvm.create_volume(vg, volume, *size, if *thin { pool } else { None })
            }
            Action::ExtendVolume { volume, to, .. } => lvm.extend(vg, volume, *to),
            Action::DeleteVolume { volume, .. } => lvm.remove(vg, volume),
        };
        match result {
            Ok(()) => {
                tracing::info!(backend = %plan.backend, volume = %action.subject(), action = action.verb(), "{}", action.line());
                out.done.push(action.clone());
            }
            Err(e) => {
                tracing::error!(backend = %plan.backend, volume = %action.subject(), action = action.verb(), error = %e, "{} failed: {e}", action.line());
                if matches!(
                    action,
                    Action::CreatePool { .. }
                        | Action::ExtendPool { .. }
                        | Action::DeleteVolume { .. }
                ) {
                    blocked = Some(format!(
                        "skipped: an earlier step failed ({} {}); the next pass plans again",
                        action.verb(),
                        action.subject()
                    ));
                }
                out.failed.push(Failure {
                    action: action.clone(),
                    error: e.to_string(),
                });
            }
        }
    }
    out
}
