//! The Debian package under systemd as PID 1: `dpkg -i` of the .deb packaging/build-deb made
//! (tests/vm/run-tests builds it, and an upgrade with the next revision), the operator's day with
//! the packaged unit, an upgrade that restarts the daemon between lvm commands, `dpkg -r` that
//! stops it and leaves every LV, `dpkg -P` that leaves no ember file outside /etc/cinder, and
//! `systemd-analyze security` of the packaged unit.

use super::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn deb(revision: u32) -> String {
    let version = env!("CARGO_PKG_VERSION");
    let dir = if revision == 1 {
        "debian"
    } else {
        "debian-next"
    };
    let d = format!("{ROOT}/target/{dir}/ember_{version}-{revision}_amd64.deb");
    assert!(
        std::path::Path::new(&d).exists(),
        "{d} is missing: tests/vm/run-tests systemd builds it with packaging/build-deb"
    );
    d
}

fn dpkg(args: &[&str]) {
    let out = Command::new("dpkg").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "dpkg {args:?}: {}{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        diag()
    );
}

/// `systemd-analyze security ember`'s overall exposure (0 safest, 10 most exposed).
fn exposure() -> (f64, String) {
    let out = sctl_analyze(&["security", "--no-pager", "ember.service"]);
    let level = out
        .lines()
        .find_map(|l| l.split("Overall exposure level for ember.service: ").nth(1))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in:\n{out}"));
    (level, out)
}

