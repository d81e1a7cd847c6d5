//! A volume with another tool's COW snapshot (`lvcreate --snapshot --size`: a backup tool's
//! nightly snapshot, or cinder's snapshot on a thick backend), on real LVM, for a thick backend
//! and a thin one: the volume is imported and adopted, grown when declared larger (lvm grows a
//! snapshot's origin only while it is inactive: refused while it is active, naming the snapshot;
//! grown, then activated again, once the operator deactivated it), and declared absent it is
//! refused with the snapshot named; both LVs keep their data throughout (src/lvm/kind.rs).

use super::common::vm::*;
use super::support::*;

const THICK_VG: &str = "vg-cow-thick";
const THIN_VG: &str = "vg-cow-thin";
const THICK: &str = "volume-5b1c2d3e-0000-4000-8000-00000000000a";
const THICK_SNAP: &str = "_snapshot-6c2d3e4f-0000-4000-8000-00000000000a";
const THIN: &str = "volume-7d3e4f50-0000-4000-8000-00000000000b";
const BACKUP: &str = "backup-nightly";

/// The checksum of a volume's first 8 MiB.
fn sha(vg: &str, lv: &str) -> String {
    run(
        "sh",
        &[
            "-c",
            &format!("dd if=/dev/{vg}/{lv} bs=1M count=8 iflag=direct status=none | sha256sum"),
        ],
    )
}

