//! The LV a plan saw, as the writes that change or remove it are bound to it.

use super::{LvInfo, LvmError};
use crate::names::{LvName, LvUuid, VgName};

/// An existing LV as a plan saw it: its name and its UUID. Every write that changes or removes
/// an existing LV is bound to both (lvm acts on the LV of that name only if it has that UUID), so
/// an LV removed and made again under the same name since the read, by whatever tool, is never
/// touched: the write fails with [`LvmError::NotPlanned`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LvRef {
    pub name: LvName,
    pub uuid: LvUuid,
}

impl LvRef {
    pub fn new(name: &LvName, uuid: &LvUuid) -> LvRef {
        LvRef {
            name: name.clone(),
            uuid: uuid.clone(),
        }
    }
}

impl std::fmt::Display for LvRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (uuid {})", self.name, self.uuid)
    }
}

impl LvInfo {
    /// What a write to this LV is bound to.
    pub fn reference(&self) -> LvRef {
        LvRef::new(&self.name, &self.uuid)
    }
}

impl LvmError {
    /// [`LvmError::NotPlanned`] for `lv` in `vg`; `now` says what is there instead, if known.
    pub fn not_planned(vg: &VgName, lv: &LvRef, now: Option<String>) -> LvmError {
        LvmError::NotPlanned {
            vg: vg.to_string(),
            name: lv.name.to_string(),
            uuid: lv.uuid.to_string(),
            now: now.map(|n| format!("; {n}")).unwrap_or_default(),
        }
    }
}
