//! The export phase's vocabulary: the transports and the actions on the target configuration.

use serde::{Deserialize, Serialize};

pub use crate::export::lio::session::Session;
use crate::names::LvName;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// iSCSI through LIO (`target_helper = lioadm`).
    Iscsi,
    /// NVMe/TCP through nvmet (`target_helper = nvmet`).
    NvmeTcp,
}

impl Transport {
    pub fn shown(self) -> &'static str {
        match self {
            Transport::Iscsi => "iSCSI",
            Transport::NvmeTcp => "NVMe/TCP",
        }
    }
}

/// What a pass does to the target configuration, for one volume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ExportAction {
    /// Made (iSCSI: backstore, target, TPG 1, LUN 0, a portal per address; NVMe: subsystem,
    /// namespace, a port per address), to no host yet; or completed, when it was half made.
    Export {
        volume: LvName,
        transport: Transport,
        /// The IQN or NQN.
        target: String,
        device: String,
        portals: Vec<String>,
    },
    /// A host allowed (iSCSI: its ACL with the volume's CHAP and LUN 0 mapped; NVMe: an
    /// allowed host).
    AttachHost {
        volume: LvName,
        transport: Transport,
        target: String,
        portals: Vec<String>,
        host: String,
    },
    /// Another tool's export of a volume adopted, kept as it is (same name, LUN serial or
    /// namespace id, UUID and NGUID). iSCSI (cinder's lioadm's, the same shape as ember's):
    /// with its sessions; its hosts' CHAP pair becomes the volume's in ember's store, and each
    /// ACL's `auth/` is made root-only. NVMe/TCP (cinder's nvmet's, open to any host):
    /// restricted to `hosts`, the declared ones (`attr_allow_any_host` 0, each host allowed,
    /// then every controller dropped: the hosts allowed reconnect by themselves).
    AdoptExport {
        volume: LvName,
        transport: Transport,
        target: String,
        portals: Vec<String>,
        /// NVMe/TCP: the declared hosts the subsystem is restricted to (none: to nobody).
        /// Empty and left out for iSCSI.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        hosts: Vec<String>,
    },
    DetachHost {
        volume: LvName,
        transport: Transport,
        target: String,
        portals: Vec<String>,
        host: String,
    },
    /// A grown volume's new size told to the hosts connected to it: over NVMe/TCP, its
    /// namespace revalidated (nvmet sends each controller a namespace-changed event). Never
    /// planned for iSCSI: LIO reads a block device's size at every READ CAPACITY, and an
    /// initiator sees it at its next rescan (os-brick's `extend_volume` rescans).
    Resize {
        volume: LvName,
        transport: Transport,
        target: String,
        portals: Vec<String>,
    },
    /// Removed whole (target and backstore; subsystem out of its ports).
    Unexport {
        volume: LvName,
        transport: Transport,
        target: String,
        portals: Vec<String>,
    },
}

impl ExportAction {
    /// Runs before the LV actions (detach, unexport); the others after them.
    pub fn is_removal(&self) -> bool {
        matches!(
            self,
            ExportAction::DetachHost { .. } | ExportAction::Unexport { .. }
        )
    }
    pub fn volume(&self) -> &LvName {
        match self {
            ExportAction::Export { volume, .. }
            | ExportAction::AdoptExport { volume, .. }
            | ExportAction::AttachHost { volume, .. }
            | ExportAction::DetachHost { volume, .. }
            | ExportAction::Resize { volume, .. }
            | ExportAction::Unexport { volume, .. } => volume,
        }
    }
}

/// One of ember's exports of the backend's volumes, as the pass found it: for `ember status`
/// and the metrics. No secret in it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExportedVolume {
    pub volume: String,
    pub transport: Transport,
    /// The IQN or NQN.
    pub target: String,
    /// The hosts allowed (ACLs' initiators, allowed host NQNs).
    pub hosts: Vec<String>,
    /// The hosts' live sessions (iSCSI: read from LIO when the pass ended). `None` over
    /// NVMe/TCP: nvmet shows no host's connection in configfs.
    #[serde(default)]
    pub sessions: Option<Vec<Session>>,
}
