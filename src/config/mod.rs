//! `cinder.conf` as cinder-volume reads it: which files, which backends, which options.
//!
//! A backend's option comes from its own section, then `[backend_defaults]`, then cinder's
//! built-in default; `[DEFAULT]` is never consulted for backend options. ember's own settings
//! live in `[ember]`, a section cinder ignores.

mod backend;
mod clear;
mod ember;
mod files;
pub mod ini;
mod myip;
mod origin;
mod oslo;
mod spelling;
mod subst;
mod target;

use backend::resolve_backend;
pub use clear::{ClearSettings, IoClass, Ionice, VolumeClear};
pub use ember::{EmberSettings, default_state_dir};
use ember::{ember_path, resolve_ember};
pub use files::default_sources;
use files::files_to_read;
pub use origin::{NotCompared, Setting};
pub use target::{TargetHelper, TargetSettings};

use std::path::{Path, PathBuf};

use ini::{Entry, Ini, Origin};

use crate::names::VgName;
use crate::problem::Problem;

pub const DEFAULT_CONFIG_FILE: &str = "/etc/cinder/cinder.conf";
pub const DEFAULT_DESIRED_STATE_NAME: &str = "desired-state.yaml";

/// The LVM driver's class names, current and historical: backends with any other
/// `volume_driver` are listed but not managed by ember.
pub const LVM_DRIVERS: &[&str] = &[
    "cinder.volume.drivers.lvm.LVMVolumeDriver",
    "cinder.volume.drivers.lvm.LVMISCSIDriver",
    "cinder.volume.drivers.lvm.LVMISERDriver",
    "cinder.volume.drivers.lvm.LVMIserDriver",
    "cinder.volume.drivers.lvm.ThinLVMVolumeDriver",
];

/// Options cinder reads per backend; an operator who puts one in `[DEFAULT]` gets a warning.
const BACKEND_OPTIONS: &[&str] = &[
    "volume_driver",
    "volume_group",
    "lvm_type",
    "volume_backend_name",
    "max_over_subscription_ratio",
    "reserved_percentage",
    "lvm_conf_file",
    "lvm_suppress_fd_warnings",
    // (not volume_clear_size, volume_clear_ionice: cinder's wipe takes [DEFAULT]'s value of
    // one the backend has none of)
    "volume_clear",
];

/// Where the configuration comes from, as on cinder-volume's command line.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub config_files: Vec<PathBuf>,
    pub config_dirs: Vec<PathBuf>,
    /// Accept files that users other than root can write (see `crate::trust`).
    pub allow_insecure_files: bool,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum LvmType {
    Default,
    Thin,
    Auto,
}

impl std::fmt::Display for LvmType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LvmType::Default => "default",
            LvmType::Thin => "thin",
            LvmType::Auto => "auto",
        })
    }
}

impl LvmType {
    /// `auto` means thin wherever LVM supports thin provisioning: every lvm2 ember runs with.
    pub fn is_thin(self) -> bool {
        matches!(self, LvmType::Thin | LvmType::Auto)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ratio {
    Fixed(f64),
    Auto,
}

impl serde::Serialize for Ratio {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> serde::Deserialize<'de> for Ratio {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s == "auto" {
            return Ok(Ratio::Auto);
        }
        s.parse()
            .map(Ratio::Fixed)
            .map_err(|_| serde::de::Error::custom(format!("not a ratio: {s:?}")))
    }
}

impl std::fmt::Display for Ratio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ratio::Auto => f.write_str("auto"),
            Ratio::Fixed(v) if v.fract() == 0.0 => write!(f, "{v:.1}"),
            Ratio::Fixed(v) => write!(f, "{v}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BackendConfig {
    pub name: String,
    pub managed: bool,
    pub volume_driver: String,
    pub volume_backend_name: String,
    pub volume_group: String,
    pub lvm_type: LvmType,
    pub max_over_subscription_ratio: Ratio,
    /// The ratio as cinder reads it (`10`, `1.5`, `auto`): what it reports.
    #[serde(default)]
    pub max_over_subscription_ratio_text: String,
    pub reserved_percentage: u8,
    /// `None` when disabled (`lvm_conf_file = None`).
    pub lvm_conf_file: Option<PathBuf>,
    pub lvm_suppress_fd_warnings: bool,
    /// How a deleted volume is wiped (`volume_clear`, `volume_clear_size`,
    /// `volume_clear_ionice`): read for LVM backends only.
    #[serde(default)]
    pub volume_clear: ClearSettings,
    /// `host@backend`, cinder's identity for the backend.
    pub host: String,
    /// Where `volume_group` was set (or that it was not): for the error that names a volume
    /// group that does not exist. Not compared: a line moved by an edit elsewhere restarts
    /// nothing. (Boxed: a backend's configuration is moved around whole.)
    #[serde(default)]
    pub volume_group_set: NotCompared<Box<Setting>>,
    /// The target its volumes would be exported through (`target_helper`, ...): read for LVM
    /// backends only.
    #[serde(default)]
    pub target: TargetSettings,
    /// `[ember] state_dir`: where the CHAP credentials of its iSCSI exports are kept.
    #[serde(default = "default_state_dir")]
    pub state_dir: PathBuf,
}

