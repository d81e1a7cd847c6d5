//! The simulator's writes: each loads the state, checks what lvm would check, changes it and
//! saves it.

use super::{SimLv, SimLvm, SimVg};
use crate::lvm::{LvKind, LvRef, LvmError, LvmWrite, PoolCreate};
use crate::names::{LvName, Tag, VgName};
use crate::size::Bytes;

/// lvm refuses a change when the VG's text metadata would no longer fit its metadata area.
fn check_mda(vg: &SimVg, name: &VgName) -> Result<(), String> {
    match vg.mda_free() {
        Some(free) if free < super::MDA_PER_LV => Err(format!(
            "VG {name} metadata on /dev/sim exceeds maximum metadata size ({} bytes free)",
            free
        )),
        _ => Ok(()),
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

mod cow;
use cow::has_cow;

/// A snapshot's origin, as lvcreate --snapshot finds it: the name must be free, and the origin
/// must exist (lvm's own words for each).
pub(super) fn snapshot_origin<'a>(
    v: &'a SimVg,
    vg: &VgName,
    name: &LvName,
    origin: &LvName,
) -> Result<&'a SimLv, String> {
    if v.lvs.contains_key(name.as_str()) {
        return Err(format!(
            "Logical Volume \"{name}\" already exists in volume group \"{vg}\""
        ));
    }
    v.lvs
        .get(origin.as_str())
        .ok_or_else(|| format!("Failed to find logical volume \"{vg}/{origin}\""))
}

/// What a removed LV leaves where it was: its data, on a linear LV's extents; in a thin pool
/// that does not zero new blocks, in the chunks the pool hands out next (partly written, they
/// show the rest of what was there). A pool that zeroes them leaves nothing readable.
fn left_on_freed_space(v: &mut SimVg, name: &LvName, gone: &SimLv) {
    let exposed = match gone.kind {
        LvKind::Thin => gone
            .pool
            .as_ref()
            .and_then(|p| v.lvs.get(p))
            .is_some_and(|p| !p.zero),
        _ => true,
    };
    if exposed {
        for d in &gone.data {
            v.freed.push(format!("{name}: {}", d.text));
        }
    }
}

impl LvmWrite for SimLvm {
    fn own_device_unknown_to_pool(&self, vg: &VgName, lv: &LvName) -> Result<bool, LvmError> {
        self.own_unknown(vg, lv)
    }

    fn in_flight(&self, vg: &VgName) -> Vec<LvName> {
        let names = self
            .load()
            .ok()
            .and_then(|s| s.vgs.get(vg.as_str()).map(|v| v.in_flight.clone()))
            .unwrap_or_default();
        names.iter().filter_map(|n| LvName::new(n).ok()).collect()
    }

    fn record_in_flight(&self, vg: &VgName, volumes: &[LvName]) -> Result<(), String> {
        self.set_in_flight(vg, volumes).map_err(|e| e.to_string())
    }

    fn create_thin_pool(
        &self,
        vg: &VgName,
        pool: &LvName,
        spec: &PoolCreate,
        tags: &[Tag],
    ) -> Result<(), LvmError> {
        let cmd = format!(
            "lvcreate --type thin-pool -L {}b --poolmetadatasize {}b --chunksize {}b -n {pool} {vg}",
            spec.size.0, spec.metadata.0, spec.chunk.0
        );
        self.write(
            cmd,
            |v| {
                if v.lvs.contains_key(pool.as_str()) {
                    return Err(format!(
                        "Logical Volume \"{pool}\" already exists in volume group \"{vg}\""
                    ));
                }
                check_mda(v, vg)?;
                let size = spec.size.round_up(v.extent_size).0;
                let metadata = spec.metadata.round_up(v.extent_size).0;
                let spare = v.spare();
                check_space(v, size + metadata + metadata.saturating_sub(spare))?;
                let mut lv = SimLv::new(LvKind::ThinPool, size);
                lv.tags = tags.iter().map(|t| t.to_string()).collect();
                lv.data_percent = Some(0.0);
                lv.metadata_size = Some(metadata);
                lv.chunk_size = Some(spec.chunk.0);
                lv.uuid = v.new_uuid(vg.as_str(), pool.as_str());
                v.lvs.insert(pool.to_string(), lv);
                Ok(())
            },
            vg,
        )
    }

