//! What `ember status` shows: per backend, the worker, its last pass and the capacity figures
//! cinder reports for a backend (total, free, provisioned, ratio, reserved).

use serde::{Deserialize, Serialize};

mod cinder;
mod pass;
mod pool;
mod text;
mod volumes;
mod wait;
pub use pass::{PassCounters, PassProgress};
pub use pool::{AutoextendStatus, GrowthRecord, PoolStatus};
mod exports;
pub use exports::{ExportedVolume, ExportsStatus, Session, Transport};
pub use volumes::{Change, Declared, EntryKind, Ownership, VolumeEntry, VolumeList};
pub use wait::{PassAnswer, PassOutcome};

use crate::config::BackendConfig;
use crate::lvm::{LvKind, Observed};
use crate::problem::Problem;
use crate::reconcile::PassReport;
use crate::reconcile::plan::{Figures, Scheduled};

/// Capacity as cinder's LVM driver reports it (in bytes here), plus the pool's usage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Capacity {
    pub total: u64,
    pub free: u64,
    pub provisioned: u64,
    /// The ratio in force: cinder.conf's, or computed from `auto` as cinder does.
    pub max_over_subscription_ratio: f64,
    /// cinder.conf says `auto`: the ratio above is computed (`1 + provisioned / (used + 1)`
    /// in GiB, 20 while nothing is provisioned; 1 for a thick backend).
    #[serde(default)]
    pub max_over_subscription_ratio_auto: bool,
    pub reserved_percentage: u8,
    pub pool_size: Option<u64>,
    pub data_percent: Option<f64>,
    pub metadata_percent: Option<f64>,
    /// The pool's health as lvm marks it (lv_attr), when it is not ok.
    #[serde(default)]
    pub pool_health: Option<crate::lvm::attr::Health>,
    /// Volumes (thin or linear LVs other than the pool and snapshots), and how many are ember's.
    pub volumes: usize,
    pub owned_volumes: usize,
    /// Thin snapshots (`_snapshot-…`), and how many are ember's.
    #[serde(default)]
    pub snapshots: usize,
    #[serde(default)]
    pub owned_snapshots: usize,
    /// COW snapshots (other tools' `lvcreate --snapshot --size`) of LVs in the volume group:
    /// ember manages none, and deletes no volume one depends on.
    #[serde(default)]
    pub cow_snapshots: usize,
    /// The volume group's size and free space.
    #[serde(default)]
    pub vg_size: u64,
    #[serde(default)]
    pub vg_free: u64,
}

impl Capacity {
    /// cinder's figures ([`Figures`], the same the planner admits with) and the pool's usage.
    pub fn of(cfg: &BackendConfig, o: &Observed) -> Capacity {
        let pool = o
            .lv(&cfg.pool_name())
            .filter(|l| l.kind == LvKind::ThinPool);
        let (snaps, vols): (Vec<_>, Vec<_>) = o
            .lvs
            .iter()
            .filter(|l| matches!(l.kind, LvKind::Thin | LvKind::Linear))
            .partition(|l| l.kind == LvKind::Thin && l.name.is_snapshot_name());
        let f = Figures::of(cfg, o);
        Capacity {
            total: f.total,
            free: f.free,
            provisioned: f.provisioned,
            max_over_subscription_ratio: f.ratio,
            max_over_subscription_ratio_auto: cfg.max_over_subscription_ratio
                == crate::config::Ratio::Auto,
            reserved_percentage: cfg.reserved_percentage,
            pool_size: pool.map(|p| p.size),
            data_percent: pool.and_then(|p| p.data_percent),
            metadata_percent: pool.and_then(|p| p.metadata_percent),
            pool_health: pool
                .map(|p| p.health)
                .filter(|h| *h != crate::lvm::attr::Health::Ok),
            volumes: vols.len(),
            owned_volumes: vols.iter().filter(|l| l.is_owned()).count(),
            snapshots: snaps.len(),
            owned_snapshots: snaps.iter().filter(|l| l.is_owned()).count(),
            cow_snapshots: o
                .lvs
                .iter()
                .filter(|l| l.kind == LvKind::CowSnapshot)
                .count(),
            vg_size: o.vg.size,
            vg_free: o.vg.free,
        }
    }
}

/// "3 lvm call(s)", or "2 lvm call(s) for 22 commands" when a shell ran several commands.
pub fn lvm_cost(calls: u64, commands: u64) -> String {
    if commands > calls {
        format!("{calls} lvm call(s) for {commands} commands")
    } else {
        format!("{calls} lvm call(s)")
    }
}

