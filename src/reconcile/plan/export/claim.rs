//! Whose a target is: the targets and subsystems as the planner sees them, and the rule that
//! makes one ember's (cinder's name for a volume ember owns, ember's shape, on that volume's
//! device) or another tool's.

use std::collections::HashMap;

use super::{Naming, Targets, Transport, adopt};
use crate::export::lio;
use crate::lvm::LvInfo;
use crate::names::LvName;
use crate::reconcile::plan::{Whose, whose};

/// One target or subsystem as the planner sees it.
#[derive(Debug, Clone)]
pub(super) struct Seen {
    pub(super) name: String,
    /// The devices of its LUNs or namespaces.
    pub(super) devices: Vec<String>,
    /// Whether it has exactly one LUN (0, in TPG 1) or one namespace.
    pub(super) one_lun: bool,
    /// The hosts allowed (ACL initiators, allowed host NQNs); `*` when any host may connect.
    pub(super) hosts: Vec<String>,
    pub(super) portals: Vec<String>,
    /// Enabled (the TPG; every namespace): a pass cut short may have left it off.
    pub(super) enabled: bool,
    /// The distinct CHAP pairs its ACLs carry (iSCSI; cinder puts one pair on all of them).
    pub(super) chaps: Vec<lio::Chap>,
    /// Some ACL's `auth/` is open to others (made by another tool: cinder's rtslib).
    pub(super) auth_exposed: bool,
    /// Half made or half removed (a worker killed mid-change): no LUN or namespace with a
    /// device, so no data path; or (iSCSI) a backstore named as a target, which no LUN uses.
    pub(super) half: bool,
    /// A backstore no LUN uses (iSCSI), not a target.
    pub(super) backstore: bool,
    /// Made of a backstore of a kind ember never makes (iSCSI: not a block one), whose device
    /// may not even be readable: never ember's.
    pub(super) other_kind: bool,
}

pub(super) fn seen(targets: &Targets, transport: Transport) -> Vec<Seen> {
    match transport {
        Transport::Iscsi => {
            let mut all: Vec<Seen> = iscsi_targets(targets).collect();
            all.extend(unused_backstores(&targets.lio));
            all
        }
        Transport::NvmeTcp => targets
            .nvmet
            .subsystems
            .iter()
            .map(|s| {
                let mut hosts = s.allowed_hosts.clone();
                if s.allow_any_host == Some(true) {
                    hosts.push("*".into());
                }
                let devices: Vec<String> = s
                    .namespaces
                    .iter()
                    .filter_map(|n| n.device_path.clone().filter(|d| !d.is_empty()))
                    .collect();
                Seen {
                    name: s.nqn.clone(),
                    half: devices.is_empty(),
                    devices,
                    one_lun: s.namespaces.len() == 1,
                    enabled: s.namespaces.iter().all(|n| n.enabled == Some(true)),
                    hosts,
                    portals: targets
                        .nvmet
                        .ports
                        .iter()
                        .filter(|p| p.subsystems.contains(&s.nqn))
                        .map(|p| {
                            format!(
                                "{}:{}",
                                p.traddr.as_deref().unwrap_or("?"),
                                p.trsvcid.as_deref().unwrap_or("?")
                            )
                        })
                        .collect(),
                    chaps: vec![],
                    auth_exposed: false,
                    backstore: false,
                    other_kind: false,
                }
            })
            .collect(),
    }
}

/// A backstore no LUN uses, named as a target is not (ember and rtslib name a backstore after
/// its target): what an export cut short between its backstore and its target leaves. It holds
/// its device open (exclusively: no second export of it, no `lvremove`) until removed.
fn unused_backstores(lio: &lio::State) -> impl Iterator<Item = Seen> + '_ {
    let used: Vec<&std::path::Path> = lio
        .targets
        .iter()
        .flat_map(|t| &t.tpgs)
        .flat_map(|g| &g.luns)
        .filter_map(|l| l.backstore.as_deref())
        .collect();
    lio.backstores
        .iter()
        .filter(move |b| !used.contains(&b.path().as_path()) && lio.target(&b.name).is_none())
        .map(|b| Seen {
            name: b.name.clone(),
            devices: b.device.clone().into_iter().collect(),
            one_lun: false,
            hosts: vec![],
            portals: vec![],
            enabled: false,
            chaps: vec![],
            auth_exposed: false,
            // (ember makes block backstores only: another kind is another tool's)
            half: lio::is_block(&b.path()),
            backstore: true,
            other_kind: !lio::is_block(&b.path()),
        })
}

