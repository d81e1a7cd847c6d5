//! Snapshots, volumes from a snapshot and clones on real LVM thin provisioning, with data: a
//! snapshot keeps the point it was taken at, a volume from it reads that point back, a clone
//! reads its volume as it was when cloned; the snapshot is left inactive (activation skip) at
//! boot, and deleting it leaves what was made from it intact.

use super::common::vm::*;
use super::host;

const M: u64 = 1 << 20;
const VG: &str = "vg-snap";

/// The checksum of the first `mib` MiB of a volume.
fn sha(lv: &str, mib: u64) -> String {
    run(
        "sh",
        &[
            "-c",
            &format!("dd if=/dev/{VG}/{lv} bs=1M count={mib} iflag=direct status=none | sha256sum"),
        ],
    )
}

/// Fills a volume's first 64 MiB with random data.
fn fill(lv: &str) {
    run(
        "dd",
        &[
            "if=/dev/urandom",
            &format!("of=/dev/{VG}/{lv}"),
            "bs=1M",
            "count=64",
            "oflag=direct",
            "status=none",
        ],
    );
}

fn desired(volumes: &str, snapshots: &str) -> String {
    format!(
        "backends:\n  lvm-1:\n    thin_pool: {{ size: 1G }}\n    volumes:\n      volume-a: {{ size: 64M }}\n{volumes}    snapshots:\n{snapshots}"
    )
}

fn active(l: &Lv) -> bool {
    l.attr.chars().nth(4) == Some('a')
}

#[test]
#[ignore = "VM test: tests/vm/run-tests lvm"]
fn vm_snapshots_clones_and_volumes_from_snapshots_carry_their_data() {
    require_sandboxed_vm();
    create_vg(VG);
    let s = host(
        &[("lvm-1", VG, "lvm_type = thin")],
        &desired("", "      {}\n"),
    );
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    fill("volume-a");
    let first = sha("volume-a", 64);

    // a snapshot: ember's, inactive and skipped at activation, as cinder leaves them
    s.write(
        "desired-state.yaml",
        &desired("", "      _snapshot-s1: { volume: volume-a }\n"),
    );
    let p = s.ember(&["plan"]);
    assert!(
        p.stdout
            .contains("+ create snapshot _snapshot-s1 of volume-a"),
        "{p:?}"
    );
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    let snap = lv(VG, "_snapshot-s1").expect("the snapshot");
    assert_eq!(snap.tags, "ember-backend=lvm-1,ember-managed", "{snap:?}");
    assert!(
        snap.attr.starts_with('V') && snap.attr.ends_with('k'),
        "{snap:?}"
    );
    assert!(!active(&snap), "{snap:?}");
    assert_eq!(snap.size, 64 * M);
    assert_eq!(
        lvs_rows(&format!("{VG}/_snapshot-s1"), "origin", false),
        vec![vec!["volume-a".to_string()]]
    );
    fill("volume-a");
    let second = sha("volume-a", 64);
    assert_ne!(first, second);

    // a larger volume from the snapshot, and a clone of the volume as it is now
    s.write(
        "desired-state.yaml",
        &desired(
            "      volume-b: { size: 128M, source: { snapshot: _snapshot-s1 } }\n      volume-c: { size: 64M, source: { volume: volume-a } }\n",
            "      _snapshot-s1: { volume: volume-a }\n",
        ),
    );
    let p = s.ember(&["plan"]);
    for line in [
        "+ create volume volume-b 128.0 MiB from snapshot _snapshot-s1",
        "+ clone volume volume-c from volume-a",
    ] {
        assert!(p.stdout.contains(line), "{line} in {p:?}");
    }
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("Converged."), "{r:?}");
    for (name, size) in [("volume-b", 128 * M), ("volume-c", 64 * M)] {
        let v = lv(VG, name).unwrap();
        assert_eq!(v.size, size, "{v:?}");
        assert!(
            active(&v) && !v.attr.ends_with('k'),
            "active, no activation skip: {v:?}"
        );
        assert_eq!(
            v.tags, "ember-backend=lvm-1,ember-copy,ember-managed",
            "{v:?}"
        );
    }
    assert_eq!(
        sha("volume-b", 64),
        first,
        "volume-b reads the snapshot's point"
    );
    assert_eq!(
        sha("volume-c", 64),
        second,
        "volume-c reads volume-a as cloned"
    );
    assert_eq!(s.ember(&["plan"]).code, 0, "a second plan has no changes");

    // a boot: the volumes come up, the snapshot stays inactive, and ember leaves it so
    run("vgchange", &["-q", "-an", VG]);
    run("vgchange", &["-q", "-ay", VG]);
    assert!(!active(&lv(VG, "_snapshot-s1").unwrap()));
    for v in ["volume-a", "volume-b", "volume-c"] {
        assert!(active(&lv(VG, v).unwrap()), "{v} active after the boot");
    }
    let p = s.ember(&["plan"]);
    assert_eq!(p.code, 0, "nothing to do after a boot: {p:?}");

    // the snapshot deleted: what was made from it stays intact
    s.write(
        "desired-state.yaml",
        &desired(
            "      volume-b: { size: 128M, source: { snapshot: _snapshot-s1 } }\n      volume-c: { size: 64M, source: { volume: volume-a } }\n",
            "      _snapshot-s1: { state: absent }\n",
        ),
    );
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("- delete snapshot _snapshot-s1 64.0 MiB (state: absent)"),
        "{r:?}"
    );
    assert!(lv(VG, "_snapshot-s1").is_none());
    assert_eq!(sha("volume-b", 64), first, "volume-b intact");
    let p = s.ember(&["plan"]);
    assert_eq!(p.code, 0, "a second plan has no changes: {p:?}");
    assert!(
        p.stdout.contains(
            "warning: volume volume-b exists; its source, snapshot _snapshot-s1, does not"
        ),
        "{p:?}"
    );
}

#[test]
#[ignore = "VM test: tests/vm/run-tests lvm"]
fn vm_a_snapshot_or_copy_of_what_is_not_there_or_not_embers_is_refused() {
    require_sandboxed_vm();
    create_vg("vg-snapno");
    let s = host(
        &[("lvm-1", "vg-snapno", "lvm_type = thin")],
        "backends:\n  lvm-1:\n    thin_pool: { size: 1G }\n    volumes:\n      volume-a: { size: 64M }\n",
    );
    assert_eq!(s.ember(&["apply"]).code, 0);
    run(
        "lvcreate",
        &[
            "-q",
            "--yes",
            "-T",
            "-V",
            "64M",
            "-n",
            "theirs",
            "vg-snapno/vg-snapno-pool",
        ],
    );
    let before = lvs("vg-snapno");
    s.write(
        "desired-state.yaml",
        "backends:\n  lvm-1:\n    volumes:\n      volume-a: { size: 64M }\n      volume-b: { size: 64M, source: { snapshot: _snapshot-nope } }\n      volume-c: { size: 32M, source: { volume: volume-a } }\n    snapshots:\n      _snapshot-t: { volume: theirs }\n",
    );
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 3, "all three refused: {r:?}");
    for line in [
        "! refused _snapshot-t: the volume it is of, theirs, exists without ember's tag",
        "! refused volume-b: its source, snapshot _snapshot-nope, does not exist and is not made in this pass",
        "! refused volume-c: its source, volume volume-a, is 64.0 MiB, larger than the 32.0 MiB declared",
        "  Blocked: 3 refused; the desired state is not reached.",
    ] {
        assert!(r.stdout.contains(line), "{line} in {r:?}");
    }
    assert_eq!(lvs("vg-snapno"), before, "nothing created, nothing changed");
}
