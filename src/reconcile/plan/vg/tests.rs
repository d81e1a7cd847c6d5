use std::path::{Path, PathBuf};

use super::*;
use crate::lvm::{Pv, VgInfo};

const GIB: u64 = 1 << 30;

fn dev(path: &str, n: u64, size: u64, found: &[&str]) -> Device {
    Device {
        path: path.into(),
        node: format!("/dev/vd{}", (b'a' + n as u8) as char).into(),
        dev: Some((254, n * 16)),
        size,
        found: found.iter().map(|s| s.to_string()).collect(),
    }
}

fn disks() -> Vec<Device> {
    vec![
        dev("/dev/disk/by-id/blank1", 1, GIB, &[]),
        dev("/dev/disk/by-id/blank2", 2, 2 * GIB, &[]),
        dev(
            "/dev/disk/by-id/ext4",
            3,
            GIB,
            &["holds an ext4 filesystem"],
        ),
        dev(
            "/dev/disk/by-id/gpt",
            4,
            GIB,
            &["holds a gpt partition table"],
        ),
    ]
}

fn prober(all: Vec<Device>) -> impl Fn(&Path) -> Device {
    move |p: &Path| {
        all.iter()
            .find(|d| d.path == p)
            .cloned()
            .unwrap_or_else(|| Device {
                path: p.into(),
                node: p.into(),
                dev: None,
                size: 0,
                found: vec!["cannot be read (No such file or directory)".into()],
            })
    }
}

fn want(paths: &[&str]) -> VgDesired {
    VgDesired {
        devices: paths.iter().map(PathBuf::from).collect(),
    }
}

#[test]
fn a_new_vg_is_made_of_blank_devices_with_a_large_metadata_area() {
    let mut plan = Plan::new("lvm-1", "vg", 0);
    let w = want(&["/dev/disk/by-id/blank1", "/dev/disk/by-id/blank2"]);
    plan_new_vg("vg", &w, &prober(disks()), &mut plan);
    assert!(plan.refused.is_empty());
    assert_eq!(plan.vg_actions.len(), 1);
    let line = plan.vg_actions[0].line();
    assert_eq!(
        line,
        "+ create volume group vg on /dev/disk/by-id/blank1, /dev/disk/by-id/blank2 (3.0 GiB, metadata area 16.0 MiB per device)"
    );
    assert!(plan.has_changes());
}

#[test]
fn one_device_that_is_not_blank_creates_nothing_and_each_is_named() {
    let mut plan = Plan::new("lvm-1", "vg", 0);
    let w = want(&[
        "/dev/disk/by-id/blank1",
        "/dev/disk/by-id/ext4",
        "/dev/disk/by-id/gpt",
        "/dev/disk/by-id/nothing",
    ]);
    plan_new_vg("vg", &w, &prober(disks()), &mut plan);
    assert!(plan.vg_actions.is_empty());
    assert!(!plan.has_changes());
    let lines = crate::reconcile::render::refusal_lines(&plan.refused);
    assert_eq!(
        lines,
        vec![
            "! refused /dev/disk/by-id/ext4: holds an ext4 filesystem",
            "! refused /dev/disk/by-id/gpt: holds a gpt partition table",
            "! refused /dev/disk/by-id/nothing: cannot be read (No such file or directory)",
            "! refused vg: volume group not created: 3 of its 4 devices cannot be used, and nothing is written to any of them (a wrong list is more likely than an intent to use part of it)",
        ]
    );
    assert!(
        plan.refused[..3]
            .iter()
            .all(|r| r.kind == RefusalKind::DeviceInUse)
    );
    assert_eq!(plan.refused[3].kind, RefusalKind::VgNotCreated);
}

#[test]
fn the_same_disk_under_two_paths_is_refused() {
    let mut all = disks();
    let mut again = all[0].clone();
    again.path = "/dev/vdb".into();
    all.push(again);
    let mut plan = Plan::new("lvm-1", "vg", 0);
    plan_new_vg(
        "vg",
        &want(&["/dev/disk/by-id/blank1", "/dev/vdb"]),
        &prober(all),
        &mut plan,
    );
    assert!(plan.vg_actions.is_empty());
    assert!(
        plan.refused[0]
            .reason
            .contains("same device as /dev/disk/by-id/blank1")
    );
}

