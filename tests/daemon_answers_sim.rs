//! What the daemon answers cinder users and scripts, end to end through the real binary on the
//! simulated LVM (issue 29, "What cinder users look for"): `ember reconcile --wait` returns
//! with the outcome of the pass it asked for; `ember status` names each backend's pool as
//! cinder's scheduler does and says when the ratio is computed from `auto`; `ember status
//! --volumes` lists a backend's volumes with size, state and owner.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

mod common;
use common::daemon::*;
use common::*;

use std::time::{Duration, Instant};

const G: u64 = 1 << 30;

/// `backends` each on `vg-<name>` (10 GiB), `extra` lines appended to `[DEFAULT]` and to each
/// backend's section (`name: lines`).
fn setup(
    backends: &[&str],
    default: &str,
    sections: &[(&str, &str)],
    lvm: &str,
    desired: &str,
) -> (Scratch, Daemon) {
    let s = Scratch::new();
    s.write("lvm.json", lvm);
    let mut c = format!(
        "[DEFAULT]\nenabled_backends = {}\n{default}",
        backends.join(",")
    );
    for b in backends {
        c.push_str(&format!("[{b}]\nvolume_group = vg-{b}\n"));
        for (n, lines) in sections {
            if n == b {
                c.push_str(lines);
            }
        }
    }
    c.push_str(&format!(
        "[ember]\nrun_dir = {}\nresync_interval = 3600\n",
        s.path("run").display()
    ));
    let conf = s.write("cinder.conf", &c);
    s.write("desired-state.yaml", desired);
    let sim = format!("sim:{}", s.path("lvm.json").display());
    let d = Daemon::start(s.dir.path(), &conf, &["--lvm", &sim]);
    (s, d)
}

fn empty_vgs(names: &[&str]) -> String {
    let vgs: Vec<String> = names
        .iter()
        .map(|n| format!("\"vg-{n}\": {{\"size\": {}}}", 10 * G))
        .collect();
    format!("{{\"vgs\": {{{}}}}}", vgs.join(", "))
}

/// Changes the simulator's state (only while the daemon is idle: it writes the file too).
fn edit_lvm(s: &Scratch, f: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value = serde_json::from_str(&s.read("lvm.json")).unwrap();
    f(&mut v);
    s.write("lvm.json", &v.to_string());
}

fn volumes(names: &[&str]) -> String {
    let mut d = String::from("backends:\n  a:\n    volumes:\n");
    for n in names {
        d.push_str(&format!("      {n}: {{ size: 1G }}\n"));
    }
    d
}

