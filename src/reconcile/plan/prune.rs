//! Ownership and deletion: which LVs are this backend's, legacy tags claimed, the soft prune
//! (mark, wait `prune_grace`, delete if still undeclared), and the deletion circuit breaker.

use std::collections::HashMap;

use super::{
    Action, DeleteReason, Plan, Policy, RefusalKind, Scheduled, UnmarkReason, Warning, WarningKind,
    Whose, whose,
};
use crate::config::BackendConfig;
use crate::desired::{BackendDesired, VolumeState};
use crate::lvm::{LvInfo, LvKind, Observed};
use crate::names::{LvName, Tag};
use crate::size::Bytes;

/// Space this plan's deletions give back: thin volumes' virtual size (provisioning) and
/// linear volumes' extents (the VG's free space).
#[derive(Debug, Default)]
pub(super) struct Freed {
    pub thin: u64,
    pub linear: u64,
}

/// Before this (2025-01-01) the clock is wrong: nothing is marked or pruned.
const PLAUSIBLE_NOW: u64 = 1_735_689_600;
/// A mark dated further ahead than this was made by a clock that was ahead.
const MAX_CLOCK_AHEAD: u64 = 86_400;

/// A pass compares at most this many (new name, undeclared name) pairs for "did you mean".
const MAX_SIMILARITY_PAIRS: usize = 250_000;

fn is_volume(lv: &LvInfo, pool: Option<&LvName>) -> bool {
    matches!(lv.kind, LvKind::Thin | LvKind::Linear) && pool.is_none_or(|p| p.as_str() != lv.name)
}

/// Phase 2. `absent`: this backend's volumes declared `state: absent`; `creates`: names about
/// to be created (for "did you mean").
#[allow(clippy::too_many_arguments)]
pub(super) fn ownership_and_deletions(
    cfg: &BackendConfig,
    desired: &BackendDesired,
    observed: &Observed,
    pool: Option<&LvName>,
    absent: Vec<(LvName, u64)>,
    creates: &[(LvName, u64)],
    cow: &HashMap<&str, Vec<&LvName>>,
    policy: &Policy,
    plan: &mut Plan,
) -> Freed {
    let mut lvs: Vec<&LvInfo> = observed.lvs.iter().filter(|l| is_volume(l, pool)).collect();
    lvs.sort_by(|a, b| a.name.cmp(&b.name));
    let mut mine = 0usize;
    let mut undeclared: Vec<(&LvInfo, LvName)> = vec![];
    // this backend's LVs whose wipe was cut short: finished whatever is declared
    let mut resume: Vec<&LvInfo> = vec![];
    for lv in lvs {
        let name = lv.name.clone();
        let declared = if lv.name.is_snapshot_name() {
            desired.snapshots.get_str(&lv.name).map(|s| s.state())
        } else {
            desired.volumes.get_str(&lv.name).map(|v| v.state())
        };
        match whose(cfg, lv) {
            Whose::Foreign => continue,
            Whose::Other(b) => {
                if declared.is_none() {
                    plan.warnings.push(Warning {
                        subject: lv.name.to_string(),
                        kind: WarningKind::OtherBackend,
                        message: format!(
                            "volume {} {} is owned by backend {b} (tag {}), not by this backend: ember leaves it alone (was volume_group changed in cinder.conf?)",
                            lv.name, Bytes(lv.size), Tag::backend(&b)),
                    });
                }
                continue;
            }
            // an old ember's volume is claimed only when this backend declares it: one that is
            // not declared may be another backend's whose VG this is by mistake (a swap)
            Whose::Mine { legacy: true } if declared.is_none() => {
                plan.warnings.push(Warning {
                    subject: lv.name.to_string(),
                    kind: WarningKind::Unclaimed,
                    message: format!(
                        "volume {} {} has ember's tag from before backend tags and is not declared: not claimed, not pruned (declare it to make it this backend's, or tag it {} yourself)",
                        lv.name, Bytes(lv.size), Tag::backend(&cfg.name)),
                });
                continue;
            }
            Whose::Mine { .. } if lv.is_clearing() => {
                resume.push(lv);
                continue;
            }
            Whose::Mine { .. } if lv.clearing_tags().next().is_some() => {
                super::clear::stray(lv, plan)
            }
            Whose::Mine { legacy } => {
                mine += 1;
                if legacy {
                    plan.actions.push(Action::ClaimVolume {
                        volume: name.clone(),
                        uuid: lv.uuid.clone(),
                        size: Bytes(lv.size),
                    });
                }
            }
        }
        let marks = lv.mark_tags();
        match declared {
            Some(VolumeState::Present) if !marks.is_empty() => {
                unmark(plan, name, lv, marks, UnmarkReason::Declared)
            }
            Some(_) => {}
            None if !desired.prune => {
                if !marks.is_empty() {
                    unmark(plan, name, lv, marks, UnmarkReason::PruneOff);
                }
            }
            None => undeclared.push((lv, name)),
        }
    }
    did_you_mean(creates, &undeclared, plan);
    let mut due: Vec<(LvName, u64, DeleteReason)> = absent
        .into_iter()
        .map(|(n, s)| (n, s, DeleteReason::Absent))
        .collect();
    // a file without a `volumes:` list (cut short, or every line gone) would leave the backend
    // with no volume at all: only `volumes: {}` says that
    // nor one without a `snapshots:` list every snapshot
    if !desired.snapshots_listed && desired.volumes_listed {
        let (snaps, vols): (Vec<_>, Vec<_>) = undeclared
            .into_iter()
            .partition(|(_, n)| n.is_snapshot_name());
        undeclared = vols;
        for (_, name) in &snaps {
            plan.refuse(name.as_str(), RefusalKind::PruneAll, format!(
                "prune would delete every snapshot of backend {}: the desired state has no `snapshots:` list, so none is marked or deleted. If the backend is really to have no snapshots, say so with `snapshots: {{}}`",
                cfg.name));
        }
    }
    if !undeclared.is_empty() && !desired.volumes_listed {
        for (_, name) in &undeclared {
            plan.refuse(name.as_str(), RefusalKind::PruneAll, format!(
                "prune would delete every volume of backend {} ({mine}): none is marked or deleted. If the backend is really to have no volumes, say so with `volumes: {{}}`",
                cfg.name));
        }
        undeclared.clear();
    }
    if !undeclared.is_empty() && policy.now < PLAUSIBLE_NOW {
        // a clock that reads before this was written would date marks in the past, and the
        // volumes would be deleted the moment it is corrected
        plan.warnings.push(Warning {
            subject: cfg.name.clone(),
            kind: WarningKind::Clock,
            message: format!(
                "the system clock reads {} (Unix time): ember neither marks nor prunes until it is set",
                policy.now
            ),
        });
        undeclared.clear();
    }
    for (lv, name) in undeclared {
        soft_prune(policy, lv, name, &mut due, plan);
    }
    let due = keep_origins(cfg, cow, due, plan);
    let mut freed = breaker(cfg, observed, policy, due, plan);
    for a in super::clear::resumed(cfg, desired, observed, &resume, plan) {
        // a COW snapshot taken since the clear was cut short holds it too
        let subject = (a.subject().clone(), 0, DeleteReason::Resume);
        if keep_origins(cfg, cow, vec![subject], plan).is_empty() {
            continue;
        }
        freed.count(observed, &a);
        plan.actions.push(a);
    }
    freed
}

