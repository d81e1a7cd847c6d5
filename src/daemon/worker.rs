//! `ember worker --backend NAME`: one backend's converging loop, started by the supervisor.
//!
//! A pass runs on start, when the desired-state file changes (debounced; in-place writes,
//! editors' rename-over and symlink swaps such as a ConfigMap's `..data` all show up as events
//! in the file's directory), on `reload` and `reconcile` from the supervisor, and every
//! `resync_interval`. Passes never overlap: triggers during a pass coalesce into one more pass.
//! A desired state that does not parse or validate changes nothing: the last good one stays.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

use super::ipc::{self, ToSupervisor, ToWorker, ipc_stream};
use super::watch::DesiredWatch;
use crate::cli::{EXIT_ERROR, EXIT_OK, Global};
use crate::config::{BackendConfig, Config};
use crate::desired::{self, BackendDesired, Digest};
use crate::lvm::vglock::{Holder, LockError, VgLock};
use crate::problem::Problem;
use crate::reconcile::{self, Policy};
use crate::status::{Capacity, PassSummary};

const DEBOUNCE: Duration = Duration::from_millis(250);
const HEARTBEAT: Duration = Duration::from_secs(5);
/// How soon a worker tries again for a volume group another ember process holds.
const LOCK_RETRY: Duration = Duration::from_secs(2);

/// What a worker needs for a pass: the configuration the supervisor has in force, and the
/// last desired state that parsed and validated.
struct Inputs {
    config: Config,
    backend: BackendConfig,
    desired_path: PathBuf,
    /// This backend's part of the last good desired state, and the file's digest then.
    desired: Option<BackendDesired>,
    digest: Option<Digest>,
}

/// Why a pass runs (the journal's `trigger=`, `ember status`'s "last pass").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    Start,
    DesiredStateChange,
    Reload,
    Reconcile,
    Resync,
    /// A marked volume's grace period ended.
    PruneDue,
    /// The volume group's lock was held by another ember process.
    LockRetry,
}

impl std::fmt::Display for Trigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Trigger::Start => "start",
            Trigger::DesiredStateChange => "desired-state change",
            Trigger::Reload => "reload",
            Trigger::Reconcile => "reconcile",
            Trigger::Resync => "resync",
            Trigger::PruneDue => "prune grace ended",
            Trigger::LockRetry => "lock retry",
        })
    }
}

pub fn run(g: &Global, name: &str) -> i32 {
    // passes run one at a time on one long-lived blocking thread, not a fresh thread per pass
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(1)
        .thread_keep_alive(Duration::from_secs(24 * 3600))
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ember worker {name}: cannot start the runtime: {e}");
            return EXIT_ERROR;
        }
    };
    rt.block_on(main_loop(g, name))
}

/// Reads the desired state; `Err` keeps the previous one in force. A file modified within the
/// debounce window is not read yet (it may still be being written): `Ok(None)`.
fn read_desired(inputs: &Inputs, name: &str) -> Result<Option<ReadDesired>, Vec<Problem>> {
    let young = std::fs::metadata(&inputs.desired_path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age < DEBOUNCE);
    if young {
        return Ok(None);
    }
    desired::load(&inputs.desired_path, &inputs.config).map(|d| {
        Some(ReadDesired {
            backend: d.backends.get(name).cloned(),
            digest: d.digest,
        })
    })
}

struct ReadDesired {
    backend: Option<BackendDesired>,
    digest: Digest,
}

/// What the loop knows between events.
struct Loop {
    pending: Option<Trigger>,
    /// A one-shot confirmation of deletions for the next pass.
    allow_deletions: Option<u32>,
    debounce: Option<Instant>,
    /// The next time a pass must run for a marked volume, or to retry the lock.
    wake_at: Option<(Instant, Trigger)>,
    lock: Option<VgLock>,
}

impl Loop {
    fn wake(&mut self, at: Instant, why: Trigger) {
        if self.wake_at.is_none_or(|(t, _)| at < t) {
            self.wake_at = Some((at, why));
        }
    }
}

