//! COW snapshots in the simulator: another tool's (`lvcreate --snapshot --size`), never ember's.

use super::super::{SimLv, SimLvm, SimVg};
use super::{check_mda, check_space, snapshot_origin};
use crate::lvm::{LvKind, LvmError};
use crate::names::{LvName, VgName};
use crate::size::Bytes;

/// Whether `lv` is the origin of a COW snapshot.
pub(super) fn has_cow(vg: &SimVg, lv: &LvName) -> bool {
    vg.lvs
        .values()
        .any(|l| l.kind == LvKind::CowSnapshot && l.origin.as_deref() == Some(lv.as_str()))
}

impl SimLvm {
    /// What another tool's `lvcreate --snapshot --size SIZE -n NAME VG/ORIGIN` does (a backup
    /// tool's nightly snapshot, cinder's snapshot on a thick backend): a COW snapshot, untagged,
    /// active with its origin, in `size` bytes of the VG's extents. Never ember's (not in
    /// [`crate::lvm::LvmWrite`]).
    pub fn create_cow_snapshot(
        &self,
        vg: &VgName,
        origin: &LvName,
        name: &LvName,
        size: Bytes,
    ) -> Result<(), LvmError> {
        let cmd = format!("lvcreate --snapshot -L {}b -n {name} {vg}/{origin}", size.0);
        self.write(
            cmd,
            |v| {
                let o = snapshot_origin(v, vg, name, origin)?;
                match o.kind {
                    LvKind::Thin | LvKind::Linear => {}
                    LvKind::CowSnapshot => {
                        return Err("Snapshots of snapshots are not supported.".into());
                    }
                    _ => {
                        return Err(format!(
                            "{vg}/{origin}: the simulator snapshots volumes only"
                        ));
                    }
                }
                let active = o.active;
                check_mda(v, vg)?;
                let size = size.round_up(v.extent_size).0;
                check_space(v, size)?;
                let mut lv = SimLv::cow_snapshot(origin.as_str(), size);
                lv.active = active;
                lv.uuid = v.new_uuid(vg.as_str(), name.as_str());
                v.lvs.insert(name.to_string(), lv);
                Ok(())
            },
            vg,
        )
    }
}
