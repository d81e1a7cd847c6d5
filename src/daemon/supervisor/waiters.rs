//! `ember reconcile` and its `--wait`: a pass asked of each backend's worker and, for a caller
//! that waits, its reply kept until every one of those passes has ended (the worker says
//! `Answered` with the request's number after the first pass that started after the request),
//! the worker has exited, or the caller's time limit is reached. Nothing here blocks the
//! supervisor's loop: a waiting caller is a reply kept in a list.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use super::Supervisor;
use crate::daemon::control::Response;
use crate::daemon::ipc::ToWorker;
use crate::status::{PassAnswer, PassOutcome};

/// A caller of `ember reconcile --wait`.
pub(super) struct PassWaiter {
    reply: oneshot::Sender<Response>,
    deadline: Instant,
    timeout: u64,
    message: String,
    /// The backends whose pass has not ended, and the request number each worker answers.
    waiting: BTreeMap<String, u64>,
    outcomes: Vec<PassOutcome>,
}

impl Supervisor<'_> {
    /// Asks the workers named (all, or `backend`) for a pass; answers at once, or (`wait`:
    /// seconds) once each of those passes has ended.
    pub(super) fn reconcile(
        &mut self,
        backend: Option<String>,
        allow_deletions: Option<u32>,
        wait: Option<u64>,
        reply: oneshot::Sender<Response>,
    ) {
        let names: Vec<String> = match backend {
            Some(b) => vec![b],
            None => self.workers.keys().cloned().collect(),
        };
        let request = wait.map(|_| {
            self.next_request += 1;
            self.next_request
        });
        let (mut sent, mut waiting, mut outcomes) = (vec![], BTreeMap::new(), vec![]);
        for n in names {
            let msg = ToWorker::Reconcile {
                allow_deletions,
                request,
            };
            if self.send(&n, msg) {
                if let Some(id) = request {
                    waiting.insert(n.clone(), id);
                }
                sent.push(n);
            } else if let Some(w) = self.workers.get(&n) {
                let why = format!("no worker is running ({})", w.status.state);
                outcomes.push(PassOutcome::without_pass(&w.status, why));
            }
        }
        let message = match sent.is_empty() {
            true => "pass requested for no running worker".to_string(),
            false => format!("pass requested for {}", sent.join(", ")),
        };
        let Some(secs) = wait else {
            let _ = reply.send(Response::message(message));
            return;
        };
        self.pass_waiters.push(PassWaiter {
            reply,
            deadline: Instant::now() + Duration::from_secs(secs),
            timeout: secs,
            message,
            waiting,
            outcomes,
        });
        self.finish_waiters();
    }

    /// The pass that answers `requests` of backend `name` has ended: `outcome` is what it
    /// came to.
    pub(super) fn answered(&mut self, name: &str, requests: &[u64], outcome: PassOutcome) {
        for w in &mut self.pass_waiters {
            if w.waiting.get(name).is_some_and(|id| requests.contains(id)) {
                w.waiting.remove(name);
                w.outcomes.push(outcome.clone());
            }
        }
        self.finish_waiters();
    }

    /// Backend `name`'s worker is gone: the passes waited for there will not end.
    pub(super) fn pass_lost(&mut self, name: &str, outcome: PassOutcome) {
        for w in &mut self.pass_waiters {
            if w.waiting.remove(name).is_some() {
                w.outcomes.push(outcome.clone());
            }
        }
        self.finish_waiters();
    }

    /// Answers the callers whose time limit is reached (with what has not ended), and forgets
    /// the ones that went away.
    pub(super) fn waiters_due(&mut self) {
        let now = Instant::now();
        let (due, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pass_waiters)
            .into_iter()
            .filter(|w| !w.reply.is_closed())
            .partition(|w| w.deadline <= now);
        self.pass_waiters = keep;
        for w in due {
            w.answer();
        }
    }

    fn finish_waiters(&mut self) {
        let (done, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pass_waiters)
            .into_iter()
            .partition(|w| w.waiting.is_empty());
        self.pass_waiters = keep;
        for w in done {
            w.answer();
        }
    }
}

impl PassWaiter {
    fn answer(self) {
        let mut outcomes = self.outcomes;
        outcomes.sort_by(|a, b| a.backend.cmp(&b.backend));
        let mut r = Response::message(self.message);
        r.passes = Some(PassAnswer {
            outcomes,
            unfinished: self.waiting.into_keys().collect(),
            timeout: self.timeout,
        });
        let _ = self.reply.send(r);
    }
}
