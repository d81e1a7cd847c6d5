//! Carrying out a plan, in the order the planner gave: deletions, pool, activation, growth,
//! creation. A failed pool step or deletion stops the steps that relied on it (the next pass
//! re-plans from a fresh read); other failures are independent and reported one by one.
//!
//! Half-created thin volumes are mended before anything new is made: see [`mend`].

use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use super::plan::{Action, Plan};

mod clear;
mod vg;
mod write;
use crate::lvm::{LvRef, LvmError, LvmWrite};
use crate::names::{LvName, Tag, VgName};
pub use vg::VgFailure;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcome {
    /// The volume group's own actions done (`volume_group.devices`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vg_done: Vec<super::plan::VgAction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vg_failed: Vec<VgFailure>,
    pub done: Vec<Action>,
    pub failed: Vec<Failure>,
    pub skipped: Vec<Failure>,
    /// The target configuration's actions done, and failed (or skipped).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub export_done: Vec<crate::reconcile::plan::export::ExportAction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub export_failed: Vec<ExportFailure>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ExportFailure {
    pub action: crate::reconcile::plan::export::ExportAction,
    pub error: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Failure {
    pub action: Action,
    pub error: String,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.failed.is_empty()
            && self.skipped.is_empty()
            && self.vg_failed.is_empty()
            && self.export_failed.is_empty()
    }
}

/// How to carry out a plan.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Create thin volumes inactive and activate them together at the end of the pass, a
    /// chunk of volumes per `lvchange` (measured: half the time of one `lvcreate` each; see
    /// docs/benchmarks.md). Only where the pool zeroes new blocks: a thin volume created
    /// inactive is not wiped by lvcreate, and only such a pool guarantees it reads as zeroes.
    pub create_inactive: bool,
    /// The I/O priority a clear before a deletion writes at (`volume_clear_ionice`).
    pub clear_ioprio: Option<crate::lvm::clear::IoPriority>,
}

/// One action of a plan carried out (done, failed or skipped), as `ember apply` shows it while
/// a pass writes and `ember status` counts it (`applying 350/1000`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Actions finished so far, this one included, of `total` (the plan's).
    pub done: usize,
    pub total: usize,
    /// The action's diff line with its result: `... [done]`, `... [FAILED: why]`; while a
    /// volume is cleared before its deletion, how far the clear got.
    pub line: String,
    /// A clear under way (the step is not finished: `done` counts the actions before it).
    pub clearing: Option<Clearing>,
}

/// How far the clear of a volume before its deletion got.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Clearing {
    pub volume: String,
    /// Bytes zeroed so far, of `total`.
    pub done: u64,
    pub total: u64,
}

impl Clearing {
    pub fn percent(&self) -> u64 {
        (self.done.saturating_mul(100))
            .checked_div(self.total)
            .unwrap_or(100)
    }
}

/// No progress to report (`ember plan`-like callers, tests).
pub fn no_progress(_: &Step) {}

/// `stop` is checked between steps: a worker told to stop finishes the lvm command under way,
/// then skips the rest (the next pass, in whatever process, plans again from a fresh read).
pub fn apply(
    lvm: &dyn LvmWrite,
    vg: &VgName,
    plan: &Plan,
    pool: Option<&LvName>,
    opts: Options,
    stop: &AtomicBool,
) -> Outcome {
    apply_with(lvm, vg, plan, pool, opts, stop, &no_progress)
}

/// Reports what was finished since `seen` (done, failed, skipped so far) to `progress`.
fn report_steps(
    out: &Outcome,
    seen: &mut (usize, usize, usize),
    total: usize,
    progress: &dyn Fn(&Step),
) {
    let mut n = seen.0 + seen.1 + seen.2;
    let mut emit = |line: String| {
        n += 1;
        progress(&Step {
            done: n.min(total),
            total,
            line,
            clearing: None,
        });
    };
    for a in &out.done[seen.0..] {
        emit(format!("{}  [done]", a.line()));
    }
    for f in &out.failed[seen.1..] {
        emit(format!("{}  [FAILED: {}]", f.action.line(), f.error));
    }
    for f in &out.skipped[seen.2..] {
        emit(format!("{}  [{}]", f.action.line(), f.error));
    }
    *seen = (out.done.len(), out.failed.len(), out.skipped.len());
}

