//! A simulated LVM whose state lives in a JSON file (`--lvm sim:PATH`), for fast tests and
//! demos without root. It keeps LVM's rules: sizes round up to whole extents, linear LVs and
//! thin pools (data plus metadata and its spare) take VG space, thin volumes need their pool,
//! names that exist or do not exist fail as lvm does, and `lvextend` cannot shrink.
//!
//! ```json
//! {"vgs": {"cinder-volumes": {"size": 10737418240, "extent_size": 4194304,
//!   "lvs": {"legacy": {"kind": "linear", "size": 1073741824, "tags": []}}}}}
//! ```

use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{LvInfo, LvKind, LvmError, LvmRead, LvmWrite, Observed, VgInfo};
use crate::names::{LvName, OWNERSHIP_TAG, Tag, VgName};
use crate::size::Bytes;

const DEFAULT_EXTENT: u64 = 4 << 20;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimState {
    #[serde(default)]
    pub vgs: BTreeMap<String, SimVg>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimVg {
    pub size: u64,
    #[serde(default = "default_extent")]
    pub extent_size: u64,
    #[serde(default)]
    pub lvs: BTreeMap<String, SimLv>,
}

fn default_extent() -> u64 {
    DEFAULT_EXTENT
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimLv {
    pub kind: LvKind,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_percent: Option<f64>,
    #[serde(default = "super::yes", skip_serializing_if = "super::is_true")]
    pub active: bool,
    /// A thin volume in LVM's metadata that its pool never recorded (a creation cut short by a
    /// power cut): it cannot be activated, as on real LVM.
    #[serde(default, skip_serializing_if = "super::is_false")]
    pub unknown_to_pool: bool,
    /// lv_attr's health, as lvm would report it (set by tests: a failed pool, ...).
    #[serde(default, skip_serializing_if = "super::is_ok")]
    pub health: super::attr::Health,
}

impl SimVg {
    pub fn new(size: u64) -> Self {
        SimVg {
            size: Bytes(size).round_down(DEFAULT_EXTENT).0,
            extent_size: DEFAULT_EXTENT,
            lvs: BTreeMap::new(),
        }
    }

    fn pool_overhead(&self, data: u64) -> u64 {
        2 * super::sizing::lvm_metadata(data, self.extent_size)
    }

    fn used(&self) -> u64 {
        self.lvs
            .values()
            .map(|l| match l.kind {
                LvKind::ThinPool => l.size + self.pool_overhead(l.size),
                LvKind::Thin => 0,
                _ => l.size,
            })
            .sum()
    }

    pub fn free(&self) -> u64 {
        self.size.saturating_sub(self.used())
    }

    /// What `lvm fullreport` would show; an LV name lvm would refuse is an error.
    pub fn observed(&self, name: &str) -> Result<Observed, String> {
        let mut lvs = Vec::with_capacity(self.lvs.len());
        for (n, l) in &self.lvs {
            let lv_name = LvName::new(n).map_err(|e| e.to_string())?;
            lvs.push((lv_name, l));
        }
        Ok(Observed {
            vg: VgInfo {
                name: name.to_string(),
                size: self.size,
                free: self.free(),
                extent_size: self.extent_size,
            },
            lvs: lvs
                .into_iter()
                .map(|(n, l)| LvInfo {
                    name: n,
                    kind: l.kind,
                    size: l.size,
                    pool: l.pool.clone(),
                    tags: l.tags.clone(),
                    data_percent: match l.kind {
                        LvKind::ThinPool | LvKind::Thin => Some(l.data_percent.unwrap_or(0.0)),
                        _ => None,
                    },
                    metadata_percent: (l.kind == LvKind::ThinPool).then_some(1.0),
                    active: l.active,
                    zeroes: l.kind == LvKind::ThinPool,
                    health: l.health,
                })
                .collect(),
        })
    }
}

/// Simulated LVM backed by a JSON file. Reads never write the file.
pub struct SimLvm {
    path: PathBuf,
    calls: Cell<u64>,
}

impl SimLvm {
    pub fn open(path: &Path) -> Self {
        SimLvm {
            path: path.to_path_buf(),
            calls: Cell::new(0),
        }
    }

    fn err(&self, detail: impl Into<String>) -> LvmError {
        LvmError::SimState {
            path: self.path.display().to_string(),
            detail: detail.into(),
        }
    }

    pub fn load(&self) -> Result<SimState, LvmError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(SimState::default()),
            Err(e) => return Err(self.err(e.to_string())),
        };
        serde_json::from_str(&text).map_err(|e| self.err(e.to_string()))
    }

    pub fn save(&self, state: &SimState) -> Result<(), LvmError> {
        let text = serde_json::to_string_pretty(state).map_err(|e| self.err(e.to_string()))?;
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, &self.path))
            .map_err(|e| self.err(e.to_string()))
    }

    /// Serialises access between processes (one daemon worker per backend shares the file).
    fn lock(&self, exclusive: bool) -> Result<nix::fcntl::Flock<std::fs::File>, LvmError> {
        let path = self.path.with_extension("lock");
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| self.err(e.to_string()))?;
        let arg = if exclusive {
            nix::fcntl::FlockArg::LockExclusive
        } else {
            nix::fcntl::FlockArg::LockShared
        };
        nix::fcntl::Flock::lock(f, arg).map_err(|(_, e)| self.err(format!("lock: {e}")))
    }

    /// Runs one simulated write command: load, check, change, save.
    fn write(
        &self,
        command: String,
        f: impl FnOnce(&mut SimVg) -> Result<(), String>,
        vg: &VgName,
    ) -> Result<(), LvmError> {
        self.calls.set(self.calls.get() + 1);
        let _lock = self.lock(true)?;
        let mut state = self.load()?;
        let fail = |stderr: String| LvmError::Failed {
            command: command.clone(),
            code: 5,
            stderr,
        };
        let v = state
            .vgs
            .get_mut(vg.as_str())
            .ok_or_else(|| fail(format!("Volume group \"{vg}\" not found")))?;
        f(v).map_err(fail)?;
        self.save(&state)
    }
}

