//! Observe → plan → apply for one backend: what `ember plan`, `ember apply` and every worker
//! pass run.

pub mod apply;
pub mod check;
pub mod exports;
pub mod import;
pub mod plan;
pub mod render;

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use serde::Serialize;

pub use apply::{Clearing, Outcome, Step, apply};
pub use plan::{Action, Plan, Policy, Refusal, RefusalKind, plan};

use crate::config::{BackendConfig, Setting};
use crate::desired::BackendDesired;
use crate::lvm::{LvKind, LvmError, LvmRead, LvmWrite, Observed};
use crate::names::{LvName, VgName};

#[derive(Debug, thiserror::Error)]
pub enum PassError {
    #[error("volume group {vg:?} not found: {}; {}", set.describe(backend, "volume_group", vg), seen(.existing))]
    VgNotFound {
        vg: String,
        backend: String,
        /// Where cinder.conf sets it (or that it does not).
        set: Box<Setting>,
        /// The volume groups lvm sees.
        existing: Vec<String>,
    },
    #[error("invalid volume group name: {0}")]
    BadVgName(#[from] crate::names::NameError),
    #[error(transparent)]
    Lvm(#[from] LvmError),
    #[error("cannot read the kernel's target configuration: {0}")]
    Targets(#[from] crate::export::ExportError),
}

/// `volume groups here: a, b` for an error about a missing one.
fn seen(existing: &[String]) -> String {
    match existing {
        [] => "lvm sees no volume group on this host".to_string(),
        _ => format!("volume groups here: {}", existing.join(", ")),
    }
}

/// Reads the backend's volume group (one lvm call) and plans against it.
pub fn observe_and_plan(
    cfg: &BackendConfig,
    desired: Option<&BackendDesired>,
    lvm: &dyn LvmRead,
    policy: &Policy,
) -> Result<(Observed, Plan), PassError> {
    let vg = VgName::new(&cfg.volume_group)?;
    let want_vg = desired.and_then(|d| d.volume_group.as_ref());
    let probe = |p: &std::path::Path| lvm.probe(p);
    let Some(observed) = lvm.observe(&vg)? else {
        // declared from its devices: created (from blank ones only), then planned in full
        if let Some(want) = want_vg {
            let mut p = Plan::new(&cfg.name, &cfg.volume_group, policy.now);
            plan::vg::plan_new_vg(vg.as_str(), want, &probe, &mut p);
            return Ok((Observed::absent(vg.as_str()), p));
        }
        return Err(PassError::VgNotFound {
            vg: cfg.volume_group.clone(),
            backend: cfg.name.clone(),
            set: cfg.volume_group_set.0.clone(),
            existing: lvm.vg_names().unwrap_or_default(),
        });
    };
    // a backend the desired state does not name (or whose desired state never parsed) is left
    // as it is: no write at all, not even a tag
    let mut p = match desired {
        Some(d) => {
            // the target configuration only for a backend that exports through one ember
            // writes (whose cinder.conf names lioadm or nvmet)
            let targets = match exports::wanted(cfg) {
                true => Some(exports::read(cfg, &lvm.target_root())?),
                false => None,
            };
            plan::plan_with_targets(cfg, d, &observed, targets.as_ref(), policy)
        }
        None => Plan::new(&cfg.name, &cfg.volume_group, policy.now),
    };
    let another_backends = p
        .refused
        .iter()
        .any(|r| r.kind == RefusalKind::VgOfAnotherBackend);
    if let Some(want) = want_vg
        && !another_backends
    {
        plan::vg::plan_existing_vg(want, &observed, &probe, &mut p);
    }
    Ok((observed, p))
}

/// The result of one converging pass over a backend.
#[derive(Debug, Serialize)]
pub struct PassReport {
    pub backend: String,
    pub volume_group: String,
    pub plan: Option<Plan>,
    pub outcome: Option<Outcome>,
    /// What is still different after the pass (a fresh read and plan).
    pub remaining: Option<Plan>,
    pub error: Option<String>,
    /// lvm processes started.
    pub lvm_calls: u64,
    /// lvm commands run (more than `lvm_calls` when the writes went through the lvm shell).
    pub lvm_commands: u64,
    pub duration_ms: u64,
    /// The desired-state file changed between reading it and a write that would delete:
    /// nothing was done; plan again from the file as it is now.
    pub stale: bool,
    /// The last state read (after applying, when something was applied and confirmed).
    #[serde(skip)]
    pub observed: Option<Observed>,
    /// Something was written and not read back yet ([`Confirm::Later`]): `remaining` is what
    /// the writes' results say, and a pass that reads must follow.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unconfirmed: bool,
}

impl PassReport {
    /// A pass that could not start.
    pub fn failed(cfg: &BackendConfig, error: String) -> PassReport {
        PassReport {
            backend: cfg.name.clone(),
            volume_group: cfg.volume_group.clone(),
            plan: None,
            outcome: None,
            remaining: None,
            error: Some(error),
            lvm_calls: 0,
            lvm_commands: 0,
            duration_ms: 0,
            stale: false,
            observed: None,
            unconfirmed: false,
        }
    }

    pub fn ok(&self) -> bool {
        self.error.is_none() && self.outcome.as_ref().is_none_or(Outcome::ok)
    }
}

/// Observe, plan, apply, and (only when something was done) observe again. `unchanged` says
/// whether the desired-state file still holds what `desired` was read from: it is asked just
/// before a plan that deletes is carried out (a file being written must never delete).
pub fn converge(
    cfg: &BackendConfig,
    desired: Option<&BackendDesired>,
    lvm: &dyn LvmWrite,
    policy: &Policy,
    stop: &AtomicBool,
    unchanged: &dyn Fn() -> bool,
) -> PassReport {
    converge_with(
        cfg,
        desired,
        lvm,
        policy,
        stop,
        unchanged,
        &apply::no_progress,
        Confirm::Now,
    )
}

/// When a pass that wrote reads the volume group again to say what remains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    /// At once, in the pass (`ember apply`: its report says what remains).
    Now,
    /// In a pass of its own right after (a daemon's worker): this pass reports what the writes'
    /// own results say remains (each write's success or failure, from lvm), and
    /// [`PassReport::unconfirmed`] asks for the reading pass.
    Later,
}

/// [`converge`], telling `progress` of each action as it is finished.
#[allow(clippy::too_many_arguments)]
pub fn converge_with(
    cfg: &BackendConfig,
    desired: Option<&BackendDesired>,
    lvm: &dyn LvmWrite,
    policy: &Policy,
    stop: &AtomicBool,
    unchanged: &dyn Fn() -> bool,
    progress: &dyn Fn(&Step),
    confirm: Confirm,
) -> PassReport {
    let start = Instant::now();
    let calls0 = lvm.calls();
    let commands0 = lvm.commands();
    let mut report = PassReport::failed(cfg, String::new());
    report.error = None;
    match observe_and_plan(cfg, desired, lvm, policy) {
        Err(e) => report.error = Some(e.to_string()),
        Ok((observed, mut p)) => {
            p.in_flight = settle_in_flight(cfg, lvm, &observed);
            // thin volumes are created inactive and activated together only in a pool that
            // zeroes new blocks (and exists already: one this pass creates is not read until
            // the pass ends), and only when there are several (one is created active: one
            // lvm command, not two, each of which reads the whole VG)
            let opts = apply::Options {
                create_inactive: observed
                    .lv(&cfg.pool_name())
                    .is_some_and(|l| l.kind == LvKind::ThinPool && l.zeroes)
                    && p.actions.iter().filter(|a| a.creates()).count() > 1,
                clear_ioprio: cfg
                    .volume_clear
                    .ionice
                    .map(|i| crate::lvm::clear::IoPriority {
                        value: i.ioprio(),
                        ignore_failure: i.ignore_failure,
                    }),
            };
            report.observed = Some(observed);
            report.plan = Some(p.clone());
            if p.deletes() && !unchanged() {
                tracing::warn!(backend = %cfg.name, "the desired state changed since this pass read it: nothing done (a pass that deletes never acts on a file being written); planning again");
                report.stale = true;
                report.remaining = Some(p.clone());
            } else if p.has_changes() {
                let run = Run {
                    cfg,
                    desired,
                    lvm,
                    policy,
                    stop,
                    progress,
                };
                run.apply_and_confirm(&p, opts, confirm, &mut report);
            } else {
                report.remaining = Some(p);
            }
        }
    }
    report.lvm_calls = lvm.calls() - calls0;
    report.lvm_commands = lvm.commands() - commands0;
    read_sessions(lvm, &mut report);
    report.duration_ms = start.elapsed().as_millis() as u64;
    report
}

/// The live iSCSI sessions of ember's exports, read as the pass ends (configfs: no process).
fn read_sessions(lvm: &dyn LvmWrite, report: &mut PassReport) {
    let Some(exported) = report
        .remaining
        .as_mut()
        .or(report.plan.as_mut())
        .and_then(|p| p.exported.as_mut())
    else {
        return;
    };
    if exported
        .iter()
        .all(|e| e.transport != plan::export::Transport::Iscsi)
    {
        return;
    }
    let root = lvm.target_root();
    for e in exported
        .iter_mut()
        .filter(|e| e.transport == plan::export::Transport::Iscsi)
    {
        e.sessions = Some(crate::export::lio::session::sessions(&root.path, &e.target));
    }
}

/// ember's record of its creations under way, against what the read shows: a volume recorded
/// that is active, or not there at all, has no creation under way any more (it ended, or never
/// made an LV) and leaves the record. What stays: the recorded volumes that exist inactive,
/// which a pass may mend (`apply::mend`).
fn settle_in_flight(cfg: &BackendConfig, lvm: &dyn LvmWrite, observed: &Observed) -> Vec<LvName> {
    let Ok(vg) = VgName::new(&cfg.volume_group) else {
        return vec![];
    };
    let recorded = lvm.in_flight(&vg);
    if recorded.is_empty() {
        return recorded;
    }
    let live: Vec<LvName> = recorded
        .iter()
        .filter(|n| {
            observed
                .lv(n)
                .is_some_and(|l| !l.active && l.kind == LvKind::Thin)
        })
        .cloned()
        .collect();
    if live != recorded
        && let Err(e) = lvm.record_in_flight(&vg, &live)
    {
        tracing::warn!(backend = %cfg.name, "cannot update the record of creations under way: {e}");
    }
    live
}

struct Run<'a> {
    cfg: &'a BackendConfig,
    desired: Option<&'a BackendDesired>,
    lvm: &'a dyn LvmWrite,
    policy: &'a Policy,
    stop: &'a AtomicBool,
    progress: &'a dyn Fn(&Step),
}

impl Run<'_> {
    fn apply_and_confirm(
        &self,
        p: &Plan,
        opts: apply::Options,
        confirm: Confirm,
        report: &mut PassReport,
    ) {
        let (cfg, lvm) = (self.cfg, self.lvm);
        let vg = match VgName::new(&cfg.volume_group) {
            Ok(vg) => vg,
            Err(e) => {
                report.error = Some(e.to_string());
                return;
            }
        };
        let pool = LvName::new(&cfg.pool_name()).ok();
        // the writes and the confirming read share one lvm process if they can
        lvm.begin_batch();
        // detaches and unexports first (an exported LV cannot be removed), exports after the
        // volumes they export exist
        let root = lvm.target_root();
        let mut before = Outcome::default();
        let lv_plan = exports::removals_first(cfg, &root, p, &mut before, self.progress);
        let mut outcome = apply::apply_with(
            lvm,
            &vg,
            &lv_plan,
            pool.as_ref(),
            opts,
            self.stop,
            self.progress,
        );
        outcome.skipped.extend(before.skipped);
        outcome.export_done.extend(before.export_done);
        outcome.export_failed.extend(before.export_failed);
        // the volume group made or grown: the pool and the volumes follow in the same pass,
        // planned from a fresh read of it
        let mut p = p.clone();
        if !p.vg_actions.is_empty() && outcome.vg_failed.is_empty() {
            self.follow_up(&vg, pool.as_ref(), &mut p, &mut outcome);
        }
        exports::additions_after(cfg, &root, &p, &mut outcome, self.progress);
        let p = &p;
        if confirm == Confirm::Later {
            // what remains, by the writes' own results: the actions not done
            let mut rest = p.clone();
            rest.actions
                .retain(|a| !outcome.done.iter().any(|d| d == a));
            rest.vg_actions
                .retain(|a| !outcome.vg_done.iter().any(|d| d == a));
            rest.export_actions
                .retain(|a| !outcome.export_done.iter().any(|d| d == a));
            report.unconfirmed = true;
            report.remaining = Some(rest);
        } else {
            match observe_and_plan(cfg, self.desired, lvm, self.policy) {
                Ok((o, after)) => {
                    report.observed = Some(o);
                    report.remaining = Some(after);
                }
                Err(e) => report.error = Some(format!("after applying: {e}")),
            }
        }
        report.outcome = Some(outcome);
        report.plan = Some(p.clone());
        lvm.end_batch();
    }

