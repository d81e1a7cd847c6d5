//! The one-shot commands: `check`, `plan`, `apply`. Each returns its exit status.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::cli::{EXIT_CHANGES, EXIT_ERROR, EXIT_OK, EXIT_REFUSED, Global};
use crate::config::{self, BackendConfig, Config};
use crate::desired::DesiredState;
use crate::inputs::{self, Inputs};
use crate::problem::Problem;
use crate::reconcile::{self, Plan, Policy, render};

mod apply;
mod import;
mod wait;
pub use apply::apply;
pub use import::import;

/// `plan`, `apply` and `import` run lvm, which needs root: said at once, before lvm's own
/// failure (a command line of hundreds of characters and a permission error on a device).
fn needs_root(g: &Global, command: &str) -> Result<(), i32> {
    if !matches!(g.lvm, crate::lvm::LvmSpec::Exec(_)) || nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    crate::errln!(
        "ember: `ember {command}` runs lvm, which needs root: run it as root (sudo ember {command}); `ember check` does not, and `ember status` needs only [ember] control_group"
    );
    Err(EXIT_ERROR)
}

fn read_inputs(g: &Global) -> Inputs {
    inputs::read(&g.sources(), g.desired_state.as_ref())
}

fn print_problems(problems: &[Problem]) {
    let mut err = std::io::stderr().lock();
    for p in problems {
        let _ = writeln!(err, "{p}");
    }
}

fn print_json<T: Serialize>(v: &T) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => crate::outln!("{s}"),
        Err(e) => crate::errln!("ember: cannot render JSON: {e}"),
    }
}

#[derive(Serialize)]
struct CheckJson<'a> {
    config_files: &'a [PathBuf],
    enabled_backends: Vec<String>,
    backends: Vec<&'a BackendConfig>,
    desired_state: Option<&'a DesiredState>,
    problems: &'a [Problem],
}

pub fn check(g: &Global, json: bool) -> i32 {
    let inputs = read_inputs(g);
    if json {
        print_json(&CheckJson {
            config_files: &inputs.config_files,
            enabled_backends: inputs
                .config
                .as_ref()
                .map(|c| c.enabled_backends.clone())
                .unwrap_or_default(),
            backends: inputs
                .config
                .as_ref()
                .map(|c| c.backends.iter().collect())
                .unwrap_or_default(),
            desired_state: inputs.desired.as_ref(),
            problems: &inputs
                .problems
                .iter()
                .chain(inputs.rejected())
                .cloned()
                .collect::<Vec<_>>(),
        });
    } else {
        for f in &inputs.config_files {
            crate::outln!("config file: {}", f.display());
        }
        if let Some(c) = &inputs.config {
            for b in &c.backends {
                if b.managed {
                    crate::outln!(
                        "backend {}: volume group {}, lvm_type {} ({}), max_over_subscription_ratio {}, reserved {}%, host {}, volume_clear {}",
                        b.name,
                        b.volume_group,
                        b.lvm_type,
                        if b.lvm_type.is_thin() {
                            "thin"
                        } else {
                            "thick"
                        },
                        b.max_over_subscription_ratio_text,
                        b.reserved_percentage,
                        b.host,
                        b.volume_clear.describe()
                    );
                } else {
                    crate::outln!(
                        "backend {}: not managed by ember (volume_driver {})",
                        b.name,
                        b.volume_driver
                    );
                }
            }
        }
        if let (Some(p), Some(d)) = (&inputs.desired_path, &inputs.desired) {
            let vols: usize = d.backends.values().map(|b| b.volumes.len()).sum();
            let snaps: usize = d.backends.values().map(|b| b.snapshots.len()).sum();
            let rejected = inputs.rejected().len()
                + inputs
                    .problems
                    .iter()
                    .filter(|x| x.is_error() && x.file.as_deref() == Some(p.as_path()))
                    .count();
            crate::outln!(
                "desired state: {}: {} backend(s), {} volume(s){}{}",
                p.display(),
                d.backends.len(),
                vols,
                match snaps {
                    0 => String::new(),
                    n => format!(", {n} snapshot(s)"),
                },
                match rejected {
                    0 => String::new(),
                    n => format!(" usable; {n} error(s) below reject the rest"),
                }
            );
        }
        print_problems(&inputs.problems);
        let rejected = inputs.rejected();
        for p in &rejected {
            crate::errln!("{p}");
        }
        let errors = inputs.problems.iter().filter(|p| p.is_error()).count() + rejected.len();
        if errors == 0 {
            crate::outln!("OK");
        } else {
            crate::errln!("{errors} error(s)");
        }
    }
    if inputs.has_errors() || !inputs.rejected().is_empty() {
        EXIT_ERROR
    } else {
        EXIT_OK
    }
}

