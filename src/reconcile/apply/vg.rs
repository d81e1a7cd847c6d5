//! The volume group's own actions (`volume_group.devices`), before anything in it: each
//! device probed again right before it is written (a device may have changed since the plan:
//! a filesystem made on it, another disk under its path), and nothing written unless every
//! device of the action is still the blank device planned.

use std::path::PathBuf;

use serde::Serialize;

use super::Outcome;
use crate::lvm::{LvmError, LvmWrite};
use crate::names::{Tag, VgName};
use crate::reconcile::plan::vg::PlannedDevice;
use crate::reconcile::plan::{Plan, VgAction};

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct VgFailure {
    pub action: VgAction,
    pub error: String,
}

/// Carries out the plan's VG actions in order; the first that fails stops the rest.
pub(super) fn apply_vg(lvm: &dyn LvmWrite, vg: &VgName, plan: &Plan, out: &mut Outcome) {
    for action in &plan.vg_actions {
        if !out.vg_failed.is_empty() {
            out.vg_failed.push(VgFailure {
                action: action.clone(),
                error: "skipped: an earlier step on the volume group failed".into(),
            });
            continue;
        }
        match write(lvm, vg, plan, action) {
            Ok(()) => {
                tracing::info!(backend = %plan.backend, action = action.verb(), "{}", action.line());
                out.vg_done.push(action.clone());
            }
            Err(e) => {
                tracing::error!(backend = %plan.backend, action = action.verb(), error = %e, "{} failed: {e}", action.line());
                out.vg_failed.push(VgFailure {
                    action: action.clone(),
                    error: e.to_string(),
                });
            }
        }
    }
}

fn write(lvm: &dyn LvmWrite, vg: &VgName, plan: &Plan, action: &VgAction) -> Result<(), LvmError> {
    let blank = !matches!(action, VgAction::ResizePv { .. });
    let nodes = action
        .devices()
        .into_iter()
        .map(|d| still_as_planned(lvm, d, blank))
        .collect::<Result<Vec<PathBuf>, LvmError>>()?;
    match action {
        VgAction::CreateVg { metadata_area, .. } => {
            lvm.create_vg(vg, &nodes, *metadata_area, &[Tag::backend(&plan.backend)])
        }
        VgAction::ExtendVg { metadata_area, .. } => lvm.extend_vg(vg, &nodes, *metadata_area),
        VgAction::ResizePv { .. } => match nodes.first() {
            Some(node) => lvm.resize_pv(vg, node),
            None => Ok(()),
        },
    }
}

/// The device probed again: the same device number and node as planned, and (to be made a
/// PV) still blank. What lvm is given is the node probed.
fn still_as_planned(
    lvm: &dyn LvmWrite,
    d: &PlannedDevice,
    blank: bool,
) -> Result<PathBuf, LvmError> {
    let now = lvm.probe(&d.path);
    let err = |detail: String| LvmError::Device {
        device: d.path.display().to_string(),
        detail,
    };
    if now.dev != d.dev || now.node != d.node {
        return Err(err(format!(
            "is no longer the device planned ({} then, {} now)",
            d.node.display(),
            now.node.display()
        )));
    }
    if blank && !now.is_blank() {
        return Err(err(format!(
            "changed since the plan: it {}",
            now.found.join("; ")
        )));
    }
    Ok(now.node)
}
