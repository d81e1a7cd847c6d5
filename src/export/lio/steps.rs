//! The steps that make and remove an iSCSI export, in the kernel's orders (rtslib's, and
//! cinder's `cinder-rtstool`): the backstore is configured and enabled before a LUN links to it
//! (else "se_device not configured yet, cannot port link"); ACLs and their mapped LUNs before
//! the TPG is enabled; portals last. Removal runs the other way (rtslib's `TPG.delete`).

use std::path::{Path, PathBuf};

use super::{State, TARGET};
use crate::export::configfs::{ExportError, Step, Value};
use crate::export::names::{Iqn, Portal};

/// The name of the links ember makes (a LUN to its backstore, an ACL's LUN to the TPG's).
const LINK: &str = "ember";
/// cinder's layout: one TPG, LUN 0, mapped as LUN 0 in every ACL.
const TPG: &str = "tpgt_1";
const LUN: &str = "lun_0";

/// CHAP credentials: one user and password per volume, on every ACL (cinder's lioadm).
#[derive(Clone, PartialEq, Eq)]
pub struct Chap {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Chap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Chap {{ user: {:?}, password: (secret) }}", self.user)
    }
}

/// One volume exported over iSCSI, as cinder's lioadm makes it: target `iqn` (also the
/// backstore's name), TPG 1, LUN 0 on `device`, an ACL per host, a portal per address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IscsiExport {
    pub iqn: Iqn,
    pub device: PathBuf,
    /// The LUN's unit serial ([`crate::export::identity::Identity::uuid`]).
    pub serial: String,
    pub portals: Vec<Portal>,
    pub chap: Option<Chap>,
    pub hosts: Vec<Iqn>,
}

fn plain(s: impl Into<String>) -> Value {
    Value::Plain(s.into())
}

/// A value written into an attribute: one line, no separators the kernel's parsers split on.
fn check_value(what: &str, v: &str) -> Result<(), ExportError> {
    if v.is_empty() || v.len() > 255 || v.chars().any(|c| c.is_whitespace() || c == ',') {
        return Err(ExportError::Invalid(format!(
            "{what} must be 1 to 255 characters without spaces or commas"
        )));
    }
    Ok(())
}

fn tpg_dir(iqn: &str) -> PathBuf {
    Path::new(TARGET).join("iscsi").join(iqn).join(TPG)
}

/// The steps that make `export`, given LIO as it is (`state`): refused when its target or its
/// backstore already exists (adopting or repairing one is the planner's business).
pub fn create_steps(export: &IscsiExport, state: &State) -> Result<Vec<Step>, ExportError> {
    let iqn = export.iqn.as_str();
    let device = export.device.to_string_lossy();
    if !export.device.is_absolute() {
        return Err(ExportError::Invalid(format!(
            "device {device} is not an absolute path"
        )));
    }
    check_value("a device path", &device)?;
    check_value("a unit serial", &export.serial)?;
    if let Some(c) = &export.chap {
        check_value("a CHAP user", &c.user)?;
        check_value("a CHAP password", &c.password)?;
    }
    if state.target(iqn).is_some() || state.backstores.iter().any(|b| b.name == iqn) {
        return Err(ExportError::Invalid(format!(
            "the iSCSI target or backstore {iqn} exists already"
        )));
    }
    let n = (0..)
        .find(|n| !state.hbas.contains(&format!("iblock_{n}")))
        .unwrap_or(0);
    let hba = Path::new(TARGET).join("core").join(format!("iblock_{n}"));
    let bs = hba.join(iqn);
    let mut steps = Vec::new();
    if !state.iscsi_fabric {
        steps.push(Step::Mkdir(Path::new(TARGET).join("iscsi")));
    }
    steps.extend([
        Step::Mkdir(hba),
        Step::Mkdir(bs.clone()),
        Step::Write(bs.join("control"), plain(format!("udev_path={device}"))),
        // what iblock opens is `control`'s; the `udev_path` attribute is what readers see
        // (rtslib writes both; LIO does not fill one from the other)
        Step::Write(bs.join("udev_path"), plain(device.as_ref())),
        Step::Write(bs.join("enable"), plain("1")),
        Step::Write(bs.join("wwn/vpd_unit_serial"), plain(&export.serial)),
        Step::Mkdir(Path::new(TARGET).join("iscsi").join(iqn)),
    ]);
    let tpg = tpg_dir(iqn);
    let auth = if export.chap.is_some() { "1" } else { "0" };
    steps.extend([
        Step::Mkdir(tpg.clone()),
        Step::Write(tpg.join("attrib/authentication"), plain(auth)),
        Step::Write(tpg.join("attrib/generate_node_acls"), plain("0")),
        Step::Mkdir(tpg.join("lun").join(LUN)),
        Step::Symlink {
            link: tpg.join("lun").join(LUN).join(LINK),
            target: bs,
        },
    ]);
    for host in &export.hosts {
        steps.extend(acl_steps(&export.iqn, host, export.chap.as_ref()));
    }
    steps.push(Step::Write(tpg.join("enable"), plain("1")));
    for p in &export.portals {
        steps.push(Step::Mkdir(tpg.join("np").join(p.lio_name())));
    }
    Ok(steps)
}

