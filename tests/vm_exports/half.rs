//! What a worker killed in the middle of a change leaves of an export on the kernel's LIO
//! (configfs keeps every step made; the undo of a failed change never ran): a target without
//! its LUN, or its backstore alone. The backstore keeps the LV open (iblock opens it
//! exclusively), so until it goes neither `lvremove` nor a second export can. The next
//! `ember apply` counts them ember's (they open only the volume's device), makes the export
//! whole again with the same serial and credentials when it is declared, and removes them
//! before the volume's deletion.

use std::path::{Path, PathBuf};

use ember::export::chap::ChapStore;
use ember::export::{Step, lio};

use super::common::vm::*;
use super::common::*;
use super::support::*;

const VOLUME: &str = "volume-6b0d8a4c-3e5f-4c9b-8d7f-1a2b3c4d5e6f";

fn declare(s: &Scratch, volume: &str) {
    s.write(
        "desired-state.yaml",
        &format!("backends:\n  lvm-1:\n    volumes:\n      {VOLUME}: {volume}\n"),
    );
}

/// ember's own removal of the target, carried out up to (not including) the first step
/// `stop` says a killed worker never reached.
fn cut_removal(iqn: &str, stop: impl Fn(&Step) -> bool) {
    let root = Path::new(CONFIGFS);
    let steps = lio::remove_steps(iqn, &lio::read(root).unwrap()).unwrap();
    let k = steps
        .iter()
        .position(stop)
        .expect("the step the cut stops at");
    ember::export::apply(root, &steps[..k]).unwrap();
}

fn is_open(vg: &str) -> bool {
    run(
        "lvs",
        &[
            "--noheadings",
            "-o",
            "lv_device_open",
            &format!("{vg}/{VOLUME}"),
        ],
    )
    .trim()
        == "open"
}

#[test]
#[ignore = "VM test: tests/vm/run-tests exports"]
fn vm_what_a_killed_worker_left_of_an_export_is_made_whole_or_removed() {
    prepare_guest();
    let vg = "vg-half";
    create_vg(vg);
    let s = Scratch::new();
    let state = state_dir("half");
    s.write(
        "cinder.conf",
        &format!(
            "[DEFAULT]\nenabled_backends = lvm-1\n[ember]\nstate_dir = {}\n[lvm-1]\nvolume_group = {vg}\nlvm_type = default\nlvm_conf_file = None\ntarget_helper = lioadm\ntarget_ip_address = 127.0.0.1\n",
            state.display()
        ),
    );
    let me = host_name("/etc/iscsi/initiatorname.iscsi", Some("InitiatorName="));
    let iqn = format!("iqn.2010-10.org.openstack:{VOLUME}");
    let exported = format!("{{ size: 64M, export: {{ hosts: [{me}] }} }}");
    declare(&s, &exported);
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    let chap = ChapStore::new(state.clone())
        .load("lvm-1", VOLUME)
        .unwrap()
        .unwrap();
    let serial = serial_of(&iqn);
    assert!(serial.is_some());

    // killed after the LUN's removal: the target is there, without its LUN, and its backstore
    // still holds the LV open
    cut_removal(
        &iqn,
        |st| matches!(st, Step::Rmdir(p) if p.file_name().is_some_and(|n| n == "tpgt_1")),
    );
    let now = lio::read(Path::new(CONFIGFS)).unwrap();
    assert!(now.target(&iqn).unwrap().tpgs[0].luns.is_empty());
    assert!(is_open(vg), "the backstore no longer holds the LV");
    assert!(
        !login(&iqn, &chap.userid, &chap.password),
        "logged in to no LUN"
    );

    // declared exported: removed and made again, the same serial, the same credentials
    let p = s.ember(&["plan"]);
    assert!(
        p.stdout.contains(&format!("- unexport volume {VOLUME}"))
            && p.stdout.contains(&format!("+ export volume {VOLUME}")),
        "{p:?}"
    );
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(serial_of(&iqn), serial);
    assert!(login(&iqn, &chap.userid, &chap.password), "{r:?}");
    let disk = iscsi_disk(&iqn);
    let data = pattern(41, 1 << 20);
    write_through(&disk, &data);
    logout(&iqn);
    let lv_dev = PathBuf::from(format!("/dev/{vg}/{VOLUME}"));
    assert_eq!(sha256(&read_back(&lv_dev, data.len())), sha256(&data));
    assert!(s.ember(&["plan"]).stdout.contains("No changes."));

    // killed after the target's removal: its backstore alone, the LV still held
    declare(&s, "{ size: 64M, export: { hosts: [] } }");
    assert_eq!(s.ember(&["apply"]).code, 0);
    cut_removal(
        &iqn,
        |st| matches!(st, Step::Rmdir(p) if p.starts_with(Path::new(lio::TARGET).join("core"))),
    );
    let now = lio::read(Path::new(CONFIGFS)).unwrap();
    assert!(now.target(&iqn).is_none() && now.backstores.iter().any(|b| b.name == iqn));
    assert!(is_open(vg), "the lone backstore no longer holds the LV");

    // the volume declared absent: the backstore removed first, then the LV deleted
    declare(&s, "{ state: absent }");
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(&format!("- unexport volume {VOLUME}")),
        "{r:?}"
    );
    assert!(lv(vg, VOLUME).is_none(), "{r:?}");
    let now = lio::read(Path::new(CONFIGFS)).unwrap();
    assert!(!now.backstores.iter().any(|b| b.name == iqn), "{now:?}");
}
