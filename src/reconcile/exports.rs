//! The kernel's target configuration in a pass: read for the planner ([`read`]) and changed
//! by the plan's `export_actions` ([`apply`]), through [`crate::export::Step`]s at the
//! configfs root of the LVM handle's system ([`crate::lvm::LvmRead::target_root`]).
//!
//! configfs is one for the whole host (every backend, every worker, targetcli, rtslib): one
//! writer at a time. [`apply`] holds a host-wide lock (`flock` on `/run/ember/exports.lock`,
//! the unit's runtime directory) for all its writes, re-reads the configuration under it, and
//! makes each action's steps from what it read then; while it makes a backstore it also holds
//! rtslib's `/var/run/rtslib_backstore.lock`, under which rtslib (targetcli) picks an
//! `iblock_<n>` index, so that the two never pick the same one. A pass cut short leaves a
//! partial export that the next pass's read shows: completed, or reported as not ember's.

use std::path::{Path, PathBuf};

use super::plan::export::{ExportAction, Targets, Transport};
use crate::config::{BackendConfig, TargetHelper};
use crate::export::chap::ChapStore;
use crate::export::identity::Identity;
use crate::export::names::{Iqn, Nqn, Portal};
use crate::export::{ExportError, Step, lio, nvmet};
use crate::lvm::TargetRoot;

/// The host-wide lock of ember's writers of the target configuration.
pub const LOCK: &str = "/run/ember/exports.lock";
/// rtslib's lock around choosing a backstore's HBA index (rtslib tcm.py).
pub const RTSLIB_LOCK: &str = "/var/run/rtslib_backstore.lock";

/// Whether a pass reads the target configuration for this backend: only when it exports
/// through a target ember writes.
pub fn wanted(cfg: &BackendConfig) -> bool {
    cfg.target.helper() != TargetHelper::Unsupported && cfg.target.unsupported().is_none()
}

/// The target configuration as it is now (the transport the backend uses; the other is left
/// empty).
pub fn read(cfg: &BackendConfig, root: &TargetRoot) -> Result<Targets, ExportError> {
    let mut targets = read_targets(cfg, root)?;
    if cfg.target.helper() == TargetHelper::Nvmet {
        targets.grown = grown::Grown::of(&cfg.volume_group, root).read();
    }
    Ok(targets)
}

/// [`read`] without the marks of volumes to resize (what an action needs, read under the lock).
fn read_targets(cfg: &BackendConfig, root: &TargetRoot) -> Result<Targets, ExportError> {
    Ok(match cfg.target.helper() {
        TargetHelper::Lioadm => Targets {
            lio: lio::read(&root.path)?,
            ..Targets::default()
        },
        TargetHelper::Nvmet => Targets {
            nvmet: nvmet::read(&root.path)?,
            ..Targets::default()
        },
        TargetHelper::Unsupported => Targets::default(),
    })
}

/// An exclusive `flock` held until dropped.
struct Held(#[allow(dead_code)] nix::fcntl::Flock<std::fs::File>);

fn lock(path: &Path) -> Result<Held, String> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = path.parent()
        && !dir.exists()
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    }
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| format!("cannot open the lock {}: {e}", path.display()))?;
    nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusive)
        .map(Held)
        .map_err(|(_, e)| format!("cannot lock {}: {e}", path.display()))
}

/// Where the locks are: the host's, or beside a modelled configfs.
fn lock_paths(root: &TargetRoot) -> (PathBuf, Option<PathBuf>) {
    match root.modelled {
        true => {
            let mut p = root.path.clone().into_os_string();
            p.push(".lock");
            (p.into(), None)
        }
        false => (PathBuf::from(LOCK), Some(PathBuf::from(RTSLIB_LOCK))),
    }
}

/// The result of one export action.
pub type Done = (ExportAction, Result<(), String>);

/// Carries out `actions` in order under the host-wide lock, each from a fresh read; an action
/// that fails does not stop the others of other volumes (the next pass sees what is left).
pub fn apply(cfg: &BackendConfig, root: &TargetRoot, actions: &[ExportAction]) -> Vec<Done> {
    if actions.is_empty() {
        return vec![];
    }
    let (host_lock, rtslib) = lock_paths(root);
    let _held = match lock(&host_lock) {
        Ok(h) => h,
        Err(e) => {
            return actions
                .iter()
                .map(|a| (a.clone(), Err(e.clone())))
                .collect();
        }
    };
    let chap = ChapStore::new(cfg.state_dir.clone());
    let mut out = vec![];
    let mut failed: Vec<&crate::names::LvName> = vec![];
    for a in actions {
        // a volume whose export failed gets nothing more in this pass (its hosts would attach
        // to nothing)
        if failed.contains(&a.volume()) {
            out.push((
                a.clone(),
                Err("not done: an earlier step of this volume failed".into()),
            ));
            continue;
        }
        let r = one(cfg, root, rtslib.as_deref(), &chap, a);
        if let Err(e) = &r {
            tracing::error!(backend = %cfg.name, volume = %a.volume(), "{e}");
            failed.push(a.volume());
        }
        out.push((a.clone(), r));
    }
    out
}

