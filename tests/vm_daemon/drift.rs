//! A worker remembers its last read of the VG between passes and reads only the metadata
//! headers and device-mapper's device list while nothing changed (`src/lvm/recall.rs`). Here,
//! on real LVM: what other tools change between two passes is seen by the next one, and a
//! worker whose kept lvm shell dies or hangs goes on.

use super::common::daemon::*;
use super::common::vm::*;
use super::common::watchdog::{Watchdog, processes};
use super::common::*;

/// The backend `drift` on the volume group `vg`.
fn conf(vg: &str, run_dir: &std::path::Path) -> String {
    format!(
        "[DEFAULT]\nenabled_backends = drift\n[drift]\nvolume_group = {vg}\nlvm_conf_file = None\n[ember]\nresync_interval = 3600\nlvm_read_timeout = 5\nrun_dir = {}\n",
        run_dir.display()
    )
}

fn desired(volumes: &[&str]) -> String {
    let mut y = "backends:\n  drift:\n    thin_pool: { size: 1G }\n    volumes:\n".to_string();
    for v in volumes {
        y.push_str(&format!("      {v}: {{ size: 64M }}\n"));
    }
    y
}

fn start(vg: &str, volumes: &[&str]) -> (Scratch, Daemon) {
    create_vg(vg);
    let s = Scratch::new();
    s.write("cinder.conf", &conf(vg, &s.path("run")));
    s.write("desired-state.yaml", &desired(volumes));
    let d = Daemon::start(s.dir.path(), &s.path("cinder.conf"), &[]);
    d.wait_for("converged", 300, |st| {
        backend(st, "drift")["state"] == "converged"
    });
    (s, d)
}

/// Asks for a pass (`ember reconcile`) and returns it once it is the last pass shown.
fn pass(d: &Daemon) -> serde_json::Value {
    // every pass counts under one result (a pass with refusals under `blocked`)
    let passes = |st: &serde_json::Value| {
        let c = &backend(st, "drift")["counters"];
        ["converged", "error", "pending", "blocked"]
            .iter()
            .map(|k| c[k].as_u64().unwrap_or(0))
            .sum::<u64>()
    };
    let before = d.status().map_or(0, |st| passes(&st));
    assert_eq!(d.ember(&["reconcile", "--backend", "drift"]).code, 0);
    let st = d.wait_for("the reconcile pass", 120, |st| {
        backend(st, "drift")["last_pass"]["trigger"] == "reconcile" && passes(st) > before
    });
    backend(&st, "drift")["last_pass"].clone()
}

fn no_lvm(last: &serde_json::Value) -> bool {
    last["lvm_calls"] == 0 && last["lvm_commands"] == 0
}

/// The state the last pass left the backend in.
fn state(d: &Daemon) -> serde_json::Value {
    backend(&d.status().unwrap(), "drift")["state"].clone()
}

#[test]
#[ignore = "VM test: tests/vm/run-tests daemon"]
fn vm_what_other_tools_change_between_passes_is_seen_by_the_next_pass() {
    require_vm("chroot");
    let (_s, d) = start("vg-drift", &["d1", "d2", "d3"]);
    // nothing changed: no lvm at all (the confirming read after the first pass may still run)
    let mut last = pass(&d);
    if !no_lvm(&last) {
        last = pass(&d);
    }
    assert!(no_lvm(&last), "a pass with nothing new: {last:#}");
    // data written into a volume commits no metadata: the remembered read gets the pool's
    // usage from the kernel, and it is lvm's figure
    run(
        "dd",
        &[
            "if=/dev/urandom",
            "of=/dev/vg-drift/d3",
            "bs=1M",
            "count=24",
            "oflag=direct",
            "status=none",
        ],
    );
    let last = pass(&d);
    assert!(no_lvm(&last), "{last:#}");
    let lvm_says: f64 = lvs_rows("vg-drift/vg-drift-pool", "data_percent", false)[0][0]
        .parse()
        .unwrap();
    let st = d.status().unwrap();
    let ember_says = backend(&st, "drift")["pool"]["data_percent"]
        .as_f64()
        .unwrap();
    assert!(
        lvm_says > 2.0 && (ember_says - lvm_says).abs() < 0.011,
        "lvm {lvm_says}, ember {ember_says}"
    );
    // lvremove: the volume is made again
    run("lvremove", &["-q", "-y", "vg-drift/d2"]);
    let last = pass(&d);
    assert_eq!(last["done"].as_array().map(Vec::len), Some(1), "{last:#}");
    assert!(lv("vg-drift", "d2").is_some());
    assert_eq!(state(&d), "converged");
    // lvextend: the capacity says so (and d1 is refused from now on: it is larger than
    // declared, and ember never shrinks)
    run("lvextend", &["-q", "-L", "128M", "vg-drift/d1"]);
    let last = pass(&d);
    assert_eq!(last["refusal_kinds"]["shrink"], 1, "{last:#}");
    let st = d.status().unwrap();
    assert_eq!(backend(&st, "drift")["state"], "blocked", "{st:#}");
    assert_eq!(
        backend(&st, "drift")["capacity"]["provisioned"],
        (256u64 << 20),
        "{st:#}"
    );
    // a tag removed: d3 is not ember's any more, and the pass refuses to touch it
    run(
        "lvchange",
        &["-q", "--deltag", "ember-managed", "vg-drift/d3"],
    );
    let last = pass(&d);
    let refused = last["refused"].to_string();
    assert!(refused.contains("d3"), "{last:#}");
    assert_eq!(state(&d), "blocked");
    run(
        "lvchange",
        &["-q", "--addtag", "ember-managed", "vg-drift/d3"],
    );
    // (d1 stays refused: it is larger than declared, and ember never shrinks)
    let last = pass(&d);
    assert!(!last["refused"].to_string().contains("d3"), "{last:#}");
    assert_eq!(
        last["refused"].as_array().map(Vec::len),
        Some(1),
        "{last:#}"
    );
    assert_eq!(state(&d), "blocked");
    // deactivated (no metadata commit at all): activated again
    run("lvchange", &["-q", "-an", "vg-drift/d1"]);
    assert!(lv("vg-drift", "d1").unwrap().attr.chars().nth(4) != Some('a'));
    let last = pass(&d);
    assert!(!no_lvm(&last), "{last:#}");
    assert_eq!(lv("vg-drift", "d1").unwrap().attr.chars().nth(4), Some('a'));
    // a volume made by another tool is counted
    run(
        "lvcreate",
        &[
            "-q",
            "-y",
            "-T",
            "-V",
            "64M",
            "-n",
            "other",
            "vg-drift/vg-drift-pool",
        ],
    );
    pass(&d);
    let st = d.status().unwrap();
    assert_eq!(
        backend(&st, "drift")["capacity"]["provisioned"],
        (320u64 << 20),
        "{st:#}"
    );
    // and once all that is read, nothing new reads no lvm again
    let mut last = pass(&d);
    if !no_lvm(&last) {
        last = pass(&d);
    }
    assert!(no_lvm(&last), "{last:#}");
}

