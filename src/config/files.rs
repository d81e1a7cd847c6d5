//! Which files cinder.conf is, as oslo.config finds them for cinder-volume.

use std::path::{Path, PathBuf};

use super::{DEFAULT_CONFIG_FILE, Sources};
use crate::problem::Problem;

/// The home directory `~` is for cinder-volume: the `cinder` user's, which it runs as (not the
/// home of whoever runs ember: a scratch `/root/cinder.conf` is not cinder's). None without
/// such a user.
fn cinder_home() -> Option<PathBuf> {
    nix::unistd::User::from_name("cinder")
        .ok()
        .flatten()
        .map(|u| u.dir)
}

/// What oslo.config reads for cinder-volume (project `cinder`, program `cinder-volume`) when it
/// is given neither `--config-file` nor `--config-dir`: the first `cinder.conf` and the first
/// `cinder-volume.conf` found in `~/.cinder/`, `~/`, `/etc/cinder/`, `/etc/`, then the first
/// `cinder.conf.d/` and `cinder-volume.conf.d/` found there (`home` is cinder's, `etc` is `/etc`
/// but in tests).
pub fn default_sources(home: Option<&Path>, etc: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut dirs = vec![];
    if let Some(home) = home {
        dirs.extend([home.join(".cinder"), home.to_path_buf()]);
    }
    dirs.extend([etc.join("cinder"), etc.to_path_buf()]);
    let first = |name: &str, dir: bool| {
        dirs.iter()
            .map(|d| d.join(name))
            .find(|p| if dir { p.is_dir() } else { p.exists() })
    };
    let files = ["cinder.conf", "cinder-volume.conf"]
        .iter()
        .filter_map(|n| first(n, false))
        .collect();
    let conf_dirs = ["cinder.conf.d", "cinder-volume.conf.d"]
        .iter()
        .filter_map(|n| first(n, true))
        .collect();
    (files, conf_dirs)
}

/// The files to read, in order: the `--config-file`s, then each `--config-dir`'s `*.conf`
/// sorted by name; with neither option, what oslo.config finds for cinder-volume
/// ([`default_sources`]; `/etc/cinder/cinder.conf` is reported missing when it finds nothing).
pub(super) fn files_to_read(sources: &Sources, problems: &mut Vec<Problem>) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = sources.config_files.clone();
    let mut dirs = sources.config_dirs.clone();
    if files.is_empty() && dirs.is_empty() {
        (files, dirs) = default_sources(cinder_home().as_deref(), Path::new("/etc"));
        if files.is_empty() && dirs.is_empty() {
            files.push(PathBuf::from(DEFAULT_CONFIG_FILE));
        }
    }
    for dir in &dirs {
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