fn write(root: &TargetRoot, steps: &[Step]) -> Result<(), String> {
    let r = match root.modelled {
        true => crate::export::apply_modelled(&root.path, steps),
        false => crate::export::apply(&root.path, steps),
    };
    r.map_err(|e| e.to_string())
}

fn one(
    cfg: &BackendConfig,
    root: &TargetRoot,
    rtslib: Option<&Path>,
    chap: &ChapStore,
    a: &ExportAction,
) -> Result<(), String> {
    let targets = read_targets(cfg, root).map_err(|e| e.to_string())?;
    let portals: Vec<Portal> = std::iter::once(&cfg.target.target_ip_address)
        .chain(&cfg.target.target_secondary_ip_addresses)
        .filter_map(|s| s.parse().ok())
        .map(|ip| Portal {
            ip,
            port: cfg.target.target_port,
        })
        .collect();
    let at = At {
        cfg,
        root,
        targets: &targets,
        portals,
    };
    let transport = match a {
        ExportAction::Export { transport, .. }
        | ExportAction::AdoptExport { transport, .. }
        | ExportAction::AttachHost { transport, .. }
        | ExportAction::DetachHost { transport, .. }
        | ExportAction::Resize { transport, .. }
        | ExportAction::Unexport { transport, .. } => *transport,
    };
    match transport {
        Transport::Iscsi => one_iscsi(&at, rtslib, chap, a),
        Transport::NvmeTcp => one_nvme(&at, a),
    }
}

/// What an action is carried out against: the backend, configfs, the configuration read
/// under the lock, the backend's portals.
struct At<'a> {
    cfg: &'a BackendConfig,
    root: &'a TargetRoot,
    targets: &'a Targets,
    portals: Vec<Portal>,
}

fn one_iscsi(
    at: &At,
    rtslib: Option<&Path>,
    chap: &ChapStore,
    a: &ExportAction,
) -> Result<(), String> {
    let (cfg, root, lio_now) = (at.cfg, at.root, &at.targets.lio);
    let vol = a.volume().as_str();
    match a {
        ExportAction::Export { target, device, .. } => {
            let export = lio::IscsiExport {
                iqn: Iqn::parse(target).map_err(|e| e.to_string())?,
                device: PathBuf::from(device),
                serial: Identity::of(&cfg.volume_group, vol).uuid(),
                portals: at.portals.clone(),
                chap: Some(chap_of(cfg, chap, vol, (root, lio_now.target(target)))?),
                hosts: vec![],
            };
            export_iscsi(cfg, root, rtslib, at.targets, &export).map_err(|e| {
                match portals::wildcard_listener(&e, lio_now, &at.portals) {
                    Some(why) => format!("{e} ({why})"),
                    None => e,
                }
            })
        }
        ExportAction::AttachHost { target, host, .. } => {
            let iqn = Iqn::parse(target).map_err(|e| e.to_string())?;
            let h = Iqn::parse(host).map_err(|e| e.to_string())?;
            let c = chap_of(cfg, chap, vol, (root, lio_now.target(target)))?;
            write(root, &lio::acl_steps(&iqn, &h, Some(&c)))
        }
        ExportAction::AdoptExport { target, .. } => {
            adopt::iscsi(cfg, root, chap, vol, lio_now.target(target))
        }
        ExportAction::DetachHost { target, host, .. } => {
            write(root, &lio::remove_acl_steps(target, host, lio_now))
        }
        // (LIO reads the size at every READ CAPACITY: nothing to write; never planned)
        ExportAction::Resize { .. } => Ok(()),
        // (the target, or what an export cut short left of it: its backstore alone)
        ExportAction::Unexport { target, .. } => {
            let left = lio_now.target(target).is_some()
                || lio_now.backstores.iter().any(|b| b.name == *target);
            if !left {
                return Ok(());
            }
            still_ours(target, &lio_now.devices_of(target).0, &device_of(cfg, vol))?;
            write(
                root,
                &lio::remove_steps(target, lio_now).map_err(|e| e.to_string())?,
            )
        }
    }
}