    fn extend_pool_metadata(&self, vg: &VgName, pool: &LvRef, size: Bytes) -> Result<(), LvmError> {
        let cmd = format!("lvextend --poolmetadatasize {}b {vg}/{}", size.0, pool.name);
        let (bound, pool) = (pool, &pool.name);
        self.write_bound(
            cmd,
            Some(bound),
            |v| {
                let size = size.round_up(v.extent_size).0;
                let l = v
                    .lvs
                    .get(pool.as_str())
                    .filter(|l| l.kind == LvKind::ThinPool)
                    .ok_or_else(|| format!("Failed to find thin pool \"{vg}/{pool}\""))?;
                let cur = v.metadata_of(l);
                if size <= cur {
                    return Err(format!(
                        "New size given ({} extents) not larger than existing size ({} extents)",
                        size / v.extent_size,
                        cur / v.extent_size
                    ));
                }
                // the metadata grows, and the spare with it when it becomes the largest
                let spare = v.spare();
                check_space(v, size - cur + size.saturating_sub(spare))?;
                if let Some(l) = v.lvs.get_mut(pool.as_str()) {
                    if let Some(p) = l.metadata_percent {
                        l.metadata_percent = Some(p * cur as f64 / size as f64);
                    }
                    l.metadata_size = Some(size);
                }
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
                check_mda(v, vg)?;
                let mut lv = SimLv::new(kind, size);
                lv.pool = pool.map(|p| p.to_string());
                lv.tags = tags.iter().map(|t| t.to_string()).collect();
                lv.active = active;
                lv.uuid = v.new_uuid(vg.as_str(), name.as_str());
                v.lvs.insert(name.to_string(), lv);
                Ok(())
            },
            vg,
        )
    }

    fn create_snapshot(
        &self,
        vg: &VgName,
        origin: &LvName,
        name: &LvName,
        skip_activation: bool,
        tags: &[Tag],
    ) -> Result<(), LvmError> {
        let cmd = format!("lvcreate --snapshot -n {name} {vg}/{origin}");
        self.write(
            cmd,
            |v| {
                let o = snapshot_origin(v, vg, name, origin)?;
                if o.kind != LvKind::Thin {
                    return Err(format!("{vg}/{origin} is not a thin volume: the simulator makes thin snapshots only"));
                }
                check_mda(v, vg)?;
                let mut lv = SimLv::new(LvKind::Thin, o.size);
                lv.pool = o.pool.clone();
                lv.origin = Some(origin.to_string());
                lv.data_percent = o.data_percent;
                lv.tags = tags.iter().map(|t| t.to_string()).collect();
                lv.active = !skip_activation;
                lv.skip_activation = skip_activation;
                lv.uuid = v.new_uuid(vg.as_str(), name.as_str());
                v.lvs.insert(name.to_string(), lv);
                Ok(())
            },
            vg,
        )
    }

    fn extend(&self, vg: &VgName, lv: &LvRef, size: Bytes) -> Result<(), LvmError> {
        self.extend_lv(vg, &lv.name, Some(lv), size)
    }

    fn extend_new(&self, vg: &VgName, lv: &LvName, size: Bytes) -> Result<(), LvmError> {
        self.extend_lv(vg, lv, None, size)
    }

    fn remove(&self, vg: &VgName, lv: &LvRef) -> Result<(), LvmError> {
        let cmd = format!(
            "lvremove --yes --select lv_uuid={} {vg}/{}",
            lv.uuid, lv.name
        );
        let (bound, lv) = (lv, &lv.name);
        // an exported LV is held open by the target (LIO's iblock opens it exclusively)
        let held = self.exported(&format!("/dev/{vg}/{lv}"));
        self.write_bound(
            cmd,
            Some(bound),
            |v| {
                if !v.lvs.contains_key(lv.as_str()) {
                    return Err(format!("Failed to find logical volume \"{vg}/{lv}\""));
                }
                if held {
                    return Err(format!("Logical volume {vg}/{lv} in use."));
                }
                if v.lvs
                    .values()
                    .any(|l| l.pool.as_deref() == Some(lv.as_str()))
                {
                    return Err(format!(
                        "Logical volume {vg}/{lv} is used by another device."
                    ));
                }
                if let Some(gone) = v.lvs.remove(lv.as_str()) {
                    left_on_freed_space(v, lv, &gone);
                }
                // as lvm: its COW snapshots go with it (`lvremove --yes` of an origin)
                v.lvs.retain(|_, l| {
                    !(l.kind == LvKind::CowSnapshot && l.origin.as_deref() == Some(lv.as_str()))
                });
                // a thin snapshot outlives its origin, which it then no longer names
                for l in v.lvs.values_mut() {
                    if l.origin.as_deref() == Some(lv.as_str()) {
                        l.origin = None;
                    }
                }
                Ok(())
            },
            vg,
        )
    }

