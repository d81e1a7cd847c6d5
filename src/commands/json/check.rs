//! `ember check --json`.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Serialize;

use super::FORMAT_VERSION;
use crate::config::{BackendConfig, ClearSettings, LvmType, Ratio, TargetHelper, TargetSettings};
use crate::desired::{BackendDesired, DesiredState, Source, VolumeDesired, VolumeState};
use crate::inputs::Inputs;
use crate::names::LvName;
use crate::problem::Problem;
use crate::size::{Bytes, SizeSpec};

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
enum Format {
    #[serde(rename = "ember-check")]
    Check,
}

/// What `ember check --json` prints: cinder.conf and the desired state as ember reads them.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "ember check --json")]
pub struct CheckDoc {
    /// Always `ember-check`.
    format: Format,
    /// The format's version: 1.
    format_version: u32,
    /// No error (exit status 0); warnings may be listed in `problems`.
    ok: bool,
    /// How many errors `problems` holds, when it holds any; null otherwise.
    error: Option<String>,
    /// The cinder.conf files read, in order.
    config_files: Vec<PathBuf>,
    enabled_backends: Vec<String>,
    /// Each enabled backend's section, as read.
    backends: Vec<CheckBackend>,
    /// Null when cinder.conf could not be read, or the desired-state file as a whole (it
    /// does not parse, or a `--desired-state` given does not exist): see `problems`.
    desired_state: Option<DesiredDoc>,
    /// Every error and warning, with file and line.
    problems: Vec<Problem>,
}

/// An enabled backend as cinder.conf configures it.
#[derive(Debug, Serialize, JsonSchema)]
struct CheckBackend {
    name: String,
    /// Its volume_driver is cinder's LVM driver: ember manages it.
    managed: bool,
    volume_driver: String,
    volume_backend_name: String,
    volume_group: String,
    lvm_type: LvmType,
    /// Thin provisioning (`lvm_type = thin`, or `auto` resolved to it).
    thin: bool,
    /// A number; null when `auto` (computed from the pool's use, see `ember status`).
    max_over_subscription_ratio: Option<f64>,
    max_over_subscription_ratio_auto: bool,
    reserved_percentage: u8,
    /// `host@backend`, cinder's name for the backend.
    host: String,
    volume_clear: ClearSettings,
    /// The target options (`target_helper`, ...) as read, `$my_ip` resolved.
    target: TargetSettings,
    /// `lioadm`, `nvmet`, or `unsupported` (any other helper: ember exports nothing through it).
    target_helper_kind: TargetHelper,
    /// Why ember cannot export this backend's volumes with these options; null when it can.
    target_unsupported: Option<String>,
}

/// The desired-state file as read.
#[derive(Debug, Serialize, JsonSchema)]
struct DesiredDoc {
    path: PathBuf,
    /// The file exists (a missing file manages nothing: a warning).
    exists: bool,
    backends: Vec<DesiredBackend>,
}

