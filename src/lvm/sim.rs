//! A simulated LVM whose state lives in a JSON file (`--lvm sim:PATH`), for fast tests and
//! demos without root. It keeps LVM's rules: sizes round up to whole extents, linear LVs and
//! thin pools (data plus metadata and its spare) take VG space, thin volumes need their pool,
//! names that exist or do not exist fail as lvm does, and `lvextend` cannot shrink. COW
//! snapshots (another tool's `lvcreate -s -L`, [`SimLvm::create_cow_snapshot`]) behave as on
//! lvm (src/lvm/kind.rs): removing an origin removes them with it, an active origin cannot grow,
//! activating an origin activates them.
//!
//! ```json
//! {"vgs": {"cinder-volumes": {"size": 10737418240, "extent_size": 4194304,
//!   "lvs": {"legacy": {"kind": "linear", "size": 1073741824, "tags": []}}}}}
//! ```

use std::cell::Cell;
use std::path::{Path, PathBuf};

use super::{LvRef, LvmError, LvmRead, Observed};
use crate::names::VgName;
mod state;
pub use state::*;

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
        self.write_bound(command, None, f, vg)
    }

    /// [`SimLvm::write`] of a command bound to the LV a plan saw ([`LvRef`]): as lvm with ember's
    /// check, nothing is done when no LV of that name has that UUID.
    fn write_bound(
        &self,
        command: String,
        bound: Option<&LvRef>,
        f: impl FnOnce(&mut SimVg) -> Result<(), String>,
        vg: &VgName,
    ) -> Result<(), LvmError> {
        self.calls.set(self.calls.get() + 1);
        let _lock = self.lock(true)?;
        let mut state = self.load()?;
        if state.write_delay_ms > 0 {
            std::thread::sleep(std::time::Duration::from_millis(state.write_delay_ms));
        }
        let fail = |stderr: String| LvmError::Failed {
            command: command.clone(),
            code: 5,
            stderr,
        };
        let v = state
            .vgs
            .get_mut(vg.as_str())
            .ok_or_else(|| fail(format!("Volume group \"{vg}\" not found")))?;
        if let Some(lv) = bound {
            let now = match v.lvs.get(lv.name.as_str()) {
                None => Some(Some("no LV of that name now".to_string())),
                Some(l) if l.uuid_of(lv.name.as_str()) != lv.uuid.as_str() => Some(None),
                Some(_) => None,
            };
            if let Some(now) = now {
                return Err(LvmError::not_planned(vg, lv, now));
            }
        }
        f(v).map_err(fail)?;
        self.save(&state)
    }
}

impl SimLvm {
    /// Whether a backstore of the modelled target configuration opens `device` (its
    /// `udev_path`): lvm then cannot remove the LV.
    fn exported(&self, device: &str) -> bool {
        let core = self.target_root().path.join("target/core");
        let Ok(hbas) = std::fs::read_dir(core) else {
            return false;
        };
        hbas.flatten()
            .filter_map(|h| std::fs::read_dir(h.path()).ok())
            .flatten()
            .flatten()
            .filter_map(|b| std::fs::read_to_string(b.path().join("udev_path")).ok())
            .any(|d| d.trim() == device)
    }
}

impl LvmRead for SimLvm {
    /// `<state file>.configfs`: a plain directory with configfs's rules modelled.
    fn target_root(&self) -> super::TargetRoot {
        let mut p = self.path.clone().into_os_string();
        p.push(".configfs");
        super::TargetRoot {
            path: p.into(),
            modelled: true,
        }
    }

    fn observe(&self, vg: &VgName) -> Result<Option<Observed>, LvmError> {
        self.calls.set(self.calls.get() + 1);
        let _lock = self.lock(false)?;
        let state = self.load()?;
        if state.read_delay_ms > 0 {
            std::thread::sleep(std::time::Duration::from_millis(state.read_delay_ms));
        }
        state
            .vgs
            .get(vg.as_str())
            .map(|v| v.observed(vg.as_str()).map_err(|e| self.err(e)))
            .transpose()
    }
    fn calls(&self) -> u64 {
        self.calls.get()
    }
    fn vg_names(&self) -> Result<Vec<String>, LvmError> {
        self.calls.set(self.calls.get() + 1);
        Ok(self.load()?.vgs.keys().cloned().collect())
    }
    /// The simulator has no devices apart from its state (which its stamp is).
    fn device_events(&self) -> Option<u64> {
        Some(0)
    }
    fn stamp(&self, _vg: &VgName, _last: &Observed) -> Option<super::stamp::Stamp> {
        std::fs::read(&self.path)
            .ok()
            .map(super::stamp::Stamp::of_contents)
    }
}

mod clear;
mod write;

#[cfg(test)]
mod tests;
