//! The volume group from its devices (`volume_group: { devices: [...] }`): created from blank
//! devices only, all or nothing; extended with a blank device added to the list; a PV whose
//! device grew resized; never reduced (a PV no longer listed stays, with a warning).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Plan, RefusalKind, WarningKind};
use crate::desired::VgDesired;
use crate::lvm::Observed;
use crate::lvm::probe::Device;
use crate::size::Bytes;

/// lvm's own metadata area (`pvmetadatasize` 255 sectors, rounded up to the 1 MiB data
/// alignment: about 1020 KiB), which holds the text of some hundreds of LVs only.
pub const LVM_DEFAULT_AREA: u64 = 1 << 20;
/// The metadata area of a PV ember makes: room for [`AREA_FOR_LVS`] LVs.
pub const EMBER_AREA: u64 = 16 << 20;
/// The LVs [`EMBER_AREA`] is sized for: lvm writes the VG's text only while it fits half the
/// area, `(mda_size − 512) / 2 − 512` bytes, and a thin volume with ember's tags takes about
/// 700 bytes of it (`plan/mda.rs`), so 16 MiB holds about 11 000.
pub const AREA_FOR_LVS: u64 = 10_000;

/// A device of a desired volume group, as planned: what its write is bound to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PlannedDevice {
    /// The path the desired state lists.
    pub path: PathBuf,
    /// The device node it resolved to when planned (what lvm is given).
    pub node: PathBuf,
    /// Its size.
    pub size: Bytes,
    /// Its device number when planned: the device written must still be this one.
    #[serde(skip)]
    #[schemars(skip)]
    pub dev: Option<(u64, u64)>,
}

impl PlannedDevice {
    fn of(d: &Device) -> PlannedDevice {
        PlannedDevice {
            path: d.path.clone(),
            node: d.node.clone(),
            size: Bytes(d.size),
            dev: d.dev,
        }
    }
}

/// What a pass does to the volume group itself, before anything in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum VgAction {
    /// `pvcreate --metadatasize` and `vgcreate --addtag ember-backend=NAME`.
    CreateVg {
        volume_group: String,
        devices: Vec<PlannedDevice>,
        /// The devices' sizes added up.
        size: Bytes,
        /// Each PV's metadata area.
        metadata_area: Bytes,
    },
    /// `pvcreate --metadatasize` and `vgextend`.
    ExtendVg {
        volume_group: String,
        devices: Vec<PlannedDevice>,
        metadata_area: Bytes,
    },
    /// `pvresize` of a PV whose device grew.
    ResizePv {
        device: PlannedDevice,
        from: Bytes,
        to: Bytes,
    },
}

impl VgAction {
    pub fn verb(&self) -> &'static str {
        match self {
            VgAction::CreateVg { .. } => "create_volume_group",
            VgAction::ExtendVg { .. } => "extend_volume_group",
            VgAction::ResizePv { .. } => "resize_physical_volume",
        }
    }

    /// One diff line, without indentation.
    pub fn line(&self) -> String {
        let paths = |ds: &[PlannedDevice]| {
            ds.iter()
                .map(|d| d.path.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            VgAction::CreateVg {
                volume_group,
                devices,
                size,
                metadata_area,
            } => format!(
                "+ create volume group {volume_group} on {} ({size}, metadata area {metadata_area} per device)",
                paths(devices)
            ),
            VgAction::ExtendVg {
                volume_group,
                devices,
                metadata_area,
            } => format!(
                "~ extend volume group {volume_group} with {} (+{}, metadata area {metadata_area} per device)",
                paths(devices),
                Bytes(devices.iter().map(|d| d.size.0).sum())
            ),
            VgAction::ResizePv { device, from, to } => format!(
                "~ resize physical volume {} {from} -> {to} (its device grew)",
                device.path.display()
            ),
        }
    }

    /// The devices it writes to.
    pub fn devices(&self) -> Vec<&PlannedDevice> {
        match self {
            VgAction::CreateVg { devices, .. } | VgAction::ExtendVg { devices, .. } => {
                devices.iter().collect()
            }
            VgAction::ResizePv { device, .. } => vec![device],
        }
    }
}