/// The worker's lvm shells: its children that are `lvm` with no arguments (started by its
/// blocking thread: each thread's children are listed apart).
fn shell_pids(d: &Daemon) -> Vec<u64> {
    let st = d.status().unwrap();
    let (_, worker) = worker_pids(&st).into_iter().next().unwrap();
    let mut kids = String::new();
    for t in std::fs::read_dir(format!("/proc/{worker}/task")).unwrap() {
        let t = t.unwrap().path().join("children");
        kids.push_str(&std::fs::read_to_string(t).unwrap_or_default());
        kids.push(' ');
    }
    kids.split_whitespace()
        .filter_map(|p| p.parse::<u64>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == "lvm")
        })
        // the shell is `lvm` with no arguments; a pass's first command runs as `lvm COMMAND
        // ...` of its own, and a write that is stopped is waited for, by design, forever
        .filter(|p| {
            std::fs::read(format!("/proc/{p}/cmdline"))
                .is_ok_and(|c| c.split(|b| *b == 0).filter(|a| !a.is_empty()).count() == 1)
        })
        .collect()
}

/// The worker's lvm shell, right after a pass (it lives 5 s past the worker's last pass).
fn shell_pid(d: &Daemon) -> u64 {
    shell_pids(d)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no lvm shell under the worker: {}", d.log()))
}

fn edit(s: &Scratch, volumes: &[&str]) {
    s.write("desired-state.yaml.new", &desired(volumes));
    std::fs::rename(
        s.path("desired-state.yaml.new"),
        s.path("desired-state.yaml"),
    )
    .unwrap();
}

/// Waits for the pass that made `name` to end (the state alone may still be the last pass's
/// while this one writes: a shell stopped then would hold one of its writes, which ember
/// waits for, by design, forever).
fn converged_with(d: &Daemon, name: &str) {
    d.wait_for(name, 120, |st| {
        let b = backend(st, "drift");
        b["state"] == "converged" && b["last_pass"]["done"].to_string().contains(name)
    });
    assert!(lv("vg-shell", name).is_some());
}

#[test]
#[ignore = "VM test: tests/vm/run-tests daemon"]
fn vm_a_worker_whose_lvm_shell_dies_or_hangs_goes_on() {
    require_vm("chroot");
    let (s, d) = start("vg-shell", &["d1"]);
    // a hang (an lvm command blocked behind the stopped shell) fails this test loudly, with
    // what runs and the daemon's log; the watchdog ends with the test
    let (log, daemon) = (d.dir.join("daemon.log"), d.pid());
    let _watchdog = Watchdog::new(
        "vm_a_worker_whose_lvm_shell_dies_or_hangs_goes_on",
        std::time::Duration::from_secs(300),
        move || {
            let report = format!(
                "{}\ndaemon log:\n{}",
                processes(),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            // the daemon and every lvm process (a stopped one holds the VG's lock): the
            // test's next wait fails
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &daemon.to_string()])
                .status();
            let _ = std::process::Command::new("pkill")
                .args(["-KILL", "-x", "lvm"])
                .status();
            report
        },
    );
    // killed between passes: the next pass starts another (a pass's first command runs as a
    // process of its own, the second starts the shell: each edit here adds two volumes)
    let first = shell_pid(&d);
    run("kill", &["-KILL", &first.to_string()]);
    edit(&s, &["d1", "d2", "d2b"]);
    converged_with(&d, "d2b");
    let second = shell_pid(&d);
    assert_ne!(first, second);
    // stopped (it answers nothing): found out before a write goes to it (it does not answer
    // `version`) or closed as idle first (5 s after the last pass); killed either way, replaced
    run("kill", &["-STOP", &second.to_string()]);
    edit(&s, &["d1", "d2", "d2b", "d3", "d3b"]);
    converged_with(&d, "d3b");
    assert!(!alive(second), "the stopped shell is gone");
    // and an idle worker keeps no lvm process (an lvm shell holds tens of MiB): the shell goes
    // 5 s after the worker's last pass or pool check, and the confirming read and a pool check
    // (every 10 s) may each come after the pass seen above: within 30 s, not at a fixed moment
    let t = std::time::Instant::now();
    while !shell_pids(&d).is_empty() {
        assert!(
            t.elapsed() < std::time::Duration::from_secs(30),
            "an idle worker's lvm shell is closed; log:\n{}",
            d.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    eprintln!(
        "the idle worker's lvm shell closed {:?} after the pass",
        t.elapsed()
    );
}