fn iscsi_targets(targets: &Targets) -> impl Iterator<Item = Seen> + '_ {
    targets.lio.targets.iter().map(|t| {
        let luns: Vec<&lio::Lun> = t.tpgs.iter().flat_map(|g| &g.luns).collect();
        let mut hosts: Vec<String> = t
            .tpgs
            .iter()
            .flat_map(|g| &g.acls)
            .map(|a| a.initiator.clone())
            .collect();
        if t.tpgs.iter().any(|g| g.generate_node_acls == Some(true)) {
            hosts.push("*".into());
        }
        let (devices, through_luns) = targets.lio.devices_of(&t.iqn);
        Seen {
            name: t.iqn.clone(),
            half: through_luns == 0,
            devices,
            one_lun: t.tpgs.len() == 1
                && t.tpgs[0].tag == 1
                && luns.len() == 1
                && luns[0].index == 0,
            hosts,
            portals: t.tpgs.iter().flat_map(|g| g.portals.clone()).collect(),
            enabled: t.tpgs.iter().all(|g| g.enabled == Some(true)),
            chaps: adopt::distinct_chaps(t),
            auth_exposed: t.tpgs.iter().flat_map(|g| &g.acls).any(|a| !a.auth_private),
            backstore: false,
            other_kind: targets.lio.other_kind(&t.iqn),
        }
    })
}

/// Whose a target is: ember's export of one of the backend's volumes, another tool's that
/// names or uses one of them, or nothing to do with this backend.
pub(super) enum Claim<'a> {
    Ours(&'a LvInfo),
    /// Another tool's: the volumes it names or uses (by name).
    Theirs(Vec<LvName>),
    Unrelated,
}

/// `adopting`: the LVs this plan adopts (`AdoptVolume`): ember's for the claim already, so
/// that the pass that adopts a cinder volume also takes over its export (the operator's
/// `adopt: true` is the word for both; the next pass would count it ember's anyway).
/// `restricting`: the volumes declared with `export: { hosts }`: on those, a subsystem as
/// cinder's nvmet makes it ([`cinder_nvmet`], open to any host) is ember's too, to be
/// restricted to the declared hosts; without `export:` it stays another tool's.
pub(super) fn claim<'a>(
    n: &Naming,
    s: &Seen,
    lvs: &HashMap<String, &'a LvInfo>,
    adopting: &[(LvName, crate::names::LvUuid)],
    restricting: &[&LvName],
) -> Claim<'a> {
    let named = lvs.iter().find(|(t, _)| **t == s.name).map(|(_, lv)| *lv);
    if let Some(lv) = named {
        let dev = n.device(lv.name.as_str());
        let mine = matches!(whose(n.cfg, lv), Whose::Mine { .. })
            || adopting.iter().any(|(v, u)| *v == lv.name && *u == lv.uuid);
        let whole = shaped(s) && !s.devices.is_empty();
        let open = s.hosts.iter().any(|h| h == "*");
        let restricted = cinder_nvmet(n, s, lv) && restricting.contains(&&lv.name);
        if mine
            && !s.other_kind
            && (whole || s.half && !open || restricted)
            && s.devices.iter().all(|d| *d == dev)
        {
            return Claim::Ours(lv);
        }
    }
    let vg = n.cfg.volume_group.as_str();
    let mut used: Vec<LvName> = named.map(|l| l.name.clone()).into_iter().collect();
    for d in &s.devices {
        if let Some(lv) = lvs.values().find(|x| opens_lv(d, vg, &x.name))
            && !used.contains(&lv.name)
        {
            used.push(lv.name.clone());
        }
    }
    match used.is_empty() {
        true => Claim::Unrelated,
        false => Claim::Theirs(used),
    }
}

/// A subsystem as cinder's nvmet helper makes it for volume `lv` (already found under the
/// name cinder gives it): one namespace, on the volume's device, open to any host and to no
/// host listed (the kernel allows no host link while open).
pub(super) fn cinder_nvmet(n: &Naming, s: &Seen, lv: &LvInfo) -> bool {
    let dev = n.device(lv.name.as_str());
    n.transport == Transport::NvmeTcp
        && s.one_lun
        && !s.half
        && s.hosts == ["*"]
        && s.devices == [dev]
}

/// ember's shape: one LUN (0, in TPG 1) or namespace, for listed hosts only.
pub(super) fn shaped(s: &Seen) -> bool {
    s.one_lun && !s.hosts.iter().any(|h| h == "*")
}

/// Whether the device path `device` is LV `lv` of VG `vg`, under any of the names udev gives
/// it that a target's configuration may hold: `/dev/<vg>/<lv>`, device-mapper's
/// `/dev/mapper/<vg>-<lv>` and `/dev/disk/by-id/dm-name-<vg>-<lv>` (each `-` of a name doubled,
/// as lvm names the device). (`/dev/dm-<n>` is not recognised: the planner does not know the
/// minor numbers; lvm itself still refuses to remove an LV a target holds open.)
pub(super) fn opens_lv(device: &str, vg: &str, lv: &LvName) -> bool {
    if device
        .strip_prefix("/dev/")
        .and_then(|r| r.strip_prefix(vg))
        .and_then(|r| r.strip_prefix('/'))
        == Some(lv.as_str())
    {
        return true;
    }
    let Ok(vg) = crate::names::VgName::new(vg) else {
        return false;
    };
    let dm = crate::lvm::clear::dm_name(&vg, lv);
    ["/dev/mapper/", "/dev/disk/by-id/dm-name-"]
        .iter()
        .any(|p| device.strip_prefix(p) == Some(dm.as_str()))
}