async fn main_loop(g: &Global, name: &str) -> i32 {
    let stream = match ipc_stream() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ember worker {name}: {e}");
            return EXIT_ERROR;
        }
    };
    let (rd, mut wr) = stream.into_split();
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<ToSupervisor>();
    tokio::spawn(async move {
        while let Some(m) = out_rx.recv().await {
            if wr.write_all(ipc::encode(&m).as_bytes()).await.is_err() {
                break;
            }
        }
    });
    let send = |m: ToSupervisor| {
        let _ = out_tx.send(m);
    };
    send(ToSupervisor::Started {
        pid: std::process::id(),
    });
    let mut lines = BufReader::new(rd).lines();
    // the supervisor's configuration comes first
    let mut inputs = match first_configuration(&mut lines, g, name).await {
        Ok(i) => i,
        Err(e) => {
            tracing::error!(backend = name, "{e}");
            return EXIT_ERROR;
        }
    };
    let reload_desired = |inputs: &mut Inputs| -> Option<bool> {
        match read_desired(inputs, name) {
            Ok(None) => None,
            Ok(Some(d)) => {
                send(ToSupervisor::DesiredState { problems: vec![] });
                let changed = d.backend != inputs.desired;
                inputs.desired = d.backend;
                inputs.digest = Some(d.digest);
                Some(changed)
            }
            Err(problems) => {
                for p in &problems {
                    tracing::error!(
                        backend = name,
                        "desired state not used (the last good one stays in force): {p}"
                    );
                }
                send(ToSupervisor::DesiredState { problems });
                Some(false)
            }
        }
    };
    let mut lp = Loop {
        pending: Some(Trigger::Start),
        allow_deletions: None,
        debounce: None,
        wake_at: None,
        lock: None,
    };
    if reload_desired(&mut inputs).is_none() {
        lp.debounce = Some(Instant::now() + DEBOUNCE);
    }

    // file watching: the directory, so renames and symlink swaps are seen too
    let (fs_tx, mut fs_rx) = mpsc::unbounded_channel::<()>();
    let mut watcher = DesiredWatch::new(&inputs.desired_path, fs_tx.clone());

    let stop = Arc::new(AtomicBool::new(false));
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let mut running: Option<tokio::task::JoinHandle<reconcile::PassReport>> = None;
    let mut running_trigger = Trigger::Start;
    let mut resync = tokio::time::interval_at(
        Instant::now() + inputs.config.ember.resync_interval,
        inputs.config.ember.resync_interval,
    );
    let mut heartbeat = tokio::time::interval(HEARTBEAT);

    loop {
        if stop.load(Ordering::Relaxed) && running.is_none() {
            tracing::info!(backend = name, "worker stopping");
            return EXIT_OK;
        }
        // a pass waits while the file is being written (debounce armed)
        if running.is_none()
            && lp.debounce.is_none()
            && !stop.load(Ordering::Relaxed)
            && let Some(trigger) = lp.pending.take()
        {
            running_trigger = trigger;
            match start_pass(g, name, &inputs, &mut lp, trigger, &stop) {
                Ok(h) => running = Some(h),
                Err(e) => {
                    // the volume group is another ember process's: say so, try again shortly
                    let report = reconcile::PassReport::failed(&inputs.backend, e);
                    let summary = PassSummary::from_report(&trigger.to_string(), &report);
                    log_pass(name, &summary);
                    send(ToSupervisor::Pass {
                        summary: Box::new(summary),
                        capacity: None,
                    });
                    lp.wake(Instant::now() + LOCK_RETRY, Trigger::LockRetry);
                }
            }
        }
        tokio::select! {
            line = lines.next_line() => match line {
                Ok(Some(l)) => match serde_json::from_str::<ToWorker>(&l) {
                    Ok(ToWorker::Stop) => stop.store(true, Ordering::Relaxed),
                    Ok(ToWorker::Reconcile { allow_deletions }) => {
                        lp.allow_deletions = allow_deletions.or(lp.allow_deletions);
                        lp.pending = Some(Trigger::Reconcile);
                    }
                    Ok(ToWorker::Configure { config }) => {
                        match configured(g, name, *config) {
                            Ok((c, b, path)) => {
                                if path != inputs.desired_path {
                                    tracing::info!(backend = name, path = %path.display(), "the desired state moved");
                                    watcher = DesiredWatch::new(&path, fs_tx.clone());
                                    inputs.desired_path = path;
                                }
                                inputs.config = c;
                                inputs.backend = b;
                            }
                            Err(e) => tracing::error!(backend = name, "reload: {e}; keeping the running configuration"),
                        }
                        if reload_desired(&mut inputs).is_none() {
                            lp.debounce = Some(Instant::now() + DEBOUNCE);
                        }
                        lp.pending = Some(Trigger::Reload);
                    }
                    Err(e) => tracing::warn!(backend = name, "ignoring a malformed message from the supervisor: {e}"),
                },
                // the supervisor is gone: finish what is under way and exit
                Ok(None) | Err(_) => stop.store(true, Ordering::Relaxed),
            },
            Some(()) = fs_rx.recv() => lp.debounce = Some(Instant::now() + DEBOUNCE),
            _ = async { if let Some(d) = lp.debounce { sleep_until(d).await } }, if lp.debounce.is_some() => {
                lp.debounce = None;
                if let Some(w) = watcher.as_mut() {
                    w.refresh();
                }
                match reload_desired(&mut inputs) {
                    // modified within the window: still being written, wait for quiet
                    None => lp.debounce = Some(Instant::now() + DEBOUNCE),
                    Some(true) => {
                        tracing::info!(backend = name, path = %inputs.desired_path.display(), "desired state changed");
                        lp.pending.get_or_insert(Trigger::DesiredStateChange);
                    }
                    Some(false) => {}
                }
            }
            _ = async { if let Some((t, _)) = lp.wake_at { sleep_until(t).await } }, if lp.wake_at.is_some() => {
                if let Some((_, why)) = lp.wake_at.take() && lp.pending.is_none() {
                    lp.pending = Some(why);
                }
            }
            _ = resync.tick() => if lp.pending.is_none() { lp.pending = Some(Trigger::Resync) },
            _ = heartbeat.tick() => send(ToSupervisor::Heartbeat { busy: crate::lvm::cli::in_flight() }),
            _ = async { if let Some(t) = term.as_mut() { t.recv().await; } }, if term.is_some() => {
                stop.store(true, Ordering::Relaxed);
            }
            done = async { match running.as_mut() { Some(h) => h.await, None => std::future::pending().await } }, if running.is_some() => {
                running = None;
                match done {
                    Ok(report) => {
                        after_pass(&report, &mut lp);
                        if report.stale && reload_desired(&mut inputs) != Some(false) {
                            lp.pending.get_or_insert(Trigger::DesiredStateChange);
                        }
                        let summary = PassSummary::from_report(&running_trigger.to_string(), &report);
                        log_pass(name, &summary);
                        let capacity = report.observed.as_ref().map(|o| Capacity::of(&inputs.backend, o));
                        send(ToSupervisor::Pass { summary: Box::new(summary), capacity: capacity.map(Box::new) });
                    }
                    Err(e) => tracing::error!(backend = name, "pass aborted: {e}"),
                }
                release_freed_memory();
            }
        }
    }
}

