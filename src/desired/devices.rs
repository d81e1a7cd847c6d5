//! The backend's volume group as the desired state declares it: the devices it is made of.
//!
//! ```yaml
//! volume_group:
//!   devices: [/dev/disk/by-id/virtio-disk1, /dev/disk/by-id/virtio-disk2]
//! ```
//! Created from these devices when it does not exist (only if every one is blank), extended
//! with a blank one added to the list; never reduced.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

/// At most this many devices: a longer list is a mistake (lvm's own command line stays short).
pub const MAX_DEVICES: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawVg")]
pub struct VgDesired {
    pub devices: Vec<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVg {
    devices: Vec<String>,
}

impl TryFrom<RawVg> for VgDesired {
    type Error = String;
    fn try_from(r: RawVg) -> Result<Self, String> {
        if r.devices.is_empty() {
            return Err("volume_group: devices is empty: list at least one device (e.g. /dev/disk/by-id/...)".into());
        }
        if r.devices.len() > MAX_DEVICES {
            return Err(format!(
                "volume_group: {} devices; more than {MAX_DEVICES} is refused",
                r.devices.len()
            ));
        }
        let mut devices: Vec<PathBuf> = vec![];
        for d in r.devices {
            let path = device_path(&d)?;
            if devices.contains(&path) {
                return Err(format!("volume_group: device {d} is listed twice"));
            }
            devices.push(path);
        }
        Ok(VgDesired { devices })
    }
}

/// A device as the file names it: an absolute path under /dev, with no `..`, `.` or empty
/// part, and nothing an lvm command line could take for an option or a second word.
fn device_path(d: &str) -> Result<PathBuf, String> {
    let bad = |why: &str| format!("volume_group: device {d:?} {why}");
    if !d.starts_with("/dev/") {
        return Err(bad(
            "is not a device path under /dev/ (e.g. /dev/disk/by-id/...)",
        ));
    }
    if d.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad("holds a space or a control character"));
    }
    if d.len() > 4096 {
        return Err(bad("is longer than a path may be"));
    }
    let path = Path::new(d);
    let normal = path
        .components()
        .all(|c| matches!(c, Component::RootDir | Component::Normal(_)));
    if !normal || d.ends_with('/') || d.contains("//") {
        return Err(bad(
            "is not a plain path (no `.`, `..`, `//` or trailing `/`)",
        ));
    }
    Ok(path.to_path_buf())
}

/// A kernel name (`/dev/sdb`, `/dev/vdb`, `/dev/nvme0n1`): a device directly in /dev, whose
/// name the kernel gives in the order it finds disks and may give another disk after a boot.
pub fn is_kernel_name(path: &Path) -> bool {
    path.parent() == Some(Path::new("/dev"))
}

#[cfg(test)]
mod tests;
