//! Real systemd as PID 1 in the QEMU guest (tests/vm/run-tests systemd): a throw-away
//! Type=notify unit is started, reloaded and stopped, and its journal read back. This is the
//! base the daemon's own systemd tests build on.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

mod common;
use common::vm::*;
#[path = "vm_systemd/package.rs"]
mod package;

use std::process::Command;
use std::time::{Duration, Instant};

fn prop(unit: &str, p: &str) -> String {
    run("systemctl", &["show", "-P", p, unit])
        .trim()
        .to_string()
}

/// Under the unit's sandbox, a requested pass with nothing new runs no lvm at all: the stamp's
/// `O_DIRECT` reads of the PVs and device-mapper's ioctls pass it (else every pass would read in
/// full). The first pass asked may still read (after the confirming read of a write).
fn nothing_new_reads_no_lvm(backend: &str) {
    let last = || {
        // (checked against its schema, as the tests' runner does)
        let st = common::json::validate("status", &run("ember", &["status", "--json"]));
        st["backends"]
            .as_array()
            .and_then(|b| b.iter().find(|b| b["name"] == backend))
            .map(|b| (b["counters"].clone(), b["last_pass"].clone()))
            .unwrap()
    };
    let mut seen = serde_json::Value::Null;
    for _ in 0..3 {
        let (before, _) = last();
        run("ember", &["reconcile", "--backend", backend]);
        wait_for("the reconcile pass", || last().0 != before);
        let (_, pass) = last();
        if pass["trigger"] == "reconcile" && pass["lvm_calls"] == 0 && pass["lvm_commands"] == 0 {
            return;
        }
        seen = pass;
    }
    panic!("a pass with nothing new ran lvm under the unit: {seen:#}");
}

/// Waits (90 s at most: a pass or a restart under systemd takes 1-10 s here) until `f` holds.
fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    const LIMIT: u64 = 90;
    let t = Instant::now();
    while !f() {
        assert!(
            t.elapsed() < Duration::from_secs(LIMIT),
            "timed out after {LIMIT} s waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    common::watchdog::note_wait(what, t.elapsed(), LIMIT);
}

#[test]
#[ignore = "VM test: tests/vm/run-tests systemd"]
fn vm_systemd_notify_unit_starts_reloads_logs_and_stops() {
    require_vm("systemd");
    assert_eq!(
        std::fs::read_to_string("/proc/1/comm").unwrap().trim(),
        "systemd"
    );
    // a daemon that says READY=1 only after initialising and counts SIGHUPs
    std::fs::write("/usr/local/bin/notify-smoke", "#!/bin/bash\n\
        n=0\n\
        trap 'n=$((n+1)); echo \"notify-smoke: reload #$n\"; echo $n > /run/notify-smoke.hups; systemd-notify --status=\"reloaded $n\"' HUP\n\
        echo 'notify-smoke: initialising'\n\
        sleep 0.5\n\
        systemd-notify --ready --status=serving\n\
        echo 'notify-smoke: ready'\n\
        while :; do sleep 1 & wait $!; done\n").unwrap();
    run("chmod", &["755", "/usr/local/bin/notify-smoke"]);
    std::fs::write("/etc/systemd/system/notify-smoke.service", "[Unit]\nDescription=ember VM smoke test\n\
        [Service]\nType=notify\nNotifyAccess=all\nExecStart=/usr/local/bin/notify-smoke\nExecReload=/bin/kill -HUP $MAINPID\nTimeoutStartSec=30\n").unwrap();
    // one that never says READY=1 must fail to start: the check above can fail
    std::fs::write(
        "/etc/systemd/system/never-ready.service",
        "[Service]\nType=notify\nExecStart=/bin/sleep 60\nTimeoutStartSec=3\n",
    )
    .unwrap();
    run("systemctl", &["daemon-reload"]);

    run("systemctl", &["start", "notify-smoke.service"]);
    assert_eq!(prop("notify-smoke", "ActiveState"), "active");
    assert_eq!(prop("notify-smoke", "SubState"), "running");
    assert_eq!(prop("notify-smoke", "StatusText"), "serving");

    for n in 1..=2 {
        run("systemctl", &["reload", "notify-smoke.service"]);
        wait_for("SIGHUP", || {
            std::fs::read_to_string("/run/notify-smoke.hups")
                .is_ok_and(|s| s.trim() == n.to_string())
        });
    }
    wait_for("STATUS=", || {
        prop("notify-smoke", "StatusText") == "reloaded 2"
    });

    let journal = run(
        "journalctl",
        &["-u", "notify-smoke", "--no-pager", "-o", "cat"],
    );
    assert!(
        journal.contains("notify-smoke: ready") && journal.contains("notify-smoke: reload #2"),
        "{journal}"
    );

    let failed = Command::new("systemctl")
        .args(["start", "never-ready.service"])
        .status()
        .unwrap();
    assert!(
        !failed.success(),
        "a unit that never sends READY=1 must fail to start"
    );
    assert_eq!(prop("never-ready", "Result"), "timeout");

    run("systemctl", &["stop", "notify-smoke.service"]);
    assert_eq!(prop("notify-smoke", "ActiveState"), "inactive");
    let left = Command::new("pgrep")
        .args(["-f", "notify-smoke"])
        .output()
        .unwrap();
    assert!(left.stdout.is_empty(), "nothing left running");
}

#[test]
#[ignore = "VM test: tests/vm/run-tests systemd"]
fn vm_systemd_ember_apply_works_under_systemd_with_udev() {
    // the real-LVM pipeline also works on a systemd host (udev, dm-event socket), as in production
    require_vm("systemd");
    create_vg("vg-sd");
    let s = common::Scratch::new();
    s.write("cinder.conf", "[DEFAULT]\nenabled_backends = lvm-1\n[lvm-1]\nvolume_group = vg-sd\nlvm_conf_file = None\n");
    s.write(
        "desired-state.yaml",
        "backends:\n  lvm-1:\n    volumes:\n      v: { size: 64M }\n",
    );
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        lv("vg-sd", "v").map(|l| l.tags),
        Some("ember-backend=lvm-1,ember-managed".to_string())
    );
    assert!(
        std::path::Path::new("/dev/vg-sd/v").exists(),
        "udev made the device link"
    );
    assert_eq!(s.ember(&["plan"]).code, 0);
}

