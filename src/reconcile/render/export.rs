//! The plan's lines for the target configuration: each with its transport and portals.

use crate::reconcile::plan::export::{ExportAction, Transport};

impl ExportAction {
    pub fn verb(&self) -> &'static str {
        match self {
            ExportAction::Export { .. } => "export",
            ExportAction::AdoptExport { .. } => "adopt_export",
            ExportAction::AttachHost { .. } => "attach_host",
            ExportAction::DetachHost { .. } => "detach_host",
            ExportAction::Resize { .. } => "resize",
            ExportAction::Unexport { .. } => "unexport",
        }
    }

    /// One diff line, without indentation.
    pub fn line(&self) -> String {
        let at = |p: &[String]| match p {
            [] => String::new(),
            _ => format!(" at {}", p.join(", ")),
        };
        match self {
            ExportAction::Export {
                volume,
                transport,
                target,
                portals,
                ..
            } => format!(
                "+ export volume {volume} over {}{} as {target}",
                transport.shown(),
                at(portals)
            ),
            ExportAction::AdoptExport {
                volume,
                transport: Transport::NvmeTcp,
                target,
                portals,
                hosts,
            } => format!(
                "+ adopt export of volume {volume} over NVMe/TCP{} as {target} (kept as it is, restricted to its declared hosts: {}; its hosts' connections are dropped once, the declared ones reconnect)",
                at(portals),
                match hosts.is_empty() {
                    true => "none".into(),
                    false => hosts.join(", "),
                }
            ),
            ExportAction::AdoptExport {
                volume,
                transport,
                target,
                portals,
                ..
            } => format!(
                "+ adopt export of volume {volume} over {}{} as {target} (kept as it is, with its sessions and its hosts' CHAP credentials)",
                transport.shown(),
                at(portals)
            ),
            ExportAction::AttachHost {
                volume,
                transport,
                portals,
                host,
                ..
            } => format!(
                "+ attach host {host} to volume {volume} ({}{})",
                transport.shown(),
                at(portals)
            ),
            ExportAction::DetachHost {
                volume,
                transport,
                portals,
                host,
                ..
            } => format!(
                "- detach host {host} from volume {volume} ({}{})",
                transport.shown(),
                at(portals)
            ),
            ExportAction::Resize {
                volume,
                transport,
                portals,
                ..
            } => format!(
                "~ resize export of volume {volume} ({}{}): its connected hosts are told the new size",
                transport.shown(),
                at(portals)
            ),
            ExportAction::Unexport {
                volume,
                transport,
                target,
                portals,
            } => format!(
                "- unexport volume {volume} ({}{}, {target})",
                transport.shown(),
                at(portals)
            ),
        }
    }
}
