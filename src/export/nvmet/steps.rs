//! The steps that make and remove an NVMe/TCP export, in the kernel's orders
//! (linux drivers/nvme/target/configfs.c): a namespace's device, UUID and NGUID are written
//! before it is enabled (-EBUSY after); hosts exist before they are allowed; a port's address
//! is written before its first subsystem link enables it (-EACCES after), and an existing port
//! is never rewritten (that would drop every controller on it). Unlike cinder's helper, only
//! the listed hosts may connect (`attr_allow_any_host` 0).

use std::net::IpAddr;
use std::path::PathBuf;

use super::{NVMET, State};
use crate::export::configfs::{ExportError, Step, Value};
use crate::export::names::{Nqn, Portal};

/// One volume exported over NVMe/TCP: subsystem `nqn`, namespace `nsid` on `device`, a port
/// per (id, portal), the hosts allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NvmeExport {
    pub nqn: Nqn,
    pub nsid: u32,
    pub device: PathBuf,
    /// `device_uuid` and `device_nguid` ([`crate::export::identity::Identity::uuid`]).
    pub uuid: String,
    /// `attr_serial` ([`crate::export::identity::Identity::nvme_serial`]).
    pub serial: String,
    pub ports: Vec<(u16, Portal)>,
    pub hosts: Vec<Nqn>,
}

fn plain(s: impl Into<String>) -> Value {
    Value::Plain(s.into())
}

fn n(parts: &[&str]) -> PathBuf {
    parts.iter().fold(PathBuf::from(NVMET), |p, s| p.join(s))
}

/// The steps that make `export`, given nvmet as it is: refused when the subsystem exists, or
/// when a port of that id exists with another address.
pub fn create_steps(export: &NvmeExport, state: &State) -> Result<Vec<Step>, ExportError> {
    let nqn = export.nqn.as_str();
    if state.subsystem(nqn).is_some() {
        return Err(ExportError::Invalid(format!(
            "the NVMe subsystem {nqn} exists already"
        )));
    }
    let device = export.device.to_string_lossy();
    if !export.device.is_absolute() || device.contains('\n') {
        return Err(ExportError::Invalid(format!("bad device path {device:?}")));
    }
    if export.nsid == 0 || export.nsid == u32::MAX {
        return Err(ExportError::Invalid(format!(
            "namespace id {} is out of range",
            export.nsid
        )));
    }
    let mut steps = Vec::new();
    for h in &export.hosts {
        if !state.hosts.iter().any(|x| x == h.as_str()) {
            steps.push(Step::Mkdir(n(&["hosts", h.as_str()])));
        }
    }
    let sub = n(&["subsystems", nqn]);
    let ns = sub.join("namespaces").join(export.nsid.to_string());
    steps.extend([
        Step::Mkdir(sub.clone()),
        Step::Write(sub.join("attr_allow_any_host"), plain("0")),
        Step::Write(sub.join("attr_serial"), plain(&export.serial)),
        Step::Mkdir(ns.clone()),
        Step::Write(ns.join("device_path"), plain(device)),
        Step::Write(ns.join("device_uuid"), plain(&export.uuid)),
        Step::Write(ns.join("device_nguid"), plain(&export.uuid)),
        Step::Write(ns.join("enable"), plain("1")),
    ]);
    for h in &export.hosts {
        steps.push(Step::Symlink {
            link: sub.join("allowed_hosts").join(h.as_str()),
            target: n(&["hosts", h.as_str()]),
        });
    }
    for (id, portal) in &export.ports {
        steps.extend(port_steps(*id, portal, state)?);
        steps.push(Step::Symlink {
            link: n(&["ports", &id.to_string(), "subsystems", nqn]),
            target: sub.clone(),
        });
    }
    Ok(steps)
}