/// [`apply`], telling `progress` of each action as it is finished.
#[allow(clippy::too_many_arguments)]
pub fn apply_with(
    lvm: &dyn LvmWrite,
    vg: &VgName,
    plan: &Plan,
    pool: Option<&LvName>,
    opts: Options,
    stop: &AtomicBool,
    progress: &dyn Fn(&Step),
) -> Outcome {
    let total = plan.actions.len();
    let mut seen = (0, 0, 0);
    let mut out = Outcome::default();
    vg::apply_vg(lvm, vg, plan, &mut out);
    let mut blocked: Option<String> = (!out.vg_failed.is_empty())
        .then(|| "skipped: a step on the volume group failed; the next pass plans again".into());
    let pass = write::Pass {
        lvm,
        vg,
        plan,
        pool,
        opts,
        stop,
        progress,
    };
    // thin volumes created inactive, to be activated together at the end
    let mut to_activate: Vec<Action> = vec![];
    // volumes whose adoption failed: nothing else of this plan touches them
    let mut not_adopted: Vec<LvName> = vec![];
    // ember's record of its creations under way (on disk): what the read found, then, before
    // the first thin volume is created, the pass's creations too
    let mut on_record = plan.in_flight.clone();
    let mut recorded = false;
    // the VG marked for this backend before its first write (a VG swap is then seen by the
    // other backend); if that fails, nothing else is written either
    let unmarked = plan
        .mark_vg
        .then(|| lvm.tag_vg(vg, &Tag::backend(&plan.backend)).err())
        .flatten()
        .map(|e| format!("skipped: marking volume group {vg} for this backend failed: {e}"));
    let mut i = 0;
    while i < plan.actions.len() {
        report_steps(&out, &mut seen, total, progress);
        let action = &plan.actions[i];
        let skip = why_skipped(action, stop, &unmarked, &not_adopted, &blocked);
        if let Some(why) = skip {
            out.skipped.push(Failure {
                action: action.clone(),
                error: why,
            });
            i += 1;
            continue;
        }
        if let Action::ActivateVolume { .. } = action {
            // the activations come together, before growth and creation: activate them in
            // chunks, then mend what they found before anything new is made
            let end = plan.actions[i..]
                .iter()
                .position(|a| !matches!(a, Action::ActivateVolume { .. }))
                .map_or(plan.actions.len(), |k| i + k);
            let unknown = activate_block(lvm, vg, plan, &plan.actions[i..end], false, &mut out);
            if !unknown.is_empty() {
                mend::mend(lvm, vg, pool, plan, unknown, stop, &mut out);
            }
            i = end;
            continue;
        }
        if !recorded && matches!(action, Action::CreateVolume { thin: true, .. }) {
            recorded = true;
            on_record.extend(mend::creations(plan));
            mend::record_in_flight(lvm, vg, &on_record);
        }
        let step = (seen.0 + seen.1 + seen.2, total);
        let result = write::write(&pass, action, step, &mut to_activate);
        if matches!(action, Action::AdoptVolume { .. }) && result.is_err() {
            not_adopted.push(action.subject().clone());
        }
        // a creation that returned is whole: off the record at once (a volume made early in a
        // long pass may hold data before the pass ends; it must never look cut short)
        if recorded
            && result.is_ok()
            && matches!(action, Action::CreateVolume { thin: true, .. })
            && on_record.contains(action.subject())
        {
            on_record.retain(|n| n != action.subject());
            mend::record_in_flight(lvm, vg, &on_record);
        }
        record(&mut out, &mut blocked, plan, action, result);
        i += 1;
    }
    activate_created(lvm, vg, plan, to_activate, stop, &mut out);
    let still = mend::still_in_flight(&on_record, plan, &out);
    if still != on_record {
        mend::record_in_flight(lvm, vg, &still);
    }
    report_steps(&out, &mut seen, total, progress);
    out
}