/// Runs an lvm command as another tool on the host would (outside ember's sandbox), asserting
/// success.
fn other_tool(args: &[&str]) {
    let out = run_outside_sandbox(args[0], &args[1..], &[]);
    assert!(
        out.status.success(),
        "{args:?}: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn active(vg: &str, name: &str) -> bool {
    lv(vg, name).is_some_and(|l| l.attr.chars().nth(4) == Some('a'))
}

fn desired(thick: &str, thin: &str) -> String {
    format!(
        "backends:\n  thick:\n    volumes:\n      {THICK}: {thick}\n  thin:\n    volumes:\n      {THIN}: {thin}\n"
    )
}

#[test]
#[ignore = "VM test: tests/vm/run-tests host"]
fn vm_a_volume_with_another_tools_cow_snapshot_is_adopted_grown_and_never_deleted_with_it() {
    require_cinder_host();
    create_vg(THICK_VG);
    create_vg(THIN_VG);
    // cinder's LVM driver made these (os-brick's LVM class runs exactly these lvcreates): a thick
    // volume and its snapshot, a thin pool named as cinder names it and a thin volume in it
    other_tool(&["lvcreate", "-q", "-n", THICK, "-L", "64M", THICK_VG]);
    let thin_pool = format!("{THIN_VG}/{THIN_VG}-pool");
    other_tool(&["lvcreate", "-q", "-T", "-L", "256M", &thin_pool]);
    other_tool(&["lvcreate", "-q", "-T", "-V", "64M", "-n", THIN, &thin_pool]);
    for (vg, v) in [(THICK_VG, THICK), (THIN_VG, THIN)] {
        run(
            "dd",
            &[
                "if=/dev/urandom",
                &format!("of=/dev/{vg}/{v}"),
                "bs=1M",
                "count=8",
                "oflag=direct",
                "status=none",
            ],
        );
    }
    // cinder's snapshot of the thick volume; a backup tool's of the thin one
    let thick_origin = format!("{THICK_VG}/{THICK}");
    other_tool(&[
        "lvcreate",
        "-q",
        "--name",
        THICK_SNAP,
        "--snapshot",
        &thick_origin,
        "-L",
        "64M",
    ]);
    let thin_origin = format!("{THIN_VG}/{THIN}");
    other_tool(&[
        "lvcreate",
        "-q",
        "-s",
        "-L",
        "16M",
        "-n",
        BACKUP,
        &thin_origin,
    ]);
    let lvs_of = [(THICK_VG, THICK, THICK_SNAP), (THIN_VG, THIN, BACKUP)];
    for (vg, v, snap) in lvs_of {
        // what lvm shows (src/lvm/kind.rs): the volume an origin, its snapshot a COW snapshot
        let (o, s) = (lv(vg, v).unwrap(), lv(vg, snap).unwrap());
        assert!(
            o.attr.starts_with('o') && s.attr.starts_with('s'),
            "{o:?} {s:?}"
        );
    }
    let sums: Vec<String> = lvs_of.iter().map(|(vg, v, _)| sha(vg, v)).collect();
    let check_data = |when: &str| {
        for ((vg, v, snap), sum) in lvs_of.iter().zip(&sums) {
            assert_eq!(&sha(vg, v), sum, "{v}'s data {when}");
            assert_eq!(&sha(vg, snap), sum, "{snap}'s data {when}");
        }
    };
    check_data("as made");

    // (lvm_conf_file = None until ember can write under cinder's lvm.conf in the sandbox)
    let s = cinder_host(
        &[
            (
                "thick",
                THICK_VG,
                "lvm_type = default\nlvm_conf_file = None",
            ),
            ("thin", THIN_VG, "lvm_type = thin\nlvm_conf_file = None"),
        ],
        "backends: {}\n",
    );

    // imported: each volume declared, its COW snapshot named beside it and left out
    let r = s.ember(&["import"]);
    assert_eq!(r.code, 0, "{r:?}");
    for want in [
        format!("      \"{THICK}\": {{ size: 64M }}  # with the COW snapshot {THICK_SNAP}:"),
        format!("      # {THICK_SNAP}: a COW snapshot of {THICK} "),
        format!("      \"{THIN}\": {{ size: 64M }}  # with the COW snapshot {BACKUP}:"),
        format!("      # {BACKUP}: a COW snapshot of {THIN} "),
    ] {
        assert!(r.stdout.contains(&want), "{want:?} in {}", r.stdout);
    }
    assert!(!r.stdout.contains("snapshots:"), "{}", r.stdout);
    s.write("desired-state.yaml", &r.stdout);
    let c = s.ember(&["check"]);
    assert_eq!(c.code, 0, "{c:?}");
    let p = s.ember(&["plan"]);
    assert_eq!(p.code, 2, "{p:?}");
    for v in [THICK, THIN] {
        assert!(p.stdout.contains(&format!("+ adopt volume {v} ")), "{p:?}");
    }
    let a = s.ember(&["apply"]);
    assert_eq!(a.code, 0, "{a:?}");
    for (vg, v, snap) in lvs_of {
        let backend = if vg == THICK_VG { "thick" } else { "thin" };
        assert_eq!(
            lv(vg, v).unwrap().tags,
            format!("ember-adopted,ember-backend={backend},ember-managed")
        );
        assert_eq!(
            lv(vg, snap).unwrap().tags,
            "",
            "the snapshot is not ember's"
        );
    }
    check_data("adopted");

    // declared larger while active: lvm would refuse, and ember says why, naming the snapshot
    for (vg, v, _) in lvs_of {
        let origin = format!("{vg}/{v}");
        let out = run_outside_sandbox("lvextend", &["-L", "128M", &origin], &[]);
        assert!(
            !out.status.success()
                && String::from_utf8_lossy(&out.stderr)
                    .contains("Snapshot origin volumes can be resized only while inactive"),
            "lvm's rule, which the refusal rests on: {out:?}"
        );
    }
    s.write(
        "desired-state.yaml",
        &desired("{ size: 128M }", "{ size: 128M }"),
    );
    let p = s.ember(&["plan"]);
    assert_eq!(p.code, 3, "both refused: {p:?}");
    assert_eq!(
        p.stdout
            .matches("  Blocked: 1 refused, nothing else to do.")
            .count(),
        2,
        "one a backend: {p:?}"
    );
    for (vg, v, snap) in lvs_of {
        let want = format!(
            "! refused {v}: is 64.0 MiB, the desired state says 128.0 MiB, but it has the COW snapshot {snap} "
        );
        assert!(p.stdout.contains(&want), "{want:?} in {p:?}");
        assert!(
            p.stdout.contains(&format!("lvchange -an {vg}/{v}")),
            "{p:?}"
        );
    }
    let a = s.ember(&["apply"]);
    assert_eq!(a.code, 3, "refused, nothing done: {a:?}");
    for (vg, v, _) in lvs_of {
        assert_eq!(lv(vg, v).unwrap().size, 64 << 20, "{a:?}");
    }

    // deactivated by the operator, as the refusal says: grown, then active again with its
    // snapshot
    for (vg, v, _) in lvs_of {
        other_tool(&["lvchange", "-an", &format!("{vg}/{v}")]);
        assert!(!active(vg, v));
    }
    let p = s.ember(&["plan"]);
    assert_eq!(p.code, 2, "{p:?}");
    let a = s.ember(&["apply"]);
    assert_eq!(a.code, 0, "{a:?}");
    for (vg, v, snap) in lvs_of {
        assert_eq!(lv(vg, v).unwrap().size, 128 << 20, "{a:?}");
        assert!(active(vg, v) && active(vg, snap), "{a:?}");
    }
    check_data("grown");
    let p = s.ember(&["plan"]);
    assert_eq!(p.code, 0, "converged: {p:?}");

    // declared absent: refused, the snapshot named; both LVs stay, with their data
    s.write(
        "desired-state.yaml",
        &desired("{ state: absent }", "{ state: absent }"),
    );
    let p = s.ember(&["plan"]);
    assert_eq!(p.code, 3, "both refused: {p:?}");
    for (vg, v, snap) in lvs_of {
        let want = format!(
            "! refused {v}: declared absent, but it has the COW snapshot {snap} (another tool's lvcreate --snapshot --size): lvremove of {v} would remove it with it"
        );
        assert!(p.stdout.contains(&want), "{want:?} in {p:?}");
        assert!(
            p.stdout.contains(&format!("(lvremove {vg}/{snap})")),
            "{p:?}"
        );
    }
    assert!(!p.stdout.contains("- delete"), "{p:?}");
    let a = s.ember(&["apply"]);
    assert_eq!(a.code, 3, "refused, nothing done: {a:?}");
    for (vg, v, snap) in lvs_of {
        assert!(lv(vg, v).is_some() && lv(vg, snap).is_some(), "{a:?}");
    }
    check_data("declared absent");

    // the snapshot removed by its tool, the volume goes as declared
    other_tool(&["lvremove", "-q", "--yes", &format!("{THIN_VG}/{BACKUP}")]);
    let a = s.ember(&["apply"]);
    // (the thick volume keeps its snapshot: still refused)
    assert_eq!(a.code, 3, "{a:?}");
    assert!(
        a.stdout
            .contains("  Blocked: 1 refused; the desired state is not reached."),
        "{a:?}"
    );
    assert!(lv(THIN_VG, THIN).is_none(), "{a:?}");
    assert!(lv(THICK_VG, THICK).is_some() && lv(THICK_VG, THICK_SNAP).is_some());
}
