//! The one place that loads what a pass needs: cinder.conf (→ the backends), the desired-state
//! path and file (→ each backend's desired state), and the options handed down to lvm. The
//! one-shot commands, the supervisor and the workers all load through here.

use std::path::PathBuf;

use crate::config::{self, BackendConfig, Config, EmberSettings, Sources};
use crate::desired::{self, DesiredState};
use crate::lvm::LvmOptions;
use crate::problem::Problem;

/// Configuration and desired state, read and validated, with every problem found.
pub struct Inputs {
    pub config_files: Vec<PathBuf>,
    pub config: Option<Config>,
    pub desired_path: Option<PathBuf>,
    pub desired: Option<DesiredState>,
    pub problems: Vec<Problem>,
}

impl Inputs {
    /// Errors that stop everything (cinder.conf, a file that does not parse as a whole).
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(Problem::is_error)
    }
    /// The problems of backends whose part of the desired state is rejected (each blocks that
    /// backend alone).
    pub fn rejected(&self) -> Vec<&Problem> {
        self.desired
            .iter()
            .flat_map(|d| d.rejected.values().flatten())
            .collect()
    }
}

/// The desired-state file: `--desired-state` if given, else `[ember] desired_state`.
pub fn desired_path(flag: Option<&PathBuf>, config: &Config) -> PathBuf {
    flag.cloned()
        .unwrap_or_else(|| config.ember.desired_state.clone())
}

/// A `--desired-state` the operator typed that names no file: an error (a typo must not read as
/// "nothing to do"). The default path (`[ember] desired_state`) missing is only a warning
/// ([`desired::missing`]): nothing is managed until the file exists.
pub fn typed_path_missing(flag: Option<&PathBuf>) -> Option<Problem> {
    let p = flag.filter(|p| desired::is_missing(p))?;
    Some(Problem::error(
        Some(p.clone()),
        None,
        "--desired-state names a file that does not exist (a path given on the command line must exist; without --desired-state, ember reads [ember] desired_state)",
    ))
}

/// cinder.conf, then the desired state it points to.
pub fn read(sources: &Sources, desired_flag: Option<&PathBuf>) -> Inputs {
    let loaded = config::load(sources);
    let mut problems = loaded.problems;
    let mut desired = None;
    let mut path = desired_flag.cloned();
    if let Some(cfg) = &loaded.config {
        let p = desired_path(desired_flag, cfg);
        match desired::load(&p, cfg) {
            // a path the operator typed must exist
            Err(_) if desired_flag.is_some() && desired::is_missing(&p) => {
                problems.extend(typed_path_missing(desired_flag));
            }
            // nothing to manage yet: a warning, and an empty desired state
            Err(_) if desired::is_missing(&p) => {
                problems.push(desired::missing(&p));
                desired = Some(desired::DesiredState {
                    path: p.clone(),
                    backends: Default::default(),
                    digest: Default::default(),
                    warnings: vec![],
                    rejected: Default::default(),
                });
            }
            Ok(d) => {
                problems.extend(d.warnings.iter().cloned());
                desired = Some(d);
            }
            Err(ps) => problems.extend(ps),
        }
        path = Some(p);
    }
    Inputs {
        config_files: loaded.config_files,
        config: loaded.config,
        desired_path: path,
        desired,
        problems,
    }
}

/// What lvm needs of a backend's configuration.
pub fn lvm_options(backend: &BackendConfig, s: &EmberSettings) -> LvmOptions {
    LvmOptions {
        lvm_conf_file: backend.lvm_conf_file.clone(),
        suppress_fd_warnings: backend.lvm_suppress_fd_warnings,
        read_timeout: s.lvm_read_timeout,
        write_warn_after: s.lvm_write_warn_after,
        use_shell: s.lvm_shell,
        keep_shell: false,
        state_dir: Some(s.state_dir.clone()),
    }
}