/// The managed backends a command works on: all, or the one named by --backend.
fn selected<'a>(cfg: &'a Config, only: Option<&str>) -> Result<Vec<&'a BackendConfig>, String> {
    match only {
        None => Ok(cfg.backends.iter().filter(|b| b.managed).collect()),
        Some(name) => match cfg.backend(name) {
            None => Err(format!(
                "no backend {name:?} in enabled_backends ({})",
                cfg.enabled_backends.join(", ")
            )),
            Some(b) if !b.managed => Err(format!(
                "backend {name:?} uses volume_driver {} which ember does not manage",
                b.volume_driver
            )),
            Some(b) => Ok(vec![b]),
        },
    }
}

fn policy(cfg: &Config) -> Policy {
    Policy::new(&cfg.ember, crate::status::unix_now())
}

/// Reads everything, or prints why not and returns the exit status.
/// What a plan or an apply works from: the configuration, the desired state, the backends it
/// passes over, and whether the desired state names, for a backend in its scope that ember
/// does not manage (another driver), something rejected (the command then fails, as `check`).
struct Ready {
    cfg: Config,
    desired: DesiredState,
    backends: Vec<BackendConfig>,
    rejected_elsewhere: bool,
}

fn ready(g: &Global, only: Option<&str>, command: &str) -> Result<Ready, i32> {
    needs_root(g, command)?;
    let inputs = read_inputs(g);
    print_problems(&inputs.problems);
    for p in inputs.rejected() {
        crate::errln!("{p}");
    }
    let has_errors = inputs.has_errors();
    let (Some(cfg), Some(desired)) = (inputs.config, inputs.desired) else {
        crate::errln!("ember: nothing done: fix the errors above first");
        return Err(EXIT_ERROR);
    };
    if has_errors {
        crate::errln!("ember: nothing done: fix the errors above first");
        return Err(EXIT_ERROR);
    }
    match selected(&cfg, only) {
        Ok(b) => {
            let backends: Vec<BackendConfig> = b.into_iter().cloned().collect();
            let rejected_elsewhere = desired
                .rejected
                .keys()
                .any(|n| only.is_none_or(|o| o == n) && !backends.iter().any(|b| b.name == *n));
            Ok(Ready {
                cfg,
                desired,
                backends,
                rejected_elsewhere,
            })
        }
        Err(e) => {
            crate::errln!("ember: {e}");
            Err(EXIT_ERROR)
        }
    }
}

#[derive(Serialize)]
struct PlanJson {
    backends: Vec<PlanEntry>,
    changes_pending: bool,
    /// Part of the desired state is refused: it is not reached, whatever is applied.
    blocked: bool,
}

#[derive(Serialize)]
struct PlanEntry {
    backend: String,
    #[serde(flatten)]
    plan: Option<Plan>,
    error: Option<String>,
}

