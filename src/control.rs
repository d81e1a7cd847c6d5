//! The control protocol: one JSON request per connection to the daemon's control socket, one
//! JSON response; and the client that `ember status`, `ember reconcile` and `ember reload` use.
//! The server is the daemon's (`crate::daemon::control`).

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::status::DaemonStatus;

/// The largest request the daemon reads.
pub const MAX_REQUEST: u64 = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    Status,
    Reconcile {
        #[serde(default)]
        backend: Option<String>,
        /// A one-shot confirmation: up to this many deletions in the next pass of `backend`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        allow_deletions: Option<u32>,
    },
    Reload,
}

impl Request {
    /// What only root may ask (`None`: members of `[ember] control_group` may too): anything
    /// that lifts a safety or puts an edit in force. Status and a plain pass (the next resync
    /// would run it anyway) are the group's.
    pub fn for_root_alone(&self) -> Option<&'static str> {
        match self {
            Request::Status => None,
            // every field named: a new one must be decided here
            Request::Reconcile {
                backend: _,
                allow_deletions,
            } => allow_deletions.map(|_| "a confirmation of deletions (--allow-deletions)"),
            // an edit of cinder.conf waits for the operator's reload (reload_on_change = false)
            Request::Reload => Some("a reload"),
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
}

impl Response {
    pub fn error(e: impl Into<String>) -> Self {
        Response {
            ok: false,
            error: Some(e.into()),
            message: None,
            status: None,
        }
    }
    pub fn message(m: impl Into<String>) -> Self {
        Response {
            ok: true,
            error: None,
            message: Some(m.into()),
            status: None,
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
