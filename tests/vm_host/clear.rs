//! cinder's `volume_clear` on real LVM, under the unit's sandbox: tenant data written into a
//! thick volume is gone from the extents its deletion frees (read back through a new LV made on
//! those very extents, `lvcreate ... PV:first-last`, without lvcreate's own zeroing), all of it
//! with `zero` (of a volume left inactive: activated to be cleared), the first MiB with
//! `volume_clear_size = 1`, none with `none` (the check can fail); a volume in use is neither
//! cleared nor tagged nor removed; and a clear cut short by `kill -9` of `ember apply` leaves the
//! volume tagged, partly zeroed, and the next apply (the desired state changed meanwhile) clears
//! it and removes it.

use std::io::BufRead;
use std::os::unix::fs::{FileExt, OpenOptionsExt};

use super::common::vm::*;
use super::common::*;
use super::support::*;

const M: u64 = 1 << 20;

/// A 4 KiB block that names itself: what a tenant wrote.
fn marker(tag: &str) -> Vec<u8> {
    let mut b = format!("EMBER-TENANT-DATA {tag} ").into_bytes();
    b.resize(4096, b'#');
    b
}

/// 4 KiB, `O_DIRECT` (no page cache between the test and the disk).
fn aligned(data: &[u8]) -> (Vec<u8>, usize) {
    let mut v = vec![0u8; 2 * 4096];
    let off = v.as_ptr().align_offset(4096);
    v[off..off + 4096].copy_from_slice(data);
    (v, off)
}

fn write_block(dev: &str, at: u64, data: &[u8]) {
    let f = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_DIRECT)
        .open(dev)
        .unwrap_or_else(|e| panic!("{dev}: {e}"));
    let (v, off) = aligned(data);
    f.write_all_at(&v[off..off + 4096], at).unwrap();
    f.sync_all().unwrap();
}

fn read_block(dev: &str, at: u64) -> Vec<u8> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECT)
        .open(dev)
        .unwrap_or_else(|e| panic!("{dev}: {e}"));
    let (mut v, off) = aligned(&[0u8; 4096]);
    f.read_exact_at(&mut v[off..off + 4096], at).unwrap();
    v[off..off + 4096].to_vec()
}

/// The physical extents `vg/lv` is on: `/dev/vdX:0-15`.
fn extents(vg: &str, lv: &str) -> String {
    let rows = lvs_rows(&format!("{vg}/{lv}"), "seg_pe_ranges", false);
    assert_eq!(rows.len(), 1, "one segment: {rows:?}");
    rows[0][0].clone()
}

/// Which of `offsets` still hold `mark` on the extents `range` (a new LV made there, neither
/// wiped nor zeroed by lvcreate, then removed).
fn left_on(vg: &str, range: &str, size: &str, offsets: &[u64], mark: &[u8]) -> Vec<bool> {
    run(
        "lvcreate",
        &[
            "-q", "--yes", "-Wn", "-Zn", "-L", size, "-n", "probe", vg, range,
        ],
    );
    assert_eq!(extents(vg, "probe"), range, "the probe is on those extents");
    let dev = format!("/dev/{vg}/probe");
    let held = offsets
        .iter()
        .map(|at| read_block(&dev, *at) == mark)
        .collect();
    run("lvremove", &["-q", "--yes", &format!("{vg}/probe")]);
    held
}

fn backend(clear: &str) -> String {
    format!(
        "lvm_type = default\n{clear}\n# (cinder's lvm.conf under the sandbox is tests/vm_host/lvmconf.rs's)\nlvm_conf_file = None"
    )
}

