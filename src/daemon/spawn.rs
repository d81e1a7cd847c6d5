//! Starting a worker process: `ember worker --backend NAME` (the supervisor's own binary, its
//! own configuration arguments), one end of a socketpair as its IPC descriptor, and the tasks
//! that forward its messages and its exit to the supervisor's event loop.

use std::ffi::OsString;
use std::os::fd::AsRawFd;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use super::ipc::{self, IPC_FD_ENV, ToSupervisor, ToWorker};
use crate::cli::Global;

pub(super) enum Event {
    Msg(String, u64, ToSupervisor),
    Exited(String, u64, String),
    /// A file cinder.conf was read from (or a `--config-dir`) changed.
    ConfigFiles,
}

/// A started worker: its pid, its message channel, and the way to kill it.
pub(super) struct Spawned {
    pub pid: u32,
    pub tx: mpsc::UnboundedSender<ToWorker>,
    pub kill: Kill,
}

/// Kills a worker through the task that owns its child handle (and reaps it), so that a pid
/// the kernel has given to another process is never signalled: once the worker is reaped, the
/// task is gone and a kill does nothing.
#[derive(Debug, Clone)]
pub(super) struct Kill(mpsc::UnboundedSender<()>);

impl Kill {
    pub fn kill(&self) {
        let _ = self.0.send(());
    }
}

/// The arguments a worker gets: the supervisor's own configuration arguments.
pub(super) fn worker_args(g: &Global, name: &str) -> Vec<OsString> {
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
    // its log lines share the supervisor's standard error (outside systemd)
    a.push(format!("--color={}", g.color.as_str()).into());
    a.push("--lvm".into());
    a.push(g.lvm.to_string().into());
    a.push("worker".into());
    a.push("--backend".into());
    a.push(name.into());
    a
}

/// Starts `ember worker --backend NAME` with one end of a socketpair as its IPC descriptor,
/// and tasks that forward its messages and its exit to the supervisor's event loop.
pub(super) fn start_process(
    name: &str,
    generation: u64,
    args: &[OsString],
    events: mpsc::UnboundedSender<Event>,
) -> std::io::Result<Spawned> {
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
    let (kill_tx, mut kill_rx) = mpsc::unbounded_channel::<()>();
    tokio::spawn(async move {
        let waited = tokio::select! {
            r = proc_.wait() => r,
            Some(()) = kill_rx.recv() => {
                let _ = proc_.start_kill();
                proc_.wait().await
            }
        };
        let how = match waited {
            Ok(s) => s.to_string(),
            Err(e) => format!("wait failed: {e}"),
        };
        let _ = events.send(Event::Exited(n, generation, how));
    });
    Ok(Spawned {
        pid,
        tx,
        kill: Kill(kill_tx),
    })
}
