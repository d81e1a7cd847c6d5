//! `ember connection --backend B VOLUME [--host NAME] [--multipath]`: the connection dictionary
//! cinder's `initialize_connection` would return for an exported volume, as JSON on standard
//! output, for a compute host's os-brick `connect_volume` (`export::connection`). It holds the
//! volume's CHAP password: root only.

use super::{print_failure, print_problems, read_inputs, selected};
use crate::cli::{EXIT_ERROR, EXIT_OK, Global};
use crate::commands::json::Failure;
use crate::config::{BackendConfig, Config, TargetHelper};
use crate::desired::{DesiredState, VolumeDesired};
use crate::export::chap::ChapStore;
use crate::export::connection::{self, Volume};
use crate::export::names::{Iqn, Nqn};
use crate::names::LvName;

/// What the command line asks.
pub struct Request<'a> {
    pub backend: &'a str,
    pub volume: &'a str,
    pub host: Option<&'a str>,
    pub multipath: bool,
}

pub fn connection(g: &Global, req: &Request<'_>) -> i32 {
    match dictionary(g, req) {
        Ok(json) => {
            crate::outln!("{json}");
            EXIT_OK
        }
        Err(f) => {
            print_failure(&f);
            EXIT_ERROR
        }
    }
}

fn fail(error: String) -> Failure {
    Failure {
        error,
        problems: vec![],
    }
}

fn dictionary(g: &Global, req: &Request<'_>) -> Result<String, Failure> {
    if !nix::unistd::geteuid().is_root() {
        return Err(fail(format!(
            "`ember connection` prints the volume's CHAP password: run it as root (sudo ember connection --backend {} {})",
            req.backend, req.volume
        )));
    }
    let inputs = read_inputs(g);
    let fix_first = |problems: Vec<crate::problem::Problem>| Failure {
        error: "no connection: fix the errors first (cinder.conf, the desired state)".into(),
        problems,
    };
    if inputs.has_errors() {
        return Err(fix_first(inputs.problems));
    }
    let (Some(cfg), Some(desired)) = (inputs.config, inputs.desired) else {
        return Err(fix_first(inputs.problems));
    };
    if let Some(rejected) = desired.rejected.get(req.backend) {
        return Err(Failure {
            error: format!(
                "backend {}: its part of the desired state is rejected: fix the errors first",
                req.backend
            ),
            problems: rejected.clone(),
        });
    }
    // (warnings, such as an unknown option, are shown: they may be why it is not as expected)
    print_problems(inputs.problems.iter().filter(|p| !p.is_error()));
    let backend = match selected(&cfg, Some(req.backend)) {
        Ok(b) => b.into_iter().next().cloned(),
        Err(e) => return Err(fail(e)),
    }
    .ok_or_else(|| fail(format!("no backend {:?}", req.backend)))?;
    LvName::new(req.volume).map_err(|e| fail(e.to_string()))?;
    if let Some(why) = backend.target.unsupported() {
        return Err(fail(format!("backend {}: {why}", backend.name)));
    }
    let hosts = declared(&desired, &backend, req.volume)?;
    check_host(&backend, req, &hosts)?;
    let chap = match backend.target.helper() {
        TargetHelper::Lioadm => Some(chap(g, &cfg, &backend, req)?),
        _ => None,
    };
    let volume = Volume {
        vg: &backend.volume_group,
        name: req.volume,
        template: &cfg.volume_name_template,
    };
    let dict = connection::connection(&backend.target, volume, chap.as_ref(), req.multipath)
        .map_err(|e| fail(format!("backend {}: {e}", backend.name)))?;
    serde_json::to_string_pretty(&dict).map_err(|e| fail(e.to_string()))
}

/// The hosts the volume is declared exported to: it must be declared present, with
/// `export:`, in the backend's part of the desired state.
fn declared(d: &DesiredState, b: &BackendConfig, volume: &str) -> Result<Vec<String>, Failure> {
    let spec = d.backend(&b.name).and_then(|bd| bd.volumes.get_str(volume));
    let at = || format!("for backend {} in {}", b.name, d.path.display());
    match spec {
        None => Err(fail(format!(
            "volume {volume} is not declared {}: declare it with an export (export: {{ hosts: [...] }}) first",
            at()
        ))),
        Some(VolumeDesired::Absent) => Err(fail(format!(
            "volume {volume} is declared absent {}: it is not exported",
            at()
        ))),
        Some(v) => match v.export() {
            None => Err(fail(format!(
                "volume {volume} is not declared exported {}: add export: {{ hosts: [...] }} to it (the hosts that may connect)",
                at()
            ))),
            Some(e) => Ok(e.hosts.clone()),
        },
    }
}

/// `--host`: an initiator's IQN (iSCSI) or a host NQN (NVMe), as the backend exports, and one
/// of the volume's declared hosts (compared without case, as the desired state compares them).
fn check_host(b: &BackendConfig, req: &Request<'_>, hosts: &[String]) -> Result<(), Failure> {
    let Some(host) = req.host else {
        return Ok(());
    };
    let bad = match b.target.helper() {
        TargetHelper::Lioadm => Iqn::parse(host).err().map(|e| {
            format!("{e} (backend {} exports over iSCSI: --host is the initiator's IQN, /etc/iscsi/initiatorname.iscsi)", b.name)
        }),
        TargetHelper::Nvmet => Nqn::parse(host).err().map(|e| {
            format!("{e} (backend {} exports over NVMe/TCP: --host is the host NQN, /etc/nvme/hostnqn)", b.name)
        }),
        TargetHelper::Unsupported => None,
    };
    if let Some(msg) = bad {
        return Err(fail(msg));
    }
    if !hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        return Err(fail(format!(
            "host {host} is not among volume {}'s export hosts ({}): it could not log in; add it to export.hosts",
            req.volume,
            if hosts.is_empty() {
                "none".to_string()
            } else {
                hosts.join(", ")
            }
        )));
    }
    Ok(())
}

/// The volume's CHAP pair: the one ember's pass gives its target: the store's; else, for a
/// target ember takes over (cinder's), the one its ACLs carry; else made now if the pass has
/// not made it yet (both make it once, the same).
fn chap(
    g: &Global,
    cfg: &Config,
    b: &BackendConfig,
    req: &Request<'_>,
) -> Result<crate::export::chap::Chap, Failure> {
    use crate::reconcile::exports;
    let store = ChapStore::new(cfg.ember.state_dir.clone());
    if let Some(c) = store
        .load(req.backend, req.volume)
        .map_err(|e| fail(e.to_string()))?
    {
        return Ok(c);
    }
    let root = g
        .lvm
        .reader(&crate::inputs::lvm_options(b, &cfg.ember))
        .target_root();
    let targets = exports::read(b, &root).map_err(|e| fail(format!("backend {}: {e}", b.name)))?;
    let iqn = connection::iscsi_target_name(&b.target, req.volume);
    exports::adopt::volume_chap(
        req.backend,
        &store,
        req.volume,
        (&root.path, targets.lio.target(&iqn)),
    )
    .map_err(fail)
}
