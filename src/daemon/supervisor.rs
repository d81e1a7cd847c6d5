//! `ember daemon`: starts one worker process per managed backend (re-executing its own binary
//! as `ember worker --backend NAME`), restarts the ones that die with backoff, reloads on
//! SIGHUP, stops on SIGTERM/SIGINT, serves the control socket and talks to systemd.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::control::{self, Access, Call, Request, Response};
use super::instance::single_instance;

mod confwatch;
mod lifecycle;
mod messages;
mod metrics;
mod waiters;
use super::ipc::{ToSupervisor, ToWorker};
use super::spawn::{Event, Kill, Spawned, start_process, worker_args};
use super::{backoff, systemd};
use crate::cli::{EXIT_ERROR, EXIT_OK, Global};
use crate::config::{self, BackendConfig, Config};
use crate::lvm::Busy;
use crate::problem::Problem;
use crate::status::{BackendStatus, DaemonStatus, PassOutcome, VolumeList, WorkerState};

/// No heartbeat for this long: the worker is stuck.
const STUCK_AFTER: Duration = Duration::from_secs(30);

/// What happens when a worker process exits.
#[derive(Debug, Clone, PartialEq)]
enum Fate {
    /// Unexpected: restart with backoff.
    Restart,
    /// Its backend was removed: forget it.
    Remove,
    /// Its options changed: start it again with these.
    Respawn(Box<BackendConfig>),
}

struct Worker {
    cfg: BackendConfig,
    generation: u64,
    tx: Option<mpsc::UnboundedSender<ToWorker>>,
    kill: Option<Kill>,
    status: BackendStatus,
    started_at: Instant,
    last_heartbeat: Instant,
    failures: u32,
    restart_at: Option<Instant>,
    fate: Fate,
    stuck_reported: bool,
    /// The volumes its last read found (`ember status --volumes`).
    volumes: Option<VolumeList>,
}

struct Supervisor<'a> {
    g: &'a Global,
    config: Config,
    config_problems: Vec<Problem>,
    workers: BTreeMap<String, Worker>,
    events: mpsc::UnboundedSender<Event>,
    next_generation: u64,
    /// Workers whose first pass READY=1 waits for (at start, and for new ones on reload).
    awaiting: Option<HashSet<String>>,
    ready: bool,
    shutting_down: bool,
    last_status_line: String,
    /// `ember reload` callers, answered when the daemon is ready again.
    reload_waiters: Vec<(tokio::sync::oneshot::Sender<Response>, String)>,
    /// `ember reconcile --wait` callers, answered when their passes have ended.
    pass_waiters: Vec<waiters::PassWaiter>,
    /// The number of the last waited pass request.
    next_request: u64,
    config_watch: Option<confwatch::ConfigWatch>,
    /// When cinder.conf changed on disk (read again once quiet).
    config_dirty: Option<Instant>,
    /// What a change of cinder.conf on disk means, until a reload applies it.
    config_notice: Option<String>,
    metrics: metrics::MetricsFile,
}

pub fn run(g: &Global) -> i32 {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            crate::errln!("ember daemon: cannot start the runtime: {e}");
            return EXIT_ERROR;
        }
    };
    rt.block_on(supervise(g))
}

async fn supervise(g: &Global) -> i32 {
    let loaded = config::load(&g.sources());
    for p in &loaded.problems {
        if p.is_error() {
            tracing::error!("{p}");
        } else {
            tracing::warn!("{p}");
        }
    }
    let Some(config) = loaded.config else {
        crate::errln!("ember daemon: the configuration has errors; not starting");
        return EXIT_ERROR;
    };
    // a bad command line stops the start, as systemd users expect (a file removed later
    // while the daemon runs is "no desired state", as the default path's)
    if let Some(path) = &g.desired_state
        && let Some(p) = crate::inputs::typed_path_missing(Some(path))
    {
        tracing::error!("{p}");
        crate::errln!(
            "ember daemon: --desired-state {} does not exist; not starting",
            path.display()
        );
        return EXIT_ERROR;
    }
    let access = Access {
        group: match &config.ember.control_group {
            None => None,
            Some(name) => match nix::unistd::Group::from_name(name) {
                Ok(Some(gr)) => Some(gr.gid),
                _ => {
                    crate::errln!("ember daemon: [ember] control_group {name:?}: no such group");
                    return EXIT_ERROR;
                }
            },
        },
    };
    let (_run_dir, _lock) = match single_instance(&config, access.group) {
        Ok(l) => l,
        Err(e) => {
            crate::errln!("ember daemon: {e}");
            return EXIT_ERROR;
        }
    };
    let socket_path = config.ember.control_socket.clone();
    let listener = match control::bind(&socket_path, &access) {
        Ok(l) => l,
        Err(e) => {
            crate::errln!(
                "ember daemon: cannot listen on {}: {e}",
                socket_path.display()
            );
            return EXIT_ERROR;
        }
    };
    let (calls_tx, mut calls) = mpsc::channel::<Call>(16);
    tokio::spawn(control::serve(listener, access, calls_tx));

    let (events_tx, mut events) = mpsc::unbounded_channel::<Event>();
    let mut sup = Supervisor {
        g,
        config,
        config_problems: loaded.problems.clone(),
        workers: BTreeMap::new(),
        events: events_tx,
        next_generation: 0,
        awaiting: None,
        ready: false,
        shutting_down: false,
        last_status_line: String::new(),
        reload_waiters: vec![],
        pass_waiters: vec![],
        next_request: 0,
        config_watch: None,
        config_dirty: None,
        config_notice: None,
        metrics: Default::default(),
    };
    sup.watch_config();
    let names: Vec<BackendConfig> = sup
        .config
        .backends
        .iter()
        .filter(|b| b.managed)
        .cloned()
        .collect();
    let mut awaiting = HashSet::new();
    for b in names {
        awaiting.insert(b.name.clone());
        sup.add_worker(b);
    }
    sup.awaiting = Some(awaiting);
    tracing::info!(backends = sup.workers.len(), socket = %socket_path.display(), "ember daemon started");

    let (Ok(mut hup), Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::hangup()),
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        crate::errln!("ember daemon: cannot install signal handlers");
        return EXIT_ERROR;
    };
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let watchdog_every = systemd::watchdog_interval();
    let mut watchdog = tokio::time::interval(watchdog_every.unwrap_or(Duration::from_secs(3600)));

    loop {
        sup.check_ready();
        tokio::select! {
            Some(ev) = events.recv() => sup.handle(ev),
            Some((req, reply)) = calls.recv() => sup.control(req, reply),
            _ = hup.recv() => { let _ = sup.reload(); }
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = tick.tick() => sup.timers(),
            _ = watchdog.tick(), if watchdog_every.is_some() => systemd::watchdog(),
        }
    }
    sup.shutdown(&mut events).await;
    let _ = std::fs::remove_file(&socket_path);
    EXIT_OK
}