impl BackendConfig {
    /// The thin pool cinder's LVM driver uses: `<vg>-pool`.
    pub fn pool_name(&self) -> String {
        format!("{}-pool", self.volume_group)
    }
}

/// The configuration in force. The supervisor hands it to each worker (serialized over the
/// worker's socket), so a worker never reads a cinder.conf that was edited but not reloaded.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Config {
    #[serde(skip)]
    pub allow_insecure_files: bool,
    pub config_files: Vec<PathBuf>,
    pub enabled_backends: Vec<String>,
    pub backends: Vec<BackendConfig>,
    pub volume_name_template: String,
    pub ember: EmberSettings,
}

impl Config {
    pub fn backend(&self, name: &str) -> Option<&BackendConfig> {
        self.backends.iter().find(|b| b.name == name)
    }
}

/// The result of reading the configuration: the config when there was no error, and every
/// problem found (warnings too).
#[derive(Debug)]
pub struct Loaded {
    pub config: Option<Config>,
    pub config_files: Vec<PathBuf>,
    pub problems: Vec<Problem>,
}

impl Loaded {
    /// The errors, one line each joined with "; " (for logs and control answers).
    pub fn error_text(&self) -> String {
        self.problems
            .iter()
            .filter(|p| p.is_error())
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Reads `--config-file`s in order, then each `--config-dir`'s `*.conf` sorted by name.
pub fn load(sources: &Sources) -> Loaded {
    let mut problems = vec![];
    let files = files_to_read(sources, &mut problems);
    let mut ini = Ini::default();
    let check = crate::trust::checks(sources.allow_insecure_files);
    for f in &files {
        match crate::trust::read_input(f, ini::MAX_FILE_BYTES, check) {
            Err(crate::trust::InputError::Untrusted(why)) => problems.push(Problem::error(
                Some(f.clone()),
                None,
                crate::trust::refusal("configuration file", &why.to_string()),
            )),
            Err(crate::trust::InputError::Io(e)) => problems.push(Problem::error(
                Some(f.clone()),
                None,
                format!("cannot read: {e}"),
            )),
            Ok(read) => ini.merge_bytes(f, &read, &mut problems),
        }
    }
    let anchor = sources
        .config_files
        .last()
        .or(files.last())
        .cloned()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_FILE));
    let config = if problems.iter().any(Problem::is_error) {
        None
    } else {
        resolve(&ini, &files, &anchor, &mut problems).map(|mut c| {
            c.allow_insecure_files = sources.allow_insecure_files;
            c
        })
    };
    let config = if problems.iter().any(Problem::is_error) {
        None
    } else {
        config
    };
    Loaded {
        config,
        config_files: files,
        problems,
    }
}

/// The control socket path from `[ember]`, read leniently: a client must find the daemon even
/// while an operator's edit has broken cinder.conf (to be told so by `ember reload`).
pub fn control_socket_lenient(sources: &Sources) -> PathBuf {
    let mut ignored = vec![];
    let mut ini = Ini::default();
    for f in files_to_read(sources, &mut ignored) {
        ini.merge_file(&f, &mut ignored);
    }
    ember_path(&ini, "control_socket").unwrap_or_else(|| {
        ember_path(&ini, "run_dir")
            .unwrap_or_else(|| PathBuf::from("/run/ember"))
            .join("control.sock")
    })
}

fn at(origin: &Origin) -> (Option<PathBuf>, Option<usize>) {
    (Some(origin.file.clone()), Some(origin.line))
}

fn err_at(e: &Entry, msg: String) -> Problem {
    let (f, l) = at(&e.origin);
    Problem::error(f, l, msg)
}

fn parse_bool(e: &Entry, key: &str) -> Result<bool, Problem> {
    match e.value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "on" | "yes" => Ok(true),
        "false" | "0" | "off" | "no" => Ok(false),
        _ => Err(err_at(
            e,
            format!(
                "{key} = {:?}: expected a boolean (true/false, 1/0, on/off, yes/no)",
                e.value
            ),
        )),
    }
}

/// Integer options: an empty value counts as unset.
fn parse_int(e: &Entry, key: &str, min: i64, max: i64) -> Result<Option<i64>, Problem> {
    let v = e.value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    match v.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        Ok(n) => Err(err_at(
            e,
            format!("{key} = {n}: must be between {min} and {max}"),
        )),
        Err(_) => Err(err_at(e, format!("{key} = {v:?}: expected an integer"))),
    }
}