impl Freed {
    /// What a deletion gives back.
    fn count(&mut self, observed: &Observed, a: &Action) {
        match observed.lv(a.subject().as_str()).map(|l| l.kind) {
            Some(LvKind::Thin) => self.thin += a.deleted_size(),
            _ => self.linear += a.deleted_size(),
        }
    }
}

/// A volume with a COW snapshot is not deleted: `lvremove` of it would remove the snapshot too
/// (lvremove(8); src/lvm/kind.rs), an LV ember does not own and the plan does not list. ember
/// never deletes a COW snapshot itself, so each one holds its origin. (A thin snapshot does
/// not: it outlives its origin.)
fn keep_origins(
    cfg: &BackendConfig,
    cow: &HashMap<&str, Vec<&LvName>>,
    due: Vec<(LvName, u64, DeleteReason)>,
    plan: &mut Plan,
) -> Vec<(LvName, u64, DeleteReason)> {
    let vg = &cfg.volume_group;
    due.into_iter()
        .filter(|(name, _, reason)| {
            let Some(snaps) = cow.get(name.as_str()).filter(|s| !s.is_empty()) else {
                return true;
            };
            let what = match reason {
                DeleteReason::Absent => "declared absent",
                DeleteReason::Prune => "undeclared and due to be pruned",
                DeleteReason::Resume => "its clear was cut short",
            };
            plan.refuse(name.as_str(), RefusalKind::HasCowSnapshot, format!(
                "{what}, but it has the COW snapshot{} {} (another tool's lvcreate --snapshot --size): lvremove of {name} would remove {} with it, and ember removes only what the desired state lists. Remove the snapshot first (lvremove {vg}/{}); the next pass then deletes {name}",
                if snaps.len() > 1 { "s" } else { "" },
                crate::lvm::kind::list(snaps),
                if snaps.len() > 1 { "them" } else { "it" },
                snaps[0]));
            false
        })
        .collect()
}

fn unmark(plan: &mut Plan, volume: LvName, lv: &LvInfo, tags: Vec<Tag>, reason: UnmarkReason) {
    plan.actions.push(Action::UnmarkVolume {
        volume,
        uuid: lv.uuid.clone(),
        size: Bytes(lv.size),
        tags,
        reason,
    });
}

