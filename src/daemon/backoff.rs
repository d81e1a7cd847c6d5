//! When a worker that died is started again: oslo.service restarts a dead child at most once a
//! second; ember starts there and doubles up to a minute while the worker keeps dying. And
//! when a pass that failed runs again.

use std::time::Duration;

pub const BACKOFF_MIN: Duration = Duration::from_secs(1);
pub const BACKOFF_MAX: Duration = Duration::from_secs(60);
/// A worker that ran this long without dying is healthy again: its backoff resets.
pub const HEALTHY_AFTER: Duration = Duration::from_secs(60);

/// The failures counted once a worker that ran for `ran_for` exited unexpectedly.
pub fn failures_after(previous: u32, ran_for: Duration) -> u32 {
    if ran_for >= HEALTHY_AFTER {
        1
    } else {
        previous.saturating_add(1)
    }
}

/// How long to wait before the restart that follows `failures` unexpected exits in a row.
pub fn restart_delay(failures: u32) -> Duration {
    BACKOFF_MIN
        .saturating_mul(1 << failures.max(1).saturating_sub(1).min(6))
        .min(BACKOFF_MAX)
}

/// How soon a failed pass is first tried again (a read that timed out on a loaded host, a
/// lock another tool held): soon, and then less and less often.
pub const FIRST_RETRY: Duration = Duration::from_secs(5);

/// The delay before the pass that follows a failed one: [`FIRST_RETRY`] after a pass that
/// went well, twice the `previous` delay after one that failed too, never more than `cap`.
pub fn retry_delay(previous: Option<Duration>, cap: Duration) -> Duration {
    previous
        .map_or(FIRST_RETRY, |d| d.saturating_mul(2))
        .min(cap)
}

#[cfg(test)]
mod tests;
