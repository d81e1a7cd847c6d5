//! The simulator's clear of an LV before its removal: what the real one proves of the device
//! (the LV's UUID, a plain linear LV of the size read), then `ready`, then the zeroes, in four
//! steps, each reported, over the data a test wrote into the LV. It can be cut short by an I/O
//! error or by the process's abort (`SimState::clear_error_at`, `clear_abort_at`).

use std::sync::atomic::{AtomicBool, Ordering};

use super::{SimClear, SimLvm, SimState};
use crate::lvm::clear::ClearTarget;
use crate::lvm::{LvKind, LvmError};
use crate::names::VgName;

impl SimLvm {
    pub(super) fn clear_lv(
        &self,
        vg: &VgName,
        t: &ClearTarget,
        stop: &AtomicBool,
        ready: &dyn Fn() -> Result<(), LvmError>,
        progress: &dyn Fn(u64),
    ) -> Result<(), LvmError> {
        self.calls.set(self.calls.get() + 1);
        let fail = |detail: String| LvmError::Clear {
            lv: format!("{vg}/{}", t.lv),
            detail,
        };
        {
            let _lock = self.lock(false)?;
            check(&self.load()?, vg, t).map_err(fail)?;
        }
        ready()?;
        let _lock = self.lock(true)?;
        let mut state = self.load()?;
        check(&state, vg, t).map_err(fail)?;
        let (abort_at, error_at, delay) = (
            state.clear_abort_at,
            state.clear_error_at,
            state.write_delay_ms,
        );
        let bytes = t.bytes.min(t.size);
        for k in 1..=4u64 {
            if stop.load(Ordering::Relaxed) {
                self.save(&state)?;
                return Err(fail("interrupted: ember is stopping".into()));
            }
            let at = bytes * k / 4;
            let cut = [abort_at, error_at].into_iter().flatten().find(|c| *c < at);
            let upto = cut.unwrap_or(at);
            if let Some(l) = state
                .vgs
                .get_mut(vg.as_str())
                .and_then(|v| v.lvs.get_mut(t.lv.as_str()))
            {
                l.active = true;
                l.data.retain(|d| d.at >= upto);
            }
            if let Some(c) = cut {
                self.save(&state)?;
                if abort_at == Some(c) {
                    // as kill -9 or a power cut: no unwinding, nothing more written
                    std::process::abort();
                }
                return Err(fail(format!("writing at byte {c}: Input/output error")));
            }
            progress(at);
            if delay > 0 {
                std::thread::sleep(std::time::Duration::from_millis(delay.div_ceil(4)));
            }
        }
        if let Some(v) = state.vgs.get_mut(vg.as_str()) {
            v.clears.push(SimClear {
                lv: t.lv.to_string(),
                bytes,
                ioprio: t.ioprio.map(|p| p.value),
            });
        }
        self.save(&state)
    }
}

/// What the real clear proves of the device before it writes.
fn check(state: &SimState, vg: &VgName, t: &ClearTarget) -> Result<(), String> {
    let l = state
        .vgs
        .get(vg.as_str())
        .and_then(|v| v.lvs.get(t.lv.as_str()))
        .ok_or_else(|| format!("{vg}/{}: no such LV", t.lv))?;
    let uuid = l.uuid_of(t.lv.as_str());
    if uuid != t.uuid.as_str() {
        return Err(format!(
            "its uuid is {uuid}, not {}: not the LV the plan deletes",
            t.uuid
        ));
    }
    if l.kind != LvKind::Linear || l.size != t.size {
        return Err(format!(
            "a {:?} LV of {} bytes, not a linear one of {}: the simulator clears plain volumes only, as ember",
            l.kind, l.size, t.size
        ));
    }
    Ok(())
}