/// Waits until the edit's pass is under way (it starts right after the worker logs the edit;
/// the simulator's writes are slow).
fn wait_for_the_edits_pass(d: &Daemon) {
    let t = Instant::now();
    while !d.log().contains("desired state changed") {
        assert!(t.elapsed() < Duration::from_secs(10), "{}", d.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
}

fn passes(st: &serde_json::Value) -> u64 {
    let c = &backend(st, "a")["counters"];
    ["converged", "pending", "blocked", "error"]
        .iter()
        .map(|k| c[k].as_u64().unwrap_or(0))
        .sum()
}

#[test]
fn reconcile_wait_answers_with_the_pass_that_starts_after_the_request() {
    let (s, d) = setup(&["a"], "", &[], &empty_vgs(&["a"]), &volumes(&["a1"]));
    d.wait_ready(10);
    // a plain request answers at once, as before
    let r = d.ember(&["reconcile"]);
    assert_eq!(
        (r.code, r.stdout.trim()),
        (0, "pass requested for a"),
        "{r:?}"
    );
    d.wait_for("idle", 10, |st| {
        backend(st, "a")["last_pass"]["trigger"] == "reconcile"
            && backend(st, "a")["busy"].is_null()
    });

    // slow writes: the edit's pass is under way when the request comes
    edit_lvm(&s, |v| v["write_delay_ms"] = 1500.into());
    s.write("desired-state.yaml", &volumes(&["a1", "a2"]));
    wait_for_the_edits_pass(&d);
    let before = passes(&d.status().unwrap());
    let t = Instant::now();
    let r = d.ember(&["reconcile", "--wait", "--backend", "a"]);
    let took = t.elapsed();
    assert_eq!(r.code, 0, "{r:?}\n{}", d.log());
    // the pass that was running (the edit's) does not answer: the next one to start does
    assert!(
        r.stdout
            .starts_with("backend a: converged (pass \"reconcile\": "),
        "{r:?}"
    );
    let st = d.status().unwrap();
    assert!(
        passes(&st) >= before + 2,
        "the edit's pass, then the one asked for: {st:#}"
    );
    assert!(took < Duration::from_secs(20), "{took:?}");
    // the request's pass read what the edit's pass made
    let lvs = s.read("lvm.json");
    assert!(lvs.contains("\"a2\""), "{lvs}");
}

#[test]
fn reconcile_wait_says_blocked_with_the_refusals_and_error_with_the_error_and_exits_2() {
    let desired = "backends:\n  a:\n    volumes:\n      a1: { size: 1G }\n      big: { size: 500G }\n  b:\n    volumes:\n      b1: { size: 1G }\n";
    // b's volume group does not exist
    let (s, d) = setup(&["a", "b"], "", &[], &empty_vgs(&["a"]), desired);
    d.wait_ready(10);
    let r = d.ember(&["reconcile", "--wait"]);
    assert_eq!(r.code, 2, "{r:?}");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines[0].starts_with(
            "backend a: blocked: 1 refused (over_subscription: 1) (pass \"reconcile\""
        ),
        "{r:?}"
    );
    assert!(
        lines[1].starts_with("  refused: big: would provision"),
        "{r:?}"
    );
    let b = lines
        .iter()
        .find(|l| l.starts_with("backend b: "))
        .unwrap_or_else(|| panic!("{r:?}"));
    assert!(
        b.starts_with("backend b: error: ") && b.contains("vg-b") && b.contains("not found"),
        "{r:?}"
    );
    // the same words and exit status as `ember status` for those backends
    let st = d.ember(&["status"]);
    assert_eq!(st.code, 2, "{st:?}");
    assert!(st.stdout.contains("1 blocked, 1 error"), "{st:?}");

    // one backend: its outcome alone
    let r = d.ember(&["reconcile", "--wait", "--backend", "b", "--timeout", "10"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(r.stdout.lines().count(), 1, "only b: {r:?}");
    let r = d.ember(&["reconcile", "--backend", "zz", "--wait"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("no backend \"zz\" is running"), "{r:?}");
    // --timeout belongs to --wait
    let r = d.ember(&["reconcile", "--timeout", "5"]);
    assert_eq!(r.code, 64, "{r:?}");
    // a wait longer than a week is refused, by the CLI and by the daemon
    let r = d.ember(&["reconcile", "--wait", "--timeout", "604801"]);
    assert_eq!(r.code, 64, "{r:?}");
    use std::io::{BufRead, Write};
    let mut c = std::os::unix::net::UnixStream::connect(s.path("run/control.sock")).unwrap();
    c.write_all(b"{\"cmd\":\"reconcile\",\"wait\":18446744073709551615}\n")
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(c).read_line(&mut line).unwrap();
    assert_eq!(
        line.trim(),
        r#"{"ok":false,"error":"wait: at most 604800 s"}"#
    );
    assert_eq!(d.ember(&["status"]).code, 2, "the daemon is still there");
}

#[test]
fn reconcile_wait_at_its_time_limit_says_so_exits_1_and_the_daemon_answers_others_meanwhile() {
    let (s, d) = setup(&["a"], "", &[], &empty_vgs(&["a"]), &volumes(&["a1"]));
    d.wait_ready(10);
    edit_lvm(&s, |v| v["write_delay_ms"] = 6000.into());
    s.write("desired-state.yaml", &volumes(&["a1", "a2"]));
    wait_for_the_edits_pass(&d);
    // the pass asked for starts only after the running one (6 s of writing)
    let (conf, dir) = (d.conf.clone(), d.dir.clone());
    let extra = d.extra.clone();
    let waiter = std::thread::spawn(move || {
        let mut a: Vec<&str> = extra.iter().map(String::as_str).collect();
        a.extend(["reconcile", "--wait", "--timeout", "3"]);
        let t = Instant::now();
        (ember_in(&dir, &conf, &a), t.elapsed())
    });
    std::thread::sleep(Duration::from_millis(500));
    // a waiting client holds nothing up: status answers at once
    let t = Instant::now();
    let st = d.ember(&["status", "--json"]);
    assert!(st.code == 0 || st.code == 2, "{st:?}");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    let (r, took) = waiter.join().unwrap();
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr
            .contains("timed out after 3 s: the pass of a has not ended"),
        "{r:?}"
    );
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(8),
        "{took:?}"
    );
}

#[test]
fn reconcile_wait_whose_worker_dies_says_so() {
    let (s, d) = setup(&["a"], "", &[], &empty_vgs(&["a"]), &volumes(&["a1"]));
    let st = d.wait_ready(10);
    let pid = worker_pids(&st)[0].1;
    edit_lvm(&s, |v| v["write_delay_ms"] = 4000.into());
    s.write("desired-state.yaml", &volumes(&["a1", "a2"]));
    wait_for_the_edits_pass(&d);
    let (conf, dir) = (d.conf.clone(), d.dir.clone());
    let extra = d.extra.clone();
    let waiter = std::thread::spawn(move || {
        let mut a: Vec<&str> = extra.iter().map(String::as_str).collect();
        a.extend(["reconcile", "--wait", "--timeout", "30"]);
        ember_in(&dir, &conf, &a)
    });
    std::thread::sleep(Duration::from_millis(500));
    std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    let r = waiter.join().unwrap();
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout.contains("the worker exited (signal: 9")
            && r.stdout.contains("before the pass ended"),
        "{r:?}"
    );
}

#[test]
fn status_names_the_pool_as_cinders_scheduler_and_an_auto_ratio_as_computed() {
    let (_s, d) = setup(
        &["a", "b"],
        "host = node1\n",
        &[
            (
                "a",
                "volume_backend_name = fast\nmax_over_subscription_ratio = auto\n",
            ),
            (
                "b",
                "backend_host = shared\nmax_over_subscription_ratio = 10\n",
            ),
        ],
        &empty_vgs(&["a", "b"]),
        "backends:\n  a:\n    volumes:\n      a1: { size: 2G }\n  b:\n    volumes:\n      b1: { size: 1G }\n",
    );
    let st = d.wait_ready(10);
    let a = backend(&st, "a");
    assert_eq!(a["cinder_host"], "node1@a");
    assert_eq!(a["volume_backend_name"], "fast");
    assert_eq!(a["cinder_pool"], "node1@a#fast");
    assert_eq!(a["capacity"]["max_over_subscription_ratio_auto"], true);
    let ratio = a["capacity"]["max_over_subscription_ratio"]
        .as_f64()
        .unwrap();
    // cinder's auto: 1 + provisioned / (used + 1), in GiB: 2 GiB provisioned, nothing written
    assert!((ratio - 3.0).abs() < 1e-9, "{ratio}");
    let b = backend(&st, "b");
    // cinder's LVM driver: no volume_backend_name is "LVM"; backend_host replaces host
    assert_eq!(b["cinder_pool"], "shared@b#LVM");
    assert_eq!(b["capacity"]["max_over_subscription_ratio_auto"], false);
    assert_eq!(b["capacity"]["max_over_subscription_ratio"], 10.0);

    let r = d.ember(&["status"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("  cinder pool: node1@a#fast (volume_backend_name fast)\n"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("  cinder pool: shared@b#LVM (volume_backend_name LVM)\n"),
        "{r:?}"
    );
    assert!(
        r.stdout.contains(", ratio auto (computed: 3.00), "),
        "{r:?}"
    );
    assert!(r.stdout.contains(", ratio 10.00, "), "{r:?}");
}

#[test]
fn status_volumes_lists_each_volume_with_size_state_and_owner() {
    let lvm = format!(
        r#"{{"vgs": {{"vg-a": {{"size": {}, "lvs": {{
        "vg-a-pool": {{"kind": "thin-pool", "size": {}}},
        "volume-cinder": {{"kind": "thin", "size": {G}, "pool": "vg-a-pool", "tags": []}},
        "other-tool": {{"kind": "linear", "size": {G}, "tags": [], "active": false}},
        "b-owned": {{"kind": "thin", "size": {G}, "pool": "vg-a-pool", "tags": ["ember-managed", "ember-backend=b"]}},
        "old": {{"kind": "thin", "size": {G}, "pool": "vg-a-pool", "tags": ["ember-managed", "ember-backend=a"]}}
        }}}}}}}}"#,
        10 * G,
        5 * G
    );
    let desired = "backends:\n  a:\n    adopt: true\n    prune: true\n    volumes:\n      a1: { size: 1G }\n      volume-cinder: { size: 1G }\n      old: { size: 1G }\n      big: { size: 500G }\n";
    let (s, d) = setup(&["a"], "host = node1\n", &[], &lvm, desired);
    d.wait_ready(10);
    // declared no longer: marked for the prune (its grace period is 10 min)
    s.write(
        "desired-state.yaml",
        &desired.replace("      old: { size: 1G }\n", ""),
    );
    d.wait_for("old marked", 10, |st| {
        backend(st, "a")["last_pass"]["scheduled"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    });

    let r = d.ember(&["status", "--volumes"]);
    assert_eq!(r.code, 2, "blocked (big is refused): {r:?}");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines[0].starts_with(
            "backend a (volume group vg-a, cinder pool node1@a#LVM): 6 volume(s), 0 snapshot(s), read "
        ),
        "{r:?}"
    );
    let row = |name: &str| -> Vec<String> {
        let l = lines
            .iter()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no row {name}: {r:?}"));
        // columns are two spaces apart or more
        l.split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect()
    };
    assert_eq!(row("NAME"), ["NAME", "SIZE", "STATE", "OWNER"]);
    assert_eq!(row("a1"), ["a1", "1.0 GiB", "active", "ember (a)"]);
    assert_eq!(
        row("big"),
        [
            "big",
            "500.0 GiB",
            "not created, refused (over_subscription)",
            "-"
        ]
    );
    let old = row("old");
    assert_eq!(old[..2], ["old", "1.0 GiB"]);
    assert!(
        old[2].starts_with("active, undeclared, prune in "),
        "{old:?}"
    );
    assert_eq!(old[3], "ember (a)");
    assert_eq!(
        row("volume-cinder"),
        ["volume-cinder", "1.0 GiB", "active", "adopted (a)"]
    );
    assert_eq!(
        row("other-tool"),
        ["other-tool", "1.0 GiB", "inactive", "not ember's"]
    );
    assert_eq!(
        row("b-owned"),
        ["b-owned", "1.0 GiB", "active", "another backend's (b)"]
    );
    assert!(
        !r.stdout.contains("vg-a-pool "),
        "the pool is not a volume: {r:?}"
    );

    // the same facts, structured
    let j = d
        .ember(&["status", "--volumes", "--backend", "a", "--json"])
        .json();
    let vols = backend(&j, "a")["volumes"]["volumes"]
        .as_array()
        .unwrap()
        .clone();
    let v = |name: &str| {
        vols.iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("{name}: {vols:#?}"))
            .clone()
    };
    assert_eq!(v("a1")["size"], G);
    assert_eq!(v("a1")["owner"], "ember");
    assert_eq!(v("a1")["owner_backend"], "a");
    assert_eq!(v("a1")["active"], true);
    assert_eq!(v("a1")["declared"], "present");
    assert_eq!(v("big")["exists"], false);
    assert_eq!(v("big")["owner"], "none");
    assert_eq!(
        v("big")["refused"],
        serde_json::json!(["over_subscription"])
    );
    assert_eq!(v("other-tool")["active"], false);
    assert_eq!(v("old")["declared"], "undeclared");
    assert!(v("old")["delete_at"].as_u64().unwrap() > 0);
    assert_eq!(v("volume-cinder")["owner"], "adopted");
    assert_eq!(v("other-tool")["owner"], "foreign");
    assert_eq!(v("b-owned")["owner"], "other_backend");
    assert_eq!(v("b-owned")["owner_backend"], "b");
    assert!(backend(&j, "a")["volumes"]["read_at"].as_u64().unwrap() > 0);
    // plain status does not carry them
    assert!(backend(&d.status().unwrap(), "a")["volumes"].is_null());

    let r = d.ember(&["status", "--volumes", "--backend", "zz"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("no backend \"zz\" is running"), "{r:?}");
}

