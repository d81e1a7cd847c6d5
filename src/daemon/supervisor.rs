//! `ember daemon`: starts one worker process per managed backend (re-executing its own binary
//! as `ember worker --backend NAME`), restarts the ones that die with backoff, reloads on
//! SIGHUP, stops on SIGTERM/SIGINT, serves the control socket and talks to systemd.

use std::collections::{BTreeMap, HashSet};
use std::ffi::OsString;
use std::os::fd::AsRawFd;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::control::{self, Access, Call, Request, Response};
use super::ipc::{self, IPC_FD_ENV, ToSupervisor, ToWorker};
use super::systemd;
use crate::cli::{EXIT_ERROR, EXIT_OK, Global};
use crate::commands::sources;
use crate::config::{self, BackendConfig, Config};
use crate::problem::Problem;
use crate::status::{BackendStatus, DaemonStatus, WorkerState};

/// oslo.service restarts a dead child at most once a second; ember starts there and doubles.
const BACKOFF_MIN: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(60);
/// A worker that ran this long without dying is healthy again: its backoff resets.
const HEALTHY_AFTER: Duration = Duration::from_secs(60);
/// No heartbeat for this long: the worker is stuck.
const STUCK_AFTER: Duration = Duration::from_secs(30);

enum Event {
    Msg(String, u64, ToSupervisor),
    Exited(String, u64, String),
}

/// What happens when a worker process exits.
#[derive(Debug, Clone, PartialEq)]
enum Fate {
    /// Unexpected: restart with backoff.
    Restart,
    /// Its backend was removed: forget it.
    Remove,
    /// Its options changed: start it again with these.
    Respawn(BackendConfig),
}

struct Worker {
    cfg: BackendConfig,
    generation: u64,
    tx: Option<mpsc::UnboundedSender<ToWorker>>,
    status: BackendStatus,
    started_at: Instant,
    last_heartbeat: Instant,
    failures: u32,
    restart_at: Option<Instant>,
    fate: Fate,
    stuck_reported: bool,
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
}

pub fn run(g: &Global) -> i32 {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ember daemon: cannot start the runtime: {e}");
            return EXIT_ERROR;
        }
    };
    rt.block_on(supervise(g))
}

/// Holds `run_dir/ember.lock` for the daemon's lifetime: one daemon per host.
fn single_instance(cfg: &Config) -> Result<nix::fcntl::Flock<std::fs::File>, String> {
    use std::io::Write;
    let dir = &cfg.ember.run_dir;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join("ember.lock");
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut lock = nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusiveNonblock)
        .map_err(|(_, _)| {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            format!(
                "another ember daemon is running (pid {}; lock {})",
                holder.trim(),
                path.display()
            )
        })?;
    let _ = lock.set_len(0);
    let _ = write!(lock, "{}", std::process::id());
    Ok(lock)
}

async fn supervise(g: &Global) -> i32 {
    let loaded = config::load(&sources(g));
    for p in &loaded.problems {
        if p.is_error() {
            tracing::error!("{p}");
        } else {
            tracing::warn!("{p}");
        }
    }
    let Some(config) = loaded.config else {
        eprintln!("ember daemon: the configuration has errors; not starting");
        return EXIT_ERROR;
    };
    let _lock = match single_instance(&config) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("ember daemon: {e}");
            return EXIT_ERROR;
        }
    };
    let access = Access {
        group: match &config.ember.control_group {
            None => None,
            Some(name) => match nix::unistd::Group::from_name(name) {
                Ok(Some(gr)) => Some(gr.gid),
                _ => {
                    eprintln!("ember daemon: [ember] control_group {name:?}: no such group");
                    return EXIT_ERROR;
                }
            },
        },
    };
    let socket_path = config.ember.control_socket.clone();
    let listener = match control::bind(&socket_path, &access) {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
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
    };
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
        eprintln!("ember daemon: cannot install signal handlers");
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