/// A pass, summarised for status and the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PassSummary {
    pub trigger: String,
    /// Unix seconds at the end of the pass.
    pub finished_at: u64,
    pub duration_ms: u64,
    /// lvm processes started.
    pub lvm_calls: u64,
    /// lvm commands run (more than `lvm_calls` when writes went through the lvm shell).
    #[serde(default)]
    pub lvm_commands: u64,
    pub done: Vec<String>,
    pub failed: Vec<String>,
    pub refused: Vec<String>,
    pub error: Option<String>,
    /// Refusals by kind (`over_subscription`, `source_missing`, ...).
    #[serde(default)]
    pub refusal_kinds: std::collections::BTreeMap<String, usize>,
    /// Changes still pending after the pass (0 when converged).
    pub pending: usize,
    /// Marked volumes and when a prune deletes them.
    #[serde(default)]
    pub scheduled: Vec<Scheduled>,
    #[serde(default)]
    pub warnings: Vec<String>,
    /// The pass wrote and has not read the volume group back yet: until the read that follows
    /// at once confirms it, the backend is not shown converged (its capacity is from before
    /// the writes).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub confirming: bool,
}

impl PassSummary {
    pub fn from_report(trigger: &str, r: &PassReport) -> PassSummary {
        let outcome = r.outcome.as_ref();
        PassSummary {
            trigger: trigger.to_string(),
            finished_at: unix_now(),
            duration_ms: r.duration_ms,
            lvm_calls: r.lvm_calls,
            lvm_commands: r.lvm_commands,
            done: outcome
                .map(|o| {
                    let exports = o.export_done.iter().map(|a| a.line());
                    o.done.iter().map(|a| a.line()).chain(exports).collect()
                })
                .unwrap_or_default(),
            failed: outcome
                .map(|o| {
                    let exports = o
                        .export_failed
                        .iter()
                        .map(|f| format!("{}: {}", f.action.line(), f.error));
                    o.failed
                        .iter()
                        .chain(&o.skipped)
                        .map(|f| format!("{}: {}", f.action.line(), f.error))
                        .chain(exports)
                        .collect()
                })
                .unwrap_or_default(),
            refused: r
                .plan
                .iter()
                .flat_map(|p| &p.refused)
                .map(|x| format!("{}: {}", x.subject, x.reason))
                .collect(),
            error: r.error.clone(),
            refusal_kinds: r.plan.iter().flat_map(|p| &p.refused).fold(
                Default::default(),
                |mut m, x| {
                    *m.entry(x.kind.name()).or_default() += 1;
                    m
                },
            ),
            pending: r
                .remaining
                .as_ref()
                .map(|p| p.actions.len() + p.vg_actions.len() + p.export_actions.len())
                .unwrap_or(0),
            // what is left after the pass: marks it made included
            scheduled: r
                .remaining
                .as_ref()
                .map(|p| p.scheduled.clone())
                .unwrap_or_default(),
            warnings: r
                .plan
                .iter()
                .flat_map(|p| &p.warnings)
                .map(|w| w.message.clone())
                .collect(),
            confirming: r.unconfirmed,
        }
    }

    /// The worker state this pass leaves the backend in: an error or a failed write first,
    /// then anything refused (what is refused is not reached, whatever else the pass did);
    /// converged only once what the pass wrote was read back.
    pub fn state(&self) -> WorkerState {
        match self.outcome() {
            WorkerState::Converged if self.confirming => WorkerState::Pending,
            s => s,
        }
    }

    /// What the pass itself ended with, from lvm's answers to its writes (passes are counted
    /// by it): its [`state`](Self::state) but for the read that confirms it.
    pub fn outcome(&self) -> WorkerState {
        if self.error.is_some() || !self.failed.is_empty() {
            WorkerState::Error
        } else if !self.refused.is_empty() {
            WorkerState::Blocked
        } else if self.pending > 0 {
            WorkerState::Pending
        } else {
            WorkerState::Converged
        }
    }
}

/// `3 refused (over_subscription: 2, shrink: 1)`.
pub fn refused_line(p: &PassSummary) -> String {
    let kinds: Vec<String> = p
        .refusal_kinds
        .iter()
        .map(|(k, n)| format!("{k}: {n}"))
        .collect();
    format!("{} refused ({})", p.refused.len(), kinds.join(", "))
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkerState {
    Starting,
    Converged,
    Pending,
    /// The last pass refused part of the desired state (over-subscription, a shrink, the
    /// deletion cap, ...): it is not reached until the desired state or the host changes.
    Blocked,
    Error,
    Restarting,
    Stopping,
    /// The latest desired state was rejected: the last good one is in force, and the backend
    /// is not what the file now says.
    Rejected,
    /// There is no desired-state file: nothing is managed (nothing is wrong yet).
    NoDesiredState,
}

/// Whether the desired state the worker read last is in force.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DesiredStatus {
    #[default]
    InForce,
    /// The file does not exist.
    Missing,
    /// The file does not parse or validate.
    Rejected,
}

impl WorkerState {
    /// The state shown for a worker whose last pass left it in `self`, with its desired state
    /// `d`: a rejected or missing desired state is never shown as converged.
    pub fn with_desired(self, d: DesiredStatus) -> WorkerState {
        match (self, d) {
            (
                WorkerState::Converged | WorkerState::Pending | WorkerState::Blocked,
                DesiredStatus::Rejected,
            ) => WorkerState::Rejected,
            (WorkerState::Converged, DesiredStatus::Missing) => WorkerState::NoDesiredState,
            (s, _) => s,
        }
    }