/// The metadata area of each new PV: ember's ([`EMBER_AREA`]), but never more than a
/// sixteenth of the smallest device, nor less than lvm's default.
pub fn metadata_area(devices: &[PlannedDevice]) -> Bytes {
    let smallest = devices.iter().map(|d| d.size.0).min().unwrap_or(0);
    let mib = 1 << 20;
    Bytes((EMBER_AREA.min(smallest / 16) / mib * mib).max(LVM_DEFAULT_AREA))
}

/// The plan of a volume group that does not exist: created from every listed device if every
/// one is blank; otherwise nothing, and each device refused with what was found on it.
pub fn plan_new_vg(vg: &str, want: &VgDesired, probe: &dyn Fn(&Path) -> Device, plan: &mut Plan) {
    let probed: Vec<Device> = want.devices.iter().map(|d| probe(d)).collect();
    let mut bad = 0;
    for (i, d) in probed.iter().enumerate() {
        let mut found = d.found.clone();
        if let Some(first) = probed[..i]
            .iter()
            .find(|o| o.dev.is_some() && o.dev == d.dev)
        {
            found.push(format!(
                "is the same device as {} (listed twice)",
                first.path.display()
            ));
        }
        if !found.is_empty() {
            bad += 1;
            plan.refuse(
                &d.path.display().to_string(),
                RefusalKind::DeviceInUse,
                found.join("; "),
            );
        }
    }
    if bad > 0 {
        plan.refuse(
            vg,
            RefusalKind::VgNotCreated,
            format!(
                "volume group not created: {bad} of its {} devices cannot be used, and nothing is written to any of them (a wrong list is more likely than an intent to use part of it)",
                probed.len()
            ),
        );
        return;
    }
    let devices: Vec<PlannedDevice> = probed.iter().map(PlannedDevice::of).collect();
    plan.vg_actions.push(VgAction::CreateVg {
        volume_group: vg.to_string(),
        size: Bytes(devices.iter().map(|d| d.size.0).sum()),
        metadata_area: metadata_area(&devices),
        devices,
    });
}

/// The plan of a volume group that exists: each listed device is one of its PVs (resized when
/// its device grew by an extent or more), or blank (added), or refused; a PV not listed stays.
pub fn plan_existing_vg(
    want: &VgDesired,
    observed: &Observed,
    probe: &dyn Fn(&Path) -> Device,
    plan: &mut Plan,
) {
    let vg = &observed.vg;
    let mut add: Vec<PlannedDevice> = vec![];
    let mut listed: Vec<(u64, u64)> = vec![];
    for path in &want.devices {
        let d = probe(path);
        let pv = observed
            .pvs
            .iter()
            .find(|p| p.dev.is_some() && p.dev == d.dev);
        if let Some(dev) = d.dev {
            if listed.contains(&dev) {
                plan.refuse(
                    &path.display().to_string(),
                    RefusalKind::DeviceInUse,
                    "is a device listed before under another path".into(),
                );
                continue;
            }
            listed.push(dev);
        }
        match pv {
            Some(pv) => {
                let (Some(size), Some(start)) = (pv.size, pv.pe_start) else {
                    continue;
                };
                if d.size >= size + start + vg.extent_size.max(1) {
                    plan.vg_actions.push(VgAction::ResizePv {
                        device: PlannedDevice::of(&d),
                        from: Bytes(size),
                        to: Bytes(d.size - start),
                    });
                }
            }
            None if d.is_blank() => add.push(PlannedDevice::of(&d)),
            None => plan.refuse(
                &path.display().to_string(),
                RefusalKind::DeviceInUse,
                d.found.join("; "),
            ),
        }
    }
    if !add.is_empty() {
        plan.vg_actions.push(VgAction::ExtendVg {
            volume_group: vg.name.clone(),
            metadata_area: metadata_area(&add),
            devices: add,
        });
    }
    for pv in &observed.pvs {
        if pv.dev.is_some_and(|d| !listed.contains(&d)) {
            plan.warn(
                &pv.name.display().to_string(),
                WarningKind::PvNotListed,
                format!(
                    "physical volume {} of volume group {} is not listed in volume_group.devices: it stays (ember never reduces a volume group)",
                    pv.name.display(),
                    vg.name
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests;
