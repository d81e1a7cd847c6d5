//! `ember apply`: one pass per backend, by hand, with its progress while it writes.

use super::json::{self, ApplyDoc, BackendApply};
use super::{policy, ready_or_say, rejected_problems};
use crate::cli::{EXIT_CHANGES, EXIT_ERROR, EXIT_OK, EXIT_REFUSED, Global};
use crate::desired;
use crate::inputs;
use crate::lvm::recall::{Keeper, Recall, Remembering};
use crate::lvm::vglock::{Holder, VgLock};
use crate::reconcile::{self, PassReport};

mod progress;

/// How long `ember apply` waits for another `ember apply` writing the same volume group.
const APPLY_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(300);

/// The export actions of `o` that are removals (`removals`), or the others, with their results.
fn export_lines(s: &mut String, o: &reconcile::Outcome, removals: bool) {
    use std::fmt::Write as _;
    for a in o.export_done.iter().filter(|a| a.is_removal() == removals) {
        let _ = writeln!(s, "  {}  [done]", a.line());
    }
    for f in o
        .export_failed
        .iter()
        .filter(|f| f.action.is_removal() == removals)
    {
        let _ = writeln!(s, "  {}  [FAILED: {}]", f.action.line(), f.error);
    }
}

/// The pass as `ember apply` prints it; `streamed`: the actions were printed as they finished.
fn report_text(r: &PassReport, streamed: bool) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let vg = &r.volume_group;
    if !streamed {
        let _ = writeln!(s, "backend {} (volume group {vg}):", r.backend);
    }
    if let Some(err) = &r.error {
        let _ = writeln!(s, "  error: {err}");
    }
    if let Some(o) = r.outcome.as_ref() {
        for a in &o.vg_done {
            let _ = writeln!(s, "  {}  [done]", a.line());
        }
        for f in &o.vg_failed {
            let _ = writeln!(s, "  {}  [FAILED: {}]", f.action.line(), f.error);
        }
    }
    // in the order they were done: detaches and unexports, the volumes' actions, exports
    if let Some(o) = r.outcome.as_ref().filter(|_| !streamed) {
        export_lines(&mut s, o, true);
        for a in &o.done {
            let _ = writeln!(s, "  {}  [done]", a.line());
        }
        for f in &o.failed {
            let _ = writeln!(s, "  {}  [FAILED: {}]", f.action.line(), f.error);
        }
        for f in &o.skipped {
            let _ = writeln!(s, "  {}  [{}]", f.action.line(), f.error);
        }
        export_lines(&mut s, o, false);
    }
    if r.stale {
        let _ = writeln!(
            s,
            "  nothing done: the desired state changed while this pass ran (a pass that deletes never acts on a file being written); run it again"
        );
    }
    for p in r.remaining.iter().chain(r.plan.iter()).take(1) {
        for d in &p.scheduled {
            let _ = writeln!(s, "  {}", d.line(p.planned_at));
        }
    }
    for line in r
        .plan
        .iter()
        .flat_map(|p| crate::reconcile::render::refusal_lines(&p.refused))
    {
        let _ = writeln!(s, "  {line}");
    }
    for w in r.plan.iter().flat_map(|p| &p.warnings) {
        let _ = writeln!(s, "  warning: {}", w.message);
    }
    if let Some(rem) = &r.remaining {
        let failed = r
            .outcome
            .as_ref()
            .map(|o| o.failed.len() + o.vg_failed.len() + o.export_failed.len())
            .filter(|n| *n > 0);
        if rem.has_changes() {
            let _ = writeln!(
                s,
                "  still pending: {} change(s)",
                rem.actions.len() + rem.vg_actions.len() + rem.export_actions.len()
            );
        }
        if let Some(n) = failed {
            // what failed was not made, whether or not a read after it finds it still to make
            // (a failed unexport holds back its volume's deletion, which the plan may then
            // refuse, or plan again)
            let _ = writeln!(
                s,
                "  Failed: {n} action(s) failed; the desired state is not reached."
            );
        } else if !rem.has_changes() {
            let refused = r.plan.as_ref().map_or(0, |p| p.refused.len());
            let last = match (refused, &r.outcome) {
                (n @ 1.., _) => format!("Blocked: {n} refused; the desired state is not reached."),
                (0, None) => "No changes.".into(),
                (0, Some(_)) => "Converged.".into(),
            };
            let _ = writeln!(s, "  {last}");
        }
    }
    let _ = writeln!(
        s,
        "  ({}, {} ms)",
        crate::status::lvm_cost(r.lvm_calls, r.lvm_commands),
        r.duration_ms
    );
    s
}

