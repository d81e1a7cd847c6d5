//! The options of a backend's target (cinder/volume/driver.py, drivers/lvm.py), read as cinder
//! reads them: `target_helper`, `target_protocol`, `target_prefix`, `target_ip_address`
//! (`$my_ip` by default: [`super::myip`]), `target_secondary_ip_addresses` (or its deprecated
//! name), `target_port`, `nvmet_port_id`, `nvmet_ns_id`, `nvmeof_conn_info_version`,
//! `lvm_share_target`, `report_discard_supported`.
//!
//! A value oslo.config cannot convert is an error (cinder-volume fails on it as well). What
//! ember cannot export through (another helper, iSER, RDMA, a shared target, an address that
//! is not an IP address) is a warning while the backend exports nothing: its volumes are
//! managed as before. (An unset `target_helper`, cinder's default `tgtadm`, says nothing.)

use std::net::IpAddr;
use std::path::PathBuf;

use super::subst::{Read, Reader, Typed};
use crate::problem::Problem;

/// How a backend's volumes would leave the host.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum TargetHelper {
    /// `lioadm`: LIO's iSCSI target.
    Lioadm,
    /// `nvmet`: the kernel's NVMe-oF target.
    Nvmet,
    /// Any other helper (`tgtadm`, cinder's default, ...): ember exports nothing through it.
    Unsupported,
}

/// A backend's target options, as read.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct TargetSettings {
    /// `target_helper` as written (or cinder's default).
    pub target_helper: String,
    pub target_protocol: String,
    pub target_prefix: String,
    /// `target_ip_address`, `$my_ip` resolved.
    pub target_ip_address: String,
    pub target_secondary_ip_addresses: Vec<String>,
    pub target_port: u16,
    pub nvmet_port_id: u16,
    pub nvmet_ns_id: i64,
    pub nvmeof_conn_info_version: u8,
    pub lvm_share_target: bool,
    pub report_discard_supported: bool,
    /// `[DEFAULT] volume_name_template` (`volume-%s`): where a volume's cinder id is in its
    /// name, for the NVMe subsystem's name and the connection's `volume_id`.
    #[serde(default = "default_volume_name_template")]
    pub volume_name_template: String,
}

fn default_volume_name_template() -> String {
    "volume-%s".into()
}

impl Default for TargetSettings {
    fn default() -> Self {
        TargetSettings {
            target_helper: "tgtadm".into(),
            target_protocol: "iscsi".into(),
            target_prefix: "iqn.2010-10.org.openstack:".into(),
            target_ip_address: super::myip::LOCALHOST.into(),
            target_secondary_ip_addresses: vec![],
            target_port: 3260,
            nvmet_port_id: 1,
            nvmet_ns_id: 10,
            nvmeof_conn_info_version: 1,
            lvm_share_target: false,
            report_discard_supported: false,
            volume_name_template: default_volume_name_template(),
        }
    }
}

impl TargetSettings {
    pub fn helper(&self) -> TargetHelper {
        match self.target_helper.as_str() {
            "lioadm" => TargetHelper::Lioadm,
            "nvmet" => TargetHelper::Nvmet,
            _ => TargetHelper::Unsupported,
        }
    }

    /// Why ember cannot export this backend's volumes, or `None` when it can.
    pub fn unsupported(&self) -> Option<String> {
        let p = self.target_protocol.as_str();
        let why = match (self.helper(), p) {
            (TargetHelper::Unsupported, _) => format!(
                "target_helper = {}: ember exports through lioadm (iSCSI, the kernel's LIO) or nvmet (NVMe/TCP) only: set target_helper = lioadm, or nvmet with target_protocol = nvmet_tcp",
                self.target_helper
            ),
            (_, "iser" | "nvmet_rdma") => format!(
                "target_protocol = {p}: RDMA transports are not supported by ember (set iscsi or nvmet_tcp)"
            ),
            (TargetHelper::Lioadm, "nvmet_tcp") => {
                "target_helper = lioadm with target_protocol = nvmet_tcp: lioadm serves iSCSI (set target_protocol = iscsi, or target_helper = nvmet)".into()
            }
            (TargetHelper::Nvmet, "iscsi") => {
                "target_helper = nvmet with target_protocol = iscsi: cinder's nvmet helper refuses it (set target_protocol = nvmet_tcp)".into()
            }
            _ if self.lvm_share_target => {
                "lvm_share_target = True: one subsystem for many volumes is not supported by ember".into()
            }
            _ => return self.address_problem(),
        };
        Some(why)
    }

    /// One line for `ember check`: the helper, its transport and where it listens.
    pub fn describe(&self) -> String {
        let portals: Vec<String> = std::iter::once(&self.target_ip_address)
            .chain(&self.target_secondary_ip_addresses)
            .map(|a| match a.parse::<IpAddr>() {
                Ok(IpAddr::V6(v6)) => format!("[{v6}]:{}", self.target_port),
                _ => format!("{a}:{}", self.target_port),
            })
            .collect();
        match self.helper() {
            TargetHelper::Lioadm => format!(
                "lioadm ({}), portals {}, prefix {}",
                self.target_protocol,
                portals.join(" "),
                self.target_prefix
            ),
            TargetHelper::Nvmet => format!(
                "nvmet ({}), ports {} from id {}, namespace id {}, connection info v{}",
                self.target_protocol,
                portals.join(" "),
                self.nvmet_port_id,
                self.nvmet_ns_id,
                self.nvmeof_conn_info_version
            ),
            TargetHelper::Unsupported => {
                format!("{} (ember exports nothing through it)", self.target_helper)
            }
        }
    }