fn one_nvme(at: &At, a: &ExportAction) -> Result<(), String> {
    let (cfg, root, now) = (at.cfg, at.root, &at.targets.nvmet);
    let err = |e: ExportError| e.to_string();
    match a {
        ExportAction::Export { target, device, .. } => {
            let id = Identity::of(&cfg.volume_group, a.volume().as_str());
            let export = nvme_export(cfg, target, device, &id, &at.portals, &[])?;
            let steps = match now.subsystem(target) {
                Some(_) => nvmet::complete_steps(&export, now).map_err(err)?,
                None => nvmet::create_steps(&export, now).map_err(err)?,
            };
            write(root, &steps)
        }
        ExportAction::AttachHost { target, host, .. } => {
            let h = Nqn::parse(host).map_err(|e| e.to_string())?;
            write(root, &nvmet::allow_steps(target, &h, now))
        }
        ExportAction::AdoptExport { target, hosts, .. } => {
            adopt::nvme(cfg, root, now, (target, a.volume().as_str()), hosts)
        }
        ExportAction::DetachHost { target, host, .. } => {
            write(root, &nvmet::disallow_steps(target, host, now))
        }
        ExportAction::Resize { target, .. } => {
            let steps = nvmet::revalidate_steps(target, now);
            if steps.is_empty() {
                return Err(format!(
                    "subsystem {target} has no enabled namespace to tell its hosts the new size"
                ));
            }
            write(root, &steps)
        }
        ExportAction::Unexport { target, .. } => match now.subsystem(target) {
            None => Ok(()),
            Some(s) => {
                if s.allow_any_host == Some(true) {
                    return Err(format!(
                        "{target} is left as it is: it changed since the plan and is not ember's export any more (open to any host)"
                    ));
                }
                let devices: Vec<String> = s
                    .namespaces
                    .iter()
                    .filter_map(|n| n.device_path.clone().filter(|d| !d.is_empty()))
                    .collect();
                still_ours(target, &devices, &device_of(cfg, a.volume().as_str()))?;
                write(root, &nvmet::remove_steps(target, now).map_err(err)?)
            }
        },
    }
}

fn device_of(cfg: &BackendConfig, vol: &str) -> String {
    format!("/dev/{}/{vol}", cfg.volume_group)
}

/// An unexport's last check, under the lock, on the configuration as it is now: the target
/// still opens the volume's device and nothing else (the plan saw it so; another tool may have
/// changed it since).
fn still_ours(target: &str, devices: &[String], device: &str) -> Result<(), String> {
    match devices.iter().find(|d| *d != device) {
        None => Ok(()),
        Some(other) => Err(format!(
            "{target} is left as it is: it changed since the plan and is not ember's export of {device} any more (it opens {other})"
        )),
    }
}

/// The volume's CHAP credentials, as LIO takes them: the store's; else those its target's
/// ACLs carry (an adopted target's, taken into the store); else made (the first time).
fn chap_of(
    cfg: &BackendConfig,
    chap: &ChapStore,
    vol: &str,
    (root, target): (&TargetRoot, Option<&lio::Target>),
) -> Result<lio::Chap, String> {
    let secret = adopt::volume_chap(&cfg.name, chap, vol, (&root.path, target))?;
    Ok(lio::Chap {
        user: secret.userid,
        password: secret.password,
    })
}

/// An iSCSI export made, or (ours, half made) completed.
fn export_iscsi(
    cfg: &BackendConfig,
    root: &TargetRoot,
    rtslib: Option<&Path>,
    targets: &Targets,
    export: &lio::IscsiExport,
) -> Result<(), String> {
    if targets.lio.target(export.iqn.as_str()).is_some() {
        return write(root, &lio::complete_steps(export, &targets.lio));
    }
    // rtslib picks an HBA index under its lock: so does ember, and reads again under it
    let _rts = rtslib.map(lock).transpose().map_err(|e| {
        format!("{e} (rtslib's lock, held while a backstore is made so that targetcli cannot pick the same index; under a sandbox it must be writable)")
    })?;
    let now = read_targets(cfg, root).map_err(|e| e.to_string())?;
    let steps = lio::create_steps(export, &now.lio).map_err(|e| e.to_string())?;
    write(root, &steps)
}

