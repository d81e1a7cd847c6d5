//! `ember connection` end to end, through the real binary: the dictionary os-brick takes, the
//! CHAP pair it shares with the pass (the store under `[ember] state_dir`), and the refusals.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

use std::os::unix::fs::PermissionsExt;

mod common;
use common::*;

const V1: &str = "volume-8d0b5c52-6b6a-4f5e-9a44-0b9f1c2d3e4f";

fn setup(desired: &str) -> Scratch {
    let s = Scratch::new();
    let conf = format!(
        "[DEFAULT]\nenabled_backends = lvm-1,nvme-1,tgt-1\n\
[lvm-1]\nvolume_group = vg1\ntarget_helper = lioadm\ntarget_ip_address = 10.0.0.5\n\
target_secondary_ip_addresses = 10.0.1.5\n\
[nvme-1]\nvolume_group = vg2\ntarget_helper = nvmet\ntarget_protocol = nvmet_tcp\n\
target_ip_address = 10.0.0.5\ntarget_port = 4420\ntarget_prefix = nvme-subsystem-1\n\
nvmeof_conn_info_version = 2\n\
[tgt-1]\nvolume_group = vg3\ntarget_ip_address = 10.0.0.5\n\
[ember]\nstate_dir = {}\n",
        s.path("state").display()
    );
    s.write("cinder.conf", &conf);
    std::fs::create_dir(s.path("state")).unwrap();
    s.write("desired-state.yaml", desired);
    s
}

const DESIRED: &str = "backends:
  lvm-1:
    volumes:
      volume-8d0b5c52-6b6a-4f5e-9a44-0b9f1c2d3e4f:
        size: 1G
        export: { hosts: [iqn.1993-08.org.debian:01:compute1, iqn.1993-08.org.debian:01:compute2] }
      kept: { size: 1G }
      gone: { state: absent }
  nvme-1:
    volumes:
      volume-8d0b5c52-6b6a-4f5e-9a44-0b9f1c2d3e4f:
        size: 1G
        export: { hosts: [] }
  tgt-1:
    volumes:
      volume-1: { size: 1G }
";

