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

/// `ember plan` against a host whose volume groups are `cinder-volumes` and `system`, with this
/// cinder.conf (`RUN` replaced by a run directory).
fn plan_with(s: &Scratch, conf: &str) -> Run {
    s.write(
        "cinder.conf",
        &conf.replace("RUN", &s.path("run").display().to_string()),
    );
    s.write(
        "lvm.json",
        r#"{"vgs": {"cinder-volumes": {"size": 10737418240}, "system": {"size": 10737418240}}}"#,
    );
    s.write("desired-state.yaml", "backends: {}\n");
    let sim = format!("sim:{}", s.path("lvm.json").display());
    s.ember(&["--lvm", &sim, "plan"])
}

#[test]
fn a_volume_group_not_found_names_the_line_that_set_it_and_the_groups_there_are() {
    let s = Scratch::new();
    let conf = s.path("cinder.conf").display().to_string();
    // set in the backend's own section
    let r = plan_with(
        &s,
        "[DEFAULT]\nenabled_backends = lvm-1\n[lvm-1]\n# the VG\nvolume_group = cinder-volume\n[ember]\nrun_dir = RUN\n",
    );
    assert_eq!(r.code, 1, "{r:?}");
    let want = format!(
        "error: volume group \"cinder-volume\" not found: volume_group = cinder-volume ({conf}:5); volume groups here: cinder-volumes, system"
    );
    assert!(r.stdout.contains(&want), "{want}\n{r:?}");
    // given by [backend_defaults] (oslo.config: the backend's section does not set it)
    let r = plan_with(
        &s,
        "[DEFAULT]\nenabled_backends = lvm-1\n[backend_defaults]\nvolume_group = vg-typo\n[lvm-1]\nlvm_type = thin\n[ember]\nrun_dir = RUN\n",
    );
    let want = format!(
        "error: volume group \"vg-typo\" not found: volume_group = vg-typo ({conf}:4) in [backend_defaults], which [lvm-1] does not override; volume groups here: cinder-volumes, system"
    );
    assert!(r.stdout.contains(&want), "{want}\n{r:?}");
    // set nowhere: cinder's default, and where to set it
    let r = plan_with(
        &s,
        "[DEFAULT]\nenabled_backends = lvm-1\n[lvm-1]\nlvm_type = thin\n[ember]\nrun_dir = RUN\n",
    );
    assert_eq!(r.code, 0, "cinder-volumes exists here: {r:?}");
    s.write(
        "cinder.conf",
        &format!(
            "[DEFAULT]\nenabled_backends = lvm-1\n[lvm-1]\nlvm_type = thin\n[ember]\nrun_dir = {}\n",
            s.path("run").display()
        ),
    );
    s.write("lvm.json", r#"{"vgs": {"system": {"size": 10737418240}}}"#);
    let sim = format!("sim:{}", s.path("lvm.json").display());
    let r = s.ember(&["--lvm", &sim, "plan"]);
    let want = format!(
        "error: volume group \"cinder-volumes\" not found: neither [lvm-1] nor [backend_defaults] sets volume_group, so cinder's default cinder-volumes applies: set volume_group in [lvm-1] of {conf}; volume groups here: system"
    );
    assert!(r.stdout.contains(&want), "{want}\n{r:?}");
}

#[test]
fn the_daemons_status_names_the_line_of_a_volume_group_not_found() {
    use common::daemon::*;
    let s = Scratch::new();
    s.write(
        "cinder.conf",
        &format!(
            "[DEFAULT]\nenabled_backends = lvm-1\n[lvm-1]\nvolume_group = cinder-volume\n[ember]\nrun_dir = {}\n",
            s.path("run").display()
        ),
    );
    s.write(
        "lvm.json",
        r#"{"vgs": {"cinder-volumes": {"size": 10737418240}}}"#,
    );
    s.write("desired-state.yaml", "backends: {}\n");
    let sim = format!("sim:{}", s.path("lvm.json").display());
    let mut d = Daemon::start(s.dir.path(), &s.path("cinder.conf"), &["--lvm", &sim]);
    let want = format!(
        "volume group \"cinder-volume\" not found: volume_group = cinder-volume ({}:4); volume groups here: cinder-volumes",
        s.path("cinder.conf").display()
    );
    // the worker's own pass says it (its configuration came from the supervisor)
    let st = d.wait_for("the pass failed", 10, |st| {
        backend(st, "lvm-1")["last_pass"]["error"].is_string()
    });
    assert_eq!(
        backend(&st, "lvm-1")["last_pass"]["error"],
        want.as_str(),
        "{st:#}"
    );
    let r = d.ember(&["status"]);
    assert!(r.stdout.contains(&want), "{want}\n{r:?}");
    d.stop(10);
}

/// Four independent mistakes in two backends, and a third backend that is fine.
const MISTAKES: &str = "\
backends:
  lvm-1:
    prune: true
    volumes:
      kept: { size: 1G }
      bare: 10G
      decimal: { size: 10GB }
  lvm-2:
    volume: {}
    volumes:
      typo: { size: 1G, sise: 2G }
      ring-a: { size: 1G, source: { volume: ring-b } }
      ring-b: { size: 1G, source: { volume: ring-a } }
  lvm-3:
    volumes:
      fine: { size: 1G }
";

/// Each of MISTAKES' errors as `file:line[:column]: error: …`.
const MISTAKES_SAID: &[&str] = &[
    "desired-state.yaml:6:13: error: backends.lvm-1.volumes.bare: invalid type: string \"10G\", expected a volume: a mapping such as `{ size: 10G }`",
    "desired-state.yaml:7:24: error: backends.lvm-1.volumes.decimal.size: size \"10GB\" is ambiguous: GB means 1000s to some and 1024s to others; write 10G or 10GiB",
    "desired-state.yaml:9:5: error: backends.lvm-2: unknown field `volume`, expected one of `volume_group`, `thin_pool`, `prune`, `adopt`, `volumes`, `snapshots`",
    "desired-state.yaml:11:25: error: backends.lvm-2.volumes.typo: unknown field `sise`, expected one of `size`, `state`, `source`, `export`",
    "desired-state.yaml:12: error: ring-a: made from itself through ring-a <- ring-b <- ring-a: none of them can be made first",
];

fn three_backends(s: &Scratch) -> String {
    let mut c = "[DEFAULT]\nenabled_backends = lvm-1,lvm-2,lvm-3\n".to_string();
    for b in ["lvm-1", "lvm-2", "lvm-3"] {
        c.push_str(&format!("[{b}]\nvolume_group = vg-{b}\n"));
    }
    c.push_str(&format!(
        "[ember]\nrun_dir = {}\nresync_interval = 3600\n",
        s.path("run").display()
    ));
    s.write("cinder.conf", &c);
    s.write(
        "lvm.json",
        r#"{"vgs": {"vg-lvm-1": {"size": 10737418240}, "vg-lvm-2": {"size": 10737418240}, "vg-lvm-3": {"size": 10737418240}}}"#,
    );
    format!("sim:{}", s.path("lvm.json").display())
}

fn lvs(s: &Scratch, vg: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(&s.read("lvm.json")).unwrap();
    v["vgs"][vg]["lvs"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn every_mistake_of_a_desired_state_is_reported_at_once_by_check_plan_and_apply() {
    let s = Scratch::new();
    let sim = three_backends(&s);
    s.write("desired-state.yaml", MISTAKES);
    for cmd in ["check", "plan", "apply"] {
        let r = s.ember(&["--lvm", &sim, cmd]);
        assert_eq!(r.code, 1, "{cmd}: {r:?}");
        for said in MISTAKES_SAID {
            assert!(r.stderr.contains(said), "{cmd}: {said}\n{r:?}");
        }
        assert_eq!(
            r.stderr.matches(": error: ").count(),
            MISTAKES_SAID.len(),
            "{cmd}: {r:?}"
        );
    }
    let r = s.ember(&["--lvm", &sim, "check"]);
    assert!(
        r.stdout
            .contains("1 backend(s), 1 volume(s) usable; 5 error(s) below reject the rest"),
        "{r:?}"
    );
    // a broken part is rejected whole: nothing of lvm-1 (not even `kept`) nor of lvm-2 was
    // made; lvm-3 was
    assert!(lvs(&s, "vg-lvm-1").is_empty());
    assert!(lvs(&s, "vg-lvm-2").is_empty());
    assert!(lvs(&s, "vg-lvm-3").contains(&"fine".to_string()));
}

#[test]
fn the_daemon_shows_every_mistake_of_a_rejected_desired_state() {
    use common::daemon::*;
    let s = Scratch::new();
    let sim = three_backends(&s);
    s.write("desired-state.yaml", MISTAKES);
    let mut d = Daemon::start(s.dir.path(), &s.path("cinder.conf"), &["--lvm", &sim]);
    let st = d.wait_for("both rejected", 10, |st| {
        backend(st, "lvm-1")["state"] == "rejected" && backend(st, "lvm-2")["state"] == "rejected"
    });
    assert_eq!(
        backend(&st, "lvm-1")["desired_state_problems"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "{st:#}"
    );
    assert_eq!(
        backend(&st, "lvm-2")["desired_state_problems"]
            .as_array()
            .unwrap()
            .len(),
        3,
        "{st:#}"
    );
    let r = d.ember(&["status"]);
    assert_eq!(r.code, 2, "{r:?}");
    for said in MISTAKES_SAID {
        assert!(r.stdout.contains(said), "{said}\n{r:?}");
    }
    d.stop(10);
    // the journal (here: stderr) has each of them too
    let log = d.log();
    for said in MISTAKES_SAID {
        assert!(log.contains(said), "{said}\n{log}");
    }
}
