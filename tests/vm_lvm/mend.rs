//! Half-created thin volumes on real LVM: what ember mends (a creation it recorded as under
//! way and did not see end) and what it leaves to the operator.

use super::common::vm::*;
use super::{M, host};

/// A power cut during `lvcreate` can leave a thin volume in the VG's metadata that its pool
/// never recorded (tests/vm/powercut found it). So can a pool's metadata swapped for one that
/// lost a device (`lvconvert --poolmetadata`/`--swapmetadata`, a repair, a `thin_restore`),
/// and then the volume held data. Made here on purpose with lvm2's own metadata tools
/// (tests/vm/forget-thin-devices.sh: the metadata swapped out, restored without the device,
/// swapped back): a volume whose creation ended is reported and never touched; one that ember's
/// record says was being created (what a pass writes before its lvcreate) is found by
/// activating it and made again, every other volume's data as it was; two at once are not a
/// crash's doing and are left alone.
#[test]
#[ignore = "VM test: tests/vm/run-tests lvm"]
fn vm_a_half_created_thin_volume_is_recreated_only_when_ember_recorded_its_creation() {
    require_sandboxed_vm();
    let forget = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vm/forget-thin-devices.sh"
    );
    create_vg("vg-half");
    run(
        "lvcreate",
        &["-q", "--yes", "-L", "8M", "-n", "foreign", "vg-half"],
    );
    let s = host(
        &[("lvm-1", "vg-half", "")],
        "backends:\n  lvm-1:\n    thin_pool: { size: 512M }\n    volumes:\n      keep: { size: 64M }\n      half: { size: 96M }\n      other: { size: 32M }\n",
    );
    assert_eq!(s.ember(&["apply"]).code, 0);
    let md5 = |lv: &str| run("md5sum", &[&format!("/dev/vg-half/{lv}")]);
    run(
        "dd",
        &[
            "if=/dev/urandom",
            "of=/dev/vg-half/keep",
            "bs=1M",
            "count=8",
            "oflag=direct",
            "status=none",
        ],
    );
    let keep_before = md5("keep");
    let record = ember::lvm::inflight::InFlight::new(std::path::Path::new("/var/lib/ember"));
    let vg = ember::names::VgName::new("vg-half").unwrap();
    assert_eq!(
        record.read(&vg).unwrap(),
        Vec::<ember::names::LvName>::new(),
        "the creations ended: off the record"
    );
    let identity = |lv: &str| {
        lvs_rows(
            &format!("vg-half/{lv}"),
            "lv_uuid,lv_size,lv_tags,lv_attr",
            false,
        )
    };

    // its creation ended, then its pool's metadata was swapped for one without its device:
    // reported, pass after pass, and the LV left as it is
    run(forget, &["vg-half", "vg-half-pool", "other"]);
    let other = identity("other");
    for _ in 0..2 {
        let r = s.ember(&["apply"]);
        assert_eq!(r.code, 1, "{r:?}");
        assert!(
            r.stdout.contains("~ activate volume other")
                && r.stdout
                    .contains("ember has no record of a creation of it cut short")
                && r.stdout.contains("_meta0"),
            "{r:?}"
        );
        assert!(!r.stdout.contains("recreate"), "{r:?}");
        assert_eq!(identity("other"), other, "untouched");
    }
    // the operator decides: removed, it is made again (an empty volume, as declared)
    run("lvremove", &["-q", "--yes", "vg-half/other"]);
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(&lv("vg-half", "other").unwrap().attr[4..5], "a");

    // a creation cut short: on ember's record (written as a pass writes it before its lvcreate)
    record
        .write(&vg, &[ember::names::LvName::new("half").unwrap()])
        .unwrap();
    run(forget, &["vg-half", "vg-half-pool", "half"]);
    let half = lv("vg-half", "half").expect("still in the VG's metadata");
    assert_eq!(&half.attr[4..5], "-", "cannot be activated: {half:?}");
    let half_uuid = identity("half")[0][0].clone();

    let r = s.ember(&["plan"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.contains("~ activate volume half"), "{r:?}");
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("+ recreate volume half 96.0 MiB (half-created"),
        "{r:?}"
    );
    assert!(r.stdout.contains("Converged."), "{r:?}");
    assert!(
        r.stderr.contains("half-created"),
        "a warning in the log: {r:?}"
    );
    let half = lv("vg-half", "half").expect("recreated");
    assert_eq!(
        (
            half.size,
            &half.attr[4..5],
            half.tags.as_str(),
            half.pool.as_str()
        ),
        (
            96 * M,
            "a",
            "ember-backend=lvm-1,ember-managed",
            "vg-half-pool"
        )
    );
    assert_ne!(identity("half")[0][0], half_uuid, "another LV");
    assert_eq!(
        md5("keep"),
        keep_before,
        "the other volume's data is untouched"
    );
    assert_eq!(lv("vg-half", "foreign").unwrap().tags, "");
    assert_eq!(
        record.read(&vg).unwrap(),
        Vec::<ember::names::LvName>::new()
    );
    assert!(s.ember(&["plan"]).stdout.contains("No changes."));

    // two at once, both on record: not what one crash leaves; ember changes neither
    let both = ["half", "other"].map(|n| ember::names::LvName::new(n).unwrap());
    record.write(&vg, &both).unwrap();
    run(forget, &["vg-half", "vg-half-pool", "half", "other"]);
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("a crash leaves at most one"), "{r:?}");
    for name in ["half", "other"] {
        let v = lv("vg-half", name).unwrap_or_else(|| panic!("{name} must stay"));
        assert_eq!(
            (&v.attr[4..5], v.tags.as_str()),
            ("-", "ember-backend=lvm-1,ember-managed"),
            "{v:?}"
        );
    }
    assert_eq!(md5("keep"), keep_before);
}