/// The arguments a worker gets: the supervisor's own configuration arguments.
fn worker_args(g: &Global, name: &str) -> Vec<OsString> {
    let mut a: Vec<OsString> = vec![];
    for f in &g.config_file {
        a.push("--config-file".into());
        a.push(f.into());
    }
    for d in &g.config_dir {
        a.push("--config-dir".into());
        a.push(d.into());
    }
    if let Some(d) = &g.desired_state {
        a.push("--desired-state".into());
        a.push(d.into());
    }
    if let Some(l) = &g.log_level {
        a.push("--log-level".into());
        a.push(l.into());
    }
    if g.allow_insecure_files {
        a.push("--allow-insecure-files".into());
    }
    a.push("--lvm".into());
    a.push(g.lvm.to_string().into());
    a.push("worker".into());
    a.push("--backend".into());
    a.push(name.into());
    a
}

impl Supervisor<'_> {
    fn add_worker(&mut self, cfg: BackendConfig) {
        let name = cfg.name.clone();
        let now = Instant::now();
        let w = Worker {
            status: BackendStatus {
                name: name.clone(),
                volume_group: cfg.volume_group.clone(),
                pid: None,
                state: WorkerState::Starting,
                restarts: 0,
                last_pass: None,
                desired_state_problems: vec![],
                capacity: None,
                busy: None,
            },
            cfg,
            generation: 0,
            tx: None,
            started_at: now,
            last_heartbeat: now,
            failures: 0,
            restart_at: None,
            fate: Fate::Restart,
            stuck_reported: false,
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
            Ok((pid, tx)) => {
                tracing::info!(backend = name, pid, "worker started");
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
                let Some(w) = self.workers.get_mut(&name) else {
                    return;
                };
                if w.generation != generation {
                    return;
                }
                w.last_heartbeat = Instant::now();
                match msg {
                    ToSupervisor::Started { pid } => w.status.pid = Some(pid),
                    ToSupervisor::Heartbeat { busy } => {
                        w.status.busy = busy;
                        w.stuck_reported = false;
                    }
                    ToSupervisor::DesiredState { problems } => {
                        w.status.desired_state_problems = problems
                    }
                    ToSupervisor::Pass { summary, capacity } => {
                        w.status.state = summary.state();
                        w.status.last_pass = Some(*summary);
                        if let Some(c) = capacity {
                            w.status.capacity = Some(*c);
                        }
                        if let Some(a) = self.awaiting.as_mut() {
                            a.remove(&name);
                        }
                    }
                }
            }
            Event::Exited(name, generation, how) => {
                let Some(w) = self.workers.get_mut(&name) else {
                    return;
                };
                if w.generation != generation {
                    return;
                }
                w.tx = None;
                w.status.pid = None;
                w.status.busy = None;
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
                        w.status.volume_group = cfg.volume_group.clone();
                        w.cfg = cfg;
                        self.spawn(&name);
                    }
                    Fate::Restart if self.shutting_down => {}
                    Fate::Restart => {
                        if w.started_at.elapsed() >= HEALTHY_AFTER {
                            w.failures = 0;
                        }
                        w.failures += 1;
                        let delay = BACKOFF_MIN
                            .saturating_mul(1 << (w.failures - 1).min(6))
                            .min(BACKOFF_MAX);
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
            }
        }
    }

    fn timers(&mut self) {
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
            let writing = w
                .status
                .busy
                .as_deref()
                .is_some_and(|b| b.starts_with("write"));
            if writing {
                tracing::error!(backend = %name, busy = ?w.status.busy,
                    "worker sent no heartbeat for {} s while an lvm write runs: not killing it (a killed write can leave LVM locked)", STUCK_AFTER.as_secs());
            } else if let Some(pid) = w.status.pid {
                tracing::error!(backend = %name, busy = ?w.status.busy, "worker sent no heartbeat for {} s: killing it (no write under way)", STUCK_AFTER.as_secs());
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }

    fn status(&self) -> DaemonStatus {
        DaemonStatus {
            pid: std::process::id(),
            ready: self.ready,
            config_files: self.config.config_files.clone(),
            config_problems: self.config_problems.clone(),
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
            Request::Status => Response {
                ok: true,
                error: None,
                message: None,
                status: Some(self.status()),
            },
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
            } => Response::error("a confirmation of deletions needs --backend"),
            Request::Reconcile {
                backend,
                allow_deletions,
            } => {
                let names: Vec<String> = match backend {
                    Some(b) => vec![b],
                    None => self.workers.keys().cloned().collect(),
                };
                let sent: Vec<String> = names
                    .into_iter()
                    .filter(|n| self.send(n, ToWorker::Reconcile { allow_deletions }))
                    .collect();
                let who = if sent.is_empty() {
                    "no running worker".to_string()
                } else {
                    sent.join(", ")
                };
                Response::message(format!("pass requested for {who}"))
            }
        };
        let _ = reply.send(r);
    }

    /// SIGHUP: re-read cinder.conf; start, stop, restart or reload workers accordingly.
    fn reload(&mut self) -> Result<String, String> {
        systemd::reloading();
        let loaded = config::load(&sources(self.g));
        let Some(new) = loaded.config.clone() else {
            let errs = loaded.error_text();
            tracing::error!("reload: {errs}");
            tracing::error!(
                "reload failed: the configuration has errors; the running configuration stays in force"
            );
            self.config_problems = loaded.problems;
            let line = self.status().summary();
            systemd::ready(&line);
            self.last_status_line = line;
            return Err(format!("configuration invalid, nothing changed: {errs}"));
        };
        self.config_problems = loaded.problems;
        // in force from here on: workers started or configured below get this one
        let old = std::mem::replace(&mut self.config, new);
        let new = &self.config;
        let wanted: BTreeMap<String, BackendConfig> = new
            .backends
            .iter()
            .filter(|b| b.managed)
            .map(|b| (b.name.clone(), b.clone()))
            .collect();
        let mut awaiting = HashSet::new();
        let (mut added, mut removed, mut restarted, mut reloaded) =
            (vec![], vec![], vec![], vec![]);
        let names: Vec<String> = self.workers.keys().cloned().collect();
        for name in names {
            match wanted.get(&name) {
                None => {
                    removed.push(name.clone());
                    if self.send(&name, ToWorker::Stop) {
                        if let Some(w) = self.workers.get_mut(&name) {
                            w.fate = Fate::Remove;
                            w.status.state = WorkerState::Stopping;
                        }
                    } else {
                        self.workers.remove(&name);
                    }
                }
                Some(b) if self.workers.get(&name).is_some_and(|w| &w.cfg != b) => {
                    restarted.push(name.clone());
                    awaiting.insert(name.clone());
                    if self.send(&name, ToWorker::Stop) {
                        if let Some(w) = self.workers.get_mut(&name) {
                            w.fate = Fate::Respawn(b.clone());
                        }
                    } else if let Some(w) = self.workers.get_mut(&name) {
                        w.cfg = b.clone();
                        self.spawn(&name);
                    }
                }
                Some(_) => {
                    reloaded.push(name.clone());
                    let config = Box::new(self.config.clone());
                    self.send(&name, ToWorker::Configure { config });
                }
            }
        }
        for (name, b) in wanted {
            if !self.workers.contains_key(&name) {
                added.push(name.clone());
                awaiting.insert(name);
                self.add_worker(b);
            }
        }
        if old.ember.control_socket != self.config.ember.control_socket
            || old.ember.run_dir != self.config.ember.run_dir
        {
            tracing::warn!(
                "[ember] run_dir and control_socket take effect on restart, not on reload"
            );
        }
        let msg = format!(
            "reloaded: added [{}], removed [{}], restarted [{}], reloaded [{}]",
            added.join(", "),
            removed.join(", "),
            restarted.join(", "),
            reloaded.join(", ")
        );
        tracing::info!("{msg}");
        self.ready = false;
        self.awaiting = Some(awaiting);
        Ok(msg)
    }

    async fn shutdown(&mut self, events: &mut mpsc::UnboundedReceiver<Event>) {
        tracing::info!("stopping: telling workers to finish the lvm command under way");
        systemd::stopping();
        self.shutting_down = true;
        let names: Vec<String> = self.workers.keys().cloned().collect();
        for n in &names {
            if let Some(w) = self.workers.get_mut(n) {
                w.fate = Fate::Remove;
            }
            if !self.send(n, ToWorker::Stop) {
                self.workers.remove(n);
            }
        }
        let deadline = Instant::now() + self.config.ember.stop_timeout;
        while !self.workers.is_empty() {
            tokio::select! {
                Some(ev) = events.recv() => self.handle(ev),
                _ = tokio::time::sleep_until(deadline) => break,
            }
        }
        for (name, w) in &self.workers {
            let Some(pid) = w.status.pid else { continue };
            if w.status
                .busy
                .as_deref()
                .is_some_and(|b| b.starts_with("write"))
            {
                tracing::error!(backend = %name, pid, "worker still writing after the stop timeout: leaving it to finish (it exits after the write)");
            } else {
                tracing::warn!(backend = %name, pid, "worker did not stop within the stop timeout: killing it");
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
        tracing::info!("ember daemon stopped");
    }
}

/// Starts `ember worker --backend NAME` with one end of a socketpair as its IPC descriptor,
/// and tasks that forward its messages and its exit to the supervisor's event loop.
fn start_process(
    name: &str,
    generation: u64,
    args: &[OsString],
    events: mpsc::UnboundedSender<Event>,
) -> std::io::Result<(u32, mpsc::UnboundedSender<ToWorker>)> {
    let (parent, child) = std::os::unix::net::UnixStream::pair()?;
    let child_fd = child.as_raw_fd();
    let argv0 = std::env::args_os().next().unwrap_or_else(|| "ember".into());
    let mut cmd = tokio::process::Command::new("/proc/self/exe");
    cmd.arg0(argv0)
        .args(args)
        .env(IPC_FD_ENV, child_fd.to_string())
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC")
        .env_remove("WATCHDOG_PID")
        .env_remove("LISTEN_FDS")
        .env_remove("LISTEN_PID")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(false);
    // A worker's allocations come from a few threads in turn (the pass, lvm's output readers):
    // glibc would give each its own malloc arena and keep their pages, so RSS would creep up
    // with every new thread. Two arenas keep it flat (measured: bench/run, "edits" and RSS).
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        cmd.env("MALLOC_ARENA_MAX", "2");
    }
    // SAFETY: between fork and exec this only calls async-signal-safe functions (fcntl, prctl)
    // on a descriptor that stays open in the child.
    unsafe {
        cmd.pre_exec(move || {
            let fd = std::os::fd::BorrowedFd::borrow_raw(child_fd);
            nix::fcntl::fcntl(
                fd,
                nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
            )?;
            // the worker dies with the supervisor (it treats SIGTERM as "stop after this lvm command")
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)?;
            Ok(())
        });
    }
    let mut proc_ = cmd.spawn()?;
    drop(child);
    let pid = proc_.id().unwrap_or(0);
    parent.set_nonblocking(true)?;
    let stream = tokio::net::UnixStream::from_std(parent)?;
    let (rd, mut wr) = stream.into_split();
    let (tx, mut rx) = mpsc::unbounded_channel::<ToWorker>();
    tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            if wr.write_all(ipc::encode(&m).as_bytes()).await.is_err() {
                break;
            }
        }
    });
    let n = name.to_string();
    let ev = events.clone();
    tokio::spawn(async move {
        let mut lines = BufReader::new(rd).lines();
        while let Ok(Some(l)) = lines.next_line().await {
            match serde_json::from_str::<ToSupervisor>(&l) {
                Ok(m) => {
                    let _ = ev.send(Event::Msg(n.clone(), generation, m));
                }
                Err(e) => tracing::warn!(backend = %n, "malformed message from the worker: {e}"),
            }
        }
    });
    let n = name.to_string();
    tokio::spawn(async move {
        let how = match proc_.wait().await {
            Ok(s) => s.to_string(),
            Err(e) => format!("wait failed: {e}"),
        };
        let _ = events.send(Event::Exited(n, generation, how));
    });
    Ok((pid, tx))
}
