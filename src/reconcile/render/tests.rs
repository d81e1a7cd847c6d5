use super::*;
use crate::reconcile::plan::{Refusal, RefusalKind};

fn refusal(subject: &str, kind: RefusalKind, reason: &str) -> Refusal {
    Refusal {
        subject: subject.into(),
        kind,
        reason: reason.into(),
    }
}

#[test]
fn the_deletion_caps_refusals_share_one_line_and_others_keep_theirs() {
    let cap = "3 deletions planned, more than max_deletions_per_pass = 2: none done";
    let full = "the thin pool p is full";
    let lines = refusal_lines(&[
        refusal("b", RefusalKind::DeletionCap, cap),
        refusal("f1", RefusalKind::PoolFull, full),
        refusal("c", RefusalKind::DeletionCap, cap),
        refusal("f2", RefusalKind::PoolFull, full),
        refusal("d", RefusalKind::DeletionCap, cap),
    ]);
    assert_eq!(
        lines,
        [
            format!("! refused b, c, d: {cap}"),
            format!("! refused f1: {full}"),
            format!("! refused f2: {full}"),
        ]
    );
}
