//! Phase 1: each declared volume against the LV of that name, if any.

use std::collections::HashMap;

use super::{Plan, RefusalKind, Whose, whose};
use crate::config::BackendConfig;
use crate::desired::{BackendDesired, Source, VolumeDesired, VolumeState};
use crate::lvm::{LvInfo, LvKind};
use crate::names::{LvName, LvUuid, Tag};
use crate::size::Bytes;

/// What the declared volumes need, found by comparing them with what exists.
#[derive(Default)]
pub(super) struct Classified {
    pub creates: Vec<(LvName, u64)>,
    /// New volumes made from a source: (name, size, source).
    pub copies: Vec<(LvName, u64, Source)>,
    /// (name, its UUID, size, new size).
    pub extends: Vec<(LvName, LvUuid, u64, u64)>,
    pub absent: Vec<(LvName, u64)>,
    /// (name, its UUID, size).
    pub activates: Vec<(LvName, LvUuid, u64)>,
    /// Inactive volumes with a COW snapshot that grow in this pass: activated after their
    /// growth (lvm grows a snapshot's origin only while it is inactive). (name, its UUID, size).
    pub activates_after_growth: Vec<(LvName, LvUuid, u64)>,
    /// Declared, existing without ember's tag, and `adopt: true`: (name, size).
    pub adopts: Vec<(LvName, u64)>,
}

/// Phase 1: each declared volume against the LV of that name, if any. `cow`: each origin's COW
/// snapshots.
pub(super) fn classify(
    cfg: &BackendConfig,
    desired: &BackendDesired,
    extent: u64,
    lv: &HashMap<&str, &LvInfo>,
    cow: &HashMap<&str, Vec<&LvName>>,
    plan: &mut Plan,
) -> Classified {
    let mut c = Classified::default();
    let thin = cfg.lvm_type.is_thin();
    for (name, spec) in desired.volumes.iter() {
        // one of this backend's whose clear was cut short is deleted by this pass
        // (plan/clear.rs): what is declared of it is made again once it is gone
        let existing = lv
            .get(name.as_str())
            .copied()
            .filter(|l| !(l.is_clearing() && matches!(whose(cfg, l), Whose::Mine { .. })));
        let who = existing.map(|l| whose(cfg, l));
        let n = name.as_str();
        match (existing, &who) {
            (None, _) => {}
            (Some(l), Some(Whose::Foreign))
                if desired.adopt && spec.state() == VolumeState::Present =>
            {
                match adoptable(cfg, l) {
                    Ok(()) => c.adopts.push((name.clone(), l.size)),
                    Err(why) => {
                        plan.refuse(n, RefusalKind::NotAdoptable, why);
                        continue;
                    }
                }
            }
            (Some(_), Some(Whose::Foreign)) => {
                let what = if spec.state() == VolumeState::Absent {
                    "declared absent, but the LV exists without ember's tag"
                } else {
                    "an LV with this name exists without ember's tag"
                };
                plan.refuse(
                    n,
                    RefusalKind::Foreign,
                    format!(
                        "{what} ({}): ember leaves it alone",
                        crate::names::OWNERSHIP_TAG
                    ),
                );
                continue;
            }
            (Some(_), Some(Whose::Other(b))) => {
                plan.refuse(n, RefusalKind::OtherBackend, format!(
                    "owned by backend {b} (its tag {}): not this backend's; ember leaves it alone", Tag::backend(b)));
                continue;
            }
            (Some(l), _)
                if spec.state() == VolumeState::Absent
                    && !matches!(l.kind, LvKind::Thin | LvKind::Linear) =>
            {
                let why = match l.kind {
                    LvKind::CowSnapshot => {
                        "ember never removes one: lvm removes it with its origin, or remove it yourself (lvremove) when it is no longer needed"
                    }
                    _ => "ember leaves it alone",
                };
                plan.refuse(
                    n,
                    RefusalKind::WrongKind,
                    format!(
                        "declared absent, but the LV is {}, not a volume: {why}",
                        l.describe()
                    ),
                );
                continue;
            }
            _ => {}
        }
        match (spec, existing) {
            (VolumeDesired::Absent, None) => {}
            (VolumeDesired::Absent, Some(l)) => c.absent.push((name.clone(), l.size)),
            (VolumeDesired::Present { size, source, .. }, _) => {
                let want = size.round_up(extent).0;
                if let (Some(s), Some(_)) = (source, existing)
                    && !lv.contains_key(s.name().as_str())
                {
                    plan.warn(n, super::WarningKind::SourceIgnored, format!(
                        "volume {n} exists; its source, {}, does not: a source is used only when a volume is created, and is ignored", s.describe()));
                }
                match existing {
                    None => match source {
                        Some(s) => c.copies.push((name.clone(), want, s.clone())),
                        None => c.creates.push((name.clone(), want)),
                    },
                    Some(l) if !expected_kind(cfg, l) => plan.refuse(n, RefusalKind::WrongKind, format!(
                        "exists as {}, but this backend makes {} volumes: ember will not convert it",
                        l.describe(), if thin { "thin" } else { "thick" })),
                    Some(l) => {
                        let snaps = cow.get(n).map(Vec::as_slice).unwrap_or_default();
                        existing_volume(cfg, l, want, snaps, &mut c, plan);
                    }
                }
            }
        }
    }
    c
}