fn observed(pvs: &[(u64, u64)]) -> Observed {
    let mut o = Observed::absent("vg");
    o.vg = VgInfo {
        name: "vg".into(),
        extent_size: 4 << 20,
        ..VgInfo::default()
    };
    o.pvs = pvs
        .iter()
        .map(|(n, size)| Pv {
            name: format!("/dev/vd{}", (b'a' + *n as u8) as char).into(),
            uuid: format!("pv{n}"),
            dev: Some((254, n * 16)),
            size: Some(*size),
            pe_start: Some(17 << 20),
        })
        .collect();
    o
}

#[test]
fn an_existing_vg_gets_the_blank_devices_added_and_refuses_the_rest() {
    let mut plan = Plan::new("lvm-1", "vg", 0);
    let w = want(&[
        "/dev/disk/by-id/blank1",
        "/dev/disk/by-id/blank2",
        "/dev/disk/by-id/ext4",
    ]);
    // blank1 is the VG's PV already (its label is on it: the probe finds it)
    let mut all = disks();
    all[0].found = vec!["holds an LVM label (a physical volume)".into()];
    plan_existing_vg(
        &w,
        &observed(&[(1, GIB - (17 << 20))]),
        &prober(all),
        &mut plan,
    );
    assert_eq!(
        plan.vg_actions
            .iter()
            .map(VgAction::line)
            .collect::<Vec<_>>(),
        vec![
            "~ extend volume group vg with /dev/disk/by-id/blank2 (+2.0 GiB, metadata area 16.0 MiB per device)"
        ]
    );
    assert_eq!(plan.refused.len(), 1);
    assert_eq!(plan.refused[0].subject, "/dev/disk/by-id/ext4");
    assert!(plan.warnings.is_empty());
}

#[test]
fn a_pv_whose_device_grew_is_resized_and_one_not_listed_stays() {
    let mut plan = Plan::new("lvm-1", "vg", 0);
    let mut all = disks();
    all[0].size = 2 * GIB;
    all[0].found = vec!["holds an LVM label (a physical volume)".into()];
    let o = observed(&[(1, GIB - (17 << 20)), (7, GIB)]);
    plan_existing_vg(
        &want(&["/dev/disk/by-id/blank1"]),
        &o,
        &prober(all),
        &mut plan,
    );
    assert_eq!(
        plan.vg_actions
            .iter()
            .map(VgAction::line)
            .collect::<Vec<_>>(),
        vec![
            "~ resize physical volume /dev/disk/by-id/blank1 1007.0 MiB -> 1.98 GiB (its device grew)"
        ]
    );
    assert_eq!(plan.warnings.len(), 1);
    assert_eq!(plan.warnings[0].kind, WarningKind::PvNotListed);
    assert!(
        plan.warnings[0].message.contains("/dev/vdh"),
        "{:?}",
        plan.warnings
    );
    assert!(plan.refused.is_empty());
}

#[test]
fn a_pv_that_did_not_grow_is_left_alone() {
    let mut plan = Plan::new("lvm-1", "vg", 0);
    let mut all = disks();
    all[0].found = vec!["holds an LVM label (a physical volume)".into()];
    let o = observed(&[(1, GIB - (17 << 20))]);
    plan_existing_vg(
        &want(&["/dev/disk/by-id/blank1"]),
        &o,
        &prober(all),
        &mut plan,
    );
    assert!(!plan.has_changes());
    assert!(plan.refused.is_empty() && plan.warnings.is_empty());
}

#[test]
fn the_metadata_area_fits_small_devices() {
    let d = |size| PlannedDevice {
        path: "/dev/x".into(),
        node: "/dev/x".into(),
        size: Bytes(size),
        dev: None,
    };
    assert_eq!(metadata_area(&[d(GIB)]), Bytes(16 << 20));
    assert_eq!(metadata_area(&[d(GIB), d(64 << 20)]), Bytes(4 << 20));
    assert_eq!(metadata_area(&[d(8 << 20)]), Bytes(1 << 20));
}