#[test]
#[ignore = "VM test: tests/vm/run-tests host"]
fn vm_clear_zero_none_and_size_read_back_from_the_freed_extents() {
    require_cinder_host();
    create_vg("vg-clear");
    in_use_is_neither_cleared_nor_tagged_nor_removed();
    // (v0, kept in use above, stays declared: a file that names none of the backend's volumes
    // would be held until confirmed, src/reconcile/plan/guard.rs)
    let present =
        "backends:\n  thick:\n    volumes:\n      v0: { size: 64M }\n      v1: { size: 64M }\n";
    let absent =
        "backends:\n  thick:\n    volumes:\n      v0: { size: 64M }\n      v1: { state: absent }\n";
    // (volume_clear lines, what the freed extents hold at 0 and at 2 MiB afterwards)
    for (clear, held) in [
        ("", [false, false]),
        ("volume_clear = none", [true, true]),
        ("volume_clear_size = 1", [false, true]),
    ] {
        let s = cinder_host(&[("thick", "vg-clear", &backend(clear))], present);
        let r = s.ember(&["apply"]);
        assert_eq!(r.code, 0, "{clear}: {r:?}");
        let range = extents("vg-clear", "v1");
        let mark = marker(&format!("[{clear}]"));
        for at in [0, 2 * M] {
            write_block("/dev/vg-clear/v1", at, &mark);
            assert_eq!(read_block("/dev/vg-clear/v1", at), mark);
        }
        if clear.is_empty() {
            // inactive (no device): the clear activates it first
            run("lvchange", &["-q", "-an", "vg-clear/v1"]);
        }
        s.write("desired-state.yaml", absent);
        let check = s.ember(&["check"]);
        let plan = s.ember(&["plan"]);
        let r = s.ember(&["apply"]);
        assert_eq!(r.code, 0, "{clear}: {r:?}");
        assert!(lv("vg-clear", "v1").is_none(), "{clear}: deleted");
        assert_eq!(
            left_on("vg-clear", &range, "64M", &[0, 2 * M], &mark),
            held,
            "{clear}: the tenant's data at 0 and 2 MiB on the freed extents {range}: {r:?}"
        );
        let (says, line) = match clear {
            "" => (
                "volume_clear zero\n",
                "- delete volume v1 64.0 MiB (state: absent; cleared first: zero, 64.0 MiB)",
            ),
            "volume_clear = none" => (
                "volume_clear none\n",
                "- delete volume v1 64.0 MiB (state: absent)\n",
            ),
            _ => (
                "volume_clear zero (first 1 MiB)\n",
                "- delete volume v1 64.0 MiB (state: absent; cleared first: zero, the first 1.0 MiB)",
            ),
        };
        assert!(check.stdout.contains(says), "{clear}: {check:?}");
        assert!(plan.stdout.contains(line), "{clear}: {plan:?}");
    }
}

/// A volume declared absent while something holds its device open (a VM, a mount): its clear
/// would destroy data that `lvremove` would then refuse to remove.
fn in_use_is_neither_cleared_nor_tagged_nor_removed() {
    let s = cinder_host(
        &[("thick", "vg-clear", &backend(""))],
        "backends:\n  thick:\n    volumes:\n      v0: { size: 64M }\n",
    );
    assert_eq!(s.ember(&["apply"]).code, 0);
    let mark = marker("in use");
    write_block("/dev/vg-clear/v0", 0, &mark);
    let held = std::fs::File::open("/dev/vg-clear/v0").unwrap();
    s.write(
        "desired-state.yaml",
        "backends:\n  thick:\n    volumes:\n      v0: { state: absent }\n",
    );
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains("is open 1 time(s) besides ember's") && r.stdout.contains("[FAILED"),
        "{r:?}"
    );
    let v0 = lv("vg-clear", "v0").expect("not removed");
    assert!(!v0.tags.contains("ember-clearing"), "{v0:?}");
    assert_eq!(read_block("/dev/vg-clear/v0", 0), mark, "its data intact");
    drop(held);
    // declared again: nothing to do (no clear was begun)
    s.write(
        "desired-state.yaml",
        "backends:\n  thick:\n    volumes:\n      v0: { size: 64M }\n",
    );
    let r = s.ember(&["plan"]);
    assert!(r.stdout.contains("No changes."), "{r:?}");
}

/// The I/O priority of `pid`'s thread named `name`, once it runs.
fn thread_ioprio(pid: u32, name: &str) -> Option<i64> {
    for t in std::fs::read_dir(format!("/proc/{pid}/task"))
        .ok()?
        .flatten()
    {
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        if comm.trim() == name {
            let tid: i64 = t.file_name().to_string_lossy().parse().ok()?;
            // SAFETY: ioprio_get reads three integers.
            let p = unsafe { libc::syscall(libc::SYS_ioprio_get, 1 as libc::c_long, tid) };
            return Some(p);
        }
    }
    None
}

