use super::*;
use crate::export::configfs::{Step, sim};
use crate::export::lio::steps::{Chap, acl_steps};
use crate::export::names::{Iqn, Portal};

const IQN: &str = "iqn.2010-10.org.openstack:volume-8d0b5c52-1b7c-4c43-9d5e-1f1e2a3b4c5d";
const HOST: &str = "iqn.1993-08.org.debian:01:d9749640318a";

fn export(chap: bool) -> IscsiExport {
    IscsiExport {
        iqn: Iqn::parse(IQN).unwrap(),
        device: "/dev/vg/volume-8d0b5c52-1b7c-4c43-9d5e-1f1e2a3b4c5d".into(),
        serial: "8d0b5c52-1b7c-4c43-9d5e-1f1e2a3b4c5d".into(),
        portals: vec![Portal {
            ip: "127.0.0.1".parse().unwrap(),
            port: 3260,
        }],
        chap: chap.then(|| Chap {
            user: "user20charactersxxxx".into(),
            password: "pw16charactersxx".into(),
        }),
        hosts: vec![Iqn::parse(HOST).unwrap()],
    }
}

fn position(steps: &[Step], f: impl Fn(&Step) -> bool) -> usize {
    steps.iter().position(f).expect("step missing")
}

fn ends(p: &std::path::Path, s: &str) -> bool {
    p.to_string_lossy().ends_with(s)
}

#[test]
fn create_runs_in_the_kernels_order() {
    let steps = create_steps(&export(true), &State::default()).unwrap();
    let enable_bs = position(
        &steps,
        |s| matches!(s, Step::Write(p, _) if ends(p, &format!("{IQN}/enable"))),
    );
    let control = position(
        &steps,
        |s| matches!(s, Step::Write(p, _) if ends(p, "control")),
    );
    let lun_link = position(
        &steps,
        |s| matches!(s, Step::Symlink { link, .. } if ends(link, "tpgt_1/lun/lun_0/ember")),
    );
    let acl_link = position(
        &steps,
        |s| matches!(s, Step::Symlink { link, .. } if link.to_string_lossy().contains("/acls/")),
    );
    let tpg_enable = position(
        &steps,
        |s| matches!(s, Step::Write(p, _) if ends(p, "tpgt_1/enable")),
    );
    let portal = position(
        &steps,
        |s| matches!(s, Step::Mkdir(p) if ends(p, "np/127.0.0.1:3260")),
    );
    assert_eq!(
        steps[0],
        Step::Mkdir("target/iscsi".into()),
        "the fabric first"
    );
    assert!(control < enable_bs && enable_bs < lun_link, "{steps:#?}");
    assert!(lun_link < acl_link && acl_link < tpg_enable && tpg_enable < portal);
    // with the fabric there, no mkdir of it; the first free HBA index is taken
    let state = State {
        iscsi_fabric: true,
        hbas: vec!["iblock_0".into(), "iblock_2".into()],
        ..State::default()
    };
    let steps = create_steps(&export(false), &state).unwrap();
    assert_eq!(steps[0], Step::Mkdir("target/core/iblock_1".into()));
    assert!(
        !steps
            .iter()
            .any(|s| matches!(s, Step::Write(p, _) if ends(p, "userid")))
    );
}

#[test]
fn the_password_is_never_shown() {
    let steps = create_steps(&export(true), &State::default()).unwrap();
    let shown = format!(
        "{steps:?} {}",
        steps
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    );
    assert!(!shown.contains("pw16charactersxx"), "{shown}");
    assert!(shown.contains("(secret)"));
    assert!(!format!("{:?}", export(true)).contains("pw16charactersxx"));
}

#[test]
fn an_acls_auth_directory_is_made_root_only_before_its_password_is_written() {
    let steps = create_steps(&export(true), &State::default()).unwrap();
    let root_only = position(
        &steps,
        |s| matches!(s, Step::RootOnly(p) if ends(p, "auth")),
    );
    let password = position(
        &steps,
        |s| matches!(s, Step::Write(p, _) if ends(p, "auth/password")),
    );
    assert!(root_only < password, "{steps:?}");
    // and in the model: the directory is 0700 once written
    let d = tempfile::tempdir().unwrap();
    sim::apply(d.path(), &steps).unwrap();
    let acl_auth = steps
        .iter()
        .find_map(|s| match s {
            Step::RootOnly(p) => Some(d.path().join(p)),
            _ => None,
        })
        .unwrap();
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(acl_auth).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o700);
}

#[test]
fn bad_values_and_existing_targets_are_refused() {
    let mut e = export(true);
    e.device = "/dev/vg/a,b".into();
    assert!(create_steps(&e, &State::default()).is_err());
    let mut e = export(true);
    e.chap.as_mut().unwrap().password = "two words".into();
    assert!(create_steps(&e, &State::default()).is_err());
    let state = State {
        targets: vec![Target {
            iqn: IQN.into(),
            tpgs: vec![],
        }],
        ..State::default()
    };
    assert!(create_steps(&export(true), &state).is_err());
}

