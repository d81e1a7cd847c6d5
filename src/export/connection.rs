//! The connection dictionary of an exported volume: what cinder-volume's
//! `initialize_connection` returns for it (cinder/volume/manager.py, the `lioadm` and `nvmet`
//! target helpers), so that a compute host's os-brick `connect_volume` takes it unchanged.
//! Pure: the target options, the volume and its CHAP pair in, the dictionary out.
//!
//! The names and numbers are cinder's (cinder/volume/targets/iscsi.py, lio.py, nvmeof.py,
//! nvmet.py), the ones ember's pass gives the target:
//! - iSCSI: target `target_prefix + volume name`, LUN 0, one portal `ip:port` per address
//!   (`target_ip_address`, then `target_secondary_ip_addresses`, on `target_port`; an IPv6
//!   address in brackets), the plural keys when there are several portals (or the initiator
//!   asks for multipath), CHAP always.
//! - NVMe/TCP: subsystem `nqn.` + `target_prefix` + `-` + the volume's id, namespace
//!   `nvmet_ns_id`, the v1 or v2 keys per `nvmeof_conn_info_version`; port and namespace id are
//!   strings, as cinder's come from splitting its `provider_location`.
//!
//! The volume's id is cinder's: the UUID `volume_name_template` puts in the name
//! (`volume-%s`), else the whole name (a volume cinder did not name). `vol_uuid` (v2) is the
//! namespace UUID ember writes ([`super::identity`]): for a cinder volume, the UUID in its
//! name, as cinder's nvmet helper writes `name_id`.
//!
//! Cinder's manager adds to every driver's `data`: `qos_specs` (none here), `access_mode`
//! (`rw`), `encrypted` (false: ember makes no encrypted volumes) and, with
//! `report_discard_supported`, `discard: true`.

use std::net::IpAddr;

use serde::Serialize;

use super::chap::Chap;
use super::identity::Identity;
use crate::config::{TargetHelper, TargetSettings};

/// A volume to connect to.
#[derive(Debug, Clone, Copy)]
pub struct Volume<'a> {
    /// Its volume group (for the identity of a volume not named by cinder).
    pub vg: &'a str,
    /// Its LV name.
    pub name: &'a str,
    /// cinder.conf's `volume_name_template` (`volume-%s`).
    pub template: &'a str,
}

impl Volume<'_> {
    /// cinder's volume id: the UUID `%s` stands for in the name (`volume-<uuid>`), else the
    /// whole name (a volume cinder did not name has no id; ember's pass names its NVMe
    /// subsystem the same way).
    pub fn id(&self) -> &str {
        match self.template.split_once("%s") {
            Some((pre, post))
                if self.name.len() > pre.len() + post.len()
                    && self.name.starts_with(pre)
                    && self.name.ends_with(post)
                    && is_uuid(&self.name[pre.len()..self.name.len() - post.len()]) =>
            {
                &self.name[pre.len()..self.name.len() - post.len()]
            }
            _ => self.name,
        }
    }
}

/// 8-4-4-4-12 hexadecimal digits.
fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Why there is no dictionary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionError {
    /// The backend's target options are not ones ember exports through.
    #[error("{0}")]
    Unsupported(String),
    /// An iSCSI export without its CHAP pair.
    #[error("volume {0}: no CHAP credentials (an iSCSI export always has them)")]
    NoChap(String),
}

/// `{"driver_volume_type": ..., "data": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Connection {
    pub driver_volume_type: &'static str,
    pub data: Data,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Data {
    Iscsi(IscsiData),
    NvmeV1(NvmeV1Data),
    NvmeV2(NvmeV2Data),
}

/// cinder's `_get_iscsi_properties` (iscsi.py) plus the manager's keys. `Debug` hides the
/// password.
#[derive(Clone, PartialEq, Serialize)]
pub struct IscsiData {
    pub target_discovered: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_portals: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_iqns: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_luns: Option<Vec<u32>>,
    pub target_portal: String,
    pub target_iqn: String,
    pub target_lun: u32,
    pub volume_id: String,
    pub auth_method: &'static str,
    pub auth_username: String,
    pub auth_password: String,
    #[serde(flatten)]
    pub common: Common,
}

impl std::fmt::Debug for IscsiData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IscsiData")
            .field("target_portals", &self.target_portals)
            .field("target_portal", &self.target_portal)
            .field("target_iqn", &self.target_iqn)
            .field("target_lun", &self.target_lun)
            .field("volume_id", &self.volume_id)
            .field("auth_username", &self.auth_username)
            .field("auth_password", &"<hidden>")
            .finish()
    }
}

/// `nvmeof_conn_info_version = 1` (nvmeof.py `_get_connection_properties`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NvmeV1Data {
    pub target_portal: String,
    pub target_port: String,
    pub nqn: String,
    pub transport_type: &'static str,
    pub ns_id: String,
    #[serde(flatten)]
    pub common: Common,
}

/// `nvmeof_conn_info_version = 2`: `portals` is a list of `[address, port, transport]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NvmeV2Data {
    pub target_nqn: String,
    pub vol_uuid: String,
    pub portals: Vec<(String, String, &'static str)>,
    pub ns_id: String,
    #[serde(flatten)]
    pub common: Common,
}

