//! The control protocol: one JSON request per connection to the daemon's control socket, one
//! JSON response; and the client that `ember status`, `ember reconcile` and `ember reload` use.
//! The server is the daemon's (`crate::daemon::control`).

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::status::{DaemonStatus, PassAnswer};

/// The largest request the daemon reads.
pub const MAX_REQUEST: u64 = 64 * 1024;
/// How long the daemon's side of a connection waits for the daemon's answer to a request that
/// names no time of its own (a reload answers once new workers have passed).
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(600);
/// The daemon answers a waited pass at the time the client asked for (with what is unfinished);
/// its side of the connection gives up this much later, the client a little earlier than that.
pub const WAIT_MARGIN: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    Status {
        /// Only this backend.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        backend: Option<String>,
        /// With each backend's volumes, as its last read found them.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        volumes: bool,
    },
    Reconcile {
        #[serde(default)]
        backend: Option<String>,
        /// A one-shot confirmation: up to this many deletions in the next pass of `backend`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        allow_deletions: Option<u32>,
        /// Answer once the pass asked for (the next to start on each backend) has ended, or
        /// after this many seconds with what has not.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        wait: Option<u64>,
    },
    Reload,
}

impl Request {
    /// What only root may ask (`None`: members of `[ember] control_group` may too): anything
    /// that lifts a safety or puts an edit in force. Status and a plain pass (the next resync
    /// would run it anyway) are the group's.
    pub fn for_root_alone(&self) -> Option<&'static str> {
        match self {
            // every field named: a new one must be decided here
            Request::Status {
                backend: _,
                volumes: _,
            } => None,
            Request::Reconcile {
                backend: _,
                allow_deletions,
                wait: _,
            } => allow_deletions.map(|_| "a confirmation of deletions (--allow-deletions)"),
            // an edit of cinder.conf waits for the operator's reload (reload_on_change = false)
            Request::Reload => Some("a reload"),
        }
    }

    /// How long the daemon's side of the connection waits for the answer.
    pub fn answer_timeout(&self) -> Duration {
        match self {
            Request::Reconcile {
                wait: Some(secs), ..
            } => Duration::from_secs(*secs).saturating_add(WAIT_MARGIN),
            _ => ANSWER_TIMEOUT,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Response {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<DaemonStatus>,
    /// The answer to a waited pass (`ember reconcile --wait`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passes: Option<PassAnswer>,
}

impl Response {
    pub fn error(e: impl Into<String>) -> Self {
        Response {
            ok: false,
            error: Some(e.into()),
            message: None,
            status: None,
            passes: None,
        }
    }
    pub fn message(m: impl Into<String>) -> Self {
        Response {
            ok: true,
            error: None,
            message: Some(m.into()),
            status: None,
            passes: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("cannot connect to {}: {source} (is `ember daemon` running?)", path.display())]
    Connect {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot encode the request: {0}")]
    Encode(String),
    #[error("unexpected answer from the daemon ({detail}): {line}")]
    Answer { detail: String, line: String },
}

/// The client side, for `ember status`, `ember reconcile`, `ember reload`.
pub fn call(path: &Path, req: &Request, timeout: Duration) -> Result<Response, ControlError> {
    let io = |e: std::io::Error| ControlError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let mut stream =
        std::os::unix::net::UnixStream::connect(path).map_err(|e| ControlError::Connect {
            path: path.to_path_buf(),
            source: e,
        })?;
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    let mut s = serde_json::to_string(req).map_err(|e| ControlError::Encode(e.to_string()))?;
    s.push('\n');
    stream.write_all(s.as_bytes()).map_err(io)?;
    let mut line = String::new();
    std::io::BufReader::new(stream)
        .read_line(&mut line)
        .map_err(io)?;
    serde_json::from_str(&line).map_err(|e| ControlError::Answer {
        detail: e.to_string(),
        line,
    })
}

#[cfg(test)]
mod tests;
