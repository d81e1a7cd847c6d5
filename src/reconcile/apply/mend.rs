//! Half-created thin volumes, and ember's record of the creations it started.
//!
//! A crash or power cut during `lvcreate` can leave a thin volume in LVM's metadata (with
//! ember's tag and its size) that the pool's own metadata never recorded (found by
//! tests/vm/powercut). LVM cannot activate it, and the kernel says why: the pool has no such
//! thin device. Such a volume has no mapped blocks, so it holds no data: removing it from LVM's
//! metadata loses nothing, and it is created again as declared.
//!
//! The same state is left by a `lvconvert --repair`, a `--swapmetadata` or a `thin_restore`
//! that lost a device which did hold data (still to be found in the old metadata, e.g. the
//! repair's `<pool>_meta0`), and lvm says the same for other ENODATA failures of a table load.
//! So a volume is made again only when all of these hold:
//! - ember recorded its creation as under way and did not see it end (`crate::lvm::inflight`:
//!   written on disk before a pass's first `lvcreate`, cleared once the creations returned;
//!   `Plan::in_flight`);
//! - the ENODATA is its own device's table load (`LvmWrite::own_device_unknown_to_pool`: lvm's
//!   message names only a device number);
//! - it is the only one: ember writes one volume at a time, so a cut leaves at most one behind,
//!   and the pass that mends it does so before it creates anything new. Several at once are not
//!   what a cut leaves;
//! - ember did not adopt it, and it is not a copy (made empty, it would not be what was
//!   declared);
//! - it has no COW snapshot (it held data when that was taken, and `lvremove` would remove the
//!   snapshot, not ember's, with it).
//!
//! Otherwise ember changes nothing and says why; the operator decides.

use std::sync::atomic::{AtomicBool, Ordering};

use super::{Failure, Outcome};
use crate::lvm::{LvRef, LvmWrite};
use crate::names::{LvName, Tag, VgName};
use crate::reconcile::plan::{Action, Plan};
use crate::size::Bytes;

/// Removes a thin volume its pool does not know and creates it again as declared.
pub(super) fn recreate(
    lvm: &dyn LvmWrite,
    vg: &VgName,
    volume: &LvRef,
    size: Bytes,
    pool: Option<&LvName>,
    tags: &[Tag],
) -> Result<(), (&'static str, crate::lvm::LvmError)> {
    lvm.remove(vg, volume).map_err(|e| ("removing it", e))?;
    lvm.create_volume(vg, &volume.name, size, pool, tags)
        .map_err(|e| ("creating it again", e))
}

/// Why a thin volume whose pool does not know it is left as it is; `None`: it may be mended.
fn left_alone(plan: &Plan, volume: &LvName, error: &str, unknown: usize) -> Option<String> {
    if plan.origins.contains(volume) {
        return Some(format!(
            "{error}; its thin pool has no such device, and it has a COW snapshot (it held data when that was taken; removing it would remove the snapshot too): ember changes nothing. Inspect the pool (thin_ls, thin_dump) and restore it"
        ));
    }
    if plan.adopted.contains(volume) {
        return Some(format!(
            "{error}; its thin pool has no such device, and ember adopted it (it did not create it): ember changes nothing. Inspect the pool (thin_ls, thin_dump) and restore it, or remove it yourself"
        ));
    }
    if plan.copies.contains(volume) {
        return Some(format!(
            "{error}; its thin pool has no such device, and it is a copy (a thin snapshot made a volume): ember does not make it again empty. Remove it (lvremove) and the next pass makes it again from its source"
        ));
    }
    if unknown > 1 {
        return Some(format!(
            "{error}; its thin pool has no such device, and neither do {} other volume(s): a crash leaves at most one half-created volume, so the pool's metadata may have been restored or repaired. ember changes none of them: inspect the pool (thin_ls, thin_dump), then remove or restore them yourself",
            unknown - 1
        ));
    }
    if !plan.in_flight.contains(volume) {
        return Some(format!(
            "{error}; its thin pool has no such device, and ember has no record of a creation of it cut short: its creation ended, so the pool's metadata lost it since (a repair, a swap or a restore of the pool's metadata). Its data may still be in the pool's old metadata (lvconvert --repair keeps it as the pool's _meta0 LV): ember changes nothing. Inspect the pool (thin_ls, thin_dump), restore it, or remove the volume yourself"
        ));
    }
    None
}

