//! A worker's memory of its volume group between passes: the last full read, and the
//! [`Stamp`] read just before it. A pass whose stamp is the same reads nothing else: the VG's
//! metadata has not been committed since, by anyone, and the same LVs have devices.
//!
//! The rules that keep it honest:
//! - the stamp is read *before* the full read it vouches for, and again after it: a change
//!   during the read makes the next stamp differ, never the other way round; and the kernel's
//!   device event count is the same before and after, or the read is not stamped (a device
//!   activated and deactivated again between the two stamps changes no stamp);
//! - any write through this handle forgets the stamp (the next read is a full one), whatever
//!   the write did;
//! - a remembered read gets each thin pool's usage and health from the kernel first (writes
//!   into thin volumes commit no metadata; [`super::poolusage`]); when they cannot be had, the
//!   read is a full one; the pool check's read of the pool replaces them too, and a pool row
//!   that differs in anything else forgets the stamp;
//! - what cannot be stamped (the stamp's read failed) is read in full every time, as before.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::poolusage::PoolUsage;
use super::stamp::Stamp;
use super::{LvInfo, LvKind, LvRef, LvmError, LvmRead, LvmWrite, Observed, PoolCreate};
use crate::names::{LvName, Tag, VgName};
use crate::size::Bytes;

mod keep;
pub use keep::Keeper;

struct Memo {
    stamp: Option<Stamp>,
    observed: Observed,
}

/// What a worker keeps between passes (see the module's rules).
#[derive(Default)]
pub struct Recall {
    memo: Mutex<Option<Memo>>,
    /// Reads answered from memory.
    reused: AtomicU64,
    /// Where the memory is kept between processes too.
    keeper: Option<Keeper>,
}

impl Recall {
    /// A memory kept by `keeper` too: it starts from what the last process kept.
    pub fn kept(keeper: Keeper) -> Recall {
        Recall {
            keeper: Some(keeper),
            ..Recall::default()
        }
    }

    pub fn reused(&self) -> u64 {
        self.reused.load(Ordering::Relaxed)
    }

    /// Before a write to `vg`: the memo and what is kept of `vg` are no longer vouched for.
    fn forget(&self, vg: &VgName) {
        if let Ok(mut m) = self.memo.lock()
            && let Some(m) = m.as_mut()
        {
            m.stamp = None;
        }
        if let Some(k) = &self.keeper {
            k.discard(vg.as_str());
        }
    }

    /// The memo no longer vouched for: what is kept of it goes too (whether this process's
    /// memo had a stamp or not: a kept file it could not replace may be older).
    fn unstamp(&self, m: &mut Memo) {
        m.stamp = None;
        if let Some(k) = &self.keeper {
            k.discard(&m.observed.vg.name);
        }
    }

    /// The last read of `vg`: this process's, or the one kept.
    fn last(&self, memo: &mut Option<Memo>, vg: &VgName) -> Option<Memo> {
        let mine = memo.take().filter(|m| m.observed.vg.name == vg.as_str());
        mine.or_else(|| self.keeper.as_ref()?.load(vg))
    }

    fn remember(&self, memo: &mut Option<Memo>, m: Memo) {
        if let Some(k) = &self.keeper {
            k.save(&m);
        }
        *memo = Some(m);
    }
}

/// `lvm` with `recall`'s memory in front of its full reads.
pub struct Remembering<'a> {
    pub lvm: &'a dyn LvmWrite,
    pub recall: &'a Recall,
}

/// Whether two rows of the pool differ only where the kernel speaks (usage, health).
fn same_but_usage(a: &LvInfo, b: &LvInfo) -> bool {
    let mut a = a.clone();
    a.data_percent = b.data_percent;
    a.metadata_percent = b.metadata_percent;
    a.health = b.health;
    a.chunk_size = a.chunk_size.or(b.chunk_size);
    a == *b
}

impl Remembering<'_> {
    /// Puts the kernel's current usage and health of each thin pool into a remembered read
    /// (writes into thin volumes commit no metadata). `false`: they cannot be had, read in full.
    fn fresh_pools(&self, vg: &VgName, o: &mut Observed) -> bool {
        for l in o.lvs.iter_mut().filter(|l| l.kind == LvKind::ThinPool) {
            match self.lvm.pool_usage(vg, &l.name) {
                None => {}
                Some(Ok(Some(u))) => {
                    l.data_percent = Some(u.data_percent);
                    l.metadata_percent = Some(u.metadata_percent);
                    l.health = u.health;
                }
                Some(Ok(None)) if !l.active => {}
                Some(Ok(None)) => return false,
                Some(Err(e)) => {
                    tracing::debug!(pool = %l.name, "reading the pool's usage from the kernel: {e}; reading in full");
                    return false;
                }
            }
        }
        true
    }
}

