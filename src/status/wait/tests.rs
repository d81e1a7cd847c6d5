use super::*;
use crate::status::DesiredStatus;

fn summary(refused: &[&str], kinds: &[(&str, usize)], error: Option<&str>) -> PassSummary {
    PassSummary {
        trigger: "reconcile".into(),
        finished_at: 0,
        duration_ms: 12,
        lvm_calls: 1,
        lvm_commands: 1,
        done: vec!["+ create volume a 1.0 GiB".into()],
        failed: vec![],
        refused: refused.iter().map(|s| s.to_string()).collect(),
        error: error.map(str::to_string),
        refusal_kinds: kinds.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
        pending: 0,
        scheduled: vec![],
        warnings: vec![],
        confirming: false,
    }
}

fn status(p: PassSummary) -> BackendStatus {
    let mut b = BackendStatus::starting(&crate::testkit::backend(
        "lvm-1",
        crate::config::LvmType::Thin,
    ));
    b.state = p.state().with_desired(DesiredStatus::InForce);
    b.last_pass = Some(p);
    b
}

#[test]
fn the_outcome_in_statuss_words() {
    let o = PassOutcome::of(&status(summary(&[], &[], None)));
    assert_eq!(
        o.lines(),
        ["backend lvm-1: converged (pass \"reconcile\": 1 done, 0 failed, 0 pending, 12 ms)"]
    );
    let o = PassOutcome::of(&status(summary(
        &["big: would provision ..."],
        &[("over_subscription", 1)],
        None,
    )));
    assert_eq!(
        o.lines(),
        [
            "backend lvm-1: blocked: 1 refused (over_subscription: 1) (pass \"reconcile\": 1 done, 0 failed, 0 pending, 12 ms)",
            "  refused: big: would provision ...",
        ]
    );
    let o = PassOutcome::of(&status(summary(
        &[],
        &[],
        Some("volume group \"x\" not found"),
    )));
    assert!(
        o.lines()[0].starts_with("backend lvm-1: error: volume group \"x\" not found (pass"),
        "{:?}",
        o.lines()
    );
    assert!(!o.state.is_fine());
}

#[test]
fn no_pass_is_an_error_unless_the_worker_is_on_its_way_back() {
    let b = status(summary(&[], &[], None));
    let o = PassOutcome::without_pass(
        &b,
        "the worker exited (signal: 9) before the pass ended".into(),
    );
    assert_eq!(o.state, WorkerState::Error, "converged before: not now");
    assert_eq!(
        o.lines(),
        ["backend lvm-1: error: the worker exited (signal: 9) before the pass ended"]
    );
    let mut b = b;
    b.state = WorkerState::Restarting;
    let o = PassOutcome::without_pass(&b, "no worker is running (restarting)".into());
    assert_eq!(o.state, WorkerState::Restarting);
    assert!(!o.state.is_fine());
}
