//! What a local user other than root can do to ember on a cinder host (issue 28, items 8, 10,
//! 11): take the VG lock's place first, use the control socket, own a directory on the way to
//! the desired state.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use super::common::daemon::*;
use super::common::vm::*;
use super::common::*;
use super::support::*;

/// Runs `program args` outside the unit's sandbox as root and asserts it succeeded.
fn outside(program: &str, args: &[&str]) -> String {
    let out = run_outside_sandbox(program, args, &[]);
    assert!(out.status.success(), "{program} {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A directory of the project's (visible outside the sandbox, whose /tmp is private), root's.
fn shared_dir(name: &str) -> std::path::PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("vm-host-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes `text` to `path` outside the sandbox (/etc and /var are read-only under it), root's,
/// mode 0644, through a file in the project.
fn put_outside(path: &str, text: &str) {
    let tmp = shared_dir("put").join("file");
    std::fs::write(&tmp, text).unwrap();
    let src = tmp.to_string_lossy().into_owned();
    outside(
        "install",
        &["-m", "0644", "-o", "root", "-g", "root", &src, path],
    );
}

/// What any local user can do before ember first runs: make the directory where the VG locks
/// used to be (`/run/lock` is world-writable).
fn alice_makes_the_old_lock_directory() {
    // an earlier ember of this boot may have made it as root
    if std::fs::symlink_metadata("/run/lock/ember").is_ok_and(|m| m.uid() == 0) {
        std::fs::remove_dir_all("/run/lock/ember").unwrap();
    }
    if std::fs::symlink_metadata("/run/lock/ember").is_err() {
        let r = as_user("alice", "mkdir", &["-m", "0755", "/run/lock/ember"]);
        assert!(r.status.success(), "{r:?}");
    }
    let m = std::fs::symlink_metadata("/run/lock/ember").unwrap();
    assert_ne!(m.uid(), 0, "alice's, as in the issue");
}

fn mode(p: &str) -> (u32, u32, u32) {
    let m = std::fs::symlink_metadata(p).unwrap_or_else(|e| panic!("{p}: {e}"));
    (m.uid(), m.gid(), m.permissions().mode() & 0o7777)
}

#[test]
#[ignore = "VM test: tests/vm/run-tests host"]
fn vm_host_a_lock_directory_a_user_made_first_stops_no_write() {
    require_cinder_host();
    alice_makes_the_old_lock_directory();
    // nor can she make the new place first: only root makes anything in /run
    let r = as_user("alice", "mkdir", &["-p", "/run/ember/lock"]);
    assert!(!r.status.success(), "alice made /run/ember/lock: {r:?}");

    create_vg("vg-local-lock");
    // (lvm_conf_file = None: writes under cinder's lvm.conf are another item's)
    let s = cinder_host(
        &[("lock", "vg-local-lock", "lvm_conf_file = None")],
        "backends:\n  lock:\n    volumes:\n      v1: { size: 64M }\n",
    );
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(lv("vg-local-lock", "v1").is_some(), "{r:?}");
    // the lock is root's alone, where no one else can make it; alice's directory is not used
    assert_eq!(mode("/run/ember/lock"), (0, 0, 0o700));
    let (uid, _, m) = mode("/run/ember/lock/vg-local-lock.lock");
    assert_eq!((uid, m), (0, 0o600));
    assert!(!Path::new("/run/lock/ember/vg-local-lock.lock").exists());
    // and a second pass takes the same lock again
    assert_eq!(s.ember(&["apply"]).code, 0);
}

/// Issue 28: `/var/lib/cinder` is the cinder user's; whoever owns it can swap root's directory
/// below it for a link to an older file. ember refuses the file, naming that directory and its
/// owner, from a root shell (where root could read it) and in the daemon under the sandbox.
#[test]
#[ignore = "VM test: tests/vm/run-tests host"]
fn vm_host_a_desired_state_below_cinders_directory_is_refused_by_name() {
    require_cinder_host();
    create_vg("vg-local-trust");
    let cinder = nix::unistd::User::from_name("cinder").unwrap().unwrap();
    assert_eq!(mode("/var/lib/cinder").0, cinder.uid.as_raw());
    outside(
        "install",
        &[
            "-d",
            "-m",
            "0755",
            "-o",
            "root",
            "-g",
            "root",
            "/var/lib/cinder/ember",
        ],
    );
    put_outside(
        "/var/lib/cinder/ember/desired-state.yaml",
        "backends:\n  trust:\n    volumes:\n      v1: { size: 64M }\n",
    );
    let dir = shared_dir("trust");
    let conf = dir.join("cinder.conf");
    // (the control socket cannot live on the project's 9p file system)
    let run = tempfile::tempdir().unwrap();
    std::fs::write(
        &conf,
        format!(
            "[DEFAULT]\nenabled_backends = trust\nhost = vmhost\n[trust]\nvolume_group = vg-local-trust\nlvm_conf_file = None\n\
             [ember]\ndesired_state = /var/lib/cinder/ember/desired-state.yaml\nrun_dir = {}\n",
            run.path().join("run").display()
        ),
    )
    .unwrap();
    let want = format!(
        "/var/lib/cinder is owned by cinder (uid {}), not root: whoever owns it can replace what is below it",
        cinder.uid
    );
    // from a root shell, outside the unit: root can read the file there, and must not use it
    let conf_s = conf.to_string_lossy().into_owned();
    let out = run_outside_sandbox(ember_bin(), &["--config-file", &conf_s, "apply"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        stderr.contains(&format!("the desired state refused: {want}")),
        "{stderr}"
    );
    assert!(lvs("vg-local-trust").is_empty());

    // the daemon, under the unit's sandbox: changes nothing, and its status says why
    let mut d = Daemon::start(&dir, &conf, &[]);
    d.wait_for("the refusal in status", 60, |st| {
        backend(st, "trust")["desired_state_problems"]
            .as_array()
            .is_some_and(|p| {
                p.iter()
                    .any(|p| p["message"].as_str().unwrap_or("").contains(&want))
            })
    });
    let r = d.ember(&["status"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.contains(&want), "{r:?}");
    assert!(lvs("vg-local-trust").is_empty(), "{}", d.log());
    assert_eq!(d.stop(60), 0, "{}", d.log());
    outside("rm", &["-rf", "/var/lib/cinder/ember"]);
}

/// What an operator would look at when the unit fails.
fn journal() -> String {
    let out = run_outside_sandbox(
        "journalctl",
        &["-u", "ember", "--no-pager", "-n", "80"],
        &[],
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Issue 28: under the shipped unit, `/run/ember` (0750 root:root) kept `control_group` out of
/// the socket; and a member could lift the deletion cap. Members read status, root confirms,
/// others are kept out; nothing else in /run/ember is the members'. Alice's `/run/lock/ember`
/// (item 8) is there too: the daemon under the unit writes all the same.
#[test]
#[ignore = "VM test: tests/vm/run-tests host"]
fn vm_host_control_group_reads_status_under_the_unit_and_only_root_confirms() {
    require_cinder_host();
    alice_makes_the_old_lock_directory();
    create_vg("vg-local-ctl");
    let root = env!("CARGO_MANIFEST_DIR");
    let out = run_outside_sandbox(
        &format!("{root}/install.sh"),
        &[],
        &[("PREFIX", "/usr/local"), ("BIN", ember_bin())],
    );
    assert!(out.status.success(), "install.sh: {out:?}");
    put_outside(
        "/etc/cinder/cinder.conf",
        "[DEFAULT]\nenabled_backends = ctl\nhost = vmhost\n[ctl]\nvolume_group = vg-local-ctl\nlvm_conf_file = None\n\
         [ember]\ncontrol_group = ember-readers\nmax_deletions_per_pass = 0\nprune_grace = 0\n",
    );
    let desired = |names: &[&str]| {
        let mut d = String::from("backends:\n  ctl:\n    prune: true\n    volumes:\n");
        for n in names {
            d.push_str(&format!("      {n}: {{ size: 64M }}\n"));
        }
        d
    };
    put_outside(
        "/etc/cinder/desired-state.yaml",
        &desired(&["c1", "c2", "c3"]),
    );
    outside("systemctl", &["daemon-reload"]);
    let out = run_outside_sandbox("systemctl", &["start", "ember"], &[]);
    assert!(out.status.success(), "{out:?}\n{}", journal());
    for n in ["c1", "c2", "c3"] {
        assert!(lv("vg-local-ctl", n).is_some(), "{n}\n{}", journal());
    }
    put_outside("/etc/cinder/desired-state.yaml", &desired(&["c1"]));
    let status = || {
        let out = std::process::Command::new(ember_bin())
            .args(["status", "--json"])
            .output()
            .unwrap();
        // (every document is checked against its schema, as the tests' runner does)
        super::common::json::validate("status", &String::from_utf8_lossy(&out.stdout))
    };
    let t = std::time::Instant::now();
    let refused_two = |st: &serde_json::Value| {
        backend(st, "ctl")["last_pass"]["refused"]
            .as_array()
            .is_some_and(|r| r.len() == 2)
    };
    while !refused_two(&status()) {
        assert!(
            t.elapsed().as_secs() < 90,
            "no refusal by the cap:\n{:#}\n{}",
            status(),
            journal()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // refused by the cap: not converged
    let st = status();
    assert_eq!(backend(&st, "ctl")["state"], "blocked", "{st:#}");
    assert_eq!(mode("/run/ember").2, 0o750);
    let readers = nix::unistd::Group::from_name("ember-readers")
        .unwrap()
        .unwrap();
    assert_eq!(mode("/run/ember").1, readers.gid.as_raw());

    // a member reads status, asks for a pass, and cannot confirm
    let ember = "/usr/local/bin/ember";
    let out = as_user("reader", ember, &["status"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // (2: the deletions refused by the cap leave ctl blocked)
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        stdout.contains("1 backend: 1 blocked (ctl: 2 refused (deletion_cap: 2))"),
        "{out:?}"
    );
    let out = as_user("reader", ember, &["reconcile", "--backend", "ctl"]);
    assert!(out.status.success(), "{out:?}");
    let out = as_user(
        "reader",
        ember,
        &["reconcile", "--backend", "ctl", "--allow-deletions", "2"],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is for root alone"),
        "{out:?}"
    );
    // nothing else there is the member's to read
    for dir in ["/run/ember/memory", "/run/ember/lock"] {
        let out = as_user("reader", "ls", &[dir]);
        assert!(!out.status.success(), "reader: ls {dir}: {out:?}");
    }
    let out = as_user("reader", "cat", &["/run/ember/ember.lock"]);
    assert!(!out.status.success(), "{out:?}");
    // someone outside the group: not even status
    let out = as_user("alice", ember, &["status"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Permission denied"),
        "{out:?}"
    );
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert!(lv("vg-local-ctl", "c2").is_some() && lv("vg-local-ctl", "c3").is_some());

    // root confirms
    let r = std::process::Command::new(ember_bin())
        .args(["reconcile", "--backend", "ctl", "--allow-deletions", "2"])
        .output()
        .unwrap();
    assert!(r.status.success(), "{r:?}");
    let t = std::time::Instant::now();
    while lv("vg-local-ctl", "c2").is_some() || lv("vg-local-ctl", "c3").is_some() {
        assert!(t.elapsed().as_secs() < 90, "not deleted:\n{}", journal());
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(lv("vg-local-ctl", "c1").is_some());
    outside("systemctl", &["stop", "ember"]);
    outside(
        "rm",
        &[
            "-f",
            "/etc/cinder/cinder.conf",
            "/etc/cinder/desired-state.yaml",
        ],
    );
}
