//! Supervisor ⇄ worker messages: one JSON object per line over an inherited Unix socket.

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::problem::Problem;
use crate::status::{Capacity, DesiredStatus, PassSummary, PoolStatus, VolumeList};

/// The environment variable that tells a worker which file descriptor is its socket.
pub const IPC_FD_ENV: &str = "EMBER_IPC_FD";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToSupervisor {
    Started {
        pid: u32,
    },
    /// Sent after every pass, with the capacity figures read in it.
    Pass {
        summary: Box<PassSummary>,
        capacity: Option<Box<Capacity>>,
    },
    /// A pass that only read the volume group again after the last pass wrote, and found it
    /// as that pass said (it is not a pass of its own in the status): the figures it read.
    Confirmed {
        capacity: Option<Box<Capacity>>,
        lvm_commands: u64,
    },
    /// The thin pool as the last pass or pool check read it (`None`: there is none).
    Pool {
        pool: Option<Box<PoolStatus>>,
    },
    /// The desired state (re)read: its problems, empty when it was good.
    DesiredState {
        problems: Vec<Problem>,
        #[serde(default)]
        status: DesiredStatus,
    },
    /// A pass's writes under way: `done` of its plan's `total` actions are finished.
    Progress {
        done: usize,
        total: usize,
        /// A volume cleared before its deletion, and how far.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clearing: Option<crate::reconcile::Clearing>,
    },
    /// Sent periodically; `busy` is the lvm command under way.
    Heartbeat {
        busy: Option<crate::lvm::Busy>,
    },
    /// The pass these requests (`Reconcile { request }`) waited for has ended: its `Pass` (or
    /// `Confirmed`) came just before.
    Answered {
        requests: Vec<u64>,
    },
    /// ember's exports as the pass ended (hosts, live sessions).
    /// `None`: the backend exports through no target ember writes (any more).
    Exports {
        exports: Option<Vec<crate::reconcile::plan::export::ExportedVolume>>,
    },
    /// The volumes a pass read (`ember status --volumes`), at `read_at`; `None`: the same as
    /// the last list sent.
    Volumes {
        read_at: u64,
        list: Option<Box<VolumeList>>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToWorker {
    /// The configuration in force (the supervisor's: a worker never reads cinder.conf itself,
    /// so a restarted worker cannot pick up an edit that was not reloaded). The first message a
    /// worker gets, and again on every reload; then re-read the desired state and pass.
    Configure { config: Box<Config> },
    /// Pass now; `allow_deletions` confirms up to that many deletions for this one pass.
    /// `request`: say `Answered` with it once the next pass to start has ended.
    Reconcile {
        #[serde(default)]
        allow_deletions: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request: Option<u64>,
    },
    /// Finish the lvm command under way and exit.
    Stop,
}

pub fn encode<T: Serialize>(msg: &T) -> String {
    let mut s = serde_json::to_string(msg).unwrap_or_else(|e| {
        format!(
            "{{\"type\":\"encode_error\",\"error\":{:?}}}",
            e.to_string()
        )
    });
    s.push('\n');
    s
}

/// The supervisor's end of the socketpair, named by `EMBER_IPC_FD`: checked to be a socket
/// (borrowed, fstat) before this process takes ownership of the descriptor.
pub fn ipc_stream() -> Result<tokio::net::UnixStream, String> {
    use std::os::fd::{BorrowedFd, FromRawFd};
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
    // SAFETY: borrowed only for the fstat; fstat on a descriptor that is not open fails cleanly.
    let st = nix::sys::stat::fstat(unsafe { BorrowedFd::borrow_raw(fd) })
        .map_err(|e| format!("{IPC_FD_ENV}={fd}: {e}"))?;
    if nix::sys::stat::SFlag::from_bits_truncate(st.st_mode) & nix::sys::stat::SFlag::S_IFMT
        != nix::sys::stat::SFlag::S_IFSOCK
    {
        return Err(format!("{IPC_FD_ENV}={fd} is not a socket"));
    }
    // SAFETY: the supervisor passed this socket to us for this purpose (checked above), and
    // nothing else in this process uses it.
    let std = unsafe { std::os::unix::net::UnixStream::from_raw_fd(fd) };
    std.set_nonblocking(true).map_err(|e| e.to_string())?;
    tokio::net::UnixStream::from_std(std).map_err(|e| e.to_string())
}
