//! `ember apply --json`.

use schemars::JsonSchema;
use serde::Serialize;

use super::{FORMAT_VERSION, Failure, State};
use crate::problem::Problem;
use crate::reconcile::PassReport;
use crate::reconcile::apply::{ExportFailure, Failure as ActionFailure, VgFailure};
use crate::reconcile::plan::export::ExportAction;
use crate::reconcile::plan::{Action, Refusal, Scheduled, VgAction, Warning};

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
enum Format {
    #[serde(rename = "ember-apply")]
    Apply,
}

/// What `ember apply --json` prints: per backend, what its pass planned, did, and left.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "ember apply --json")]
pub struct ApplyDoc {
    /// Always `ember-apply`.
    format: Format,
    /// The format's version: 1.
    format_version: u32,
    /// Every backend asked for was passed over and nothing failed (exit status 0, 2 or 3, not 1).
    pub ok: bool,
    /// Some backend's desired state is refused in part: it is not reached (exit status 3).
    pub blocked: bool,
    /// Why nothing was done (cinder.conf invalid, no such backend, not root); null otherwise.
    pub error: Option<String>,
    /// What is wrong in cinder.conf or the desired state, with file and line.
    pub problems: Vec<Problem>,
    pub backends: Vec<BackendApply>,
}

/// One backend's pass. Every field is there whatever the state (empty lists when nothing ran).
#[derive(Debug, Serialize, JsonSchema)]
pub struct BackendApply {
    pub backend: String,
    pub volume_group: String,
    /// After the pass: error (a read or a write failed), blocked (something refused), pending
    /// (changes left: a pass cut short, or `stale`), converged; rejected (its desired state is
    /// invalid: nothing done).
    pub state: State,
    /// What the pass planned for the volume group itself (`volume_group.devices`).
    pub vg_planned: Vec<VgAction>,
    /// Of those, what was done, and what failed (nothing after it is done).
    pub vg_done: Vec<VgAction>,
    pub vg_failed: Vec<VgFailure>,
    /// What the pass planned.
    pub planned: Vec<Action>,
    pub done: Vec<Action>,
    pub failed: Vec<ActionFailure>,
    /// Not attempted, and why (an earlier failure, the pass stopped).
    pub skipped: Vec<ActionFailure>,
    /// What is still different after the pass, as read again.
    pub remaining: Vec<Action>,
    /// The target configuration's actions planned (exports, attached and detached hosts,
    /// unexports), done, failed or skipped, and still to do after the pass.
    pub export_planned: Vec<ExportAction>,
    pub export_done: Vec<ExportAction>,
    pub export_failed: Vec<ExportFailure>,
    pub export_remaining: Vec<ExportAction>,
    pub refused: Vec<Refusal>,
    pub scheduled: Vec<Scheduled>,
    pub warnings: Vec<Warning>,
    /// The desired-state file changed while the pass ran: nothing deleting was done.
    pub stale: bool,
    pub error: Option<String>,
    /// The problems that reject its part of the desired state.
    pub problems: Vec<Problem>,
    /// lvm processes started.
    pub lvm_calls: u64,
    /// lvm commands run (more than `lvm_calls` through the lvm shell).
    pub lvm_commands: u64,
    pub duration_ms: u64,
}

impl BackendApply {
    pub fn of(r: PassReport) -> BackendApply {
        let pass_ok = r.ok();
        let (remaining, export_remaining): (Vec<Action>, Vec<ExportAction>) = r
            .remaining
            .map(|p| (p.actions, p.export_actions))
            .unwrap_or_default();
        let export_planned = r
            .plan
            .as_ref()
            .map(|p| p.export_actions.clone())
            .unwrap_or_default();
        let (export_done, export_failed) = match &r.outcome {
            Some(o) => (o.export_done.clone(), o.export_failed.clone()),
            None => Default::default(),
        };
        let (vg_planned, planned, refused, scheduled, warnings) = match r.plan {
            Some(p) => (p.vg_actions, p.actions, p.refused, p.scheduled, p.warnings),
            None => Default::default(),
        };
        let (vg_done, vg_failed, done, failed, skipped) = match r.outcome {
            Some(o) => (o.vg_done, o.vg_failed, o.done, o.failed, o.skipped),
            None => Default::default(),
        };
        // as the daemon's passes count (`PassSummary::state`), and `plan --json`: what is
        // refused is not reached, whatever else is left
        let state = if !pass_ok {
            State::Error
        } else if !refused.is_empty() {
            State::Blocked
        } else if !remaining.is_empty() || !export_remaining.is_empty() || r.stale {
            State::Pending
        } else {
            State::Converged
        };
        BackendApply {
            backend: r.backend,
            volume_group: r.volume_group,
            state,
            vg_planned,
            vg_done,
            vg_failed,
            planned,
            done,
            failed,
            skipped,
            remaining,
            export_planned,
            export_done,
            export_failed,
            export_remaining,
            refused,
            scheduled,
            warnings,
            stale: r.stale,
            error: r.error,
            problems: vec![],
            lvm_calls: r.lvm_calls,
            lvm_commands: r.lvm_commands,
            duration_ms: r.duration_ms,
        }
    }

    /// A backend nothing was done for: `problems` when its desired state is rejected.
    pub fn failed(backend: &str, vg: &str, error: String, problems: Vec<Problem>) -> BackendApply {
        BackendApply {
            backend: backend.to_string(),
            volume_group: vg.to_string(),
            state: if problems.is_empty() {
                State::Error
            } else {
                State::Rejected
            },
            vg_planned: vec![],
            vg_done: vec![],
            vg_failed: vec![],
            planned: vec![],
            done: vec![],
            failed: vec![],
            skipped: vec![],
            remaining: vec![],
            export_planned: vec![],
            export_done: vec![],
            export_failed: vec![],
            export_remaining: vec![],
            refused: vec![],
            scheduled: vec![],
            warnings: vec![],
            stale: false,
            error: Some(error),
            problems,
            lvm_calls: 0,
            lvm_commands: 0,
            duration_ms: 0,
        }
    }
}

impl ApplyDoc {
    pub fn new(backends: Vec<BackendApply>, problems: Vec<Problem>, ok: bool) -> ApplyDoc {
        ApplyDoc {
            format: Format::Apply,
            format_version: FORMAT_VERSION,
            ok,
            blocked: backends.iter().any(|b| !b.refused.is_empty()),
            error: None,
            problems,
            backends,
        }
    }

    pub fn failed(f: Failure) -> ApplyDoc {
        ApplyDoc {
            error: Some(f.error),
            ..ApplyDoc::new(vec![], f.problems, false)
        }
    }
}
