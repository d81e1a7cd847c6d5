//! `ember status` as people read it: the daemon's line, then per backend its state, cinder's
//! pool name, the last pass, the desired state's problems, the capacity and the pool.

use std::fmt::Write;

use super::{BackendStatus, Capacity, DaemonStatus, PassSummary, lvm_cost, unix_now};
use crate::size::Bytes;

impl DaemonStatus {
    pub fn text(&self) -> String {
        let mut s = format!("ember daemon pid {}: {}\n", self.pid, self.summary());
        for b in &self.backends {
            backend(&mut s, b);
        }
        for p in &self.config_problems {
            let _ = writeln!(s, "config: {p}");
        }
        if let Some(c) = &self.config_changed {
            let _ = writeln!(s, "config: {c}");
        }
        if let Some(m) = &self.metrics_problem {
            let _ = writeln!(s, "warning: {m}");
        }
        s
    }
}

/// Up to this many exported volumes, `ember status` lists each with its hosts and sessions;
/// beyond, the summary line alone (`ember status --json` has them all).
const EXPORTS_LISTED: usize = 20;

fn backend(s: &mut String, b: &BackendStatus) {
    let _ = writeln!(
        s,
        "backend {} (volume group {}): {}, worker pid {}, {} restart(s)",
        b.name,
        b.volume_group,
        match &b.progress {
            Some(p) => p.to_string(),
            None => b.state.to_string(),
        },
        b.pid.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
        b.restarts
    );
    if !b.cinder_pool.is_empty() {
        let _ = writeln!(
            s,
            "  cinder pool: {} (volume_backend_name {})",
            b.cinder_pool, b.volume_backend_name
        );
    }
    if let Some(p) = &b.last_pass {
        last_pass(s, p);
    }
    for p in &b.desired_state_problems {
        if p.is_error() {
            let _ = writeln!(s, "  desired state not used: {p}");
        } else {
            let _ = writeln!(s, "  desired state: {p}");
        }
    }
    if let Some(c) = &b.capacity {
        capacity(s, c);
        if let Some(h) = c.pool_health.filter(|_| b.pool.is_none()) {
            let _ = writeln!(s, "  pool health: {} (lvm's lv_attr)", h.describe());
        }
    }
    for l in b.pool.iter().flat_map(|p| p.lines(unix_now())) {
        let _ = writeln!(s, "  {l}");
    }
    for l in b
        .exports
        .iter()
        .flat_map(|e| e.lines(unix_now(), e.volumes.len() <= EXPORTS_LISTED))
    {
        let _ = writeln!(s, "  {l}");
    }
}

fn last_pass(s: &mut String, p: &PassSummary) {
    let _ = writeln!(
        s,
        "  last pass: {} s ago ({}), {} ms, {}, {} done, {} failed, {} pending",
        unix_now().saturating_sub(p.finished_at),
        p.trigger,
        p.duration_ms,
        lvm_cost(p.lvm_calls, p.lvm_commands),
        p.done.len(),
        p.failed.len(),
        p.pending
    );
    if let Some(e) = &p.error {
        let _ = writeln!(s, "  error: {e}");
    }
    for d in p.done.iter().filter(|d| d.starts_with("+ recreate")) {
        let _ = writeln!(s, "  mended: {d}");
    }
    for f in &p.failed {
        let _ = writeln!(s, "  failed: {f}");
    }
    for r in &p.refused {
        let _ = writeln!(s, "  refused: {r}");
    }
    for d in &p.scheduled {
        let _ = writeln!(s, "  marked: {}", d.line(unix_now()));
    }
    for w in &p.warnings {
        let _ = writeln!(s, "  warning: {w}");
    }
}

fn capacity(s: &mut String, c: &Capacity) {
    let _ = writeln!(
        s,
        "  capacity: total {}, free {}, provisioned {}, ratio {}, reserved {}%, {} volume(s) ({} ember's){}{}{}",
        Bytes(c.total),
        Bytes(c.free),
        Bytes(c.provisioned),
        c.ratio_text(),
        c.reserved_percentage,
        c.volumes,
        c.owned_volumes,
        match c.snapshots {
            0 => String::new(),
            n => format!(", {n} snapshot(s) ({} ember's)", c.owned_snapshots),
        },
        match c.cow_snapshots {
            0 => String::new(),
            n => format!(", {n} COW snapshot(s) (other tools')"),
        },
        match (c.data_percent, c.metadata_percent) {
            (Some(d), Some(m)) => format!(", pool data {d:.2}% metadata {m:.2}%"),
            _ => String::new(),
        }
    );
}
