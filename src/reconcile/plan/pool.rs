//! Phase 3: the thin pool, created or grown after the deletions (they may free its space), never
//! shrunk: its data and its metadata to the declared sizes, and by `autoextend` when usage
//! reaches the threshold (within the cap and what the volume group has).

use std::collections::HashMap;

use super::growth::{self, percent};
use super::{Action, DEFAULT_POOL_FRACTION, Growth, Plan, RefusalKind, WarningKind};
use crate::config::BackendConfig;
use crate::desired::{BackendDesired, PoolDesired, VolumeState};
use crate::lvm::attr::Health;
use crate::lvm::sizing::{default_chunk, default_metadata};
use crate::lvm::{LvInfo, LvKind, Observed, VgInfo};
use crate::names::LvName;
use crate::size::{Bytes, SizeSpec};

/// The pool as this plan leaves it: what admission needs.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PoolAfter {
    pub size: u64,
    /// Data and metadata usage after this plan's growth, in percent.
    pub data_percent: f64,
    pub metadata_percent: f64,
    /// The metadata's size after this plan (0: unknown).
    pub metadata_size: u64,
    /// lvm marks it out of data space and this plan does not grow it.
    pub out_of_data: bool,
    /// Above its autoextend threshold and unable to grow: why.
    pub at_cap: Option<String>,
}

/// Phase 3: the thin pool. Returns it as this plan leaves it, when it is usable.
pub(super) fn plan_pool(
    cfg: &BackendConfig,
    desired: &BackendDesired,
    observed: &Observed,
    lv: &HashMap<&str, &LvInfo>,
    pool_name: Option<&LvName>,
    vg_free: &mut u64,
    plan: &mut Plan,
) -> Option<PoolAfter> {
    let Some(name) = pool_name else {
        plan.refuse(
            &cfg.pool_name(),
            RefusalKind::PoolUnavailable,
            "the pool name derived from the volume group is not a valid LV name".into(),
        );
        return None;
    };
    match lv.get(name.as_str()).copied() {
        Some(l) if l.kind != LvKind::ThinPool => {
            plan.refuse(
                &l.name,
                RefusalKind::WrongKind,
                format!(
                    "an LV named {} exists but is not a thin pool; ember will not use or change it",
                    l.name
                ),
            );
            None
        }
        Some(l) => Some(existing(
            desired.thin_pool.as_ref(),
            l,
            &observed.vg,
            vg_free,
            plan,
        )),
        None => create(desired, &observed.vg, name, vg_free, plan),
    }
}

/// An existing pool: declared growth, then autoextend's, each within what the VG has.
fn existing(
    spec: Option<&PoolDesired>,
    l: &LvInfo,
    vg: &VgInfo,
    vg_free: &mut u64,
    plan: &mut Plan,
) -> PoolAfter {
    let extent = vg.extent_size.max(1);
    let (used_data, used_meta) = growth::used(l);
    let meta_now = l.metadata_size.unwrap_or(0);
    let mut g = Grown::default();
    let mut at_cap = None;
    if let Some(spec) = spec {
        fixed_at_creation(spec, l, plan);
        g.data = declared_data(spec, l, vg, vg_free, plan);
        g.meta = declared_metadata(spec, l, extent, vg_free, plan);
        at_cap = autoextend(spec, l, (used_data, used_meta), vg, vg_free, &mut g, plan);
    }
    // metadata first, in the plan as in the VG's space: a pool out of metadata needs an
    // offline repair, one out of data only holds its writes (and apply runs the plan's order)
    if let Some((to, growth)) = g.meta {
        plan.actions.push(Action::ExtendPoolMetadata {
            pool: l.name.clone(),
            uuid: l.uuid.clone(),
            from: Bytes(meta_now),
            to: Bytes(to),
            growth,
        });
    }
    if let Some((to, growth)) = g.data {
        plan.actions.push(Action::ExtendPool {
            pool: l.name.clone(),
            uuid: l.uuid.clone(),
            from: Bytes(l.size),
            to: Bytes(to),
            growth,
        });
    }
    let size = g.data.map_or(l.size, |d| d.0);
    PoolAfter {
        size,
        data_percent: percent(used_data, size),
        metadata_percent: match g.meta {
            Some((to, _)) => percent(used_meta, to),
            None => l.metadata_percent.unwrap_or(0.0),
        },
        metadata_size: g.meta.map_or(meta_now, |m| m.0),
        out_of_data: l.health == Health::OutOfData && g.data.is_none(),
        at_cap,
    }
}

/// The growth this plan gives the pool's data and metadata.
#[derive(Default)]
struct Grown {
    data: Option<(u64, Growth)>,
    meta: Option<(u64, Growth)>,
}

