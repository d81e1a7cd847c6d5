//! A slip of the keyboard gets named, not obeyed in silence: a backend name or a cinder.conf
//! option one or two characters off (a warning with "did you mean"), a `--desired-state` that
//! names no file (an error), a `--log-level` that is not one, and `--config-file` given on both
//! sides of the command (every one read, in order).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

mod common;
use common::*;

/// `[DEFAULT] enabled_backends = lvm-1`, `[lvm-1] volume_group = vg1`, the simulator's LVM with
/// a 10 GiB vg1; returns the `--lvm` value.
fn host(s: &Scratch) -> String {
    s.write(
        "cinder.conf",
        &format!(
            "[DEFAULT]\nenabled_backends = lvm-1\n[lvm-1]\nvolume_group = vg1\n[ember]\nrun_dir = {}\n",
            s.path("run").display()
        ),
    );
    s.write("lvm.json", r#"{"vgs": {"vg1": {"size": 10737418240}}}"#);
    format!("sim:{}", s.path("lvm.json").display())
}

fn lvs(s: &Scratch) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(&s.read("lvm.json")).unwrap();
    let mut names: Vec<String> = v["vgs"]["vg1"]["lvs"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn a_backend_name_one_character_off_says_which_it_means_and_touches_nothing() {
    let s = Scratch::new();
    let sim = host(&s);
    s.write(
        "desired-state.yaml",
        "backends:\n  lvm-1:\n    volumes:\n      a: { size: 1G }\n      b: { size: 1G }\n",
    );
    assert_eq!(s.ember(&["--lvm", &sim, "apply"]).code, 0);
    let before = lvs(&s);
    assert!(before.contains(&"a".to_string()), "{before:?}");
    // the backend's name mistyped, with prune on and none of its volumes declared
    s.write(
        "desired-state.yaml",
        "backends:\n  lvm1:\n    prune: true\n    volumes:\n      c: { size: 1G }\n",
    );
    let desired = s.path("desired-state.yaml").display().to_string();
    let want = format!(
        "{desired}:2: warning: backend \"lvm1\" is not in enabled_backends (lvm-1): ignored until it is enabled; did you mean lvm-1?"
    );
    for cmd in ["check", "plan", "apply"] {
        let r = s.ember(&["--lvm", &sim, cmd]);
        assert!(r.stderr.contains(&want), "{cmd}: {want}\n{r:?}");
        // a warning: a backend named before it is enabled is how a host is set up
        assert_eq!(r.code, 0, "{cmd}: {r:?}");
    }
    // lvm-1, which the file no longer names, is left as it is: nothing pruned, nothing made
    assert_eq!(lvs(&s), before);
    // a backend being staged beside lvm-1 is not taken for a typo of it
    s.write(
        "desired-state.yaml",
        "backends:\n  lvm-1:\n    volumes:\n      a: { size: 1G }\n      b: { size: 1G }\n  lvm-2:\n    volumes: {}\n",
    );
    let r = s.ember(&["--lvm", &sim, "check"]);
    assert!(
        r.stderr.contains(
            "backend \"lvm-2\" is not in enabled_backends (lvm-1): ignored until it is enabled\n"
        ),
        "{r:?}"
    );
}

#[test]
fn a_misspelled_cinder_option_names_the_option_and_the_value_cinder_uses() {
    let s = Scratch::new();
    let sim = host(&s);
    s.write(
        "cinder.conf",
        &format!(
            "[DEFAULT]\nenabled_backends = lvm-1\n[lvm-1]\nvolume_grup = vg1\nvolume_backend_name = lvm-1\n[ember]\nrun_dir = {}\n",
            s.path("run").display()
        ),
    );
    s.write("desired-state.yaml", "backends: {}\n");
    let conf = s.path("cinder.conf").display().to_string();
    let want = format!(
        "{conf}:4: warning: [lvm-1] volume_grup is not an option cinder's LVM driver reads: did you mean volume_group? (cinder ignores it: the default volume_group cinder-volumes applies)"
    );
    let r = s.ember(&["--lvm", &sim, "check"]);
    assert_eq!(r.code, 0, "cinder runs with it: a warning: {r:?}");
    assert!(r.stderr.contains(&want), "{want}\n{r:?}");
    assert!(
        r.stdout
            .contains("backend lvm-1: volume group cinder-volumes"),
        "{r:?}"
    );
    assert_eq!(r.stderr.matches("warning:").count(), 1, "{r:?}");
    // plan says it too, before it fails on the volume group cinder would use
    let r = s.ember(&["--lvm", &sim, "plan"]);
    assert!(r.stderr.contains(&want), "{want}\n{r:?}");
}

#[test]
fn a_desired_state_path_given_on_the_command_line_must_exist() {
    let s = Scratch::new();
    let sim = host(&s);
    s.write(
        "desired-state.yaml",
        "backends:\n  lvm-1:\n    volumes:\n      a: { size: 1G }\n",
    );
    let typo = s.path("desired-stat.yaml");
    let want = format!(
        "{}: error: --desired-state names a file that does not exist",
        typo.display()
    );
    for cmd in ["check", "plan", "apply"] {
        let r = s.ember(&[
            "--lvm",
            &sim,
            "--desired-state",
            typo.to_str().unwrap(),
            cmd,
        ]);
        assert_eq!(r.code, 1, "{cmd}: {r:?}");
        assert!(r.stderr.contains(&want), "{cmd}: {want}\n{r:?}");
        assert!(
            !r.stdout.contains("OK") && !r.stdout.contains("No changes"),
            "{cmd}: {r:?}"
        );
    }
    assert!(lvs(&s).is_empty(), "nothing applied");
    // given after the command, the same
    let r = s.ember(&["check", "--desired-state", typo.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{r:?}");
    // the default path missing is "nothing to manage yet": a warning, as before
    std::fs::remove_file(s.path("desired-state.yaml")).unwrap();
    let r = s.ember(&["--lvm", &sim, "check"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("warning: no desired state (")
            && r.stderr.contains("ember manages nothing until it does"),
        "{r:?}"
    );
}

#[test]
fn the_daemon_does_not_start_with_a_desired_state_path_that_names_no_file() {
    use common::daemon::*;
    let s = Scratch::new();
    let sim = host(&s);
    let typo = s.path("desired-stat.yaml");
    let mut d = Daemon::start(
        s.dir.path(),
        &s.path("cinder.conf"),
        &["--lvm", &sim, "--desired-state", typo.to_str().unwrap()],
    );
    let t = std::time::Instant::now();
    let code = loop {
        if let Some(st) = d.child.try_wait().unwrap() {
            break st.code();
        }
        assert!(
            t.elapsed() < std::time::Duration::from_secs(10),
            "the daemon started: {}",
            d.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(code, Some(1), "{}", d.log());
    let log = d.log();
    assert!(
        log.contains(&format!(
            "ember daemon: --desired-state {} does not exist; not starting",
            typo.display()
        )),
        "{log}"
    );
    assert!(!s.path("run/control.sock").exists());
}

#[test]
fn a_log_level_that_is_not_one_is_refused_with_the_accepted_ones() {
    let s = Scratch::new();
    let sim = host(&s);
    s.write("desired-state.yaml", "backends: {}\n");
    for (level, hint) in [("verbose", ""), ("warning", ": did you mean warn?")] {
        let r = s.ember(&["--lvm", &sim, "--log-level", level, "check"]);
        assert_eq!(r.code, 64, "a usage error: {r:?}");
        let want = format!(
            "invalid value '{level}' for '--log-level <FILTER>': \"{level}\" is not a level{hint} (levels: error, warn, info, debug, trace, off; a filter: comma-separated TARGET=LEVEL directives, such as warn,ember=debug)"
        );
        assert!(r.stderr.contains(&want), "{want}\n{r:?}");
    }
    let r = s.ember(&["--lvm", &sim, "check", "--log-level", "ember=loud"]);
    assert_eq!(r.code, 64, "{r:?}");
    // what was accepted stays accepted: levels in any case, and RUST_LOG-style filters
    for ok in [
        "debug",
        "WARN",
        "off",
        "warn,ember=debug",
        "ember=trace",
        "info,",
    ] {
        let r = s.ember(&["--lvm", &sim, "--log-level", ok, "check"]);
        assert_eq!(r.code, 0, "{ok}: {r:?}");
    }
}

#[test]
fn config_files_and_dirs_are_read_from_both_sides_of_the_command_in_order() {
    let s = Scratch::new();
    let sim = host(&s);
    s.write("desired-state.yaml", "backends: {}\n");
    s.write(
        "lvm.json",
        r#"{"vgs": {"vg1": {"size": 10737418240}, "vg2": {"size": 10737418240}}}"#,
    );
    let second = s.write("second.conf", "[lvm-1]\nvolume_group = vg2\n");
    let third = s.write("third.conf", "[lvm-1]\nlvm_type = default\n");
    // cinder.conf before the command (common::ember_in puts it there), two files after it
    let r = s.ember(&[
        "--lvm",
        &sim,
        "check",
        "--config-file",
        second.to_str().unwrap(),
        "--config-file",
        third.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let files: Vec<&str> = r
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("config file: "))
        .collect();
    let conf = s.path("cinder.conf");
    assert_eq!(
        files,
        [
            conf.to_str().unwrap(),
            second.to_str().unwrap(),
            third.to_str().unwrap()
        ],
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("backend lvm-1: volume group vg2, lvm_type default (thick)"),
        "{r:?}"
    );
    // --config-dir likewise
    for d in ["d1", "d2"] {
        std::fs::create_dir(s.path(d)).unwrap();
    }
    s.write("d1/10.conf", "[lvm-1]\nvolume_clear = none\n");
    s.write("d2/10.conf", "[lvm-1]\nmax_over_subscription_ratio = 5\n");
    let (d1, d2) = (s.path("d1"), s.path("d2"));
    let r = s.ember(&[
        "--config-dir",
        d1.to_str().unwrap(),
        "check",
        "--config-dir",
        d2.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("max_over_subscription_ratio 5, reserved 0%")
            && r.stdout.contains("volume_clear none"),
        "{r:?}"
    );
}
