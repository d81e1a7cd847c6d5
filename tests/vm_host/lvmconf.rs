//! cinder's own lvm.conf under the unit's sandbox. With `/etc/cinder/lvm.conf` present (cinder
//! hosts have it: cinder.conf's `lvm_conf_file` default), ember runs lvm as cinder did, with
//! `LVM_SYSTEM_DIR=/etc/cinder`; lvm then archives the VG's metadata into
//! `/etc/cinder/archive` before each commit and backs it up into `/etc/cinder/backup` after.
//! Under `ProtectSystem=strict` both must be writable, or every write fails (autoextend too,
//! so a pool fills).

use super::common::vm::*;
use super::support::*;

const M: u64 = 1 << 20;

/// The VG's archive files lvm made in `dir` (named `VG_NNNNN-NNNN.vg`).
fn archived(dir: &str, vg: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(&format!("{vg}_")) && n.ends_with(".vg"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
#[ignore = "VM test: tests/vm/run-tests host"]
fn vm_writes_work_under_the_unit_with_cinders_lvm_conf() {
    require_cinder_host();
    create_vg("vg-clvm");
    let s = cinder_host(
        &[("thin", "vg-clvm", "")],
        "backends:\n  thin:\n    thin_pool: { size: 512M, autoextend: { threshold: 80%, step: 25%, max: 1G } }\n    volumes:\n      volume-a: { size: 64M }\n      volume-b: { size: 64M }\n",
    );
    // every kind of write: the pool, volumes, an extension and a deletion
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    for v in ["volume-a", "volume-b"] {
        assert_eq!(lv("vg-clvm", v).map(|l| l.size), Some(64 * M), "{v}: {r:?}");
    }
    assert!(
        !r.stderr.contains("lvm shell") && !r.stdout.contains("lvm shell"),
        "the lvm shell works with cinder's lvm.conf too: {r:?}"
    );
    s.write(
        "desired-state.yaml",
        "backends:\n  thin:\n    volumes:\n      volume-a: { size: 128M }\n      volume-b: { state: absent }\n",
    );
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(lv("vg-clvm", "volume-a").map(|l| l.size), Some(128 * M));
    assert!(lv("vg-clvm", "volume-b").is_none(), "{r:?}");
    // where lvm's archives went: cinder's, as under cinder-volume (and not /etc/lvm)
    assert!(
        archived("/etc/cinder/archive", "vg-clvm").len() >= 3,
        "archives in /etc/cinder/archive: {:?}",
        archived("/etc/cinder/archive", "vg-clvm")
    );
    assert!(
        std::path::Path::new("/etc/cinder/backup/vg-clvm").is_file(),
        "the VG's metadata backup in /etc/cinder/backup"
    );
}