/// One backend's part of the desired state: as declared, or rejected with its problems.
#[derive(Debug, Serialize, JsonSchema)]
struct DesiredBackend {
    name: String,
    /// Its part is invalid (`problems`): nothing is done for it until it is fixed.
    rejected: bool,
    problems: Vec<Problem>,
    thin_pool: Option<DesiredPool>,
    prune: bool,
    adopt: bool,
    volumes: Vec<DesiredVolume>,
    snapshots: Vec<DesiredSnapshot>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct DesiredPool {
    size: SizeSpec,
    metadata_size: Option<Bytes>,
    chunk_size: Option<Bytes>,
    autoextend: Option<DesiredAutoextend>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct DesiredAutoextend {
    /// Percent of data or metadata in use that makes the pool grow.
    threshold: f64,
    step: SizeSpec,
    max: SizeSpec,
}

#[derive(Debug, Serialize, JsonSchema)]
struct DesiredVolume {
    name: LvName,
    state: VolumeState,
    /// Bytes; null for an absent volume.
    size: Option<Bytes>,
    source: Option<Source>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct DesiredSnapshot {
    name: LvName,
    state: VolumeState,
    /// The volume it is a snapshot of; null when not named.
    volume: Option<LvName>,
}

fn backend(b: &BackendConfig) -> CheckBackend {
    let ratio = match b.max_over_subscription_ratio {
        Ratio::Fixed(r) => Some(r),
        Ratio::Auto => None,
    };
    CheckBackend {
        name: b.name.clone(),
        managed: b.managed,
        volume_driver: b.volume_driver.clone(),
        volume_backend_name: b.volume_backend_name.clone(),
        volume_group: b.volume_group.clone(),
        lvm_type: b.lvm_type,
        thin: b.lvm_type.is_thin(),
        max_over_subscription_ratio: ratio,
        max_over_subscription_ratio_auto: ratio.is_none(),
        reserved_percentage: b.reserved_percentage,
        host: b.host.clone(),
        volume_clear: b.volume_clear,
        target: b.target.clone(),
        target_helper_kind: b.target.helper(),
        target_unsupported: b.target.unsupported(),
    }
}

fn desired_backend(name: &str, d: &BackendDesired) -> DesiredBackend {
    DesiredBackend {
        name: name.to_string(),
        rejected: false,
        problems: vec![],
        thin_pool: d.thin_pool.as_ref().map(|p| DesiredPool {
            size: p.size,
            metadata_size: p.metadata_size,
            chunk_size: p.chunk_size,
            autoextend: p.autoextend.as_ref().map(|a| DesiredAutoextend {
                threshold: a.threshold,
                step: a.step,
                max: a.max,
            }),
        }),
        prune: d.prune,
        adopt: d.adopt,
        volumes: d
            .volumes
            .iter()
            .map(|(n, v)| DesiredVolume {
                name: n.clone(),
                state: v.state(),
                size: v.size(),
                source: match v {
                    VolumeDesired::Present { source, .. } => source.clone(),
                    VolumeDesired::Absent => None,
                },
            })
            .collect(),
        snapshots: d
            .snapshots
            .iter()
            .map(|(n, s)| DesiredSnapshot {
                name: n.clone(),
                state: s.state(),
                volume: match s {
                    crate::desired::SnapshotDesired::Present { volume } => volume.clone(),
                    crate::desired::SnapshotDesired::Absent => None,
                },
            })
            .collect(),
    }
}

fn desired(d: &DesiredState) -> DesiredDoc {
    let mut backends: Vec<DesiredBackend> = d
        .backends
        .iter()
        .map(|(n, b)| desired_backend(n, b))
        .collect();
    for (name, problems) in &d.rejected {
        backends.push(DesiredBackend {
            rejected: true,
            problems: problems.clone(),
            ..desired_backend(name, &BackendDesired::default())
        });
    }
    backends.sort_by(|a, b| a.name.cmp(&b.name));
    DesiredDoc {
        path: d.path.clone(),
        exists: d.path.exists(),
        backends,
    }
}

impl CheckDoc {
    pub fn of(inputs: &Inputs, ok: bool) -> CheckDoc {
        let cfg = inputs.config.as_ref();
        CheckDoc {
            format: Format::Check,
            format_version: FORMAT_VERSION,
            ok,
            error: (!ok).then(|| {
                let n = inputs.problems.iter().filter(|p| p.is_error()).count()
                    + inputs.rejected().len();
                format!("{n} error(s): see problems")
            }),
            config_files: inputs.config_files.clone(),
            enabled_backends: cfg.map(|c| c.enabled_backends.clone()).unwrap_or_default(),
            backends: cfg
                .map(|c| c.backends.iter().map(backend).collect())
                .unwrap_or_default(),
            desired_state: inputs.desired.as_ref().map(desired),
            problems: inputs
                .problems
                .iter()
                .chain(inputs.rejected())
                .cloned()
                .collect(),
        }
    }
}