/// Waits for the supervisor's first `Configure`.
async fn first_configuration(
    lines: &mut tokio::io::Lines<BufReader<tokio::net::unix::OwnedReadHalf>>,
    g: &Global,
    name: &str,
) -> Result<Inputs, String> {
    loop {
        match lines.next_line().await {
            Ok(Some(l)) => match serde_json::from_str::<ToWorker>(&l) {
                Ok(ToWorker::Configure { config }) => {
                    let (config, backend, desired_path) = configured(g, name, *config)?;
                    return Ok(Inputs {
                        config,
                        backend,
                        desired_path,
                        desired: None,
                        digest: None,
                    });
                }
                Ok(ToWorker::Stop) => return Err("stopped before it was configured".into()),
                Ok(_) => {}
                Err(e) => return Err(format!("a malformed message from the supervisor: {e}")),
            },
            Ok(None) | Err(_) => {
                return Err("the supervisor went away before configuring it".into());
            }
        }
    }
}

/// This worker's part of a configuration the supervisor sent.
fn configured(
    g: &Global,
    name: &str,
    mut config: Config,
) -> Result<(Config, BackendConfig, PathBuf), String> {
    config.allow_insecure_files = g.allow_insecure_files;
    let backend = match config.backend(name) {
        Some(b) if b.managed => b.clone(),
        _ => {
            return Err(format!(
                "backend {name:?} is not a managed backend in enabled_backends"
            ));
        }
    };
    let path = crate::inputs::desired_path(g.desired_state.as_ref(), &config);
    Ok((config, backend, path))
}