fn sctl_analyze(args: &[&str]) -> String {
    let out = Command::new("systemd-analyze").args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What the package owns on disk, which must be gone after a purge.
const PACKAGE_PATHS: &[&str] = &[
    "/usr/sbin/ember",
    "/usr/lib/systemd/system/ember.service",
    "/lib/systemd/system/ember.service",
    "/usr/share/man/man8/ember.8.gz",
    "/usr/share/man/man5/ember-desired-state.5.gz",
    "/usr/share/bash-completion/completions/ember",
    "/usr/share/zsh/vendor-completions/_ember",
    "/usr/share/fish/vendor_completions.d/ember.fish",
    "/usr/share/doc/ember",
    "/usr/share/ember",
    "/usr/lib/modules-load.d/ember.conf",
    "/etc/systemd/system/multi-user.target.wants/ember.service",
    "/var/lib/systemd/deb-systemd-helper-enabled/ember.service.dsh-also",
    "/run/ember",
    "/run/lock/ember",
];

#[test]
#[ignore = "VM test: tests/vm/run-tests systemd"]
fn vm_systemd_a_debian_package_installs_runs_upgrades_and_purges() {
    require_vm("systemd");
    for b in ["pa", "pb"] {
        create_vg(&format!("vg-{b}"));
    }
    // the guest boots the host's root, a container image's: its policy-rc.d (exit 101) forbids
    // maintainer scripts to start services, which no storage host has (the overlay keeps the
    // host's own)
    let _ = std::fs::remove_file("/usr/sbin/policy-rc.d");
    // no cinder.conf yet: the package installs, enables the unit, and the unit waits for one
    let _ = std::fs::remove_file("/etc/cinder/cinder.conf");
    dpkg(&["-i", &deb(1)]);
    capability_dropin();
    assert_eq!(prop("ember", "UnitFileState"), "enabled");
    assert_eq!(
        prop("ember", "FragmentPath").trim_start_matches("/usr"),
        "/lib/systemd/system/ember.service"
    );
    assert_eq!(prop("ember", "ActiveState"), "inactive", "{}", diag());
    for page in ["ember", "ember-desired-state"] {
        let out = Command::new("man")
            .args(["-P", "cat", page])
            .env("MANWIDTH", "80")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("NAME"),
            "man {page}: {text}"
        );
    }
    for f in [
        "/usr/share/bash-completion/completions/ember",
        "/usr/share/zsh/vendor-completions/_ember",
        "/usr/share/fish/vendor_completions.d/ember.fish",
        "/usr/share/doc/ember/examples/prometheus/ember-alerts.yaml",
    ] {
        assert!(std::path::Path::new(f).exists(), "{f}");
    }
    // the --json documents' schemas, as the repository keeps them
    for k in ["check", "plan", "apply", "status"] {
        let installed = format!("/usr/share/ember/schemas/{k}.schema.json");
        let kept = format!("{}/schemas/{k}.schema.json", env!("CARGO_MANIFEST_DIR"));
        assert_eq!(
            std::fs::read_to_string(&installed).unwrap_or_default(),
            std::fs::read_to_string(&kept).unwrap(),
            "{installed}"
        );
    }
    let (level, report) = exposure();
    eprintln!("systemd-analyze security ember (packaged unit): {level}\n{report}");
    assert!(
        level < 5.0,
        "exposure {level} is not below 5.0 (OK):\n{report}"
    );

    // the operator's day with the packaged unit
    std::fs::create_dir_all("/etc/cinder").unwrap();
    let conf = |backends: &[&str], broken: bool| {
        let mut c = format!("[DEFAULT]\nenabled_backends = {}\n", backends.join(","));
        for b in backends {
            c.push_str(&format!(
                "[{b}]\nvolume_group = vg-{b}\nlvm_conf_file = None\n"
            ));
        }
        if broken {
            c.push_str("[oops\n");
        }
        std::fs::write("/etc/cinder/cinder.conf", c).unwrap();
    };
    conf(&["pa"], false);
    std::fs::write(
        "/etc/cinder/desired-state.yaml",
        "backends:\n  pa:\n    volumes:\n      p1: { size: 64M }\n",
    )
    .unwrap();
    std::fs::create_dir_all("/etc/systemd/system/ember.service.d").unwrap();
    std::fs::write(
        "/etc/systemd/system/ember.service.d/test.conf",
        "[Service]\nWatchdogSec=4s\n",
    )
    .unwrap();
    run("systemctl", &["daemon-reload"]);
    run("systemctl", &["start", "ember"]);
    assert_eq!(prop("ember", "ActiveState"), "active", "{}", diag());
    assert!(lv("vg-pa", "p1").is_some(), "{}", diag());
    std::fs::write(
        "/etc/cinder/desired-state.yaml.new",
        "backends:\n  pa:\n    volumes:\n      p1: { size: 64M }\n      p2: { size: 64M }\n  pb:\n    volumes:\n      q1: { size: 64M }\n",
    )
    .unwrap();
    std::fs::rename(
        "/etc/cinder/desired-state.yaml.new",
        "/etc/cinder/desired-state.yaml",
    )
    .unwrap();
    wait_for("p2", || lv("vg-pa", "p2").is_some());
    conf(&["pa", "pb"], false);
    reload_ok();
    assert!(lv("vg-pb", "q1").is_some(), "{}", diag());
    conf(&["pa", "pb"], true);
    assert!(
        !sctl(&["reload", "ember"]).status.success(),
        "a broken reload fails"
    );
    assert_eq!(prop("ember", "ActiveState"), "active");
    conf(&["pa", "pb"], false);
    reload_ok();
    let pid = prop("ember", "MainPID");
    run("kill", &["-STOP", &pid]);
    wait_for("a watchdog restart", || {
        prop("ember", "ActiveState") == "active" && prop("ember", "MainPID") != pid
    });
    wait_for("two workers again", || ember_workers().len() == 2);

    // an upgrade: the daemon is restarted, and stopped the normal way (between lvm commands)
    let pid = prop("ember", "MainPID");
    let lvs_before = (lvs("vg-pa"), lvs("vg-pb"));
    dpkg(&["-i", &deb(2)]);
    let t = Instant::now();
    while !(prop("ember", "ActiveState") == "active" && prop("ember", "MainPID") != pid) {
        assert!(
            t.elapsed() < Duration::from_secs(90),
            "the upgrade did not restart the daemon:\n{}",
            diag()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        run("dpkg-query", &["-W", "-f", "${Version}", "ember"]).trim(),
        format!("{}-2", env!("CARGO_PKG_VERSION"))
    );
    let journal = run("journalctl", &["-u", "ember", "--no-pager", "-o", "cat"]);
    assert!(
        journal.contains("ember daemon stopped"),
        "a clean stop:\n{journal}"
    );
    assert_eq!(
        (lvs("vg-pa"), lvs("vg-pb")),
        lvs_before,
        "the upgrade changed no LV"
    );

    // remove: stopped the normal way (the daemon says it stopped), every LV stays
    let stops = |j: &str| j.matches("ember daemon stopped").count();
    let before = stops(&journal);
    let removed = Command::new("dpkg").args(["-r", "ember"]).output().unwrap();
    assert!(removed.status.success(), "{removed:?}");
    assert_ne!(prop("ember", "ActiveState"), "active");
    let journal = run("journalctl", &["-u", "ember", "--no-pager", "-o", "cat"]);
    assert_eq!(
        stops(&journal),
        before + 1,
        "a clean stop on removal:\n{journal}"
    );
    assert!(
        !String::from_utf8_lossy(&removed.stderr).contains("still running"),
        "{removed:?}"
    );
    assert!(ember_workers().is_empty(), "{:?}", ember_workers());
    assert_eq!(
        (lvs("vg-pa"), lvs("vg-pb")),
        lvs_before,
        "dpkg -r changed no LV"
    );
    assert!(!std::path::Path::new("/usr/sbin/ember").exists());

    // purge: nothing of ember's left outside /etc/cinder, which is the operator's
    dpkg(&["-P", "ember"]);
    let _ = std::fs::remove_dir_all("/etc/systemd/system/ember.service.d");
    for p in PACKAGE_PATHS {
        assert!(!std::path::Path::new(p).exists(), "{p} left after dpkg -P");
    }
    assert!(std::path::Path::new("/etc/cinder/desired-state.yaml").exists());
    assert_eq!(
        (lvs("vg-pa"), lvs("vg-pb")),
        lvs_before,
        "dpkg -P changed no LV"
    );
    run("systemctl", &["daemon-reload"]);
}