fn check_space(vg: &SimVg, need: u64) -> Result<(), String> {
    if need > vg.free() {
        return Err(format!(
            "Volume group has insufficient free space ({} extents): {} required.",
            vg.free() / vg.extent_size,
            need.div_ceil(vg.extent_size)
        ));
    }
    Ok(())
}

impl LvmRead for SimLvm {
    fn observe(&self, vg: &VgName) -> Result<Option<Observed>, LvmError> {
        self.calls.set(self.calls.get() + 1);
        let _lock = self.lock(false)?;
        self.load()?
            .vgs
            .get(vg.as_str())
            .map(|v| v.observed(vg.as_str()).map_err(|e| self.err(e)))
            .transpose()
    }
    fn calls(&self) -> u64 {
        self.calls.get()
    }
}

impl LvmWrite for SimLvm {
    fn create_thin_pool(&self, vg: &VgName, pool: &LvName, size: Bytes) -> Result<(), LvmError> {
        let cmd = format!("lvcreate --type thin-pool -L {}b -n {pool} {vg}", size.0);
        self.write(
            cmd,
            |v| {
                if v.lvs.contains_key(pool.as_str()) {
                    return Err(format!(
                        "Logical Volume \"{pool}\" already exists in volume group \"{vg}\""
                    ));
                }
                let size = size.round_up(v.extent_size).0;
                check_space(v, size + v.pool_overhead(size))?;
                v.lvs.insert(
                    pool.to_string(),
                    SimLv {
                        kind: LvKind::ThinPool,
                        size,
                        pool: None,
                        tags: vec![OWNERSHIP_TAG.into()],
                        data_percent: Some(0.0),
                        active: true,
                        unknown_to_pool: false,
                        health: Default::default(),
                    },
                );
                Ok(())
            },
            vg,
        )
    }

    fn create_lv(
        &self,
        vg: &VgName,
        name: &LvName,
        size: Bytes,
        pool: Option<&LvName>,
        active: bool,
        tags: &[Tag],
    ) -> Result<(), LvmError> {
        let cmd = format!("lvcreate -L {}b -n {name} {vg}", size.0);
        self.write(
            cmd,
            |v| {
                if v.lvs.contains_key(name.as_str()) {
                    return Err(format!(
                        "Logical Volume \"{name}\" already exists in volume group \"{vg}\""
                    ));
                }
                let size = size.round_up(v.extent_size).0;
                let kind = match pool {
                    Some(p) => {
                        if v.lvs.get(p.as_str()).map(|l| l.kind) != Some(LvKind::ThinPool) {
                            return Err(format!("Thin pool {vg}/{p} not found."));
                        }
                        LvKind::Thin
                    }
                    None => {
                        check_space(v, size)?;
                        LvKind::Linear
                    }
                };
                v.lvs.insert(
                    name.to_string(),
                    SimLv {
                        kind,
                        size,
                        pool: pool.map(|p| p.to_string()),
                        tags: tags.iter().map(|t| t.to_string()).collect(),
                        data_percent: None,
                        active,
                        unknown_to_pool: false,
                        health: Default::default(),
                    },
                );
                Ok(())
            },
            vg,
        )
    }

