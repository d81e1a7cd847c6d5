//! One pass of a worker: taking the volume group's lock, running the pass on the blocking
//! thread, and what follows it (the next prune deadline, the journal, the memory).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use tokio::time::Instant;

use super::{Done, Inputs, Loop, Trigger};
use crate::cli::Global;
use crate::daemon::ipc::ToSupervisor;
use crate::desired::Digest;
use crate::lvm::vglock::{Holder, LockError, VgLock};
use crate::reconcile::{self, Policy};
use crate::status::{GrowthRecord, PassSummary, PoolStatus};

/// How often a pass tells the supervisor how far it got (and the last action always).
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// Sends a pass's progress to the supervisor, at most every [`PROGRESS_EVERY`].
fn progress_sender(
    out: tokio::sync::mpsc::UnboundedSender<ToSupervisor>,
) -> impl Fn(&reconcile::Step) + Send {
    let last = std::sync::Mutex::new(None::<std::time::Instant>);
    move |s: &reconcile::Step| {
        let Ok(mut last) = last.lock() else {
            return;
        };
        let due = last.is_none_or(|t| t.elapsed() >= PROGRESS_EVERY);
        if due || s.done == s.total {
            *last = Some(std::time::Instant::now());
            let _ = out.send(ToSupervisor::Progress {
                done: s.done,
                total: s.total,
                clearing: s.clearing.clone(),
            });
        }
    }
}

/// Takes the volume group's lock (once; held for the worker's life) and starts a pass on the
/// blocking thread. `Err` when another ember process holds the lock (retried after
/// `LOCK_RETRY`).
pub(super) fn start_pass(
    g: &Global,
    name: &str,
    inputs: &Inputs,
    lp: &mut Loop,
    trigger: Trigger,
    stop: &Arc<AtomicBool>,
    out: tokio::sync::mpsc::UnboundedSender<ToSupervisor>,
) -> Result<tokio::task::JoinHandle<Done>, String> {
    let backend = inputs.backend.clone();
    if lp.lock.is_none() {
        let vg = crate::names::VgName::new(&backend.volume_group).ok();
        let who = Holder::Daemon {
            backend: name.to_string(),
        };
        match vg.map(|vg| VgLock::acquire(&g.lvm, &vg, &who, Duration::ZERO)) {
            Some(Ok(l)) => lp.lock = Some(l),
            Some(Err(e)) => {
                return Err(format!(
                    "volume group {} is not touched by this daemon: {}",
                    backend.volume_group,
                    lock_text(&e)
                ));
            }
            // an invalid VG name: the pass reports it
            None => {}
        }
    }
    let desired = inputs.desired.clone();
    let settings = inputs.config.ember.clone();
    let (writer, recall) = super::lvm::handle(&mut lp.lvm, g, &backend, &settings);
    let mut policy = Policy::new(&settings, crate::status::unix_now());
    if let Some(n) = lp.allow_deletions.take() {
        policy.max_deletions_per_pass = policy.max_deletions_per_pass.max(n);
        policy.confirmed = true;
        tracing::warn!(
            backend = name,
            "this pass may delete up to {n} volume(s) (confirmed with ember reconcile --allow-deletions)"
        );
    }
    let path = inputs.desired_path.clone();
    let digest = inputs.digest;
    let stop = stop.clone();
    tracing::debug!(backend = name, trigger = %trigger, "pass starting");
    let progress = progress_sender(out);
    Ok(tokio::task::spawn_blocking(move || {
        let unchanged = || digest.is_some() && Digest::of_file(&path) == digest;
        // the pass reads again in a pass of its own right after it wrote (Confirm::Later):
        // what it reports comes from lvm's answers to its writes; that confirming pass, if it
        // writes too, reads at once (no chain of passes, whatever lvm keeps answering)
        let confirm = match trigger {
            Trigger::Confirm => reconcile::Confirm::Now,
            _ => reconcile::Confirm::Later,
        };
        let (mut report, shell_started) = super::lvm::with(&writer, &recall, |lvm| {
            reconcile::converge_with(
                &backend,
                desired.as_ref(),
                lvm,
                &policy,
                &stop,
                &unchanged,
                &progress,
                confirm,
            )
        });
        report.lvm_calls += shell_started;
        Done::Pass(Box::new(report))
    }))
}

/// A lock refusal as a daemon reports it (the lock's own text speaks to `ember apply`).
fn lock_text(e: &LockError) -> String {
    match e {
        LockError::Daemon { pid, backend, .. } => format!(
            "another ember daemon (pid {pid}, backend {backend}) manages it; one daemon per volume group"
        ),
        LockError::Apply { pid, .. } => format!("`ember apply` (pid {pid}) is writing it"),
        LockError::Io { .. } => e.to_string(),
    }
}

/// Arms the timer for the next marked volume's deletion.
pub(super) fn after_pass(report: &reconcile::PassReport, lp: &mut Loop) {
    let next = report
        .remaining
        .as_ref()
        .or(report.plan.as_ref())
        .and_then(|p| p.next_deletion_at());
    if let Some(at) = next {
        let secs = at.saturating_sub(crate::status::unix_now()) + 1;
        lp.wake(
            Instant::now() + Duration::from_secs(secs),
            Trigger::PruneDue,
        );
    }
}

/// The pool as the pass left it, with the last growth any pass or check made.
pub(super) fn pool_status(
    inputs: &Inputs,
    lp: &mut Loop,
    report: &reconcile::PassReport,
) -> Option<PoolStatus> {
    let now = crate::status::unix_now();
    if let Some(g) = report
        .outcome
        .as_ref()
        .and_then(|o| GrowthRecord::last_of(o, now))
    {
        lp.last_growth = Some(g);
    }
    let spec = inputs.desired.as_ref().and_then(|d| d.thin_pool.as_ref());
    let plan = report.remaining.as_ref().or(report.plan.as_ref());
    let mut status = PoolStatus::of(
        &inputs.backend.pool_name(),
        spec,
        report.observed.as_ref()?,
        plan,
        now,
    )?;
    lp.cannot_grow = status.cannot_grow.clone();
    status.last_growth = lp.last_growth.clone();
    Some(status)
}

pub(super) fn log_pass(name: &str, s: &PassSummary) {
    if let Some(e) = &s.error {
        tracing::error!(backend = name, trigger = %s.trigger, "pass failed: {e}");
    }
    for r in &s.refused {
        tracing::warn!(backend = name, trigger = %s.trigger, "refused {r}");
    }
    for w in &s.warnings {
        tracing::warn!(backend = name, trigger = %s.trigger, "{w}");
    }
    tracing::info!(backend = name, trigger = %s.trigger, lvm_calls = s.lvm_calls, lvm_commands = s.lvm_commands,
        duration_ms = s.duration_ms,
        "pass ({}): {} done, {} failed, {} refused, {} pending; {}, {} ms",
        s.trigger, s.done.len(), s.failed.len(), s.refused.len(), s.pending,
        crate::status::lvm_cost(s.lvm_calls, s.lvm_commands), s.duration_ms);
}
