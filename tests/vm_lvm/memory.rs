//! `ember apply` plans from the last read kept in `run_dir/memory` while the volume group's
//! stamp (its metadata area headers, its device-mapper devices) is the same, on real LVM:
//! an apply with nothing new runs no lvm, and whatever another tool changes in between
//! (lvremove, a tag removed, a deactivation, lvcreate) is seen by the next apply.

use super::common::vm::*;
use super::host;

const DESIRED: &str = "backends:\n  mem:\n    thin_pool: { size: 1G }\n    volumes:\n      m1: { size: 64M }\n      m2: { size: 64M }\n      m3: { size: 64M }\n";

fn apply(s: &super::common::Scratch) -> String {
    let r = s.ember(&["apply"]);
    assert!(r.code == 0 || r.code == 1, "{r:?}");
    r.stdout
}

fn from_memory(out: &str) -> bool {
    out.contains("(0 lvm call(s)")
}

#[test]
#[ignore = "VM test: tests/vm/run-tests lvm"]
fn vm_apply_plans_from_the_kept_read_only_while_nothing_changed() {
    require_sandboxed_vm();
    create_vg("vg-mem");
    let s = host(&[("mem", "vg-mem", "")], DESIRED);
    let out = apply(&s);
    assert!(out.contains("Converged."), "{out}");
    // the confirming read of that apply is kept: nothing changed since, no lvm at all
    let out = apply(&s);
    assert!(out.contains("No changes.") && from_memory(&out), "{out}");
    // data written into a volume commits no metadata: still no lvm
    run(
        "dd",
        &[
            "if=/dev/urandom",
            "of=/dev/vg-mem/m3",
            "bs=1M",
            "count=8",
            "oflag=direct",
            "status=none",
        ],
    );
    let out = apply(&s);
    assert!(out.contains("No changes.") && from_memory(&out), "{out}");
    // lvremove by another tool: read in full, made again
    run("lvremove", &["-q", "-y", "vg-mem/m2"]);
    let out = apply(&s);
    assert!(!from_memory(&out) && out.contains("m2"), "{out}");
    assert!(lv("vg-mem", "m2").is_some());
    assert!(from_memory(&apply(&s)));
    // a tag removed: m3 is not ember's any more, and apply refuses to touch it
    run(
        "lvchange",
        &["-q", "--deltag", "ember-managed", "vg-mem/m3"],
    );
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 3, "m3 refused: {r:?}");
    let out = r.stdout;
    assert!(!from_memory(&out) && out.contains("m3"), "{out}");
    assert!(
        out.contains("  Blocked: 1 refused; the desired state is not reached."),
        "{out}"
    );
    run(
        "lvchange",
        &["-q", "--addtag", "ember-managed", "vg-mem/m3"],
    );
    apply(&s);
    assert!(from_memory(&apply(&s)));
    // deactivated (no metadata commit): seen by its device-mapper device gone, activated
    run("lvchange", &["-q", "-an", "vg-mem/m1"]);
    let out = apply(&s);
    assert!(!from_memory(&out), "{out}");
    assert_eq!(lv("vg-mem", "m1").unwrap().attr.chars().nth(4), Some('a'));
    // a volume another tool made is read (and left alone)
    assert!(from_memory(&apply(&s)));
    run(
        "lvcreate",
        &[
            "-q",
            "-y",
            "-T",
            "-V",
            "64M",
            "-n",
            "other",
            "vg-mem/vg-mem-pool",
        ],
    );
    let out = apply(&s);
    assert!(!from_memory(&out) && out.contains("No changes."), "{out}");
    assert!(lv("vg-mem", "other").unwrap().tags.is_empty());
}
