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
use crate::desired::{BackendDesired, Digest};
use crate::reconcile;
use crate::status::{Capacity, DesiredStatus, PassSummary};

const DEBOUNCE: Duration = Duration::from_millis(250);
/// How long the lvm shell outlives the worker's last pass or check: it holds tens of MiB
/// (measured: `bench/run --scale`), so it lives through a burst of work (a pass and its
/// confirming pass, edits in a row), not between pool checks (`pool_check_interval`, 10 s).
const SHELL_IDLE: Duration = Duration::from_secs(5);
/// How long a file renamed into place waits (for the other events of the same rename).
const REPLACED: Duration = Duration::from_millis(10);
const HEARTBEAT: Duration = Duration::from_secs(5);

mod answers;
mod check;
mod inputs;
mod lvm;
mod pass;
mod state;
use super::memory::release_freed_memory;
use check::{after_check, start_check};
use inputs::{configured, first_configuration, read_desired};
use pass::{after_pass, log_pass, start_pass};
use state::Loop;
use state::Trigger;

/// What the blocking thread returns: a pass, or a pool check.
enum Done {
    Pass(Box<reconcile::PassReport>),
    Check(Box<reconcile::check::PoolCheck>),
}
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
    /// The file's latest version was rejected for this backend (the last good state stays).
    rejected: bool,
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
            crate::errln!("ember worker {name}: cannot start the runtime: {e}");
            return EXIT_ERROR;
        }
    };
    rt.block_on(main_loop(g, name))
}

/// A worker's state between events.
struct Worker<'a> {
    g: &'a Global,
    name: &'a str,
    inputs: Inputs,
    lp: Loop,
    out: mpsc::UnboundedSender<ToSupervisor>,
    watcher: Option<DesiredWatch>,
    fs_tx: mpsc::UnboundedSender<bool>,
    stop: Arc<AtomicBool>,
    running: Option<tokio::task::JoinHandle<Done>>,
    running_trigger: Trigger,
    /// The waiting callers' requests the running pass answers.
    serving: Vec<u64>,
}

