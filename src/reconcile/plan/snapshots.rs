//! Snapshots, and volumes made from a source: which declared snapshots exist, are to be made
//! or deleted, and the order and admission of everything made from another LV.
//!
//! Order: a snapshot or copy is made once what it is made from exists in this pass (an
//! existing volume of the backend's, or one this plan creates first, a snapshot included), so
//! `volume-b` from `_snapshot-s1` from `volume-a`, all new, is made in that order in one pass.
//! What cannot be ordered so (its source is missing, refused, not the backend's, or they are
//! made from each other) is refused with the reason.

use std::collections::{HashMap, HashSet};

use super::capacity::Capacity;
use super::{Action, Plan, RefusalKind, Whose, whose};
use crate::config::BackendConfig;
use crate::desired::{BackendDesired, SnapshotDesired, Source};
use crate::lvm::{LvInfo, LvKind};
use crate::names::{LvName, Tag};
use crate::size::Bytes;

/// What the declared snapshots need.
#[derive(Default)]
pub(super) struct Declared {
    /// This backend's snapshots declared `state: absent`: (name, size).
    pub absent: Vec<(LvName, u64)>,
    /// Snapshots to make: (snapshot, origin).
    pub creates: Vec<(LvName, LvName)>,
    /// Existing without ember's tag, with `adopt: true`: (name, size).
    pub adopts: Vec<(LvName, u64)>,
}

/// Each declared snapshot against the LV of that name, if any.
pub(super) fn classify(
    cfg: &BackendConfig,
    desired: &BackendDesired,
    lv: &HashMap<&str, &LvInfo>,
    plan: &mut Plan,
) -> Declared {
    let mut d = Declared::default();
    for (name, spec) in desired.snapshots.iter() {
        let n = name.as_str();
        let Some(l) = lv.get(n).copied() else {
            match spec {
                SnapshotDesired::Present {
                    volume: Some(volume),
                } => d.creates.push((name.clone(), volume.clone())),
                SnapshotDesired::Present { volume: None } => plan.refuse(
                    n,
                    RefusalKind::SourceMissing,
                    "does not exist, and declares no volume to be a snapshot of (volume: NAME): nothing is created".into(),
                ),
                SnapshotDesired::Absent => {}
            }
            continue;
        };
        match (whose(cfg, l), spec) {
            // its clear was cut short: this pass deletes it (plan/clear.rs)
            (Whose::Mine { .. }, _) if l.is_clearing() => {}
            (Whose::Foreign, SnapshotDesired::Present { volume }) if desired.adopt => {
                match adoptable(cfg, l, volume.as_ref()) {
                    Ok(()) => d.adopts.push((name.clone(), l.size)),
                    Err(why) => plan.refuse(n, RefusalKind::NotAdoptable, why),
                }
            }
            (Whose::Foreign, _) => plan.refuse(
                n,
                RefusalKind::Foreign,
                format!(
                    "a snapshot LV with this name exists without ember's tag ({}): ember leaves it alone",
                    crate::names::OWNERSHIP_TAG
                ),
            ),
            (Whose::Other(b), _) => plan.refuse(
                n,
                RefusalKind::OtherBackend,
                format!(
                    "owned by backend {b} (its tag {}): not this backend's; ember leaves it alone",
                    Tag::backend(&b)
                ),
            ),
            (Whose::Mine { .. }, _) if !is_thin_in(cfg, l) => plan.refuse(
                n,
                RefusalKind::WrongKind,
                format!(
                    "exists as {}, not a thin snapshot in {}: ember leaves it alone",
                    l.describe(),
                    cfg.pool_name()
                ),
            ),
            (Whose::Mine { .. }, SnapshotDesired::Absent) => d.absent.push((name.clone(), l.size)),
            (Whose::Mine { .. }, SnapshotDesired::Present { volume: Some(volume) }) => {
                if let Some(o) = l.origin.as_deref().filter(|o| *o != volume.as_str()) {
                    plan.refuse(n, RefusalKind::WrongKind, format!(
                        "is a snapshot of {o}, the desired state says of {volume}: a snapshot is never replaced (declare a new one)"));
                }
            }
            // kept as it is
            (Whose::Mine { .. }, SnapshotDesired::Present { volume: None }) => {}
        }
    }
    d
}

fn is_thin_in(cfg: &BackendConfig, l: &LvInfo) -> bool {
    l.kind == LvKind::Thin && l.pool.as_deref() == Some(cfg.pool_name().as_str())
}