/// The daemon's open file descriptors.
fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

#[test]
fn a_caller_that_goes_away_frees_what_its_wait_held() {
    // a caller waiting for a pass holds a connection in the daemon until the pass ends: one
    // that closes its side must not (300 such callers would otherwise hold 300 descriptors
    // for as long as a long pass runs, and a member of control_group could exhaust the
    // daemon's)
    let (s, d) = setup(&["a"], "", &[], &empty_vgs(&["a"]), &volumes(&["a1"]));
    d.wait_ready(10);
    let base = fds(d.pid());
    let before = passes(&d.status().unwrap());
    edit_lvm(&s, |v| v["write_delay_ms"] = 30000.into());
    s.write("desired-state.yaml", &volumes(&["a1", "a2"]));
    wait_for_the_edits_pass(&d);
    use std::io::Write;
    let mut callers = vec![];
    for _ in 0..100 {
        let mut c = std::os::unix::net::UnixStream::connect(s.path("run/control.sock")).unwrap();
        c.write_all(b"{\"cmd\":\"reconcile\",\"wait\":604800}\n")
            .unwrap();
        callers.push(c);
    }
    // all waiting: the daemon holds a descriptor for each
    let t = Instant::now();
    while fds(d.pid()) < base + 100 {
        assert!(t.elapsed() < Duration::from_secs(10), "{}", fds(d.pid()));
        std::thread::sleep(Duration::from_millis(50));
    }
    // the callers go away: the daemon lets go within moments, while the pass still writes
    drop(callers);
    let t = Instant::now();
    while fds(d.pid()) > base + 10 {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{} descriptors held, {base} before",
            fds(d.pid())
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        passes(&d.status().unwrap()),
        before,
        "the edit's pass is still under way"
    );
}

