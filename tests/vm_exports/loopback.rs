//! One LV exported by ember's export module (configfs written directly, no Python tool), an
//! initiator on the same guest logging in over 127.0.0.1, a pattern written through the
//! initiator's disk and found on the LV; then the export removed in the kernel's order, after
//! which LVM can remove the LV (LIO and nvmet hold it open while exported).

use std::path::Path;

use ember::export::apply;
use ember::export::identity::Identity;
use ember::export::lio::{self, Chap, IscsiExport};
use ember::export::names::{Iqn, Nqn, Portal};
use ember::export::nvmet::{self, NvmeExport};

use super::common::vm::*;
use super::support::*;

const VOLUME: &str = "volume-8d0b5c52-1b7c-4c43-9d5e-1f1e2a3b4c5d";
const LEN: usize = 4 << 20;

fn loopback(port: u16) -> Portal {
    Portal {
        ip: "127.0.0.1".parse().unwrap(),
        port,
    }
}

fn set_node(iqn: &str, name: &str, value: &str) {
    let o = iscsiadm(iqn, &["-o", "update", "-n", name, "-v", value]);
    assert!(o.status.success(), "iscsiadm update {name}: {}", shown(&o));
}

/// What the kernel shows after `export` was made: the target, TPG 1 enabled with CHAP
/// required, the portal, the one ACL, LUN 0 on the LV with the derived serial.
fn assert_lio_has(export: &IscsiExport, host: &Iqn) {
    let state = lio::read(Path::new(CONFIGFS)).unwrap();
    let tpg = &state.target(export.iqn.as_str()).expect("target made").tpgs[0];
    assert_eq!(
        (tpg.tag, tpg.enabled, tpg.authentication),
        (1, Some(true), Some(true))
    );
    assert_eq!(tpg.portals, ["127.0.0.1:3260"]);
    assert_eq!(tpg.acls.len(), 1);
    assert_eq!(tpg.acls[0].initiator, host.as_str());
    assert!(tpg.acls[0].chap_user_set);
    let bs = state
        .backstore_at(tpg.luns[0].backstore.as_deref().unwrap())
        .unwrap();
    assert_eq!(bs.device.as_deref(), export.device.to_str());
    assert_eq!(bs.serial.as_deref(), Some(export.serial.as_str()));
}

#[test]
#[ignore = "VM test: tests/vm/run-tests exports"]
fn vm_an_lv_exported_over_iscsi_takes_writes_through_the_initiator() {
    prepare_guest();
    let (vg, lv) = ("vg-iscsi", VOLUME);
    let device = volume(vg, lv, 64);
    let host = Iqn::parse(&host_name(
        "/etc/iscsi/initiatorname.iscsi",
        Some("InitiatorName="),
    ))
    .unwrap();
    let id = Identity::of(vg, lv);
    let export = IscsiExport {
        iqn: Iqn::parse(&format!("iqn.2010-10.org.openstack:{lv}")).unwrap(),
        device: device.clone(),
        serial: id.uuid(),
        portals: vec![loopback(3260)],
        chap: Some(Chap {
            user: "ember4Tq8s2LmNb7Xc9Zp".into(),
            password: "Hk3mWq9Rt5Yv2Bn8".into(),
        }),
        hosts: vec![host.clone()],
    };
    let root = Path::new(CONFIGFS);
    let steps = lio::create_steps(&export, &lio::read(root).unwrap()).unwrap();
    apply(root, &steps).unwrap();
    let iqn = export.iqn.as_str();
    assert_lio_has(&export, &host);
    // an initiator without CHAP is refused
    let o = iscsiadm(iqn, &["-o", "new"]);
    assert!(o.status.success(), "iscsiadm new: {}", shown(&o));
    let o = iscsiadm(iqn, &["--login"]);
    assert!(
        !o.status.success(),
        "a login without CHAP succeeded: {}",
        shown(&o)
    );
    // with the volume's credentials, as os-brick sets them from the connection info
    set_node(iqn, "node.session.auth.authmethod", "CHAP");
    set_node(iqn, "node.session.auth.username", "ember4Tq8s2LmNb7Xc9Zp");
    set_node(iqn, "node.session.auth.password", "Hk3mWq9Rt5Yv2Bn8");
    let o = iscsiadm(iqn, &["--login"]);
    assert!(o.status.success(), "login: {}", shown(&o));
    let disk = iscsi_disk(iqn);
    // the LUN's serial is the volume's, as derived (the initiator's VPD page 0x80)
    let name = disk.file_name().unwrap().to_string_lossy().into_owned();
    let vpd = std::fs::read(format!("/sys/block/{name}/device/vpd_pg80")).unwrap_or_default();
    assert!(
        String::from_utf8_lossy(&vpd).contains(&id.uuid()),
        "unit serial {vpd:?} is not {}",
        id.uuid()
    );
    let data = pattern(30, LEN);
    write_through(&disk, &data);
    let o = iscsiadm(iqn, &["--logout"]);
    assert!(o.status.success(), "logout: {}", shown(&o));
    iscsiadm(iqn, &["-o", "delete"]);
    assert_eq!(
        sha256(&read_back(&device, LEN)),
        sha256(&data),
        "the LV does not hold what the initiator wrote"
    );

    // removed in the kernel's order, from what is there; the LV is free again
    let steps = lio::remove_steps(iqn, &lio::read(root).unwrap()).unwrap();
    apply(root, &steps).unwrap();
    let state = lio::read(root).unwrap();
    assert!(state.target(iqn).is_none() && !state.backstores.iter().any(|b| b.name == iqn));
    run("lvremove", &["-q", "-y", &format!("{vg}/{lv}")]);
}

