//! LIO's iSCSI targets and block backstores, under `<root>/target` (rtslib's layout; the
//! research notes, section 3.1): what is there ([`read`]) and the steps that make or remove
//! one export ([`create_steps`], [`remove_steps`]).

use std::path::{Path, PathBuf};

use super::configfs::{ExportError, attr, flag, link_target, links, subdirs};

pub mod session;
mod steps;
pub use steps::{
    Chap, IscsiExport, acl_steps, complete_steps, create_steps, remove_acl_steps, remove_steps,
};

/// LIO's configfs directory, relative to the configfs root.
pub const TARGET: &str = "target";

/// A block backstore: `target/core/<hba>/<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backstore {
    /// The HBA directory, `iblock_<n>` (ember's and rtslib's block backstores), or
    /// `fileio_<n>` (another tool's, read for the device it may hold open).
    pub hba: String,
    pub name: String,
    /// The device it opens (`udev_path`); empty or absent while not configured.
    pub device: Option<String>,
    /// `wwn/vpd_unit_serial`, without the kernel's label.
    pub serial: Option<String>,
    pub enabled: Option<bool>,
}

impl Backstore {
    /// Its path relative to the configfs root.
    pub fn path(&self) -> PathBuf {
        Path::new(TARGET)
            .join("core")
            .join(&self.hba)
            .join(&self.name)
    }
}

/// An iSCSI target, `target/iscsi/<iqn>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub iqn: String,
    pub tpgs: Vec<Tpg>,
}

/// A target portal group, `tpgt_<tag>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tpg {
    pub tag: u16,
    pub enabled: Option<bool>,
    /// `attrib/authentication`: CHAP required.
    pub authentication: Option<bool>,
    /// `attrib/generate_node_acls`: any initiator may log in.
    pub generate_node_acls: Option<bool>,
    pub luns: Vec<Lun>,
    /// `np/` entries as the kernel names them (`ip:port`, `[ip6]:port`).
    pub portals: Vec<String>,
    pub acls: Vec<Acl>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lun {
    pub index: u32,
    /// The name of its link to the backstore (any name: rtslib and ember choose differently).
    pub link: Option<String>,
    /// The backstore it links to, relative to the configfs root.
    pub backstore: Option<PathBuf>,
}

/// A LUN of an ACL, `acls/<initiator>/lun_<index>`, mapped to a LUN of the TPG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedLun {
    pub index: u32,
    pub link: Option<String>,
    /// The TPG's LUN it maps to.
    pub tpg_lun: Option<u32>,
}

/// An initiator's ACL, `acls/<initiator>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acl {
    pub initiator: String,
    /// Whether a CHAP user name is set.
    pub chap_user_set: bool,
    /// Its CHAP pair (`auth/userid`, `auth/password`) when both are set: what the initiator
    /// logs in with, read so that an adopted target (cinder's) keeps its credentials. [`read`]
    /// reads it only where `auth/` is open to others (another tool's ACL, the one an adoption
    /// takes over); [`with_passwords`] reads every ACL's where a pair is needed. A [`Chap`],
    /// whose `Debug` never shows the password; nothing prints it.
    pub chap: Option<Chap>,
    /// Whether `auth/` is root's alone (no access for group or others): ember makes it so
    /// before it writes a password there; configfs makes it 0755 (an ACL of rtslib's).
    pub auth_private: bool,
    pub mapped_luns: Vec<MappedLun>,
}

/// LIO as it is now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// Whether the iSCSI fabric is registered (`target/iscsi` exists).
    pub iscsi_fabric: bool,
    /// The `iblock_<n>` HBA directories, with or without a backstore.
    pub hbas: Vec<String>,
    pub backstores: Vec<Backstore>,
    pub targets: Vec<Target>,
}

impl State {
    pub fn target(&self, iqn: &str) -> Option<&Target> {
        self.targets.iter().find(|t| t.iqn == iqn)
    }

    pub fn backstore_at(&self, path: &Path) -> Option<&Backstore> {
        self.backstores.iter().find(|b| b.path() == path)
    }