/// A declared volume that exists, of the kind this backend makes: activated when it is
/// inactive, grown when it is smaller, refused when larger. `snaps`: its COW snapshots.
fn existing_volume(
    cfg: &BackendConfig,
    l: &LvInfo,
    want: u64,
    snaps: &[&LvName],
    c: &mut Classified,
    plan: &mut Plan,
) {
    let (name, n) = (&l.name, l.name.as_str());
    let grows = l.size < want;
    if !snaps.is_empty() && l.is_owned() {
        // never recreated empty: lvremove would take its snapshots with it
        plan.origins.push(name.clone());
    }
    // (one adopted in this pass is activated by the next, once it is ember's)
    if !l.active && l.is_owned() {
        // lvm grows a volume with a COW snapshot only while it is inactive: grown first
        if grows && !snaps.is_empty() {
            c.activates_after_growth
                .push((name.clone(), l.uuid.clone(), l.size));
        } else {
            c.activates.push((name.clone(), l.uuid.clone(), l.size));
        }
        if l.tags.iter().any(|t| t == crate::names::ADOPTED_TAG) {
            plan.adopted.push(name.clone());
        }
        if l.origin.is_some() || l.tags.iter().any(|t| t == crate::names::COPY_TAG) {
            plan.copies.push(name.clone());
        }
    }
    if l.size > want {
        plan.refuse(
            n,
            RefusalKind::Shrink,
            format!(
                "is {}, the desired state says {}: ember never shrinks",
                Bytes(l.size),
                Bytes(want)
            ),
        );
    } else if grows && l.active && !snaps.is_empty() {
        let why = origin_cannot_grow(l, want, snaps, &cfg.volume_group);
        plan.refuse(n, RefusalKind::HasCowSnapshot, why);
    } else if grows {
        c.extends.push((name.clone(), l.uuid.clone(), l.size, want));
    }
}

/// Why an active volume with COW snapshots is not grown (lvm refuses; src/lvm/kind.rs).
fn origin_cannot_grow(l: &LvInfo, want: u64, snaps: &[&LvName], vg: &str) -> String {
    let n = &l.name;
    format!(
        "is {}, the desired state says {}, but it has the COW snapshot{} {} (another tool's lvcreate --snapshot --size): lvm grows a snapshot's origin only while it is inactive (\"Snapshot origin volumes can be resized only while inactive\"), and ember never deactivates a volume. Remove the snapshot (lvremove {vg}/{}), or deactivate the volume yourself when nothing uses it (lvchange -an {vg}/{n}, its snapshot with it): the next pass then grows it and activates it again",
        Bytes(l.size),
        Bytes(want),
        if snaps.len() > 1 { "s" } else { "" },
        crate::lvm::kind::list(snaps),
        snaps[0],
    )
}

/// Whether `adopt: true` may make `lv` this backend's: only what cinder itself could have made
/// for it (a thin volume in its pool that is not a snapshot; a linear LV for a thick backend).
pub(crate) fn adoptable(cfg: &BackendConfig, lv: &LvInfo) -> Result<(), String> {
    let pool = cfg.pool_name();
    let what = match (cfg.lvm_type.is_thin(), lv.kind) {
        (_, LvKind::ThinPool) => "a thin pool".to_string(),
        // cinder makes clones and volumes from snapshots as thin snapshots too (with a
        // volume's name); its snapshots are named `_snapshot-<id>`
        (true, LvKind::Thin)
            if lv.origin.is_some() && lv.name.as_str().starts_with("_snapshot") =>
        {
            format!(
                "a thin snapshot of {}",
                lv.origin.as_deref().unwrap_or_default()
            )
        }
        (true, LvKind::Thin) if lv.pool.as_deref() != Some(pool.as_str()) => format!(
            "a thin volume in another pool ({})",
            lv.pool.as_deref().unwrap_or_default()
        ),
        (true, LvKind::Thin) | (false, LvKind::Linear) => return Ok(()),
        (true, LvKind::Linear) => "a linear LV, not in the backend's thin pool".to_string(),
        (false, LvKind::Thin) => "a thin volume, and this backend is thick".to_string(),
        (_, LvKind::CowSnapshot | LvKind::Other) => lv.describe(),
    };
    Err(format!(
        "adopt: true adopts only what cinder could have made for this backend ({}); this LV is {what}: ember leaves it alone",
        if cfg.lvm_type.is_thin() {
            format!("a thin volume in {pool}")
        } else {
            "a linear LV".to_string()
        }
    ))
}

fn expected_kind(cfg: &BackendConfig, lv: &LvInfo) -> bool {
    if cfg.lvm_type.is_thin() {
        lv.kind == LvKind::Thin && lv.pool.as_deref() == Some(cfg.pool_name().as_str())
    } else {
        lv.kind == LvKind::Linear
    }
}

#[cfg(test)]
mod tests;
