use super::*;

fn spec(d: &tempfile::TempDir) -> LvmSpec {
    LvmSpec::Sim(d.path().join("lvm.json"))
}

#[test]
fn a_daemon_holding_the_lock_is_a_refusal_that_says_what_to_do() {
    let d = tempfile::tempdir().unwrap();
    let vg = VgName::new("vg").unwrap();
    let who = Holder::Daemon {
        backend: "lvm-1".into(),
    };
    let _held = VgLock::acquire(&spec(&d), &vg, &who, Duration::ZERO).unwrap();
    let e = VgLock::acquire(&spec(&d), &vg, &Holder::Apply, Duration::from_secs(5)).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, LockError::Daemon { .. }), "{msg}");
    assert!(msg.contains("ember reconcile --backend lvm-1"), "{msg}");
    assert!(msg.contains(&std::process::id().to_string()), "{msg}");
}

#[test]
fn another_apply_is_waited_for_then_refused_and_other_vgs_are_free() {
    let d = tempfile::tempdir().unwrap();
    let vg = VgName::new("vg").unwrap();
    let held = VgLock::acquire(&spec(&d), &vg, &Holder::Apply, Duration::ZERO).unwrap();
    let t = Instant::now();
    let e =
        VgLock::acquire(&spec(&d), &vg, &Holder::Apply, Duration::from_millis(300)).unwrap_err();
    assert!(matches!(e, LockError::Apply { .. }), "{e}");
    assert!(t.elapsed() >= Duration::from_millis(300), "it waited");
    let other = VgName::new("vg2").unwrap();
    assert!(VgLock::acquire(&spec(&d), &other, &Holder::Apply, Duration::ZERO).is_ok());
    drop(held);
    assert!(VgLock::acquire(&spec(&d), &vg, &Holder::Apply, Duration::ZERO).is_ok());
}

#[test]
fn the_real_lvms_lock_lives_where_no_setting_moves_it() {
    let vg = VgName::new("cinder-volumes").unwrap();
    assert_eq!(
        LvmSpec::Exec("lvm".into()).lock_path(&vg),
        Path::new("/run/ember/lock/cinder-volumes.lock")
    );
}

#[test]
fn a_symlink_or_someone_elses_file_is_never_written_through() {
    let d = tempfile::tempdir().unwrap();
    let vg = VgName::new("vg").unwrap();
    let victim = d.path().join("victim");
    std::fs::write(&victim, "keep me").unwrap();
    std::os::unix::fs::symlink(&victim, spec(&d).lock_path(&vg)).unwrap();
    let e = VgLock::acquire(&spec(&d), &vg, &Holder::Apply, Duration::ZERO).unwrap_err();
    assert!(matches!(e, LockError::Io { .. }), "{e}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
}

#[test]
fn the_lock_directory_must_be_ours_alone() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let vg = VgName::new("vg").unwrap();
    let take = |dir: &Path| VgLock::acquire_in(dir, "vg.lock", &vg, &Holder::Apply, Duration::ZERO);
    let open = d.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let e = take(&open).unwrap_err().to_string();
    assert!(e.contains("is writable by everyone (mode 1777)"), "{e}");
    assert!(!open.join("vg.lock").exists());
    let mine = d.path().join("run/lock");
    drop(take(&mine).unwrap());
    for (p, want) in [(d.path().join("run"), 0o700), (mine.clone(), 0o700)] {
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, want, "{}", p.display());
    }
    let mode = std::fs::metadata(mine.join("vg.lock"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// What a local user did to `/run/lock/ember` (issue 28): made the directory first. Wherever
/// the lock lives, a directory someone else made is refused by name, never used.
#[test]
fn a_lock_directory_another_user_made_first_is_refused_with_its_owner() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("!!! NOT TESTED (not root): a directory of another user's");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let theirs = d.path().join("ember");
    std::fs::create_dir(&theirs).unwrap();
    nix::unistd::chown(&theirs, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    let vg = VgName::new("vg").unwrap();
    let e = VgLock::acquire_in(&theirs, "vg.lock", &vg, &Holder::Apply, Duration::ZERO)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&format!(
            "{} is owned by nobody (uid 65534), not root",
            theirs.display()
        )),
        "{e}"
    );
}

/// The real lock's directory is one no user can make: below `/run`, not `/run/lock` (which is
/// world-writable).
#[test]
fn the_real_lock_directory_is_not_below_a_world_writable_one() {
    let dir = Path::new(LOCK_DIR);
    assert!(dir.starts_with("/run/ember"), "{}", dir.display());
    assert!(!dir.starts_with("/run/lock"), "{}", dir.display());
}

#[test]
fn a_dead_daemons_line_is_not_taken_for_the_holder() {
    // the lock is held (by an apply that has not written its line yet); the file still says a
    // daemon whose process is gone: that is waited for, not refused
    let d = tempfile::tempdir().unwrap();
    let vg = VgName::new("vg").unwrap();
    let held = VgLock::acquire(&spec(&d), &vg, &Holder::Apply, Duration::ZERO).unwrap();
    std::fs::write(spec(&d).lock_path(&vg), "999999999 daemon lvm-1\n").unwrap();
    let e =
        VgLock::acquire(&spec(&d), &vg, &Holder::Apply, Duration::from_millis(200)).unwrap_err();
    assert!(matches!(e, LockError::Apply { .. }), "{e}");
    drop(held);
}