    /// Whether a LUN of the target `iqn` is on a backstore of a kind ember never makes (not
    /// `iblock_<n>`: fileio, pscsi, user, ramdisk), whose device it may not be able to read.
    pub fn other_kind(&self, iqn: &str) -> bool {
        self.target(iqn)
            .into_iter()
            .flat_map(|t| &t.tpgs)
            .flat_map(|g| &g.luns)
            .filter_map(|l| l.backstore.as_deref())
            .any(|p| !is_block(p))
    }

    /// The devices the target `iqn` opens: through its LUNs, then through its backstore (named
    /// after it, as ember and rtslib name it) when no LUN of it links to that (not yet, or any
    /// more: an export cut short). The first count is how many go through LUNs.
    pub fn devices_of(&self, iqn: &str) -> (Vec<String>, usize) {
        let luns: Vec<&Lun> = self
            .target(iqn)
            .into_iter()
            .flat_map(|t| &t.tpgs)
            .flat_map(|g| &g.luns)
            .collect();
        let mut devices: Vec<String> = luns
            .iter()
            .filter_map(|l| l.backstore.as_deref())
            .filter_map(|p| self.backstore_at(p))
            .filter_map(|b| b.device.clone())
            .collect();
        let through_luns = devices.len();
        devices.extend(
            self.backstores
                .iter()
                .filter(|b| {
                    b.name == iqn
                        && !luns
                            .iter()
                            .any(|l| l.backstore.as_deref() == Some(&b.path()))
                })
                .filter_map(|b| b.device.clone()),
        );
        (devices, through_luns)
    }
}

/// Whether the backstore at `path` (`target/core/<hba>/<name>`) is a block one, as ember makes.
pub fn is_block(path: &Path) -> bool {
    path.parent()
        .and_then(Path::file_name)
        .and_then(|h| h.to_str())
        .is_some_and(|h| h.starts_with("iblock_"))
}

/// The device in a backstore's `info` after `key` (iblock: `... UDEV PATH: /dev/vg/lv
/// readonly: 0 ...`; fileio: `... File: /dev/vg/lv  Size: ...`): what `control` set, for a
/// backstore whose `udev_path` attribute nobody wrote.
fn info_path(info: &str, key: &str) -> Option<String> {
    let rest = info.split_once(key)?.1.trim_start();
    let path = rest.split_whitespace().next()?;
    path.starts_with('/').then(|| path.to_string())
}

fn index_after(name: &str, prefix: &str) -> Option<u32> {
    name.strip_prefix(prefix)?.parse().ok()
}

/// Reads LIO's iSCSI targets and block backstores under `root` (`/sys/kernel/config`).
pub fn read(root: &Path) -> Result<State, ExportError> {
    let t = root.join(TARGET);
    let mut state = State {
        iscsi_fabric: t.join("iscsi").is_dir(),
        ..State::default()
    };
    for hba in subdirs(&t.join("core"))? {
        // ember's (block) and those that may open a block device too (fileio: targetcli's
        // `fileio` on a device, which holds it open as iblock does)
        let (info_key, block) = match () {
            _ if hba.starts_with("iblock_") => ("UDEV PATH:", true),
            _ if hba.starts_with("fileio_") => ("File:", false),
            _ => continue,
        };
        if block {
            state.hbas.push(hba.clone());
        }
        for name in subdirs(&t.join("core").join(&hba))? {
            let dir = t.join("core").join(&hba).join(&name);
            state.backstores.push(Backstore {
                device: match attr(&dir.join("udev_path"))?.filter(|d| !d.is_empty()) {
                    Some(d) => Some(d),
                    None => attr(&dir.join("info"))?
                        .as_deref()
                        .and_then(|i| info_path(i, info_key)),
                },
                serial: attr(&dir.join("wwn/vpd_unit_serial"))?.map(|s| {
                    let v = s.rsplit(':').next().unwrap_or("").trim();
                    v.to_string()
                }),
                enabled: flag(&dir.join("enable"))?,
                hba: hba.clone(),
                name,
            });
        }
    }
    for iqn in subdirs(&t.join("iscsi"))? {
        if iqn == "discovery_auth" {
            continue;
        }
        let dir = t.join("iscsi").join(&iqn);
        let mut tpgs = Vec::new();
        for tpgt in subdirs(&dir)? {
            if let Some(tag) = tpgt.strip_prefix("tpgt_").and_then(|n| n.parse().ok()) {
                tpgs.push(read_tpg(root, &dir.join(&tpgt), tag)?);
            }
        }
        state.targets.push(Target { iqn, tpgs });
    }
    Ok(state)
}