fn nvme_export(
    cfg: &BackendConfig,
    target: &str,
    device: &str,
    id: &Identity,
    portals: &[Portal],
    hosts: &[Nqn],
) -> Result<nvmet::NvmeExport, String> {
    let t = &cfg.target;
    let nsid =
        u32::try_from(t.nvmet_ns_id).map_err(|_| format!("nvmet_ns_id = {}", t.nvmet_ns_id))?;
    Ok(nvmet::NvmeExport {
        nqn: Nqn::parse(target).map_err(|e| e.to_string())?,
        nsid,
        device: PathBuf::from(device),
        uuid: id.uuid(),
        serial: id.nvme_serial(),
        ports: portals
            .iter()
            .enumerate()
            .map(|(i, p)| (t.nvmet_port_id.saturating_add(i as u16), *p))
            .collect(),
        hosts: hosts.to_vec(),
    })
}

/// The removals of `plan` (detach, unexport), before its LV actions. Returns the plan the LV
/// actions are then carried out from: without the deletion of a volume whose unexport failed
/// (LIO holds an exported LV open: it would fail, and it must not go while exported), which
/// is reported as skipped.
pub fn removals_first(
    cfg: &BackendConfig,
    root: &TargetRoot,
    plan: &super::Plan,
    outcome: &mut super::Outcome,
    progress: &dyn Fn(&super::apply::Step),
) -> super::Plan {
    let removals: Vec<ExportAction> = plan
        .export_actions
        .iter()
        .filter(|a| a.is_removal())
        .cloned()
        .collect();
    // the volumes about to be grown whose hosts must be told: marked before the `lvextend`
    grown::mark_planned(cfg, root, plan);
    let results = apply(cfg, root, &removals);
    grown::unmark_done(cfg, root, &results);
    let mut failed = vec![];
    record(results, outcome, &mut failed, progress);
    let mut p = plan.clone();
    p.actions.retain(|a| {
        let held = a.is_destructive() && failed.contains(a.subject());
        if held {
            outcome.skipped.push(super::apply::Failure {
                action: a.clone(),
                error: "skipped: its unexport failed (an exported volume is not deleted)".into(),
            });
        }
        !held
    });
    p
}

/// The exports and attaches of `plan`, after its LV actions: none for a volume whose creation
/// or activation failed or was skipped.
pub fn additions_after(
    cfg: &BackendConfig,
    root: &TargetRoot,
    plan: &super::Plan,
    outcome: &mut super::Outcome,
    progress: &dyn Fn(&super::apply::Step),
) {
    let not_made: Vec<&crate::names::LvName> = outcome
        .failed
        .iter()
        .chain(&outcome.skipped)
        .map(|f| f.action.subject())
        .collect();
    let (go, held): (Vec<ExportAction>, Vec<ExportAction>) = plan
        .export_actions
        .iter()
        .filter(|a| !a.is_removal())
        .cloned()
        .partition(|a| !not_made.contains(&a.volume()));
    let held = held
        .into_iter()
        .map(|a| (a, Err("skipped: the volume's own step failed".to_string())));
    let results: Vec<Done> = held.chain(apply(cfg, root, &go)).collect();
    grown::unmark_done(cfg, root, &results);
    grown::unmark_unplanned(cfg, root, plan);
    record(results, outcome, &mut vec![], progress);
    // a deleted volume's CHAP credentials go with it: a new volume of that name gets its own
    if cfg.target.helper() == TargetHelper::Lioadm {
        let chap = ChapStore::new(cfg.state_dir.clone());
        for a in outcome.done.iter().filter(|a| a.is_destructive()) {
            if let Err(e) = chap.forget(&cfg.name, a.subject().as_str()) {
                tracing::warn!(backend = %cfg.name, volume = %a.subject(), "cannot forget its CHAP credentials: {e}");
            }
        }
    }
}

/// The results into `outcome` (the volumes whose action failed into `failed`), each told to
/// `progress` as its line (`ember apply` prints them in the order they were done).
fn record(
    results: Vec<Done>,
    outcome: &mut super::Outcome,
    failed: &mut Vec<crate::names::LvName>,
    progress: &dyn Fn(&super::apply::Step),
) {
    for (a, r) in results {
        let line = match &r {
            Ok(()) => format!("{}  [done]", a.line()),
            Err(e) => format!("{}  [FAILED: {e}]", a.line()),
        };
        // (no count: the progress bar counts the volumes' actions)
        progress(&super::apply::Step {
            done: 0,
            total: 0,
            line,
            clearing: None,
        });
        match r {
            Ok(()) => outcome.export_done.push(a),
            Err(error) => {
                failed.push(a.volume().clone());
                outcome
                    .export_failed
                    .push(super::apply::ExportFailure { action: a, error });
            }
        }
    }
}

pub mod adopt;
pub mod grown;
mod portals;
#[cfg(test)]
mod tests;
