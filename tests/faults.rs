//! LVM misbehaving, through a fake `lvm` (the test-only `--lvm exec:PATH`): a read that hangs is
//! killed and reported; a crash (exit 139) of a read is retried once; a report ember cannot read
//! is a clear error; a slow write is waited for and never killed; in the daemon, one backend's
//! hanging lvm degrades that backend only.

mod common;
use common::daemon::*;
use common::*;

use std::time::{Duration, Instant};

/// A fake lvm: `fullreport` runs `read`, anything else runs `write` (bash snippets). `$VG` is the
/// volume group asked for; reports are the captured empty-VG fixture renamed to it.
fn fake_lvm(s: &Scratch, read: &str, write: &str) -> String {
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lvm/empty-vg.json");
    let dir = s.dir.path().display();
    let script = format!(
        "#!/bin/bash\nD={dir}\nVG=\"${{@: -1}}\"\necho \"$*\" >> $D/calls\nreport() {{ sed \"s/vgfix/$VG/\" {fixture}; }}\n\
         case \"$1\" in\n  fullreport) {read} ;;\n  *) {write} ;;\nesac\n",
        fixture = fixture.display()
    );
    let p = s.write("fake-lvm", &script);
    std::process::Command::new("chmod")
        .arg("755")
        .arg(&p)
        .status()
        .unwrap();
    format!("exec:{}", p.display())
}

fn setup(ember_opts: &str, desired: &str) -> Scratch {
    let s = Scratch::new();
    s.write("cinder.conf", &format!(
        "[DEFAULT]\nenabled_backends = a,b\n[a]\nvolume_group = vga\nlvm_conf_file = None\n[b]\nvolume_group = vgb\nlvm_conf_file = None\n\
         [ember]\nrun_dir = {}\n{ember_opts}\n", s.path("run").display()));
    s.write("desired-state.yaml", desired);
    s
}

fn calls(s: &Scratch) -> Vec<String> {
    std::fs::read_to_string(s.path("calls"))
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn a_hanging_read_is_killed_and_reported() {
    let s = setup("lvm_read_timeout = 1", "backends: {}\n");
    let lvm = fake_lvm(&s, "exec -a ember-fake-hang sleep 60", "exit 0");
    let t = Instant::now();
    let r = s.ember(&["--lvm", &lvm, "plan", "--backend", "a"]);
    assert!(t.elapsed() < Duration::from_secs(10), "not stuck");
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout
            .contains("did not finish within 1 s and was killed"),
        "{r:?}"
    );
    let left = std::process::Command::new("pgrep")
        .args(["-f", "ember-fake-hang"])
        .output()
        .unwrap();
    assert!(left.stdout.is_empty(), "the hung lvm was killed");
}