/// A new port's steps; none for an existing one with this address, an error for another.
fn port_steps(id: u16, portal: &Portal, state: &State) -> Result<Vec<Step>, ExportError> {
    let adrfam = match portal.ip {
        IpAddr::V4(_) => "ipv4",
        IpAddr::V6(_) => "ipv6",
    };
    let (traddr, trsvcid) = (portal.ip.to_string(), portal.port.to_string());
    if let Some(p) = state.port(id) {
        let same = p.trtype.as_deref() == Some("tcp")
            && p.traddr.as_deref() == Some(traddr.as_str())
            && p.trsvcid.as_deref() == Some(trsvcid.as_str());
        if same {
            return Ok(Vec::new());
        }
        return Err(ExportError::Invalid(format!(
            "nvmet port {id} exists with another address ({} {}:{}), not {portal}",
            p.trtype.as_deref().unwrap_or("?"),
            p.traddr.as_deref().unwrap_or("?"),
            p.trsvcid.as_deref().unwrap_or("?")
        )));
    }
    let dir = n(&["ports", &id.to_string()]);
    Ok(vec![
        Step::Mkdir(dir.clone()),
        Step::Write(dir.join("addr_trtype"), plain("tcp")),
        Step::Write(dir.join("addr_adrfam"), plain(adrfam)),
        Step::Write(dir.join("addr_traddr"), plain(traddr)),
        Step::Write(dir.join("addr_trsvcid"), plain(trsvcid)),
    ])
}

/// The steps that remove the subsystem `nqn`: out of every port first (its controllers go),
/// then its namespaces, its allowed hosts, itself. Hosts and ports stay (others may use them).
pub fn remove_steps(nqn: &str, state: &State) -> Result<Vec<Step>, ExportError> {
    let s = state
        .subsystem(nqn)
        .ok_or_else(|| ExportError::Invalid(format!("no NVMe subsystem {nqn}")))?;
    let sub = n(&["subsystems", nqn]);
    let mut steps = Vec::new();
    for p in state
        .ports
        .iter()
        .filter(|p| p.subsystems.iter().any(|x| x == nqn))
    {
        steps.push(Step::Unlink(n(&[
            "ports",
            &p.id.to_string(),
            "subsystems",
            nqn,
        ])));
    }
    for ns in &s.namespaces {
        let dir = sub.join("namespaces").join(ns.nsid.to_string());
        if ns.enabled == Some(true) {
            steps.push(Step::Write(dir.join("enable"), plain("0")));
        }
        steps.push(Step::Rmdir(dir));
    }
    for h in &s.allowed_hosts {
        steps.push(Step::Unlink(sub.join("allowed_hosts").join(h)));
    }
    steps.push(Step::Rmdir(sub));
    Ok(steps)
}

/// What a half-made export of ember's lacks: its namespace's `enable`, the ports it is not
/// linked into yet (made when they do not exist).
pub fn complete_steps(export: &NvmeExport, state: &State) -> Result<Vec<Step>, ExportError> {
    let nqn = export.nqn.as_str();
    let Some(s) = state.subsystem(nqn) else {
        return Ok(vec![]);
    };
    let sub = n(&["subsystems", nqn]);
    let mut steps = vec![];
    for ns in s.namespaces.iter().filter(|ns| ns.enabled != Some(true)) {
        steps.push(Step::Write(
            sub.join("namespaces")
                .join(ns.nsid.to_string())
                .join("enable"),
            plain("1"),
        ));
    }
    for (id, portal) in &export.ports {
        let linked = state
            .port(*id)
            .is_some_and(|p| p.subsystems.iter().any(|x| x == nqn));
        // (a port already linked is checked too: one whose address is no longer the declared
        // one, after target_ip_address changed, is an error to show, not a step to skip and
        // report done)
        let checked = port_steps(*id, portal, state)?;
        if !linked {
            steps.extend(checked);
            steps.push(Step::Symlink {
                link: n(&["ports", &id.to_string(), "subsystems", nqn]),
                target: sub.clone(),
            });
        }
    }
    Ok(steps)
}

/// The steps that tell the hosts connected to subsystem `nqn` the new size of its enabled
/// namespaces (`revalidate_size`: nvmet reads the device's size again and, when it changed,
/// sends each controller a namespace-changed event; a host rereads the size by itself).
pub fn revalidate_steps(nqn: &str, state: &State) -> Vec<Step> {
    let Some(s) = state.subsystem(nqn) else {
        return vec![];
    };
    s.namespaces
        .iter()
        .filter(|ns| ns.enabled == Some(true))
        .map(|ns| {
            Step::Write(
                n(&[
                    "subsystems",
                    nqn,
                    "namespaces",
                    &ns.nsid.to_string(),
                    "revalidate_size",
                ]),
                plain("1"),
            )
        })
        .collect()
}

