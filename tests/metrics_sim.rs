//! The metrics file and a pass's progress, end to end against the simulated LVM (plain
//! `cargo test`): the daemon writes `[ember] metrics_file` after its passes with the numbers
//! `ember status --json` shows, follows a slow pass (`applying 3/8`), and goes on with a
//! warning when the file's directory disappears; `ember apply`, not on a terminal, prints each
//! action's line as it finishes. The same against node_exporter and real LVM: tests/vm_daemon.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

mod common;
use common::daemon::*;
use common::*;

use std::io::{BufRead, BufReader};
use std::time::Instant;

/// A host with one backend `a` on `vg-a`, lvm writes slowed by `delay_ms`, metrics in `prom/`.
fn setup(delay_ms: u64, volumes: usize) -> Scratch {
    let s = Scratch::new();
    std::fs::create_dir(s.path("prom")).unwrap();
    s.write(
        "lvm.json",
        &format!(
            "{{\"vgs\": {{\"vg-a\": {{\"size\": 10737418240}}}}, \"write_delay_ms\": {delay_ms}}}"
        ),
    );
    s.write(
        "cinder.conf",
        &format!(
            "[DEFAULT]\nenabled_backends = a\n[a]\nvolume_group = vg-a\n[ember]\nrun_dir = {}\nresync_interval = 3600\nmetrics_file = {}\n",
            s.path("run").display(),
            s.path("prom/ember.prom").display()
        ),
    );
    let vols: String = (0..volumes)
        .map(|i| format!("      v{i}: {{ size: 1G }}\n"))
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

/// `name{labels} value` lines of a metrics file, by series.
fn series(text: &str) -> std::collections::BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(k, v)| (k.to_string(), v.parse().unwrap()))
        .collect()
}

