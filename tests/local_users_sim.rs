//! What local users other than root can do to ember, end to end through the real binary on the
//! simulated LVM (issue 28): use the control socket as members of `[ember] control_group`, own
//! a directory on the way to the desired state. The same on a cinder-shaped host, under the
//! unit: tests/vm_host/local.rs.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

mod common;
use common::daemon::*;
use common::*;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::{Duration, Instant};

fn lv_names(s: &Scratch) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(&s.read("lvm.json")).unwrap();
    v["vgs"]["vg-a"]["lvs"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn volumes(names: &[&str]) -> String {
    let mut d = String::from("backends:\n  a:\n    prune: true\n    volumes:\n");
    for n in names {
        d.push_str(&format!("      {n}: {{ size: 1G }}\n"));
    }
    d
}

fn scratch(ember: &str) -> Scratch {
    let s = Scratch::new();
    s.write("lvm.json", r#"{"vgs": {"vg-a": {"size": 10737418240}}}"#);
    s.write(
        "cinder.conf",
        &format!(
            "[DEFAULT]\nenabled_backends = a\n[a]\nvolume_group = vg-a\n[ember]\nrun_dir = {}\nresync_interval = 3600\n{ember}",
            s.path("run").display()
        ),
    );
    s
}

fn sim(s: &Scratch) -> String {
    format!("sim:{}", s.path("lvm.json").display())
}

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

/// `ember ARGS` as uid 65534 with primary group `gid` and the supplementary `groups`.
fn as_other(s: &Scratch, gid: u32, groups: &[u32], args: &[&str]) -> Run {
    let groups = if groups.is_empty() {
        "--clear-groups".to_string()
    } else {
        format!(
            "--groups={}",
            groups
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",")
        )
    };
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", &format!("--regid={gid}"), &groups])
        .arg(ember_bin())
        .arg("--config-file")
        .arg(s.path("cinder.conf"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn control_group_members_read_status_and_ask_for_passes_but_only_root_confirms_deletions() {
    if !is_root_or_say_so("the control group (clients as another user)") {
        return;
    }
    // the group of gid 65534, whatever its name here (nogroup on Debian)
    let group = nix::unistd::Group::from_gid(nix::unistd::Gid::from_raw(65534))
        .unwrap()
        .expect("a group with gid 65534");
    let s = scratch(&format!(
        "control_group = {}\nmax_deletions_per_pass = 0\nprune_grace = 0\n",
        group.name
    ));
    s.write("desired-state.yaml", &volumes(&["v1", "v2", "v3"]));
    let d = Daemon::start(s.dir.path(), &s.path("cinder.conf"), &["--lvm", &sim(&s)]);
    d.wait_ready(20);
    s.write("desired-state.yaml", &volumes(&["v1"]));
    d.wait_for("two deletions refused by the cap", 10, |st| {
        backend(st, "a")["last_pass"]["refused"]
            .as_array()
            .is_some_and(|r| r.len() == 2)
    });
    // the group reaches the socket: run_dir is the group's to enter, nothing else in it is
    std::fs::set_permissions(s.dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    std::fs::set_permissions(
        s.path("cinder.conf"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let run = s.path("run");
    assert_eq!(mode(&run), 0o750);
    assert_eq!(std::fs::metadata(&run).unwrap().gid(), 65534);
    assert_eq!(mode(&run.join("control.sock")) & 0o777, 0o660);
    assert_eq!(mode(&run.join("ember.lock")), 0o600);

    // a member by its primary group, and by a supplementary one
    for (gid, groups) in [(65534, vec![]), (4242, vec![65534])] {
        let r = as_other(&s, gid, &groups, &["status", "--json"]);
        assert!(r.code == 0 || r.code == 2, "{r:?}");
        assert_eq!(backend(&r.json(), "a")["name"], "a", "{r:?}");
        let r = as_other(&s, gid, &groups, &["reconcile", "--backend", "a"]);
        assert_eq!(r.code, 0, "a pass lifts no safety: {r:?}");
        // and waiting for it, and the volumes: no root needed (the daemon read them)
        let r = as_other(&s, gid, &groups, &["reconcile", "--backend", "a", "--wait"]);
        assert_eq!(r.code, 2, "blocked by the deletion cap: {r:?}");
        assert!(
            r.stdout
                .starts_with("backend a: blocked: 2 refused (deletion_cap: 2)"),
            "{r:?}"
        );
        let r = as_other(&s, gid, &groups, &["status", "--volumes"]);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stdout.contains("\n  v2  "), "{r:?}");
        let r = as_other(
            &s,
            gid,
            &groups,
            &["reconcile", "--backend", "a", "--allow-deletions", "2"],
        );
        assert_eq!(r.code, 1, "{r:?}");
        assert!(
            r.stderr.contains(
                "permission denied: a confirmation of deletions (--allow-deletions) is for root alone"
            ),
            "{r:?}"
        );
        let r = as_other(&s, gid, &groups, &["reload"]);
        assert_eq!(r.code, 1, "{r:?}");
        assert!(r.stderr.contains("a reload is for root alone"), "{r:?}");
    }
    // whatever passes ran meanwhile, the cap still held
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(lv_names(&s), ["v1", "v2", "v3", "vg-a-pool"]);

    // a member cannot take every connection of the daemon's: past MAX_MEMBER_CONNECTIONS (32)
    // it is told the daemon is busy, and root is still answered
    // (perl-base is Essential in Debian: on every machine, unlike python3)
    let holder = "use IO::Socket::UNIX; $| = 1; my @c; for (1..40) { push @c, IO::Socket::UNIX->new(Peer => $ARGV[0]) or die \"connect: $!\" } print \"held\\n\"; sleep 4;";
    let mut holder = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .args(["/usr/bin/perl", "-e", holder])
        .arg(run.join("control.sock"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(holder.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "held");
    std::thread::sleep(Duration::from_millis(500));
    let r = as_other(&s, 65534, &[], &["status"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr
            .contains("busy: members of [ember] control_group hold 32 connections"),
        "{r:?}"
    );
    assert!(
        matches!(d.ember(&["status"]).code, 0 | 2),
        "root is answered"
    );
    holder.wait().unwrap();
    let r = as_other(&s, 65534, &[], &["status"]);
    assert!(r.code == 0 || r.code == 2, "{r:?}");

    // not a member: not even status (run_dir and the socket are the group's)
    let r = as_other(&s, 4242, &[], &["status"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("Permission denied"), "{r:?}");

    // root confirms
    let r = d.ember(&["reconcile", "--backend", "a", "--allow-deletions", "2"]);
    assert_eq!(r.code, 0, "{r:?}");
    let t = Instant::now();
    while lv_names(&s) != ["v1", "vg-a-pool"] {
        assert!(t.elapsed() < Duration::from_secs(10), "{}", d.log());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn without_a_control_group_run_dir_is_roots_alone() {
    let s = scratch("");
    s.write("desired-state.yaml", "backends: {}\n");
    std::fs::create_dir(s.path("run")).unwrap();
    std::fs::set_permissions(s.path("run"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let d = Daemon::start(s.dir.path(), &s.path("cinder.conf"), &["--lvm", &sim(&s)]);
    d.wait_ready(20);
    assert_eq!(mode(&s.path("run")), 0o700);
}

/// Issue 28: whoever owns a directory on the way to the desired state (a `/var/lib/cinder`
/// owned by cinder) can swap root's subdirectory for a link to an older file.
#[test]
fn a_desired_state_below_a_directory_another_user_owns_is_refused_by_name() {
    if !is_root_or_say_so("the checks of the desired state's path (they apply to root)") {
        return;
    }
    let s = Scratch::new();
    let cinder = s.path("cinder");
    std::fs::create_dir_all(cinder.join("ember")).unwrap();
    let desired = cinder.join("ember/desired-state.yaml");
    std::fs::write(&desired, volumes(&["v1"])).unwrap();
    std::fs::set_permissions(&cinder, std::fs::Permissions::from_mode(0o755)).unwrap();
    nix::unistd::chown(&cinder, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    let s2 = scratch(&format!("desired_state = {}\n", desired.display()));
    s2.write("lvm.json", r#"{"vgs": {"vg-a": {"size": 10737418240}}}"#);
    let before = s2.read("lvm.json");
    let want = format!(
        "the desired state refused: {} is owned by nobody (uid 65534), not root: whoever owns it can replace what is below it",
        cinder.display()
    );
    for cmd in ["apply", "plan", "check"] {
        let r = s2.ember(&["--lvm", &sim(&s2), cmd]);
        assert_eq!(r.code, 1, "{cmd}: {r:?}");
        assert!(r.stderr.contains(&want), "{cmd}: {r:?}");
    }
    assert_eq!(s2.read("lvm.json"), before, "nothing done");

    // the daemon changes nothing, and its status says why
    let mut d = Daemon::start(
        s2.dir.path(),
        &s2.path("cinder.conf"),
        &["--lvm", &sim(&s2)],
    );
    let st = d.wait_for("the refusal in status", 20, |st| {
        backend(st, "a")["desired_state_problems"]
            .as_array()
            .is_some_and(|p| {
                p.iter()
                    .any(|p| p["message"].as_str().unwrap_or("").contains(&want))
            })
    });
    let r = d.ember(&["status"]);
    assert_eq!(r.code, 2, "{r:?}\n{st:#}");
    assert!(r.stdout.contains(&want), "{r:?}");
    assert_eq!(s2.read("lvm.json"), before, "nothing done: {}", d.log());
    d.stop(20);

    // the operator's word
    let r = s2.ember(&["--lvm", &sim(&s2), "--allow-insecure-files", "apply"]);
    assert_eq!(r.code, 0, "{r:?}");
}