    /// Nothing for an operator to act on (`ember status` exits 0).
    pub fn is_fine(self) -> bool {
        matches!(self, WorkerState::Converged | WorkerState::NoDesiredState)
    }
}

impl std::fmt::Display for WorkerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WorkerState::Starting => "starting",
            WorkerState::Converged => "converged",
            WorkerState::Pending => "pending",
            WorkerState::Blocked => "blocked",
            WorkerState::Error => "error",
            WorkerState::Restarting => "restarting",
            WorkerState::Stopping => "stopping",
            WorkerState::Rejected => "desired state rejected (last good state in force)",
            WorkerState::NoDesiredState => "no desired state",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendStatus {
    pub name: String,
    pub volume_group: String,
    /// The backend's host as cinder names it: `host@backend` (`backend_host`, else `host`).
    #[serde(default)]
    pub cinder_host: String,
    /// `volume_backend_name` (cinder's LVM driver: the option, else `LVM`): the name of the
    /// backend's one pool.
    #[serde(default)]
    pub volume_backend_name: String,
    /// The pool as cinder's scheduler names it (`host@backend#pool`, a volume's `os-vol-host-attr:host`).
    #[serde(default)]
    pub cinder_pool: String,
    pub pid: Option<u32>,
    pub state: WorkerState,
    pub restarts: u32,
    pub last_pass: Option<PassSummary>,
    /// The desired state could not be used; the last good one stays in force.
    pub desired_state_problems: Vec<Problem>,
    pub capacity: Option<Capacity>,
    /// `read` or `write` while an lvm command runs, with the command.
    pub busy: Option<crate::lvm::Busy>,
    #[serde(default)]
    pub desired_state: DesiredStatus,
    /// The thin pool, from the last pass or pool check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<PoolStatus>,
    /// The pass under way, while it writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<PassProgress>,
    #[serde(default)]
    pub counters: PassCounters,
    /// The volumes, when asked for (`ember status --volumes`): the last read's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<VolumeList>,
    /// ember's exports of the backend's volumes, their hosts and live sessions, as the last
    /// pass found them (a backend that exports through a target ember writes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exports: Option<ExportsStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DaemonStatus {
    pub pid: u32,
    pub ready: bool,
    pub config_files: Vec<std::path::PathBuf>,
    /// The last reload's configuration problems (the running configuration stays).
    pub config_problems: Vec<Problem>,
    /// cinder.conf changed on disk and is not in force (a reload applies it), or is invalid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_changed: Option<String>,
    /// Why the metrics file (`[ember] metrics_file`) could not be written, if it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_problem: Option<String>,
    pub backends: Vec<BackendStatus>,
}

impl DaemonStatus {
    /// systemd's STATUS= line: `2 backends: 1 converged, 1 error (lvm-2: volume group ... not found)`.
    pub fn summary(&self) -> String {
        let n = self.backends.len();
        let count = |s: WorkerState| self.backends.iter().filter(|b| b.state == s).count();
        let mut parts = vec![];
        for (s, label) in [
            (WorkerState::Converged, "converged"),
            (WorkerState::Rejected, "desired state rejected"),
            (WorkerState::NoDesiredState, "no desired state"),
            (WorkerState::Pending, "pending"),
            (WorkerState::Blocked, "blocked"),
            (WorkerState::Error, "error"),
            (WorkerState::Starting, "starting"),
            (WorkerState::Restarting, "restarting"),
        ] {
            let c = count(s);
            if c > 0 {
                parts.push(format!("{c} {label}"));
            }
        }
        let mut line = format!(
            "{n} backend{}: {}",
            if n == 1 { "" } else { "s" },
            if parts.is_empty() {
                "none".to_string()
            } else {
                parts.join(", ")
            }
        );
        let errors: Vec<String> = self
            .backends
            .iter()
            .filter_map(|b| {
                let e = b
                    .last_pass
                    .as_ref()
                    .and_then(|p| p.error.clone())
                    .or_else(|| {
                        b.desired_state_problems
                            .iter()
                            .find(|p| p.is_error())
                            .map(|p| p.to_string())
                    })
                    .or_else(|| {
                        let p = b.last_pass.as_ref().filter(|p| !p.refused.is_empty())?;
                        Some(refused_line(p))
                    });
                e.map(|e| format!("{}: {e}", b.name))
            })
            .collect();
        if !errors.is_empty() {
            line.push_str(&format!(" ({})", errors.join("; ")));
        }
        if let Some(p) = self.config_problems.iter().find(|p| p.is_error()) {
            line.push_str(&format!("; reload failed, old configuration kept: {p}"));
        }
        if let Some(c) = &self.config_changed {
            line.push_str(&format!("; {c}"));
        }
        line
    }
}

#[cfg(test)]
mod tests;
