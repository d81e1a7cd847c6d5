//! `cinder.conf` as cinder-volume reads it: which files, which backends, which options.
//!
//! A backend's option comes from its own section, then `[backend_defaults]`, then cinder's
//! built-in default; `[DEFAULT]` is never consulted for backend options. ember's own settings
//! live in `[ember]`, a section cinder ignores.

pub mod ini;

use std::path::{Path, PathBuf};
use std::time::Duration;

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
];

/// Where the configuration comes from, as on cinder-volume's command line.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub config_files: Vec<PathBuf>,
    pub config_dirs: Vec<PathBuf>,
    /// Accept files that users other than root can write (see `crate::trust`).
    pub allow_insecure_files: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    pub reserved_percentage: u8,
    /// `None` when disabled (`lvm_conf_file = None`).
    pub lvm_conf_file: Option<PathBuf>,
    pub lvm_suppress_fd_warnings: bool,
    /// `host@backend`, cinder's identity for the backend.
    pub host: String,
}

impl BackendConfig {
    /// The thin pool cinder's LVM driver uses: `<vg>-pool`.
    pub fn pool_name(&self) -> String {
        format!("{}-pool", self.volume_group)
    }
}

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
    pub control_socket: PathBuf,
    /// A group whose members may use the control socket besides root.
    pub control_group: Option<String>,
    /// Each worker passes at least this often, to catch drift.
    #[serde(serialize_with = "ser_secs", deserialize_with = "de_secs")]
    pub resync_interval: Duration,
    /// How long `ember daemon` waits for workers to finish on stop before killing the ones
    /// that are not writing.
    #[serde(serialize_with = "ser_secs", deserialize_with = "de_secs")]
    pub stop_timeout: Duration,
}

fn ser_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_secs())
}

fn de_secs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    <u64 as serde::Deserialize>::deserialize(d).map(Duration::from_secs)
}

/// The configuration in force. The supervisor hands it to each worker (serialized over the
/// worker's socket), so a worker never reads a cinder.conf that was edited but not reloaded.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
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
/// The files to read, in order: the `--config-file`s (default /etc/cinder/cinder.conf when
/// neither option is given), then each `--config-dir`'s `*.conf` sorted by name.
fn files_to_read(sources: &Sources, problems: &mut Vec<Problem>) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = sources.config_files.clone();
    if files.is_empty() && sources.config_dirs.is_empty() {
        files.push(PathBuf::from(DEFAULT_CONFIG_FILE));
    }
    for dir in &sources.config_dirs {
        match std::fs::read_dir(dir) {
            Err(e) => problems.push(Problem::error(
                Some(dir.clone()),
                None,
                format!("cannot read config dir: {e}"),
            )),
            Ok(entries) => {
                let mut confs: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "conf") && p.is_file())
                    .collect();
                confs.sort();
                files.extend(confs);
            }
        }
    }
    files
}

