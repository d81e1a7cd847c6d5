//! A target made in the configfs model the way cinder's lioadm makes one: `cinder-rtstool
//! create` then `add-initiator` per host (cinder:cinder/cmd/rtstool.py through rtslib-fb):
//! a block backstore named as the target in the first free `iblock_<n>`, with rtslib's random
//! serial; TPG 1 with `authentication` 1; LUN 0 linked under a random name; an ACL per host with
//! the volume's one CHAP pair and LUN 0 mapped; `enable`; a portal per address. configfs makes
//! every ACL's `auth/` 0755 (rtslib changes no mode).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::export::configfs::sim;
use crate::export::{Step, Value};

/// cinder's export of `device` as `iqn` at `127.0.0.1:3260`, to `hosts`, each ACL with the
/// pair given for it.
pub fn cinder_export(root: &Path, iqn: &str, device: &str, hosts: &[(&str, &str, &str)]) {
    let p = |s: &str| Value::Plain(s.into());
    let hba = (0..)
        .map(|n| PathBuf::from(format!("target/core/iblock_{n}")))
        .find(|h| !root.join(h).exists())
        .unwrap_or_default();
    let bs = hba.join(iqn);
    let tpg = PathBuf::from("target/iscsi").join(iqn).join("tpgt_1");
    let mut steps = vec![
        Step::Mkdir(bs.clone()),
        Step::Write(bs.join("control"), p(&format!("udev_path={device}"))),
        Step::Write(bs.join("udev_path"), p(device)),
        Step::Write(bs.join("enable"), p("1")),
        Step::Write(
            bs.join("wwn/vpd_unit_serial"),
            p("T10 VPD Unit Serial Number: 9f0c2d4e-rtslib-random"),
        ),
        Step::Mkdir(tpg.clone()),
        Step::Write(tpg.join("attrib/authentication"), p("1")),
        Step::Mkdir(tpg.join("lun/lun_0")),
        Step::Symlink {
            link: tpg.join("lun/lun_0/3b1f0e2a7c"),
            target: bs,
        },
    ];
    for (host, user, password) in hosts {
        let acl = tpg.join("acls").join(host);
        steps.extend([
            Step::Mkdir(acl.clone()),
            Step::Write(acl.join("auth/userid"), p(user)),
            Step::Write(acl.join("auth/password"), Value::Secret((*password).into())),
            Step::Mkdir(acl.join("lun_0")),
            Step::Symlink {
                link: acl.join("lun_0/5d9e8c7b6a"),
                target: tpg.join("lun/lun_0"),
            },
        ]);
    }
    steps.extend([
        Step::Write(tpg.join("enable"), p("1")),
        Step::Mkdir(tpg.join("np/127.0.0.1:3260")),
    ]);
    sim::apply(root, &steps).unwrap();
    for (host, _, _) in hosts {
        let auth = root.join(&tpg).join("acls").join(host).join("auth");
        std::fs::set_permissions(auth, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// The mode of an ACL's `auth/` in the model.
pub fn auth_mode(root: &Path, iqn: &str, host: &str) -> u32 {
    let auth = root
        .join("target/iscsi")
        .join(iqn)
        .join("tpgt_1/acls")
        .join(host)
        .join("auth");
    std::fs::metadata(auth).unwrap().permissions().mode() & 0o777
}

/// The NGUID cinder's nvmet helper gave the namespace (a random UUID per export).
pub const CINDER_NGUID: &str = "6b1d7f0e-3c2a-4e9b-8d5f-a0b1c2d3e4f5";
/// The serial the kernel gave the subsystem (random; cinder sets none).
pub const CINDER_SERIAL: &str = "8e3a1f2b9c4d5e60";

/// A subsystem made in the configfs model as cinder's nvmet helper makes one through nvmetcli's
/// module (cinder:cinder/volume/targets/nvmet.py; nvmetcli nvmet/nvme.py `Subsystem.setup`):
/// the subsystem, its namespaces (`nvmet_ns_id` 10 on, then `device_path`, `device_uuid` =
/// the volume's id, a random `device_nguid`, `enable`), then `attr_allow_any_host` 1; then
/// port 1 (`tcp`, `ipv4`, 127.0.0.1:4420) and the subsystem linked into it. `devices`: one
/// namespace per device (several: cinder's shared-target mode).
pub fn cinder_nvmet(root: &Path, nqn: &str, devices: &[&str], uuid: &str) {
    let p = |s: &str| Value::Plain(s.into());
    let sub = PathBuf::from("nvmet/subsystems").join(nqn);
    let mut steps = vec![
        Step::Mkdir(sub.clone()),
        Step::Write(sub.join("attr_serial"), p(CINDER_SERIAL)),
    ];
    for (i, device) in devices.iter().enumerate() {
        let ns = sub.join("namespaces").join((10 + i).to_string());
        steps.extend([
            Step::Mkdir(ns.clone()),
            Step::Write(ns.join("device_path"), p(device)),
            Step::Write(ns.join("device_uuid"), p(uuid)),
            Step::Write(ns.join("device_nguid"), p(CINDER_NGUID)),
            Step::Write(ns.join("enable"), p("1")),
        ]);
    }
    steps.push(Step::Write(sub.join("attr_allow_any_host"), p("1")));
    let port = PathBuf::from("nvmet/ports/1");
    if !root.join(&port).exists() {
        steps.extend([
            Step::Mkdir(port.clone()),
            Step::Write(port.join("addr_trtype"), p("tcp")),
            Step::Write(port.join("addr_adrfam"), p("ipv4")),
            Step::Write(port.join("addr_traddr"), p("127.0.0.1")),
            Step::Write(port.join("addr_trsvcid"), p("4420")),
        ]);
    }
    steps.push(Step::Symlink {
        link: port.join("subsystems").join(nqn),
        target: sub,
    });
    sim::apply(root, &steps).unwrap();
}
