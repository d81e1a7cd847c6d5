//! The one-shot commands: `check`, `plan`, `apply`, `import`, `connection`. Each returns its exit status.

use std::path::PathBuf;

use crate::cli::{EXIT_CHANGES, EXIT_ERROR, EXIT_OK, EXIT_REFUSED, Global};
use crate::config::{self, BackendConfig, Config};
use crate::desired::DesiredState;
use crate::inputs::{self, Inputs};
use crate::problem::Problem;
use crate::reconcile::{self, Policy, render};

mod apply;
mod connection;
mod import;
pub mod json;
mod wait;
pub use apply::apply;
pub use connection::{Request as ConnectionRequest, connection};
pub use import::import;
use json::Failure;

/// `plan`, `apply` and `import` run lvm, which needs root: said at once, before lvm's own
/// failure (a command line of hundreds of characters and a permission error on a device).
fn needs_root(g: &Global, command: &str) -> Result<(), Failure> {
    if !matches!(g.lvm, crate::lvm::LvmSpec::Exec(_)) || nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    Err(Failure {
        error: format!(
            "`ember {command}` runs lvm, which needs root: run it as root (sudo ember {command}); `ember check` does not, and `ember status` needs only [ember] control_group"
        ),
        problems: vec![],
    })
}

/// Prints why a command did nothing: its problems, then the reason, on standard error.
fn print_failure(f: &Failure) {
    print_problems(&f.problems);
    crate::errln!("ember: {}", f.error);
}

fn read_inputs(g: &Global) -> Inputs {
    inputs::read(&g.sources(), g.desired_state.as_ref())
}

fn print_problems<'a>(problems: impl IntoIterator<Item = &'a Problem>) {
    let paint = crate::paint::stderr();
    for p in problems {
        crate::errln!("{}", paint.problem(p));
    }
}