impl Remembering<'_> {
    /// The pool check's read from memory: the remembered pool (its sizes are current while the
    /// stamp is the same) with the kernel's usage and health now. `None`: read lvm.
    fn remembered_pool(&self, vg: &VgName, pool: &LvName) -> Option<Observed> {
        let mut memo = self.recall.memo.lock().ok()?;
        let m = memo
            .as_mut()
            .filter(|m| m.observed.vg.name == vg.as_str())?;
        let stamp = self.lvm.stamp(vg, &m.observed)?;
        if m.stamp.as_ref() != Some(&stamp) {
            return None;
        }
        let row = m.observed.lvs.iter().find(|l| l.name == *pool)?.clone();
        let mut o = Observed {
            vg: m.observed.vg.clone(),
            lvs: vec![row],
            pvs: m.observed.pvs.clone(),
        };
        if !self.fresh_pools(vg, &mut o) {
            return None;
        }
        if let (Some(known), Some(now)) = (
            m.observed.lvs.iter_mut().find(|l| l.name == *pool),
            o.lvs.first(),
        ) {
            known.data_percent = now.data_percent;
            known.metadata_percent = now.metadata_percent;
            known.health = now.health;
        }
        self.recall.reused.fetch_add(1, Ordering::Relaxed);
        Some(o)
    }
}

impl LvmRead for Remembering<'_> {
    fn observe(&self, vg: &VgName) -> Result<Option<Observed>, LvmError> {
        let Ok(mut memo) = self.recall.memo.lock() else {
            return self.lvm.observe(vg);
        };
        let events = self.lvm.device_events();
        let last = self.recall.last(&mut memo, vg);
        let stamp = last.as_ref().and_then(|m| self.lvm.stamp(vg, &m.observed));
        if let Some(mut m) = last
            && stamp.is_some()
            && m.stamp == stamp
            && self.fresh_pools(vg, &mut m.observed)
        {
            self.recall.reused.fetch_add(1, Ordering::Relaxed);
            let o = m.observed.clone();
            *memo = Some(m);
            return Ok(Some(o));
        }
        let read = self.lvm.observe(vg)?;
        if let Some(observed) = read.clone() {
            // the stamp vouches for the read only if it is the same after it, and no device
            // came or went meanwhile: device-mapper's devices can change and change back (an
            // activation during the read, undone after it), which no stamp shows
            let after = stamp.as_ref().and_then(|_| self.lvm.stamp(vg, &observed));
            let quiet = events.is_some() && self.lvm.device_events() == events;
            let stamp = stamp.filter(|s| quiet && after.as_ref() == Some(s));
            self.recall.remember(&mut memo, Memo { stamp, observed });
        }
        Ok(read)
    }

    fn pool_usage(&self, vg: &VgName, pool: &LvName) -> Option<Result<Option<PoolUsage>, String>> {
        self.lvm.pool_usage(vg, pool)
    }

    fn target_root(&self) -> super::TargetRoot {
        self.lvm.target_root()
    }

    fn vg_names(&self) -> Result<Vec<String>, LvmError> {
        self.lvm.vg_names()
    }

    fn observe_pool(&self, vg: &VgName, pool: &LvName) -> Result<Option<Observed>, LvmError> {
        if let Some(o) = self.remembered_pool(vg, pool) {
            return Ok(Some(o));
        }
        let read = self.lvm.observe_pool(vg, pool)?;
        let Ok(mut memo) = self.recall.memo.lock() else {
            return Ok(read);
        };
        let mine = memo.as_mut().filter(|m| m.observed.vg.name == vg.as_str());
        if let (Some(m), Some(fresh)) = (mine, read.as_ref()) {
            let row = fresh.lvs.iter().find(|l| l.name == *pool);
            let known = m.observed.lvs.iter_mut().find(|l| l.name == *pool);
            match (row, known) {
                (Some(row), Some(known))
                    if same_but_usage(known, row) && fresh.vg.free == m.observed.vg.free =>
                {
                    known.data_percent = row.data_percent;
                    known.metadata_percent = row.metadata_percent;
                    known.health = row.health;
                }
                _ => self.recall.unstamp(m),
            }
        }
        Ok(read)
    }

    fn calls(&self) -> u64 {
        self.lvm.calls()
    }
    fn commands(&self) -> u64 {
        self.lvm.commands()
    }
    fn stamp(&self, vg: &VgName, last: &Observed) -> Option<Stamp> {
        self.lvm.stamp(vg, last)
    }
    fn device_events(&self) -> Option<u64> {
        self.lvm.device_events()
    }
    fn probe(&self, path: &std::path::Path) -> super::probe::Device {
        self.lvm.probe(path)
    }
}

