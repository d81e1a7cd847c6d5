//! os-brick, fed with `ember connection`'s JSON as nova-compute feeds it cinder's, attaches an
//! exported volume over loopback (`ISCSIConnector`, `NVMeOFConnector`): data written through
//! the disk it returns is on the LV (checksums), and its detach leaves no session. The export
//! is made with ember's export module (configfs), with the names and the CHAP pair the
//! dictionary is computed from (the pair from the CHAP store, as the pass takes it);
//! `ember connection` runs under the shipped unit's sandbox (tests/vm/sandboxed).

use std::path::{Path, PathBuf};
use std::process::Output;

use ember::config::TargetSettings;
use ember::export::apply;
use ember::export::chap::ChapStore;
use ember::export::connection::{iscsi_target_name, nvme_subsystem_name};
use ember::export::identity::Identity;
use ember::export::lio::{self, IscsiExport};
use ember::export::names::{Iqn, Nqn, Portal};
use ember::export::nvmet::{self, NvmeExport};

use super::common::vm::*;
use super::support::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const LEN: usize = 4 << 20;
const DIR: &str = "/etc/ember-osbrick";
const STATE: &str = "/var/lib/ember";

/// cinder.conf and the desired state of a host with an iSCSI and an NVMe/TCP backend, both on
/// 127.0.0.1, each with a volume exported to one host ((VG, volume, host) each), the CHAP store
/// in the unit's state directory.
fn host_files(iscsi: (&str, &str, &str), nvme: (&str, &str, &str)) -> PathBuf {
    std::fs::create_dir_all(DIR).unwrap();
    let conf = format!(
        "[DEFAULT]\nenabled_backends = lvm-iscsi,lvm-nvme\n\
[lvm-iscsi]\nvolume_group = {}\ntarget_helper = lioadm\ntarget_ip_address = 127.0.0.1\n\
[lvm-nvme]\nvolume_group = {}\ntarget_helper = nvmet\ntarget_protocol = nvmet_tcp\n\
target_ip_address = 127.0.0.1\ntarget_port = 4420\ntarget_prefix = nvme-subsystem-1\n\
nvmeof_conn_info_version = 2\n\
[ember]\nstate_dir = {STATE}\ndesired_state = {DIR}/desired-state.yaml\n",
        iscsi.0, nvme.0
    );
    std::fs::write(format!("{DIR}/cinder.conf"), conf).unwrap();
    let desired = format!(
        "backends:\n  lvm-iscsi:\n    volumes:\n      {}: {{ size: 64M, export: {{ hosts: [{}] }} }}\n  lvm-nvme:\n    volumes:\n      {}: {{ size: 64M, export: {{ hosts: [{}] }} }}\n",
        iscsi.1, iscsi.2, nvme.1, nvme.2
    );
    std::fs::write(format!("{DIR}/desired-state.yaml"), desired).unwrap();
    PathBuf::from(format!("{DIR}/cinder.conf"))
}

/// `ember connection` under the unit's sandbox; its JSON, also kept in a file for os-brick.
/// (`--host`: the host about to connect, as nova would name it.)
fn ember_connection(
    conf: &Path,
    backend: &str,
    volume: &str,
    host: &str,
) -> (serde_json::Value, PathBuf) {
    let out = try_run(
        120,
        &format!("{ROOT}/tests/vm/sandboxed"),
        &[
            env!("CARGO_BIN_EXE_ember"),
            "--config-file",
            &conf.to_string_lossy(),
            "connection",
            "--backend",
            backend,
            volume,
            "--host",
            host,
        ],
    );
    assert!(out.status.success(), "ember connection: {}", shown(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let json: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", shown(&out)));
    let file = PathBuf::from(format!("{ROOT}/target/vm/connection-{backend}.json"));
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, &text).unwrap();
    (json, file)
}

/// Runs tests/vm_exports/osbrick-connect.py with os-brick's venv, as root (privsep's helper
/// through a pass-through `sudo`, as tests/vm_lvm/adopt.rs does).
fn osbrick(args: &[&str]) -> Output {
    let python = format!("{ROOT}/target/vm/osbrick/bin/python3");
    assert!(
        Path::new(&python).exists(),
        "os-brick's venv is missing: tests/vm/run-tests exports runs tests/vm/setup-osbrick first"
    );
    let shim = format!("{ROOT}/target/vm/shim");
    std::fs::create_dir_all(&shim).unwrap();
    std::fs::write(format!("{shim}/sudo"), "#!/bin/sh\nexec \"$@\"\n").unwrap();
    run("chmod", &["755", &format!("{shim}/sudo")]);
    let path = format!(
        "{shim}:{ROOT}/target/vm/osbrick/bin:{}",
        std::env::var("PATH").unwrap_or_default()
    );
    let script = format!("{ROOT}/tests/vm_exports/osbrick-connect.py");
    std::process::Command::new("timeout")
        .arg("240")
        .arg(&python)
        .arg("-u")
        .arg(&script)
        .args(args)
        .env("PATH", path)
        .env("PYTHONWARNINGS", "ignore")
        // os-brick's connect_volume takes an external lock (oslo.concurrency's lock_path)
        .env("OSLO_LOCK_PATH", format!("{ROOT}/target/vm"))
        .env("HOME", "/root")
        .output()
        .unwrap()
}

/// Attaches with os-brick, writes a pattern through the disk it returned, detaches; returns
/// the pattern and the device os-brick gave.
fn attach_write_detach(connection: &Path, seed: u64) -> (Vec<u8>, String) {
    let c = connection.to_string_lossy();
    let out = osbrick(&["connect", &c]);
    assert!(
        out.status.success(),
        "os-brick connect_volume: {}",
        shown(&out)
    );
    let info_text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = info_text.lines().last().unwrap_or("");
    let info: serde_json::Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("device_info ({e}): {info_text}"));
    let dev = info["path"]
        .as_str()
        .expect("a path in device_info")
        .to_string();
    let data = pattern(seed, LEN);
    write_through(Path::new(&dev), &data);
    let info_file = format!("{c}.device");
    std::fs::write(&info_file, line).unwrap();
    let out = osbrick(&["disconnect", &c, &info_file]);
    assert!(
        out.status.success(),
        "os-brick disconnect_volume: {}",
        shown(&out)
    );
    (data, dev)
}

