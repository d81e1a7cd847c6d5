//! What a worker tells the supervisor: its status, passes, pool, progress, heartbeats, the
//! volumes it read, and that the pass a waiting caller asked for has ended.

use super::*;

impl Supervisor<'_> {
    pub(super) fn message(&mut self, name: String, generation: u64, msg: ToSupervisor) {
        let Some(w) = self.workers.get_mut(&name) else {
            return;
        };
        if w.generation != generation {
            return;
        }
        w.last_heartbeat = Instant::now();
        // a pass's report and a list of volumes are the big ones (once a pass): what parsing
        // them freed goes back to the system
        let big = matches!(
            msg,
            ToSupervisor::Pass { .. } | ToSupervisor::Volumes { list: Some(_), .. }
        );
        self.take(name, msg);
        if big {
            crate::daemon::memory::release_freed_memory();
        }
    }

    fn take(&mut self, name: String, msg: ToSupervisor) {
        let Some(w) = self.workers.get_mut(&name) else {
            return;
        };
        match msg {
            ToSupervisor::Started { pid } => w.status.pid = Some(pid),
            ToSupervisor::Heartbeat { busy } => {
                w.status.busy = busy;
                w.stuck_reported = false;
            }
            ToSupervisor::DesiredState { problems, status } => {
                w.status.desired_state_problems = problems;
                w.status.desired_state = status;
                // shown at once (a rejected edit runs no pass); back to the last pass's state
                // when the file is good again
                if let Some(p) = &w.status.last_pass
                    && !matches!(
                        w.status.state,
                        WorkerState::Restarting | WorkerState::Stopping
                    )
                {
                    w.status.state = p.state().with_desired(status);
                }
            }
            ToSupervisor::Pool { pool } => w.status.pool = pool.map(|p| *p),
            ToSupervisor::Exports { exports } => {
                use crate::reconcile::plan::export::Transport;
                w.status.exports = exports.map(|volumes| crate::status::ExportsStatus {
                    read_at: crate::status::unix_now(),
                    transport: match w.cfg.target.helper() {
                        crate::config::TargetHelper::Nvmet => Transport::NvmeTcp,
                        _ => Transport::Iscsi,
                    },
                    volumes,
                })
            }
            ToSupervisor::Confirmed {
                capacity,
                lvm_commands,
            } => {
                w.status.counters.lvm_commands += lvm_commands;
                if let Some(c) = capacity {
                    w.status.capacity = Some(*c);
                }
                if let Some(a) = self.awaiting.as_mut() {
                    a.remove(&name);
                }
                // the read confirmed what the pass wrote: its state now stands
                if let Some(p) = w.status.last_pass.as_mut() {
                    p.confirming = false;
                    if !matches!(
                        w.status.state,
                        WorkerState::Restarting | WorkerState::Stopping
                    ) {
                        w.status.state = p.state().with_desired(w.status.desired_state);
                    }
                }
            }
            ToSupervisor::Progress {
                done,
                total,
                clearing,
            } => {
                w.status.progress = Some(crate::status::PassProgress {
                    done,
                    total,
                    clearing,
                })
            }
            ToSupervisor::Pass { summary, capacity } => {
                w.status.state = summary.state().with_desired(w.status.desired_state);
                w.status.progress = None;
                w.status.counters.count(&summary);
                w.status.last_pass = Some(*summary);
                if let Some(c) = capacity {
                    w.status.capacity = Some(*c);
                }
                // READY=1 waits for what the first pass wrote to be read back (the confirming
                // read follows at once): until then the backend is not converged
                let confirming = w.status.last_pass.as_ref().is_some_and(|p| p.confirming);
                if let Some(a) = self.awaiting.as_mut().filter(|_| !confirming) {
                    a.remove(&name);
                }
            }
            ToSupervisor::Answered { requests } => {
                let outcome = PassOutcome::of(&w.status);
                self.answered(&name, &requests, outcome);
            }
            ToSupervisor::Volumes { read_at, list } => {
                if let Some(l) = list {
                    w.volumes = Some(*l);
                }
                if let Some(v) = w.volumes.as_mut() {
                    v.read_at = read_at;
                }
            }
        }
    }
}
