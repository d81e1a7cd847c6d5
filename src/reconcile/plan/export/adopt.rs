//! Taking over another tool's exports of adopted volumes (cinder's lioadm makes them exactly as
//! ember does): counted ember's in the pass that adopts the volume, kept as they are (same
//! IQN, LUN serial, ACLs and sessions), their hosts' CHAP pair taken into ember's store; and
//! what `ember import` declares of them.

use super::{ExportAction, Naming, Plan, Seen, Transport, seen, shaped};
use crate::config::BackendConfig;
use crate::export::lio;
use crate::names::LvName;
use crate::names::LvUuid;
use crate::reconcile::plan::{Action, RefusalKind};

use super::Targets;

/// The LVs the plan adopts (`AdoptVolume`), by name and UUID.
pub(super) fn adopting(plan: &Plan) -> Vec<(LvName, LvUuid)> {
    plan.actions
        .iter()
        .filter_map(|a| match a {
            Action::AdoptVolume { volume, uuid, .. } => Some((volume.clone(), uuid.clone())),
            _ => None,
        })
        .collect()
}

/// The distinct CHAP pairs on a target's ACLs (those with both user and password set).
pub(super) fn distinct_chaps(t: &lio::Target) -> Vec<lio::Chap> {
    let mut out: Vec<lio::Chap> = vec![];
    for c in t
        .tpgs
        .iter()
        .flat_map(|g| &g.acls)
        .filter_map(|a| a.chap.as_ref())
    {
        if !out.contains(c) {
            out.push(c.clone());
        }
    }
    out
}

/// An export of ember's declared with hosts: the hosts it allows now when it is managed in
/// this pass, `None` when it is not. An iSCSI target whose ACLs carry more than one CHAP pair
/// is refused (ember keeps one pair per volume and will not pick one: either would lock the
/// other hosts out at their next login); one whose ACLs another tool made (`auth/` open to
/// others) is adopted: its pair kept, `auth/` made root-only. An NVMe subsystem open to any
/// host (cinder's, claimed because the volume declares its hosts) is adopted restricted to
/// `declared`: its hosts are then the declared ones (nothing more to attach or detach).
pub(super) fn taken_over(
    n: &Naming,
    volume: &LvName,
    s: &Seen,
    declared: &[String],
    plan: &mut Plan,
) -> Option<Vec<String>> {
    if n.transport != Transport::Iscsi {
        if !s.hosts.iter().any(|h| h == "*") {
            return Some(s.hosts.clone());
        }
        plan.export_actions.push(ExportAction::AdoptExport {
            volume: volume.clone(),
            transport: n.transport,
            target: s.name.clone(),
            portals: s.portals.clone(),
            hosts: declared.to_vec(),
        });
        return Some(declared.to_vec());
    }
    if s.chaps.len() > 1 {
        plan.refuse(volume.as_str(), RefusalKind::ExportChapDiffers, format!(
            "volume {volume}'s export is left as it is: the ACLs of its iSCSI target {} carry {} different CHAP pairs (cinder gives all hosts of a volume one pair; ember keeps one per volume and will not pick one): give them one pair, or remove the ACLs of the hosts that no longer use the volume, first",
            s.name,
            s.chaps.len()
        ));
        return None;
    }
    if s.auth_exposed {
        plan.export_actions.push(ExportAction::AdoptExport {
            volume: volume.clone(),
            transport: n.transport,
            target: s.name.clone(),
            portals: s.portals.clone(),
            hosts: vec![],
        });
    }
    Some(s.hosts.clone())
}

/// A volume's export as it is, for `ember import`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Current {
    /// Not exported (or the backend exports through nothing ember writes).
    None,
    /// Exported as cinder (and ember) export: the hosts allowed, sorted.
    Hosts(Vec<String>),
    /// Exported to any host (cinder's nvmet): the subsystem's name.
    AnyHost(String),
    /// Exported otherwise (another name, other LUNs): why it is not declared.
    Other(String),
}

/// How `volume` of the backend `cfg` is exported in `targets` (read as the pass reads them).
pub fn current_export(cfg: &BackendConfig, volume: &str, targets: &Targets) -> Current {
    let Some(n) = Naming::of(cfg) else {
        return Current::None;
    };
    let dev = n.device(volume);
    let name = n.target(volume).ok();
    let all = seen(targets, n.transport);
    let t = n.transport.shown();
    if let Some(s) = all.iter().find(|s| Some(&s.name) == name.as_ref()) {
        let on_it = !s.devices.is_empty() && s.devices.iter().all(|d| *d == dev);
        if on_it && s.one_lun && s.hosts.iter().any(|h| h == "*") {
            return Current::AnyHost(s.name.clone());
        }
        if on_it && shaped(s) {
            let mut hosts = s.hosts.clone();
            hosts.sort();
            return Current::Hosts(hosts);
        }
        return Current::Other(format!(
            "its {t} target {} is not one cinder makes (one LUN on {dev}, listed hosts): ember will report it, not manage it",
            s.name
        ));
    }
    match all.iter().find(|s| s.devices.contains(&dev)) {
        Some(s) => Current::Other(format!(
            "{t} target {} (not the name cinder gives it) uses it: ember will report it, not manage it",
            s.name
        )),
        None => Current::None,
    }
}