/// autoextend's growth, metadata first (a pool out of metadata needs an offline repair; one
/// out of data only holds its writes), then data; warns when either stays at or above the
/// threshold. Returns why new volumes wait, when the data cannot grow under the threshold.
fn autoextend(
    spec: &PoolDesired,
    l: &LvInfo,
    used: (u64, u64),
    vg: &VgInfo,
    vg_free: &mut u64,
    g: &mut Grown,
    plan: &mut Plan,
) -> Option<String> {
    let a = spec.autoextend.as_ref()?;
    let extent = vg.extent_size.max(1);
    let (used_data, used_meta) = used;
    let data_from = g.data.map_or(l.size, |d| d.0);
    let meta_from = g.meta.map_or(l.metadata_size.unwrap_or(0), |m| m.0);
    if let Some(m) = growth::grow_metadata(a, l, meta_from, data_from, *vg_free, extent) {
        *vg_free -= 2 * (m.0 - meta_from);
        g.meta = Some(m);
    }
    let meta_to = g.meta.map_or(meta_from, |m| m.0);
    let cap = cap(spec, vg, meta_to);
    if let Some(d) = growth::grow_data(a, l, data_from, cap, *vg_free, extent) {
        *vg_free -= d.0 - data_from;
        g.data = Some(d);
    }
    let data_to = g.data.map_or(l.size, |d| d.0);
    let meta_pct = percent(used_meta, meta_to);
    if l.metadata_size.is_some() && meta_pct >= a.threshold {
        plan.warn(
            &l.name,
            WarningKind::PoolCap,
            format!(
                "thin pool {} metadata {meta_pct:.0}% of {} cannot grow under the threshold: the volume group has {} free{}",
                l.name,
                Bytes(meta_to),
                Bytes(*vg_free),
                if meta_to + extent > crate::lvm::sizing::MAX_METADATA {
                    " and it is at lvm's limit"
                } else {
                    ""
                }
            ),
        );
    }
    let pct = percent(used_data, data_to);
    if pct < a.threshold {
        return None;
    }
    let why = if data_to >= cap {
        format!(
            "at its cap: data {pct:.0}% of {}, autoextend max {}{}",
            Bytes(data_to),
            a.max,
            match a.max {
                SizeSpec::Percent(_) => format!(" ({})", Bytes(cap)),
                SizeSpec::Bytes(_) => String::new(),
            }
        )
    } else {
        format!(
            "data {pct:.0}% of {} and the volume group has {} free: it cannot grow to its cap {}",
            Bytes(data_to),
            Bytes(*vg_free),
            Bytes(cap)
        )
    };
    plan.warn(
        &l.name,
        WarningKind::PoolCap,
        format!("thin pool {} {why}", l.name),
    );
    Some(format!(
        "the thin pool {} is {why}: new volumes are refused while data usage is at or above the autoextend threshold {}%",
        l.name, a.threshold
    ))
}

/// The largest the pool's data may become: autoextend's `max` (in whole extents, rounded
/// down: never past it), and never so large that data, metadata and spare exceed the VG.
fn cap(spec: &PoolDesired, vg: &VgInfo, metadata: u64) -> u64 {
    let extent = vg.extent_size.max(1);
    let max = spec
        .autoextend
        .as_ref()
        .map_or(0, |a| a.max_bytes(vg.size, extent));
    max.min(
        Bytes(vg.size.saturating_sub(2 * metadata))
            .round_down(extent)
            .0,
    )
}

/// A declared metadata size in whole extents, within lvm's limit.
fn whole_metadata(m: Bytes, extent: u64) -> u64 {
    m.round_up(extent)
        .0
        .min(Bytes(crate::lvm::sizing::MAX_METADATA).round_down(extent).0)
}

/// A chunk size declared for a pool that has another: reported, never acted on.
fn fixed_at_creation(spec: &PoolDesired, l: &LvInfo, plan: &mut Plan) {
    if let (Some(want), Some(have)) = (spec.chunk_size, l.chunk_size)
        && want.0 != have
    {
        plan.warn(
            &l.name,
            WarningKind::PoolFixed,
            format!(
                "thin pool {} has chunk size {}, the desired state says {want}: a chunk size is fixed when a pool is created, nothing is done",
                l.name,
                Bytes(have)
            ),
        );
    }
}

/// The declared data size: a growth, or a refusal (smaller without autoextend, no room).
fn declared_data(
    spec: &PoolDesired,
    l: &LvInfo,
    vg: &VgInfo,
    vg_free: &mut u64,
    plan: &mut Plan,
) -> Option<(u64, Growth)> {
    let extent = vg.extent_size.max(1);
    let target = spec.size.resolve(vg.size, extent).0;
    if target < l.size {
        // with autoextend, `size` is where the pool starts: grown past it is converged
        if spec.autoextend.is_none() {
            plan.refuse(
                &l.name,
                RefusalKind::Shrink,
                format!(
                    "the pool is {}, the desired state says {} ({}): ember never shrinks",
                    Bytes(l.size),
                    Bytes(target),
                    spec.size
                ),
            );
        }
        return None;
    }
    if target == l.size {
        return None;
    }
    let cap = cap(spec, vg, l.metadata_size.unwrap_or(0));
    if spec.autoextend.is_some() && target > cap {
        plan.refuse(
            &l.name,
            RefusalKind::PoolAtCap,
            format!(
                "thin_pool size {} is more than the cap autoextend max ({}) leaves ({}): the pool is not grown past its cap",
                Bytes(target),
                spec.autoextend.as_ref().map_or(String::new(), |a| a.max.to_string()),
                Bytes(cap)
            ),
        );
        return None;
    }
    let grow = target - l.size;
    if grow > *vg_free {
        plan.refuse(
            &l.name,
            RefusalKind::InsufficientSpace,
            format!(
                "growing the pool to {} needs {} free in the volume group, which has {}",
                Bytes(target),
                Bytes(grow),
                Bytes(*vg_free)
            ),
        );
        return None;
    }
    *vg_free -= grow;
    Some((target, Growth::Declared))
}

