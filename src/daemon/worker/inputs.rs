//! What a worker reads: the configuration the supervisor sends (first at start, then on every
//! reload) and the desired-state file.

use std::path::PathBuf;

use tokio::io::BufReader;

use super::{DEBOUNCE, Inputs};
use crate::cli::Global;
use crate::config::{BackendConfig, Config};
use crate::daemon::ipc::ToWorker;
use crate::desired::{self, BackendDesired, Digest};
use crate::problem::Problem;
use crate::status::DesiredStatus;

/// Reads the desired state; `Err` keeps the previous one in force. A file modified within the
/// debounce window is not read yet (it may still be being written): `Ok(None)`.
pub(super) fn read_desired(
    inputs: &Inputs,
    name: &str,
    renamed_into_place: bool,
) -> Result<Option<ReadDesired>, Vec<Problem>> {
    let young = !renamed_into_place
        && std::fs::metadata(&inputs.desired_path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age < DEBOUNCE);
    if young {
        return Ok(None);
    }
    match desired::load(&inputs.desired_path, &inputs.config) {
        // this backend's part is invalid: it keeps its last good state (the others go on)
        Ok(mut d) if d.rejected.contains_key(name) => {
            Err(d.rejected.remove(name).unwrap_or_default())
        }
        Ok(d) => Ok(Some(ReadDesired {
            backend: d.backends.get(name).cloned(),
            digest: d.digest,
            warnings: d.warnings,
            status: DesiredStatus::InForce,
        })),
        // none (yet, or any more): nothing is managed until there is one
        Err(_) if desired::is_missing(&inputs.desired_path) => Ok(Some(ReadDesired {
            backend: None,
            digest: Digest::default(),
            warnings: vec![desired::missing(&inputs.desired_path)],
            status: DesiredStatus::Missing,
        })),
        Err(p) => Err(p),
    }
}

pub(super) struct ReadDesired {
    pub(super) backend: Option<BackendDesired>,
    pub(super) digest: Digest,
    pub(super) warnings: Vec<Problem>,
    pub(super) status: DesiredStatus,
}

/// Waits for the supervisor's first `Configure`.
pub(super) async fn first_configuration(
    lines: &mut tokio::io::Lines<BufReader<tokio::net::unix::OwnedReadHalf>>,
    g: &Global,
    name: &str,
) -> Result<Inputs, String> {
    loop {
        match lines.next_line().await {
            Ok(Some(l)) => match serde_json::from_str::<ToWorker>(&l) {
                Ok(ToWorker::Configure { config }) => {
                    let (config, backend, desired_path) = configured(g, name, *config)?;
                    return Ok(Inputs {
                        config,
                        backend,
                        desired_path,
                        desired: None,
                        digest: None,
                        rejected: false,
                    });
                }
                Ok(ToWorker::Stop) => return Err("stopped before it was configured".into()),
                Ok(_) => {}
                Err(e) => return Err(format!("a malformed message from the supervisor: {e}")),
            },
            Ok(None) | Err(_) => {
                return Err("the supervisor went away before configuring it".into());
            }
        }
    }
}

/// This worker's part of a configuration the supervisor sent.
pub(super) fn configured(
    g: &Global,
    name: &str,
    mut config: Config,
) -> Result<(Config, BackendConfig, PathBuf), String> {
    config.allow_insecure_files = g.allow_insecure_files;
    let backend = match config.backend(name) {
        Some(b) if b.managed => b.clone(),
        _ => {
            return Err(format!(
                "backend {name:?} is not a managed backend in enabled_backends"
            ));
        }
    };
    let path = crate::inputs::desired_path(g.desired_state.as_ref(), &config);
    Ok((config, backend, path))
}