#[test]
fn the_daemon_writes_the_metrics_file_and_follows_a_slow_pass() {
    let s = setup(150, 8);
    let d = Daemon::start(s.dir.path(), &s.path("cinder.conf"), &["--lvm", &sim(&s)]);
    // the first pass: a pool and 8 volumes, 150 ms each; status shows it under way
    let st = d.wait_for("a pass in progress", 20, |st| {
        st["backends"][0]["progress"]["done"]
            .as_u64()
            .is_some_and(|n| n > 0)
    });
    let p = &st["backends"][0]["progress"];
    assert_eq!(p["total"], 9, "{st:#}");
    let text = d.ember(&["status"]).stdout;
    assert!(text.contains(": applying "), "{text}");
    let st = d.wait_ready(30);
    let b = backend(&st, "a");
    assert_eq!(b["state"], "converged", "{st:#}");
    assert!(b["progress"].is_null(), "{st:#}");
    // the file is written by a thread of its own, after the state it shows: wait for it to
    // catch up with the status read (a loaded host), then compare
    let owned = b["capacity"]["owned_volumes"].as_f64().unwrap();
    let t = std::time::Instant::now();
    let m = loop {
        let m = series(&s.read("prom/ember.prom"));
        if m.get("ember_volumes{backend=\"a\",vg=\"vg-a\",owner=\"ember\"}") == Some(&owned)
            || t.elapsed() > std::time::Duration::from_secs(10)
        {
            break m;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(m["ember_backend_converged{backend=\"a\"}"], 1.0);
    assert_eq!(
        m["ember_volumes{backend=\"a\",vg=\"vg-a\",owner=\"ember\"}"],
        owned
    );
    assert_eq!(
        m["ember_provisioned_bytes{backend=\"a\",vg=\"vg-a\"}"],
        b["capacity"]["provisioned"].as_f64().unwrap()
    );
    assert_eq!(
        m["ember_passes_total{backend=\"a\",result=\"converged\"}"],
        b["counters"]["converged"].as_f64().unwrap()
    );
    assert_eq!(m["ember_pass_actions_done{backend=\"a\"}"], 9.0);
    assert_eq!(
        m["ember_thin_pool_size_bytes{backend=\"a\",vg=\"vg-a\",pool=\"vg-a-pool\"}"],
        b["pool"]["size"].as_f64().unwrap()
    );
    // promtool's own check: the format, and Prometheus' naming conventions
    promtool_check_metrics(&s.read("prom/ember.prom"));
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(s.path("prom/ember.prom"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o644);

    // the directory gone: a warning, and the daemon goes on converging
    std::fs::remove_dir_all(s.path("prom")).unwrap();
    s.write(
        "desired-state.yaml.new",
        "backends:\n  a:\n    volumes:\n      v0: { size: 1G }\n      extra: { size: 1G }\n",
    );
    std::fs::rename(
        s.path("desired-state.yaml.new"),
        s.path("desired-state.yaml"),
    )
    .unwrap();
    let st = d.wait_for("the metrics warning", 20, |st| {
        st["metrics_problem"].is_string() && st["backends"][0]["state"] == "converged"
    });
    assert!(
        st["metrics_problem"]
            .as_str()
            .unwrap()
            .contains("prom/ember.prom"),
        "{st:#}"
    );
    assert!(
        d.ember(&["status"])
            .stdout
            .contains("warning: cannot write the metrics file")
    );
    assert!(
        d.log().contains("the daemon goes on without it"),
        "{}",
        d.log()
    );
}

#[test]
fn apply_not_on_a_terminal_prints_each_action_as_it_finishes() {
    let s = setup(400, 4);
    let mut child = std::process::Command::new(ember_bin())
        .args(["--config-file"])
        .arg(s.path("cinder.conf"))
        .args(["--lvm", &sim(&s), "apply"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let t = Instant::now();
    assert_eq!(
        lines.next().unwrap().unwrap(),
        "backend a (volume group vg-a):"
    );
    let first = lines.next().unwrap().unwrap();
    let at = t.elapsed();
    assert!(
        first.starts_with("  + create thin pool vg-a-pool"),
        "{first}"
    );
    assert!(first.ends_with("[done]"), "{first}");
    // the pass is still writing when its first line arrives (4 more writes of 400 ms)
    assert!(
        child.try_wait().unwrap().is_none(),
        "ember apply had ended before its first line was read ({at:?})"
    );
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert_eq!(
        rest.iter().filter(|l| l.ends_with("[done]")).count(),
        4,
        "each action once: {rest:?}"
    );
    assert!(rest.iter().any(|l| l == "  Converged."), "{rest:?}");
}

#[test]
fn refused_work_is_blocked_in_status_exit_code_status_line_and_metrics_alike() {
    // 20 × 1 GiB on a 10 GiB VG with cinder's default ratio 20 over a pool of 9.x GiB: fits;
    // one 500 GiB volume more does not (over-subscription): refused
    let s = setup(0, 2);
    s.write(
        "desired-state.yaml",
        "backends:\n  a:\n    volumes:\n      v0: { size: 1G }\n      huge: { size: 500T }\n",
    );
    let d = Daemon::start(s.dir.path(), &s.path("cinder.conf"), &["--lvm", &sim(&s)]);
    let st = d.wait_ready(30);
    let b = backend(&st, "a");
    assert_eq!(b["state"], "blocked", "{st:#}");
    let blocked = b["counters"]["blocked"].as_f64().unwrap();
    assert!(blocked >= 1.0, "{st:#}");
    assert_eq!(
        b["last_pass"]["refusal_kinds"]["over_subscription"], 1,
        "{st:#}"
    );
    let r = d.ember(&["status"]);
    assert_eq!(r.code, 2, "blocked is not converged: {r:?}");
    assert!(
        r.stdout
            .contains("1 backend: 1 blocked (a: 1 refused (over_subscription: 1))"),
        "{r:?}"
    );
    let m = series(&s.read("prom/ember.prom"));
    assert_eq!(m["ember_backend_converged{backend=\"a\"}"], 0.0);
    assert_eq!(
        m["ember_passes_total{backend=\"a\",result=\"blocked\"}"],
        blocked
    );
    assert_eq!(
        m["ember_backend_refusals{backend=\"a\",reason=\"over_subscription\"}"],
        1.0
    );
    // what could be done is done
    assert_eq!(b["capacity"]["owned_volumes"], 1, "v0 is made: {st:#}");
}