pub fn check(g: &Global, json: bool) -> i32 {
    let inputs = read_inputs(g);
    let ok = !inputs.has_errors() && inputs.rejected().is_empty();
    if json {
        json::print(&json::CheckDoc::of(&inputs, ok));
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
                    crate::outln!("backend {}: target {}", b.name, b.target.describe());
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
        print_problems(rejected.iter().copied());
        let errors = inputs.problems.iter().filter(|p| p.is_error()).count() + rejected.len();
        if errors == 0 {
            crate::outln!("{}", crate::paint::stdout().good("OK"));
        } else {
            crate::errln!(
                "{}",
                crate::paint::stderr().bad(&format!("{errors} error(s)"))
            );
        }
    }
    if ok { EXIT_OK } else { EXIT_ERROR }
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

/// What a plan or an apply works from: the configuration, the desired state, the backends it
/// passes over, every problem found reading them (warnings, and the errors of backends whose
/// part of the desired state is rejected), and whether the desired state names, for a backend
/// in its scope that ember does not manage (another driver), something rejected (the command
/// then fails, as `check`).
struct Ready {
    cfg: Config,
    desired: DesiredState,
    backends: Vec<BackendConfig>,
    problems: Vec<Problem>,
    rejected_elsewhere: bool,
}

/// Reads everything, or says why nothing can be done.
fn ready(g: &Global, only: Option<&str>, command: &str) -> Result<Ready, Failure> {
    needs_root(g, command)?;
    let inputs = read_inputs(g);
    let problems: Vec<Problem> = inputs
        .problems
        .iter()
        .chain(inputs.rejected())
        .cloned()
        .collect();
    let fix_first = |problems| Failure {
        error: "nothing done: fix the errors first (cinder.conf, the desired state)".into(),
        problems,
    };
    let has_errors = inputs.has_errors();
    let (Some(cfg), Some(desired)) = (inputs.config, inputs.desired) else {
        return Err(fix_first(problems));
    };
    if has_errors {
        return Err(fix_first(problems));
    }
    let backends: Vec<BackendConfig> = match selected(&cfg, only) {
        Ok(b) => b.into_iter().cloned().collect(),
        Err(error) => return Err(Failure { error, problems }),
    };
    let rejected_elsewhere = desired
        .rejected
        .keys()
        .any(|n| only.is_none_or(|o| o == n) && !backends.iter().any(|b| b.name == *n));
    Ok(Ready {
        cfg,
        desired,
        backends,
        problems,
        rejected_elsewhere,
    })
}

/// [`ready`], saying why not when it is not: as the command's document (`doc`) with `--json`,
/// else on standard error; with text, the problems found are printed first either way.
fn ready_or_say<D: serde::Serialize>(
    g: &Global,
    only: Option<&str>,
    command: &str,
    json: bool,
    doc: impl FnOnce(Failure) -> D,
) -> Result<Ready, i32> {
    match ready(g, only, command) {
        Ok(r) => {
            if !json {
                print_problems(&r.problems);
            }
            Ok(r)
        }
        Err(f) => {
            if json {
                json::print(&doc(f));
            } else {
                print_failure(&f);
            }
            Err(EXIT_ERROR)
        }
    }
}

/// The desired-state problems that reject backend `name`'s part, if they do.
fn rejected_problems(desired: &DesiredState, name: &str) -> Option<Vec<Problem>> {
    desired.rejected.get(name).cloned()
}

/// Plans each backend from a fresh read.
fn plan_backends(g: &Global, r: &Ready) -> Vec<json::BackendPlan> {
    let policy = policy(&r.cfg);
    let mut entries = vec![];
    for b in &r.backends {
        if let Some(ps) = rejected_problems(&r.desired, &b.name) {
            entries.push(json::BackendPlan::failed(
                &b.name,
                &b.volume_group,
                "its part of the desired state is rejected: nothing is planned until it is fixed"
                    .into(),
                ps,
            ));
            continue;
        }
        let lvm = g.lvm.reader(&inputs::lvm_options(b, &r.cfg.ember));
        match reconcile::observe_and_plan(b, r.desired.backend(&b.name), lvm.as_ref(), &policy) {
            Ok((_, p)) => entries.push(json::BackendPlan::of(p)),
            Err(e) => entries.push(json::BackendPlan::failed(
                &b.name,
                &b.volume_group,
                e.to_string(),
                vec![],
            )),
        }
    }
    entries
}

pub fn plan(g: &Global, only: Option<&str>, json: bool) -> i32 {
    let r = match ready_or_say(g, only, "plan", json, json::PlanDoc::failed) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let entries = plan_backends(g, &r);
    let doc = json::PlanDoc::new(entries, r.problems.clone(), !r.rejected_elsewhere);
    if json {
        json::print(&doc);
    } else {
        plan_text(&doc);
    }
    if !doc.ok {
        EXIT_ERROR
    } else if doc.blocked {
        EXIT_REFUSED
    } else if doc.changes_pending {
        EXIT_CHANGES
    } else {
        EXIT_OK
    }
}

fn plan_text(doc: &json::PlanDoc) {
    let paint = crate::paint::stdout();
    for e in &doc.backends {
        match (&e.plan, &e.error) {
            (Some(p), _) => crate::out!("{}", paint.diff(&render::plan_text(p))),
            (None, Some(err)) => crate::out!(
                "{}",
                paint.diff(&format!("backend {}:\n  error: {err}\n", e.backend))
            ),
            _ => {}
        }
    }
    if doc.backends.len() > 1 {
        let errors = doc.backends.iter().filter(|e| e.error.is_some()).count();
        let line = format!(
            "Plan, {} backends: {}{}.",
            doc.backends.len(),
            doc.counts,
            match errors {
                0 => String::new(),
                n => format!("; {n} in error"),
            }
        );
        crate::outln!("{}", paint.diff_line(&line));
    }
}

/// The control socket named by the configuration (read leniently: see config::control_socket_lenient).
fn control_socket(g: &Global) -> PathBuf {
    config::control_socket_lenient(&g.sources())
}

/// Asks the daemon; the daemon's refusal, or why it cannot be asked, as the error.
fn ask(g: &Global, req: &crate::control::Request) -> Result<crate::control::Response, String> {
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
        Ok(r) => Err(r
            .error
            .unwrap_or_else(|| "the daemon refused the request".into())),
        Err(e) => Err(e.to_string()),
    }
}

fn call(g: &Global, req: &crate::control::Request) -> Result<crate::control::Response, i32> {
    ask(g, req).map_err(|e| {
        crate::errln!("ember: {e}");
        EXIT_ERROR
    })
}

/// `ember status`: exit 0 when every backend is converged, 2 when some are pending or
/// erroneous (nothing is wrong with the daemon itself), 1 when the daemon cannot be asked.
pub fn status(g: &Global, json: bool, backend: Option<&str>, volumes: bool) -> i32 {
    use crate::control::Request;
    let req = Request::Status {
        backend: backend.map(str::to_string),
        volumes,
    };
    let st = match ask(g, &req).and_then(|r| {
        r.status
            .ok_or_else(|| "the daemon sent no status".to_string())
    }) {
        Ok(st) => st,
        Err(error) => {
            if json {
                json::print(&json::StatusDoc::failed(Failure {
                    error,
                    problems: vec![],
                }));
            } else {
                crate::errln!("ember: {error}");
            }
            return EXIT_ERROR;
        }
    };
    if json {
        json::print(&json::StatusDoc::of(&st));
    } else if volumes {
        crate::out!("{}", st.volumes_text());
    } else {
        crate::out!("{}", crate::paint::stdout().status(&st, &st.text()));
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