fn ember_workers() -> Vec<String> {
    let out = Command::new("pgrep")
        .args(["-a", "-f", "ember.* worker --backend"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect()
}

fn sctl(args: &[&str]) -> std::process::Output {
    Command::new("systemctl").args(args).output().unwrap()
}

/// What an operator would look at when something fails.
fn diag() -> String {
    let st = sctl(&["status", "ember", "--no-pager", "-l"]);
    let j = Command::new("journalctl")
        .args(["-u", "ember", "--no-pager", "-n", "60"])
        .output()
        .unwrap();
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&st.stdout),
        String::from_utf8_lossy(&j.stdout)
    )
}

fn reload_ok() {
    let r = sctl(&["reload", "ember"]);
    assert!(
        r.status.success(),
        "systemctl reload ember failed: {}\n{}",
        String::from_utf8_lossy(&r.stderr),
        diag()
    );
}

/// `EMBER_TEST_CAPS=...`: the unit runs with this capability bounding set instead of its own (a
/// drop-in), to find what lvm and ember need (docs/systemd.md).
fn capability_dropin() {
    let caps = std::env::var("EMBER_TEST_CAPS").unwrap_or_default();
    if caps.is_empty() {
        return;
    }
    std::fs::create_dir_all("/etc/systemd/system/ember.service.d").unwrap();
    std::fs::write(
        "/etc/systemd/system/ember.service.d/caps.conf",
        format!("[Service]\nCapabilityBoundingSet=\nCapabilityBoundingSet={caps}\n"),
    )
    .unwrap();
    eprintln!("capability bounding set for this run: {caps}");
}

