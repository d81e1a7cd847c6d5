//! What a worker's loop knows between events, and why a pass runs.

use std::time::Duration;

use tokio::time::Instant;

use super::lvm;
use crate::lvm::vglock::VgLock;
use crate::reconcile;

/// Why a pass runs (the journal's `trigger=`, `ember status`'s "last pass").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Trigger {
    Start,
    DesiredStateChange,
    Reload,
    Reconcile,
    Resync,
    /// A marked volume's grace period ended.
    PruneDue,
    /// The volume group's lock was held by another ember process.
    LockRetry,
    /// The last pass wrote: this one reads the VG again, and plans from what it finds.
    Confirm,
    /// The last pass failed: tried again, less often each time.
    Retry,
}

impl std::fmt::Display for Trigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Trigger::Start => "start",
            Trigger::DesiredStateChange => "desired-state change",
            Trigger::Reload => "reload",
            Trigger::Reconcile => "reconcile",
            Trigger::Resync => "resync",
            Trigger::PruneDue => "prune grace ended",
            Trigger::LockRetry => "lock retry",
            Trigger::Confirm => "confirm",
            Trigger::Retry => "retry",
        })
    }
}

/// What the loop knows between events.
pub(super) struct Loop {
    pub(super) pending: Option<Trigger>,
    /// A one-shot confirmation of deletions for the next pass.
    pub(super) allow_deletions: Option<u32>,
    pub(super) debounce: Option<Instant>,
    /// The changes under this debounce were all renames into place (no half-written file).
    pub(super) replaced: bool,
    /// The next time a pass must run for a marked volume, or to retry the lock.
    pub(super) wake_at: Option<(Instant, Trigger)>,
    pub(super) lock: Option<VgLock>,
    /// A pool check is due (run when no pass is running or pending).
    pub(super) check_due: bool,
    /// The last pool check's error and the last reason the pool cannot grow (each logged when
    /// it changes, not every check).
    pub(super) check_error: Option<String>,
    pub(super) cannot_grow: Option<String>,
    /// No pool check before this (after lvm refused a growth).
    pub(super) check_paused_until: Option<Instant>,
    /// The pool's last growth by this worker (pass or check).
    pub(super) last_growth: Option<crate::status::GrowthRecord>,
    /// lvm for the worker's life (its shell, its memory of the VG).
    pub(super) lvm: Option<lvm::WorkerLvm>,
    /// When the lvm shell is closed if the worker is still idle then.
    pub(super) release_shell_at: Option<Instant>,
    /// What the last pass shown said remains (a confirming read that finds the same is quiet),
    /// and whether it had no error and no failed write.
    pub(super) said: Option<reconcile::Plan>,
    pub(super) said_ok: bool,
    /// How long after the last failed pass the next one runs (doubled at each failure in a
    /// row, up to `resync_interval`); `None` after a pass that went well.
    pub(super) retry_delay: Option<Duration>,
    /// Waiting callers' requests (`ember reconcile --wait`): answered by the next pass to start.
    pub(super) requests: Vec<u64>,
    /// A digest of the volume list sent last (the list is sent again only when it changes).
    pub(super) volumes_sent: Option<u64>,
}

impl Loop {
    pub(super) fn wake(&mut self, at: Instant, why: Trigger) {
        if self.wake_at.is_none_or(|(t, _)| at < t) {
            self.wake_at = Some((at, why));
        }
    }

    /// After a pass: one whose read or plan failed (a read that timed out, a lock held) is
    /// tried again by itself ([`crate::daemon::backoff::retry_delay`]); one that read its VG
    /// ends the series (a write that failed waits for the next resync: a deletion whose clear
    /// went through and whose lvremove failed must not zero the volume again every few
    /// seconds). Returns the delay set.
    pub(super) fn retry_after(&mut self, read_failed: bool, cap: Duration) -> Option<Duration> {
        if !read_failed {
            self.retry_delay = None;
            // (a retry set before this pass is not needed any more)
            if matches!(self.wake_at, Some((_, Trigger::Retry))) {
                self.wake_at = None;
            }
            return None;
        }
        let delay = crate::daemon::backoff::retry_delay(self.retry_delay, cap);
        self.retry_delay = Some(delay);
        self.wake(Instant::now() + delay, Trigger::Retry);
        Some(delay)
    }

    /// The desired state changed: its pass comes next, and it is the edit's (a waiting
    /// confirming read or resync becomes it: it reads all the same).
    pub(super) fn edited(&mut self) {
        if matches!(
            self.pending,
            None | Some(Trigger::Confirm | Trigger::Resync | Trigger::Retry)
        ) {
            self.pending = Some(Trigger::DesiredStateChange);
        }
    }
}