/// Whether `adopt: true` may make `l` this backend's snapshot: a thin snapshot in its pool (of
/// the declared volume, while that exists), as cinder makes them.
fn adoptable(cfg: &BackendConfig, l: &LvInfo, volume: Option<&LvName>) -> Result<(), String> {
    let why = if !is_thin_in(cfg, l) {
        format!(
            "it is {}, not a thin LV in {}",
            l.describe(),
            cfg.pool_name()
        )
    } else {
        match (l.origin.as_deref(), volume) {
            (Some(o), Some(volume)) if o != volume.as_str() => {
                format!("it is a snapshot of {o}, the desired state says of {volume}")
            }
            _ => return Ok(()),
        }
    };
    Err(format!(
        "adopt: true adopts only what cinder could have made for this backend; {why}: ember leaves it alone"
    ))
}

/// One LV to make from another.
enum Item {
    Snapshot {
        snapshot: LvName,
        origin: LvName,
    },
    Copy {
        volume: LvName,
        size: u64,
        source: Source,
    },
}

impl Item {
    fn name(&self) -> &LvName {
        match self {
            Item::Snapshot { snapshot, .. } => snapshot,
            Item::Copy { volume, .. } => volume,
        }
    }
    fn from(&self) -> &LvName {
        match self {
            Item::Snapshot { origin, .. } => origin,
            Item::Copy { source, .. } => source.name(),
        }
    }
}

/// Admits and orders the snapshots and the copies (new volumes with a `source`), after
/// everything else the plan creates, grows, adopts and deletes.
pub(super) fn make(
    cfg: &BackendConfig,
    desired: &BackendDesired,
    lv: &HashMap<&str, &LvInfo>,
    snapshots: Vec<(LvName, LvName)>,
    copies: Vec<(LvName, u64, Source)>,
    cap: &mut Capacity,
    plan: &mut Plan,
) {
    let mut items: Vec<Item> = snapshots
        .into_iter()
        .map(|(snapshot, origin)| Item::Snapshot { snapshot, origin })
        .chain(copies.into_iter().map(|(volume, size, source)| Item::Copy {
            volume,
            size,
            source,
        }))
        .collect();
    if items.is_empty() {
        return;
    }
    let mut made = sizes_after(cfg, desired, lv, plan);
    let mut refused: HashSet<LvName> = HashSet::new();
    loop {
        let pending: HashSet<LvName> = items.iter().map(|i| i.name().clone()).collect();
        let (ready, waiting): (Vec<Item>, Vec<Item>) = items
            .into_iter()
            .partition(|i| made.contains_key(i.from().as_str()) || !pending.contains(i.from()));
        if ready.is_empty() {
            items = waiting;
            break;
        }
        for item in ready {
            let Some(&from_size) = made.get(item.from().as_str()) else {
                refuse_missing(cfg, desired, lv, plan, &refused, &item);
                refused.insert(item.name().clone());
                continue;
            };
            match admit(item, from_size, cap) {
                Ok((action, size)) => {
                    made.insert(action.subject().to_string(), size);
                    plan.actions.push(action);
                }
                Err((name, kind, why)) => {
                    plan.refuse(name.as_str(), kind, why);
                    refused.insert(name);
                }
            }
        }
        items = waiting;
    }
    for item in items {
        plan.refuse(
            item.name().as_str(),
            RefusalKind::SourceMissing,
            format!(
                "{} is made from {}, which is itself waiting to be made from another: they are made from each other",
                item.name(),
                item.from()
            ),
        );
    }
}

/// The action for `item`, whose source is `from_size` bytes, if capacity admits it.
fn admit(
    item: Item,
    from_size: u64,
    cap: &mut Capacity,
) -> Result<(Action, u64), (LvName, RefusalKind, String)> {
    match item {
        Item::Snapshot { snapshot, origin } => match cap.admit(from_size) {
            Ok(()) => Ok((
                Action::CreateSnapshot {
                    snapshot,
                    origin,
                    size: Bytes(from_size),
                },
                from_size,
            )),
            Err((kind, why)) => Err((snapshot, kind, why)),
        },
        Item::Copy {
            volume,
            size,
            source,
        } => {
            if from_size > size {
                let why = format!(
                    "its source, {}, is {}, larger than the {} declared: ember never shrinks (declare at least {})",
                    source.describe(),
                    Bytes(from_size),
                    Bytes(size),
                    Bytes(from_size)
                );
                return Err((volume, RefusalKind::SourceLarger, why));
            }
            match cap.admit(size) {
                Ok(()) => Ok((
                    Action::CreateFromSource {
                        volume,
                        size: Bytes(size),
                        source,
                        source_size: Bytes(from_size),
                    },
                    size,
                )),
                Err((kind, why)) => Err((volume, kind, why)),
            }
        }
    }
}

