//! The export phase: from the declared exports (`export: { hosts }`) and the kernel's target
//! configuration as read ([`Targets`]), what to export, attach, detach and unexport. Pure,
//! like the rest of the planner; its actions are the plan's `export_actions`, which apply
//! performs through [`crate::export::Step`]s, re-reading the target configuration first.
//!
//! Rules (each has a test, and a property test on the configfs model):
//! - **ownership**: a target (iSCSI) or subsystem (NVMe) is ember's for a backend only if its
//!   name is the one ember (and cinder) gives a volume of the backend that ember owns
//!   (`target_prefix` + the volume's name; `nqn.` + `target_prefix` + `-` + the volume's id)
//!   *and* its one LUN or namespace is backed by that volume's device `/dev/<vg>/<lv>`.
//!   Anything else that names or uses the backend's volumes is another tool's: a warning,
//!   never changed; a declared export whose name another tool's target holds is refused. A
//!   volume ember does not own is never exported.
//! - **no deletion while exported**: a volume deleted (`state: absent`, or pruned) whose
//!   target still has hosts is not deleted (a refusal naming them); with none left, it is
//!   unexported first, in the same pass. A volume another tool's target uses is not deleted.
//! - order: removals (detach, unexport) before the LV actions, exports and attaches after
//!   them (a new volume is exported once it exists and is active).

use std::collections::HashMap;
use std::net::IpAddr;

use super::{Action, Plan, RefusalKind, WarningKind, Whose, whose};
use crate::config::{BackendConfig, TargetHelper};
use crate::desired::BackendDesired;
use crate::export::names::{Iqn, Nqn, Portal};
use crate::export::{lio, nvmet};
use crate::lvm::{LvInfo, Observed};
use crate::names::LvName;

/// The kernel's target configuration, as read at the pass's start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    pub lio: lio::State,
    pub nvmet: nvmet::State,
    /// The volumes whose NVMe/TCP export was to be told a new size and may not have been
    /// (`crate::reconcile::exports::grown`): their resize is planned again.
    pub grown: Vec<LvName>,
}

mod adopt;
mod claim;
mod resize;
mod types;
pub use adopt::{Current, current_export};
use claim::{Claim, Seen, claim, seen, shaped};
pub use types::{ExportAction, ExportedVolume, Session, Transport};

/// A backend's target settings, as the planner uses them.
struct Naming<'a> {
    cfg: &'a BackendConfig,
    transport: Transport,
    portals: Vec<Portal>,
}

impl Naming<'_> {
    fn of(cfg: &BackendConfig) -> Option<Naming<'_>> {
        if cfg.target.unsupported().is_some() {
            return None;
        }
        let transport = match cfg.target.helper() {
            TargetHelper::Lioadm => Transport::Iscsi,
            TargetHelper::Nvmet => Transport::NvmeTcp,
            TargetHelper::Unsupported => return None,
        };
        let t = &cfg.target;
        let portals = std::iter::once(&t.target_ip_address)
            .chain(&t.target_secondary_ip_addresses)
            .filter_map(|a| a.parse::<IpAddr>().ok())
            .map(|ip| Portal {
                ip,
                port: t.target_port,
            })
            .collect();
        Some(Naming {
            cfg,
            transport,
            portals,
        })
    }

    /// The target's name for volume `lv` (cinder's); `Err` when it is not a valid name.
    fn target(&self, lv: &str) -> Result<String, String> {
        // (the names `ember connection` gives the initiators: one function for both)
        use crate::export::connection::{Volume, iscsi_target_name, nvme_subsystem_name};
        let t = &self.cfg.target;
        match self.transport {
            Transport::Iscsi => Iqn::parse(&iscsi_target_name(t, lv))
                .map(|n| n.as_str().to_string())
                .map_err(|e| e.to_string()),
            Transport::NvmeTcp => {
                let v = Volume {
                    vg: &self.cfg.volume_group,
                    name: lv,
                    template: &t.volume_name_template,
                };
                Nqn::parse(&nvme_subsystem_name(t, v.id()))
                    .map(|n| n.as_str().to_string())
                    .map_err(|e| e.to_string())
            }
        }
    }

    fn device(&self, lv: &str) -> String {
        format!("/dev/{}/{lv}", self.cfg.volume_group)
    }
}

