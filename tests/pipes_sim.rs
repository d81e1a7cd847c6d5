//! Output into a closed pipe: `ember plan | head -c 100` and the like end quietly (no panic, no
//! exit 101) with the command's own status, an `apply` whose reader went away finishes its
//! pass, and a daemon whose log reader went away (`ember daemon 2>&1 | head`) goes on serving.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

mod common;
use common::daemon::*;
use common::*;

use std::io::Read;
use std::process::{Command, Stdio};

/// One backend on a 10 TiB simulated VG, `volumes` declared.
fn setup(volumes: usize) -> Scratch {
    let s = Scratch::new();
    s.write(
        "cinder.conf",
        &format!(
            "[DEFAULT]\nenabled_backends = a\n[a]\nvolume_group = vg-a\n[ember]\nrun_dir = {}\nresync_interval = 3600\n",
            s.path("run").display()
        ),
    );
    s.write("lvm.json", r#"{"vgs": {"vg-a": {"size": 10995116277760}}}"#);
    let vols: String = (0..volumes)
        .map(|i| format!("      volume-{i:05}: {{ size: 1G }}\n"))
        .collect();
    s.write(
        "desired-state.yaml",
        &format!("backends:\n  a:\n    volumes:\n{vols}"),
    );
    s
}

fn sim(s: &Scratch) -> String {
    format!("sim:{}", s.path("lvm.json").display())
}

/// `ember ARGS | head -c 100`: the exit status and standard error.
fn into_head(s: &Scratch, args: &[&str]) -> (i32, String) {
    let mut child = Command::new(ember_bin())
        .arg("--config-file")
        .arg(s.path("cinder.conf"))
        .args(args)
        .current_dir(s.dir.path())
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 100];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let code = child.wait().unwrap().code().unwrap_or(-1);
    (code, err)
}

#[test]
fn one_shot_commands_into_a_closed_pipe_end_quietly_with_their_own_status() {
    // 3000 volumes declared (what is read and planned); 300 for the apply (the simulator
    // rewrites its whole file on every write)
    let (big, small) = (setup(3000), setup(300));
    for (s, args, code) in [
        (&big, vec!["check"], 0),
        (&big, vec!["check", "--json"], 0),
        (&big, vec!["plan"], 2),
        (&big, vec!["plan", "--json"], 2),
        // (a short document: all of it fits in the pipe before its reader goes)
        (&big, vec!["import"], 0),
        (&big, vec!["--help"], 0),
        // the apply goes on to the end of its pass, its reader gone
        (&small, vec!["apply"], 0),
        (&small, vec!["plan", "--json"], 0),
    ] {
        let sim = sim(s);
        let mut a = vec!["--lvm", sim.as_str()];
        a.extend(&args);
        let (got, err) = into_head(s, &a);
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
        assert_eq!(got, code, "{args:?}: {err}");
    }
    let r = small.ember(&["--lvm", &sim(&small), "plan"]);
    assert_eq!(
        r.code, 0,
        "the apply whose reader went away converged: {r:?}"
    );
}

#[test]
fn a_daemon_whose_log_reader_went_away_goes_on() {
    let s = setup(300);
    let sim = sim(&s);
    let mut child = Command::new(ember_bin())
        .arg("--config-file")
        .arg(s.path("cinder.conf"))
        .args(["--lvm", &sim, "daemon"])
        .current_dir(s.dir.path())
        .env_remove("NOTIFY_SOCKET")
        .env_remove("JOURNAL_STREAM")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = child.stderr.take().unwrap();
    let mut first = [0u8; 10];
    log.read_exact(&mut first).unwrap();
    drop(log);
    // every pass logs: 300 volumes made, then a pass on request, all into the closed pipe
    let d = Daemon {
        child,
        conf: s.path("cinder.conf"),
        dir: s.dir.path().to_path_buf(),
        extra: vec!["--lvm".into(), sim.clone()],
    };
    d.wait_for("converged", 60, |st| {
        backend(st, "a")["state"] == "converged"
    });
    assert_eq!(d.ember(&["reconcile", "--backend", "a"]).code, 0);
    d.wait_for("the reconcile pass", 30, |st| {
        backend(st, "a")["last_pass"]["trigger"] == "reconcile"
    });
    let r = d.ember(&["status"]);
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn output_that_cannot_be_written_is_an_error_not_a_truncated_success() {
    let s = setup(3000);
    let sim = sim(&s);
    for args in [vec!["plan", "--json"], vec!["check"], vec!["import"]] {
        let mut a = vec![
            "--config-file".to_string(),
            s.path("cinder.conf").display().to_string(),
            "--lvm".into(),
            sim.clone(),
        ];
        a.extend(args.iter().map(|x| x.to_string()));
        let out = Command::new(ember_bin())
            .args(&a)
            .current_dir(s.dir.path())
            .stdout(
                std::fs::OpenOptions::new()
                    .write(true)
                    .open("/dev/full")
                    .unwrap(),
            )
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("ember: cannot write the output: No space left on device"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}
