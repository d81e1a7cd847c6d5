use super::*;
use std::os::unix::fs::{PermissionsExt, symlink};

/// The attack of issue 28: whoever owns a directory on the way (`/var/lib/cinder`, owned by
/// cinder) swaps root's subdirectory for a link to an older file; ember must not plan from it.
#[test]
fn a_directory_on_the_way_that_another_user_owns_is_refused_naming_it_and_its_owner() {
    if !checks(false) {
        eprintln!("!!! NOT TESTED (not root): the checks apply to root");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let cinder = d.path().join("cinder");
    std::fs::create_dir_all(cinder.join("ember")).unwrap();
    std::fs::write(cinder.join("ember/desired-state.yaml"), "new").unwrap();
    std::fs::create_dir_all(cinder.join("old")).unwrap();
    std::fs::write(cinder.join("old/desired-state.yaml"), "old").unwrap();
    let path = cinder.join("ember/desired-state.yaml");
    assert_eq!(read_input(&path, 100, true).unwrap().bytes, b"new");
    nix::unistd::chown(&cinder, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    // the swap the owner of `cinder` can make
    std::fs::rename(cinder.join("ember"), cinder.join("ember.gone")).unwrap();
    symlink(cinder.join("old"), cinder.join("ember")).unwrap();
    let e = read_input(&path, 100, true).unwrap_err();
    let msg = refusal("the desired state", &e.to_string());
    assert!(matches!(e, InputError::Untrusted(_)), "{msg}");
    assert!(
        msg.contains(&format!(
            "{} is owned by nobody (uid 65534), not root",
            cinder.display()
        )),
        "{msg}"
    );
    // unchecked (--allow-insecure-files), it is read
    assert_eq!(read_input(&path, 100, false).unwrap().bytes, b"old");
}

#[test]
fn a_file_others_can_write_is_refused_and_a_missing_one_is_missing() {
    if !checks(false) {
        eprintln!("!!! NOT TESTED (not root): the checks apply to root");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("cinder.conf");
    std::fs::write(&f, "[DEFAULT]\n").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o666)).unwrap();
    let e = read_input(&f, 100, true).unwrap_err();
    assert!(
        e.to_string().contains("writable by everyone (mode 0666)"),
        "{e}"
    );
    assert!(
        read_input(&d.path().join("none"), 100, true)
            .unwrap_err()
            .not_found()
    );
    assert!(
        read_input(&d.path().join("none"), 100, false)
            .unwrap_err()
            .not_found()
    );
}
