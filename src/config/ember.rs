//! ember's own settings, from cinder.conf's `[ember]` section (cinder ignores it).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::ini::Ini;
use super::{DEFAULT_DESIRED_STATE_NAME, parse_bool, parse_int};
use crate::problem::Problem;

/// ember's own settings, from `[ember]`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EmberSettings {
    pub desired_state: PathBuf,
    pub max_deletions_per_pass: u32,
    /// How long a volume that `prune: true` found undeclared stays marked before it is
    /// deleted (0: at once, as before marks existed).
    #[serde(serialize_with = "ser_secs", deserialize_with = "de_secs")]
    pub prune_grace: Duration,
    #[serde(serialize_with = "ser_secs", deserialize_with = "de_secs")]
    pub lvm_read_timeout: Duration,
    #[serde(serialize_with = "ser_secs", deserialize_with = "de_secs")]
    pub lvm_write_warn_after: Duration,
    /// Whether a pass's writes run through one lvm shell process (falls back to one process
    /// per command when the shell is not available).
    pub lvm_shell: bool,
    /// Where the daemon keeps its lock file (and, by default, its control socket).
    pub run_dir: PathBuf,
    /// Where ember keeps what must survive a reboot: the record of the thin volumes whose
    /// creation is under way (`crate::lvm::inflight`).
    #[serde(default = "default_state_dir")]
    pub state_dir: PathBuf,
    pub control_socket: PathBuf,
    /// A group whose members may use the control socket besides root.
    pub control_group: Option<String>,
    /// Each worker passes at least this often, to catch drift.
    #[serde(serialize_with = "ser_secs", deserialize_with = "de_secs")]
    pub resync_interval: Duration,
    /// How often a worker reads its thin pool's usage (one `lvs` of the pool) and grows it by
    /// `autoextend` when usage reached the threshold.
    #[serde(serialize_with = "ser_secs", deserialize_with = "de_secs")]
    pub pool_check_interval: Duration,
    /// Reload by itself when cinder.conf changes on disk and is valid (default: say so, and
    /// wait for `systemctl reload`).
    #[serde(default)]
    pub reload_on_change: bool,
    /// How long `ember daemon` waits for workers to finish on stop before killing the ones
    /// that are not writing.
    #[serde(serialize_with = "ser_secs", deserialize_with = "de_secs")]
    pub stop_timeout: Duration,
    /// Where the daemon writes its metrics for node_exporter's textfile collector (unset: no
    /// metrics file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_file: Option<PathBuf>,
}

fn ser_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_secs())
}

fn de_secs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    <u64 as serde::Deserialize>::deserialize(d).map(Duration::from_secs)
}

/// `/var/lib/ember` (the unit's `StateDirectory=ember`).
pub fn default_state_dir() -> PathBuf {
    PathBuf::from("/var/lib/ember")
}

/// An `[ember]` path option, relative to the directory of the file that sets it.
pub(super) fn ember_path(ini: &Ini, key: &str) -> Option<PathBuf> {
    ini.get("ember", key)
        .filter(|e| !e.value.trim().is_empty())
        .map(|e| {
            let p = PathBuf::from(e.value.trim());
            if p.is_absolute() {
                p
            } else {
                e.origin
                    .file
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default()
                    .join(p)
            }
        })
}

pub(super) fn resolve_ember(
    ini: &Ini,
    anchor: &Path,
    problems: &mut Vec<Problem>,
) -> Option<EmberSettings> {
    let dir_of = |p: &Path| p.parent().map(Path::to_path_buf).unwrap_or_default();
    let desired_state = ember_path(ini, "desired_state")
        .unwrap_or_else(|| dir_of(anchor).join(DEFAULT_DESIRED_STATE_NAME));
    let mut ok = true;
    let mut int = |key: &str, default: i64, min: i64, max: i64| match ini
        .get("ember", key)
        .map(|e| parse_int(e, key, min, max))
    {
        Some(Ok(Some(v))) => v,
        Some(Err(p)) => {
            problems.push(p);
            ok = false;
            default
        }
        _ => default,
    };
    let max_deletions = int("max_deletions_per_pass", 5, 0, 1_000_000) as u32;
    let prune_grace = int("prune_grace", 600, 0, 365 * 86_400) as u64;
    let read_timeout = int("lvm_read_timeout", 120, 1, 86_400) as u64;
    let write_warn = int("lvm_write_warn_after", 300, 1, 86_400) as u64;
    let resync = int("resync_interval", 60, 1, 86_400) as u64;
    let stop_timeout = int("stop_timeout", 60, 1, 3_600) as u64;
    let pool_check = int("pool_check_interval", 10, 1, 3_600) as u64;
    if prune_grace == 0
        && let Some(e) = ini.get("ember", "prune_grace")
    {
        problems.push(Problem::warning(
            Some(e.origin.file.clone()),
            Some(e.origin.line),
            "prune_grace = 0: with prune: true, a volume missing from the desired state is deleted by the first pass that reads it, also when the file was only half written or a name mistyped; the default (600) marks it first and deletes it only if it is still missing 10 minutes later",
        ));
    }
    let lvm_shell = match ini
        .get("ember", "lvm_shell")
        .map(|e| parse_bool(e, "lvm_shell"))
    {
        Some(Ok(v)) => v,
        Some(Err(p)) => {
            problems.push(p);
            ok = false;
            true
        }
        None => true,
    };
    let reload_on_change = match ini
        .get("ember", "reload_on_change")
        .map(|e| parse_bool(e, "reload_on_change"))
    {
        Some(Ok(v)) => v,
        Some(Err(p)) => {
            problems.push(p);
            ok = false;
            false
        }
        None => false,
    };
    let path_opt = |key: &str| ember_path(ini, key);
    let run_dir = path_opt("run_dir").unwrap_or_else(|| PathBuf::from("/run/ember"));
    let state_dir = path_opt("state_dir").unwrap_or_else(default_state_dir);
    let control_socket = path_opt("control_socket").unwrap_or_else(|| run_dir.join("control.sock"));
    let metrics_file = path_opt("metrics_file");
    let control_group = ini
        .get("ember", "control_group")
        .map(|e| e.value.trim().to_string())
        .filter(|g| !g.is_empty());
    ok.then(|| EmberSettings {
        desired_state,
        max_deletions_per_pass: max_deletions,
        prune_grace: Duration::from_secs(prune_grace),
        lvm_read_timeout: Duration::from_secs(read_timeout),
        lvm_write_warn_after: Duration::from_secs(write_warn),
        lvm_shell,
        run_dir,
        state_dir,
        control_socket,
        control_group,
        resync_interval: Duration::from_secs(resync),
        stop_timeout: Duration::from_secs(stop_timeout),
        pool_check_interval: Duration::from_secs(pool_check),
        reload_on_change,
        metrics_file,
    })
}