/// Installs ember as a packager would, with the binary the tests built (`install.sh`; idempotent).
fn install_unit() {
    capability_dropin();
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new(format!("{root}/install.sh"))
        .env("PREFIX", "/usr/local")
        .env("BIN", common::ember_bin())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

fn write_conf(backends: &[&str], broken: bool) {
    let mut c = format!(
        "[DEFAULT]\nenabled_backends = {}\nhost = node01\n",
        backends.join(",")
    );
    for b in backends {
        // b runs lvm as cinder-volume did, under cinder's lvm.conf (LVM_SYSTEM_DIR=/etc/cinder:
        // cinder.conf's lvm_conf_file default), the others under /etc/lvm
        let lvm_conf = if *b == "b" {
            ""
        } else {
            "lvm_conf_file = None\n"
        };
        c.push_str(&format!("[{b}]\nvolume_group = vg-{b}\n{lvm_conf}"));
    }
    // where Debian's node_exporter reads: the unit must let the daemon write there
    c.push_str("[ember]\nmetrics_file = /var/lib/prometheus/node-exporter/ember.prom\n");
    if broken {
        c.push_str("[oops\n");
    }
    std::fs::write("/etc/cinder/cinder.conf", c).unwrap();
}

#[test]
#[ignore = "VM test: tests/vm/run-tests systemd"]
fn vm_systemd_operators_day_with_the_shipped_unit() {
    require_vm("systemd");
    for b in ["a", "b", "c"] {
        create_vg(&format!("vg-{b}"));
    }
    install_unit();
    assert!(std::path::Path::new("/usr/local/share/man/man8/ember.8").exists());
    // a shorter watchdog than the shipped 30 s, to test it quickly
    std::fs::create_dir_all("/etc/systemd/system/ember.service.d").unwrap();
    std::fs::write(
        "/etc/systemd/system/ember.service.d/test.conf",
        "[Service]\nWatchdogSec=4s\n",
    )
    .unwrap();
    std::fs::create_dir_all("/etc/cinder").unwrap();
    std::fs::copy("/etc/lvm/lvm.conf", "/etc/cinder/lvm.conf").unwrap();
    std::fs::create_dir_all("/var/lib/prometheus/node-exporter").unwrap();
    write_conf(&["a", "b"], false);
    let two = "backends:\n  a:\n    volumes:\n      a1: { size: 64M }\n  b:\n    volumes:\n      b1: { size: 64M }\n";
    std::fs::write("/etc/cinder/desired-state.yaml", two).unwrap();
    run("systemctl", &["daemon-reload"]);

    // start returns only after READY=1: the volumes exist when it returns
    let t = Instant::now();
    run("systemctl", &["start", "ember"]);
    eprintln!("systemctl start ember: {} ms", t.elapsed().as_millis());
    assert_eq!(prop("ember", "ActiveState"), "active");
    assert!(
        lv("vg-a", "a1").is_some() && lv("vg-b", "b1").is_some(),
        "converged before start returned"
    );
    assert_eq!(prop("ember", "StatusText"), "2 backends: 2 converged");
    // b's writes under cinder's lvm.conf, in the unit's sandbox: lvm archived the VG's metadata
    // where cinder-volume's lvm did (the unit made the directories and lets lvm write them)
    let archived = std::fs::read_dir("/etc/cinder/archive")
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with("vg-b_"))
                .count()
        })
        .unwrap_or(0);
    assert!(
        archived >= 2,
        "vg-b's archives in /etc/cinder/archive: {archived}"
    );
    assert!(std::path::Path::new("/etc/cinder/backup/vg-b").is_file());
    // the metrics file, written under the unit's ProtectSystem=strict
    wait_for("the metrics file", || {
        std::fs::read_to_string("/var/lib/prometheus/node-exporter/ember.prom")
            .is_ok_and(|m| m.contains("ember_backend_converged{backend=\"b\"} 1"))
    });
    let status = String::from_utf8_lossy(&sctl(&["status", "ember", "--no-pager", "-l"]).stdout)
        .into_owned();
    assert!(
        status.contains("worker --backend a") && status.contains("worker --backend b"),
        "{status}"
    );
    assert!(
        status.contains("Status: \"2 backends: 2 converged\""),
        "{status}"
    );
    let main_pid = prop("ember", "MainPID");
    let before = ember_workers();
    assert_eq!(before.len(), 2, "{before:?}");
    nothing_new_reads_no_lvm("a");

    // edit the desired state: converged without any command
    std::fs::write(
        "/etc/cinder/desired-state.yaml",
        format!("{two}      b2: {{ size: 64M }}\n"),
    )
    .unwrap();
    wait_for("b2", || lv("vg-b", "b2").is_some());

    // reload with a new backend: returns after READY=1, others keep their workers
    write_conf(&["a", "b", "c"], false);
    std::fs::write(
        "/etc/cinder/desired-state.yaml",
        format!("{two}      b2: {{ size: 64M }}\n  c:\n    volumes:\n      c1: {{ size: 64M }}\n"),
    )
    .unwrap();
    let t = Instant::now();
    reload_ok();
    eprintln!(
        "systemctl reload ember (new backend): {} ms",
        t.elapsed().as_millis()
    );
    assert!(
        lv("vg-c", "c1").is_some(),
        "the new backend converged before reload returned"
    );
    let after = ember_workers();
    assert_eq!(after.len(), 3, "{after:?}");
    for w in &before {
        assert!(after.contains(w), "{w} kept");
    }
    assert_eq!(prop("ember", "MainPID"), main_pid);

    // a broken cinder.conf: the reload fails, the service keeps running the old configuration
    write_conf(&["a", "b", "c"], true);
    let r = sctl(&["reload", "ember"]);
    assert!(
        !r.status.success(),
        "reload of a broken cinder.conf must fail"
    );
    assert_eq!(prop("ember", "ActiveState"), "active");
    assert!(
        prop("ember", "StatusText").contains("reload failed, old configuration kept"),
        "{}",
        prop("ember", "StatusText")
    );
    assert_eq!(ember_workers().len(), 3);
    write_conf(&["a", "b", "c"], false);
    reload_ok();

    // structured journal fields
    let journal = run("journalctl", &["-u", "ember", "-o", "json", "--no-pager"]);
    let structured = journal
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["ACTION"] == "create_volume" && e["VOLUME"] == "c1");
    let e = structured.unwrap_or_else(|| panic!("no entry with ACTION/VOLUME in:\n{journal}"));
    assert_eq!(e["BACKEND"], "c");

    // watchdog: a supervisor that stops answering is restarted by systemd
    let t = Instant::now();
    run("kill", &["-STOP", &main_pid]);
    wait_for("a watchdog restart", || {
        prop("ember", "NRestarts") == "1"
            && prop("ember", "ActiveState") == "active"
            && prop("ember", "MainPID") != main_pid
    });
    eprintln!(
        "watchdog restart after SIGSTOP: {} ms (WatchdogSec=4s)",
        t.elapsed().as_millis()
    );
    wait_for("three workers again", || ember_workers().len() == 3);
    assert_eq!(prop("ember", "StatusText"), "3 backends: 3 converged");

    // stop: everything exits, nothing is left behind
    let t = Instant::now();
    run("systemctl", &["stop", "ember"]);
    eprintln!("systemctl stop ember: {} ms", t.elapsed().as_millis());
    assert_eq!(prop("ember", "ActiveState"), "inactive");
    assert!(ember_workers().is_empty(), "{:?}", ember_workers());
    assert!(!std::path::Path::new("/run/ember/control.sock").exists());
    // volumes stay
    assert!(lv("vg-c", "c1").is_some());
}