/// Whether the desired state declares `name` (a volume or a snapshot) absent.
fn declared_absent(desired: &BackendDesired, name: &str) -> bool {
    desired
        .volumes
        .get_str(name)
        .is_some_and(|v| v.state() == crate::desired::VolumeState::Absent)
        || desired
            .snapshots
            .get_str(name)
            .is_some_and(|s| *s == SnapshotDesired::Absent)
}

/// The backend's thin LVs as they will be once this plan's adoptions, claims, deletions, growth
/// and creations are done: what a snapshot or copy may be made from, and its size then. An old
/// ember's volume counts only once this plan claims it (one it does not claim may be another
/// backend's); one declared absent never counts, deleted in this pass or not.
fn sizes_after(
    cfg: &BackendConfig,
    desired: &BackendDesired,
    lv: &HashMap<&str, &LvInfo>,
    plan: &Plan,
) -> HashMap<String, u64> {
    let mut m: HashMap<String, u64> = lv
        .values()
        .filter(|l| is_thin_in(cfg, l) && whose(cfg, l) == Whose::Mine { legacy: false })
        .map(|l| (l.name.to_string(), l.size))
        .collect();
    for a in &plan.actions {
        match a {
            Action::AdoptVolume { volume, size, .. }
            | Action::CreateVolume { volume, size, .. }
            | Action::ClaimVolume { volume, size, .. } => {
                m.insert(volume.to_string(), size.0);
            }
            Action::ExtendVolume { volume, to, .. } => {
                m.insert(volume.to_string(), to.0);
            }
            Action::DeleteVolume { volume, .. } => {
                m.remove(volume.as_str());
            }
            _ => {}
        }
    }
    m.retain(|name, _| !declared_absent(desired, name));
    m
}

/// Why `item`'s source is not there to make it from.
fn refuse_missing(
    cfg: &BackendConfig,
    desired: &BackendDesired,
    lv: &HashMap<&str, &LvInfo>,
    plan: &mut Plan,
    refused: &HashSet<LvName>,
    item: &Item,
) {
    let from = item.from();
    let what = match item {
        Item::Snapshot { .. } => format!("the volume it is of, {from},"),
        Item::Copy { source, .. } => format!("its source, {},", source.describe()),
    };
    let refused_here =
        refused.contains(from) || plan.refused.iter().any(|r| r.subject == from.as_str());
    let (kind, why) = match lv.get(from.as_str()).map(|l| (l, whose(cfg, l))) {
        _ if declared_absent(desired, from) => (
            RefusalKind::SourceMissing,
            format!("{what} is declared absent"),
        ),
        Some((_, Whose::Foreign)) => (
            RefusalKind::SourceNotOwned,
            format!(
                "{what} exists without ember's tag: ember copies only the backend's own volumes (adopt it first)"
            ),
        ),
        Some((_, Whose::Other(b))) => (
            RefusalKind::SourceNotOwned,
            format!("{what} is backend {b}'s, not this backend's"),
        ),
        _ if refused_here => (
            RefusalKind::SourceMissing,
            format!("{what} is not made in this pass (it is refused: see why)"),
        ),
        Some((_, Whose::Mine { legacy: true })) => (
            RefusalKind::SourceNotOwned,
            format!(
                "{what} has ember's tag from before backend tags and is not claimed by this backend (declare it, to make it this backend's)"
            ),
        ),
        Some((l, Whose::Mine { .. })) if is_thin_in(cfg, l) => (
            RefusalKind::SourceMissing,
            format!("{what} is deleted in this pass (state: absent, or pruned)"),
        ),
        Some((l, Whose::Mine { .. })) => (
            RefusalKind::WrongKind,
            format!(
                "{what} is {}, not a thin volume in {}",
                l.describe(),
                cfg.pool_name()
            ),
        ),
        None => (
            RefusalKind::SourceMissing,
            format!("{what} does not exist and is not made in this pass: nothing is created"),
        ),
    };
    plan.refuse(item.name().as_str(), kind, why);
}

#[cfg(test)]
mod tests;
