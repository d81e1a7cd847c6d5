use super::*;

#[test]
fn the_delay_starts_at_a_second_and_doubles_up_to_a_minute() {
    let secs: Vec<u64> = (1..=9).map(|f| restart_delay(f).as_secs()).collect();
    assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    assert_eq!(restart_delay(0), BACKOFF_MIN);
    assert_eq!(restart_delay(u32::MAX), BACKOFF_MAX);
}

#[test]
fn a_worker_that_ran_a_minute_starts_over() {
    assert_eq!(failures_after(5, Duration::from_secs(3)), 6);
    assert_eq!(failures_after(5, HEALTHY_AFTER), 1);
    assert_eq!(failures_after(0, Duration::ZERO), 1);
    assert_eq!(failures_after(u32::MAX, Duration::ZERO), u32::MAX);
}

#[test]
fn a_failed_pass_runs_again_after_5_s_then_twice_as_late_up_to_the_resync_interval() {
    let cap = Duration::from_secs(60);
    let mut d = None;
    let mut secs = vec![];
    for _ in 0..6 {
        let next = retry_delay(d, cap);
        secs.push(next.as_secs());
        d = Some(next);
    }
    assert_eq!(secs, [5, 10, 20, 40, 60, 60]);
    // a resync interval shorter than the first retry wins
    assert_eq!(
        retry_delay(None, Duration::from_secs(1)),
        Duration::from_secs(1)
    );
    assert_eq!(retry_delay(Some(Duration::MAX), cap), cap);
}