/// `t` with the CHAP pair of each of its ACLs that has a user set, read now from `root`: for
/// the few places that need a pair ([`read`] leaves the passwords of ember's own ACLs unread).
pub fn with_passwords(root: &Path, t: &Target) -> Result<Target, ExportError> {
    let mut t = t.clone();
    let dir = root.join(TARGET).join("iscsi").join(&t.iqn);
    for g in &mut t.tpgs {
        for a in g.acls.iter_mut().filter(|a| a.chap_user_set) {
            let auth = dir
                .join(format!("tpgt_{}", g.tag))
                .join("acls")
                .join(&a.initiator)
                .join("auth");
            (a.chap_user_set, a.chap) = read_chap(&auth, true)?;
        }
    }
    Ok(t)
}

/// An ACL's CHAP user (whether set) and, when `password` is asked for, its pair (when both are
/// set) from its `auth/`: the kernel shows an unset one as empty (or `NULL`, as rtslib writes
/// it to clear one).
fn read_chap(auth: &Path, password: bool) -> Result<(bool, Option<Chap>), ExportError> {
    let set = |v: Option<String>| v.filter(|v| !v.is_empty() && v != "NULL");
    let Some(user) = set(attr(&auth.join("userid"))?) else {
        return Ok((false, None));
    };
    if !password {
        return Ok((true, None));
    }
    // the kernel shows a password to CAP_SYS_ADMIN only (EPERM otherwise): unknown then
    let password = match attr(&auth.join("password")) {
        Ok(p) => set(p),
        Err(ExportError::Read { source, .. })
            if source.kind() == std::io::ErrorKind::PermissionDenied =>
        {
            None
        }
        Err(e) => return Err(e),
    };
    Ok((true, password.map(|password| Chap { user, password })))
}

/// Whether the directory at `dir` gives group and others no access (absent: nothing in it to
/// keep from them).
fn private(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(dir) {
        Ok(m) => m.permissions().mode() & 0o077 == 0,
        Err(_) => true,
    }
}

fn read_tpg(root: &Path, dir: &Path, tag: u16) -> Result<Tpg, ExportError> {
    let mut luns = Vec::new();
    for l in subdirs(&dir.join("lun"))? {
        let Some(index) = index_after(&l, "lun_") else {
            continue;
        };
        let ldir = dir.join("lun").join(&l);
        let link = links(&ldir)?.into_iter().next();
        let backstore = link.as_ref().and_then(|a| link_target(root, &ldir.join(a)));
        luns.push(Lun {
            index,
            link,
            backstore,
        });
    }
    let mut acls = Vec::new();
    for initiator in subdirs(&dir.join("acls"))? {
        let adir = dir.join("acls").join(&initiator);
        let mut mapped_luns = Vec::new();
        for m in subdirs(&adir)? {
            let Some(index) = index_after(&m, "lun_") else {
                continue;
            };
            let mdir = adir.join(&m);
            let link = links(&mdir)?.into_iter().next();
            let tpg_lun = link
                .as_ref()
                .and_then(|a| link_target(root, &mdir.join(a)))
                .and_then(|p| {
                    let f = p.file_name()?.to_string_lossy().into_owned();
                    index_after(&f, "lun_")
                });
            mapped_luns.push(MappedLun {
                index,
                link,
                tpg_lun,
            });
        }
        // ember's own ACLs (auth/ root-only) carry the pair its store holds: their passwords
        // stay unread (a read per ACL per pass, and a secret in memory) until one is needed
        let auth_private = private(&adir.join("auth"));
        let (chap_user_set, chap) = read_chap(&adir.join("auth"), !auth_private)?;
        acls.push(Acl {
            chap_user_set,
            chap,
            auth_private,
            initiator,
            mapped_luns,
        });
    }
    Ok(Tpg {
        tag,
        enabled: flag(&dir.join("enable"))?,
        authentication: flag(&dir.join("attrib/authentication"))?,
        generate_node_acls: flag(&dir.join("attrib/generate_node_acls"))?,
        luns,
        portals: subdirs(&dir.join("np"))?,
        acls,
    })
}

#[cfg(test)]
mod tests;
