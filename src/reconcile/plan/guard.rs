//! The last phase: does this volume group, and this desired state, look like this backend's at
//! all? Two accidents look like ordinary edits to every other phase:
//!
//! - **a VG swap** (`volume_group` of two backends swapped in cinder.conf, or a typo naming
//!   another backend's VG): the backend would create its declared volumes, empty, beside the
//!   real ones of the same names in the other VG, and a compute host attaching by name could
//!   get the empty one. A VG marked for other backends (VG tags `ember-backend=...`, put on by
//!   ember when a backend first writes its VG), or one that holds another backend's volumes and
//!   none of this one's, takes no write from this backend.
//! - **another host's file** (configuration management pushing host B's desired state to host
//!   A): it declares none of the backend's existing volumes. Marking them all and creating B's
//!   is far more likely the wrong file than an intent: nothing is done for the backend until
//!   the operator confirms once (`--allow-deletions`); after that pass the file declares
//!   volumes that exist, and passes go on as usual.
//!
//! Either way every action of the plan is held (one refusal says why and what is held), so the
//! next pass sees the same state and says the same thing.

use super::{Plan, Policy, RefusalKind, Whose, whose};
use crate::config::BackendConfig;
use crate::desired::BackendDesired;
use crate::lvm::{LvKind, Observed};
use crate::names::{BACKEND_TAG_PREFIX, Tag, decode_tag_value};

/// The backends a VG is marked for (its `ember-backend=` VG tags, decoded).
pub fn vg_backends(observed: &Observed) -> Vec<String> {
    observed
        .vg
        .tags
        .iter()
        .filter_map(|t| t.strip_prefix(BACKEND_TAG_PREFIX))
        .map(|v| decode_tag_value(v).unwrap_or_else(|| v.to_string()))
        .collect()
}

/// Why this backend must not write its VG now, if it must not.
fn vg_hold(cfg: &BackendConfig, observed: &Observed) -> Option<(RefusalKind, String)> {
    let marked = vg_backends(observed);
    let vg = &cfg.volume_group;
    if !marked.is_empty() && !marked.contains(&cfg.name) {
        return Some((
            RefusalKind::VgOfAnotherBackend,
            format!(
                "volume group {vg} is marked for backend {} (VG tag {}), not for {b}: was volume_group changed or swapped in cinder.conf? ember writes nothing to it for {b}. If {vg} really is {b}'s now: vgchange --addtag {} {vg}",
                marked.join(", "),
                Tag::backend(&marked[0]),
                Tag::backend(&cfg.name),
                b = cfg.name,
            ),
        ));
    }
    if marked.contains(&cfg.name) {
        return None;
    }
    let mut others = std::collections::BTreeSet::new();
    let mut mine = 0usize;
    for lv in observed.lvs.iter().filter(|l| l.kind != LvKind::ThinPool) {
        match whose(cfg, lv) {
            Whose::Other(b) => {
                others.insert(b);
            }
            Whose::Mine { legacy: false } => mine += 1,
            _ => {}
        }
    }
    if mine == 0 && !others.is_empty() {
        let others: Vec<String> = others.into_iter().collect();
        return Some((
            RefusalKind::VgOfAnotherBackend,
            format!(
                "volume group {vg} holds volumes of backend {} and none of {b}'s: was volume_group changed or swapped in cinder.conf? ember writes nothing to it for {b}. If {vg} really is {b}'s now: vgchange --addtag {} {vg}",
                others.join(", "),
                Tag::backend(&cfg.name),
                b = cfg.name,
            ),
        ));
    }
    None
}

/// The backend's own volumes and snapshots that exist (ember's, with this backend's tag).
fn own_names(cfg: &BackendConfig, observed: &Observed) -> Vec<String> {
    let pool = cfg.pool_name();
    observed
        .lvs
        .iter()
        .filter(|l| matches!(l.kind, LvKind::Thin | LvKind::Linear) && l.name.as_str() != pool)
        .filter(|l| whose(cfg, l) == Whose::Mine { legacy: false })
        .map(|l| l.name.to_string())
        .collect()
}

/// Why this desired state must not be carried out for this backend without a confirmation.
fn file_hold(
    cfg: &BackendConfig,
    desired: &BackendDesired,
    observed: &Observed,
    policy: &Policy,
) -> Option<(RefusalKind, String)> {
    if policy.confirmed {
        return None;
    }
    let own = own_names(cfg, observed);
    if own.is_empty() {
        return None;
    }
    let declared = own
        .iter()
        .any(|n| desired.volumes.get_str(n).is_some() || desired.snapshots.get_str(n).is_some());
    if declared {
        return None;
    }
    let mut shown: Vec<&str> = own.iter().map(String::as_str).take(5).collect();
    if own.len() > shown.len() {
        shown.push("...");
    }
    Some((
        RefusalKind::UnknownVolumes,
        format!(
            "the desired state declares none of backend {b}'s {n} volume(s) ({}): is it another host's or another backend's file? Nothing is done for {b} until you confirm it once: `ember apply --backend {b} --allow-deletions` (or `ember reconcile --backend {b} --allow-deletions` while the daemon runs)",
            shown.join(", "),
            n = own.len(),
            b = cfg.name,
        ),
    ))
}

/// Holds every action of `plan` when the VG or the file is not this backend's (see the module
/// documentation); otherwise marks the VG for this backend when the plan writes and it is not
/// marked yet.
pub(super) fn hold_if_not_ours(
    cfg: &BackendConfig,
    desired: &BackendDesired,
    observed: &Observed,
    policy: &Policy,
    plan: &mut Plan,
) {
    // (a file that changes nothing needs no confirmation)
    let hold = vg_hold(cfg, observed).or_else(|| {
        plan.has_changes()
            .then(|| file_hold(cfg, desired, observed, policy))
            .flatten()
    });
    match hold {
        Some((kind, why)) => {
            let held = std::mem::take(&mut plan.actions);
            let why = if held.is_empty() {
                why
            } else {
                let what: Vec<String> = held
                    .iter()
                    .take(5)
                    .map(|a| a.subject().to_string())
                    .collect();
                format!(
                    "{why} (held: {} action(s): {}{})",
                    held.len(),
                    what.join(", "),
                    if held.len() > what.len() { ", ..." } else { "" }
                )
            };
            plan.mark_vg = false;
            plan.refuse(&cfg.volume_group, kind, why);
        }
        None => {
            plan.mark_vg = plan.has_changes() && !vg_backends(observed).contains(&cfg.name);
        }
    }
}

/// The pool check writes only when its pass would: never to a VG marked for, or holding only
/// the volumes of, another backend.
pub(super) fn vg_is_ours(cfg: &BackendConfig, observed: &Observed) -> bool {
    vg_hold(cfg, observed).is_none()
}

#[cfg(test)]
mod tests;