fn loopback(port: u16) -> Portal {
    Portal {
        ip: "127.0.0.1".parse().unwrap(),
        port,
    }
}

#[test]
#[ignore = "VM test: tests/vm/run-tests exports"]
fn vm_osbrick_attaches_over_iscsi_with_ember_connections_dictionary() {
    prepare_guest();
    let (vg, lv) = ("vg-brick-i", "volume-3a1f9c2e-4b5d-4e6f-8a7b-9c0d1e2f3a4b");
    let host = Iqn::parse(&host_name(
        "/etc/iscsi/initiatorname.iscsi",
        Some("InitiatorName="),
    ))
    .unwrap();
    let nqn = host_name("/etc/nvme/hostnqn", None);
    let conf = host_files((vg, lv, host.as_str()), ("vg-brick-n", "unused", &nqn));
    let device = volume(vg, lv, 64);
    // what the pass does: the volume's pair from the store, the target under cinder's name
    let pair = ChapStore::new(STATE.into())
        .get_or_create("lvm-iscsi", lv)
        .unwrap();
    let settings = TargetSettings::default();
    let export = IscsiExport {
        iqn: Iqn::parse(&iscsi_target_name(&settings, lv)).unwrap(),
        device: device.clone(),
        serial: Identity::of(vg, lv).uuid(),
        portals: vec![loopback(3260)],
        chap: Some(lio::Chap {
            user: pair.userid.clone(),
            password: pair.password.clone(),
        }),
        hosts: vec![host.clone()],
    };
    let root = Path::new(CONFIGFS);
    apply(
        root,
        &lio::create_steps(&export, &lio::read(root).unwrap()).unwrap(),
    )
    .unwrap();

    let (json, file) = ember_connection(&conf, "lvm-iscsi", lv, host.as_str());
    assert_eq!(json["driver_volume_type"], "iscsi");
    assert_eq!(json["data"]["target_iqn"], export.iqn.as_str());
    assert_eq!(json["data"]["auth_password"], pair.password.as_str());
    let (data, dev) = attach_write_detach(&file, 40);
    assert!(dev.starts_with("/dev/sd"), "{dev}");
    // detached: no session left, the disk gone
    let o = try_run(30, "iscsiadm", &["-m", "session"]);
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains(export.iqn.as_str()),
        "a session is left: {}",
        shown(&o)
    );
    assert!(!Path::new(&dev).exists(), "{dev} is still there");
    assert_eq!(
        sha256(&read_back(&device, LEN)),
        sha256(&data),
        "the LV does not hold what was written through os-brick's disk"
    );
    let iqn = export.iqn.as_str();
    apply(
        root,
        &lio::remove_steps(iqn, &lio::read(root).unwrap()).unwrap(),
    )
    .unwrap();
    run("lvremove", &["-q", "-y", &format!("{vg}/{lv}")]);
}

#[test]
#[ignore = "VM test: tests/vm/run-tests exports"]
fn vm_osbrick_attaches_over_nvme_tcp_with_ember_connections_dictionary() {
    prepare_guest();
    let (vg, lv) = ("vg-brick-n", "volume-7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928");
    let host = Nqn::parse(&host_name("/etc/nvme/hostnqn", None)).unwrap();
    let iqn = host_name("/etc/iscsi/initiatorname.iscsi", Some("InitiatorName="));
    let conf = host_files(("vg-brick-i", "unused", &iqn), (vg, lv, host.as_str()));
    let device = volume(vg, lv, 64);
    let id = Identity::of(vg, lv);
    let settings = TargetSettings {
        target_prefix: "nvme-subsystem-1".into(),
        ..TargetSettings::default()
    };
    let uuid = lv.trim_start_matches("volume-");
    let export = NvmeExport {
        nqn: Nqn::parse(&nvme_subsystem_name(&settings, uuid)).unwrap(),
        nsid: 10,
        device: device.clone(),
        uuid: id.uuid(),
        serial: id.nvme_serial(),
        ports: vec![(1, loopback(4420))],
        hosts: vec![host.clone()],
    };
    let root = Path::new(CONFIGFS);
    apply(
        root,
        &nvmet::create_steps(&export, &nvmet::read(root).unwrap()).unwrap(),
    )
    .unwrap();

    let (json, file) = ember_connection(&conf, "lvm-nvme", lv, host.as_str());
    assert_eq!(json["driver_volume_type"], "nvmeof");
    assert_eq!(json["data"]["target_nqn"], export.nqn.as_str());
    assert_eq!(json["data"]["vol_uuid"], id.uuid());
    let (data, dev) = attach_write_detach(&file, 41);
    assert!(dev.starts_with("/dev/nvme"), "{dev}");
    assert!(!Path::new(&dev).exists(), "{dev} is still there");
    assert_eq!(
        sha256(&read_back(&device, LEN)),
        sha256(&data),
        "the LV does not hold what was written through os-brick's disk"
    );
    let nqn = export.nqn.as_str();
    apply(
        root,
        &nvmet::remove_steps(nqn, &nvmet::read(root).unwrap()).unwrap(),
    )
    .unwrap();
    run("lvremove", &["-q", "-y", &format!("{vg}/{lv}")]);
}