/// Mends the thin volumes found unknown to their pool (see the module's rules): `unknown`
/// holds each one's activation, the LV as planned, its declared size and lvm's error.
#[allow(clippy::too_many_arguments)]
pub(super) fn mend(
    lvm: &dyn LvmWrite,
    vg: &VgName,
    pool: Option<&LvName>,
    plan: &Plan,
    unknown: Vec<(Action, LvRef, Bytes, String)>,
    stop: &AtomicBool,
    out: &mut Outcome,
) {
    let n = unknown.len();
    for (action, lv, size, error) in unknown {
        let volume = &lv.name;
        if let Some(why) = left_alone(plan, volume, &error, n) {
            tracing::error!(backend = %plan.backend, volume = %volume, action = "activate_volume", "{why}");
            out.failed.push(Failure { action, error: why });
            continue;
        }
        if stop.load(Ordering::Relaxed) {
            out.skipped.push(Failure {
                action,
                error: "skipped: ember is stopping".into(),
            });
            continue;
        }
        // its own table load, or another device's that its activation needed?
        match lvm.own_device_unknown_to_pool(vg, volume) {
            Ok(true) => {}
            Ok(false) => {
                // it activated this time: nothing to mend
                tracing::info!(backend = %plan.backend, volume = %volume, action = action.verb(), "{}", action.line());
                out.done.push(action);
                continue;
            }
            Err(e) => {
                let why = format!(
                    "{error}; its activation failed again, and not on its own device's table load ({e}): not a creation cut short, ember changes nothing"
                );
                tracing::error!(backend = %plan.backend, volume = %volume, action = "activate_volume", "{why}");
                out.failed.push(Failure { action, error: why });
                continue;
            }
        }
        let action = Action::RecreateVolume {
            volume: volume.clone(),
            uuid: lv.uuid.clone(),
            size,
        };
        tracing::warn!(backend = %plan.backend, volume = %volume, action = "recreate_volume",
            "volume {volume} is half-created: it is in the volume group's metadata but its thin pool has no such device ({error}), and ember's record says its creation was cut short (a crash or power cut). It holds no data: removing it and creating it again");
        let tags = [Tag::managed(), Tag::backend(&plan.backend)];
        match recreate(lvm, vg, &lv, size, pool, &tags) {
            Ok(()) => {
                tracing::info!(backend = %plan.backend, volume = %volume, action = action.verb(), "{}", action.line());
                out.done.push(action);
            }
            Err((step, e)) => {
                tracing::error!(backend = %plan.backend, volume = %volume, action = action.verb(), error = %e, "{} failed while {step}: {e}", action.line());
                out.failed.push(Failure {
                    action,
                    error: format!("{step}: {e}"),
                });
            }
        }
    }
}

/// The thin volumes a plan creates: what its pass records as under way before the first.
pub(super) fn creations(plan: &Plan) -> Vec<LvName> {
    plan.actions
        .iter()
        .filter_map(|a| match a {
            Action::CreateVolume {
                volume, thin: true, ..
            } => Some(volume.clone()),
            _ => None,
        })
        .collect()
}

/// Records `names` as the creations under way of `vg` (failing that, says so: a creation cut
/// short is then reported, not mended).
pub(super) fn record_in_flight(lvm: &dyn LvmWrite, vg: &VgName, names: &[LvName]) {
    if let Err(e) = lvm.record_in_flight(vg, names) {
        tracing::warn!(vg = %vg, "cannot record the creations under way ({e}): a volume whose creation a crash cuts short will be reported, not made again");
    }
}

/// What stays on record after a pass: of `on_record`, the volumes whose creation, activation or
/// mend failed or was not done (a creation that returned is whole; one never started made no
/// LV; a recorded volume this pass did not need to activate is active, or not one ember mends).
pub(super) fn still_in_flight(on_record: &[LvName], plan: &Plan, out: &Outcome) -> Vec<LvName> {
    let created = |n: &LvName| {
        out.done
            .iter()
            .any(|a| matches!(a, Action::CreateVolume { .. }) && a.subject() == n)
    };
    let failed = |n: &LvName| out.failed.iter().any(|f| f.action.subject() == n);
    let waiting = |n: &LvName| {
        plan.in_flight.contains(n)
            && out.skipped.iter().any(|f| {
                matches!(
                    f.action,
                    Action::ActivateVolume { .. } | Action::RecreateVolume { .. }
                ) && f.action.subject() == n
            })
    };
    on_record
        .iter()
        .filter(|n| (failed(n) || waiting(n)) && !created(n))
        .cloned()
        .collect()
}
