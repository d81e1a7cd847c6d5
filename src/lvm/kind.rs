//! What kind of LV each row of a report is, and who depends on whom: volumes, thin pools, thin
//! snapshots and COW snapshots (`lvcreate --snapshot --size`, as backup tools take them every
//! night and as cinder makes a thick backend's snapshots).
//!
//! What lvm 2.03.16 shows and does, measured in the VM (`lvs -o
//! lv_attr,lv_layout,lv_role,origin,pool_lv`; `tests/fixtures/lvm/cow.json` is that capture):
//!
//! ```text
//! LV         lv_attr     lv_layout    origin  role
//! thick      owi-a-s---  linear               origin,thickorigin     a linear volume with a COW snapshot
//! thicksnap  swi-a-s---  linear       thick   snapshot,thicksnapshot its COW snapshot (no pool_lv; VG extents)
//! thinc      owi-a-tz--  thin,sparse          origin,thickorigin     a thin volume with a COW snapshot
//! thincow    swi-a-s---  linear       thinc   snapshot,thicksnapshot (outside the pool, in VG extents)
//! thinv      Vwi-a-tz--  thin,sparse          origin,thinorigin      a thin volume with a thin snapshot:
//! thinsnap   Vwi---tz-k  thin,sparse  thinv   snapshot,thinsnapshot  still `V` (thin snapshots do not mark it)
//! ```
//!
//! A thin volume with both kinds of snapshot is `owi-a-tz--`; a thin snapshot with a COW snapshot
//! of its own `owi---tz-k` (with its `origin`). `lvremove --yes` of an origin removes every COW
//! snapshot of it with it (it prints both removals); a thin snapshot outlives its origin and
//! stops naming it. `lvextend` of an *active* COW origin, linear or thin, fails: "Snapshot
//! origin volumes can be resized only while inactive: try lvchange -an."; once inactive
//! (`lvchange -an` of the origin deactivates its COW snapshots too) it grows, its data and its
//! snapshot's intact, and `lvchange -ay` brings both back. Tags change on either as on any LV.
//! A snapshot of a COW snapshot is refused ("Snapshots of snapshots are not supported.").
//!
//! So an origin is still the volume it was (`Thin` or `Linear`), and a COW snapshot is a kind of
//! its own that depends on its origin: ember never makes, adopts, grows, activates or removes
//! one, and never removes its origin while it exists (that would remove it too).

use std::collections::HashMap;

use super::{LvInfo, Observed};
use crate::names::LvName;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LvKind {
    ThinPool,
    /// A thin volume (`V`), a thin snapshot among them (a thin LV with an `origin`), also when a
    /// COW snapshot makes it an origin (`o`, layout `thin`).
    Thin,
    /// A linear or striped LV (`-`), also when a COW snapshot makes it an origin (`o`).
    Linear,
    /// A COW snapshot (`s`; `S` while it merges into its origin): `lvcreate --snapshot --size`
    /// of a thick or thin LV, its `origin`. lvm removes it with its origin.
    CowSnapshot,
    /// Anything else (raid, mirror, cache, an origin a snapshot merges into, ...): ember never
    /// touches these.
    Other,
}

/// The kind of an LV from `lv_attr`'s first character and `lv_layout`.
pub(super) fn of(volume_type: char, layout: &str) -> LvKind {
    let plain = layout.is_empty() || layout == "linear" || layout == "striped";
    let thin = layout.split(',').any(|l| l == "thin");
    match volume_type {
        't' => LvKind::ThinPool,
        'V' => LvKind::Thin,
        'o' if thin => LvKind::Thin,
        '-' | 'o' if plain => LvKind::Linear,
        's' | 'S' => LvKind::CowSnapshot,
        _ => LvKind::Other,
    }
}

impl LvInfo {
    /// What the LV is, in words (for refusals and comments).
    pub fn describe(&self) -> String {
        let origin = self.origin.as_deref().unwrap_or("an LV no longer there");
        match self.kind {
            LvKind::ThinPool => "a thin pool".into(),
            LvKind::Thin if self.origin.is_some() => format!("a thin snapshot of {origin}"),
            LvKind::Thin => format!(
                "a thin volume in {}",
                self.pool.as_deref().unwrap_or("no pool")
            ),
            LvKind::Linear => "a linear LV".into(),
            LvKind::CowSnapshot => format!(
                "a COW snapshot of {origin} (lvcreate --snapshot --size, as backup tools and cinder's thick backends make them)"
            ),
            LvKind::Other => "a raid, mirror, cache or other special LV".into(),
        }
    }
}

impl Observed {
    /// Each origin's COW snapshots, by the origin's name: what `lvremove` of that origin would
    /// remove with it, and why lvm refuses to grow it while it is active.
    pub fn cow_snapshots(&self) -> HashMap<&str, Vec<&LvName>> {
        let mut m: HashMap<&str, Vec<&LvName>> = HashMap::new();
        for l in &self.lvs {
            if l.kind == LvKind::CowSnapshot
                && let Some(o) = l.origin.as_deref()
            {
                m.entry(o).or_default().push(&l.name);
            }
        }
        m
    }
}

/// `a, b and c`: names for a sentence.
pub fn list(names: &[&LvName]) -> String {
    match names {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => {
            let init: Vec<&str> = init.iter().map(|n| n.as_str()).collect();
            format!("{} and {last}", init.join(", "))
        }
    }
}

#[cfg(test)]
mod tests;