    fn address_problem(&self) -> Option<String> {
        let addrs =
            std::iter::once(&self.target_ip_address).chain(&self.target_secondary_ip_addresses);
        for a in addrs {
            if a.parse::<IpAddr>().is_err() {
                return Some(format!(
                    "target address {a:?} is not an IP address: LIO and nvmet listen on addresses, not names"
                ));
            }
        }
        let nvme = self.helper() == TargetHelper::Nvmet;
        if nvme
            && self.nvmeof_conn_info_version == 1
            && !self.target_secondary_ip_addresses.is_empty()
        {
            return Some("target_secondary_ip_addresses with nvmet need nvmeof_conn_info_version = 2 (cinder refuses them otherwise)".into());
        }
        if nvme && !(1..=0xFFFF_FFFE).contains(&self.nvmet_ns_id) {
            return Some(format!(
                "nvmet_ns_id = {}: a namespace id is 1 to 4294967294",
                self.nvmet_ns_id
            ));
        }
        None
    }
}

fn string(r: &Read, default: &str) -> String {
    match &r.value {
        Some(Typed::Str(s)) => s.clone(),
        _ => default.to_string(),
    }
}

fn int(r: &Read, default: i64) -> i64 {
    match &r.value {
        Some(Typed::Int(n)) => *n,
        _ => default,
    }
}

/// Reads backend `name`'s target options; `None` after an error (pushed to `problems`).
pub(super) fn read(
    reader: &Reader,
    name: &str,
    anchor: &Option<PathBuf>,
    problems: &mut Vec<Problem>,
) -> Option<TargetSettings> {
    let mut failed = false;
    let mut get = |opt: &str| match reader.backend(name, opt) {
        Ok(r) => Some(r),
        Err(mut p) => {
            p.message = format!("backend {name:?}: {}", p.message);
            problems.push(p);
            failed = true;
            None
        }
    };
    let opts = [
        "target_helper",
        "target_protocol",
        "target_prefix",
        "target_ip_address",
        "target_secondary_ip_addresses",
        "target_port",
        "nvmet_port_id",
        "nvmet_ns_id",
        "nvmeof_conn_info_version",
        "lvm_share_target",
        "report_discard_supported",
    ];
    let r: Vec<Option<Read>> = opts.iter().map(|o| get(o)).collect();
    if failed {
        return None;
    }
    let r: Vec<Read> = r.into_iter().flatten().collect();
    let d = TargetSettings::default();
    let version = int(&r[8], 1);
    if !(1..=2).contains(&version) {
        let (file, line) = at(&r[8], anchor);
        problems.push(Problem::error(
            file,
            line,
            format!("backend {name:?}: nvmeof_conn_info_version = {version}: must be 1 or 2"),
        ));
        return None;
    }
    let settings = TargetSettings {
        target_helper: string(&r[0], &d.target_helper),
        target_protocol: string(&r[1], &d.target_protocol),
        target_prefix: string(&r[2], ""),
        target_ip_address: string(&r[3], ""),
        target_secondary_ip_addresses: match &r[4].value {
            Some(Typed::List(v)) => v.clone(),
            _ => vec![],
        },
        target_port: int(&r[5], 3260) as u16,
        nvmet_port_id: int(&r[6], 1) as u16,
        nvmet_ns_id: int(&r[7], 10),
        nvmeof_conn_info_version: version as u8,
        lvm_share_target: matches!(r[9].value, Some(Typed::Bool(true))),
        report_discard_supported: matches!(r[10].value, Some(Typed::Bool(true))),
        // (set from [DEFAULT] once every backend is read)
        volume_name_template: default_volume_name_template(),
    };
    warn(name, &settings, &r, anchor, problems);
    deprecated_names(reader, name, problems);
    Some(settings)
}

fn at(r: &Read, anchor: &Option<PathBuf>) -> (Option<PathBuf>, Option<usize>) {
    match &r.origin {
        Some(o) => (Some(o.file.clone()), Some(o.line)),
        None => (anchor.clone(), None),
    }
}

/// The warnings of a backend that exports nothing: what ember could not export through, when
/// the operator set it; the deprecated name of the secondary addresses.
fn warn(
    name: &str,
    s: &TargetSettings,
    r: &[Read],
    anchor: &Option<PathBuf>,
    problems: &mut Vec<Problem>,
) {
    let explicit = r
        .iter()
        .take(4)
        .chain(&r[9..10])
        .any(|x| x.origin.is_some());
    if let Some(why) = s.unsupported().filter(|_| explicit) {
        let (file, line) = at(&r[0], anchor);
        problems.push(Problem::warning(file, line, format!(
            "backend {name:?}: {why}; a warning while no volume of it is exported, an error once one is"
        )));
    }
}

/// A warning for each section that sets the deprecated `iscsi_secondary_ip_addresses`.
fn deprecated_names(reader: &Reader, name: &str, problems: &mut Vec<Problem>) {
    for section in [name, "backend_defaults"] {
        if let Some(e) = reader.ini.get(section, "iscsi_secondary_ip_addresses") {
            problems.push(Problem::warning(Some(e.origin.file.clone()), Some(e.origin.line), format!(
                "backend {name:?}: iscsi_secondary_ip_addresses is deprecated: cinder reads it as target_secondary_ip_addresses, which wins when both are set (write that)"
            )));
        }
    }
}

#[cfg(test)]
mod tests;
