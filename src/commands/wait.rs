//! `ember reconcile --wait`: the daemon's answer once the pass asked for has ended on each
//! backend, printed in `ember status`'s words, with its exit status.

use crate::cli::{EXIT_CHANGES, EXIT_ERROR, EXIT_OK};
use crate::control::Response;

/// Prints each backend's outcome; 0 when all are converged (or have no desired state), 2 when
/// some are not, 1 when some pass had not ended at the time limit (or there is no answer).
pub(super) fn answer(r: Response) -> i32 {
    let Some(a) = r.passes else {
        crate::errln!("ember: the daemon sent no outcome (is it older than this ember?)");
        return EXIT_ERROR;
    };
    for o in &a.outcomes {
        for l in o.lines() {
            crate::outln!("{l}");
        }
    }
    if !a.unfinished.is_empty() {
        crate::errln!(
            "ember: timed out after {} s: the pass of {} has not ended (it goes on; `ember status` shows it)",
            a.timeout,
            a.unfinished.join(", ")
        );
        return EXIT_ERROR;
    }
    if a.outcomes.is_empty() {
        crate::outln!("{}", r.message.unwrap_or_default());
    }
    if a.outcomes.iter().all(|o| o.state.is_fine()) {
        EXIT_OK
    } else {
        EXIT_CHANGES
    }
}
