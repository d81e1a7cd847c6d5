//! Supervisor ⇄ worker messages: one JSON object per line over an inherited Unix socket.

use serde::{Deserialize, Serialize};

use crate::problem::Problem;
use crate::status::{Capacity, PassSummary};

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
    /// The desired state (re)read: its problems, empty when it was good.
    DesiredState {
        problems: Vec<Problem>,
    },
    /// Sent periodically; `busy` names the lvm command under way (`read: ...`, `write: ...`).
    Heartbeat {
        busy: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToWorker {
    /// Re-read the desired state (and the configuration, which the supervisor found unchanged
    /// for this backend), then pass.
    Reload,
    /// Pass now.
    Reconcile,
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
