//! The wipe before a deletion (`volume_clear`), and deletions whose wipe was cut short.
//!
//! cinder's LVM driver zeroes a thick volume before `lvremove` (unless `volume_clear = none`):
//! otherwise the next LV on its extents reads its data. ember decides by what the LV is, not by
//! the backend's `lvm_type`: a linear LV is wiped (`volume_clear_size` MiB of it, or all); a thin
//! volume is not (its blocks go back to its pool, which hands out only zeroed blocks when it
//! zeroes new blocks, lv_attr's `z`); a thin volume in a pool that does not zero new blocks is
//! deleted with a warning (wiping it would first provision every block of it: the pool could
//! fill, and its snapshots keep the data anyway; the cure is the pool's zeroing,
//! `lvchange --zero y`). ember deletes no other kind of LV (COW snapshots are never its own).
//!
//! A wipe is announced on the LV first (the tag `ember-clearing`): a pass that finds an LV of
//! this backend with the tag finishes its deletion, wiped again from the start, whatever the
//! desired state says by then (a partly wiped volume has lost its data) and beside the deletion
//! cap (it was counted when it began).

use super::{Action, Clear, DeleteReason, Plan, RefusalKind, WarningKind};
use crate::config::{BackendConfig, VolumeClear};
use crate::lvm::{LvInfo, LvKind, Observed};
use crate::size::Bytes;

/// The wipe deleting `lv` needs: `Ok(None)` for none, `Err` with why it cannot be deleted.
pub(super) fn wipe(
    cfg: &BackendConfig,
    observed: &Observed,
    lv: &LvInfo,
    plan: &mut Plan,
) -> Result<Option<Clear>, String> {
    let settings = cfg.volume_clear;
    if settings.method == VolumeClear::None {
        return Ok(None);
    }
    match lv.kind {
        LvKind::Linear => {}
        LvKind::Thin => {
            let pool = lv.pool.as_deref().and_then(|p| observed.lv(p));
            if let Some(pool) = pool.filter(|p| !p.zeroes) {
                plan.warn(lv.name.as_str(), WarningKind::NotWiped, format!(
                    "{} {} is deleted without a clear (volume_clear = {}): its thin pool {} does not zero new blocks (lv_attr has no z), so a volume given its blocks next may read its data where it writes less than a chunk. Make the pool zero them: lvchange --zero y {}/{}",
                    lv.name.noun(), lv.name, settings.method, pool.name, cfg.volume_group, pool.name));
            }
            return Ok(None);
        }
        _ => return Ok(None),
    }
    if let Some(s) = observed
        .lvs
        .iter()
        .find(|s| s.origin.as_deref() == Some(lv.name.as_str()) && s.kind != LvKind::Thin)
    {
        return Err(format!(
            "the snapshot {} depends on it: a clear would be copied into the snapshot (volume_clear = {}), and lvremove would remove the snapshot too; ember deletes neither",
            s.name, settings.method
        ));
    }
    // (the UUID it checks the device against is the deletion's: `Action::DeleteVolume::uuid`,
    // which every LV read has)
    Ok(Some(Clear {
        method: settings.method,
        bytes: Bytes(settings.bytes(lv.size)),
        device: lv.device,
    }))
}

/// The deletion of `lv` (of `size`, for `reason`) with the wipe it needs, or its refusal.
pub(super) fn deletion(
    cfg: &BackendConfig,
    observed: &Observed,
    lv: &LvInfo,
    reason: DeleteReason,
    snapshots: Vec<crate::names::LvName>,
    plan: &mut Plan,
) -> Option<Action> {
    match wipe(cfg, observed, lv, plan) {
        Ok(clear) => Some(Action::DeleteVolume {
            volume: lv.name.clone(),
            uuid: lv.uuid.clone(),
            size: Bytes(lv.size),
            reason,
            snapshots,
            clear,
        }),
        Err(why) => {
            plan.refuse(lv.name.as_str(), RefusalKind::NotWiped, why);
            None
        }
    }
}

/// This backend's LVs whose wipe began and did not end (tagged `ember-clearing`), each to be
/// wiped again and removed: their deletion, and a warning for one the desired state declares.
pub(super) fn resumed(
    cfg: &BackendConfig,
    desired: &crate::desired::BackendDesired,
    observed: &Observed,
    lvs: &[&LvInfo],
    plan: &mut Plan,
) -> Vec<Action> {
    let mut out = vec![];
    for lv in lvs {
        let declared = desired
            .volumes
            .get_str(&lv.name)
            .is_some_and(|v| v.state() == crate::desired::VolumeState::Present);
        if declared {
            plan.warn(lv.name.as_str(), WarningKind::WipeResumed, format!(
                "volume {} {} was being cleared for its deletion when a pass was cut short (tag {}<its uuid>): its data is partly gone, so its deletion is finished although the desired state declares it; it is then made again, empty",
                lv.name, Bytes(lv.size), crate::names::CLEARING_TAG_PREFIX));
        }
        out.extend(deletion(
            cfg,
            observed,
            lv,
            DeleteReason::Resume,
            vec![],
            plan,
        ));
    }
    out
}

/// An `ember-clearing=` tag that names another LV's UUID (the LV it was set on is gone, and
/// this one has its name since): it means nothing here, and ember leaves it.
pub(super) fn stray(lv: &LvInfo, plan: &mut Plan) {
    let tags: Vec<&str> = lv.clearing_tags().collect();
    plan.warn(lv.name.as_str(), WarningKind::StrayClearTag, format!(
        "{} {} carries {}, which names another LV's uuid (its own is {}): not the LV whose clear began, so it is not deleted for it. Remove the tag: lvchange --deltag {} {}/{}",
        lv.name.noun(), lv.name, tags.join(", "), lv.uuid, tags[0], plan.volume_group, lv.name));
}

#[cfg(test)]
mod tests;