#[test]
fn a_read_that_crashes_once_is_retried() {
    let s = setup("", "backends:\n  a:\n    volumes:\n      v: { size: 1G }\n");
    let lvm = fake_lvm(
        &s,
        "if [ ! -e $D/crashed ]; then touch $D/crashed; exit 139; fi; report",
        "exit 0",
    );
    let r = s.ember(&["--lvm", &lvm, "plan", "--backend", "a"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.contains("+ create volume v"), "{r:?}");
    assert_eq!(calls(&s).len(), 2, "one crash, one retry");
}

#[test]
fn a_write_that_crashes_is_not_retried() {
    let s = setup("", "backends:\n  a:\n    volumes:\n      v: { size: 1G }\n");
    let lvm = fake_lvm(&s, "report", "echo 'Internal error' >&2; exit 139");
    let r = s.ember(&["--lvm", &lvm, "apply", "--backend", "a"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains("FAILED") && r.stdout.contains("exit 139"),
        "{r:?}"
    );
    let writes = calls(&s)
        .iter()
        .filter(|c| c.starts_with("lvcreate"))
        .count();
    assert_eq!(
        writes, 1,
        "a failed write is never repeated blindly (the pool step failed, the rest skipped)"
    );
}

#[test]
fn an_unreadable_report_is_a_clear_error() {
    for bad in [
        "echo '{\"report\": [{\"vg\": [{\"vg_name\": \"'$VG'\", \"vg_size\": \"lots\"'",
        "echo 'WARNING: something'",
        "head -c 100 /dev/urandom",
    ] {
        let s = setup("", "backends: {}\n");
        let lvm = fake_lvm(&s, bad, "exit 0");
        let r = s.ember(&["--lvm", &lvm, "plan", "--backend", "a"]);
        assert_eq!(r.code, 1, "{bad}: {r:?}");
        assert!(
            r.stdout.contains("printed a report ember cannot read"),
            "{bad}: {r:?}"
        );
    }
}

#[test]
fn a_slow_write_is_waited_for_and_never_killed() {
    let s = setup(
        "lvm_write_warn_after = 1",
        "backends:\n  a:\n    volumes:\n      v: { size: 1G }\n",
    );
    let lvm = fake_lvm(&s, "report", "sleep 3; echo \"$*\" >> $D/finished; exit 0");
    let t = Instant::now();
    let r = s.ember(&[
        "--lvm",
        &lvm,
        "--log-level",
        "warn",
        "apply",
        "--backend",
        "a",
    ]);
    assert!(
        t.elapsed() >= Duration::from_secs(6),
        "waited for both writes (pool, volume)"
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("ember never kills a write"), "{r:?}");
    let finished = std::fs::read_to_string(s.path("finished")).unwrap_or_default();
    assert_eq!(
        finished.lines().count(),
        2,
        "both writes ran to the end: {finished}"
    );
}

#[test]
fn one_backends_hanging_lvm_degrades_that_backend_only() {
    let s = setup(
        "lvm_read_timeout = 1\nresync_interval = 3600",
        "backends:\n  a:\n    volumes:\n      v: { size: 1G }\n  b: {}\n",
    );
    let lvm = fake_lvm(
        &s,
        "if [ \"$VG\" = vga ]; then exec sleep 60; fi; report",
        "exit 0",
    );
    let d = Daemon::start(s.dir.path(), &s.path("cinder.conf"), &["--lvm", &lvm]);
    let st = d.wait_ready(20);
    assert_eq!(backend(&st, "a")["state"], "error", "{st:#}");
    assert!(
        backend(&st, "a")["last_pass"]["error"]
            .as_str()
            .unwrap()
            .contains("was killed"),
        "{st:#}"
    );
    assert_eq!(backend(&st, "b")["state"], "converged", "{st:#}");
    let line = d.ember(&["status"]).stdout;
    assert!(
        line.contains("2 backends: 1 converged, 1 error (a: "),
        "{line}"
    );
    // and the daemon keeps serving
    assert_eq!(d.ember(&["reconcile", "--backend", "b"]).code, 0);
}

#[test]
fn lvm_runs_with_a_clean_environment() {
    let s = setup("", "backends: {}\n");
    let lvm = fake_lvm(&s, "env > $D/env; report", "exit 0");
    let out = std::process::Command::new(ember_bin())
        .args(["--config-file"])
        .arg(s.path("cinder.conf"))
        .args(["--lvm", &lvm, "plan", "--backend", "a"])
        .env("LVM_SYSTEM_DIR", "/evil")
        .env("LVM_COMMAND_PROFILE", "evil")
        .env("LD_PRELOAD", "/evil.so")
        .env("SECRET_TOKEN", "x")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let env = std::fs::read_to_string(s.path("env")).unwrap();
    let names: Vec<&str> = env
        .lines()
        .filter_map(|l| l.split('=').next())
        .filter(|n| !["PWD", "SHLVL", "_", "OLDPWD"].contains(n))
        .collect();
    assert_eq!(names, ["LC_ALL", "PATH"], "only what ember sets: {env}");
}