impl LvmWrite for Remembering<'_> {
    fn begin_batch(&self) {
        self.lvm.begin_batch()
    }
    fn end_batch(&self) {
        self.lvm.end_batch()
    }
    fn release(&self) {
        self.lvm.release()
    }
    fn create_thin_pool(
        &self,
        vg: &VgName,
        pool: &LvName,
        spec: &PoolCreate,
        tags: &[Tag],
    ) -> Result<(), LvmError> {
        self.recall.forget(vg);
        self.lvm.create_thin_pool(vg, pool, spec, tags)
    }
    fn extend_pool_metadata(&self, vg: &VgName, pool: &LvRef, size: Bytes) -> Result<(), LvmError> {
        self.recall.forget(vg);
        self.lvm.extend_pool_metadata(vg, pool, size)
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
        self.recall.forget(vg);
        self.lvm.create_lv(vg, name, size, pool, active, tags)
    }
    fn create_snapshot(
        &self,
        vg: &VgName,
        origin: &LvName,
        name: &LvName,
        skip_activation: bool,
        tags: &[Tag],
    ) -> Result<(), LvmError> {
        self.recall.forget(vg);
        self.lvm
            .create_snapshot(vg, origin, name, skip_activation, tags)
    }
    fn change_tags(
        &self,
        vg: &VgName,
        lv: &LvRef,
        add: &[Tag],
        remove: &[Tag],
    ) -> Result<(), LvmError> {
        self.recall.forget(vg);
        self.lvm.change_tags(vg, lv, add, remove)
    }
    fn tag_vg(&self, vg: &VgName, add: &Tag) -> Result<(), LvmError> {
        self.recall.forget(vg);
        self.lvm.tag_vg(vg, add)
    }
    fn create_vg(
        &self,
        vg: &VgName,
        devices: &[std::path::PathBuf],
        metadata_area: Bytes,
        tags: &[Tag],
    ) -> Result<(), LvmError> {
        self.recall.forget(vg);
        self.lvm.create_vg(vg, devices, metadata_area, tags)
    }
    fn extend_vg(
        &self,
        vg: &VgName,
        devices: &[std::path::PathBuf],
        metadata_area: Bytes,
    ) -> Result<(), LvmError> {
        self.recall.forget(vg);
        self.lvm.extend_vg(vg, devices, metadata_area)
    }
    fn resize_pv(&self, vg: &VgName, device: &std::path::Path) -> Result<(), LvmError> {
        self.recall.forget(vg);
        self.lvm.resize_pv(vg, device)
    }
    fn extend(&self, vg: &VgName, lv: &LvRef, size: Bytes) -> Result<(), LvmError> {
        self.recall.forget(vg);
        self.lvm.extend(vg, lv, size)
    }
    fn extend_new(&self, vg: &VgName, lv: &LvName, size: Bytes) -> Result<(), LvmError> {
        self.recall.forget(vg);
        self.lvm.extend_new(vg, lv, size)
    }
    fn remove(&self, vg: &VgName, lv: &LvRef) -> Result<(), LvmError> {
        self.recall.forget(vg);
        self.lvm.remove(vg, lv)
    }
    fn clear(
        &self,
        vg: &VgName,
        target: &super::clear::ClearTarget,
        stop: &std::sync::atomic::AtomicBool,
        ready: &dyn Fn() -> Result<(), LvmError>,
        progress: &dyn Fn(u64),
    ) -> Result<(), LvmError> {
        // (it may activate the LV)
        self.recall.forget(vg);
        self.lvm.clear(vg, target, stop, ready, progress)
    }
    fn activate_many(&self, vg: &VgName, lvs: &[LvName]) -> Result<(), LvmError> {
        self.recall.forget(vg);
        self.lvm.activate_many(vg, lvs)
    }
    fn own_device_unknown_to_pool(&self, vg: &VgName, lv: &LvName) -> Result<bool, LvmError> {
        self.recall.forget(vg);
        self.lvm.own_device_unknown_to_pool(vg, lv)
    }
    // (ember's own record, not lvm's: what is remembered of the VG stays true)
    fn in_flight(&self, vg: &VgName) -> Vec<LvName> {
        self.lvm.in_flight(vg)
    }
    fn record_in_flight(&self, vg: &VgName, volumes: &[LvName]) -> Result<(), String> {
        self.lvm.record_in_flight(vg, volumes)
    }
}

#[cfg(test)]
mod tests;
