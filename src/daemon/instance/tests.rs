use super::*;
use std::os::unix::fs::{PermissionsExt, symlink};

fn config(run_dir: &std::path::Path) -> Config {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("cinder.conf");
    std::fs::write(
        &f,
        format!(
            "[DEFAULT]\nenabled_backends = x\n[ember]\nrun_dir = {}\n",
            run_dir.display()
        ),
    )
    .unwrap();
    crate::config::load(&crate::config::Sources {
        config_files: vec![f],
        config_dirs: vec![],
        allow_insecure_files: true,
    })
    .config
    .unwrap()
}

#[test]
fn a_link_planted_as_the_lock_file_is_neither_followed_nor_truncated() {
    let d = tempfile::tempdir().unwrap();
    let run = d.path().join("run");
    std::fs::create_dir(&run).unwrap();
    let victim = d.path().join("victim");
    std::fs::write(&victim, "keep me").unwrap();
    symlink(&victim, run.join(LOCK_FILE)).unwrap();
    let e = single_instance(&config(&run), None).unwrap_err();
    assert!(e.contains("is a symbolic link, not a regular file"), "{e}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
}

#[test]
fn a_run_dir_others_can_write_is_refused_and_a_good_one_is_made_private() {
    let d = tempfile::tempdir().unwrap();
    let run = d.path().join("run");
    std::fs::create_dir(&run).unwrap();
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o777)).unwrap();
    let e = single_instance(&config(&run), None).unwrap_err();
    assert!(e.contains("writable by everyone (mode 0777)"), "{e}");
    assert!(!run.join(LOCK_FILE).exists());

    let fresh = d.path().join("fresh/run");
    let (_dir, lock) = single_instance(&config(&fresh), None).unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&fresh), 0o700);
    assert_eq!(mode(&fresh.join(LOCK_FILE)), 0o600);
    assert_eq!(
        std::fs::read_to_string(fresh.join(LOCK_FILE)).unwrap(),
        std::process::id().to_string()
    );
    // a second daemon is told who holds it
    let e = single_instance(&config(&fresh), None).unwrap_err();
    assert!(e.contains("another ember daemon is running"), "{e}");
    assert!(e.contains(&std::process::id().to_string()), "{e}");
    drop(lock);
}

#[test]
fn a_fifo_as_the_lock_file_is_refused_without_waiting() {
    let d = tempfile::tempdir().unwrap();
    let run = d.path().join("run");
    std::fs::create_dir(&run).unwrap();
    nix::unistd::mkfifo(
        &run.join(LOCK_FILE),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    let e = single_instance(&config(&run), None).unwrap_err();
    assert!(e.contains("is a FIFO"), "{e}");
}
