//! Accidents that must not delete, end to end through the real binary against the simulated
//! LVM: a file read while it is being written, a volume removed from the file (marked, kept
//! through the grace period and a restart, deleted after it), a worker restarted after an
//! unreloaded cinder.conf edit, `ember apply` beside the daemon, a second daemon, two applies,
//! and the one-shot confirmation of a bulk deletion. The same scenarios that need real LVM run
//! in tests/vm_lvm.rs and tests/vm_daemon.rs.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

mod common;
use common::daemon::*;
use common::*;

use std::time::{Duration, Instant};

fn conf(s: &Scratch, extra: &str) -> std::path::PathBuf {
    s.write(
        "cinder.conf",
        &format!(
            "[DEFAULT]\nenabled_backends = a\n[a]\nvolume_group = vg-a\n[ember]\nrun_dir = {}\nresync_interval = 3600\n{extra}",
            s.path("run").display()
        ),
    )
}

fn sim(s: &Scratch) -> String {
    format!("sim:{}", s.path("lvm.json").display())
}

fn setup(extra: &str, desired: &str) -> (Scratch, std::path::PathBuf) {
    let s = Scratch::new();
    s.write(
        "lvm.json",
        r#"{"vgs": {"vg-a": {"size": 10737418240}, "vg-c": {"size": 10737418240}}}"#,
    );
    let c = conf(&s, extra);
    s.write("desired-state.yaml", desired);
    (s, c)
}

fn lvs(s: &Scratch, vg: &str) -> serde_json::Map<String, serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(&s.read("lvm.json")).unwrap();
    v["vgs"][vg]["lvs"].as_object().cloned().unwrap_or_default()
}

