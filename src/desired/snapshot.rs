//! Snapshots and sources: `snapshots:` of a backend, and the `source:` a new volume is made
//! from.
//!
//! ```yaml
//! volumes:
//!   volume-b: { size: 20G, source: { snapshot: _snapshot-s1 } }   # from a snapshot
//!   volume-c: { size: 10G, source: { volume: volume-a } }         # a clone
//! snapshots:
//!   _snapshot-s1: { volume: volume-a }
//!   _snapshot-old: { state: absent }
//! ```

use serde::{Deserialize, Serialize};

use super::{BackendDesired, VolumeDesired, VolumeState};
use crate::names::{LvName, SNAPSHOT_PREFIX};

/// What a new volume is made from (`source:`); it matters only when the volume is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "RawSource", into = "RawSource")]
pub enum Source {
    /// `source: { snapshot: _snapshot-s1 }`: a copy of the snapshot.
    Snapshot(LvName),
    /// `source: { volume: volume-a }`: a clone, a copy of the volume as it is at creation.
    Volume(LvName),
}

/// `{ snapshot: NAME }` or `{ volume: NAME }` as the file spells it (YAML's own enum syntax,
/// a tag, is not what an operator writes).
#[derive(Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    snapshot: Option<LvName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    volume: Option<LvName>,
}

impl TryFrom<RawSource> for Source {
    type Error = String;
    fn try_from(r: RawSource) -> Result<Self, String> {
        match (r.snapshot, r.volume) {
            (Some(s), None) => Ok(Source::Snapshot(s)),
            (None, Some(v)) => Ok(Source::Volume(v)),
            _ => Err("source names one snapshot or one volume: source: { snapshot: NAME } or source: { volume: NAME }".into()),
        }
    }
}

impl From<Source> for RawSource {
    fn from(s: Source) -> Self {
        match s {
            Source::Snapshot(n) => RawSource {
                snapshot: Some(n),
                volume: None,
            },
            Source::Volume(n) => RawSource {
                snapshot: None,
                volume: Some(n),
            },
        }
    }
}

impl Source {
    pub fn name(&self) -> &LvName {
        match self {
            Source::Snapshot(n) | Source::Volume(n) => n,
        }
    }
    /// `snapshot _snapshot-s1`, `volume volume-a`.
    pub fn describe(&self) -> String {
        match self {
            Source::Snapshot(n) => format!("snapshot {n}"),
            Source::Volume(n) => format!("volume {n}"),
        }
    }
    /// Whether the name has the kind its key says (a snapshot's name has cinder's prefix, a
    /// volume's does not).
    pub(super) fn check(&self) -> Result<(), String> {
        match self {
            Source::Snapshot(n) if !n.starts_with(SNAPSHOT_PREFIX) => Err(format!(
                "source: {{ snapshot: {n} }} names no snapshot (snapshot names start with {SNAPSHOT_PREFIX}); a clone of a volume is source: {{ volume: {n} }}"
            )),
            Source::Volume(n) if n.starts_with(SNAPSHOT_PREFIX) => Err(format!(
                "source: {{ volume: {n} }} names a snapshot; write source: {{ snapshot: {n} }}"
            )),
            _ => Ok(()),
        }
    }
}

/// One declared snapshot: a thin snapshot of one of the backend's volumes, or absent. A
/// present one without `volume` (`_snapshot-x: {}`) is kept if it exists (a snapshot whose
/// volume was deleted) and cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawSnapshot", into = "RawSnapshot")]
pub enum SnapshotDesired {
    Present { volume: Option<LvName> },
    Absent,
}