    fn extend(&self, vg: &VgName, lv: &LvName, size: Bytes) -> Result<(), LvmError> {
        let cmd = format!("lvextend -L {}b {vg}/{lv}", size.0);
        self.write(
            cmd,
            |v| {
                let extent = v.extent_size;
                let size = size.round_up(extent).0;
                let (kind, cur) = v
                    .lvs
                    .get(lv.as_str())
                    .map(|l| (l.kind, l.size))
                    .ok_or_else(|| format!("Failed to find logical volume \"{vg}/{lv}\""))?;
                if size <= cur {
                    return Err(format!(
                        "New size given ({} extents) not larger than existing size ({} extents)",
                        size / extent,
                        cur / extent
                    ));
                }
                match kind {
                    LvKind::ThinPool => {
                        check_space(v, size + v.pool_overhead(size) - cur - v.pool_overhead(cur))?
                    }
                    LvKind::Thin => {}
                    _ => check_space(v, size - cur)?,
                }
                if let Some(l) = v.lvs.get_mut(lv.as_str()) {
                    l.size = size;
                }
                Ok(())
            },
            vg,
        )
    }

    fn remove(&self, vg: &VgName, lv: &LvName) -> Result<(), LvmError> {
        let cmd = format!("lvremove --yes {vg}/{lv}");
        self.write(
            cmd,
            |v| {
                if !v.lvs.contains_key(lv.as_str()) {
                    return Err(format!("Failed to find logical volume \"{vg}/{lv}\""));
                }
                if v.lvs
                    .values()
                    .any(|l| l.pool.as_deref() == Some(lv.as_str()))
                {
                    return Err(format!(
                        "Logical volume {vg}/{lv} is used by another device."
                    ));
                }
                v.lvs.remove(lv.as_str());
                Ok(())
            },
            vg,
        )
    }

    fn change_tags(
        &self,
        vg: &VgName,
        lv: &LvName,
        add: &[Tag],
        remove: &[Tag],
    ) -> Result<(), LvmError> {
        let cmd = format!("lvchange --addtag/--deltag {vg}/{lv}");
        self.write(
            cmd,
            |v| {
                let l = v
                    .lvs
                    .get_mut(lv.as_str())
                    .ok_or_else(|| format!("Failed to find logical volume \"{vg}/{lv}\""))?;
                l.tags.retain(|t| !remove.iter().any(|r| r.as_str() == t));
                for t in add {
                    if !l.tags.iter().any(|x| x == t.as_str()) {
                        l.tags.push(t.to_string());
                    }
                }
                l.tags.sort();
                Ok(())
            },
            vg,
        )
    }

    fn activate_many(&self, vg: &VgName, lvs: &[LvName]) -> Result<(), LvmError> {
        let names: Vec<String> = lvs.iter().map(|l| format!("{vg}/{l}")).collect();
        let cmd = format!("lvchange --activate y {}", names.join(" "));
        // as lvm: every volume it can, then a failure naming the others
        let mut errors = vec![];
        let result = self.write(
            cmd.clone(),
            |v| {
                for lv in lvs {
                    match v.lvs.get_mut(lv.as_str()) {
                        None => errors.push(format!("Failed to find logical volume \"{vg}/{lv}\"")),
                        // what lvm prints when the kernel's thin target does not find the device
                        Some(l) if l.unknown_to_pool => errors.push(format!(
                            "device-mapper: reload ioctl on  (253:9) {}",
                            super::UNKNOWN_TO_POOL
                        )),
                        Some(l) => l.active = true,
                    }
                }
                Ok(())
            },
            vg,
        );
        result?;
        if errors.is_empty() {
            Ok(())
        } else {
            Err(LvmError::Failed {
                command: cmd,
                code: 5,
                stderr: errors.join("\n"),
            })
        }
    }
}

#[cfg(test)]
mod tests;