#[test]
#[ignore = "VM test: tests/vm/run-tests host"]
fn vm_clear_cut_by_kill_9_is_finished_by_the_next_apply() {
    require_cinder_host();
    create_vg("vg-cut");
    let s = cinder_host(
        &[("thick", "vg-cut", &backend("volume_clear_ionice = -c3"))],
        "backends:\n  thick:\n    volumes:\n      big: { size: 1536M }\n",
    );
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    let range = extents("vg-cut", "big");
    let dev = "/dev/vg-cut/big";
    let (head, tail) = (marker("head"), marker("tail"));
    let last = 1536 * M - 4096;
    write_block(dev, 0, &head);
    write_block(dev, last, &tail);
    let uuid = lvs_rows("vg-cut/big", "lv_uuid", false)[0][0].clone();
    s.write(
        "desired-state.yaml",
        "backends:\n  thick:\n    volumes:\n      big: { state: absent }\n",
    );
    // ember apply, its standard output a pipe: the clear's progress by tenths
    let mut child = std::process::Command::new(ember_bin())
        .arg("--config-file")
        .arg(s.path("cinder.conf"))
        .arg("apply")
        .current_dir(s.dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let mut seen = vec![];
    let mut prio = None;
    for line in std::io::BufReader::new(out).lines() {
        let line = line.unwrap();
        seen.push(line.clone());
        // under way, past its start: the writing thread's priority, then kill -9
        if line.contains("~ clearing big") && !line.contains("(0%)") {
            prio = thread_ioprio(child.id(), "ember-clear");
            child.kill().unwrap();
            eprintln!("kill -9 of ember apply at: {line}");
            break;
        }
    }
    let _ = child.wait();
    assert_eq!(
        prio,
        Some((3 << 13) | 7),
        "the clearing thread at idle priority (volume_clear_ionice = -c3): {seen:?}"
    );
    // cut short: still there, tagged with its own uuid, zeroed at its start, the end untouched
    let big = lv("vg-cut", "big").unwrap_or_else(|| panic!("removed before the kill: {seen:?}"));
    assert!(
        big.tags.contains(&format!("ember-clearing={uuid}")),
        "{big:?} {seen:?}"
    );
    assert_ne!(read_block(dev, 0), head, "{seen:?}");
    assert_eq!(read_block(dev, last), tail, "cut before its end: {seen:?}");
    // meanwhile the operator declares it again: its data is partly gone; the next apply says so,
    // clears it again and removes it, then makes it again, empty
    s.write(
        "desired-state.yaml",
        "backends:\n  thick:\n    volumes:\n      big: { size: 1536M }\n",
    );
    let r = s.ember(&["plan"]);
    assert!(
        r.stdout.contains("- delete volume big 1.5 GiB (its clear was cut short (tag ember-clearing): cleared again and removed; cleared first: zero, 1.5 GiB)")
            && r.stdout.contains("+ create volume big 1.5 GiB (thick)")
            && r.stdout.contains("its data is partly gone"),
        "{r:?}"
    );
    let t = std::time::Instant::now();
    let r = s.ember(&["apply"]);
    eprintln!(
        "the resumed clear of 1.5 GiB and the rest of the pass: {:?}",
        t.elapsed()
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("Converged."), "{r:?}");
    let again = lv("vg-cut", "big").unwrap();
    assert!(!again.tags.contains("ember-clearing"), "{again:?}");
    assert_ne!(
        lvs_rows("vg-cut/big", "lv_uuid", false)[0][0],
        uuid,
        "a new LV"
    );
    // the old extents hold nothing of the tenant's: read through the new volume when lvm put it
    // there, else through a probe on them
    let held = if extents("vg-cut", "big") == range {
        vec![read_block(dev, 0) == head, read_block(dev, last) == tail]
    } else {
        run("lvremove", &["-q", "--yes", "vg-cut/big"]);
        let h = left_on("vg-cut", &range, "1536M", &[0], &head);
        let t = left_on("vg-cut", &range, "1536M", &[last], &tail);
        vec![h[0], t[0]]
    };
    assert_eq!(held, [false, false], "nothing left on {range}");
}