/// What `enabled_backends` says that the operator probably did not mean: brackets (oslo keeps
/// them in the names) and an inline comment (kept in the last name).
fn list_warnings(e: &Entry, names: &[String], problems: &mut Vec<Problem>) {
    let (f, l) = at(&e.origin);
    if names.iter().any(|n| n.starts_with('[') || n.ends_with(']')) {
        problems.push(Problem::warning(f.clone(), l, format!(
            "enabled_backends = {:?}: oslo.config keeps the brackets, so cinder-volume's backends are named {}: write the names without brackets",
            e.value,
            names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")
        )));
    }
    if e.value.contains(" #") || e.value.contains(" ;") {
        problems.push(Problem::warning(f, l, format!(
            "enabled_backends = {:?}: oslo.config has no inline comments, so cinder-volume reads the comment as part of a backend's name (put it on a line of its own)",
            e.value
        )));
    }
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".into())
}

fn resolve(
    ini: &Ini,
    files: &[PathBuf],
    anchor: &Path,
    problems: &mut Vec<Problem>,
) -> Option<Config> {
    let last_file = || Some(anchor.to_path_buf());
    let reader = subst::Reader {
        ini,
        hostname: hostname(),
        my_ip: std::cell::OnceCell::new(),
    };
    spelling::default_section(ini, problems);
    let backends_entry = ini.get("DEFAULT", "enabled_backends");
    let names = match reader.get(subst::Group::Default, "enabled_backends") {
        Ok(subst::Read {
            value: Some(subst::Typed::List(v)),
            ..
        }) => v,
        Ok(_) => vec![],
        Err(p) => {
            problems.push(p);
            return None;
        }
    };
    if let Some(e) = backends_entry {
        list_warnings(e, &names, problems);
    }
    let mut enabled: Vec<String> = vec![];
    for n in names.into_iter().filter(|n| !n.is_empty()) {
        if enabled.contains(&n) {
            let e = backends_entry?;
            problems.push(err_at(e, format!(
                "backend {n:?} is named twice in enabled_backends (cinder-volume would start two services on one volume group)"
            )));
        } else {
            enabled.push(n);
        }
    }
    if enabled.is_empty() {
        let (f, l) = backends_entry
            .map(|e| at(&e.origin))
            .unwrap_or((last_file(), None));
        problems.push(Problem::error(
            f,
            l,
            "[DEFAULT] enabled_backends is missing or empty: no backend to manage",
        ));
        return None;
    }
    for key in BACKEND_OPTIONS {
        if let Some(e) = ini.get("DEFAULT", key) {
            let (f, l) = at(&e.origin);
            problems.push(Problem::warning(f, l, format!(
                "{key} in [DEFAULT] is ignored for backends: cinder reads backend options from the backend's own section or [backend_defaults]"
            )));
        }
    }
    let default_host = match reader.get(subst::Group::Default, "host") {
        Ok(subst::Read {
            value: Some(subst::Typed::Str(h)),
            ..
        }) => h,
        Ok(_) => hostname(),
        Err(p) => {
            problems.push(p);
            return None;
        }
    };

    let mut backends = vec![];
    for name in &enabled {
        if let Some(b) = resolve_backend(&reader, name, &default_host, last_file(), problems) {
            backends.push(b);
        }
    }
    spelling::backend_sections(ini, &enabled, &backends, problems);
    for (i, a) in backends.iter().enumerate() {
        if let Some(b) = backends[..i]
            .iter()
            .find(|b| b.managed && a.managed && b.volume_group == a.volume_group)
        {
            let e = ini
                .get(&a.name, "volume_group")
                .or_else(|| ini.get("backend_defaults", "volume_group"));
            let (f, l) = e.map(|e| at(&e.origin)).unwrap_or((last_file(), None));
            problems.push(Problem::error(f, l, format!(
                "backends {:?} and {:?} both use volume group {:?}: each backend needs its own volume group",
                b.name, a.name, a.volume_group
            )));
        }
    }

    let ember = resolve_ember(ini, anchor, problems)?;
    for b in &mut backends {
        b.state_dir = ember.state_dir.clone();
    }
    let volume_name_template = match reader.get(subst::Group::Default, "volume_name_template") {
        Ok(subst::Read {
            value: Some(subst::Typed::Str(t)),
            ..
        }) => t,
        Ok(_) => "volume-%s".into(),
        Err(p) => {
            problems.push(p);
            return None;
        }
    };
    for b in &mut backends {
        b.target.volume_name_template = volume_name_template.clone();
    }
    Some(Config {
        allow_insecure_files: false,
        config_files: files.to_vec(),
        enabled_backends: enabled,
        backends,
        volume_name_template,
        ember,
    })
}

#[cfg(test)]
mod oslo_tests;
#[cfg(test)]
mod tests;