#[test]
fn iscsi_prints_cinders_dictionary_with_the_volumes_one_chap_pair() {
    if !is_root_or_say_so("ember connection (root only)") {
        return;
    }
    let s = setup(DESIRED);
    let r = s.ember(&["connection", "--backend", "lvm-1", V1]);
    assert_eq!(r.code, 0, "{r:?}");
    let j = r.json();
    assert_eq!(j["driver_volume_type"], "iscsi");
    let d = &j["data"];
    let iqn = format!("iqn.2010-10.org.openstack:{V1}");
    assert_eq!(d["target_iqn"], iqn.as_str());
    assert_eq!(d["target_portal"], "10.0.0.5:3260");
    assert_eq!(
        d["target_portals"],
        serde_json::json!(["10.0.0.5:3260", "10.0.1.5:3260"])
    );
    assert_eq!(d["target_iqns"], serde_json::json!([iqn, iqn]));
    assert_eq!(d["target_luns"], serde_json::json!([0, 0]));
    assert_eq!(d["target_lun"], 0);
    assert_eq!(d["target_discovered"], false);
    assert_eq!(d["volume_id"], "8d0b5c52-6b6a-4f5e-9a44-0b9f1c2d3e4f");
    assert_eq!(d["auth_method"], "CHAP");
    let user = d["auth_username"].as_str().unwrap();
    let password = d["auth_password"].as_str().unwrap();
    assert_eq!((user.len(), password.len()), (20, 16));
    // the pair is the store's, kept root-only, and the same at every call (and every host)
    let file = s.path("state").join("chap/lvm-1").join(V1);
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(kept["userid"], user);
    assert_eq!(kept["password"], password);
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let again = s.ember(&[
        "connection",
        "--backend",
        "lvm-1",
        V1,
        "--host",
        "iqn.1993-08.org.debian:01:compute2",
    ]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(again.json(), j);
    // the password is on standard output only
    assert!(!r.stderr.contains(password), "{r:?}");
}

#[test]
fn nvme_prints_the_v2_keys_and_keeps_no_secret() {
    if !is_root_or_say_so("ember connection (root only)") {
        return;
    }
    let s = setup(DESIRED);
    let r = s.ember(&["connection", "--backend", "nvme-1", V1]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.json(),
        serde_json::json!({
            "driver_volume_type": "nvmeof",
            "data": {
                "target_nqn": "nqn.nvme-subsystem-1-8d0b5c52-6b6a-4f5e-9a44-0b9f1c2d3e4f",
                "vol_uuid": "8d0b5c52-6b6a-4f5e-9a44-0b9f1c2d3e4f",
                "portals": [["10.0.0.5", "4420", "tcp"]],
                "ns_id": "10",
                "qos_specs": null,
                "access_mode": "rw",
                "encrypted": false
            }
        })
    );
    assert!(!s.path("state").join("chap").exists());
}

#[test]
fn refusals_print_nothing_on_standard_output() {
    if !is_root_or_say_so("ember connection (root only)") {
        return;
    }
    let s = setup(DESIRED);
    for (args, wanted) in [
        (
            vec!["--backend", "tgt-1", "volume-1"],
            "set target_helper = lioadm",
        ),
        (vec!["--backend", "lvm-1", "volume-2"], "is not declared"),
        (vec!["--backend", "lvm-1", "gone"], "declared absent"),
        (vec!["--backend", "lvm-1", "kept"], "not declared exported"),
        (
            vec![
                "--backend",
                "lvm-1",
                V1,
                "--host",
                "iqn.1993-08.org.debian:01:compute9",
            ],
            "not among volume",
        ),
        (
            vec![
                "--backend",
                "nvme-1",
                V1,
                "--host",
                "nqn.2014-08.org.nvmexpress:uuid:1",
            ],
            "(none)",
        ),
        (vec!["--backend", "lvm-9", V1], "no backend \"lvm-9\""),
        (vec!["--backend", "lvm-1", "../x"], "../x"),
        (
            vec![
                "--backend",
                "lvm-1",
                V1,
                "--host",
                "nqn.2014-08.org.nvmexpress:uuid:1",
            ],
            "initiator's IQN",
        ),
        (
            vec![
                "--backend",
                "nvme-1",
                V1,
                "--host",
                "iqn.1993-08.org.debian:01:c",
            ],
            "host NQN",
        ),
    ] {
        let mut a = vec!["connection"];
        a.extend(args.iter().copied());
        let r = s.ember(&a);
        assert_eq!(r.code, 1, "{args:?}: {r:?}");
        assert!(r.stderr.contains(wanted), "{args:?}: {r:?}");
        assert!(r.stdout.is_empty(), "{args:?}: {r:?}");
    }
    // no secret was made for any of them
    assert!(!s.path("state").join("chap").exists());
    let r = s.ember(&["connection", V1]);
    assert_eq!(r.code, 64, "--backend is required: {r:?}");
}

#[test]
fn a_store_others_can_read_is_refused_not_printed() {
    if !is_root_or_say_so("ember connection (root only)") {
        return;
    }
    let s = setup(DESIRED);
    assert_eq!(s.ember(&["connection", "--backend", "lvm-1", V1]).code, 0);
    let file = s.path("state").join("chap/lvm-1").join(V1);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let r = s.ember(&["connection", "--backend", "lvm-1", V1]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("readable by others"), "{r:?}");
    assert!(r.stdout.is_empty(), "{r:?}");
}

#[test]
fn not_root_is_refused() {
    if !is_root_or_say_so("ember connection run as another user") {
        return;
    }
    let s = setup(DESIRED);
    // the scratch directory must be reachable by nobody for the config file to be read
    std::fs::set_permissions(s.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(ember_bin())
        .arg("--config-file")
        .arg(s.path("cinder.conf"))
        .args(["connection", "--backend", "lvm-1", V1])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("run it as root"), "{stderr}");
    assert!(out.stdout.is_empty());
}