pub fn plan(g: &Global, only: Option<&str>, json: bool) -> i32 {
    let Ready {
        cfg,
        desired,
        backends,
        rejected_elsewhere,
    } = match ready(g, only, "plan") {
        Ok(v) => v,
        Err(code) => return code,
    };
    let policy = policy(&cfg);
    let mut entries = vec![];
    for b in &backends {
        if let Some(ps) = desired.rejected.get(&b.name) {
            entries.push(PlanEntry {
                backend: b.name.clone(),
                plan: None,
                error: Some(format!(
                    "its part of the desired state is rejected: {}",
                    ps.first().map(|p| p.to_string()).unwrap_or_default()
                )),
            });
            continue;
        }
        let lvm = g.lvm.reader(&inputs::lvm_options(b, &cfg.ember));
        match reconcile::observe_and_plan(b, desired.backend(&b.name), lvm.as_ref(), &policy) {
            Ok((_, p)) => entries.push(PlanEntry {
                backend: b.name.clone(),
                plan: Some(p),
                error: None,
            }),
            Err(e) => entries.push(PlanEntry {
                backend: b.name.clone(),
                plan: None,
                error: Some(e.to_string()),
            }),
        }
    }
    let changes = entries
        .iter()
        .any(|e| e.plan.as_ref().is_some_and(Plan::has_changes));
    let failed = rejected_elsewhere || entries.iter().any(|e| e.error.is_some());
    let refused = entries
        .iter()
        .any(|e| e.plan.as_ref().is_some_and(|p| !p.refused.is_empty()));
    if json {
        print_json(&PlanJson {
            backends: entries,
            changes_pending: changes,
            blocked: refused,
        });
    } else {
        for e in &entries {
            match (&e.plan, &e.error) {
                (Some(p), _) => crate::out!("{}", render::plan_text(p)),
                (None, Some(err)) => crate::outln!("backend {}:\n  error: {err}", e.backend),
                _ => {}
            }
        }
        if entries.len() > 1 {
            let total = entries
                .iter()
                .filter_map(|e| e.plan.as_ref())
                .map(render::summary::Counts::of)
                .fold(render::summary::Counts::default(), |a, b| a + b);
            let errors = entries.iter().filter(|e| e.error.is_some()).count();
            crate::outln!(
                "Plan, {} backends: {total}{}.",
                entries.len(),
                match errors {
                    0 => String::new(),
                    n => format!("; {n} in error"),
                }
            );
        }
    }
    if failed {
        EXIT_ERROR
    } else if refused {
        EXIT_REFUSED
    } else if changes {
        EXIT_CHANGES
    } else {
        EXIT_OK
    }
}

/// The control socket named by the configuration (read leniently: see config::control_socket_lenient).
fn control_socket(g: &Global) -> PathBuf {
    config::control_socket_lenient(&g.sources())
}

fn call(g: &Global, req: &crate::control::Request) -> Result<crate::control::Response, i32> {
    use crate::control::Request;
    // a reload waits until new and restarted workers have passed once: give it time; a waited
    // pass is answered by the daemon at its time limit
    let limit = match req {
        Request::Reload => std::time::Duration::from_secs(300),
        Request::Reconcile { wait: Some(s), .. } => {
            std::time::Duration::from_secs(*s).saturating_add(crate::control::WAIT_MARGIN / 2)
        }
        _ => std::time::Duration::from_secs(10),
    };
    match crate::control::call(&control_socket(g), req, limit) {
        Ok(r) if r.ok => Ok(r),
        Ok(r) => {
            crate::errln!(
                "ember: {}",
                r.error
                    .unwrap_or_else(|| "the daemon refused the request".into())
            );
            Err(EXIT_ERROR)
        }
        Err(e) => {
            crate::errln!("ember: {e}");
            Err(EXIT_ERROR)
        }
    }
}

/// `ember status`: exit 0 when every backend is converged, 2 when some are pending or
/// erroneous (nothing is wrong with the daemon itself), 1 when the daemon cannot be asked.
pub fn status(g: &Global, json: bool, backend: Option<&str>, volumes: bool) -> i32 {
    use crate::control::Request;
    let req = Request::Status {
        backend: backend.map(str::to_string),
        volumes,
    };
    let r = match call(g, &req) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let Some(st) = r.status else {
        crate::errln!("ember: the daemon sent no status");
        return EXIT_ERROR;
    };
    if json {
        print_json(&st);
    } else if volumes {
        crate::out!("{}", st.volumes_text());
    } else {
        crate::out!("{}", st.text());
    }
    // converged, or nothing to manage yet; a rejected desired state is not converged
    let all_fine = st.backends.iter().all(|b| b.state.is_fine());
    if all_fine { EXIT_OK } else { EXIT_CHANGES }
}

/// `ember reconcile`; with `wait` (seconds), the outcome of the pass asked for
/// ([`wait::answer`]).
pub fn reconcile(
    g: &Global,
    backend: Option<&str>,
    allow_deletions: Option<u32>,
    wait: Option<u64>,
) -> i32 {
    use crate::control::Request;
    match call(
        g,
        &Request::Reconcile {
            backend: backend.map(str::to_string),
            allow_deletions,
            wait,
        },
    ) {
        Ok(r) if wait.is_some() => wait::answer(r),
        Ok(r) => {
            crate::outln!("{}", r.message.unwrap_or_default());
            EXIT_OK
        }
        Err(code) => code,
    }
}

pub fn reload(g: &Global) -> i32 {
    use crate::control::Request;
    match call(g, &Request::Reload) {
        Ok(r) => {
            crate::outln!("{}", r.message.unwrap_or_default());
            EXIT_OK
        }
        Err(code) => code,
    }
}
