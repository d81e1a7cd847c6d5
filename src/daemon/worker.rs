//! `ember worker --backend NAME`: one backend's converging loop, started by the supervisor.
//!
//! A pass runs on start, when the desired-state file changes (debounced; in-place writes,
//! editors' rename-over and symlink swaps such as a ConfigMap's `..data` all show up as events
//! in the file's directory), on `reload` and `reconcile` from the supervisor, and every
//! `resync_interval`. Passes never overlap: triggers during a pass coalesce into one more pass.
//! A desired state that does not parse or validate changes nothing: the last good one stays.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

use super::ipc::{self, IPC_FD_ENV, ToSupervisor, ToWorker};
use crate::cli::{EXIT_ERROR, EXIT_OK, Global};
use crate::commands::sources;
use crate::config::{self, BackendConfig, Config};
use crate::desired::{self, BackendDesired};
use crate::problem::Problem;
use crate::reconcile::{self, Policy};
use crate::status::{Capacity, PassSummary};

const DEBOUNCE: Duration = Duration::from_millis(250);
const HEARTBEAT: Duration = Duration::from_secs(5);

/// What a worker needs for a pass; re-read on reload.
struct Inputs {
    config: Config,
    backend: BackendConfig,
    desired_path: PathBuf,
    /// The last desired state that parsed and validated (this backend's part).
    desired: Option<BackendDesired>,
}

fn load_config(g: &Global, name: &str) -> Result<(Config, BackendConfig), String> {
    let loaded = config::load(&sources(g));
    let Some(cfg) = loaded.config.clone() else {
        return Err(format!("configuration invalid: {}", loaded.error_text()));
    };
    match cfg.backend(name) {
        Some(b) if b.managed => {
            let b = b.clone();
            Ok((cfg, b))
        }
        _ => Err(format!(
            "backend {name:?} is not a managed backend in enabled_backends"
        )),
    }
}

