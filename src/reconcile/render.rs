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

use super::plan::{Action, DeleteReason, Growth, Plan, Scheduled, UnmarkReason};

impl Action {
    pub fn verb(&self) -> &'static str {
        match self {
            Action::CreatePool { .. } => "create_pool",
            Action::ExtendPool { .. } => "extend_pool",
            Action::ExtendPoolMetadata { .. } => "extend_pool_metadata",
            Action::CreateVolume { .. } => "create_volume",
            Action::ExtendVolume { .. } => "extend_volume",
            Action::DeleteVolume { .. } => "delete_volume",
            Action::ActivateVolume { .. } => "activate_volume",
            Action::RecreateVolume { .. } => "recreate_volume",
            Action::ClaimVolume { .. } => "claim_volume",
            Action::AdoptVolume { .. } => "adopt_volume",
            Action::MarkVolume { .. } => "mark_volume",
            Action::UnmarkVolume { .. } => "unmark_volume",
        }
    }

    /// One diff line, without indentation.
    pub fn line(&self) -> String {
        match self {
            Action::CreatePool {
                pool,
                size,
                metadata,
                chunk,
            } => format!("+ create thin pool {pool} {size} (metadata {metadata}, chunk {chunk})"),
            Action::ExtendPool {
                pool,
                from,
                to,
                growth,
            } => match growth {
                Growth::Declared => format!("~ extend thin pool {pool} {from} -> {to}"),
                g => format!("~ grow thin pool {pool} data {from} -> {to} ({})", why(g)),
            },
            Action::ExtendPoolMetadata {
                pool,
                from,
                to,
                growth,
            } => match growth {
                Growth::Declared => {
                    format!("~ extend thin pool {pool} metadata {from} -> {to} (metadata_size)")
                }
                g => format!(
                    "~ grow thin pool {pool} metadata {from} -> {to} ({})",
                    why(g)
                ),
            },
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
            Action::AdoptVolume { volume, size, thin } => format!(
                "+ adopt volume {volume} {size} ({})",
                if *thin { "thin" } else { "thick" }
            ),
            Action::ClaimVolume { volume, size } => format!(
                "~ tag volume {volume} {size} with its backend (made by an ember from before backend tags)"
            ),
            Action::MarkVolume {
                volume,
                size,
                since,
                delete_at,
            } => format!(
                "~ mark volume {volume} {size} (not declared, prune: true): deleted {} unless declared again",
                after(*delete_at, *since)
            ),
            Action::UnmarkVolume {
                volume,
                size,
                reason,
                ..
            } => format!(
                "~ unmark volume {volume} {size} ({}): kept",
                match reason {
                    UnmarkReason::Declared => "declared again",
                    UnmarkReason::PruneOff => "prune is off",
                    UnmarkReason::FutureMark =>
                        "its mark was dated in the future; marked again from now",
                }
            ),
        }
    }
}

/// Why autoextend grows: `usage 82% >= 80%`.
fn why(g: &Growth) -> String {
    match g {
        Growth::Declared => "declared".into(),
        Growth::Usage { percent, threshold } => format!("usage {percent:.0}% >= {threshold}%"),
        Growth::OutOfData => "lvm marks it out of data space: grown at once".into(),
    }
}

/// `in 8 min`, `in 45 s`, `in 2 h 5 min`; `now` once due.
pub fn after(at: u64, now: u64) -> String {
    let s = at.saturating_sub(now);
    match s {
        0 => "now".into(),
        1..=119 => format!("in {s} s"),
        120..=7199 => format!("in {} min", s.div_ceil(60)),
        _ => format!("in {} h {} min", s / 3600, (s % 3600).div_ceil(60)),
    }
}

impl Scheduled {
    /// The diff line of a marked volume waiting for its grace period to end.
    pub fn line(&self, now: u64) -> String {
        format!(
            "- delete volume {} {} (not declared, prune: true) {}",
            self.volume,
            crate::size::Bytes(self.size),
            after(self.delete_at, now)
        )
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
    for d in &plan.scheduled {
        let _ = writeln!(s, "  {}", d.line(plan.planned_at));
    }
    for r in &plan.refused {
        let _ = writeln!(s, "  ! refused {}: {}", r.subject, r.reason);
    }
    for w in &plan.warnings {
        let _ = writeln!(s, "  warning: {}", w.message);
    }
    if plan.actions.is_empty() {
        s.push_str("  No changes.\n");
    }
    s
}