    fn clear(
        &self,
        vg: &VgName,
        t: &crate::lvm::clear::ClearTarget,
        stop: &std::sync::atomic::AtomicBool,
        ready: &dyn Fn() -> Result<(), LvmError>,
        progress: &dyn Fn(u64),
    ) -> Result<(), LvmError> {
        self.clear_lv(vg, t, stop, ready, progress)
    }

    fn change_tags(
        &self,
        vg: &VgName,
        lv: &LvRef,
        add: &[Tag],
        remove: &[Tag],
    ) -> Result<(), LvmError> {
        let cmd = format!(
            "lvchange --addtag/--deltag --select lv_uuid={} {vg}/{}",
            lv.uuid, lv.name
        );
        let (bound, lv) = (lv, &lv.name);
        self.write_bound(
            cmd,
            Some(bound),
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

    fn tag_vg(&self, vg: &VgName, add: &Tag) -> Result<(), LvmError> {
        let cmd = format!("vgchange --addtag {add} {vg}");
        self.write(
            cmd,
            |v| {
                if !v.tags.iter().any(|t| t == add.as_str()) {
                    v.tags.push(add.to_string());
                    v.tags.sort();
                }
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
                        Some(l) if l.unknown_to_pool || l.enodata_elsewhere => {
                            errors.push(format!(
                                "device-mapper: reload ioctl on  (253:9) {}",
                                crate::lvm::UNKNOWN_TO_POOL
                            ))
                        }
                        Some(l) => {
                            l.active = true;
                            // as lvm: an origin's COW snapshots are activated with it
                            for l in v.lvs.values_mut() {
                                if l.kind == LvKind::CowSnapshot
                                    && l.origin.as_deref() == Some(lv.as_str())
                                {
                                    l.active = true;
                                }
                            }
                        }
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

impl SimLvm {
    /// `lvextend -L`: of the LV as planned (`bound`), or of one just made (by name).
    fn extend_lv(
        &self,
        vg: &VgName,
        lv: &LvName,
        bound: Option<&LvRef>,
        size: Bytes,
    ) -> Result<(), LvmError> {
        let cmd = format!("lvextend -L {}b {vg}/{lv}", size.0);
        self.write_bound(
            cmd,
            bound,
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
                // as lvm: a snapshot's origin grows only while it is inactive (src/lvm/kind.rs)
                if v.lvs.get(lv.as_str()).is_some_and(|l| l.active) && has_cow(v, lv) {
                    return Err("Snapshot origin volumes can be resized only while inactive: try lvchange -an.".into());
                }
                match kind {
                    // lvm grows the data alone (the metadata keeps its size)
                    LvKind::ThinPool => check_space(v, size - cur)?,
                    LvKind::Thin => {}
                    _ => check_space(v, size - cur)?,
                }
                if let Some(l) = v.lvs.get_mut(lv.as_str()) {
                    // the same data in a larger pool
                    if kind == LvKind::ThinPool
                        && let Some(p) = l.data_percent
                    {
                        l.data_percent = Some(p * cur as f64 / size as f64);
                    }
                    l.size = size;
                }
                Ok(())
            },
            vg,
        )
    }
}

impl SimLvm {
    /// [`LvmWrite::own_device_unknown_to_pool`]: what `lvchange -v` would show.
    fn own_unknown(&self, vg: &VgName, lv: &LvName) -> Result<bool, LvmError> {
        let own = self
            .load()?
            .vgs
            .get(vg.as_str())
            .and_then(|v| v.lvs.get(lv.as_str()))
            .is_some_and(|l| l.unknown_to_pool);
        match self.activate(vg, lv) {
            Ok(()) => Ok(false),
            Err(e) if own && e.unknown_to_pool() => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// ember's record, in the simulator's state (not an lvm command: no call counted).
    fn set_in_flight(&self, vg: &VgName, volumes: &[LvName]) -> Result<(), LvmError> {
        let _lock = self.lock(true)?;
        let mut state = self.load()?;
        if let Some(v) = state.vgs.get_mut(vg.as_str()) {
            v.in_flight = volumes.iter().map(|n| n.to_string()).collect();
        }
        self.save(&state)
    }
}
