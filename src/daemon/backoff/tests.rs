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
