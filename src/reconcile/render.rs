//! Plans as operators read them: a diff.
//!
//! ```text
//! backend lvm-1 (volume group cinder-volumes):
//!   + create thin pool cinder-volumes-pool 9.5 GiB
//!   + create volume volume-1 10.0 GiB (thin)
//!   ~ extend volume volume-2 10.0 GiB -> 20.0 GiB
//!   - delete volume scratch 1.0 TiB (state: absent)
//!   ! refused volume-3: is 20.0 GiB, the desired state says 10.0 GiB: ember never shrinks
//! ```

use std::fmt::Write;

use super::plan::{Action, DeleteReason, Plan};

impl Action {
    pub fn verb(&self) -> &'static str {
        match self {
            Action::CreatePool { .. } => "create_pool",
            Action::ExtendPool { .. } => "extend_pool",
            Action::CreateVolume { .. } => "create_volume",
            Action::ExtendVolume { .. } => "extend_volume",
            Action::DeleteVolume { .. } => "delete_volume",
            Action::ActivateVolume { .. } => "activate_volume",
            Action::RecreateVolume { .. } => "recreate_volume",
        }
    }

    /// One diff line, without indentation.
    pub fn line(&self) -> String {
        match self {
            Action::CreatePool { pool, size } => format!("+ create thin pool {pool} {size}"),
            Action::ExtendPool { pool, from, to } => {
                format!("~ extend thin pool {pool} {from} -> {to}")
            }
            Action::CreateVolume { volume, size, thin } => format!(
                "+ create volume {volume} {size} ({})",
                if *thin { "thin" } else { "thick" }
            ),
            Action::ExtendVolume { volume, from, to } => {
                format!("~ extend volume {volume} {from} -> {to}")
            }
            Action::DeleteVolume {
                volume,
                size,
                reason,
            } => format!(
                "- delete volume {volume} {size} ({})",
                match reason {
                    DeleteReason::Absent => "state: absent",
                    DeleteReason::Prune => "not declared, prune: true",
                }
            ),
            Action::ActivateVolume { volume, size, .. } => {
                format!("~ activate volume {volume} {size} (inactive)")
            }
            Action::RecreateVolume { volume, size } => format!(
                "+ recreate volume {volume} {size} (half-created: its thin pool has no such device, so it held no data)"
            ),
        }
    }
}

pub fn plan_text(plan: &Plan) -> String {
    let mut s = format!(
        "backend {} (volume group {}):\n",
        plan.backend, plan.volume_group
    );
    for a in &plan.actions {
        let _ = writeln!(s, "  {}", a.line());
    }
    for r in &plan.refused {
        let _ = writeln!(s, "  ! refused {}: {}", r.subject, r.reason);
    }
    if plan.actions.is_empty() {
        s.push_str("  No changes.\n");
    }
    s
}
