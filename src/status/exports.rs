//! A backend's exports in `ember status`: each exported volume with its hosts and their live
//! sessions, as the worker's last pass found them. No secret: CHAP stays in the state
//! directory.

use serde::{Deserialize, Serialize};

pub use crate::reconcile::plan::export::{ExportedVolume, Session, Transport};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExportsStatus {
    /// Unix seconds of the pass that read them.
    pub read_at: u64,
    /// The backend's (cinder.conf's `target_helper`).
    pub transport: Transport,
    pub volumes: Vec<ExportedVolume>,
}

impl ExportsStatus {
    /// The hosts allowed, over all the exports.
    pub fn hosts(&self) -> usize {
        self.volumes.iter().map(|v| v.hosts.len()).sum()
    }
    /// The live (logged-in) sessions, when the transport shows them (iSCSI).
    pub fn sessions(&self) -> Option<usize> {
        match self.transport {
            Transport::NvmeTcp => None,
            Transport::Iscsi => Some(
                self.volumes
                    .iter()
                    .flat_map(|v| v.sessions.iter().flatten())
                    .filter(|s| s.state == "LOGGED_IN")
                    .count(),
            ),
        }
    }

    /// `ember status`'s lines: a summary, then (`per_volume`: a host may export thousands)
    /// one per exported volume.
    pub fn lines(&self, now: u64, per_volume: bool) -> Vec<String> {
        let mut out = vec![format!(
            "exports: {} volume(s) over {}, {} host(s), {} (read {} s ago)",
            self.volumes.len(),
            self.transport.shown(),
            self.hosts(),
            match self.sessions() {
                Some(n) => format!("{n} live session(s)"),
                None => "sessions not shown by nvmet".into(),
            },
            now.saturating_sub(self.read_at)
        )];
        for v in self.volumes.iter().filter(|_| per_volume) {
            let hosts = match v.hosts.is_empty() {
                true => "no host".to_string(),
                false => v.hosts.join(", "),
            };
            let sessions = match &v.sessions {
                None => String::new(),
                Some(s) if s.is_empty() => "; no session".into(),
                Some(s) => format!(
                    "; sessions: {}",
                    s.iter()
                        .map(|x| match (x.state.as_str(), x.addresses.is_empty()) {
                            ("LOGGED_IN", false) => {
                                format!("{} from {}", x.host, x.addresses.join(", "))
                            }
                            (_, true) => format!("{} ({})", x.host, x.state),
                            (state, false) => {
                                format!("{} ({state}) from {}", x.host, x.addresses.join(", "))
                            }
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            };
            out.push(format!("  {}: {hosts}{sessions}", v.volume));
        }
        out
    }
}

impl Transport {
    /// The metrics' label value.
    pub fn label(self) -> &'static str {
        match self {
            Transport::Iscsi => "iscsi",
            Transport::NvmeTcp => "nvme_tcp",
        }
    }
}

#[cfg(test)]
mod tests;