impl SnapshotDesired {
    pub fn state(&self) -> VolumeState {
        match self {
            SnapshotDesired::Present { .. } => VolumeState::Present,
            SnapshotDesired::Absent => VolumeState::Absent,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSnapshot {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    volume: Option<LvName>,
    #[serde(default)]
    state: VolumeState,
}

impl TryFrom<RawSnapshot> for SnapshotDesired {
    type Error = String;
    fn try_from(r: RawSnapshot) -> Result<Self, String> {
        match (r.state, r.volume) {
            (VolumeState::Present, Some(v)) if v.starts_with(SNAPSHOT_PREFIX) => Err(format!(
                "a snapshot is of a volume; {v} is a snapshot (ember snapshots volumes only)"
            )),
            (VolumeState::Present, volume) => Ok(SnapshotDesired::Present { volume }),
            (VolumeState::Absent, _) => Ok(SnapshotDesired::Absent),
        }
    }
}

impl From<SnapshotDesired> for RawSnapshot {
    fn from(s: SnapshotDesired) -> Self {
        match s {
            SnapshotDesired::Present { volume } => RawSnapshot {
                volume,
                state: VolumeState::Present,
            },
            SnapshotDesired::Absent => RawSnapshot {
                volume: None,
                state: VolumeState::Absent,
            },
        }
    }
}

/// A thick backend (`lvm_type = default`) has no thin snapshots: `snapshots:` and `source:`
/// are errors there.
pub(super) fn thick_snapshots(b: &BackendDesired, err: &mut Vec<(String, String)>) {
    if let Some((name, _)) = b.snapshots.iter().next() {
        err.push((name.to_string(), "this backend has lvm_type = default (thick volumes): ember makes snapshots of thin volumes only; remove snapshots (or use lvm_type = thin)".into()));
    }
    if let Some((name, _)) = b.volumes.iter().find(|(_, v)| {
        matches!(
            v,
            VolumeDesired::Present {
                source: Some(_),
                ..
            }
        )
    }) {
        err.push((name.to_string(), format!("volume {name}: this backend has lvm_type = default (thick volumes): ember makes volumes from a source (a snapshot or a clone) in thin backends only; remove source")));
    }
}

/// Snapshots are named `_snapshot-…` (as cinder names them) and volumes are not, so the one
/// name space of the VG says which is which.
/// The volumes whose `source` (or the snapshots whose volume) this backend does not declare:
/// what `ember check`, which does not read LVM, can say about sources (`ember plan` says
/// whether they exist).
pub(super) fn undeclared_sources(b: &BackendDesired) -> Vec<(String, String)> {
    let declared = |n: &LvName| {
        b.volumes.contains_key_str(n.as_str()) || b.snapshots.contains_key_str(n.as_str())
    };
    let mut out = vec![];
    for (name, v) in b.volumes.iter() {
        if let VolumeDesired::Present {
            source: Some(s), ..
        } = v
            && !declared(s.name())
        {
            out.push((name.to_string(), format!(
                "volume {name}: its source, {}, is not declared in this backend: if {name} exists its source is ignored, and if not it is made only if the source exists and is ember's (ember plan says which)",
                s.describe()
            )));
        }
    }
    for (name, s) in b.snapshots.iter() {
        if let SnapshotDesired::Present {
            volume: Some(volume),
        } = s
            && !b.volumes.contains_key_str(volume.as_str())
        {
            out.push((name.to_string(), format!(
                "snapshot {name}: volume {volume} is not declared in this backend: the snapshot is made only if it exists and is ember's (ember plan says whether)"
            )));
        }
    }
    out
}

pub(super) fn names_by_kind(b: &BackendDesired, err: &mut Vec<(String, String)>) {
    if let Some((name, _)) = b.volumes.iter().find(|(n, _)| n.is_snapshot_name()) {
        err.push((name.to_string(), format!(
            "volume {name}: names that start with {} are snapshots'; declare it under snapshots: (or choose another name)",
            crate::names::SNAPSHOT_PREFIX
        )));
    }
    if let Some((name, _)) = b.snapshots.iter().find(|(n, _)| !n.is_snapshot_name()) {
        err.push((name.to_string(), format!(
            "snapshot {name}: snapshot names start with {} (cinder's LV name for a snapshot: _snapshot-<id>)",
            crate::names::SNAPSHOT_PREFIX
        )));
    }
}

#[cfg(test)]
mod tests;

/// What a declared, present volume or snapshot is made from: a volume's source, a snapshot's
/// volume.
fn made_from(b: &BackendDesired, name: &str) -> Option<LvName> {
    if let Some(VolumeDesired::Present {
        source: Some(s), ..
    }) = b.volumes.get_str(name)
    {
        return Some(s.name().clone());
    }
    match b.snapshots.get_str(name) {
        Some(SnapshotDesired::Present { volume: Some(v) }) => Some(v.clone()),
        _ => None,
    }
}

/// Volumes and snapshots made from each other in a ring (`a` from `b`, `b` from `a`): none of
/// them can be made first. One error per ring, on its first member by name. Each name is
/// walked once (every name is made from one other at most): linear in the file's size.
pub(super) fn source_cycles(b: &BackendDesired, err: &mut Vec<(String, String)>) {
    use std::collections::HashMap;
    // the walk that reached a name first
    let mut walk_of: HashMap<LvName, usize> = HashMap::new();
    let starts = b
        .volumes
        .iter()
        .map(|(n, _)| n)
        .chain(b.snapshots.iter().map(|(n, _)| n));
    for (walk, start) in starts.enumerate() {
        let mut path: Vec<LvName> = vec![];
        let mut at = Some(start.clone());
        while let Some(name) = at {
            match walk_of.get(&name) {
                // this walk came back to it: a ring, from there on
                Some(w) if *w == walk => {
                    let i = path.iter().position(|p| *p == name).unwrap_or(0);
                    ring_error(&path[i..], err);
                    break;
                }
                // an earlier walk's: what follows is known
                Some(_) => break,
                None => {}
            }
            walk_of.insert(name.clone(), walk);
            at = made_from(b, name.as_str());
            path.push(name);
        }
    }
}

/// The error of one ring, said from its first member by name.
fn ring_error(ring: &[LvName], err: &mut Vec<(String, String)>) {
    let Some(first) = ring
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.cmp(b.1))
        .map(|(i, _)| i)
    else {
        return;
    };
    let chain: Vec<&str> = ring[first..]
        .iter()
        .chain(&ring[..first])
        .chain(std::iter::once(&ring[first]))
        .map(LvName::as_str)
        .collect();
    let name = &ring[first];
    err.push((
        name.to_string(),
        format!(
            "{name}: made from itself through {}: none of them can be made first; remove one of these sources",
            chain.join(" <- ")
        ),
    ));
}
