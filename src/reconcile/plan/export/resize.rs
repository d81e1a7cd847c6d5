//! A grown volume's export: its connected hosts told the new size.

use std::collections::HashMap;

use super::{ExportAction, Seen, Transport};
use crate::names::LvName;
use crate::reconcile::plan::{Action, Plan};

/// A `Resize` for each volume that ember exports over NVMe/TCP and that the plan grows, or
/// that an earlier pass grew without its resize being seen done (`marked`). nvmet keeps a
/// namespace's size until told; LIO reads it at every READ CAPACITY, so iSCSI needs none.
pub(super) fn resize_grown(
    transport: Transport,
    ours: &HashMap<LvName, Seen>,
    marked: &[LvName],
    plan: &mut Plan,
) {
    if transport != Transport::NvmeTcp {
        return;
    }
    let mut grown: Vec<&LvName> = plan
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::ExtendVolume { volume, .. } => Some(volume),
            _ => None,
        })
        .collect();
    for v in marked {
        if !grown.contains(&v) {
            grown.push(v);
        }
    }
    // (a volume this plan unexports, to delete it or as no longer declared, has no host left
    // to tell)
    let unexported = |v: &LvName| {
        plan.export_actions
            .iter()
            .any(|a| matches!(a, ExportAction::Unexport { volume, .. } if volume == v))
    };
    let mut resized = vec![];
    for v in grown {
        if let Some(s) = ours.get(v)
            && !unexported(v)
        {
            resized.push(ExportAction::Resize {
                volume: v.clone(),
                transport,
                target: s.name.clone(),
                portals: s.portals.clone(),
            });
        }
    }
    plan.export_actions.extend(resized);
}

#[cfg(test)]
mod tests;
