//! An adopted volume's export taken over as it is (cinder's lioadm makes it exactly as ember
//! does): nothing is made again, nothing removed, no session dropped. Its hosts' CHAP pair (on
//! every ACL, as cinder sets it) becomes the volume's in ember's store, so that a host attached
//! later, and `ember connection`, give the pair the compute hosts already log in with; each
//! ACL's `auth/` is made root-only, as ember makes its own. cinder's nvmet subsystems (open to
//! any host) are kept as they are too (same NQN, namespace, UUID, NGUID, serial), restricted to
//! the declared hosts.

use std::path::Path;

use crate::config::BackendConfig;
use crate::export::chap::{Chap, ChapStore};
use crate::export::names::Nqn;
use crate::export::{Step, lio, nvmet};
use crate::lvm::TargetRoot;

/// The one CHAP pair a target's ACLs carry (`None` when none has one). An error when they
/// carry different pairs, or a password cannot be read (the kernel shows it to CAP_SYS_ADMIN
/// only): a pair ember made up instead would lock the hosts out at their next login.
pub fn acl_chap(t: &lio::Target) -> Result<Option<Chap>, String> {
    let mut pairs: Vec<&lio::Chap> = vec![];
    for a in t.tpgs.iter().flat_map(|g| &g.acls) {
        match &a.chap {
            Some(c) if !pairs.contains(&c) => pairs.push(c),
            Some(_) => {}
            None if a.chap_user_set => {
                return Err(format!(
                    "the CHAP password of ACL {} of iSCSI target {} cannot be read (the kernel shows it to root with CAP_SYS_ADMIN only)",
                    a.initiator, t.iqn
                ));
            }
            None => {}
        }
    }
    match pairs.as_slice() {
        [] => Ok(None),
        [c] => Ok(Some(Chap {
            userid: c.user.clone(),
            password: c.password.clone(),
        })),
        more => Err(format!(
            "the ACLs of iSCSI target {} carry {} different CHAP pairs: ember keeps one per volume and will not pick one",
            t.iqn,
            more.len()
        )),
    }
}

/// The volume's CHAP pair: the store's; else the one its target's ACLs carry (read now under
/// `root`, taken into the store); else a new one (made once).
pub fn volume_chap(
    backend: &str,
    store: &ChapStore,
    vol: &str,
    (root, target): (&Path, Option<&lio::Target>),
) -> Result<Chap, String> {
    let what = |e: crate::export::chap::ChapError| format!("the CHAP credentials of {vol}: {e}");
    if let Some(c) = store.load(backend, vol).map_err(what)? {
        return Ok(c);
    }
    let target = target
        .map(|t| lio::with_passwords(root, t))
        .transpose()
        .map_err(|e| e.to_string())?;
    if let Some(c) = target.as_ref().map(acl_chap).transpose()?.flatten() {
        store.put(backend, vol, &c).map_err(what)?;
        tracing::info!(
            backend,
            volume = vol,
            "CHAP credentials taken from the ACLs of its target (those its hosts log in with)"
        );
        return Ok(c);
    }
    store.get_or_create(backend, vol).map_err(what)
}

/// `AdoptExport` of an iSCSI target: its ACLs' pair into the store (replacing one that differs:
/// the ACLs' is the one the hosts log in with), then each `auth/` open to others made
/// root-only. Nothing else is written.
pub(super) fn iscsi(
    cfg: &BackendConfig,
    root: &TargetRoot,
    store: &ChapStore,
    vol: &str,
    target: Option<&lio::Target>,
) -> Result<(), String> {
    let t = target.ok_or_else(|| format!("the iSCSI target of {vol} is gone"))?;
    let t = &lio::with_passwords(&root.path, t).map_err(|e| e.to_string())?;
    let what = |e: crate::export::chap::ChapError| format!("the CHAP credentials of {vol}: {e}");
    if let Some(c) = acl_chap(t)? {
        let had = store.load(&cfg.name, vol).map_err(what)?;
        if had.as_ref() != Some(&c) {
            store.put(&cfg.name, vol, &c).map_err(what)?;
            if had.is_some() {
                tracing::warn!(backend = %cfg.name, volume = vol, "the CHAP pair ember kept for the volume is replaced by the one its target's ACLs carry (the one its hosts log in with)");
            }
        }
    }
    let steps: Vec<Step> = t
        .tpgs
        .iter()
        .flat_map(|g| g.acls.iter().map(move |a| (g.tag, a)))
        .filter(|(_, a)| !a.auth_private)
        .map(|(tag, a)| {
            Step::RootOnly(
                Path::new(lio::TARGET)
                    .join("iscsi")
                    .join(&t.iqn)
                    .join(format!("tpgt_{tag}"))
                    .join("acls")
                    .join(&a.initiator)
                    .join("auth"),
            )
        })
        .collect();
    super::write(root, &steps)
}

/// `AdoptExport` of an NVMe subsystem open to any host (cinder's nvmet's): restricted to the
/// declared `hosts` ([`nvmet::restrict_steps`]), checked first under the lock on the
/// configuration as it is now: still one namespace, on the volume's device and nothing else
/// (another tool may have changed it since the plan), every host a valid NQN (none written
/// before all are known good: a half restriction would cut the declared hosts off).
pub(super) fn nvme(
    cfg: &BackendConfig,
    root: &TargetRoot,
    now: &nvmet::State,
    (target, vol): (&str, &str),
    hosts: &[String],
) -> Result<(), String> {
    let s = now
        .subsystem(target)
        .ok_or_else(|| format!("the NVMe subsystem {target} of {vol} is gone"))?;
    let devices: Vec<String> = s
        .namespaces
        .iter()
        .map(|n| n.device_path.clone().unwrap_or_default())
        .collect();
    let device = super::device_of(cfg, vol);
    if devices != [device.as_str()] {
        return Err(format!(
            "{target} is left as it is: it changed since the plan and is not one namespace on {device} any more ({})",
            devices.join(", ")
        ));
    }
    let hosts: Vec<Nqn> = hosts
        .iter()
        .map(|h| Nqn::parse(h).map_err(|e| format!("host {h}: {e}")))
        .collect::<Result<_, _>>()?;
    let steps = nvmet::restrict_steps(target, &hosts, now).map_err(|e| e.to_string())?;
    super::write(root, &steps)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_nvme;
