//! Against JSON captured from real lvm 2.03.16 in the VM (tests/vm/capture-lvm-fixtures.sh).
use super::*;

fn fixture(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lvm")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn empty_vg() {
    let o = parse_fullreport(&fixture("empty-vg.json"), "vgfix").unwrap();
    assert_eq!(o.vg.extent_size, 4 << 20);
    assert!(o.vg.size > 0 && o.vg.free == o.vg.size);
    assert!(o.lvs.is_empty());
}

#[test]
fn mixed_vg_kinds_tags_and_usage() {
    let o = parse_fullreport(&fixture("mixed.json"), "vgfix").unwrap();
    let pool = o.lv("vgfix-pool").unwrap();
    assert_eq!(pool.kind, LvKind::ThinPool);
    assert_eq!(pool.size, 512 << 20);
    assert!(pool.metadata_percent.unwrap() > 0.0);
    let v1 = o.lv("volume-0001").unwrap();
    assert_eq!(
        (v1.kind, v1.size, v1.pool.as_deref()),
        (LvKind::Thin, 1 << 30, Some("vgfix-pool"))
    );
    assert!(v1.is_owned());
    assert_eq!(v1.uuid.as_str(), "RDozxe-3h3v-1l1U-T7Yn-pCAP-LbSW-8CR6R0");
    let v2 = o.lv("volume-0002").unwrap();
    assert_eq!(v2.tags, ["ember-managed", "other:tag"]);
    assert!(v2.data_percent.unwrap() > 0.0, "20 MiB written");
    assert!(!o.lv("foreign-thin").unwrap().is_owned());
    let thick = o.lv("thick-1").unwrap();
    assert_eq!(
        (thick.kind, thick.size, thick.pool.as_deref()),
        (LvKind::Linear, 12 << 20, None)
    );
    assert!(thick.is_owned());
    // a linear LV with a COW snapshot is still a linear volume; the snapshot a kind of its own
    // (src/lvm/kind.rs)
    assert_eq!(o.lv("legacy").unwrap().kind, LvKind::Linear);
    assert_eq!(o.lv("legacy-snap").unwrap().kind, LvKind::CowSnapshot);
}

#[test]
fn full_pool_reports_100_percent() {
    let o = parse_fullreport(&fixture("full-pool.json"), "vgfix").unwrap();
    assert_eq!(o.lv("fullpool").unwrap().data_percent, Some(100.0));
}

#[test]
fn vg_not_found_is_exit_5_with_this_message() {
    // LvmCli::observe turns exactly this into Ok(None)
    assert_eq!(fixture("vg-not-found.exit").trim(), "5");
    assert!(fixture("vg-not-found.stderr").contains("Volume group \"nosuchvg\" not found"));
    assert!(parse_fullreport(&fixture("vg-not-found.stdout"), "nosuchvg").is_err());
}

#[test]
fn unexpected_json_is_an_error_not_a_panic() {
    for bad in [
        "",
        "{",
        "[]",
        "{\"report\": 5}",
        "{\"report\": [{\"vg\": [{\"vg_name\": \"v\"}]}]}",
        "{\"report\": [{\"vg\": [{\"vg_name\": \"v\", \"vg_size\": \"x\", \"vg_free\": \"1\", \"vg_extent_size\": \"1\"}]}]}",
        "{\"report\": [{\"vg\": [{\"vg_name\": \"v\", \"vg_size\": \"1\", \"vg_free\": \"1\", \"vg_extent_size\": \"0\"}]}]}",
    ] {
        assert!(parse_fullreport(bad, "v").is_err(), "{bad}");
    }
}

#[test]
fn inactive_volumes_are_seen_as_inactive() {
    let o = parse_fullreport(&fixture("some-inactive.json"), "vgfix").unwrap();
    for (name, active) in [
        ("volume-0001", true),
        ("volume-0002", false),
        ("thick-1", false),
        ("vgfix-pool", true),
    ] {
        assert_eq!(o.lv(name).unwrap().active, active, "{name}");
    }
    let mixed = parse_fullreport(&fixture("mixed.json"), "vgfix").unwrap();
    assert!(
        mixed.lvs.iter().all(|l| l.active),
        "everything active there"
    );
}