#[test]
#[ignore = "VM test: tests/vm/run-tests exports"]
fn vm_an_lv_exported_over_nvme_tcp_takes_writes_through_the_initiator() {
    prepare_guest();
    let (vg, lv) = ("vg-nvme", VOLUME);
    let device = volume(vg, lv, 64);
    let host = Nqn::parse(&host_name("/etc/nvme/hostnqn", None)).unwrap();
    let id = Identity::of(vg, lv);
    let export = NvmeExport {
        nqn: Nqn::parse(&format!("nqn.nvme-subsystem-1-{}", id.uuid())).unwrap(),
        nsid: 10,
        device: device.clone(),
        uuid: id.uuid(),
        serial: id.nvme_serial(),
        ports: vec![(1, loopback(4420))],
        hosts: vec![host.clone()],
    };
    let root = Path::new(CONFIGFS);
    let steps = nvmet::create_steps(&export, &nvmet::read(root).unwrap()).unwrap();
    apply(root, &steps).unwrap();
    let nqn = export.nqn.as_str();
    let state = nvmet::read(root).unwrap();
    let sub = state.subsystem(nqn).expect("subsystem made");
    assert_eq!(sub.allow_any_host, Some(false));
    assert_eq!(sub.allowed_hosts, [host.as_str()]);
    assert_eq!(sub.namespaces[0].enabled, Some(true));
    assert_eq!(state.port(1).unwrap().subsystems, [nqn]);

    // a host not listed is refused (cinder's helper lets any host in)
    assert!(
        !nvme_connect(
            nqn,
            "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001"
        ),
        "a host not allowed connected"
    );
    assert!(nvme_connect(nqn, host.as_str()), "nvme connect");
    let disk = nvme_disk(&id.uuid());
    let data = pattern(31, LEN);
    write_through(&disk, &data);
    let o = try_run(60, "nvme", &["disconnect", "-n", nqn]);
    assert!(o.status.success(), "nvme disconnect: {}", shown(&o));
    assert_eq!(
        sha256(&read_back(&device, LEN)),
        sha256(&data),
        "the LV does not hold what the initiator wrote"
    );

    let steps = nvmet::remove_steps(nqn, &nvmet::read(root).unwrap()).unwrap();
    apply(root, &steps).unwrap();
    assert!(nvmet::read(root).unwrap().subsystem(nqn).is_none());
    run("lvremove", &["-q", "-y", &format!("{vg}/{lv}")]);
}