/// An undeclared volume of this backend, with `prune: true`: marked now, left alone while its
/// grace period runs, due for deletion after it.
fn soft_prune(
    policy: &Policy,
    lv: &LvInfo,
    name: LvName,
    due: &mut Vec<(LvName, u64, DeleteReason)>,
    plan: &mut Plan,
) {
    if policy.prune_grace == 0 {
        due.push((name, lv.size, DeleteReason::Prune));
        return;
    }
    let mark = |plan: &mut Plan, name: LvName| {
        plan.actions.push(Action::MarkVolume {
            volume: name,
            uuid: lv.uuid.clone(),
            size: Bytes(lv.size),
            since: policy.now,
            delete_at: policy.now.saturating_add(policy.prune_grace),
        })
    };
    match lv.marked_since() {
        None => mark(plan, name),
        // dated in the future (the clock was ahead when it was made): marked again, from now
        Some(since) if since > policy.now.saturating_add(MAX_CLOCK_AHEAD) => {
            unmark(
                plan,
                name.clone(),
                lv,
                lv.mark_tags(),
                UnmarkReason::FutureMark,
            );
            mark(plan, name);
        }
        Some(since) if policy.now >= since.saturating_add(policy.prune_grace) => {
            due.push((name, lv.size, DeleteReason::Prune))
        }
        Some(since) => plan.scheduled.push(Scheduled {
            volume: name.to_string(),
            size: lv.size,
            delete_at: since.saturating_add(policy.prune_grace),
        }),
    }
}

/// A new name that differs from an undeclared volume only by case or one or two characters is
/// probably that volume, mistyped.
fn did_you_mean(creates: &[(LvName, u64)], undeclared: &[(&LvInfo, LvName)], plan: &mut Plan) {
    if creates.len().saturating_mul(undeclared.len()) > MAX_SIMILARITY_PAIRS {
        return;
    }
    for (new, _) in creates {
        let (a, la) = (new.as_str(), new.as_str().len());
        let near = undeclared.iter().find(|(_, old)| {
            let b = old.as_str();
            a.eq_ignore_ascii_case(b)
                || (la.abs_diff(b.len()) <= 2 && strsim::levenshtein(a, b) <= 2)
        });
        if let Some((lv, old)) = near {
            plan.warnings.push(Warning {
                subject: a.to_string(),
                kind: WarningKind::DidYouMean,
                message: format!(
                    "new volume {a} looks like {old} ({}), which is no longer declared and will be pruned: did you mean {old}?",
                    Bytes(lv.size)),
            });
        }
    }
}

/// More deletions due than the cap allows means none happen: a bad edit must not be carried
/// out slowly, a few volumes every pass.
fn breaker(
    cfg: &BackendConfig,
    observed: &Observed,
    policy: &Policy,
    due: Vec<(LvName, u64, DeleteReason)>,
    plan: &mut Plan,
) -> Freed {
    let mut freed = Freed::default();
    let cap = policy.max_deletions_per_pass as usize;
    let n = due.len();
    // volumes marked and waiting count too: edits a few seconds apart, each removing up to the
    // cap, must not add up to more than the cap once their grace periods end
    let waiting = plan.scheduled.len()
        + plan
            .actions
            .iter()
            .filter(|a| matches!(a, Action::MarkVolume { .. }))
            .count();
    let total = n + waiting;
    if n > 0 && total > cap {
        let what = if waiting == 0 {
            format!("{n} deletions planned")
        } else {
            format!("{total} deletions planned ({n} due now, {waiting} marked for later)")
        };
        for (name, _, _) in due {
            plan.refuse(name.as_str(), RefusalKind::DeletionCap, format!(
                "{what}, more than max_deletions_per_pass = {cap}: none done. To confirm them once: `ember apply --backend {b} --allow-deletions {total}` (or `ember reconcile --backend {b} --allow-deletions {total}` while the daemon runs)",
                b = cfg.name));
        }
        return freed;
    }
    let deleted: std::collections::HashSet<&str> = due.iter().map(|d| d.0.as_str()).collect();
    let mut actions = vec![];
    for (name, _, reason) in &due {
        let Some(lv) = observed.lv(name.as_str()) else {
            continue;
        };
        // said in the plan: its thin snapshots stay (COW snapshots held it above)
        let snapshots = observed
            .lvs
            .iter()
            .filter(|l| l.kind == LvKind::Thin && l.name.is_snapshot_name())
            .filter(|l| l.origin.as_deref() == Some(name.as_str()))
            .filter(|l| !deleted.contains(l.name.as_str()))
            .map(|l| l.name.clone())
            .collect();
        if let Some(a) = super::clear::deletion(cfg, observed, lv, *reason, snapshots, plan) {
            freed.count(observed, &a);
            actions.push(a);
        }
    }
    plan.actions.extend(actions);
    freed
}

#[cfg(test)]
mod tests;