/// What cinder's manager adds to every driver's data (`_parse_connection_options`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Common {
    /// `null`: ember has no volume types, so no front-end QoS.
    pub qos_specs: (),
    pub access_mode: &'static str,
    pub encrypted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discard: Option<bool>,
}

impl Common {
    fn of(t: &TargetSettings) -> Common {
        Common {
            qos_specs: (),
            access_mode: "rw",
            encrypted: false,
            discard: t.report_discard_supported.then_some(true),
        }
    }
}

/// The iSCSI target of volume `name` (cinder's `target_prefix + volume name`).
pub fn iscsi_target_name(t: &TargetSettings, name: &str) -> String {
    format!("{}{}", t.target_prefix, name)
}

/// The NVMe subsystem of the volume whose cinder id is `id` (nvmet.py `_get_target_nqn`).
pub fn nvme_subsystem_name(t: &TargetSettings, id: &str) -> String {
    format!("nqn.{}-{}", t.target_prefix, id)
}

/// The addresses the target listens on, in cinder's order.
pub fn addresses(t: &TargetSettings) -> Result<Vec<IpAddr>, ConnectionError> {
    std::iter::once(&t.target_ip_address)
        .chain(&t.target_secondary_ip_addresses)
        .map(|a| {
            a.parse::<IpAddr>().map_err(|_| {
                ConnectionError::Unsupported(format!(
                    "target address {a:?} is not an IP address: set target_ip_address (and target_secondary_ip_addresses) to addresses"
                ))
            })
        })
        .collect()
}

/// cinder's `sanitize_host` + port: `ip:port`, `[v6]:port`.
fn portal(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

/// The dictionary cinder would return for `volume` of a backend with target options `t`.
/// `chap` is the volume's pair (iSCSI needs it); `multipath` is the connector's wish (cinder
/// then gives the plural keys even for one portal).
pub fn connection(
    t: &TargetSettings,
    volume: Volume<'_>,
    chap: Option<&Chap>,
    multipath: bool,
) -> Result<Connection, ConnectionError> {
    if let Some(why) = t.unsupported() {
        return Err(ConnectionError::Unsupported(why));
    }
    let ips = addresses(t)?;
    match t.helper() {
        TargetHelper::Lioadm => iscsi(t, volume, chap, multipath, &ips),
        TargetHelper::Nvmet => Ok(nvme(t, volume, &ips)),
        TargetHelper::Unsupported => Err(ConnectionError::Unsupported(format!(
            "target_helper = {}: set target_helper = lioadm or nvmet",
            t.target_helper
        ))),
    }
}

fn iscsi(
    t: &TargetSettings,
    volume: Volume<'_>,
    chap: Option<&Chap>,
    multipath: bool,
    ips: &[IpAddr],
) -> Result<Connection, ConnectionError> {
    let chap = chap.ok_or_else(|| ConnectionError::NoChap(volume.name.to_string()))?;
    let iqn = iscsi_target_name(t, volume.name);
    let portals: Vec<String> = ips.iter().map(|ip| portal(*ip, t.target_port)).collect();
    let plural = portals.len() > 1 || multipath;
    let n = portals.len();
    Ok(Connection {
        // cinder: the target_protocol (`iscsi`; `iser` is refused above)
        driver_volume_type: "iscsi",
        data: Data::Iscsi(IscsiData {
            target_discovered: false,
            target_portals: plural.then(|| portals.clone()),
            target_iqns: plural.then(|| vec![iqn.clone(); n]),
            target_luns: plural.then(|| vec![0; n]),
            target_portal: portals.first().cloned().unwrap_or_default(),
            target_iqn: iqn,
            target_lun: 0,
            volume_id: volume.id().to_string(),
            auth_method: "CHAP",
            auth_username: chap.userid.clone(),
            auth_password: chap.password.clone(),
            common: Common::of(t),
        }),
    })
}

fn nvme(t: &TargetSettings, volume: Volume<'_>, ips: &[IpAddr]) -> Connection {
    let nqn = nvme_subsystem_name(t, volume.id());
    let port = t.target_port.to_string();
    let ns_id = t.nvmet_ns_id.to_string();
    // cinder's `target_protocol_map`: nvmet_tcp → tcp (rdma is refused above)
    let transport = "tcp";
    let data = if t.nvmeof_conn_info_version == 2 {
        Data::NvmeV2(NvmeV2Data {
            target_nqn: nqn,
            vol_uuid: Identity::of(volume.vg, volume.name).uuid(),
            portals: ips
                .iter()
                .map(|ip| (ip.to_string(), port.clone(), transport))
                .collect(),
            ns_id,
            common: Common::of(t),
        })
    } else {
        Data::NvmeV1(NvmeV1Data {
            target_portal: ips.first().map(IpAddr::to_string).unwrap_or_default(),
            target_port: port,
            nqn,
            transport_type: transport,
            ns_id,
            common: Common::of(t),
        })
    };
    Connection {
        driver_volume_type: "nvmeof",
        data,
    }
}

#[cfg(test)]
mod tests;
