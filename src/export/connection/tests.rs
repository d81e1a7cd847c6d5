#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use super::*;

/// The dictionaries cinder's own functions return (tests/fixtures/cinder/connection/
/// generate.py ran them, taken unchanged from cinder's source) with the inputs they were given.
const CASES: &str = include_str!("../../../tests/fixtures/cinder/connection/cases.json");

fn settings(conf: &Value) -> TargetSettings {
    let mut t = TargetSettings::default();
    let s = |k: &str| conf.get(k).and_then(Value::as_str).map(str::to_string);
    let n = |k: &str| conf.get(k).and_then(Value::as_i64);
    if let Some(v) = s("target_helper") {
        t.target_helper = v;
    }
    if let Some(v) = s("target_protocol") {
        t.target_protocol = v;
    }
    if let Some(v) = s("target_prefix") {
        t.target_prefix = v;
    }
    if let Some(v) = s("target_ip_address") {
        t.target_ip_address = v;
    }
    if let Some(v) = conf.get("target_secondary_ip_addresses") {
        t.target_secondary_ip_addresses = serde_json::from_value(v.clone()).unwrap();
    }
    if let Some(v) = n("target_port") {
        t.target_port = v as u16;
    }
    if let Some(v) = n("nvmet_ns_id") {
        t.nvmet_ns_id = v;
    }
    if let Some(v) = n("nvmeof_conn_info_version") {
        t.nvmeof_conn_info_version = v as u8;
    }
    if let Some(v) = conf
        .get("report_discard_supported")
        .and_then(Value::as_bool)
    {
        t.report_discard_supported = v;
    }
    t
}

fn vol(name: &str) -> Volume<'_> {
    Volume {
        vg: "cinder-volumes",
        name,
        template: "volume-%s",
    }
}

fn iscsi_settings() -> TargetSettings {
    TargetSettings {
        target_helper: "lioadm".into(),
        target_ip_address: "10.0.0.5".into(),
        ..TargetSettings::default()
    }
}

fn chap() -> Chap {
    Chap {
        userid: "ZzK7yTe3ncUvx9tHPq8a".into(),
        password: "Pw2dQxM9yAbc4Def".into(),
    }
}

#[test]
fn the_same_dictionaries_as_cinder_for_the_same_inputs() {
    let cases: Vec<Value> = serde_json::from_str(CASES).unwrap();
    assert!(cases.len() >= 6);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let t = settings(&case["cinder_conf"]);
        let chap = case["chap"].as_array().map(|c| Chap {
            userid: c[0].as_str().unwrap().into(),
            password: c[1].as_str().unwrap().into(),
        });
        let got = connection(
            &t,
            vol(case["volume"].as_str().unwrap()),
            chap.as_ref(),
            case["multipath"].as_bool().unwrap(),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            serde_json::to_value(&got).unwrap(),
            case["expected"],
            "{name}"
        );
    }
}

#[test]
fn a_volume_cinder_did_not_name_is_its_own_id() {
    let v = vol("data-1");
    assert_eq!(v.id(), "data-1");
    let uuid = "8d0b5c52-6b6a-4f5e-9a44-0b9f1c2d3e4f";
    assert_eq!(vol(&format!("volume-{uuid}")).id(), uuid);
    // cinder's ids are UUIDs: anything else in the template's place is no id
    assert_eq!(vol("volume-1").id(), "volume-1");
    assert_eq!(vol("volume-").id(), "volume-");
    let name = format!("vol_{uuid}_x");
    let custom = Volume {
        vg: "vg",
        name: &name,
        template: "vol_%s_x",
    };
    assert_eq!(custom.id(), uuid);
    let c = connection(&iscsi_settings(), v, Some(&chap()), false).unwrap();
    let j = serde_json::to_value(&c).unwrap();
    assert_eq!(j["data"]["volume_id"], "data-1");
    assert_eq!(j["data"]["target_iqn"], "iqn.2010-10.org.openstack:data-1");
}

#[test]
fn nvme_v2_names_the_namespace_uuid_ember_writes() {
    let t = TargetSettings {
        target_helper: "nvmet".into(),
        target_protocol: "nvmet_tcp".into(),
        target_ip_address: "10.0.0.5".into(),
        target_port: 4420,
        nvmeof_conn_info_version: 2,
        ..TargetSettings::default()
    };
    let c = connection(&t, vol("data-1"), None, false).unwrap();
    let j = serde_json::to_value(&c).unwrap();
    assert_eq!(
        j["data"]["vol_uuid"],
        Identity::of("cinder-volumes", "data-1").uuid()
    );
    assert_eq!(
        j["data"]["target_nqn"],
        "nqn.iqn.2010-10.org.openstack:-data-1"
    );
}

#[test]
fn iscsi_without_chap_is_refused() {
    let e = connection(&iscsi_settings(), vol("volume-1"), None, false).unwrap_err();
    assert_eq!(e, ConnectionError::NoChap("volume-1".into()));
}

#[test]
fn a_helper_ember_does_not_export_through_is_an_error_naming_what_to_set() {
    for (helper, protocol, wanted) in [
        ("tgtadm", "iscsi", "target_helper = lioadm"),
        ("lioadm", "iser", "RDMA"),
        ("nvmet", "nvmet_rdma", "RDMA"),
        ("nvmet", "iscsi", "nvmet_tcp"),
    ] {
        let t = TargetSettings {
            target_helper: helper.into(),
            target_protocol: protocol.into(),
            target_ip_address: "10.0.0.5".into(),
            ..TargetSettings::default()
        };
        let e = connection(&t, vol("volume-1"), Some(&chap()), false).unwrap_err();
        assert!(
            matches!(&e, ConnectionError::Unsupported(m) if m.contains(wanted)),
            "{helper}/{protocol}: {e}"
        );
    }
    let t = TargetSettings {
        target_ip_address: "storage.example.org".into(),
        ..iscsi_settings()
    };
    assert!(connection(&t, vol("volume-1"), Some(&chap()), false).is_err());
}

#[test]
fn debug_hides_the_password() {
    let c = connection(&iscsi_settings(), vol("volume-1"), Some(&chap()), false).unwrap();
    let shown = format!("{c:?}");
    assert!(!shown.contains("Pw2dQxM9yAbc4Def"), "{shown}");
    // and the JSON has it: it is what the initiator logs in with
    let j = serde_json::to_value(&c).unwrap();
    assert_eq!(j["data"]["auth_password"], json!("Pw2dQxM9yAbc4Def"));
}
