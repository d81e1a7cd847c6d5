//! Real systemd as PID 1 in the QEMU guest (tests/vm/run-tests systemd): a throw-away
//! Type=notify unit is started, reloaded and stopped, and its journal read back. This is the
//! base the daemon's own systemd tests build on.

mod common;
use common::vm::*;

use std::process::Command;
use std::time::{Duration, Instant};

fn prop(unit: &str, p: &str) -> String {
    run("systemctl", &["show", "-P", p, unit])
        .trim()
        .to_string()
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
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
        Some("ember-managed".to_string())
    );
    assert!(
        std::path::Path::new("/dev/vg-sd/v").exists(),
        "udev made the device link"
    );
    assert_eq!(s.ember(&["plan"]).code, 0);
}
