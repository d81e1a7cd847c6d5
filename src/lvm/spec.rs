//! Which lvm to talk to (the real binary or the simulator) and how to run it: the handles
//! `ember plan` (read-only) and the writers get.

use super::{LvmRead, LvmWrite, cli, sim};

/// Which LVM to talk to: the real `lvm` binary (default), or the simulator (hidden `--lvm
/// sim:PATH`, for tests and demos).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LvmSpec {
    Exec(std::path::PathBuf),
    Sim(std::path::PathBuf),
}

impl std::str::FromStr for LvmSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(p) = s.strip_prefix("sim:") {
            return Ok(LvmSpec::Sim(p.into()));
        }
        let p = s.strip_prefix("exec:").unwrap_or(s);
        if p.is_empty() {
            return Err("expected sim:PATH, exec:PATH or a path to lvm".into());
        }
        Ok(LvmSpec::Exec(p.into()))
    }
}

impl std::fmt::Display for LvmSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LvmSpec::Exec(p) => write!(f, "exec:{}", p.display()),
            LvmSpec::Sim(p) => write!(f, "sim:{}", p.display()),
        }
    }
}

/// What lvm needs to know of the configuration: built where the program is wired together
/// (`crate::inputs::lvm_options`), so that this layer knows nothing of cinder.conf.
#[derive(Debug, Clone, PartialEq)]
pub struct LvmOptions {
    /// When it names a file, lvm runs with `LVM_SYSTEM_DIR` set to its directory.
    pub lvm_conf_file: Option<std::path::PathBuf>,
    /// `LVM_SUPPRESS_FD_WARNINGS=1`.
    pub suppress_fd_warnings: bool,
    /// A read that takes longer is killed (reads only).
    pub read_timeout: std::time::Duration,
    /// A write that takes longer is reported as stuck (never killed).
    pub write_warn_after: std::time::Duration,
    /// A pass's writes and its confirming read go through one lvm shell process.
    pub use_shell: bool,
    /// The shell outlives a batch: a daemon's worker keeps it for its reads and writes (it is
    /// started again when it died, hung, or is older than [`cli::SHELL_MAX_AGE`]).
    pub keep_shell: bool,
    /// Where ember records the thin volumes whose creation is under way (`[ember] state_dir`):
    /// [`super::inflight`]. `None`: nothing is recorded (a creation cut short is reported,
    /// never mended).
    pub state_dir: Option<std::path::PathBuf>,
}

impl LvmSpec {
    /// A read-only handle: what `plan` gets. It has no method that changes anything.
    pub fn reader(&self, opts: &LvmOptions) -> Box<dyn LvmRead> {
        match self {
            LvmSpec::Exec(p) => Box::new(cli::LvmCli::new(p, opts)),
            LvmSpec::Sim(p) => Box::new(sim::SimLvm::open(p)),
        }
    }
    pub fn writer(&self, opts: &LvmOptions) -> Box<dyn LvmWrite + Send> {
        match self {
            LvmSpec::Exec(p) => Box::new(cli::LvmCli::new(p, opts)),
            LvmSpec::Sim(p) => Box::new(sim::SimLvm::open(p)),
        }
    }
}
