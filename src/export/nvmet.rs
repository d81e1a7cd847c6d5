//! nvmet's NVMe-oF subsystems, hosts and ports, under `<root>/nvmet` (the research notes,
//! section 3.2): what is there ([`read`]) and the steps that make or remove one export
//! ([`create_steps`], [`remove_steps`]).

use std::path::Path;

use super::configfs::{ExportError, attr, flag, links, subdirs};

mod steps;
pub use steps::{
    NvmeExport, allow_steps, complete_steps, create_steps, disallow_steps, remove_steps,
    restrict_steps, revalidate_steps,
};

/// nvmet's configfs directory, relative to the configfs root.
pub const NVMET: &str = "nvmet";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    pub nsid: u32,
    pub device_path: Option<String>,
    pub device_uuid: Option<String>,
    pub device_nguid: Option<String>,
    pub enabled: Option<bool>,
}

/// `nvmet/subsystems/<nqn>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subsystem {
    pub nqn: String,
    pub allow_any_host: Option<bool>,
    pub serial: Option<String>,
    /// `allowed_hosts/` links (host NQNs).
    pub allowed_hosts: Vec<String>,
    pub namespaces: Vec<Namespace>,
}

/// `nvmet/ports/<id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    pub id: u16,
    pub trtype: Option<String>,
    pub adrfam: Option<String>,
    pub traddr: Option<String>,
    pub trsvcid: Option<String>,
    /// `subsystems/` links (subsystem NQNs): a port with one is enabled.
    pub subsystems: Vec<String>,
}

/// nvmet as it is now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// Whether nvmet is loaded (`nvmet/` exists).
    pub loaded: bool,
    pub hosts: Vec<String>,
    pub subsystems: Vec<Subsystem>,
    pub ports: Vec<Port>,
}

impl State {
    pub fn subsystem(&self, nqn: &str) -> Option<&Subsystem> {
        self.subsystems.iter().find(|s| s.nqn == nqn)
    }

    pub fn port(&self, id: u16) -> Option<&Port> {
        self.ports.iter().find(|p| p.id == id)
    }
}

/// Reads nvmet's configuration under `root` (`/sys/kernel/config`).
pub fn read(root: &Path) -> Result<State, ExportError> {
    let n = root.join(NVMET);
    let mut state = State {
        loaded: n.is_dir(),
        hosts: subdirs(&n.join("hosts"))?,
        ..State::default()
    };
    for nqn in subdirs(&n.join("subsystems"))? {
        let dir = n.join("subsystems").join(&nqn);
        let mut namespaces = Vec::new();
        for id in subdirs(&dir.join("namespaces"))? {
            let Ok(nsid) = id.parse() else { continue };
            let ns = dir.join("namespaces").join(&id);
            namespaces.push(Namespace {
                nsid,
                device_path: attr(&ns.join("device_path"))?.filter(|s| !s.is_empty()),
                device_uuid: attr(&ns.join("device_uuid"))?,
                device_nguid: attr(&ns.join("device_nguid"))?,
                enabled: flag(&ns.join("enable"))?,
            });
        }
        state.subsystems.push(Subsystem {
            allow_any_host: flag(&dir.join("attr_allow_any_host"))?,
            serial: attr(&dir.join("attr_serial"))?,
            allowed_hosts: links(&dir.join("allowed_hosts"))?,
            namespaces,
            nqn,
        });
    }
    for id in subdirs(&n.join("ports"))? {
        let Ok(idn) = id.parse() else { continue };
        let dir = n.join("ports").join(&id);
        state.ports.push(Port {
            id: idn,
            trtype: attr(&dir.join("addr_trtype"))?,
            adrfam: attr(&dir.join("addr_adrfam"))?,
            traddr: attr(&dir.join("addr_traddr"))?,
            trsvcid: attr(&dir.join("addr_trsvcid"))?,
            subsystems: links(&dir.join("subsystems"))?,
        });
    }
    Ok(state)
}

#[cfg(test)]
mod tests;
