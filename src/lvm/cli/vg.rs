//! A volume group made of, or extended with, blank devices: `pvcreate`, `vgcreate`,
//! `vgextend`, `pvresize`. Each runs as a process of its own with no input (never in the lvm
//! shell, whose input is ember's next command: a prompt must read end-of-file, which lvm
//! answers "no"), and never with `--force` or `--yes`: lvm itself then refuses a device that
//! holds a signature, a second line of defence behind ember's probe.

use std::path::{Path, PathBuf};

use super::{LvmCli, Mode, s, size_arg};
use crate::lvm::LvmError;
use crate::names::{Tag, VgName};
use crate::size::Bytes;

/// A device path as an lvm command line may take it: absolute under /dev, one plain word.
pub(super) fn device_arg(path: &Path) -> Result<String, LvmError> {
    let text = path.to_str().unwrap_or_default();
    let plain = text.starts_with("/dev/")
        && !text.contains("/../")
        && !text.contains("/./")
        && !text.chars().any(|c| c.is_control() || c.is_whitespace());
    if plain {
        Ok(text.to_string())
    } else {
        Err(LvmError::Device {
            device: path.display().to_string(),
            detail: "is not a device path lvm may be given".into(),
        })
    }
}

impl LvmCli {
    pub(super) fn pvcreate(
        &self,
        devices: &[PathBuf],
        metadata_area: Bytes,
    ) -> Result<(), LvmError> {
        let mut args = vec![
            s("pvcreate"),
            s("--metadatasize"),
            size_arg(metadata_area),
            s("--"),
        ];
        for d in devices {
            args.push(device_arg(d)?);
        }
        self.run_once(Mode::Write, &args).map(drop)
    }

    pub(super) fn vgcreate(
        &self,
        vg: &VgName,
        devices: &[PathBuf],
        tags: &[Tag],
    ) -> Result<(), LvmError> {
        let mut args = vec![s("vgcreate")];
        for t in tags {
            args.extend([s("--addtag"), s(t.as_str())]);
        }
        args.extend([s("--"), s(vg.as_str())]);
        for d in devices {
            args.push(device_arg(d)?);
        }
        self.run_once(Mode::Write, &args).map(drop)
    }

    pub(super) fn vgextend(&self, vg: &VgName, devices: &[PathBuf]) -> Result<(), LvmError> {
        let mut args = vec![s("vgextend"), s("--"), s(vg.as_str())];
        for d in devices {
            args.push(device_arg(d)?);
        }
        self.run_once(Mode::Write, &args).map(drop)
    }

    pub(super) fn pvresize(&self, device: &Path) -> Result<(), LvmError> {
        let args = vec![s("pvresize"), s("--"), device_arg(device)?];
        self.run_once(Mode::Write, &args).map(drop)
    }
}
