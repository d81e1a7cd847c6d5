//! `ember plan --json`.

use schemars::JsonSchema;
use serde::Serialize;

use super::{FORMAT_VERSION, Failure, State};
use crate::problem::Problem;
use crate::reconcile::plan::export::ExportAction;
use crate::reconcile::plan::{Action, Plan, Refusal, Scheduled, VgAction, Warning};
use crate::reconcile::render::summary::Counts;

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
enum Format {
    #[serde(rename = "ember-plan")]
    Plan,
}

/// What `ember plan --json` prints: per backend, what a pass would do now.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "ember plan --json")]
pub struct PlanDoc {
    /// Always `ember-plan`.
    format: Format,
    /// The format's version: 1.
    format_version: u32,
    /// Every backend asked for was planned (exit status 0, 2 or 3 rather than 1).
    pub ok: bool,
    /// Some backend has changes to make.
    pub changes_pending: bool,
    /// Some backend's desired state is refused in part: it is not reached, whatever is applied.
    pub blocked: bool,
    /// Why nothing was planned (cinder.conf invalid, no such backend, not root); null otherwise.
    pub error: Option<String>,
    /// What is wrong in cinder.conf or the desired state, with file and line.
    pub problems: Vec<Problem>,
    pub backends: Vec<BackendPlan>,
    /// The backends' counts added up.
    pub counts: Counts,
}

/// One backend's plan. Every field is there whatever the state (empty lists when it has no plan).
#[derive(Debug, Serialize, JsonSchema)]
pub struct BackendPlan {
    pub backend: String,
    pub volume_group: String,
    /// converged: nothing to do; pending: changes planned; blocked: something refused;
    /// error: the VG could not be read; rejected: its desired state is invalid.
    pub state: State,
    /// When the plan was made (Unix seconds); null when there is no plan.
    pub planned_at: Option<u64>,
    /// The VG gets this backend's tag before the first write.
    pub mark_vg: bool,
    /// What is done to the volume group itself (`volume_group.devices`): created, extended,
    /// a PV resized; before the actions.
    pub vg_actions: Vec<VgAction>,
    pub actions: Vec<Action>,
    /// What is done to the kernel's target configuration (exports, attached and detached
    /// hosts, unexports): the removals before `actions`, the rest after them.
    pub export_actions: Vec<ExportAction>,
    pub refused: Vec<Refusal>,
    /// Marked volumes whose deletion waits for the end of their grace period.
    pub scheduled: Vec<Scheduled>,
    pub warnings: Vec<Warning>,
    pub counts: Counts,
    /// Why the backend could not be planned; null otherwise.
    pub error: Option<String>,
    /// The problems that reject its part of the desired state.
    pub problems: Vec<Problem>,
    /// The plan itself, for the text output.
    #[serde(skip)]
    #[schemars(skip)]
    pub plan: Option<Plan>,
}

impl BackendPlan {
    pub fn of(plan: Plan) -> BackendPlan {
        let p = plan.clone();
        let state = if !plan.refused.is_empty() {
            State::Blocked
        } else if plan.has_changes() {
            State::Pending
        } else {
            State::Converged
        };
        BackendPlan {
            counts: Counts::of(&plan),
            backend: plan.backend,
            volume_group: plan.volume_group,
            state,
            planned_at: Some(plan.planned_at),
            mark_vg: plan.mark_vg,
            vg_actions: plan.vg_actions,
            actions: plan.actions,
            export_actions: plan.export_actions,
            refused: plan.refused,
            scheduled: plan.scheduled,
            warnings: plan.warnings,
            error: None,
            problems: vec![],
            plan: Some(p),
        }
    }

    /// A backend that could not be planned: `problems` when its desired state is rejected.
    pub fn failed(backend: &str, vg: &str, error: String, problems: Vec<Problem>) -> BackendPlan {
        BackendPlan {
            backend: backend.to_string(),
            volume_group: vg.to_string(),
            state: if problems.is_empty() {
                State::Error
            } else {
                State::Rejected
            },
            planned_at: None,
            mark_vg: false,
            vg_actions: vec![],
            actions: vec![],
            export_actions: vec![],
            refused: vec![],
            scheduled: vec![],
            warnings: vec![],
            counts: Counts::default(),
            error: Some(error),
            problems,
            plan: None,
        }
    }
}

impl PlanDoc {
    pub fn new(backends: Vec<BackendPlan>, problems: Vec<Problem>, ok: bool) -> PlanDoc {
        PlanDoc {
            format: Format::Plan,
            format_version: FORMAT_VERSION,
            ok: ok && backends.iter().all(|b| b.error.is_none()),
            changes_pending: backends.iter().any(|b| {
                !b.actions.is_empty() || !b.vg_actions.is_empty() || !b.export_actions.is_empty()
            }),
            blocked: backends.iter().any(|b| !b.refused.is_empty()),
            error: None,
            problems,
            counts: backends.iter().fold(Counts::default(), |a, b| a + b.counts),
            backends,
        }
    }

    pub fn failed(f: Failure) -> PlanDoc {
        PlanDoc {
            error: Some(f.error),
            ok: false,
            ..PlanDoc::new(vec![], f.problems, false)
        }
    }
}