/// Activates the thin volumes this pass created inactive, together (their creation is what the
/// pass reports); one the pool does not know is not a crash's doing: reported. When ember is
/// stopping they are left inactive, and the next pass (in whatever process) activates them.
fn activate_created(
    lvm: &dyn LvmWrite,
    vg: &VgName,
    plan: &Plan,
    to_activate: Vec<Action>,
    stop: &AtomicBool,
    out: &mut Outcome,
) {
    if to_activate.is_empty() {
        return;
    }
    if stop.load(Ordering::Relaxed) {
        for action in to_activate {
            out.skipped.push(Failure {
                action,
                error: "skipped: ember is stopping (the next pass activates it)".into(),
            });
        }
        return;
    }
    for (action, _, _, error) in activate_block(lvm, vg, plan, &to_activate, true, out) {
        out.failed.push(Failure { action, error });
    }
}

/// Why `action` is not carried out, if it is not: ember is stopping, the VG could not be
/// marked, an adoption it relies on failed, or an earlier step it relies on did.
fn why_skipped(
    action: &Action,
    stop: &AtomicBool,
    unmarked: &Option<String>,
    not_adopted: &[LvName],
    blocked: &Option<String>,
) -> Option<String> {
    if stop.load(Ordering::Relaxed) {
        Some("skipped: ember is stopping".to_string())
    } else if unmarked.is_some() {
        unmarked.clone()
    } else if not_adopted.contains(action.subject()) {
        Some("skipped: adopting it failed, and ember changes no LV that is not its own".into())
    } else if action.made_from().is_some_and(|f| not_adopted.contains(f)) {
        Some("skipped: adopting its source failed, and ember copies only its own LVs".into())
    } else if action.creates() || matches!(action, Action::ExtendVolume { .. }) {
        blocked.clone()
    } else {
        None
    }
}

/// Activates `block` (all `ActivateVolume`), [`ACTIVATE_CHUNK`] volumes per lvm command; a chunk
/// that fails is retried one volume at a time, to tell which failed and why. Returns the thin
/// volumes whose activation showed that their pool does not know them. `quiet`: successes are
/// not reported (the volumes were just created, and their creation is).
fn activate_block(
    lvm: &dyn LvmWrite,
    vg: &VgName,
    plan: &Plan,
    block: &[Action],
    quiet: bool,
    out: &mut Outcome,
) -> Vec<(Action, LvRef, crate::size::Bytes, String)> {
    let record = |out: &mut Outcome, action: &Action, result: Result<(), LvmError>| {
        if !(quiet && result.is_ok()) {
            record(out, &mut None, plan, action, result);
        }
    };
    let mut unknown = vec![];
    for chunk in block.chunks(crate::lvm::ACTIVATE_CHUNK) {
        let names: Vec<LvName> = chunk.iter().map(|a| a.subject().clone()).collect();
        if chunk.len() > 1 && lvm.activate_many(vg, &names).is_ok() {
            for action in chunk {
                record(out, action, Ok(()));
            }
            continue;
        }
        for action in chunk {
            let result = lvm.activate(vg, action.subject());
            match (&result, action) {
                (
                    Err(e),
                    Action::ActivateVolume {
                        volume,
                        uuid: Some(uuid),
                        size,
                        thin: true,
                    },
                ) if e.unknown_to_pool() => {
                    let lv = LvRef::new(volume, uuid);
                    unknown.push((action.clone(), lv, *size, e.to_string()));
                }
                _ => record(out, action, result),
            }
        }
    }
    unknown
}

mod mend;

fn record(
    out: &mut Outcome,
    blocked: &mut Option<String>,
    plan: &Plan,
    action: &Action,
    result: Result<(), crate::lvm::LvmError>,
) {
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
                    | Action::ExtendPoolMetadata { .. }
                    | Action::DeleteVolume { .. }
            ) {
                *blocked = Some(format!(
                    "skipped: an earlier step failed ({} {}); the next pass plans again",
                    action.verb(),
                    action.subject()
                ));
            } else if (matches!(action, Action::CreateVolume { thin: true, .. })
                || action.made_from().is_some())
                && e.pool_refuses_new_volumes()
            {
                // found by the benchmark: 356 more creations, each refused the same way
                *blocked = Some(format!(
                    "skipped: lvm refused {} because the thin pool's free space reached its threshold; grow the pool (thin_pool size) or its metadata (lvextend --poolmetadatasize)",
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

#[cfg(test)]
mod tests;