fn tags(s: &Scratch, vg: &str, lv: &str) -> String {
    lvs(s, vg)[lv]["tags"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|x| x.as_str())
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

fn volumes(names: impl IntoIterator<Item = String>, prune: bool) -> String {
    let mut y = format!("backends:\n  a:\n    prune: {prune}\n    volumes:\n");
    for n in names {
        y.push_str(&format!("      {n}: {{ size: 64M }}\n"));
    }
    y
}

fn ten() -> Vec<String> {
    (1..=10).map(|i| format!("v{i:02}")).collect()
}

fn converged(d: &Daemon, secs: u64) -> serde_json::Value {
    d.wait_for("converged", secs, |st| {
        st["ready"] == true && backend(st, "a")["state"] == "converged"
    })
}

#[test]
fn a_file_rewritten_in_place_in_two_writes_deletes_nothing() {
    let (s, c) = setup("", &volumes(ten(), true));
    let d = Daemon::start(s.dir.path(), &c, &["--lvm", &sim(&s)]);
    converged(&d, 20);
    assert_eq!(lvs(&s, "vg-a").len(), 11, "10 volumes and the pool");

    // a tool writes the file in place: first up to a line boundary after volume 5 (valid
    // YAML), 1.5 s later the rest
    let full = volumes(ten(), true);
    let cut = full.match_indices('\n').nth(7).map(|(i, _)| i + 1).unwrap();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(s.path("desired-state.yaml"))
        .unwrap();
    use std::io::Write;
    f.write_all(&full.as_bytes()[..cut]).unwrap();
    f.flush().unwrap();
    let t = Instant::now();
    let mut seen_marked = false;
    while t.elapsed() < Duration::from_millis(1500) {
        assert_eq!(
            lvs(&s, "vg-a").len(),
            11,
            "nothing deleted; log:\n{}",
            d.log()
        );
        seen_marked |= tags(&s, "vg-a", "v10").contains("ember-undeclared-since=");
        std::thread::sleep(Duration::from_millis(20));
    }
    f.write_all(&full.as_bytes()[cut..]).unwrap();
    drop(f);
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(3) {
        assert_eq!(
            lvs(&s, "vg-a").len(),
            11,
            "nothing deleted; log:\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    converged(&d, 10);
    assert!(
        seen_marked,
        "the half file marked the missing volumes: {}",
        d.log()
    );
    for v in ten() {
        assert!(
            !tags(&s, "vg-a", &v).contains("undeclared"),
            "{v} unmarked once declared again: {}",
            tags(&s, "vg-a", &v)
        );
    }
    assert!(
        d.log().contains("unmark volume v10"),
        "the journal shows the unmark"
    );
}

#[test]
fn a_removed_volume_is_marked_kept_through_a_restart_and_deleted_after_the_grace_period() {
    let (s, c) = setup("prune_grace = 6\n", &volumes(ten(), true));
    let mut d = Daemon::start(s.dir.path(), &c, &["--lvm", &sim(&s)]);
    converged(&d, 20);
    // v10 removed, v09 removed and declared again, v08 absent
    let mut names = ten();
    names.truncate(7);
    let mut y = volumes(names.clone(), true);
    y.push_str("      v08: { state: absent }\n");
    s.write("desired-state.yaml", &y);
    let st = d.wait_for("v10 and v09 marked", 10, |st| {
        backend(st, "a")["last_pass"]["scheduled"]
            .as_array()
            .is_some_and(|a| a.len() == 2)
    });
    let when = backend(&st, "a")["last_pass"]["scheduled"][0]["delete_at"]
        .as_u64()
        .unwrap();
    let text = d.ember(&["status"]).stdout;
    assert!(
        text.contains("marked: - delete volume v09 64.0 MiB (not declared, prune: true) in "),
        "{text}"
    );
    assert!(
        !lvs(&s, "vg-a").contains_key("v08"),
        "state: absent deletes at once"
    );
    assert!(tags(&s, "vg-a", "v10").contains("ember-undeclared-since="));
    let plan = d.ember(&["plan"]);
    assert!(
        plan.stdout
            .contains("- delete volume v10 64.0 MiB (not declared, prune: true) in "),
        "{plan:?}"
    );
    // the mark survives a restart of the daemon
    assert_eq!(d.stop(10), 0);
    d = Daemon::start(s.dir.path(), &c, &["--lvm", &sim(&s)]);
    converged(&d, 20);
    assert!(
        lvs(&s, "vg-a").contains_key("v10"),
        "not deleted before its time"
    );
    assert!(tags(&s, "vg-a", "v10").contains(&format!("ember-undeclared-since={}", when - 6)));
    // v09 is declared again
    names.push("v09".into());
    let mut y = volumes(names, true);
    y.push_str("      v08: { state: absent }\n");
    s.write("desired-state.yaml", &y);
    d.wait_for("v09 unmarked", 10, |_| {
        !tags(&s, "vg-a", "v09").contains("undeclared")
    });
    // the worker wakes when the grace period ends
    let t = Instant::now();
    while lvs(&s, "vg-a").contains_key("v10") {
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "v10 not deleted after its grace period; log:\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        crate_now() >= when,
        "deleted at {} before {when}",
        crate_now()
    );
    assert!(lvs(&s, "vg-a").contains_key("v09"), "kept");
}

/// `ember --lvm sim:... apply ARGS...` against this scratch directory's configuration.
fn apply(s: &Scratch, c: &std::path::Path, args: &[&str]) -> Run {
    let sim = sim(s);
    let mut a = vec!["--lvm", sim.as_str(), "apply"];
    a.extend_from_slice(args);
    ember_in(s.dir.path(), c, &a)
}

fn crate_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn a_restarted_worker_runs_with_the_configuration_in_force_not_an_unreloaded_edit() {
    let (s, c) = setup("", &volumes(["v1".to_string()], true));
    let d = Daemon::start(s.dir.path(), &c, &["--lvm", &sim(&s)]);
    let st = converged(&d, 20);
    let pid = worker_pids(&st)[0].1;
    // cinder.conf edited, not reloaded; then the worker crashes
    let edited = s
        .read("cinder.conf")
        .replace("volume_group = vg-a", "volume_group = vg-c");
    s.write("cinder.conf", &edited);
    assert!(
        std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let st = d.wait_for("restarted and passed", 20, |st| {
        let b = backend(st, "a");
        b["pid"].as_u64().is_some_and(|p| p != pid) && b["state"] == "converged"
    });
    assert_eq!(backend(&st, "a")["volume_group"], "vg-a", "{st:#}");
    assert!(
        lvs(&s, "vg-c").is_empty(),
        "nothing made in the unreloaded VG: {:?}",
        lvs(&s, "vg-c")
    );
    assert!(lvs(&s, "vg-a").contains_key("v1"));
}

#[test]
fn apply_beside_the_daemon_and_a_second_daemon_are_refused() {
    let (s, c) = setup("", &volumes(["v1".to_string()], false));
    let d = Daemon::start(s.dir.path(), &c, &["--lvm", &sim(&s)]);
    let st = converged(&d, 20);
    let r = d.ember(&["apply"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("managed by a running ember daemon")
            && r.stderr.contains("ember reconcile --backend a"),
        "{r:?}"
    );
    assert!(d.ember(&["plan"]).code == 0, "plan takes no lock");
    // a second daemon with its own run_dir: it runs, but does not touch the VG
    let s2 = Scratch::new();
    let c2 = s2.write(
        "cinder.conf",
        &s.read("cinder.conf").replace(
            &s.path("run").display().to_string(),
            &s2.path("run").display().to_string(),
        ),
    );
    s2.write(
        "desired-state.yaml",
        "backends:\n  a:\n    prune: true\n    volumes: {}\n",
    );
    let before = s.read("lvm.json");
    let d2 = Daemon::start(s2.dir.path(), &c2, &["--lvm", &sim(&s)]);
    let st2 = d2.wait_for("the refusal", 20, |st| {
        backend(st, "a")["last_pass"]["error"].as_str().is_some()
    });
    let err = backend(&st2, "a")["last_pass"]["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        err.contains("another ember daemon")
            && err.contains(&format!("pid {}", worker_pids(&st)[0].1)),
        "names the worker that holds the VG: {err}"
    );
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        s.read("lvm.json"),
        before,
        "the second daemon wrote nothing"
    );
}

#[test]
fn a_second_apply_waits_for_the_first() {
    let (s, _) = setup("", &volumes(["v1".to_string()], false));
    let spec: ember::lvm::LvmSpec = sim(&s).parse().unwrap();
    let vg = ember::names::VgName::new("vg-a").unwrap();
    let held = ember::lvm::vglock::VgLock::acquire(
        &spec,
        &vg,
        &ember::lvm::vglock::Holder::Apply,
        Duration::ZERO,
    )
    .unwrap();
    let sim_arg = sim(&s);
    let dir = s.dir.path().to_path_buf();
    let t = Instant::now();
    let child = std::thread::spawn(move || {
        ember_in(
            &dir,
            &dir.join("cinder.conf"),
            &["--lvm", &sim_arg, "apply"],
        )
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !lvs(&s, "vg-a").contains_key("v1"),
        "it waits while another apply writes"
    );
    drop(held);
    let r = child.join().unwrap();
    assert_eq!(r.code, 0, "{r:?}");
    assert!(t.elapsed() >= Duration::from_millis(1500));
    assert!(lvs(&s, "vg-a").contains_key("v1"));
}

#[test]
fn a_bulk_deletion_is_confirmed_once_for_one_backend() {
    let (s, c) = setup(
        "prune_grace = 0\nmax_deletions_per_pass = 1\n",
        &volumes(ten(), true),
    );
    assert_eq!(apply(&s, &c, &[]).code, 0);
    s.write(
        "desired-state.yaml",
        &volumes(ten().into_iter().take(7), true),
    );
    let r = apply(&s, &c, &[]);
    assert_eq!(r.code, 3, "refused by the cap: {r:?}");
    assert!(
        r.stdout
            .contains("ember apply --backend a --allow-deletions 3"),
        "{r:?}"
    );
    assert_eq!(lvs(&s, "vg-a").len(), 11);
    let r = apply(&s, &c, &["--allow-deletions", "3"]);
    assert_eq!(r.code, 64, "the confirmation names its backend: {r:?}");
    let r = apply(&s, &c, &["--backend", "a", "--allow-deletions", "2"]);
    assert!(
        r.stdout.contains("3 deletions planned"),
        "2 do not confirm 3: {r:?}"
    );
    assert_eq!(lvs(&s, "vg-a").len(), 11);
    let r = apply(&s, &c, &["--backend", "a", "--allow-deletions", "3"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(lvs(&s, "vg-a").len(), 8);

    // the same through the daemon: ember reconcile --allow-deletions
    let d = Daemon::start(s.dir.path(), &c, &["--lvm", &sim(&s)]);
    converged(&d, 20);
    s.write(
        "desired-state.yaml",
        &volumes(ten().into_iter().take(5), true),
    );
    d.wait_for("refused by the cap", 10, |st| {
        backend(st, "a")["last_pass"]["refused"]
            .as_array()
            .is_some_and(|r| r.len() == 2)
    });
    assert_eq!(lvs(&s, "vg-a").len(), 8);
    let r = d.ember(&["reconcile", "--backend", "a", "--allow-deletions", "2"]);
    assert_eq!(r.code, 0, "{r:?}");
    let t = Instant::now();
    while lvs(&s, "vg-a").len() != 6 {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "confirmed deletions not done; log:\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