#[test]
fn what_is_made_reads_back_and_is_removed_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("target/core")).unwrap();
    sim::apply(
        root,
        &create_steps(&export(true), &read(root).unwrap()).unwrap(),
    )
    .unwrap();
    let state = read(root).unwrap();
    assert!(state.iscsi_fabric);
    assert_eq!(state.backstores.len(), 1);
    let bs = &state.backstores[0];
    assert_eq!((bs.hba.as_str(), bs.name.as_str()), ("iblock_0", IQN));
    assert_eq!(bs.enabled, Some(true));
    assert_eq!(
        bs.serial.as_deref(),
        Some("8d0b5c52-1b7c-4c43-9d5e-1f1e2a3b4c5d")
    );
    let t = state.target(IQN).unwrap();
    let tpg = &t.tpgs[0];
    assert_eq!(
        (tpg.tag, tpg.enabled, tpg.authentication),
        (1, Some(true), Some(true))
    );
    assert_eq!(tpg.luns[0].backstore.as_deref(), Some(bs.path().as_path()));
    assert_eq!(tpg.portals, ["127.0.0.1:3260"]);
    assert_eq!(tpg.acls[0].initiator, HOST);
    assert!(tpg.acls[0].chap_user_set);
    assert_eq!(tpg.acls[0].mapped_luns[0].tpg_lun, Some(0));
    // another host attached later
    let other = Iqn::parse("iqn.1993-08.org.debian:01:other").unwrap();
    sim::apply(root, &acl_steps(&export(true).iqn, &other, None)).unwrap();
    assert_eq!(
        read(root).unwrap().target(IQN).unwrap().tpgs[0].acls.len(),
        2
    );
    // removal, planned from what is there, passes configfs's checks and leaves nothing
    let steps = remove_steps(IQN, &read(root).unwrap()).unwrap();
    sim::apply(root, &steps).unwrap();
    let after = read(root).unwrap();
    assert!(after.targets.is_empty() && after.backstores.is_empty() && after.hbas.is_empty());
}

#[test]
fn removal_keeps_a_backstore_another_target_uses() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    sim::apply(
        root,
        &create_steps(&export(false), &State::default()).unwrap(),
    )
    .unwrap();
    // another tool's target on the same backstore
    let bs = read(root).unwrap().backstores[0].path();
    let other = "target/iscsi/iqn.2003-01.org.example:other/tpgt_1/lun/lun_0";
    sim::apply(
        root,
        &[
            Step::Mkdir(other.into()),
            Step::Symlink {
                link: format!("{other}/x").into(),
                target: bs.clone(),
            },
        ],
    )
    .unwrap();
    let steps = remove_steps(IQN, &read(root).unwrap()).unwrap();
    assert!(!steps.contains(&Step::Rmdir(bs)), "{steps:#?}");
    sim::apply(root, &steps).unwrap();
    assert_eq!(read(root).unwrap().backstores.len(), 1);
}

#[test]
fn the_sim_refuses_what_configfs_refuses() {
    // the checks above mean something: a wrong order fails in the sim
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    sim::apply(
        root,
        &create_steps(&export(false), &State::default()).unwrap(),
    )
    .unwrap();
    let mut steps = remove_steps(IQN, &read(root).unwrap()).unwrap();
    steps.reverse();
    assert!(sim::apply(root, &steps).is_err());
}

#[test]
fn the_device_is_read_from_info_when_udev_path_is_empty() {
    let info = "Status: ACTIVATED  Max Queue Depth: 128  SectorSize: 512  HwMaxSectors: 255\n        iBlock device: dm-3  UDEV PATH: /dev/vg/lv  readonly: 0\n";
    assert_eq!(
        super::info_path(info, "UDEV PATH:").as_deref(),
        Some("/dev/vg/lv")
    );
    assert_eq!(
        super::info_path("UDEV PATH:   readonly: 0", "UDEV PATH:"),
        None
    );
    let fileio = "Status: ACTIVATED  Max Queue Depth: 128  SectorSize: 512  HwMaxSectors: 16384\n        TCM FILEIO ID: 0        File: /dev/mapper/vg-lv  Size: 8388608  Mode: O_DSYNC Async: 0\n";
    assert_eq!(
        super::info_path(fileio, "File:").as_deref(),
        Some("/dev/mapper/vg-lv")
    );
}

#[test]
fn an_acls_chap_pair_is_read_as_a_secret_and_its_auth_mode_seen() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    sim::apply(
        root,
        &create_steps(&export(true), &read(root).unwrap()).unwrap(),
    )
    .unwrap();
    let state = read(root).unwrap();
    let acl = &state.targets[0].tpgs[0].acls[0];
    // ember's: auth/ root-only; its password left unread by a pass's read
    assert!(acl.auth_private && acl.chap_user_set && acl.chap.is_none());
    // ... and read where a pair is needed: the pair as written
    let t = super::with_passwords(root, &state.targets[0]).unwrap();
    let acl = &t.tpgs[0].acls[0];
    let c = acl.chap.as_ref().unwrap();
    assert_eq!(
        (c.user.as_str(), c.password.as_str()),
        ("user20charactersxxxx", "pw16charactersxx")
    );
    assert!(!format!("{acl:?}").contains("pw16charactersxx"));
    // as configfs makes it for rtslib (0755): seen open; `NULL` (rtslib's clear) is no pair
    let auth = root
        .join(TARGET)
        .join("iscsi")
        .join(IQN)
        .join("tpgt_1/acls")
        .join(HOST)
        .join("auth");
    std::fs::set_permissions(&auth, std::fs::Permissions::from_mode(0o755)).unwrap();
    // another tool's ACL: its pair read with the rest (an adoption's plan compares them)
    let acl = &read(root).unwrap().targets[0].tpgs[0].acls[0];
    assert!(!acl.auth_private && acl.chap.is_some());
    std::fs::write(auth.join("password"), "NULL\n").unwrap();
    let acl = &read(root).unwrap().targets[0].tpgs[0].acls[0];
    assert!(!acl.auth_private && acl.chap_user_set && acl.chap.is_none());
}