/// The steps that allow `host` on the subsystem `nqn` (its host entry made if missing).
pub fn allow_steps(nqn: &str, host: &Nqn, state: &State) -> Vec<Step> {
    let mut steps = vec![];
    if !state.hosts.iter().any(|x| x == host.as_str()) {
        steps.push(Step::Mkdir(n(&["hosts", host.as_str()])));
    }
    steps.push(Step::Symlink {
        link: n(&["subsystems", nqn, "allowed_hosts", host.as_str()]),
        target: n(&["hosts", host.as_str()]),
    });
    steps
}

/// The steps that stop allowing `host` on the subsystem `nqn` (its host entry stays: other
/// subsystems may allow it), and drop the controllers it has connected: nvmet checks the host
/// at connect only, and has no way to drop one host's controller, so the subsystem is taken
/// out of each of its ports and put back (every controller goes; the hosts still allowed
/// reconnect by themselves, the removed one is refused). A detached host that kept writing
/// beside the volume's next host would corrupt it.
pub fn disallow_steps(nqn: &str, host: &str, state: &State) -> Vec<Step> {
    let mut steps = vec![Step::Unlink(n(&["subsystems", nqn, "allowed_hosts", host]))];
    steps.extend(drop_controllers(nqn, state));
    steps
}

/// The subsystem `nqn` taken out of each of its ports and put back: every controller of it
/// is dropped (the hosts still allowed reconnect by themselves).
fn drop_controllers(nqn: &str, state: &State) -> Vec<Step> {
    let mut steps = vec![];
    for p in state
        .ports
        .iter()
        .filter(|p| p.subsystems.iter().any(|x| x == nqn))
    {
        let link = n(&["ports", &p.id.to_string(), "subsystems", nqn]);
        steps.push(Step::Unlink(link.clone()));
        steps.push(Step::Symlink {
            link,
            target: n(&["subsystems", nqn]),
        });
    }
    steps
}

/// The steps that restrict the subsystem `nqn`, open to any host (as cinder's nvmet helper
/// makes it), to `hosts`, in the kernel's order: their host entries made, `attr_allow_any_host`
/// 0 (a host link is -EINVAL while it is 1), each host linked; then every controller dropped
/// as [`disallow_steps`] drops them (out of each port and back in): the hosts allowed
/// reconnect by themselves, any other is refused. Nothing else changes: its namespace (nsid,
/// device, UUID, NGUID), serial and ports stay, so the hosts see the same disk. A connect
/// between the write and a host's link is refused once; the host retries.
pub fn restrict_steps(nqn: &str, hosts: &[Nqn], state: &State) -> Result<Vec<Step>, ExportError> {
    let s = state
        .subsystem(nqn)
        .ok_or_else(|| ExportError::Invalid(format!("no NVMe subsystem {nqn}")))?;
    let sub = n(&["subsystems", nqn]);
    let mut steps = vec![];
    let mut made: Vec<&str> = vec![];
    for h in hosts {
        if !state.hosts.iter().any(|x| x == h.as_str()) && !made.contains(&h.as_str()) {
            steps.push(Step::Mkdir(n(&["hosts", h.as_str()])));
            made.push(h.as_str());
        }
    }
    // (hosts linked while closed, that the restriction does not list: unlinked first)
    for h in &s.allowed_hosts {
        if !hosts.iter().any(|x| x.as_str() == h) {
            steps.push(Step::Unlink(sub.join("allowed_hosts").join(h)));
        }
    }
    if s.allow_any_host != Some(false) {
        steps.push(Step::Write(sub.join("attr_allow_any_host"), plain("0")));
    }
    let mut linked: Vec<&str> = s.allowed_hosts.iter().map(String::as_str).collect();
    for h in hosts {
        if !linked.contains(&h.as_str()) {
            steps.push(Step::Symlink {
                link: sub.join("allowed_hosts").join(h.as_str()),
                target: n(&["hosts", h.as_str()]),
            });
            linked.push(h.as_str());
        }
    }
    steps.extend(drop_controllers(nqn, state));
    Ok(steps)
}

/// Where a step's path is, for tests: relative to nvmet's directory.
#[cfg(test)]
pub(crate) fn rel(p: &std::path::Path) -> String {
    p.strip_prefix(NVMET).unwrap_or(p).display().to_string()
}