impl Supervisor<'_> {
    fn add_worker(&mut self, cfg: BackendConfig) {
        let name = cfg.name.clone();
        let now = Instant::now();
        let w = Worker {
            status: BackendStatus::starting(&cfg),
            cfg,
            generation: 0,
            tx: None,
            kill: None,
            started_at: now,
            last_heartbeat: now,
            failures: 0,
            restart_at: None,
            fate: Fate::Restart,
            stuck_reported: false,
            volumes: None,
        };
        self.workers.insert(name.clone(), w);
        self.spawn(&name);
    }

    fn spawn(&mut self, name: &str) {
        self.next_generation += 1;
        let generation = self.next_generation;
        let args = worker_args(self.g, name);
        let events = self.events.clone();
        let Some(w) = self.workers.get_mut(name) else {
            return;
        };
        w.generation = generation;
        w.restart_at = None;
        w.fate = Fate::Restart;
        w.stuck_reported = false;
        w.started_at = Instant::now();
        w.last_heartbeat = Instant::now();
        match start_process(name, generation, &args, events) {
            Ok(Spawned { pid, tx, kill }) => {
                tracing::info!(backend = name, pid, "worker started");
                w.kill = Some(kill);
                // the configuration in force, not whatever cinder.conf holds now
                let _ = tx.send(ToWorker::Configure {
                    config: Box::new(self.config.clone()),
                });
                w.status.pid = Some(pid);
                w.status.state = WorkerState::Starting;
                w.tx = Some(tx);
            }
            Err(e) => {
                tracing::error!(backend = name, "cannot start the worker: {e}");
                let _ = self.events.send(Event::Exited(
                    name.to_string(),
                    generation,
                    format!("spawn failed: {e}"),
                ));
            }
        }
    }

    fn send(&self, name: &str, msg: ToWorker) -> bool {
        self.workers
            .get(name)
            .and_then(|w| w.tx.as_ref())
            .is_some_and(|tx| tx.send(msg).is_ok())
    }

    fn handle(&mut self, ev: Event) {
        match ev {
            Event::Msg(name, generation, msg) => {
                let when = metrics::when(&msg);
                self.message(name, generation, msg);
                self.publish_metrics(when);
            }
            Event::Exited(name, generation, how) => self.exited(name, generation, how),
            Event::ConfigFiles => self.config_files_changed(),
        }
    }

    fn exited(&mut self, name: String, generation: u64, how: String) {
        let Some(w) = self.workers.get_mut(&name) else {
            return;
        };
        if w.generation != generation {
            return;
        }
        let lost = PassOutcome::without_pass(
            &w.status,
            format!("the worker exited ({how}) before the pass ended"),
        );
        w.tx = None;
        w.kill = None;
        w.status.pid = None;
        w.status.busy = None;
        w.status.progress = None;
        match std::mem::replace(&mut w.fate, Fate::Restart) {
            Fate::Remove => {
                if self.shutting_down {
                    tracing::info!(backend = %name, "worker stopped ({how})");
                } else {
                    tracing::info!(backend = %name, "worker stopped ({how}); backend removed, its volumes stay");
                }
                self.workers.remove(&name);
                if let Some(a) = self.awaiting.as_mut() {
                    a.remove(&name);
                }
            }
            Fate::Respawn(cfg) => {
                tracing::info!(backend = %name, "worker stopped ({how}); starting it with the new options");
                w.status.configured(&cfg);
                w.volumes = None;
                w.cfg = *cfg;
                self.spawn(&name);
            }
            Fate::Restart if self.shutting_down => {}
            Fate::Restart => {
                w.failures = backoff::failures_after(w.failures, w.started_at.elapsed());
                let delay = backoff::restart_delay(w.failures);
                w.status.restarts += 1;
                w.status.state = WorkerState::Restarting;
                w.restart_at = Some(Instant::now() + delay);
                tracing::error!(backend = %name, restarts = w.status.restarts,
                    "worker exited unexpectedly ({how}); restarting in {} s", delay.as_secs());
                // a worker that dies before its first pass must not hold READY=1 back
                if let Some(a) = self.awaiting.as_mut() {
                    a.remove(&name);
                }
            }
        }
        self.pass_lost(&name, lost);
    }

    fn timers(&mut self) {
        self.config_quiet();
        self.waiters_due();
        let now = Instant::now();
        let due: Vec<String> = self
            .workers
            .iter()
            .filter(|(_, w)| w.restart_at.is_some_and(|t| t <= now))
            .map(|(n, _)| n.clone())
            .collect();
        for name in due {
            self.spawn(&name);
        }
        for (name, w) in self.workers.iter_mut() {
            if w.tx.is_none() || w.last_heartbeat.elapsed() < STUCK_AFTER || w.stuck_reported {
                continue;
            }
            w.stuck_reported = true;
            let writing = w.status.busy.as_ref().is_some_and(Busy::is_write);
            if writing {
                tracing::error!(backend = %name, busy = ?w.status.busy,
                    "worker sent no heartbeat for {} s while an lvm write runs: not killing it (a killed write can leave LVM locked)", STUCK_AFTER.as_secs());
            } else if let Some(k) = &w.kill {
                tracing::error!(backend = %name, busy = ?w.status.busy, "worker sent no heartbeat for {} s: killing it (no write under way)", STUCK_AFTER.as_secs());
                k.kill();
            }
        }
    }

    /// The status of every backend, or of `backend` alone (`Err` when it is not running), with
    /// their volumes if asked.
    fn status_of(&self, backend: Option<&str>, volumes: bool) -> Result<DaemonStatus, String> {
        let mut st = self.status();
        if let Some(b) = backend {
            if !self.workers.contains_key(b) {
                return Err(format!("no backend {b:?} is running"));
            }
            st.backends.retain(|s| s.name == b);
        }
        if volumes {
            for s in &mut st.backends {
                s.volumes = self.workers.get(&s.name).and_then(|w| w.volumes.clone());
            }
        }
        Ok(st)
    }

    fn status(&self) -> DaemonStatus {
        DaemonStatus {
            pid: std::process::id(),
            ready: self.ready,
            config_files: self.config.config_files.clone(),
            config_problems: self.config_problems.clone(),
            config_changed: self.config_notice.clone(),
            metrics_problem: self.metrics.problem(),
            backends: self.workers.values().map(|w| w.status.clone()).collect(),
        }
    }

    fn check_ready(&mut self) {
        if self.awaiting.as_ref().is_some_and(HashSet::is_empty) {
            self.awaiting = None;
            self.ready = true;
            let line = self.status().summary();
            tracing::info!("ready: {line}");
            systemd::ready(&line);
            for (w, m) in self.reload_waiters.drain(..) {
                let _ = w.send(Response::message(format!("{m}; ready: {line}")));
            }
            self.last_status_line = line;
            return;
        }
        if self.ready {
            let line = self.status().summary();
            if line != self.last_status_line {
                systemd::status(&line);
                self.last_status_line = line;
            }
        }
    }

    fn control(&mut self, req: Request, reply: tokio::sync::oneshot::Sender<Response>) {
        let r = match req {
            Request::Status { backend, volumes } => {
                match self.status_of(backend.as_deref(), volumes) {
                    Ok(st) => Response {
                        ok: true,
                        error: None,
                        message: None,
                        status: Some(st),
                        passes: None,
                    },
                    Err(e) => Response::error(e),
                }
            }
            // answered once the daemon is ready again (new and restarted workers have passed)
            Request::Reload => match self.reload() {
                Ok(m) => {
                    self.reload_waiters.push((reply, m));
                    return;
                }
                Err(e) => Response::error(e),
            },
            Request::Reconcile {
                backend: Some(b), ..
            } if !self.workers.contains_key(&b) => {
                Response::error(format!("no backend {b:?} is running"))
            }
            Request::Reconcile {
                backend: None,
                allow_deletions: Some(_),
                ..
            } => Response::error("a confirmation of deletions needs --backend"),
            Request::Reconcile { wait: Some(w), .. } if w > crate::cli::MAX_WAIT => {
                Response::error(format!("wait: at most {} s", crate::cli::MAX_WAIT))
            }
            Request::Reconcile {
                backend,
                allow_deletions,
                wait,
            } => return self.reconcile(backend, allow_deletions, wait, reply),
        };
        let _ = reply.send(r);
    }
}