async fn main_loop(g: &Global, name: &str) -> i32 {
    let stream = match ipc_stream() {
        Ok(s) => s,
        Err(e) => {
            crate::errln!("ember worker {name}: {e}");
            return EXIT_ERROR;
        }
    };
    let (rd, mut wr) = stream.into_split();
    let (out, mut out_rx) = mpsc::unbounded_channel::<ToSupervisor>();
    tokio::spawn(async move {
        while let Some(m) = out_rx.recv().await {
            if wr.write_all(ipc::encode(&m).as_bytes()).await.is_err() {
                break;
            }
        }
    });
    let _ = out.send(ToSupervisor::Started {
        pid: std::process::id(),
    });
    let mut lines = BufReader::new(rd).lines();
    // the supervisor's configuration comes first
    let inputs = match first_configuration(&mut lines, g, name).await {
        Ok(i) => i,
        Err(e) => {
            tracing::error!(backend = name, "{e}");
            return EXIT_ERROR;
        }
    };
    // file watching: the directory, so renames and symlink swaps are seen too
    let (fs_tx, mut fs_rx) = mpsc::unbounded_channel::<bool>();
    let mut w = Worker {
        g,
        name,
        watcher: DesiredWatch::new(&inputs.desired_path, fs_tx.clone()),
        inputs,
        lp: Loop {
            pending: Some(Trigger::Start),
            allow_deletions: None,
            debounce: None,
            replaced: false,
            lvm: None,
            release_shell_at: None,
            said: None,
            said_ok: false,
            retry_delay: None,
            wake_at: None,
            lock: None,
            check_due: false,
            check_error: None,
            cannot_grow: None,
            check_paused_until: None,
            last_growth: None,
            requests: vec![],
            volumes_sent: None,
        },
        out,
        fs_tx,
        stop: Arc::new(AtomicBool::new(false)),
        running: None,
        running_trigger: Trigger::Start,
        serving: vec![],
    };
    if w.reload_desired().is_none() {
        w.lp.debounce = Some(Instant::now() + DEBOUNCE);
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let every = w.inputs.config.ember.resync_interval;
    let mut resync = tokio::time::interval_at(Instant::now() + every, every);
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    let check_every = w.inputs.config.ember.pool_check_interval;
    let mut check = tokio::time::interval_at(Instant::now() + check_every, check_every);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    loop {
        if w.stop.load(Ordering::Relaxed) && w.running.is_none() {
            tracing::info!(backend = name, "worker stopping");
            return EXIT_OK;
        }
        w.maybe_start();
        let (debounce, wake_at, release_at) = (w.lp.debounce, w.lp.wake_at, w.lp.release_shell_at);
        tokio::select! {
            line = lines.next_line() => match line {
                Ok(Some(l)) => match serde_json::from_str::<ToWorker>(&l) {
                    Ok(msg) => w.on_message(msg),
                    Err(e) => tracing::warn!(backend = name, "ignoring a malformed message from the supervisor: {e}"),
                },
                // the supervisor is gone: finish what is under way and exit
                Ok(None) | Err(_) => w.stop.store(true, Ordering::Relaxed),
            },
            Some(replaced) = fs_rx.recv() => w.on_file_event(replaced),
            _ = async { if let Some(d) = debounce { sleep_until(d).await } }, if debounce.is_some() => w.on_quiet(),
            _ = async { if let Some((t, _)) = wake_at { sleep_until(t).await } }, if wake_at.is_some() => {
                if let Some((_, why)) = w.lp.wake_at.take() && w.lp.pending.is_none() {
                    w.lp.pending = Some(why);
                }
            }
            _ = async { if let Some(t) = release_at { sleep_until(t).await } }, if release_at.is_some() => {
                w.lp.release_shell_at = None;
                if w.running.is_none() && w.lp.pending.is_none() {
                    lvm::release_when_idle(&w.lp.lvm);
                }
            }
            _ = resync.tick() => if w.lp.pending.is_none() { w.lp.pending = Some(Trigger::Resync) },
            _ = check.tick() => w.lp.check_due = true,
            _ = heartbeat.tick() => w.send(ToSupervisor::Heartbeat { busy: crate::lvm::cli::in_flight() }),
            _ = async { if let Some(t) = term.as_mut() { t.recv().await; } }, if term.is_some() => {
                w.stop.store(true, Ordering::Relaxed);
            }
            done = async { match w.running.as_mut() { Some(h) => h.await, None => std::future::pending().await } }, if w.running.is_some() => {
                w.running = None;
                match done {
                    Ok(Done::Pass(report)) => w.on_pass_done(*report),
                    Ok(Done::Check(c)) => {
                        let pool = after_check(name, &w.inputs, &mut w.lp, &c);
                        if c.grew() || pool.is_some() {
                            w.send(ToSupervisor::Pool { pool: pool.map(Box::new) });
                        }
                    }
                    Err(e) => tracing::error!(backend = name, "pass or pool check aborted: {e}"),
                }
                // the lvm shell stays for a burst of passes, and goes once the worker is idle
                w.lp.release_shell_at = Some(Instant::now() + SHELL_IDLE);
                release_freed_memory();
            }
        }
    }
}

impl Worker<'_> {
    fn send(&self, m: ToSupervisor) {
        let _ = self.out.send(m);
    }

    /// Reads the desired state: `Some(changed)`, or `None` when the file is still being written.
    /// A desired state with problems keeps the last good one in force (`Some(false)`).
    fn reload_desired(&mut self) -> Option<bool> {
        let whole = std::mem::take(&mut self.lp.replaced);
        match read_desired(&self.inputs, self.name, whole) {
            Ok(None) => None,
            Ok(Some(d)) => {
                for w in &d.warnings {
                    tracing::warn!(backend = self.name, "desired state: {w}");
                }
                self.send(ToSupervisor::DesiredState {
                    problems: d.warnings,
                    status: d.status,
                });
                self.inputs.rejected = false;
                let changed = d.backend != self.inputs.desired;
                self.inputs.desired = d.backend;
                self.inputs.digest = Some(d.digest);
                Some(changed)
            }
            Err(problems) => {
                for p in &problems {
                    tracing::error!(
                        backend = self.name,
                        "desired state not used (the last good one stays in force): {p}"
                    );
                }
                self.inputs.rejected = true;
                self.send(ToSupervisor::DesiredState {
                    problems,
                    status: DesiredStatus::Rejected,
                });
                Some(false)
            }
        }
    }

    /// Starts the pending pass, unless one runs, the file is being written, or the worker
    /// stops; else a pool check that is due.
    fn maybe_start(&mut self) {
        if self.running.is_some() || self.stop.load(Ordering::Relaxed) {
            return;
        }
        // a due check first: it is one cheap read, and passes (frequent edits, long writes)
        // must not hold off a pool's growth
        if std::mem::take(&mut self.lp.check_due) {
            self.running = start_check(self.g, &self.inputs, &mut self.lp, &self.stop);
            if self.running.is_some() {
                return;
            }
        }
        if self.lp.pending.is_none() || self.lp.debounce.is_some() {
            return;
        }
        let Some(trigger) = self.lp.pending.take() else {
            return;
        };
        self.running_trigger = trigger;
        // a pass that started before a request does not answer it: this one does (with the
        // callers of a pass that wrote, whose answer waits for the read that confirms it)
        self.serving.append(&mut self.lp.requests);
        match start_pass(
            self.g,
            self.name,
            &self.inputs,
            &mut self.lp,
            trigger,
            &self.stop,
            self.out.clone(),
        ) {
            Ok(h) => self.running = Some(h),
            Err(e) => {
                // the volume group is another ember process's: say so, try again shortly
                let report = reconcile::PassReport::failed(&self.inputs.backend, e);
                let summary = PassSummary::from_report(&trigger.to_string(), &report);
                log_pass(self.name, &summary);
                self.send(ToSupervisor::Pass {
                    summary: Box::new(summary),
                    capacity: None,
                });
                self.answer_requests(&report);
                self.lp
                    .wake(Instant::now() + LOCK_RETRY, Trigger::LockRetry);
            }
        }
    }

    fn on_message(&mut self, msg: ToWorker) {
        match msg {
            ToWorker::Stop => self.stop.store(true, Ordering::Relaxed),
            ToWorker::Reconcile {
                allow_deletions,
                request,
            } => {
                self.lp.allow_deletions = allow_deletions.or(self.lp.allow_deletions);
                self.lp.pending = Some(Trigger::Reconcile);
                self.lp.requests.extend(request);
            }
            ToWorker::Configure { config } => {
                match configured(self.g, self.name, *config) {
                    Ok((c, b, path)) => {
                        if path != self.inputs.desired_path {
                            tracing::info!(backend = self.name, path = %path.display(), "the desired state moved");
                            self.watcher = DesiredWatch::new(&path, self.fs_tx.clone());
                            self.inputs.desired_path = path;
                        }
                        self.inputs.config = c;
                        self.inputs.backend = b;
                    }
                    Err(e) => tracing::error!(
                        backend = self.name,
                        "reload: {e}; keeping the running configuration"
                    ),
                }
                if self.reload_desired().is_none() {
                    self.lp.debounce = Some(Instant::now() + DEBOUNCE);
                }
                self.lp.pending = Some(Trigger::Reload);
            }
        }
    }

    /// The desired-state file changed: renamed into place (read almost at once: a few
    /// milliseconds gather the events of one rename), or written (read once it is quiet).
    fn on_file_event(&mut self, replaced: bool) {
        // one write among the events keeps the whole burst waiting for quiet
        self.lp.replaced = replaced && (self.lp.replaced || self.lp.debounce.is_none());
        let wait = if self.lp.replaced { REPLACED } else { DEBOUNCE };
        self.lp.debounce = Some(Instant::now() + wait);
    }

    /// The desired-state file has been quiet for the debounce window.
    fn on_quiet(&mut self) {
        self.lp.debounce = None;
        if let Some(w) = self.watcher.as_mut() {
            w.refresh();
        }
        match self.reload_desired() {
            // modified within the window: still being written, wait for quiet
            None => self.lp.debounce = Some(Instant::now() + DEBOUNCE),
            Some(true) => {
                tracing::info!(backend = self.name, path = %self.inputs.desired_path.display(), "desired state changed");
                self.lp.edited();
            }
            Some(false) => {}
        }
    }

    fn on_pass_done(&mut self, report: reconcile::PassReport) {
        // first: a stale retry is dropped before the prune's wake is set (a pass that wrote is
        // confirmed at once by its own reading pass, which retries)
        let retry = (!report.unconfirmed)
            .then(|| {
                self.lp.retry_after(
                    report.error.is_some(),
                    self.inputs.config.ember.resync_interval,
                )
            })
            .flatten();
        after_pass(&report, &mut self.lp);
        // the reading pass that confirms it (a pending resync is the same read: it becomes
        // the confirmation; an edit's or a request's pass stays what it is, and reads too)
        if report.unconfirmed && matches!(self.lp.pending, None | Some(Trigger::Resync)) {
            self.lp.pending = Some(Trigger::Confirm);
        }
        if report.stale {
            self.on_stale();
        }
        self.tell_supervisor(&report);
        self.send_volumes(&report);
        self.answer_requests(&report);
        if let Some(delay) = retry {
            tracing::info!(
                backend = self.name,
                "the pass could not read its volume group: the next one runs in {} s",
                delay.as_secs()
            );
        }
    }

    /// The file changed under the pass: read it again (once it is quiet) and plan; the pass
    /// did nothing, so the one that plans from the file as it is now answers the callers
    /// waiting for it. A file this backend rejects plans nothing new (its last good state would
    /// only be found stale again): they are answered now, rejected.
    fn on_stale(&mut self) {
        match self.reload_desired() {
            None => {
                self.lp.requests.append(&mut self.serving);
                self.lp.debounce = Some(Instant::now() + DEBOUNCE);
            }
            Some(_) if self.inputs.rejected => {}
            Some(_) => {
                self.lp.requests.append(&mut self.serving);
                self.lp.edited();
            }
        }
    }

    /// The pass as the supervisor shows it: its summary (or, for a confirming read that found
    /// what the last pass said, only that), the pool, ember's exports.
    fn tell_supervisor(&mut self, report: &reconcile::PassReport) {
        let capacity = report
            .observed
            .as_ref()
            .map(|o| Capacity::of(&self.inputs.backend, o));
        // a confirming read that found what the last pass said (nothing to do, and the same
        // refusals, warnings and scheduled deletions): that pass stays the last one shown
        let said = |p: Option<&reconcile::Plan>| {
            p.map(|p| serde_json::to_value((&p.refused, &p.warnings, &p.scheduled)).ok())
        };
        let confirmed = self.running_trigger == Trigger::Confirm
            && self.lp.said_ok
            && report.error.is_none()
            && report.plan.as_ref().is_some_and(|p| !p.has_changes())
            && said(report.plan.as_ref()) == said(self.lp.said.as_ref());
        if !confirmed {
            self.lp.said = report.remaining.clone().or_else(|| report.plan.clone());
            // (a pass that failed is shown again by its confirming pass, which may clear it)
            self.lp.said_ok = report.ok();
        }
        if confirmed {
            tracing::info!(
                backend = self.name,
                lvm_commands = report.lvm_commands,
                duration_ms = report.duration_ms,
                "confirmed: the volume group read again is as the last pass said; {} ms",
                report.duration_ms
            );
            self.send(ToSupervisor::Confirmed {
                capacity: capacity.map(Box::new),
                lvm_commands: report.lvm_commands.max(report.lvm_calls),
            });
        } else {
            let summary = PassSummary::from_report(&self.running_trigger.to_string(), report);
            log_pass(self.name, &summary);
            self.send(ToSupervisor::Pass {
                summary: Box::new(summary),
                capacity: capacity.map(Box::new),
            });
        }
        let pool = pass::pool_status(&self.inputs, &mut self.lp, report);
        // (a pass that wrote read the pool before its writes: the confirming read that
        // follows at once says what it is now; until then status keeps the last one read)
        if !report.unconfirmed {
            self.send(ToSupervisor::Pool {
                pool: pool.map(Box::new),
            });
        }
        // ember's exports, as the pass ended (kept as they were when it could not plan)
        if let Some(p) = report.remaining.as_ref().or(report.plan.as_ref()) {
            self.send(ToSupervisor::Exports {
                exports: p.exported.clone(),
            });
        }
    }
}
