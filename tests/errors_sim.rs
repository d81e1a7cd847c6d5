//! Errors an operator can act on: each bad input names its file, line and column, says
//! `error:`, and names the fix in the file's words (not serde's or Rust's).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

mod common;
use common::*;

fn check(desired: &str) -> Run {
    let s = Scratch::new();
    s.write(
        "cinder.conf",
        "[DEFAULT]\nenabled_backends = a\n[a]\nvolume_group = vg-a\n",
    );
    s.write("desired-state.yaml", desired);
    s.ember(&["check"])
}

#[test]
fn a_rejected_backends_summary_says_it_is_rejected() {
    let r = check("backends:\n  a:\n    volumes:\n      v1: 10G\n");
    assert!(
        r.stdout
            .contains("0 backend(s), 0 volume(s) usable; 1 error(s) below reject the rest"),
        "{r:?}"
    );
}

#[test]
fn each_yaml_mistake_gets_its_line_and_the_fix() {
    for (desired, wants) in [
        (
            "backends:\n  a:\n    volumes:\n\tv1: { size: 1G }\n",
            "desired-state.yaml:4:1: error: a tab: YAML indents with spaces only (replace the tab with spaces)",
        ),
        (
            "backends:\n  a:\n    volumes:\n      v1: 10G\n",
            "desired-state.yaml:4:11: error: backends.a.volumes.v1: invalid type: string \"10G\", expected a volume: a mapping such as `{ size: 10G }`",
        ),
        (
            "backends:\n  a:\n    volumes:\n      v1: { size: 10GB }\n",
            "desired-state.yaml:4:19: error: backends.a.volumes.v1.size: size \"10GB\" is ambiguous: GB means 1000s to some and 1024s to others; write 10G or 10GiB",
        ),
        (
            "backends:\n  a:\n    thin_pool: 90%\n",
            "error: backends.a.thin_pool: invalid type: string \"90%\", expected a thin pool: a mapping such as `{ size: 90% }`",
        ),
    ] {
        let r = check(desired);
        assert_eq!(r.code, 1, "{r:?}");
        assert!(r.stderr.contains(wants), "{wants}\n{r:?}");
        assert!(
            !r.stderr.contains("struct Raw") && !r.stderr.contains("cannot start any token"),
            "{r:?}"
        );
        // a rejected file's summary never reads as a file with nothing in it
        assert!(!r.stdout.contains("0 volume(s)\n"), "{r:?}");
    }
}

#[test]
fn a_backend_of_another_driver_in_the_desired_state_fails_plan_and_apply_as_it_fails_check() {
    let s = Scratch::new();
    s.write(
        "cinder.conf",
        &format!("[DEFAULT]\nenabled_backends = lvm-1,nfs\n[lvm-1]\nvolume_group = vg1\n[nfs]\nvolume_driver = cinder.volume.drivers.nfs.NfsDriver\n[ember]\nrun_dir = {}\n", s.path("run").display()),
    );
    s.write("lvm.json", r#"{"vgs": {"vg1": {"size": 10737418240}}}"#);
    s.write(
        "desired-state.yaml",
        "backends:\n  lvm-1:\n    volumes:\n      a: { size: 1G }\n  nfs:\n    volumes:\n      b: { size: 1G }\n",
    );
    let sim = format!("sim:{}", s.path("lvm.json").display());
    let msg = "desired-state.yaml:5: error: backend \"nfs\" uses volume_driver cinder.volume.drivers.nfs.NfsDriver which ember does not manage";
    for cmd in ["check", "plan", "apply"] {
        let r = s.ember(&["--lvm", &sim, cmd]);
        assert_eq!(r.code, 1, "{cmd}: {r:?}");
        assert!(r.stderr.contains(msg), "{cmd}: {r:?}");
    }
    // the LVM backend's part is its own: planned and applied all the same, and alone it is fine
    let r = s.ember(&["--lvm", &sim, "plan", "--backend", "lvm-1"]);
    assert_eq!(r.code, 0, "applied above: {r:?}");
}

#[test]
fn plan_apply_and_import_as_another_user_say_they_need_root() {
    if !is_root_or_say_so("running ember as the user nobody") {
        return;
    }
    for cmd in ["plan", "apply", "import"] {
        let out = std::process::Command::new("setpriv")
            .args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
            .arg(ember_bin())
            .arg(cmd)
            .current_dir("/")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{cmd}: {err}");
        assert!(
            err.contains(&format!(
                "`ember {cmd}` runs lvm, which needs root: run it as root (sudo ember {cmd})"
            )),
            "{cmd}: {err}"
        );
        assert!(!err.contains("fullreport"), "no lvm command line: {err}");
    }
}

#[test]
fn a_volume_group_not_found_names_the_setting_and_the_groups_there_are() {
    let s = Scratch::new();
    s.write(
        "cinder.conf",
        &format!("[DEFAULT]\nenabled_backends = lvm-1\n[lvm-1]\nvolume_group = cinder-volume\n[ember]\nrun_dir = {}\n", s.path("run").display()),
    );
    s.write(
        "lvm.json",
        r#"{"vgs": {"cinder-volumes": {"size": 10737418240}, "system": {"size": 10737418240}}}"#,
    );
    s.write("desired-state.yaml", "backends: {}\n");
    let sim = format!("sim:{}", s.path("lvm.json").display());
    let r = s.ember(&["--lvm", &sim, "plan"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains(
            "error: volume group \"cinder-volume\" not found (cinder.conf's volume_group of [lvm-1]; volume groups here: cinder-volumes, system)"
        ),
        "{r:?}"
    );
}
