//! A deletion with a clear first (`volume_clear`): the LV is tagged `ember-clearing` (so that a
//! clear cut short is found and finished by the next pass), zeroed through its device, then
//! removed; and how far the clear got, told as it goes (`ember apply`'s progress, the daemon's
//! status, the journal at every tenth).

use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use super::{Clearing, Step};
use crate::lvm::clear::ClearTarget;
use crate::lvm::{LvmError, LvmWrite};
use crate::names::{LvName, Tag, VgName};
use crate::reconcile::plan::{Action, Clear, DeleteReason};
use crate::size::Bytes;

/// How often a clear's progress is told at most (besides every tenth of it).
const EVERY: Duration = Duration::from_secs(1);

/// How a deletion with a clear is carried out, and told.
pub(super) struct How<'a> {
    pub ioprio: Option<crate::lvm::clear::IoPriority>,
    /// Actions finished before this one, of the plan's.
    pub step: (usize, usize),
    pub stop: &'a AtomicBool,
    pub progress: &'a dyn Fn(&Step),
}

/// `action`, a deletion with a clear: tagged, cleared, removed.
pub(super) fn delete(
    lvm: &dyn LvmWrite,
    vg: &VgName,
    backend: &str,
    action: &Action,
    how: &How,
) -> Result<(), LvmError> {
    let Action::DeleteVolume {
        volume,
        uuid,
        size,
        reason,
        clear: Some(c),
        ..
    } = action
    else {
        // a deletion without a clear: lvremove alone, bound to the LV as planned
        return match action.target() {
            Some(lv) => lvm.remove(vg, &lv),
            None => Ok(()),
        };
    };
    // the LV the plan read: what the clear proves the device against, what the tag names and is
    // set on, and what is removed, each bound to that one UUID
    let target = ClearTarget {
        lv: volume.clone(),
        uuid: uuid.clone(),
        device: c.device,
        size: size.0,
        bytes: c.bytes.0,
        ioprio: how.ioprio,
    };
    let tell = Teller::new(backend, volume, c, how.step, how.progress);
    clear_then_remove(lvm, vg, &target, *reason, how.stop, &tell)
}

/// Tag, clear, remove. The tag is set once the device is proven to be the LV and held open,
/// before its first zero: an LV that cannot be cleared (in use, not the one read) is left as it
/// was, untagged, its data intact. A failure at any step stops there: once tagged, the LV stays
/// tagged, and the next pass clears it again and removes it.
fn clear_then_remove(
    lvm: &dyn LvmWrite,
    vg: &VgName,
    target: &ClearTarget,
    reason: DeleteReason,
    stop: &AtomicBool,
    tell: &Teller,
) -> Result<(), LvmError> {
    let tag = Tag::clearing(target.uuid.as_str()).map_err(|e| LvmError::Clear {
        lv: format!("{vg}/{}", target.lv),
        detail: format!("its uuid {:?} makes no tag: {e}", target.uuid.as_str()),
    })?;
    let lv = target.reference();
    let ready = || {
        // a resumed one carries the tag already
        if reason != DeleteReason::Resume {
            lvm.change_tags(vg, &lv, std::slice::from_ref(&tag), &[])?;
        }
        tell.start(target);
        Ok(())
    };
    lvm.clear(vg, target, stop, &ready, &|n| tell.at(n))?;
    tell.end();
    lvm.remove(vg, &lv)
}

/// Tells a clear's progress: to the pass's `progress` (as a step not yet finished) and, at every
/// tenth, to the journal.
struct Teller<'a> {
    backend: &'a str,
    volume: &'a LvName,
    total: u64,
    /// Actions finished before this one, of the plan's.
    step: (usize, usize),
    progress: &'a dyn Fn(&Step),
    /// When it was last told, and the last tenth logged.
    last: Mutex<(Option<Instant>, u64)>,
}

impl<'a> Teller<'a> {
    fn new(
        backend: &'a str,
        volume: &'a LvName,
        c: &Clear,
        step: (usize, usize),
        progress: &'a dyn Fn(&Step),
    ) -> Teller<'a> {
        Teller {
            backend,
            volume,
            total: c.bytes.0,
            step,
            progress,
            last: Mutex::new((None, 0)),
        }
    }

    fn start(&self, t: &ClearTarget) {
        tracing::info!(backend = %self.backend, volume = %self.volume, action = "clear_volume",
            "clearing {} before its deletion: zeroes over {}{} (tag {}{})",
            self.volume,
            if t.bytes < t.size { format!("its first {}", Bytes(t.bytes)) } else { format!("all {}", Bytes(t.bytes)) },
            t.ioprio.map(|p| format!(", I/O priority {:#06x}", p.value)).unwrap_or_default(),
            crate::names::CLEARING_TAG_PREFIX, t.uuid);
        self.at(0);
    }

    /// `done` bytes zeroed so far.
    fn at(&self, done: u64) {
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        let c = Clearing {
            volume: self.volume.to_string(),
            done,
            total: self.total,
        };
        let tenth = c.percent() / 10;
        let milestone = tenth > last.1 || done == 0 || done == self.total;
        let due = last.0.is_none_or(|t| t.elapsed() >= EVERY);
        if !(milestone || due) {
            return;
        }
        *last = (Some(Instant::now()), tenth.max(last.1));
        let line = format!(
            "~ clearing {} {} of {} ({}%)",
            self.volume,
            Bytes(done),
            Bytes(self.total),
            c.percent()
        );
        if milestone && done > 0 {
            tracing::info!(backend = %self.backend, volume = %self.volume, action = "clear_volume", "{line}");
        }
        (self.progress)(&Step {
            done: self.step.0,
            total: self.step.1,
            line,
            clearing: Some(c),
        });
    }

    fn end(&self) {
        tracing::info!(backend = %self.backend, volume = %self.volume, action = "clear_volume",
            "cleared {}: {} zeroed and flushed; removing it", self.volume, Bytes(self.total));
    }
}

#[cfg(test)]
mod tests;
