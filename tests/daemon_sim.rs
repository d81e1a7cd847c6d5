//! `ember daemon` end to end against the simulated LVM (plain `cargo test`): workers per
//! backend, edits picked up without a signal, broken edits changing nothing, SIGHUP adding and
//! removing backends, crashed workers restarted, a clean stop. The same scenarios run against
//! real LVM in tests/vm_daemon.rs.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

mod common;
use common::daemon::*;
use common::*;

fn conf(s: &Scratch, backends: &[&str]) -> std::path::PathBuf {
    let mut c = format!("[DEFAULT]\nenabled_backends = {}\n", backends.join(","));
    for b in backends {
        c.push_str(&format!("[{b}]\nvolume_group = vg-{b}\n"));
    }
    c.push_str(&format!(
        "[ember]\nrun_dir = {}\nresync_interval = 3600\n",
        s.path("run").display()
    ));
    s.write("cinder.conf", &c)
}

fn setup(backends: &[&str], desired: &str) -> (Scratch, Daemon) {
    let s = Scratch::new();
    let mut vgs = vec![];
    for b in ["a", "b", "c"] {
        vgs.push(format!("\"vg-{b}\": {{\"size\": 10737418240}}"));
    }
    s.write("lvm.json", &format!("{{\"vgs\": {{{}}}}}", vgs.join(", ")));
    let c = conf(&s, backends);
    s.write("desired-state.yaml", desired);
    let sim = format!("sim:{}", s.path("lvm.json").display());
    let d = Daemon::start(s.dir.path(), &c, &["--lvm", &sim]);
    (s, d)
}