/// Takes the volume group's lock (once; held for the worker's life) and starts a pass on the
/// blocking thread. `Err` when another ember process holds the lock (retried after
/// [`LOCK_RETRY`]).
fn start_pass(
    g: &Global,
    name: &str,
    inputs: &Inputs,
    lp: &mut Loop,
    trigger: Trigger,
    stop: &Arc<AtomicBool>,
) -> Result<tokio::task::JoinHandle<reconcile::PassReport>, String> {
    let backend = inputs.backend.clone();
    if lp.lock.is_none() {
        let vg = crate::names::VgName::new(&backend.volume_group).ok();
        let who = Holder::Daemon {
            backend: name.to_string(),
        };
        match vg.map(|vg| VgLock::acquire(&g.lvm, &vg, &who, Duration::ZERO)) {
            Some(Ok(l)) => lp.lock = Some(l),
            Some(Err(e)) => {
                return Err(format!(
                    "volume group {} is not touched by this daemon: {}",
                    backend.volume_group,
                    lock_text(&e)
                ));
            }
            // an invalid VG name: the pass reports it
            None => {}
        }
    }
    let desired = inputs.desired.clone();
    let lvm = g.lvm.clone();
    let settings = inputs.config.ember.clone();
    let mut policy = Policy::new(&settings, crate::status::unix_now());
    if let Some(n) = lp.allow_deletions.take() {
        policy.max_deletions_per_pass = policy.max_deletions_per_pass.max(n);
        tracing::warn!(
            backend = name,
            "this pass may delete up to {n} volume(s) (confirmed with ember reconcile --allow-deletions)"
        );
    }
    let path = inputs.desired_path.clone();
    let digest = inputs.digest;
    let stop = stop.clone();
    tracing::debug!(backend = name, trigger = %trigger, "pass starting");
    Ok(tokio::task::spawn_blocking(move || {
        let writer = lvm.writer(&crate::inputs::lvm_options(&backend, &settings));
        let unchanged = || digest.is_some() && Digest::of_file(&path) == digest;
        reconcile::converge(
            &backend,
            desired.as_ref(),
            writer.as_ref(),
            &policy,
            &stop,
            &unchanged,
        )
    }))
}

/// A lock refusal as a daemon reports it (the lock's own text speaks to `ember apply`).
fn lock_text(e: &LockError) -> String {
    match e {
        LockError::Daemon { pid, backend, .. } => format!(
            "another ember daemon (pid {pid}, backend {backend}) manages it; one daemon per volume group"
        ),
        LockError::Apply { pid, .. } => format!("`ember apply` (pid {pid}) is writing it"),
        LockError::Io { .. } => e.to_string(),
    }
}

/// Arms the timer for the next marked volume's deletion.
fn after_pass(report: &reconcile::PassReport, lp: &mut Loop) {
    let next = report
        .remaining
        .as_ref()
        .or(report.plan.as_ref())
        .and_then(|p| p.next_deletion_at());
    if let Some(at) = next {
        let secs = at.saturating_sub(crate::status::unix_now()) + 1;
        lp.wake(
            Instant::now() + Duration::from_secs(secs),
            Trigger::PruneDue,
        );
    }
}

/// Gives the memory a pass freed back to the system. A pass over 1000 volumes allocates a few
/// MiB (lvm's report, the plan, the results) on its own thread; glibc keeps what is freed in
/// that thread's arena, so without this a worker's RSS stays at the high-water mark of its
/// biggest pass (measured by `bench/run`: 2026-11-30).
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own arenas under their locks; it takes no pointers.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn log_pass(name: &str, s: &PassSummary) {
    if let Some(e) = &s.error {
        tracing::error!(backend = name, trigger = %s.trigger, "pass failed: {e}");
    }
    for r in &s.refused {
        tracing::warn!(backend = name, trigger = %s.trigger, "refused {r}");
    }
    for w in &s.warnings {
        tracing::warn!(backend = name, trigger = %s.trigger, "{w}");
    }
    tracing::info!(backend = name, trigger = %s.trigger, lvm_calls = s.lvm_calls, lvm_commands = s.lvm_commands,
        duration_ms = s.duration_ms,
        "pass ({}): {} done, {} failed, {} refused, {} pending; {}, {} ms",
        s.trigger, s.done.len(), s.failed.len(), s.refused.len(), s.pending,
        crate::status::lvm_cost(s.lvm_calls, s.lvm_commands), s.duration_ms);
}