/// An `[ember]` path option, relative to the directory of the file that sets it.
fn ember_path(ini: &Ini, key: &str) -> Option<PathBuf> {
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

/// Reads `--config-file`s in order, then each `--config-dir`'s `*.conf` sorted by name.
pub fn load(sources: &Sources) -> Loaded {
    let mut problems = vec![];
    let files = files_to_read(sources, &mut problems);
    let mut ini = Ini::default();
    for f in &files {
        if !sources.allow_insecure_files
            && let Some(why) = crate::trust::untrusted(f)
        {
            problems.push(Problem::error(
                Some(f.clone()),
                None,
                crate::trust::refusal("configuration file", &why),
            ));
            continue;
        }
        ini.merge_file(f, &mut problems);
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

/// oslo.config's List type: strip, drop trailing commas and brackets, split, strip items.
fn parse_list(value: &str) -> Vec<String> {
    let mut v = value.trim();
    if v.starts_with('[') && v.ends_with(']') {
        v = v[1..v.len() - 1].trim();
    }
    let v = v.trim_end_matches(',');
    if v.trim().is_empty() {
        return vec![];
    }
    v.split(',').map(|s| s.trim().to_string()).collect()
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
    let backends_entry = ini.get("DEFAULT", "enabled_backends");
    let names = backends_entry
        .map(|e| parse_list(&e.value))
        .unwrap_or_default();
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
    let default_host = ini
        .get("DEFAULT", "host")
        .map(|e| e.value.clone())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(hostname);

    let mut backends = vec![];
    for name in &enabled {
        if let Some(b) = resolve_backend(ini, name, &default_host, last_file(), problems) {
            backends.push(b);
        }
    }
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
    let volume_name_template = ini
        .get("DEFAULT", "volume_name_template")
        .map(|e| e.value.clone())
        .unwrap_or_else(|| "volume-%s".into());
    Some(Config {
        allow_insecure_files: false,
        config_files: files.to_vec(),
        enabled_backends: enabled,
        backends,
        volume_name_template,
        ember,
    })
}

fn resolve_backend(
    ini: &Ini,
    name: &str,
    default_host: &str,
    anchor: Option<PathBuf>,
    problems: &mut Vec<Problem>,
) -> Option<BackendConfig> {
    if !ini.has_section(name) {
        problems.push(Problem::warning(anchor, None, format!(
            "backend {name:?} is in enabled_backends but has no [{name}] section: it gets [backend_defaults] and built-in defaults"
        )));
    }
    let get = |key: &str| {
        ini.get(name, key)
            .or_else(|| ini.get("backend_defaults", key))
    };
    let mut ok = true;
    let mut fail = |p: Problem| {
        problems.push(p);
        ok = false;
    };
    let volume_driver = get("volume_driver")
        .map(|e| e.value.clone())
        .unwrap_or_else(|| LVM_DRIVERS[0].into());
    let managed = LVM_DRIVERS.contains(&volume_driver.as_str());
    let volume_group = get("volume_group")
        .map(|e| e.value.clone())
        .unwrap_or_else(|| "cinder-volumes".into());
    if managed && let Err(e) = VgName::new(&volume_group) {
        let entry = get("volume_group");
        let (f, l) = entry.map(|e| at(&e.origin)).unwrap_or((None, None));
        fail(Problem::error(
            f,
            l,
            format!("backend {name:?}: volume_group: {e}"),
        ));
    }
    let lvm_type = match get("lvm_type") {
        None => LvmType::Auto,
        Some(e) => match e.value.as_str() {
            "default" => LvmType::Default,
            "thin" => LvmType::Thin,
            "auto" => LvmType::Auto,
            v => {
                fail(err_at(
                    e,
                    format!("lvm_type = {v:?}: must be one of default, thin, auto"),
                ));
                LvmType::Auto
            }
        },
    };
    let ratio = match get("max_over_subscription_ratio") {
        None => Ratio::Fixed(20.0),
        Some(e) if e.value.trim() == "auto" => Ratio::Auto,
        Some(e) => match e.value.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 1.0 => Ratio::Fixed(v),
            Ok(_) => {
                fail(err_at(
                    e,
                    format!(
                        "max_over_subscription_ratio = {:?}: must be a number of at least 1.0, or auto",
                        e.value
                    ),
                ));
                Ratio::Fixed(20.0)
            }
            Err(_) => {
                fail(err_at(
                    e,
                    format!(
                        "max_over_subscription_ratio = {:?}: expected a number or auto",
                        e.value
                    ),
                ));
                Ratio::Fixed(20.0)
            }
        },
    };
    // an empty integer counts as unset: fall through to [backend_defaults], then the default
    let reserved_entry = [name, "backend_defaults"]
        .iter()
        .filter_map(|s| ini.get(s, "reserved_percentage"))
        .find(|e| !e.value.trim().is_empty());
    let reserved = match reserved_entry.map(|e| parse_int(e, "reserved_percentage", 0, 100)) {
        Some(Ok(Some(v))) => v as u8,
        Some(Err(p)) => {
            fail(p);
            0
        }
        _ => 0,
    };
    let lvm_conf_file = match get("lvm_conf_file") {
        None => Some(PathBuf::from("/etc/cinder/lvm.conf")),
        Some(e) if e.value.trim().eq_ignore_ascii_case("none") || e.value.trim().is_empty() => None,
        Some(e) => Some(PathBuf::from(e.value.trim())),
    };
    let suppress =
        match get("lvm_suppress_fd_warnings").map(|e| parse_bool(e, "lvm_suppress_fd_warnings")) {
            Some(Ok(v)) => v,
            Some(Err(p)) => {
                fail(p);
                false
            }
            None => false,
        };
    let volume_backend_name = get("volume_backend_name")
        .map(|e| e.value.clone())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "LVM".into());
    // cinder/cmd/volume.py: backend_host comes from the backend's own section only
    let host_part = ini
        .get(name, "backend_host")
        .map(|e| e.value.clone())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| default_host.to_string());
    ok.then(|| BackendConfig {
        name: name.to_string(),
        managed,
        volume_driver,
        volume_backend_name,
        volume_group,
        lvm_type,
        max_over_subscription_ratio: ratio,
        reserved_percentage: reserved,
        lvm_conf_file,
        lvm_suppress_fd_warnings: suppress,
        host: format!("{host_part}@{name}"),
    })
}

fn resolve_ember(ini: &Ini, anchor: &Path, problems: &mut Vec<Problem>) -> Option<EmberSettings> {
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
    let path_opt = |key: &str| ember_path(ini, key);
    let run_dir = path_opt("run_dir").unwrap_or_else(|| PathBuf::from("/run/ember"));
    let control_socket = path_opt("control_socket").unwrap_or_else(|| run_dir.join("control.sock"));
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
        control_socket,
        control_group,
        resync_interval: Duration::from_secs(resync),
        stop_timeout: Duration::from_secs(stop_timeout),
    })
}

#[cfg(test)]
mod tests;