/// Reads the desired state; `Err` keeps the previous one in force.
fn read_desired(
    path: &Path,
    cfg: &Config,
    name: &str,
) -> Result<Option<BackendDesired>, Vec<Problem>> {
    desired::load(path, cfg).map(|d| d.backends.get(name).cloned())
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

fn ipc_stream() -> Result<tokio::net::UnixStream, String> {
    use std::os::fd::FromRawFd;
    let fd: i32 = std::env::var(IPC_FD_ENV)
        .map_err(|_| {
            format!(
                "{IPC_FD_ENV} is not set: `ember worker` is started by `ember daemon`, not by hand"
            )
        })?
        .parse()
        .map_err(|_| format!("{IPC_FD_ENV} is not a file descriptor"))?;
    if fd < 3 {
        return Err(format!(
            "{IPC_FD_ENV}={fd} is not a socket the supervisor passed"
        ));
    }
    // SAFETY: the supervisor passed this descriptor to us for this purpose, and nothing else in
    // this process uses it; fstat below checks that it is a socket before we read from it.
    let std = unsafe { std::os::unix::net::UnixStream::from_raw_fd(fd) };
    std.peer_addr()
        .map_err(|e| format!("{IPC_FD_ENV}={fd} is not a Unix socket: {e}"))?;
    std.set_nonblocking(true).map_err(|e| e.to_string())?;
    tokio::net::UnixStream::from_std(std).map_err(|e| e.to_string())
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

    let (config, backend) = match load_config(g, name) {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(backend = name, "{e}");
            return EXIT_ERROR;
        }
    };
    let desired_path = g
        .desired_state
        .clone()
        .unwrap_or_else(|| config.ember.desired_state.clone());
    let mut inputs = Inputs {
        config,
        backend,
        desired_path,
        desired: None,
    };
    let reload_desired = |inputs: &mut Inputs| -> bool {
        match read_desired(&inputs.desired_path, &inputs.config, name) {
            Ok(d) => {
                send(ToSupervisor::DesiredState { problems: vec![] });
                let changed = d != inputs.desired;
                inputs.desired = d;
                changed
            }
            Err(problems) => {
                for p in &problems {
                    tracing::error!(
                        backend = name,
                        "desired state not used (the last good one stays in force): {p}"
                    );
                }
                send(ToSupervisor::DesiredState { problems });
                false
            }
        }
    };
    reload_desired(&mut inputs);

    // file watching: the directory, so renames and symlink swaps are seen too
    let (fs_tx, mut fs_rx) = mpsc::unbounded_channel::<()>();
    let mut watcher = DesiredWatch::new(&inputs.desired_path, fs_tx.clone());

    let mut lines = BufReader::new(rd).lines();
    let stop = Arc::new(AtomicBool::new(false));
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let mut pending: Option<String> = Some("start".into());
    let mut running: Option<tokio::task::JoinHandle<reconcile::PassReport>> = None;
    let mut running_trigger = String::new();
    let mut debounce: Option<Instant> = None;
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
        if running.is_none()
            && !stop.load(Ordering::Relaxed)
            && let Some(trigger) = pending.take()
        {
            let backend = inputs.backend.clone();
            let desired = inputs.desired.clone();
            let lvm = g.lvm.clone();
            let settings = inputs.config.ember.clone();
            let policy = Policy {
                max_deletions_per_pass: settings.max_deletions_per_pass,
            };
            let stop = stop.clone();
            tracing::debug!(backend = name, trigger = %trigger, "pass starting");
            running_trigger = trigger;
            running = Some(tokio::task::spawn_blocking(move || {
                let writer = lvm.writer(&backend, &settings);
                reconcile::converge(&backend, desired.as_ref(), writer.as_ref(), &policy, &stop)
            }));
        }
        tokio::select! {
            line = lines.next_line() => match line {
                Ok(Some(l)) => match serde_json::from_str::<ToWorker>(&l) {
                    Ok(ToWorker::Stop) => stop.store(true, Ordering::Relaxed),
                    Ok(ToWorker::Reconcile) => pending = Some("reconcile".into()),
                    Ok(ToWorker::Reload) => {
                        match load_config(g, name) {
                            Ok((c, b)) => {
                                let path = g.desired_state.clone().unwrap_or_else(|| c.ember.desired_state.clone());
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
                        reload_desired(&mut inputs);
                        pending = Some("reload".into());
                    }
                    Err(e) => tracing::warn!(backend = name, "ignoring a malformed message from the supervisor: {e}"),
                },
                // the supervisor is gone: finish what is under way and exit
                Ok(None) | Err(_) => stop.store(true, Ordering::Relaxed),
            },
            Some(()) = fs_rx.recv() => debounce = Some(Instant::now() + DEBOUNCE),
            _ = async { if let Some(d) = debounce { sleep_until(d).await } }, if debounce.is_some() => {
                debounce = None;
                if let Some(w) = watcher.as_mut() {
                    w.refresh();
                }
                if reload_desired(&mut inputs) {
                    tracing::info!(backend = name, path = %inputs.desired_path.display(), "desired state changed");
                    pending = Some("desired-state change".into());
                }
            }
            _ = resync.tick() => if pending.is_none() { pending = Some("resync".into()) },
            _ = heartbeat.tick() => send(ToSupervisor::Heartbeat { busy: crate::lvm::cli::in_flight() }),
            _ = async { if let Some(t) = term.as_mut() { t.recv().await; } }, if term.is_some() => {
                stop.store(true, Ordering::Relaxed);
            }
            done = async { match running.as_mut() { Some(h) => h.await, None => std::future::pending().await } }, if running.is_some() => {
                running = None;
                match done {
                    Ok(report) => {
                        let summary = PassSummary::from_report(&running_trigger, &report);
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
    tracing::info!(backend = name, trigger = %s.trigger, lvm_calls = s.lvm_calls, lvm_commands = s.lvm_commands,
        duration_ms = s.duration_ms,
        "pass ({}): {} done, {} failed, {} refused, {} pending; {}, {} ms",
        s.trigger, s.done.len(), s.failed.len(), s.refused.len(), s.pending,
        crate::status::lvm_cost(s.lvm_calls, s.lvm_commands), s.duration_ms);
}

/// Watches the desired-state file: the directory it is named in (renames, `..data` symlink
/// swaps) and, when it is a symlink, the directory of its target (in-place edits there). The
/// target is re-resolved after every change, since a swap moves it.
struct DesiredWatch {
    watcher: notify::RecommendedWatcher,
    path: PathBuf,
    dirs: Vec<PathBuf>,
    names: Arc<std::sync::Mutex<Vec<std::ffi::OsString>>>,
}

impl DesiredWatch {
    fn new(path: &Path, tx: mpsc::UnboundedSender<()>) -> Option<DesiredWatch> {
        let names: Arc<std::sync::Mutex<Vec<std::ffi::OsString>>> = Arc::default();
        let seen = names.clone();
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            let Ok(ev) = res else { return };
            let Ok(names) = seen.lock() else { return };
            if ev
                .paths
                .iter()
                .any(|p| p.file_name().is_some_and(|n| names.iter().any(|x| x == n)))
            {
                let _ = tx.send(());
            }
        })
        .map_err(|e| {
            tracing::warn!(
                "cannot watch {}: {e}; relying on the periodic resync",
                path.display()
            )
        })
        .ok()?;
        let mut w = DesiredWatch {
            watcher,
            path: path.to_path_buf(),
            dirs: vec![],
            names,
        };
        w.refresh();
        Some(w)
    }

    fn refresh(&mut self) {
        use notify::Watcher;
        let parent = |p: &Path| {
            p.parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf()
        };
        let mut dirs = vec![parent(&self.path)];
        let mut names = vec![std::ffi::OsString::from("..data")];
        names.extend(self.path.file_name().map(|n| n.to_os_string()));
        if let Ok(target) = std::fs::canonicalize(&self.path) {
            if !dirs.contains(&parent(&target)) {
                dirs.push(parent(&target));
            }
            names.extend(target.file_name().map(|n| n.to_os_string()));
        }
        if let Ok(mut n) = self.names.lock() {
            *n = names;
        }
        for old in self.dirs.iter().filter(|d| !dirs.contains(d)) {
            let _ = self.watcher.unwatch(old);
        }
        for new in dirs.iter().filter(|d| !self.dirs.contains(d)) {
            if let Err(e) = self.watcher.watch(new, notify::RecursiveMode::NonRecursive) {
                tracing::warn!(
                    "cannot watch {}: {e}; relying on the periodic resync",
                    new.display()
                );
            }
        }
        self.dirs = dirs;
    }
}