fn lv_names(s: &Scratch, vg: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(&s.read("lvm.json")).unwrap();
    v["vgs"][vg]["lvs"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn wait_lv(s: &Scratch, d: &Daemon, vg: &str, lv: &str, present: bool) {
    let t = std::time::Instant::now();
    while lv_names(s, vg).contains(&lv.to_string()) != present {
        assert!(
            t.elapsed().as_secs() < 10,
            "{vg}/{lv} present={present} not reached; log:\n{}",
            d.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

const TWO: &str = "backends:\n  a:\n    volumes:\n      a1: { size: 1G }\n  b:\n    volumes:\n      b1: { size: 1G }\n";

#[test]
fn two_backends_two_workers_converged_and_status_shows_them() {
    let (s, mut d) = setup(&["a", "b"], TWO);
    let st = d.wait_ready(10);
    let pids = worker_pids(&st);
    assert_eq!(pids.len(), 2);
    for (name, pid) in &pids {
        assert!(*pid > 0 && alive(*pid), "{name}");
        let b = backend(&st, name);
        assert_eq!(b["state"], "converged", "{st:#}");
        assert_eq!(b["last_pass"]["trigger"], "start");
        assert!(b["capacity"]["pool_size"].as_u64().unwrap() > 0);
        assert_eq!(b["capacity"]["provisioned"], 1u64 << 30);
    }
    assert_eq!(lv_names(&s, "vg-a"), ["a1", "vg-a-pool"]);
    assert_eq!(lv_names(&s, "vg-b"), ["b1", "vg-b-pool"]);
    // one process per backend, named in its command line as cinder-volume's children are
    assert_eq!(
        workers_mentioning(&s.path("cinder.conf").display().to_string()).len(),
        2
    );
    let text = d.ember(&["status"]);
    assert_eq!(text.code, 0, "{text:?}");
    assert!(text.stdout.contains("2 backends: 2 converged"), "{text:?}");

    // a second daemon on the same host is refused
    let r = d.ember(&["daemon"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("another ember daemon is running"),
        "{r:?}"
    );

    assert_eq!(d.stop(10), 0);
    for (_, pid) in pids {
        assert!(!alive(pid), "worker {pid} left running");
    }
    assert!(!s.path("run/control.sock").exists());
}

#[test]
fn edits_in_place_by_rename_and_by_symlink_swap_converge_without_a_signal() {
    let (s, d) = setup(&["a", "b"], TWO);
    d.wait_ready(10);
    // in place
    s.write(
        "desired-state.yaml",
        &format!("{TWO}      b2: {{ size: 1G }}\n"),
    );
    wait_lv(&s, &d, "vg-b", "b2", true);
    // an editor's write-to-temp and rename-over
    s.write(
        "ds.tmp",
        &format!("{TWO}      b2: {{ size: 1G }}\n      b3: {{ size: 1G }}\n"),
    );
    std::fs::rename(s.path("ds.tmp"), s.path("desired-state.yaml")).unwrap();
    wait_lv(&s, &d, "vg-b", "b3", true);
    let st = d.wait_for("pass after rename", 10, |st| {
        backend(st, "b")["last_pass"]["trigger"] == "desired-state change"
    });
    assert_eq!(backend(&st, "b")["state"], "converged");
}

#[test]
fn symlink_swap_like_a_configmap() {
    // desired-state.yaml -> ..data/desired-state.yaml, ..data -> ..v1; the update swaps ..data
    let s = Scratch::new();
    s.write("lvm.json", r#"{"vgs": {"vg-a": {"size": 10737418240}}}"#);
    let dir = s.path("cm");
    std::fs::create_dir_all(dir.join("..v1")).unwrap();
    std::fs::write(
        dir.join("..v1/desired-state.yaml"),
        "backends:\n  a:\n    volumes:\n      x1: { size: 1G }\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("..v1", dir.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/desired-state.yaml", dir.join("desired-state.yaml"))
        .unwrap();
    let c = s.write("cinder.conf", &format!("[DEFAULT]\nenabled_backends = a\n[a]\nvolume_group = vg-a\n[ember]\nrun_dir = {}\ndesired_state = cm/desired-state.yaml\n", s.path("run").display()));
    let sim = format!("sim:{}", s.path("lvm.json").display());
    let d = Daemon::start(s.dir.path(), &c, &["--lvm", &sim]);
    d.wait_ready(10);
    assert!(lv_names(&s, "vg-a").contains(&"x1".to_string()));
    std::fs::create_dir_all(dir.join("..v2")).unwrap();
    std::fs::write(
        dir.join("..v2/desired-state.yaml"),
        "backends:\n  a:\n    volumes:\n      x1: { size: 1G }\n      x2: { size: 1G }\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("..v2", dir.join("..data_tmp")).unwrap();
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
    wait_lv(&s, &d, "vg-a", "x2", true);
    // an in-place edit of the symlink's target, in another directory, is seen too
    std::fs::write(dir.join("..v2/desired-state.yaml"), "backends:\n  a:\n    volumes:\n      x1: { size: 1G }\n      x2: { size: 1G }\n      x3: { size: 1G }\n").unwrap();
    wait_lv(&s, &d, "vg-a", "x3", true);
}

#[test]
fn a_broken_edit_changes_nothing_and_shows_the_error() {
    let (s, d) = setup(&["a", "b"], TWO);
    d.wait_ready(10);
    let before = s.read("lvm.json");
    // half-written: a new volume and a deletion, cut off mid-line
    s.write("desired-state.yaml", "backends:\n  a:\n    prune: true\n    volumes:\n      zz: { size: 1G }\n  b:\n    volumes:\n      b1: { si");
    let st = d.wait_for("the error in status", 10, |st| {
        !backend(st, "a")["desired_state_problems"]
            .as_array()
            .is_none_or(|p| p.is_empty())
    });
    let p = &backend(&st, "a")["desired_state_problems"][0];
    assert!(
        p["file"].as_str().unwrap().ends_with("desired-state.yaml"),
        "{p}"
    );
    assert!(p["line"].as_u64().is_some(), "{p}");
    let text = d.ember(&["status"]);
    assert!(text.stdout.contains("desired state not used"), "{text:?}");
    // a pass on demand still uses the last good state: nothing changes
    assert_eq!(d.ember(&["reconcile"]).code, 0);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(s.read("lvm.json"), before);
    // fixing the file clears the error and converges
    s.write(
        "desired-state.yaml",
        &format!("{TWO}      b9: {{ size: 1G }}\n"),
    );
    wait_lv(&s, &d, "vg-b", "b9", true);
    d.wait_for("errors cleared", 10, |st| {
        backend(st, "a")["desired_state_problems"]
            .as_array()
            .is_some_and(|p| p.is_empty())
    });
}

#[test]
fn sighup_adds_and_removes_backends_without_touching_the_others() {
    let desired = "backends:\n  a:\n    volumes:\n      a1: { size: 1G }\n  b:\n    volumes:\n      b1: { size: 1G }\n";
    let (s, d) = setup(&["a", "b"], desired);
    let st = d.wait_ready(10);
    let before = worker_pids(&st);

    conf(&s, &["a", "b", "c"]);
    s.write(
        "desired-state.yaml",
        &format!("{desired}  c:\n    volumes:\n      c1: {{ size: 1G }}\n"),
    );
    d.signal("HUP");
    let st = d.wait_for("a third converged worker", 10, |st| {
        st["ready"] == true && backend(st, "c")["state"] == "converged"
    });
    let after = worker_pids(&st);
    assert_eq!(after.len(), 3);
    for (name, pid) in &before {
        assert!(
            after.contains(&(name.clone(), *pid)),
            "{name} kept its worker: {before:?} -> {after:?}"
        );
    }
    assert!(lv_names(&s, "vg-c").contains(&"c1".to_string()));

    let c_pid = backend(&st, "c")["pid"].as_u64().unwrap();
    conf(&s, &["a", "b"]);
    s.write("desired-state.yaml", desired);
    let r = d.ember(&["reload"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("removed [c]"), "{r:?}");
    d.wait_for("c gone", 10, |st| worker_pids(st).len() == 2);
    assert!(!alive(c_pid), "c's worker stopped");
    assert!(
        lv_names(&s, "vg-c").contains(&"c1".to_string()),
        "a removed backend's volumes stay"
    );
    assert_eq!(worker_pids(&d.status().unwrap()), before);
}

#[test]
fn changed_backend_options_restart_only_that_worker() {
    let (s, d) = setup(&["a", "b"], TWO);
    let st = d.wait_ready(10);
    let a_pid = backend(&st, "a")["pid"].as_u64().unwrap();
    let b_pid = backend(&st, "b")["pid"].as_u64().unwrap();
    let c = s
        .read("cinder.conf")
        .replace("[b]\n", "[b]\nreserved_percentage = 10\n");
    s.write("cinder.conf", &c);
    d.signal("HUP");
    let st = d.wait_for("b restarted", 10, |st| {
        st["ready"] == true
            && backend(st, "b")["pid"].as_u64().is_some_and(|p| p != b_pid)
            && backend(st, "b")["state"] == "converged"
    });
    assert_eq!(backend(&st, "a")["pid"].as_u64(), Some(a_pid));
    assert_eq!(backend(&st, "b")["capacity"]["reserved_percentage"], 10);
}

#[test]
fn an_invalid_cinder_conf_on_reload_keeps_everything_running() {
    let (s, d) = setup(&["a", "b"], TWO);
    let st = d.wait_ready(10);
    let pids = worker_pids(&st);
    // a hand edit that breaks the file at its end (the [ember] section above stays readable)
    let good = s.read("cinder.conf");
    let bad_line = good.lines().count() + 1;
    s.write(
        "cinder.conf",
        &format!("{good}[lvm-new\nvolume_group = x\n"),
    );
    let r = d.ember(&["reload"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains(&format!(
            "cinder.conf:{bad_line}: error: invalid section header"
        )),
        "{r:?}"
    );
    let st = d.status().unwrap();
    assert_eq!(worker_pids(&st), pids, "nothing stopped");
    assert_eq!(st["config_problems"][0]["line"], bad_line);
    let text = d.ember(&["status"]);
    assert!(
        text.stdout
            .contains("reload failed, old configuration kept"),
        "{text:?}"
    );
    // SIGHUP too
    d.signal("HUP");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(worker_pids(&d.status().unwrap()), pids);
}

#[test]
fn a_killed_worker_is_restarted_and_its_next_pass_plans_nothing() {
    let (_s, d) = setup(&["a", "b"], TWO);
    let st = d.wait_ready(10);
    let a_pid = backend(&st, "a")["pid"].as_u64().unwrap();
    let b_pid = backend(&st, "b")["pid"].as_u64().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100)); // a new pass gets a new finished_at
    std::process::Command::new("kill")
        .args(["-9", &a_pid.to_string()])
        .status()
        .unwrap();
    let old_pass = backend(&st, "a")["last_pass"].clone();
    let st = d.wait_for("a restarted", 10, |st| {
        let a = backend(st, "a");
        a["restarts"] == 1
            && a["pid"].as_u64().is_some_and(|p| p != a_pid)
            && a["last_pass"] != old_pass
    });
    let a = backend(&st, "a");
    assert_eq!(
        a["last_pass"]["done"],
        serde_json::json!([]),
        "nothing to do after a restart: {a:#}"
    );
    // one read at most: none when the read its predecessor kept still holds
    assert!(
        a["last_pass"]["lvm_calls"].as_u64().is_some_and(|n| n <= 1),
        "{a:#}"
    );
    assert_eq!(backend(&st, "b")["pid"].as_u64(), Some(b_pid));
    assert!(d.log().contains("worker exited unexpectedly"));
}

#[test]
fn control_socket_rejects_malformed_and_oversized_requests() {
    use std::io::{Read, Write};
    let (s, d) = setup(&["a"], "backends: {}\n");
    d.wait_ready(10);
    let sock = s.path("run/control.sock");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&sock).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    for req in [
        b"not json\n".to_vec(),
        b"{\"cmd\":\"format_disks\"}\n".to_vec(),
        vec![b'x'; 100_000],
    ] {
        let mut c = std::os::unix::net::UnixStream::connect(&sock).unwrap();
        let _ = c.write_all(&req);
        let mut out = String::new();
        c.read_to_string(&mut out).unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["ok"], false, "{out}");
    }
    // a client that connects and says nothing does not block others
    let _idle = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    assert_eq!(d.ember(&["status"]).code, 0);
}

#[test]
fn only_root_or_the_daemons_user_may_use_the_control_socket() {
    if !is_root_or_say_so("the control socket's peer check (a client as another user)") {
        return;
    }
    let (s, d) = setup(&["a"], "backends: {}\n");
    d.wait_ready(10);
    use std::os::unix::fs::PermissionsExt;
    let nobody = |s: &Scratch| {
        std::process::Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                ember_bin(),
                "--config-file",
            ])
            .arg(s.path("cinder.conf"))
            .arg("status")
            .output()
            .unwrap()
    };
    // the socket is 0600 and root's: nobody cannot connect at all
    let mode = std::fs::Permissions::from_mode(0o755);
    std::fs::set_permissions(s.dir.path(), mode.clone()).unwrap();
    std::fs::set_permissions(s.path("run"), mode).unwrap();
    std::fs::set_permissions(
        s.path("cinder.conf"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let out = nobody(&s);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Permission denied"),
        "{out:?}"
    );
    // even with the file mode opened up, the peer-credential check refuses
    std::fs::set_permissions(
        s.path("run/control.sock"),
        std::fs::Permissions::from_mode(0o666),
    )
    .unwrap();
    let out = nobody(&s);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("permission denied: the control socket is for root"),
        "{out:?}"
    );
    assert_eq!(d.ember(&["status"]).code, 0, "root still may");
}

/// The worker's VmRSS; a test that cannot read it fails (a 0 would make its assertion true).
fn rss_kib(pid: u64) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or_else(|| panic!("cannot read VmRSS of process {pid}"))
}

#[test]
fn an_edit_storm_coalesces_and_ends_in_the_last_files_state() {
    let (s, d) = setup(
        &["a"],
        "backends:\n  a:\n    volumes:\n      v0: { size: 4M }\n",
    );
    let st = d.wait_ready(10);
    let pid = backend(&st, "a")["pid"].as_u64().unwrap();
    let rss_before = rss_kib(pid);
    let n = 300;
    let t = std::time::Instant::now();
    for i in 1..=n {
        // each rewrite declares v0..vi; every third one goes through rename-over, some are broken
        let mut text = String::from("backends:\n  a:\n    volumes:\n");
        for j in 0..=i {
            text.push_str(&format!("      v{j}: {{ size: 4M }}\n"));
        }
        if i % 7 == 0 && i != n {
            text.push_str("      broken: { size: ");
        }
        if i % 3 == 0 {
            s.write("tmp.yaml", &text);
            std::fs::rename(s.path("tmp.yaml"), s.path("desired-state.yaml")).unwrap();
        } else {
            s.write("desired-state.yaml", &text);
        }
        if i % 50 == 0 {
            // longer than the debounce: passes run while the storm goes on
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
    }
    let storm = t.elapsed();
    // the final state is the last file's: v0..v300
    let t = std::time::Instant::now();
    while lv_names(&s, "vg-a").len() != n + 2 {
        assert!(
            t.elapsed().as_secs() < 30,
            "not converged: {} LVs; log:\n{}",
            lv_names(&s, "vg-a").len(),
            d.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let st = d.wait_for("converged", 10, |st| {
        backend(st, "a")["state"] == "converged"
    });
    assert!(
        backend(&st, "a")["desired_state_problems"]
            .as_array()
            .is_some_and(|p| p.is_empty())
    );
    let passes = d.log().matches("pass (desired-state change)").count();
    eprintln!(
        "{n} rewrites in {} ms -> {passes} passes; worker RSS {rss_before} -> {} KiB",
        storm.as_millis(),
        rss_kib(pid)
    );
    assert!(
        passes < n / 5,
        "passes coalesce: {passes} passes for {n} rewrites"
    );
    assert!(
        rss_kib(pid) < rss_before + 8 * 1024,
        "memory stays bounded: {rss_before} -> {} KiB",
        rss_kib(pid)
    );
}

#[test]
fn the_pool_check_grows_a_filling_pool_between_passes() {
    let (s, d) = setup(
        &["a"],
        "backends:\n  a:\n    thin_pool:\n      size: 1G\n      autoextend: { threshold: 80%, step: 50%, max: 4G }\n    volumes:\n      a1: { size: 1G }\n",
    );
    // checks every second (passes are an hour apart)
    let mut c = s.read("cinder.conf");
    c.push_str("pool_check_interval = 1\n");
    s.write("cinder.conf", &c);
    drop(d);
    let sim = format!("sim:{}", s.path("lvm.json").display());
    let d = Daemon::start(s.dir.path(), &s.path("cinder.conf"), &["--lvm", &sim]);
    d.wait_for("converged", 10, |st| {
        backend(st, "a")["state"] == "converged"
    });
    let st = d.wait_for("the pool in status", 10, |st| {
        backend(st, "a")["pool"]["size"] == (1u64 << 30)
    });
    assert!(
        backend(&st, "a")["pool"]["autoextend"]["threshold_percent"] == 80.0,
        "{st:#}"
    );
    // guests write: the pool is 90% full
    let mut v: serde_json::Value = serde_json::from_str(&s.read("lvm.json")).unwrap();
    v["vgs"]["vg-a"]["lvs"]["vg-a-pool"]["data_percent"] = 90.0.into();
    s.write("lvm.json.new", &v.to_string());
    std::fs::rename(s.path("lvm.json.new"), s.path("lvm.json")).unwrap();
    let st = d.wait_for("grown by the pool check", 10, |st| {
        backend(st, "a")["pool"]["size"] == (3u64 << 29)
    });
    let b = backend(&st, "a");
    assert_eq!(
        b["last_pass"]["trigger"], "start",
        "a check, not a pass: {st:#}"
    );
    assert!(
        b["pool"]["last_growth"]["line"]
            .as_str()
            .unwrap()
            .contains("~ grow thin pool vg-a-pool data 1.0 GiB -> 1.5 GiB (usage 90% >= 80%)"),
        "{st:#}"
    );
    assert!(
        d.log()
            .contains("~ grow thin pool vg-a-pool data 1.0 GiB -> 1.5 GiB"),
        "{}",
        d.log()
    );
    let text = d.ember(&["status"]).stdout;
    assert!(
        text.contains("pool vg-a-pool: 1.5 GiB, data 60.00%"),
        "{text}"
    );
    assert!(text.contains("last growth: "), "{text}");
}

#[test]
fn a_backend_the_desired_state_names_but_cinder_conf_does_not_enable_waits_and_the_others_converge()
{
    // staged before it is enabled: a warning, not a rejected file
    let (s, d) = setup(&["a"], TWO);
    let st = d.wait_for("a converged", 10, |st| {
        backend(st, "a")["state"] == "converged"
    });
    assert_eq!(lv_names(&s, "vg-a"), ["a1", "vg-a-pool"]);
    let problems = &backend(&st, "a")["desired_state_problems"];
    assert!(
        problems[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("backend \"b\" is not in enabled_backends")),
        "{st:#}"
    );
    assert_eq!(problems[0]["severity"], "warning", "{st:#}");
    let text = d.ember(&["status"]).stdout;
    assert!(text.contains("desired state: "), "{text}");
    assert!(!text.contains("desired state not used"), "{text}");
    let c = s.ember(&[
        "--lvm",
        &format!("sim:{}", s.path("lvm.json").display()),
        "check",
    ]);
    assert_eq!(c.code, 0, "a warning: {c:?}");
    // enabled later: a reload converges it too
    conf(&s, &["a", "b"]);
    d.signal("HUP");
    wait_lv(&s, &d, "vg-b", "b1", true);
}

#[test]
fn no_desired_state_manages_nothing_until_it_exists_and_a_rejected_one_is_not_converged() {
    let s = Scratch::new();
    s.write("lvm.json", r#"{"vgs": {"vg-a": {"size": 10737418240}}}"#);
    let c = conf(&s, &["a"]);
    let sim = format!("sim:{}", s.path("lvm.json").display());
    let d = Daemon::start(s.dir.path(), &c, &["--lvm", &sim]);
    let st = d.wait_for("started without a desired state", 10, |st| {
        backend(st, "a")["state"] == "no_desired_state"
    });
    assert!(lv_names(&s, "vg-a").is_empty(), "{st:#}");
    let r = d.ember(&["status"]);
    assert_eq!(r.code, 0, "nothing is wrong yet: {r:?}");
    assert!(r.stdout.contains("no desired state"), "{r:?}");
    assert!(
        r.stdout
            .contains("does not exist): ember manages nothing until it does"),
        "{r:?}"
    );
    // created: picked up without a signal
    s.write(
        "desired-state.yaml",
        "backends:\n  a:\n    volumes:\n      a1: { size: 1G }\n",
    );
    wait_lv(&s, &d, "vg-a", "a1", true);
    d.wait_for("converged", 10, |st| {
        backend(st, "a")["state"] == "converged"
    });
    // a broken edit: the last good state stays in force, and the backend is not "converged"
    s.write(
        "desired-state.yaml",
        "backends:\n  a:\n    volumes:\n      a1: { size: 1 }\n",
    );
    let st = d.wait_for("rejected", 10, |st| backend(st, "a")["state"] == "rejected");
    assert_eq!(backend(&st, "a")["desired_state"], "rejected");
    let r = d.ember(&["status"]);
    assert_eq!(r.code, 2, "monitoring must see it: {r:?}");
    assert!(
        r.stdout
            .contains("desired state rejected (last good state in force)"),
        "{r:?}"
    );
    assert!(r.stdout.contains("has no unit"), "{r:?}");
    // fixed: converged again
    s.write(
        "desired-state.yaml",
        "backends:\n  a:\n    volumes:\n      a1: { size: 1G }\n",
    );
    d.wait_for("converged again", 10, |st| {
        backend(st, "a")["state"] == "converged"
    });
    assert_eq!(d.ember(&["status"]).code, 0);
}

#[test]
fn an_error_in_one_backends_part_blocks_that_backend_only() {
    let (s, mut d) = setup(&["a", "b"], TWO);
    d.wait_ready(10);
    // b's part is broken, a's gets a volume: a converges, b keeps its last good state
    s.write(
        "desired-state.yaml",
        "backends:\n  a:\n    volumes:\n      a1: { size: 1G }\n      a2: { size: 1G }\n  b:\n    prune: true\n    volumes:\n      b2: { size: 10 }\n",
    );
    wait_lv(&s, &d, "vg-a", "a2", true);
    let st = d.wait_for("b rejected", 10, |st| {
        backend(st, "b")["state"] == "rejected"
    });
    let p = &backend(&st, "b")["desired_state_problems"][0];
    assert_eq!(p["line"], 9, "{st:#}");
    assert!(
        p["message"].as_str().unwrap().contains("has no unit"),
        "{st:#}"
    );
    assert_eq!(backend(&st, "a")["state"], "converged", "{st:#}");
    assert_eq!(
        lv_names(&s, "vg-b"),
        ["b1", "vg-b-pool"],
        "nothing of b's changed"
    );
    assert_eq!(d.ember(&["status"]).code, 2);
    d.stop(10);
    // the one-shot commands: check exits 1, apply converges a and exits 1 naming b
    let sim = format!("sim:{}", s.path("lvm.json").display());
    let c = s.ember(&["--lvm", &sim, "check"]);
    assert_eq!(c.code, 1, "{c:?}");
    s.write(
        "desired-state.yaml",
        "backends:\n  a:\n    volumes:\n      a1: { size: 1G }\n      a2: { size: 1G }\n      a3: { size: 1G }\n  b:\n    volumes:\n      b2: { size: 10 }\n",
    );
    let r = s.ember(&["--lvm", &sim, "apply"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("ember: backend b: nothing done"), "{r:?}");
    assert!(lv_names(&s, "vg-a").contains(&"a3".to_string()), "{r:?}");
    assert_eq!(lv_names(&s, "vg-b"), ["b1", "vg-b-pool"]);
}

#[test]
fn cinder_conf_edited_under_the_daemon_is_reported_and_applied_only_on_reload() {
    let (s, mut d) = setup(&["a", "b"], TWO);
    d.wait_ready(10);
    // an edit that adds a backend: validated at once, not applied
    conf(&s, &["a", "b", "c"]);
    let st = d.wait_for("the change reported", 10, |st| {
        st["config_changed"].is_string()
    });
    assert!(
        st["config_changed"].as_str().unwrap().contains(
            "cinder.conf changed on disk: `systemctl reload ember` (or `ember reload`) applies it"
        ),
        "{st:#}"
    );
    assert_eq!(worker_pids(&st).len(), 2, "nothing applied: {st:#}");
    let r = d.ember(&["status"]);
    assert!(
        r.stdout.contains("config: cinder.conf changed on disk"),
        "{r:?}"
    );
    // an invalid edit: said so, nothing changes
    let good = s.read("cinder.conf");
    s.write(
        "cinder.conf",
        &good.replace("volume_group = vg-b", "volume_group = bad/vg"),
    );
    d.wait_for("the invalid change reported", 10, |st| {
        st["config_changed"]
            .as_str()
            .is_some_and(|c| c.contains("is invalid"))
    });
    // put back as in force: the notice goes
    conf(&s, &["a", "b"]);
    d.wait_for("no notice", 10, |st| st["config_changed"].is_null());
    d.stop(10);

    // reload_on_change: a valid edit adding a backend converges it without a command
    let mut c = s.read("cinder.conf");
    c.push_str("reload_on_change = true\n");
    s.write("cinder.conf", &c);
    let sim = format!("sim:{}", s.path("lvm.json").display());
    let d = Daemon::start(s.dir.path(), &s.path("cinder.conf"), &["--lvm", &sim]);
    d.wait_ready(10);
    s.write(
        "desired-state.yaml",
        &format!("{TWO}  c:\n    volumes:\n      c1: {{ size: 1G }}\n"),
    );
    let mut c = std::fs::read_to_string(s.path("cinder.conf")).unwrap();
    c = c.replace("enabled_backends = a,b", "enabled_backends = a,b,c");
    c.push_str("[c]\nvolume_group = vg-c\n");
    s.write("cinder.conf", &c);
    wait_lv(&s, &d, "vg-c", "c1", true);
    // and an invalid one changes nothing
    s.write(
        "cinder.conf",
        &c.replace("volume_group = vg-c", "volume_group = bad/vg"),
    );
    let st = d.wait_for("the invalid change reported", 10, |st| {
        st["config_changed"]
            .as_str()
            .is_some_and(|c| c.contains("is invalid"))
    });
    assert_eq!(worker_pids(&st).len(), 3, "{st:#}");
}