#[test]
fn an_lvs_uuid_and_device_number_and_none_without_a_device() {
    let lv = |name: &str, attr: &str, major: &str, minor: &str| {
        format!(
            r#"{{"lv_name":"{name}","lv_attr":"{attr}","lv_size":"8388608","lv_uuid":"Ab12Cd-ef34-GH56-ij78-KL90-mn12-Op34Qr","lv_kernel_major":"{major}","lv_kernel_minor":"{minor}"}}"#
        )
    };
    let json = format!(
        r#"{{"report":[{{"vg":[{{"vg_name":"vg","vg_size":"1073741824","vg_free":"0","vg_extent_size":"4194304"}}],"lv":[{},{}]}}]}}"#,
        lv("on", "-wi-a-----", "253", "7"),
        lv("off", "-wi-------", "-1", "-1")
    );
    let o = parse_fullreport(&json, "vg").unwrap();
    let on = o.lv("on").unwrap();
    assert_eq!(on.uuid.as_str(), "Ab12Cd-ef34-GH56-ij78-KL90-mn12-Op34Qr");
    assert_eq!(on.device, Some((253, 7)));
    assert_eq!(o.lv("off").unwrap().device, None);
    // what lvm does not print (a capture without the device's fields) is none; an LV without
    // its uuid is no LV to plan from at all (an_lv_without_a_uuid_lvm_could_print_is_an_error)
    let o = parse_fullreport(&fixture("mixed.json"), "vgfix").unwrap();
    let thick = o.lv("thick-1").unwrap();
    assert_eq!(
        (thick.uuid.as_str(), thick.device),
        ("QnHlb4-oeBr-eymK-G6Xi-SQQ1-qQN3-nFDcqz", None)
    );
}

#[test]
fn each_pv_with_its_uuid_and_device_number_and_a_missing_one_without() {
    let json = r#"{"report": [{
        "vg": [{"vg_name": "vg", "vg_size": "8585740288", "vg_free": "8585740288", "vg_extent_size": "4194304"}],
        "pv": [
            {"pv_name": "/dev/vdb", "pv_uuid": "fE1uP3-Yq9d-Kc0Z-lWmN-4oR7-sT2v-X5yA8b", "pv_major": "254", "pv_minor": "16"},
            {"pv_name": "[unknown]", "pv_uuid": "aaaaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaaaa", "pv_major": "0", "pv_minor": "0"},
            {"pv_name": "/dev/vdc", "pv_uuid": "bbbbbb-bbbb-bbbb-bbbb-bbbb-bbbb-bbbbbb", "pv_major": "-1", "pv_minor": "-1"},
            {"pv_name": "/dev/vdd"}
        ],
        "lv": [], "pvseg": [], "seg": []
    }]}"#;
    let o = parse_fullreport(json, "vg").unwrap();
    type Row = (String, String, Option<(u64, u64)>);
    let got: Vec<Row> = o
        .pvs
        .iter()
        .map(|p| (p.name.display().to_string(), p.uuid.clone(), p.dev))
        .collect();
    assert_eq!(
        got,
        [
            (
                "/dev/vdb".into(),
                "fE1uP3-Yq9d-Kc0Z-lWmN-4oR7-sT2v-X5yA8b".into(),
                Some((254, 16))
            ),
            (
                "[unknown]".into(),
                "aaaaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaaaa".into(),
                None
            ),
            (
                "/dev/vdc".into(),
                "bbbbbb-bbbb-bbbb-bbbb-bbbb-bbbb-bbbbbb".into(),
                None
            ),
            ("/dev/vdd".into(), String::new(), None),
        ]
    );
}

#[test]
fn an_lv_without_a_uuid_lvm_could_print_is_an_error() {
    // every write to an LV is bound to its UUID: a report without one cannot be planned from
    let text = fixture("mixed.json");
    let no_uuid = text.replace(
        "\"lv_uuid\":\"RDozxe-3h3v-1l1U-T7Yn-pCAP-LbSW-8CR6R0\", ",
        "",
    );
    assert_ne!(no_uuid, text);
    let e = parse_fullreport(&no_uuid, "vgfix").unwrap_err();
    assert!(e.to_string().contains("lv_uuid"), "{e}");
    let bad = text.replace("RDozxe-3h3v-1l1U-T7Yn-pCAP-LbSW-8CR6R0", "RDozxe,lv_name=x");
    assert!(parse_fullreport(&bad, "vgfix").is_err());
}

#[test]
fn vg_names_as_vgs_reports_them_sorted() {
    let json = r#"{
      "report": [
          {
              "vg": [
                  {"vg_name":"vg-b"},
                  {"vg_name":"cinder-volumes"}
              ]
          }
      ]
  }"#;
    assert_eq!(parse_vg_names(json).unwrap(), ["cinder-volumes", "vg-b"]);
    assert_eq!(
        parse_vg_names(r#"{"report": [{"vg": []}]}"#).unwrap(),
        Vec::<String>::new()
    );
    assert!(parse_vg_names("garbage").is_err());
}
