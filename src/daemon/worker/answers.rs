//! What a worker tells the supervisor after a pass besides the pass itself: that the pass
//! waiting callers asked for has ended (`ember reconcile --wait`), and the volumes it read
//! (`ember status --volumes`).

use super::{ToSupervisor, Worker};
use crate::reconcile;
use crate::status::VolumeList;

impl Worker<'_> {
    /// Tells the supervisor that the pass the waiting callers asked for has ended (after its
    /// `Pass` or `Confirmed`).
    pub(super) fn answer_requests(&mut self, report: &reconcile::PassReport) {
        // a pass that wrote is answered by the read that follows it at once: until then what
        // it wrote is what it meant to write, not what LVM has
        if report.unconfirmed {
            return;
        }
        if !self.serving.is_empty() {
            let requests = std::mem::take(&mut self.serving);
            self.send(ToSupervisor::Answered { requests });
        }
    }

    /// The volumes as the pass read them, for `ember status --volumes` (a pass that wrote read
    /// before its writes: the confirming read that follows at once says what they are now).
    pub(super) fn send_volumes(&mut self, report: &reconcile::PassReport) {
        let Some(o) = report.observed.as_ref().filter(|_| !report.unconfirmed) else {
            return;
        };
        let now = crate::status::unix_now();
        let plan = report.remaining.as_ref().or(report.plan.as_ref());
        let list = VolumeList::of(
            &self.inputs.backend,
            self.inputs.desired.as_ref(),
            o,
            plan,
            now,
        );
        let digest = list.digest();
        let changed = self.lp.volumes_sent != Some(digest);
        self.lp.volumes_sent = Some(digest);
        self.send(ToSupervisor::Volumes {
            read_at: now,
            list: changed.then(|| Box::new(list)),
        });
    }
}