#[test]
fn reconcile_wait_whose_pass_finds_the_file_rejected_under_it_answers_at_once() {
    // a pass that would delete finds the desired-state file changed under it and does nothing;
    // when the file as it is now is rejected for the backend, no pass follows: the caller is
    // answered at once (rejected), not at its time limit
    let desired =
        "backends:\n  a:\n    volumes:\n      a1: { size: 1G }\n      a2: { state: absent }\n";
    let (s, d) = setup(&["a"], "", &[], &empty_vgs(&["a"]), desired);
    d.wait_ready(10);
    // a2 appears (ember's, declared absent), and reads become slow
    edit_lvm(&s, |v| {
        v["read_delay_ms"] = 3000.into();
        v["vgs"]["vg-a"]["lvs"]["a2"] = serde_json::json!({"kind": "thin", "size": G,
            "pool": "vg-a-pool", "tags": ["ember-managed", "ember-backend=a"]});
    });
    let waiter = {
        let dir = s.dir.path().to_path_buf();
        let conf = s.path("cinder.conf");
        let sim = format!("sim:{}", s.path("lvm.json").display());
        std::thread::spawn(move || {
            ember_in(
                &dir,
                &conf,
                &["--lvm", &sim, "reconcile", "--wait", "--timeout", "30"],
            )
        })
    };
    // while the request's pass reads, the file becomes one the backend rejects
    std::thread::sleep(Duration::from_millis(1000));
    s.write(
        "desired-state.yaml",
        "backends:\n  a:\n    volumes:\n      a1: { size: ten }\n",
    );
    let t = Instant::now();
    let r = waiter.join().unwrap();
    assert_eq!(r.code, 2, "{r:?}\n{}", d.log());
    assert!(
        r.stdout.starts_with("backend a: desired state rejected"),
        "{r:?}"
    );
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    assert!(s.read("lvm.json").contains("\"a2\""), "nothing deleted");
}
