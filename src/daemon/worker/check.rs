//! The worker's pool check (between passes, every `pool_check_interval`): one read of the
//! pool, and autoextend's growth when usage reached the threshold. It runs on the same
//! blocking thread as passes, so it never overlaps a pass or another write of this worker;
//! it needs the volume group's lock, which the worker holds once its first pass took it.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::{Done, Inputs, Loop};
use crate::cli::Global;
use crate::reconcile::check::{PoolCheck, check_pool};
use crate::status::{GrowthRecord, PoolStatus};

/// Starts a check, unless the worker does not hold its volume group's lock yet.
pub(super) fn start_check(
    g: &Global,
    inputs: &Inputs,
    lp: &mut Loop,
    stop: &Arc<AtomicBool>,
) -> Option<tokio::task::JoinHandle<Done>> {
    lp.lock.as_ref()?;
    if lp
        .check_paused_until
        .is_some_and(|t| tokio::time::Instant::now() < t)
    {
        return None;
    }
    let backend = inputs.backend.clone();
    let desired = inputs.desired.clone();
    let settings = inputs.config.ember.clone();
    let (writer, recall) = super::lvm::handle(&mut lp.lvm, g, &backend, &settings);
    let stop = stop.clone();
    Some(tokio::task::spawn_blocking(move || {
        let (check, _) = super::lvm::with(&writer, &recall, |lvm| {
            check_pool(
                &backend,
                desired.as_ref(),
                lvm,
                crate::status::unix_now(),
                &stop,
            )
        });
        Done::Check(Box::new(check))
    }))
}

/// What a check leaves: the journal (a growth, or a change in what stops the pool growing),
/// and the pool's status.
pub(super) fn after_check(
    name: &str,
    inputs: &Inputs,
    lp: &mut Loop,
    c: &PoolCheck,
) -> Option<PoolStatus> {
    let now = crate::status::unix_now();
    if let Some(e) = &c.error
        && lp.check_error.as_ref() != Some(e)
    {
        tracing::warn!(backend = name, "pool check: {e}");
    }
    lp.check_error = c.error.clone();
    if let Some(o) = &c.outcome {
        // (apply logged the failure) a growth lvm refused is not retried by every check: the
        // next pass tries again, or a check after the pause
        if !o.failed.is_empty() {
            lp.check_paused_until = Some(tokio::time::Instant::now() + CHECK_PAUSE);
            tracing::warn!(
                backend = name,
                "pool checks paused for {} s after a failed growth",
                CHECK_PAUSE.as_secs()
            );
        }
        if let Some(g) = GrowthRecord::last_of(o, now) {
            lp.last_growth = Some(g);
        }
    }
    let spec = inputs.desired.as_ref().and_then(|d| d.thin_pool.as_ref());
    let o = c.observed.as_ref()?;
    let mut status = PoolStatus::of(&inputs.backend.pool_name(), spec, o, c.plan.as_ref(), now)?;
    // logged when the reason changes, not when its figures do (a pool at its cap filling from
    // 85 % to 100 % is one warning)
    if status.cannot_grow.as_deref().map(reason) != lp.cannot_grow.as_deref().map(reason) {
        match &status.cannot_grow {
            Some(w) => tracing::warn!(backend = name, "{w}"),
            None if lp.cannot_grow.is_some() => {
                tracing::info!(backend = name, "thin pool {} can grow again", status.name)
            }
            None => {}
        }
        lp.cannot_grow = status.cannot_grow.clone();
    }
    status.last_growth = lp.last_growth.clone();
    Some(status)
}

/// How long checks pause after lvm refused a growth.
const CHECK_PAUSE: std::time::Duration = std::time::Duration::from_secs(60);

/// A reason without its figures.
fn reason(why: &str) -> String {
    why.chars()
        .filter(|c| !c.is_ascii_digit() && *c != '.')
        .collect()
}
