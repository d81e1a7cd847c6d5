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
use crate::desired::Source;

mod export;
pub mod summary;

impl Action {
    pub fn verb(&self) -> &'static str {
        match self {
            Action::CreatePool { .. } => "create_pool",
            Action::ExtendPool { .. } => "extend_pool",
            Action::ExtendPoolMetadata { .. } => "extend_pool_metadata",
            Action::CreateVolume { .. } => "create_volume",
            Action::ExtendVolume { .. } => "extend_volume",
            Action::CreateSnapshot { .. } => "create_snapshot",
            Action::CreateFromSource {
                source: Source::Volume(_),
                ..
            } => "clone_volume",
            Action::CreateFromSource { .. } => "create_volume_from_snapshot",
            Action::DeleteVolume { volume, .. } if volume.is_snapshot_name() => "delete_snapshot",
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
                ..
            } => match growth {
                Growth::Declared => format!("~ extend thin pool {pool} {from} -> {to}"),
                g => format!("~ grow thin pool {pool} data {from} -> {to} ({})", why(g)),
            },
            Action::ExtendPoolMetadata {
                pool,
                from,
                to,
                growth,
                ..
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
            Action::ExtendVolume {
                volume, from, to, ..
            } => {
                format!("~ extend volume {volume} {from} -> {to}")
            }
            Action::CreateSnapshot {
                snapshot, origin, ..
            } => format!("+ create snapshot {snapshot} of {origin}"),
            Action::CreateFromSource {
                volume,
                size,
                source: Source::Snapshot(s),
                ..
            } => format!("+ create volume {volume} {size} from snapshot {s}"),
            Action::CreateFromSource {
                volume,
                size,
                source: Source::Volume(s),
                source_size,
            } if size > source_size => {
                format!("+ clone volume {volume} from {s}, extended {source_size} -> {size}")
            }
            Action::CreateFromSource {
                volume,
                source: Source::Volume(s),
                ..
            } => format!("+ clone volume {volume} from {s}"),
            Action::DeleteVolume {
                volume,
                size,
                reason,
                snapshots,
                clear,
                ..
            } => format!(
                "- delete {} {volume} {size} ({}{}{})",
                volume.noun(),
                match reason {
                    DeleteReason::Absent => "state: absent",
                    DeleteReason::Prune => "not declared, prune: true",
                    DeleteReason::Resume =>
                        "its clear was cut short (tag ember-clearing): cleared again and removed",
                },
                cleared(clear.as_ref(), *size),
                stay(snapshots)
            ),
            Action::ActivateVolume { volume, size, .. } => {
                format!("~ activate volume {volume} {size} (inactive)")
            }
            Action::RecreateVolume { volume, size, .. } => format!(
                "+ recreate volume {volume} {size} (half-created: its thin pool has no such device, so it held no data)"
            ),
            Action::AdoptVolume {
                volume, size, thin, ..
            } => format!(
                "+ adopt {} {volume} {size} ({})",
                volume.noun(),
                if *thin { "thin" } else { "thick" }
            ),
            Action::ClaimVolume { volume, size, .. } => format!(
                "~ tag volume {volume} {size} with its backend (made by an ember from before backend tags)"
            ),
            Action::MarkVolume {
                volume,
                size,
                since,
                delete_at,
                ..
            } => format!(
                "~ mark {} {volume} {size} (not declared, prune: true): deleted {} unless declared again",
                volume.noun(),
                after(*delete_at, *since)
            ),
            Action::UnmarkVolume {
                volume,
                size,
                reason,
                ..
            } => format!(
                "~ unmark {} {volume} {size} ({}): kept",
                volume.noun(),
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

/// `; cleared first: zero, 1.0 GiB` (or `the first 1.0 MiB`), or nothing.
fn cleared(clear: Option<&super::plan::Clear>, size: crate::size::Bytes) -> String {
    match clear {
        None => String::new(),
        Some(c) if c.bytes < size => {
            format!("; cleared first: {}, the first {}", c.method, c.bytes)
        }
        Some(c) => format!("; cleared first: {}, {}", c.method, c.bytes),
    }
}

/// `; its snapshots _snapshot-1, _snapshot-2 stay`, or nothing.
fn stay(snapshots: &[crate::names::LvName]) -> String {
    if snapshots.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = snapshots.iter().map(|s| s.as_str()).collect();
    format!(
        "; its snapshot{} {} stay{} (thin snapshots do not need their origin)",
        if names.len() == 1 { "" } else { "s" },
        names.join(", "),
        if names.len() == 1 { "s" } else { "" }
    )
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
            "- delete {} {} {} (not declared, prune: true) {}",
            crate::names::noun(&self.volume),
            self.volume,
            crate::size::Bytes(self.size),
            after(self.delete_at, now)
        )
    }
}

/// `! refused NAME: reason`, one line each; the deletion cap's refusals, the same sentence for
/// every volume, share one line (`! refused a, b, c: 3 deletions planned, ...`).
pub fn refusal_lines(refused: &[super::plan::Refusal]) -> Vec<String> {
    let mut groups: Vec<(&str, Vec<&str>)> = vec![];
    for r in refused {
        let shared = r.kind == super::plan::RefusalKind::DeletionCap;
        match groups
            .iter_mut()
            .find(|(reason, _)| shared && *reason == r.reason)
        {
            Some((_, subjects)) => subjects.push(&r.subject),
            None => groups.push((&r.reason, vec![&r.subject])),
        }
    }
    groups
        .into_iter()
        .map(|(reason, subjects)| format!("! refused {}: {reason}", subjects.join(", ")))
        .collect()
}

pub fn plan_text(plan: &Plan) -> String {
    let mut s = format!(
        "backend {} (volume group {}):\n",
        plan.backend, plan.volume_group
    );
    if plan.mark_vg {
        let _ = writeln!(
            s,
            "  ~ mark volume group {} as backend {}'s (VG tag {})",
            plan.volume_group,
            plan.backend,
            crate::names::Tag::backend(&plan.backend)
        );
    }
    for a in &plan.vg_actions {
        let _ = writeln!(s, "  {}", a.line());
    }
    // in the order they are done: removals of exports, the volumes, then exports
    for a in plan.export_actions.iter().filter(|a| a.is_removal()) {
        let _ = writeln!(s, "  {}", a.line());
    }
    for a in &plan.actions {
        let _ = writeln!(s, "  {}", a.line());
    }
    for a in plan.export_actions.iter().filter(|a| !a.is_removal()) {
        let _ = writeln!(s, "  {}", a.line());
    }
    for d in &plan.scheduled {
        let _ = writeln!(s, "  {}", d.line(plan.planned_at));
    }
    for line in refusal_lines(&plan.refused) {
        let _ = writeln!(s, "  {line}");
    }
    for w in &plan.warnings {
        let _ = writeln!(s, "  warning: {}", w.message);
    }
    if plan.has_changes() || !plan.refused.is_empty() {
        let _ = writeln!(s, "  Plan: {}.", summary::Counts::of(plan));
    }
    match (!plan.has_changes(), plan.refused.len()) {
        (true, 0) => s.push_str("  No changes.\n"),
        (_, 0) => {}
        (true, n) => {
            let _ = writeln!(s, "  Blocked: {n} refused, nothing else to do.");
        }
        (false, n) => {
            let _ = writeln!(
                s,
                "  Blocked: {n} refused; the changes above do not reach the desired state."
            );
        }
    }
    s
}

#[cfg(test)]
mod tests;