pub fn apply(g: &Global, only: Option<&str>, json: bool, allow_deletions: Option<u32>) -> i32 {
    let r = match ready_or_say(g, only, "apply", json, ApplyDoc::failed) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let mut policy = policy(&r.cfg);
    if let Some(n) = allow_deletions {
        policy.max_deletions_per_pass = policy.max_deletions_per_pass.max(n);
        policy.confirmed = true;
    }
    let mut entries = vec![];
    let mut ok = !r.rejected_elsewhere;
    for b in &r.backends {
        let e = apply_backend(g, &r, b, &policy, json);
        ok &= matches!(e.state, json::State::Converged | json::State::Blocked)
            || (e.state == json::State::Pending && !e.stale && e.error.is_none());
        entries.push(e);
    }
    let doc = ApplyDoc::new(entries, r.problems.clone(), ok);
    if json {
        json::print(&doc);
    }
    if !doc.ok {
        EXIT_ERROR
    } else if doc.blocked {
        EXIT_REFUSED
    } else if doc.backends.iter().any(|b| b.state == json::State::Pending) {
        // the pass ended without error and its confirming read still finds changes to make:
        // the desired state is not reached (as `plan`'s 2)
        EXIT_CHANGES
    } else {
        EXIT_OK
    }
}

/// One backend's pass, its lines printed (unless `json`) as it goes.
fn apply_backend(
    g: &Global,
    r: &super::Ready,
    b: &crate::config::BackendConfig,
    policy: &crate::reconcile::Policy,
    json: bool,
) -> BackendApply {
    let failed = |error: String, problems| {
        if !json {
            crate::errln!("ember: backend {}: {error}", b.name);
        }
        BackendApply::failed(&b.name, &b.volume_group, error, problems)
    };
    if let Some(ps) = rejected_problems(&r.desired, &b.name) {
        return failed(
            "nothing done: its part of the desired state is rejected (see the problems)".into(),
            ps,
        );
    }
    // one writer per volume group: refused while the daemon manages it, waits for another apply
    let _lock = match crate::names::VgName::new(&b.volume_group)
        .map_err(|e| e.to_string())
        .and_then(|vg| {
            VgLock::acquire(&g.lvm, &vg, &Holder::Apply, APPLY_LOCK_WAIT).map_err(|e| e.to_string())
        }) {
        Ok(l) => l,
        Err(e) => return failed(e, vec![]),
    };
    let lvm = g.lvm.writer(&inputs::lvm_options(b, &r.cfg.ember));
    // the last read kept in run_dir, while the VG's stamp says it still holds
    let recall = Recall::kept(Keeper::for_lvm(&g.lvm, &r.cfg.ember.run_dir));
    let lvm = Remembering {
        lvm: lvm.as_ref(),
        recall: &recall,
    };
    let shown = progress::Shown::new(b, json);
    let unchanged = || desired::Digest::of_file(&r.desired.path) == Some(r.desired.digest);
    let report = reconcile::converge_with(
        b,
        r.desired.backend(&b.name),
        &lvm,
        policy,
        &std::sync::atomic::AtomicBool::new(false),
        &unchanged,
        &|s| shown.step(s),
        reconcile::Confirm::Now,
    );
    let streamed = shown.finish();
    if !json {
        crate::out!(
            "{}",
            crate::paint::stdout().diff(&report_text(&report, streamed))
        );
    }
    BackendApply::of(report)
}
