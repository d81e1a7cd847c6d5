//! `export: { hosts: [NAME, ...] }` on a present volume: the hosts it is exported to, through
//! the backend's target (cinder.conf's `target_helper` and `target_protocol`).
//!
//! ```yaml
//! volumes:
//!   volume-1:
//!     size: 10G
//!     export:
//!       hosts: [iqn.1993-08.org.debian:01:compute1]   # lioadm: initiator IQNs
//!   volume-2: { size: 10G, export: { hosts: [] } }    # exported to nobody
//! ```
//! No `export:` means not exported (an export of ember's is removed once no host is left on
//! it; one with hosts is left as it is: hosts are detached only when listed); `hosts: []`
//! keeps the target with no host allowed. `export:` with no value, and `export: {}`, are
//! errors. A name is an initiator's IQN for iSCSI, a host NQN for NVMe:
//! checked here against the backend's protocol, each error on its line.

use serde::{Deserialize, Serialize};

use super::BackendDesired;
use crate::config::{BackendConfig, TargetHelper};
use crate::names::target::{Iqn, Nqn};

/// A volume's export, as declared.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportDesired {
    /// The hosts allowed: initiator IQNs (iSCSI) or host NQNs (NVMe/TCP). Required: an
    /// `export: {}` says nothing about them (`hosts: []` is exported to nobody).
    pub hosts: Vec<String>,
}

/// One error: the volume, the host it is about and which of its occurrences (0: the first),
/// the message.
pub(super) type Found = (String, Option<(String, usize)>, String);

/// The errors of the backend's exports.
pub(super) fn check(cfg: &BackendConfig, b: &BackendDesired, out: &mut Vec<Found>) {
    let exported: Vec<_> = b
        .volumes
        .iter()
        .filter_map(|(name, v)| v.export().map(|e| (name, e)))
        .collect();
    let Some((first, _)) = exported.first() else {
        return;
    };
    // a backend that exports anything must name a target ember can write
    if let Some(why) = cfg.target.unsupported() {
        out.push((
            first.as_str().to_string(),
            None,
            format!(
                "volume {first} is exported, but backend {:?} cannot export: {why}",
                cfg.name
            ),
        ));
        return;
    }
    let helper = cfg.target.helper();
    for (volume, export) in exported {
        let mut seen: Vec<String> = vec![];
        for host in &export.hosts {
            let bad = match helper {
                TargetHelper::Lioadm => Iqn::parse(host).err().map(|e| {
                    format!("{e} (backend {:?} exports over iSCSI: a host is its initiator's IQN, /etc/iscsi/initiatorname.iscsi)", cfg.name)
                }),
                _ => Nqn::parse(host).err().map(|e| {
                    format!("{e} (backend {:?} exports over NVMe/TCP: a host is its NQN, /etc/nvme/hostnqn)", cfg.name)
                }),
            };
            if let Some(msg) = bad {
                out.push((
                    volume.to_string(),
                    Some((host.clone(), 0)),
                    format!("volume {volume}: {msg}"),
                ));
                continue;
            }
            // initiator names compare without case (RFC 3722; cinder compares so too)
            let key = host.to_ascii_lowercase();
            if seen.contains(&key) {
                out.push((
                    volume.to_string(),
                    Some((host.clone(), 1)),
                    format!("volume {volume}: host {host} is listed twice"),
                ));
            }
            seen.push(key);
        }
    }
}

#[cfg(test)]
mod tests;
