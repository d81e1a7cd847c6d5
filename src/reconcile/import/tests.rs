use super::*;
use crate::config::LvmType;
use crate::lvm::{LvKind, VgInfo};

const G: u64 = 1 << 30;
const M: u64 = 1 << 20;

fn lv(name: &str, kind: LvKind, size: u64) -> LvInfo {
    crate::testkit::lv(name, kind, size, None)
}

#[test]
fn sizes_are_written_in_the_largest_exact_unit() {
    assert_eq!(size_text(10 * G), "10G");
    assert_eq!(size_text(516 * M), "516M");
    assert_eq!(size_text(G + 1), "1073741825B");
    assert_eq!(size_text(1 << 40), "1T");
}

#[test]
fn templates_match_as_cinder_makes_names() {
    assert!(matches_template("volume-%s", "volume-8d0b5c52-1111"));
    assert!(!matches_template("volume-%s", "volume-"));
    assert!(!matches_template("volume-%s", "_snapshot-8d0b"));
    assert!(matches_template("vol_%s_x", "vol_1_x"));
}

#[test]
fn a_cinder_host_becomes_adoptions_and_comments() {
    let cfg = crate::testkit::backend("lvm-1", LvmType::Thin);
    let mut snap = lv("_snapshot-s1", LvKind::Thin, 10 * G);
    snap.origin = Some("volume-a".into());
    let orphan = lv("_snapshot-s0", LvKind::Thin, G);
    let mut elsewhere = lv("volume-c", LvKind::Thin, G);
    elsewhere.pool = Some("other-pool".into());
    let o = Observed {
        pvs: vec![],
        vg: VgInfo {
            name: "vg".into(),
            ..Default::default()
        },
        lvs: vec![
            lv("vg-pool", LvKind::ThinPool, 100 * G),
            lv("volume-a", LvKind::Thin, 10 * G),
            lv("volume-b", LvKind::Thin, 20 * G),
            snap,
            orphan,
            elsewhere,
            lv("scratch", LvKind::Thin, G),
            lv("volume-lin", LvKind::Linear, G),
            crate::testkit::lv("mine", LvKind::Thin, 3 * G, Some("lvm-1")),
            crate::testkit::lv("theirs", LvKind::Thin, 3 * G, Some("lvm-2")),
        ],
    };
    let doc = document(
        "volume-%s",
        &[(&cfg, Source::Observed(&o, Exports::NotRead))],
        "made by a test",
    );
    let want = "# made by a test
backends:
  \"lvm-1\":
    # volume group vg: 10 LV(s), 5 declared below
    adopt: true
    volumes:
      \"mine\": { size: 3G }
      \"volume-a\": { size: 10G }
      \"volume-b\": { size: 20G }
      # scratch: not a name cinder gives (volume_name_template = volume-%s)
      # theirs: ember's, backend lvm-2
      # vg-pool: the backend's thin pool (used as it is, never shrunk or deleted)
      # volume-c: a thin volume in another pool (other-pool)
      # volume-lin: a linear LV (this backend is thin)
    snapshots:
      \"_snapshot-s0\": {}
      \"_snapshot-s1\": { volume: \"volume-a\" }
";
    assert_eq!(doc, want);
    // what it declares parses, and adopts
    let d: crate::desired::BackendDesired = serde_yaml::from_str(
        &doc.replace("backends:\n  \"lvm-1\":\n", "")
            .lines()
            .skip(1)
            .map(|l| l.strip_prefix("    ").unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    assert!(d.adopt && d.volumes.len() == 3 && d.snapshots.len() == 2);
}

#[test]
fn a_missing_volume_group_imports_nothing_for_that_backend() {
    let cfg = crate::testkit::backend("lvm-1", LvmType::Default);
    let doc = document(
        "volume-%s",
        &[(
            &cfg,
            Source::Missing("volume group \"vg\"\nnot found".into()),
        )],
        "h",
    );
    // left out, not declared empty (that would say it has no volumes)
    assert_eq!(
        doc,
        "# h\n# lvm-1: nothing imported: volume group \"vg\" not found\nbackends: {}\n"
    );
    assert_eq!(document("volume-%s", &[], "h"), "# h\nbackends: {}\n");
}

#[test]
fn a_thick_cinder_volume_with_its_cow_snapshot_is_declared_and_the_snapshot_said() {
    // cinder's LVM driver on a thick backend snapshots with `lvcreate --snapshot -L`
    let cfg = crate::testkit::backend("thick", LvmType::Default);
    let mut snap = lv("_snapshot-s1", LvKind::CowSnapshot, G);
    snap.origin = Some("volume-a".into());
    let mut backup = lv("backup-b", LvKind::CowSnapshot, G / 4);
    backup.origin = Some("volume-b".into());
    // tagged as ember's by hand: still not declared
    let mut tagged = crate::testkit::lv("tagged", LvKind::CowSnapshot, G, Some("thick"));
    tagged.origin = Some("volume-b".into());
    let o = Observed {
        pvs: vec![],
        vg: VgInfo {
            name: "vg".into(),
            ..Default::default()
        },
        lvs: vec![
            lv("volume-a", LvKind::Linear, 10 * G),
            snap,
            lv("volume-b", LvKind::Linear, 2 * G),
            backup,
            tagged,
        ],
    };
    let doc = document(
        "volume-%s",
        &[(&cfg, Source::Observed(&o, Exports::NotRead))],
        "t",
    );
    let want = "# t
backends:
  \"thick\":
    # volume group vg: 5 LV(s), 2 declared below
    adopt: true
    volumes:
      \"volume-a\": { size: 10G }  # with the COW snapshot _snapshot-s1: grown only while inactive, never deleted while it exists
      \"volume-b\": { size: 2G }  # with the COW snapshots backup-b and tagged: grown only while inactive, never deleted while they exist
      # _snapshot-s1: a COW snapshot of volume-a (lvcreate --snapshot --size, as backup tools and cinder's thick backends make them): ember leaves it alone, and keeps volume-a while it exists
      # backup-b: a COW snapshot of volume-b (lvcreate --snapshot --size, as backup tools and cinder's thick backends make them): ember leaves it alone, and keeps volume-b while it exists
      # tagged: a COW snapshot of volume-b (lvcreate --snapshot --size, as backup tools and cinder's thick backends make them): ember leaves it alone, and keeps volume-b while it exists
";
    assert_eq!(doc, want);
    // it parses as a thick backend's desired state (no `snapshots:`), and plans adoptions
    let d: crate::desired::BackendDesired = serde_yaml::from_str(
        &doc.lines()
            .skip(3)
            .map(|l| l.strip_prefix("    ").unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    assert!(d.adopt && d.volumes.len() == 2 && d.snapshots.is_empty());
    let p = crate::reconcile::plan::plan(
        &cfg,
        &d,
        &o,
        &crate::reconcile::plan::Policy {
            max_deletions_per_pass: 5,
            prune_grace: 600,
            now: 1_800_000_000,
            confirmed: false,
        },
    );
    assert_eq!(
        p.actions.iter().map(|a| a.verb()).collect::<Vec<_>>(),
        ["adopt_volume", "adopt_volume"],
        "{p:?}"
    );
}

#[test]
fn a_cinder_export_is_declared_with_its_hosts_and_one_plan_adopts_it_as_it_is() {
    use crate::export::configfs::sim;
    use crate::export::{Step, Value};
    const H1: &str = "iqn.1993-08.org.debian:01:compute1";
    const H2: &str = "iqn.1993-08.org.debian:01:compute2";
    let mut cfg = crate::testkit::backend("lvm-1", LvmType::Default);
    cfg.target.target_helper = "lioadm".into();
    cfg.target.target_ip_address = "127.0.0.1".into();
    let root = tempfile::tempdir().unwrap();
    let iqn = |v: &str| format!("iqn.2010-10.org.openstack:{v}");
    crate::testkit::cinder::cinder_export(
        root.path(),
        &iqn("volume-a"),
        "/dev/vg/volume-a",
        &[(H2, "u", "p"), (H1, "u", "p")],
    );
    // another tool's target, under another name, on volume-b
    let bs = std::path::PathBuf::from("target/core/iblock_9/x");
    let tpg = std::path::PathBuf::from("target/iscsi/iqn.2003-01.org.example:x/tpgt_1");
    sim::apply(
        root.path(),
        &[
            Step::Mkdir(bs.clone()),
            Step::Write(
                bs.join("udev_path"),
                Value::Plain("/dev/vg/volume-b".into()),
            ),
            Step::Mkdir(tpg.join("lun/lun_0")),
            Step::Symlink {
                link: tpg.join("lun/lun_0/x"),
                target: bs,
            },
        ],
    )
    .unwrap();
    let targets = crate::reconcile::plan::export::Targets {
        lio: crate::export::lio::read(root.path()).unwrap(),
        ..Default::default()
    };
    let o = Observed {
        pvs: vec![],
        vg: VgInfo {
            name: "vg".into(),
            ..Default::default()
        },
        lvs: vec![
            lv("volume-a", LvKind::Linear, G),
            lv("volume-b", LvKind::Linear, G),
            lv("volume-c", LvKind::Linear, G),
        ],
    };
    let doc = document(
        "volume-%s",
        &[(&cfg, Source::Observed(&o, Exports::Read(&targets)))],
        "t",
    );
    let want = format!(
        "# t
backends:
  \"lvm-1\":
    # volume group vg: 3 LV(s), 3 declared below
    adopt: true
    # volume-b: no export: written: iSCSI target iqn.2003-01.org.example:x (not the name cinder gives it) uses it: ember will report it, not manage it
    volumes:
      \"volume-a\": {{ size: 1G, export: {{ hosts: [\"{H1}\", \"{H2}\"] }} }}
      \"volume-b\": {{ size: 1G }}
      \"volume-c\": {{ size: 1G }}
"
    );
    assert_eq!(doc, want);
    // the target configuration unreadable: said, and no export: written
    let unread = document(
        "volume-%s",
        &[(
            &cfg,
            Source::Observed(&o, Exports::Unreadable("EACCES".into())),
        )],
        "t",
    );
    assert!(unread.contains("# the target configuration could not be read (EACCES)"));
    assert!(!unread.contains("export:  {"));
    // its plan: adoptions only, and cinder's export kept as it is (its hosts' CHAP kept)
    let d: crate::desired::BackendDesired = serde_yaml::from_str(
        &doc.lines()
            .skip(3)
            .map(|l| l.strip_prefix("    ").unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    let p = crate::reconcile::plan::plan_with_targets(
        &cfg,
        &d,
        &o,
        Some(&targets),
        &crate::reconcile::plan::Policy {
            max_deletions_per_pass: 5,
            prune_grace: 600,
            now: 1_800_000_000,
            confirmed: false,
        },
    );
    assert_eq!(
        p.actions.iter().map(|a| a.verb()).collect::<Vec<_>>(),
        ["adopt_volume", "adopt_volume", "adopt_volume"],
        "{p:?}"
    );
    assert_eq!(
        p.export_actions
            .iter()
            .map(|a| a.verb())
            .collect::<Vec<_>>(),
        ["adopt_export"]
    );
    assert!(p.refused.is_empty(), "{:?}", p.refused);
}
