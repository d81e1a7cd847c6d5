//! The volume group's own metadata area. lvm keeps a VG's metadata as text, and writes it only
//! while the new text fits half the area (the old copy stays until the new one is committed:
//! `(mda_size − 512) / 2 − 512` bytes, lib/format_text/format-text.c). A VG with many LVs runs
//! out of it, and then every creation fails midway. ember reads `vg_mda_free` with the pass and
//! refuses the creations that would not fit, with the reason, instead.

use super::{Action, Plan, RefusalKind};
use crate::lvm::VgInfo;
use crate::size::Bytes;

/// The least an LV's text is taken to cost, and the cost when the VG has no LV to learn from.
const MIN_PER_LV: u64 = 384;
const DEFAULT_PER_LV: u64 = 768;

/// What one more LV's text costs in this VG: the average of the LVs it has (from the space
/// they use), with half again as a margin.
fn per_lv(vg: &VgInfo, lvs: usize) -> u64 {
    let used = vg.mda_size.zip(vg.mda_free).map(|(size, free)| {
        let max = (size.saturating_sub(512) / 2).saturating_sub(512);
        max.saturating_sub(free)
    });
    match used {
        Some(u) if lvs > 0 => (u / (lvs as u64 + 1)).max(MIN_PER_LV) * 3 / 2,
        _ => DEFAULT_PER_LV,
    }
}

/// Refuses the creations beyond what the VG's metadata area can hold (in plan order). A new
/// thin pool is four LVs in lvm's text (the pool, its data, its metadata and the spare).
pub(super) fn hold_to_metadata_area(vg: &VgInfo, lvs: usize, plan: &mut Plan) {
    let Some(free) = vg.mda_free else {
        return;
    };
    let cost = per_lv(vg, lvs);
    let mut left = free;
    let mut refused: Vec<String> = vec![];
    let mut no_pool = false;
    plan.actions.retain(|a| {
        // a thin volume whose pool could not be made cannot be made either, nor a copy of
        // what could not be made
        let orphan = matches!(a, Action::CreateVolume { thin: true, .. }) && no_pool
            || a.made_from()
                .is_some_and(|f| refused.iter().any(|r| r == f.as_str()));
        if orphan {
            refused.push(a.subject().to_string());
            return false;
        }
        let n = match a {
            Action::CreatePool { .. } => 4,
            a if a.creates() => 1,
            _ => return true,
        };
        if left >= n * cost {
            left -= n * cost;
            true
        } else {
            no_pool |= matches!(a, Action::CreatePool { .. });
            refused.push(a.subject().to_string());
            false
        }
    });
    for subject in refused {
        plan.refuse(
            &subject,
            RefusalKind::VgMetadataFull,
            format!(
                "the volume group's metadata area has {} free and another LV takes about {}: lvm would fail the creation (vgextend with a PV with a larger metadata area, or remove LVs)",
                Bytes(free),
                Bytes(cost)
            ),
        );
    }
}