/// The declared metadata size: a growth (with its spare), or a refusal.
fn declared_metadata(
    spec: &PoolDesired,
    l: &LvInfo,
    extent: u64,
    vg_free: &mut u64,
    plan: &mut Plan,
) -> Option<(u64, Growth)> {
    let want = whole_metadata(spec.metadata_size?, extent);
    let have = l.metadata_size?;
    if want < have && spec.autoextend.is_none() {
        plan.refuse(
            &l.name,
            RefusalKind::Shrink,
            format!(
                "the pool's metadata is {}, the desired state says metadata_size {}: ember never shrinks (lvm cannot shrink pool metadata)",
                Bytes(have),
                Bytes(want)
            ),
        );
    }
    if want <= have {
        return None;
    }
    let need = 2 * (want - have);
    if need > *vg_free {
        plan.refuse(
            &l.name,
            RefusalKind::InsufficientSpace,
            format!(
                "growing the pool's metadata to {} needs {} free in the volume group (with its spare), which has {}",
                Bytes(want),
                Bytes(need),
                Bytes(*vg_free)
            ),
        );
        return None;
    }
    *vg_free -= need;
    Some((want, Growth::Declared))
}

/// A pool that does not exist yet: created when the backend declares one or wants volumes,
/// with the declared (or ember's default) metadata and chunk size.
fn create(
    desired: &BackendDesired,
    vg: &VgInfo,
    name: &LvName,
    vg_free: &mut u64,
    plan: &mut Plan,
) -> Option<PoolAfter> {
    let extent = vg.extent_size.max(1);
    let wants_volumes = desired
        .volumes
        .iter()
        .any(|(_, v)| v.state() == VolumeState::Present);
    if !wants_volumes && desired.thin_pool.is_none() {
        return None;
    }
    let spec = desired.thin_pool.as_ref();
    let declared = spec.map(|s| s.size.resolve(vg.size, extent).0);
    // undeclared: cinder's share of the free space (after this plan's deletions), less what
    // its metadata takes
    let free = *vg_free;
    let size = declared.unwrap_or_else(|| {
        let share = Bytes((free as f64 * DEFAULT_POOL_FRACTION) as u64).round_down(extent);
        let meta = default_metadata(default_chunk(share.0), share.0, extent);
        share
            .0
            .min(Bytes(free.saturating_sub(2 * meta)).round_down(extent).0)
    });
    // chunk and metadata for the largest the pool may become
    let largest = spec
        .and_then(|s| s.autoextend.as_ref())
        .map_or(0, |a| a.max_bytes(vg.size, extent))
        .max(size);
    let chunk = spec
        .and_then(|s| s.chunk_size)
        .map_or_else(|| default_chunk(largest), |c| c.0);
    let metadata = spec.and_then(|s| s.metadata_size).map_or_else(
        || default_metadata(chunk, largest, extent),
        |m| whole_metadata(m, extent),
    );
    if let Some(a) = spec.and_then(|s| s.autoextend.as_ref())
        && size > a.max_bytes(vg.size, extent)
    {
        plan.refuse(
            name.as_str(),
            RefusalKind::PoolAtCap,
            format!(
                "thin_pool size {} is more than autoextend max {} ({}): the pool is not created past its cap",
                Bytes(size),
                a.max,
                Bytes(a.max_bytes(vg.size, extent))
            ),
        );
        return None;
    }
    let need = size + 2 * metadata;
    if size == 0 || need > *vg_free {
        plan.refuse(name.as_str(), RefusalKind::InsufficientSpace, format!(
            "creating the pool with {} needs {} free in the volume group (with its metadata {} and the spare), which has {}",
            Bytes(size), Bytes(need), Bytes(metadata), Bytes(*vg_free)));
        return None;
    }
    *vg_free -= need;
    plan.actions.push(Action::CreatePool {
        pool: name.clone(),
        size: Bytes(size),
        metadata: Bytes(metadata),
        chunk: Bytes(chunk),
    });
    Some(PoolAfter {
        size,
        data_percent: 0.0,
        metadata_percent: 0.0,
        metadata_size: metadata,
        out_of_data: false,
        at_cap: None,
    })
}

#[cfg(test)]
mod tests;