/// The warning about another tool's target or backstore `s`, which names or uses `used`
/// (`named`: the LV whose target name it has).
fn foreign_warning(n: &Naming, s: &Seen, named: Option<&LvInfo>, used: &[LvName]) -> String {
    let why = match named {
        Some(lv) if claim::cinder_nvmet(n, s, lv) => format!(
            "open to any host, as cinder's nvmet makes it: left as it is until volume {}, ember's or adopted, declares its hosts (export: {{ hosts: [...] }}; ember then takes it over, restricted to them)",
            lv.name
        ),
        _ => format!(
            "not the one ember makes for a volume it owns: left as it is; it opens {}",
            match s.devices.is_empty() {
                true => "no device".to_string(),
                false => s.devices.join(", "),
            }
        ),
    };
    let (what, verb) = match s.backstore {
        true => ("backstore", "uses"),
        false => ("target", "names or uses"),
    };
    let used: Vec<&str> = used.iter().map(LvName::as_str).collect();
    format!(
        "{} {what} {} {verb} {} but is not ember's ({why})",
        n.transport.shown(),
        s.name,
        used.join(", ")
    )
}

/// The export phase of one backend's plan: after the LV phases (it reads their deletions and
/// creations), before the plan is held for any reason that holds everything.
pub fn plan_exports(
    cfg: &BackendConfig,
    desired: &BackendDesired,
    observed: &Observed,
    targets: &Targets,
    plan: &mut Plan,
) {
    let Some(n) = Naming::of(cfg) else {
        return;
    };
    // each LV of the VG by the target name ember would give it
    let lvs: HashMap<String, &LvInfo> = observed
        .lvs
        .iter()
        .filter_map(|lv| n.target(lv.name.as_str()).ok().map(|t| (t, lv)))
        .collect();
    let adopting = adopt::adopting(plan);
    let restricting: Vec<&LvName> = desired
        .volumes
        .iter()
        .filter(|(_, v)| v.export().is_some())
        .map(|(name, _)| name)
        .collect();
    let mut ours: HashMap<LvName, Seen> = HashMap::new();
    let mut theirs: HashMap<String, Vec<LvName>> = HashMap::new();
    for s in seen(targets, n.transport) {
        match claim(&n, &s, &lvs, &adopting, &restricting) {
            Claim::Ours(lv) => {
                ours.insert(lv.name.clone(), s);
            }
            Claim::Theirs(used) => {
                let why = foreign_warning(&n, &s, lvs.get(&s.name).copied(), &used);
                plan.warn(&s.name, WarningKind::ForeignExport, why);
                theirs.insert(s.name.clone(), used);
            }
            Claim::Unrelated => {}
        }
    }
    guard_deletions(&n, &ours, &theirs, plan);
    declared(&n, desired, observed, &ours, &theirs, plan);
    // (a half one is made again whole, at the volume's size)
    ours.retain(|_, s| !s.half);
    resize::resize_grown(n.transport, &ours, &targets.grown, plan);
    let mut exported: Vec<ExportedVolume> = ours
        .iter()
        .map(|(v, s)| ExportedVolume {
            volume: v.to_string(),
            transport: n.transport,
            target: s.name.clone(),
            hosts: s.hosts.clone(),
            sessions: None,
        })
        .collect();
    exported.sort_by(|a, b| a.volume.cmp(&b.volume));
    plan.exported = Some(exported);
}