    /// After the volume group's own actions: plans the backend again from a fresh read and
    /// carries that out too; its actions join the pass's plan and outcome.
    fn follow_up(&self, vg: &VgName, pool: Option<&LvName>, p: &mut Plan, outcome: &mut Outcome) {
        let next = match observe_and_plan(self.cfg, self.desired, self.lvm, self.policy) {
            Ok((_, next)) => next,
            Err(e) => {
                tracing::error!(backend = %self.cfg.name, "after the volume group's changes: {e}");
                return;
            }
        };
        if !next.actions.is_empty() && next.vg_actions.is_empty() {
            let opts = apply::Options {
                create_inactive: false,
                clear_ioprio: None,
            };
            let more = apply::apply_with(self.lvm, vg, &next, pool, opts, self.stop, self.progress);
            outcome.done.extend(more.done);
            outcome.failed.extend(more.failed);
            outcome.skipped.extend(more.skipped);
        }
        p.actions.extend(next.actions);
        // the exports from the fresh read (the removals were done before)
        p.export_actions.retain(|a| a.is_removal());
        p.export_actions
            .extend(next.export_actions.into_iter().filter(|a| !a.is_removal()));
        p.refused.extend(next.refused);
        p.warnings.extend(next.warnings);
        p.scheduled.extend(next.scheduled);
        p.mark_vg |= next.mark_vg;
    }
}