#[test]
#[ignore = "VM test: tests/vm/run-tests systemd"]
fn vm_systemd_cinder_conf_edits_wait_for_reload_and_a_staged_backend_waits_for_its_enabling() {
    require_vm("systemd");
    for b in ["p", "q", "r"] {
        create_vg(&format!("vg-{b}"));
    }
    install_unit();
    std::fs::create_dir_all("/etc/cinder").unwrap();
    // no desired state yet: the service starts and manages nothing, and says so
    write_conf(&["p"], false);
    let _ = std::fs::remove_file("/etc/cinder/desired-state.yaml");
    run("systemctl", &["daemon-reload"]);
    run("systemctl", &["start", "ember"]);
    assert_eq!(prop("ember", "StatusText"), "1 backend: 1 no desired state");
    assert_eq!(
        Command::new(common::ember_bin())
            .arg("status")
            .status()
            .unwrap()
            .code(),
        Some(0),
        "nothing is wrong yet"
    );
    // it appears, naming q before cinder.conf enables it (staged): p converges, q waits
    let pq = "backends:\n  p:\n    volumes:\n      p1: { size: 64M }\n  q:\n    volumes:\n      q1: { size: 64M }\n";
    std::fs::write("/etc/cinder/desired-state.yaml.new", pq).unwrap();
    std::fs::rename(
        "/etc/cinder/desired-state.yaml.new",
        "/etc/cinder/desired-state.yaml",
    )
    .unwrap();
    wait_for("p1", || lv("vg-p", "p1").is_some());
    assert!(lv("vg-q", "q1").is_none());
    assert_eq!(prop("ember", "StatusText"), "1 backend: 1 converged");

    // cinder.conf edited under the service: said so, nothing changes until the reload
    write_conf(&["p", "q"], false);
    wait_for("the edit reported", || {
        prop("ember", "StatusText")
            .contains("cinder.conf changed on disk: `systemctl reload ember`")
    });
    std::thread::sleep(Duration::from_secs(2));
    assert!(lv("vg-q", "q1").is_none(), "not applied before the reload");
    assert_eq!(ember_workers().len(), 1);
    reload_ok();
    assert!(
        lv("vg-q", "q1").is_some(),
        "the staged backend converged once enabled"
    );
    assert_eq!(prop("ember", "StatusText"), "2 backends: 2 converged");

    // an error in q's part: q keeps its last good state and is shown rejected; p converges
    std::fs::write(
        "/etc/cinder/desired-state.yaml",
        "backends:\n  p:\n    volumes:\n      p1: { size: 64M }\n      p2: { size: 64M }\n  q:\n    volumes:\n      q1: { size: 64 }\n",
    )
    .unwrap();
    wait_for("p2", || lv("vg-p", "p2").is_some());
    wait_for("q rejected", || {
        prop("ember", "StatusText").contains("1 desired state rejected")
    });
    assert_eq!(
        Command::new(common::ember_bin())
            .arg("status")
            .status()
            .unwrap()
            .code(),
        Some(2),
        "monitoring sees it"
    );
    assert!(lv("vg-q", "q1").is_some());
    std::fs::write("/etc/cinder/desired-state.yaml", pq).unwrap();
    wait_for("converged again", || {
        prop("ember", "StatusText") == "2 backends: 2 converged"
    });

    // reload_on_change: a valid edit that adds a backend converges without a command
    let with = |backends: &[&str], extra: &str| {
        write_conf(backends, false);
        let mut c = std::fs::read_to_string("/etc/cinder/cinder.conf").unwrap();
        c.push_str(&format!("[ember]\nreload_on_change = true\n{extra}"));
        std::fs::write("/etc/cinder/cinder.conf", c).unwrap();
    };
    with(&["p", "q"], "");
    reload_ok();
    std::fs::write(
        "/etc/cinder/desired-state.yaml",
        format!("{pq}  r:\n    volumes:\n      r1: {{ size: 64M }}\n"),
    )
    .unwrap();
    with(&["p", "q", "r"], "");
    wait_for("r1 without a command", || lv("vg-r", "r1").is_some());
    wait_for("three workers", || ember_workers().len() == 3);
    // an invalid edit changes nothing and is reported
    let good = std::fs::read_to_string("/etc/cinder/cinder.conf").unwrap();
    std::fs::write("/etc/cinder/cinder.conf", format!("{good}[oops\n")).unwrap();
    wait_for("the invalid edit reported", || {
        prop("ember", "StatusText").contains("cinder.conf changed on disk and is invalid")
    });
    assert_eq!(ember_workers().len(), 3);
    assert_eq!(prop("ember", "ActiveState"), "active");
    std::fs::write("/etc/cinder/cinder.conf", good).unwrap();
    wait_for("the notice cleared", || {
        prop("ember", "StatusText") == "3 backends: 3 converged"
    });
    run("systemctl", &["stop", "ember"]);
    std::fs::remove_file("/etc/cinder/cinder.conf").unwrap();
    std::fs::remove_file("/etc/cinder/desired-state.yaml").unwrap();
}