/// Deletions of exported volumes: refused while hosts remain (or another tool's target uses
/// the volume), else preceded by the unexport.
fn guard_deletions(
    n: &Naming,
    ours: &HashMap<LvName, Seen>,
    theirs: &HashMap<String, Vec<LvName>>,
    plan: &mut Plan,
) {
    let mut kept = vec![];
    for a in std::mem::take(&mut plan.actions) {
        let Action::DeleteVolume { volume, .. } = &a else {
            kept.push(a);
            continue;
        };
        if let Some((t, _)) = theirs.iter().find(|(_, used)| used.contains(volume)) {
            plan.refuse(volume.as_str(), RefusalKind::Exported, format!(
                "volume {volume} is not deleted: another tool's {} target {t} uses it (remove that target first)",
                n.transport.shown()
            ));
            continue;
        }
        if let Some(s) = ours.get(volume) {
            // (a half-made or half-removed one reaches no data: removed whatever its ACLs)
            if !s.hosts.is_empty() && !s.half {
                plan.refuse(volume.as_str(), RefusalKind::Exported, format!(
                    "volume {volume} is not deleted: it is exported to {} ({} {}): remove its hosts first (export: {{ hosts: [] }}), then delete it",
                    s.hosts.join(", "),
                    n.transport.shown(),
                    s.name
                ));
                continue;
            }
            plan.export_actions.push(ExportAction::Unexport {
                volume: volume.clone(),
                transport: n.transport,
                target: s.name.clone(),
                portals: s.portals.clone(),
            });
        }
        kept.push(a);
    }
    plan.actions = kept;
}

/// The declared volumes: exports made, hosts attached and detached; an export of a declared
/// volume without `export:` removed.
fn declared(
    n: &Naming,
    desired: &BackendDesired,
    observed: &Observed,
    ours: &HashMap<LvName, Seen>,
    theirs: &HashMap<String, Vec<LvName>>,
    plan: &mut Plan,
) {
    let made = |v: &LvName, plan: &Plan| {
        plan.actions.iter().any(|a| {
            a.subject() == v
                && matches!(
                    a,
                    Action::CreateVolume { .. }
                        | Action::CreateFromSource { .. }
                        | Action::AdoptVolume { .. }
                )
        })
    };
    for (volume, v) in desired.volumes.iter() {
        let t = n.transport;
        let Some(export) = v.export() else {
            if let Some(s) = ours.get(volume)
                && v.size().is_some()
            {
                undeclared_export(n, volume, s, plan);
            }
            continue;
        };
        let owned = observed
            .lv(volume.as_str())
            .is_some_and(|lv| matches!(whose(n.cfg, lv), Whose::Mine { .. }));
        if !owned && !made(volume, plan) {
            if observed.lv(volume.as_str()).is_some() && !plan_refused(plan, volume) {
                plan.refuse(volume.as_str(), RefusalKind::ExportNotOurs, format!(
                    "volume {volume} is not exported: it is not ember's (ember exports only volumes it owns; adopt: true adopts cinder's)"
                ));
            }
            continue;
        }
        let target =
            match n.target(volume.as_str()) {
                Ok(t) => t,
                Err(e) => {
                    plan.refuse(volume.as_str(), RefusalKind::ExportNotOurs, format!(
                    "volume {volume} cannot be exported: its target's name is not valid ({e})"
                ));
                    continue;
                }
            };
        if theirs.contains_key(&target) {
            plan.refuse(volume.as_str(), RefusalKind::ExportNotOurs, format!(
                "volume {volume} is not exported: {} target {target} exists and is another tool's (remove it, or export the volume under it by hand)",
                t.shown()
            ));
            continue;
        }
        // another tool's target under another name already uses the volume (cinder's, named
        // under a target_prefix since changed; an operator's): a second export of one LV
        // would let two sets of initiators write it
        if let Some((other, _)) = theirs
            .iter()
            .filter(|(_, used)| used.contains(volume))
            .min_by_key(|(name, _)| name.as_str())
        {
            plan.refuse(volume.as_str(), RefusalKind::ExportNotOurs, format!(
                "volume {volume} is not exported: another tool's {} target {other} uses it already (one LV exported twice could be written by two hosts; remove that target first)",
                t.shown()
            ));
            continue;
        }
        let hosts_now: Vec<String> = match ours.get(volume) {
            None => {
                plan.export_actions.push(ExportAction::Export {
                    volume: volume.clone(),
                    transport: t,
                    target: target.clone(),
                    device: n.device(volume.as_str()),
                    portals: n.portals.iter().map(Portal::to_string).collect(),
                });
                vec![]
            }
            Some(s) if s.half => {
                remake(n, volume, s, plan);
                vec![]
            }
            Some(s) => {
                let Some(hosts_now) = adopt::taken_over(n, volume, s, &export.hosts, plan) else {
                    continue;
                };
                // (one listening on every address of the family, on the port, serves it)
                let missing: Vec<String> = n
                    .portals
                    .iter()
                    .filter(|p| !s.portals.iter().any(|np| p.served_by(np)))
                    .map(|p| match t {
                        Transport::Iscsi => p.lio_name(),
                        Transport::NvmeTcp => format!("{}:{}", p.ip, p.port),
                    })
                    .collect();
                if !missing.is_empty() || !s.enabled {
                    plan.export_actions.push(ExportAction::Export {
                        volume: volume.clone(),
                        transport: t,
                        target: target.clone(),
                        device: n.device(volume.as_str()),
                        portals: missing,
                    });
                }
                hosts_now
            }
        };
        attach_and_detach(n, volume, &target, &hosts_now, &export.hosts, plan);
    }
}

