//! One action of a plan written: the lvm command it takes (a deletion with a clear: the clear,
//! then the command). Every write that changes or removes an existing LV is bound to the LV the
//! plan saw ([`LvRef`]: its name and UUID); a creation is not (lvm refuses a name that exists).

use std::sync::atomic::AtomicBool;

use super::{Options, Step, clear, mend};
use crate::lvm::{LvRef, LvmError, LvmWrite, PoolCreate};
use crate::names::{LvName, Tag, VgName};
use crate::reconcile::plan::{Action, Plan};
use crate::size::Bytes;

/// What every action of a pass is written with.
pub(super) struct Pass<'a> {
    pub lvm: &'a dyn LvmWrite,
    pub vg: &'a VgName,
    pub plan: &'a Plan,
    pub pool: Option<&'a LvName>,
    pub opts: Options,
    pub stop: &'a AtomicBool,
    pub progress: &'a dyn Fn(&Step),
}

impl Pass<'_> {
    /// The tags of every volume this pass makes: ember's and this backend's.
    fn tags(&self) -> [Tag; 2] {
        [Tag::managed(), Tag::backend(&self.plan.backend)]
    }
}

/// Writes `action`. `step`: the plan's actions finished before it, of all; `to_activate`: thin
/// volumes created inactive, activated together at the end of the pass.
pub(super) fn write(
    p: &Pass,
    action: &Action,
    step: (usize, usize),
    to_activate: &mut Vec<Action>,
) -> Result<(), LvmError> {
    let (lvm, vg, plan) = (p.lvm, p.vg, p.plan);
    let lv = |name: &LvName, uuid| LvRef::new(name, uuid);
    match action {
        Action::CreatePool {
            pool,
            size,
            metadata,
            chunk,
        } => {
            let spec = PoolCreate {
                size: *size,
                metadata: *metadata,
                chunk: *chunk,
            };
            lvm.create_thin_pool(vg, pool, &spec, &p.tags())
        }
        Action::ExtendPool { pool, uuid, to, .. } => lvm.extend(vg, &lv(pool, uuid), *to),
        Action::ExtendPoolMetadata { pool, uuid, to, .. } => {
            lvm.extend_pool_metadata(vg, &lv(pool, uuid), *to)
        }
        Action::CreateVolume { volume, size, thin } => {
            create_volume(p, volume, *size, *thin, to_activate)
        }
        Action::ExtendVolume {
            volume, uuid, to, ..
        } => lvm.extend(vg, &lv(volume, uuid), *to),
        Action::CreateSnapshot {
            snapshot, origin, ..
        } => lvm.create_snapshot(vg, origin, snapshot, true, &p.tags()),
        Action::CreateFromSource {
            volume,
            size,
            source,
            source_size,
        } => copy(p, volume, source.name(), *size > *source_size, *size),
        Action::DeleteVolume { clear: Some(_), .. } => {
            let how = clear::How {
                ioprio: p.opts.clear_ioprio,
                step,
                stop: p.stop,
                progress: p.progress,
            };
            clear::delete(lvm, vg, &plan.backend, action, &how)
        }
        Action::DeleteVolume { volume, uuid, .. } => lvm.remove(vg, &lv(volume, uuid)),
        // (planned activations are carried out as a block; this arm is its fallback)
        Action::ActivateVolume { volume, .. } => lvm.activate(vg, volume),
        Action::RecreateVolume { volume, uuid, size } => {
            mend::recreate(lvm, vg, &lv(volume, uuid), *size, p.pool, &p.tags()).map_err(|(_, e)| e)
        }
        Action::ClaimVolume { volume, uuid, .. } => {
            lvm.change_tags(vg, &lv(volume, uuid), &[Tag::backend(&plan.backend)], &[])
        }
        Action::AdoptVolume { volume, uuid, .. } => {
            let mut add = p.tags().to_vec();
            add.push(Tag::adopted());
            lvm.change_tags(vg, &lv(volume, uuid), &add, &[])
        }
        Action::MarkVolume {
            volume,
            uuid,
            since,
            ..
        } => lvm.change_tags(vg, &lv(volume, uuid), &[Tag::mark(*since)], &[]),
        Action::UnmarkVolume {
            volume, uuid, tags, ..
        } => lvm.change_tags(vg, &lv(volume, uuid), &[], tags),
    }
}

/// A new volume: thin ones created inactive (and activated together at the end of the pass)
/// when the pass is told so and the pool is there.
fn create_volume(
    p: &Pass,
    volume: &LvName,
    size: Bytes,
    thin: bool,
    to_activate: &mut Vec<Action>,
) -> Result<(), LvmError> {
    let tags = p.tags();
    match (thin, p.pool) {
        (true, Some(pool)) if p.opts.create_inactive => {
            let r = p.lvm.create_thin_inactive(p.vg, volume, size, pool, &tags);
            if r.is_ok() {
                to_activate.push(Action::ActivateVolume {
                    volume: volume.clone(),
                    uuid: None,
                    size,
                    thin: true,
                });
            }
            r
        }
        _ => p
            .lvm
            .create_volume(p.vg, volume, size, if thin { p.pool } else { None }, &tags),
    }
}

/// A volume made from `source` (a thin snapshot of it), tagged as a copy for good (lvm forgets
/// its source once that is deleted), then grown to `size` when it is to be larger.
fn copy(
    p: &Pass,
    volume: &LvName,
    source: &LvName,
    larger: bool,
    size: Bytes,
) -> Result<(), LvmError> {
    let copy_tags = [Tag::managed(), Tag::backend(&p.plan.backend), Tag::copy()];
    p.lvm
        .create_snapshot(p.vg, source, volume, false, &copy_tags)?;
    if larger {
        // just made: its UUID is not known, so by name
        p.lvm.extend_new(p.vg, volume, size)?;
    }
    Ok(())
}
