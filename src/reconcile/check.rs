//! The daemon's pool check: between passes, one cheap read of a backend's thin pool (`lvs` of
//! the pool with the VG's fields) and, when `autoextend` says so, its growth. It is not a pass:
//! it never touches a volume, and a declared size waits for the next pass.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use serde::Serialize;

use super::apply::{self, Outcome};
use super::plan::{Plan, plan_pool_check};
use crate::config::BackendConfig;
use crate::desired::BackendDesired;
use crate::lvm::{LvmWrite, Observed};
use crate::names::{LvName, VgName};

/// What one check saw and did.
#[derive(Debug, Serialize)]
pub struct PoolCheck {
    pub backend: String,
    /// The VG and its pool as read (after growing, when it grew); `None` when either is missing.
    #[serde(skip)]
    pub observed: Option<Observed>,
    pub plan: Option<Plan>,
    pub outcome: Option<Outcome>,
    pub error: Option<String>,
    pub lvm_calls: u64,
    pub duration_ms: u64,
}

impl PoolCheck {
    /// Whether it grew the pool.
    pub fn grew(&self) -> bool {
        self.outcome.as_ref().is_some_and(|o| !o.done.is_empty())
    }
}

/// Reads the pool and grows it if `autoextend` says so. `desired`: this backend's part of the
/// desired state in force (`None`: nothing is read or done).
pub fn check_pool(
    cfg: &BackendConfig,
    desired: Option<&BackendDesired>,
    lvm: &dyn LvmWrite,
    now: u64,
    stop: &AtomicBool,
) -> PoolCheck {
    let start = Instant::now();
    let calls0 = lvm.calls();
    let mut c = PoolCheck {
        backend: cfg.name.clone(),
        observed: None,
        plan: None,
        outcome: None,
        error: None,
        lvm_calls: 0,
        duration_ms: 0,
    };
    let (Some(desired), true) = (desired, cfg.lvm_type.is_thin()) else {
        return c;
    };
    let names =
        VgName::new(&cfg.volume_group).and_then(|vg| Ok((vg, LvName::new(&cfg.pool_name())?)));
    match names {
        Err(e) => c.error = Some(e.to_string()),
        Ok((vg, pool)) => match lvm.observe_pool(&vg, &pool) {
            Err(e) => c.error = Some(e.to_string()),
            Ok(None) => {}
            Ok(Some(o)) => {
                let p = plan_pool_check(cfg, desired, &o, now);
                c.observed = Some(o);
                if p.has_changes() {
                    let opts = apply::Options::default();
                    c.outcome = Some(apply::apply(lvm, &vg, &p, Some(&pool), opts, stop));
                    match lvm.observe_pool(&vg, &pool) {
                        Ok(o) => c.observed = o,
                        Err(e) => c.error = Some(format!("after growing: {e}")),
                    }
                }
                c.plan = Some(p);
            }
        },
    }
    c.lvm_calls = lvm.calls() - calls0;
    c.duration_ms = start.elapsed().as_millis() as u64;
    c
}