/// The hosts of an export made to what is declared: those not declared detached, those
/// declared attached (names compare without case, as cinder compares them).
fn attach_and_detach(
    n: &Naming,
    volume: &LvName,
    target: &str,
    hosts_now: &[String],
    declared: &[String],
    plan: &mut Plan,
) {
    let t = n.transport;
    let portals: Vec<String> = n.portals.iter().map(Portal::to_string).collect();
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    for h in hosts_now
        .iter()
        .filter(|h| !declared.iter().any(|d| same(d, h)))
    {
        plan.export_actions.push(ExportAction::DetachHost {
            volume: volume.clone(),
            transport: t,
            target: target.to_string(),
            portals: portals.clone(),
            host: h.clone(),
        });
    }
    for h in declared
        .iter()
        .filter(|d| !hosts_now.iter().any(|h| same(d, h)))
    {
        plan.export_actions.push(ExportAction::AttachHost {
            volume: volume.clone(),
            transport: t,
            target: target.to_string(),
            portals: portals.clone(),
            host: h.clone(),
        });
    }
}

fn plan_refused(plan: &Plan, volume: &LvName) -> bool {
    plan.refused.iter().any(|r| r.subject == volume.as_str())
}

/// The export of a declared volume without `export:`: unexported when no host is left on it;
/// while hosts remain it is left as it is, with a warning. A line missing from the file (or a
/// host taken over from cinder, whose volumes `ember import` declares without their hosts)
/// never cuts a compute host off its disk: hosts are detached only when the file lists the
/// volume's hosts (`export: { hosts: [] }` detaches them all).
/// What a worker killed mid-change left of ember's export of a volume (a target without its
/// LUN, a backstore without its target, a subsystem without its namespace): removed, then made
/// whole again; its hosts are then attached again.
fn remake(n: &Naming, volume: &LvName, s: &Seen, plan: &mut Plan) {
    plan.export_actions.push(ExportAction::Unexport {
        volume: volume.clone(),
        transport: n.transport,
        target: s.name.clone(),
        portals: s.portals.clone(),
    });
    plan.export_actions.push(ExportAction::Export {
        volume: volume.clone(),
        transport: n.transport,
        target: s.name.clone(),
        device: n.device(volume.as_str()),
        portals: n.portals.iter().map(Portal::to_string).collect(),
    });
}

fn undeclared_export(n: &Naming, volume: &LvName, s: &Seen, plan: &mut Plan) {
    if !s.hosts.is_empty() && !s.half {
        plan.warn(volume.as_str(), WarningKind::ExportNotDeclared, format!(
            "volume {volume} is exported to {} ({} {}) but declares no export: left as it is (write export: {{ hosts: [...] }} to manage its hosts; export: {{ hosts: [] }} detaches them all)",
            s.hosts.join(", "),
            n.transport.shown(),
            s.name
        ));
        return;
    }
    plan.export_actions.push(ExportAction::Unexport {
        volume: volume.clone(),
        transport: n.transport,
        target: s.name.clone(),
        portals: s.portals.clone(),
    });
}

#[cfg(test)]
pub(crate) mod tests;
