//! `ember status --json`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Serialize;

use super::{FORMAT_VERSION, Failure};
use crate::lvm::Busy;
use crate::lvm::attr::Health;
use crate::problem::Problem;
use crate::reconcile::plan::Scheduled;
use crate::size::{Bytes, SizeSpec};
use crate::status::{
    BackendStatus, Capacity, DaemonStatus, DesiredStatus, PassCounters, PassProgress, PassSummary,
    PoolStatus, WorkerState,
};
use crate::status::{ExportsStatus, VolumeList};

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
enum Format {
    #[serde(rename = "ember-status")]
    Status,
}

/// What `ember status --json` prints: the daemon and each backend's worker, last pass,
/// capacity and pool.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "ember status --json")]
pub struct StatusDoc {
    /// Always `ember-status`.
    format: Format,
    /// The format's version: 1.
    format_version: u32,
    /// The daemon answered (when false, `error` says why and there are no backends).
    ok: bool,
    error: Option<String>,
    /// The daemon's process; null when it did not answer.
    pid: Option<u32>,
    /// Every worker has passed once since the start (systemd was told READY=1).
    ready: bool,
    config_files: Vec<PathBuf>,
    /// The last reload's problems with cinder.conf (the running configuration stays).
    config_problems: Vec<Problem>,
    /// cinder.conf changed on disk and is not in force (a reload applies it); null otherwise.
    config_changed: Option<String>,
    /// Why the metrics file could not be written; null when it could.
    metrics_problem: Option<String>,
    backends: Vec<Backend>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Backend {
    name: String,
    volume_group: String,
    /// The backend's host as cinder names it: `host@backend`.
    cinder_host: String,
    /// cinder's `volume_backend_name` (`LVM` when unset): the name of the backend's one pool.
    volume_backend_name: String,
    /// The pool as cinder's scheduler names it: `host@backend#pool`.
    cinder_pool: String,
    state: WorkerState,
    /// The worker's process; null between restarts.
    pid: Option<u32>,
    restarts: u32,
    desired_state: DesiredStatus,
    /// Why the latest desired state was rejected (the last good one stays in force).
    desired_state_problems: Vec<Problem>,
    capacity: Option<Capacity>,
    pool: Option<Pool>,
    /// The lvm command running now; null when none.
    busy: Option<Busy>,
    /// The pass under way while it writes; null otherwise.
    progress: Option<PassProgress>,
    counters: PassCounters,
    last_pass: Option<Pass>,
    /// The volumes as the last read found them, with `ember status --volumes`; null without.
    volumes: Option<VolumeList>,
    /// ember's exports of the backend's volumes, their hosts and live sessions (iSCSI), as the
    /// last pass found them; null for a backend that exports through no target ember writes
    /// (or before its first pass). No secret: CHAP stays in ember's state directory.
    exports: Option<ExportsStatus>,
}

/// The last finished pass.
#[derive(Debug, Serialize, JsonSchema)]
struct Pass {
    /// What started it: start, file, reload, resync, request, retry, ...
    trigger: String,
    /// Unix seconds.
    finished_at: u64,
    duration_ms: u64,
    /// lvm processes started.
    lvm_calls: u64,
    /// lvm commands run (more than `lvm_calls` through the lvm shell).
    lvm_commands: u64,
    /// The actions done, failed and refused, one line each as `ember status` prints them.
    done: Vec<String>,
    failed: Vec<String>,
    refused: Vec<String>,
    /// Refusals by kind (`over_subscription`, `source_missing`, ...).
    refusal_kinds: BTreeMap<String, usize>,
    /// Changes still pending after it.
    pending: usize,
    /// Why it failed; null when it did not.
    error: Option<String>,
    /// Marked volumes and when a prune deletes them.
    scheduled: Vec<Scheduled>,
    warnings: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Pool {
    name: String,
    size: u64,
    data_percent: Option<f64>,
    metadata_size: Option<u64>,
    metadata_percent: Option<f64>,
    chunk_size: Option<u64>,
    health: Health,
    autoextend: Option<Autoextend>,
    /// The VG's metadata area left, in bytes.
    vg_mda_free: Option<u64>,
    last_growth: Option<Growth>,
    /// Why autoextend cannot grow it (at its cap, no room in the VG); null when it can.
    cannot_grow: Option<String>,
    /// Unix seconds of the read these figures come from.
    read_at: u64,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Autoextend {
    threshold_percent: f64,
    /// Each growth: bytes, or percent of the current size.
    step: Option<SizeSpec>,
    /// The cap, in bytes for this VG.
    max_bytes: u64,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Growth {
    /// Unix seconds.
    at: u64,
    /// `data` or `metadata`.
    part: String,
    from: u64,
    to: u64,
    /// The plan's line for it, as `ember status` prints it.
    line: String,
}

fn pass(p: &PassSummary) -> Pass {
    Pass {
        trigger: p.trigger.clone(),
        finished_at: p.finished_at,
        duration_ms: p.duration_ms,
        lvm_calls: p.lvm_calls,
        lvm_commands: p.lvm_commands.max(p.lvm_calls),
        done: p.done.clone(),
        failed: p.failed.clone(),
        refused: p.refused.clone(),
        refusal_kinds: p.refusal_kinds.clone(),
        pending: p.pending,
        error: p.error.clone(),
        scheduled: p.scheduled.clone(),
        warnings: p.warnings.clone(),
    }
}

fn pool(p: &PoolStatus) -> Pool {
    Pool {
        name: p.name.clone(),
        size: p.size,
        data_percent: p.data_percent,
        metadata_size: p.metadata_size,
        metadata_percent: p.metadata_percent,
        chunk_size: p.chunk_size,
        health: p.health,
        autoextend: p.autoextend.as_ref().map(|a| Autoextend {
            threshold_percent: a.threshold_percent,
            step: match (a.step_percent, a.step_bytes) {
                (Some(pc), _) => Some(SizeSpec::Percent(pc)),
                (None, Some(b)) => Some(SizeSpec::Bytes(Bytes(b))),
                (None, None) => None,
            },
            max_bytes: a.max_bytes,
        }),
        vg_mda_free: p.vg_mda_free,
        last_growth: p.last_growth.as_ref().map(|g| Growth {
            at: g.at,
            part: g.part.clone(),
            from: g.from,
            to: g.to,
            line: g.line.clone(),
        }),
        cannot_grow: p.cannot_grow.clone(),
        read_at: p.read_at,
    }
}

fn backend(b: &BackendStatus) -> Backend {
    Backend {
        name: b.name.clone(),
        volume_group: b.volume_group.clone(),
        cinder_host: b.cinder_host.clone(),
        volume_backend_name: b.volume_backend_name.clone(),
        cinder_pool: b.cinder_pool.clone(),
        state: b.state,
        pid: b.pid,
        restarts: b.restarts,
        desired_state: b.desired_state,
        desired_state_problems: b.desired_state_problems.clone(),
        capacity: b.capacity.clone(),
        pool: b.pool.as_ref().map(pool),
        busy: b.busy.clone(),
        progress: b.progress.clone(),
        counters: b.counters.clone(),
        last_pass: b.last_pass.as_ref().map(pass),
        volumes: b.volumes.clone(),
        exports: b.exports.clone(),
    }
}

impl StatusDoc {
    pub fn of(st: &DaemonStatus) -> StatusDoc {
        StatusDoc {
            format: Format::Status,
            format_version: FORMAT_VERSION,
            ok: true,
            error: None,
            pid: Some(st.pid),
            ready: st.ready,
            config_files: st.config_files.clone(),
            config_problems: st.config_problems.clone(),
            config_changed: st.config_changed.clone(),
            metrics_problem: st.metrics_problem.clone(),
            backends: st.backends.iter().map(backend).collect(),
        }
    }

    pub fn failed(f: Failure) -> StatusDoc {
        StatusDoc {
            format: Format::Status,
            format_version: FORMAT_VERSION,
            ok: false,
            error: Some(f.error),
            pid: None,
            ready: false,
            config_files: vec![],
            config_problems: f.problems,
            config_changed: None,
            metrics_problem: None,
            backends: vec![],
        }
    }
}