/// The steps that let `host` log in to the target `iqn` (cinder's initialize_connection): its
/// ACL, the volume's CHAP credentials on it, LUN 0 mapped.
pub fn acl_steps(iqn: &Iqn, host: &Iqn, chap: Option<&Chap>) -> Vec<Step> {
    let acl = tpg_dir(iqn.as_str()).join("acls").join(host.as_str());
    let mut steps = vec![Step::Mkdir(acl.clone())];
    if let Some(c) = chap {
        // configfs makes auth/password 0644: the directory is made root-only before the
        // password is written (the CHAP store's files are 0600; a local user must not read
        // it here either)
        steps.push(Step::RootOnly(acl.join("auth")));
        steps.push(Step::Write(acl.join("auth/userid"), plain(&c.user)));
        steps.push(Step::Write(
            acl.join("auth/password"),
            Value::Secret(c.password.clone()),
        ));
    }
    steps.extend([
        Step::Mkdir(acl.join(LUN)),
        Step::Symlink {
            link: acl.join(LUN).join(LINK),
            target: tpg_dir(iqn.as_str()).join("lun").join(LUN),
        },
    ]);
    steps
}

/// The steps that remove the target `iqn` and the backstores only it used, from what is there;
/// with its backstore (named after it) that no LUN uses: an export cut short may have left
/// that alone, or a target without its LUN.
pub fn remove_steps(iqn: &str, state: &State) -> Result<Vec<Step>, ExportError> {
    let target = state.target(iqn);
    let mut backstores: Vec<PathBuf> = state
        .backstores
        .iter()
        .filter(|b| b.name == iqn && b.hba.starts_with("iblock_"))
        .map(|b| b.path())
        .collect();
    if target.is_none() && backstores.is_empty() {
        return Err(ExportError::Invalid(format!("no iSCSI target {iqn}")));
    }
    let tdir = Path::new(TARGET).join("iscsi").join(iqn);
    let mut steps = Vec::new();
    for tpg in target.iter().flat_map(|t| &t.tpgs) {
        let dir = tdir.join(format!("tpgt_{}", tpg.tag));
        if tpg.enabled == Some(true) {
            steps.push(Step::Write(dir.join("enable"), plain("0")));
        }
        for acl in &tpg.acls {
            let adir = dir.join("acls").join(&acl.initiator);
            for m in &acl.mapped_luns {
                let mdir = adir.join(format!("lun_{}", m.index));
                steps.extend(m.link.as_ref().map(|l| Step::Unlink(mdir.join(l))));
                steps.push(Step::Rmdir(mdir));
            }
            steps.push(Step::Rmdir(adir));
        }
        for lun in &tpg.luns {
            let ldir = dir.join("lun").join(format!("lun_{}", lun.index));
            steps.extend(lun.link.as_ref().map(|l| Step::Unlink(ldir.join(l))));
            steps.push(Step::Rmdir(ldir));
            backstores.extend(lun.backstore.clone());
        }
        for np in &tpg.portals {
            steps.push(Step::Rmdir(dir.join("np").join(np)));
        }
        steps.push(Step::Rmdir(dir));
    }
    if target.is_some() {
        steps.push(Step::Rmdir(tdir));
    }
    backstores.sort();
    backstores.dedup();
    for path in backstores {
        if used_elsewhere(&path, iqn, state) {
            continue;
        }
        // (ember makes and removes block backstores only)
        if let Some(b) = state.backstore_at(&path).filter(|_| super::is_block(&path)) {
            steps.push(Step::Rmdir(path.clone()));
            let others = state.backstores.iter().filter(|o| o.hba == b.hba).count();
            if others == 1 {
                steps.extend(path.parent().map(|h| Step::Rmdir(h.to_path_buf())));
            }
        }
    }
    Ok(steps)
}

/// Whether a target other than `iqn` has a LUN on the backstore at `path`.
fn used_elsewhere(path: &Path, iqn: &str, state: &State) -> bool {
    state
        .targets
        .iter()
        .filter(|t| t.iqn != iqn)
        .flat_map(|t| &t.tpgs)
        .flat_map(|tpg| &tpg.luns)
        .any(|l| l.backstore.as_deref() == Some(path))
}

/// What a half-made export of ember's lacks (a pass cut short between its steps): the portals
/// not there yet, and the TPG's `enable`.
pub fn complete_steps(export: &IscsiExport, state: &State) -> Vec<Step> {
    let iqn = export.iqn.as_str();
    let tpg = tpg_dir(iqn);
    let Some(t) = state.target(iqn) else {
        return vec![];
    };
    let Some(g) = t.tpgs.iter().find(|g| g.tag == 1) else {
        return vec![];
    };
    let mut steps = vec![];
    if g.enabled != Some(true) {
        steps.push(Step::Write(tpg.join("enable"), plain("1")));
    }
    // (a portal on every address of the port serves it already: LIO would refuse it beside)
    for p in &export.portals {
        if !g.portals.iter().any(|np| p.served_by(np)) {
            steps.push(Step::Mkdir(tpg.join("np").join(p.lio_name())));
        }
    }
    steps
}

/// The steps that remove `host`'s ACL from the target `iqn` (cinder's terminate_connection;
/// LIO ends the host's sessions with it). The ACL is found without regard to case, as cinder
/// finds it; none when there is none.
pub fn remove_acl_steps(iqn: &str, host: &str, state: &State) -> Vec<Step> {
    let Some(t) = state.target(iqn) else {
        return vec![];
    };
    let mut steps = vec![];
    for g in &t.tpgs {
        let dir = Path::new(TARGET)
            .join("iscsi")
            .join(iqn)
            .join(format!("tpgt_{}", g.tag));
        for acl in g
            .acls
            .iter()
            .filter(|a| a.initiator.eq_ignore_ascii_case(host))
        {
            let adir = dir.join("acls").join(&acl.initiator);
            for m in &acl.mapped_luns {
                let mdir = adir.join(format!("lun_{}", m.index));
                steps.extend(m.link.as_ref().map(|l| Step::Unlink(mdir.join(l))));
                steps.push(Step::Rmdir(mdir));
            }
            steps.push(Step::Rmdir(adir));
        }
    }
    steps
}
