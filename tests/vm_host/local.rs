//! What a local user other than root can do to ember on a cinder host (issue 28, items 8, 10,
//! 11): take the VG lock's place first, use the control socket, own a directory on the way to
//! the desired state.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use super::common::vm::*;
use super::support::*;

/// What any local user can do before ember first runs: make the directory where the VG locks
/// used to be (`/run/lock` is world-writable).
fn alice_makes_the_old_lock_directory() {
    // an earlier ember of this boot may have made it as root
    if std::fs::symlink_metadata("/run/lock/ember").is_ok_and(|m| m.uid() == 0) {
        std::fs::remove_dir_all("/run/lock/ember").unwrap();
    }
    if std::fs::symlink_metadata("/run/lock/ember").is_err() {
        let r = as_user("alice", "mkdir", &["-m", "0755", "/run/lock/ember"]);
        assert!(r.status.success(), "{r:?}");
    }
    let m = std::fs::symlink_metadata("/run/lock/ember").unwrap();
    assert_ne!(m.uid(), 0, "alice's, as in the issue");
}

fn mode(p: &str) -> (u32, u32, u32) {
    let m = std::fs::symlink_metadata(p).unwrap_or_else(|e| panic!("{p}: {e}"));
    (m.uid(), m.gid(), m.permissions().mode() & 0o7777)
}

#[test]
#[ignore = "VM test: tests/vm/run-tests host"]
fn vm_host_a_lock_directory_a_user_made_first_stops_no_write() {
    require_cinder_host();
    alice_makes_the_old_lock_directory();
    // nor can she make the new place first: only root makes anything in /run
    let r = as_user("alice", "mkdir", &["-p", "/run/ember/lock"]);
    assert!(!r.status.success(), "alice made /run/ember/lock: {r:?}");

    create_vg("vg-local-lock");
    // (lvm_conf_file = None: writes under cinder's lvm.conf are another item's)
    let s = cinder_host(
        &[("lock", "vg-local-lock", "lvm_conf_file = None")],
        "backends:\n  lock:\n    volumes:\n      v1: { size: 64M }\n",
    );
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(lv("vg-local-lock", "v1").is_some(), "{r:?}");
    // the lock is root's alone, where no one else can make it; alice's directory is not used
    assert_eq!(mode("/run/ember/lock"), (0, 0, 0o700));
    let (uid, _, m) = mode("/run/ember/lock/vg-local-lock.lock");
    assert_eq!((uid, m), (0, 0o600));
    assert!(!Path::new("/run/lock/ember/vg-local-lock.lock").exists());
    // and a second pass takes the same lock again
    assert_eq!(s.ember(&["apply"]).code, 0);
}
