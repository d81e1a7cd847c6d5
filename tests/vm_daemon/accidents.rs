//! Accidents that must not delete, on real LVM with data: a file rewritten in place in two
//! writes, the grace period of a prune (through a restart), swapped volume groups, another
//! host's file, and one writer per volume group. Part of the daemon suite (one boot).

use super::common::daemon::*;
use super::common::vm::*;
use super::common::*;

use std::time::{Duration, Instant};

fn conf(s: &Scratch, backends: &[(&str, &str)], ember: &str) {
    let names: Vec<&str> = backends.iter().map(|b| b.0).collect();
    let mut c = format!("[DEFAULT]\nenabled_backends = {}\n", names.join(","));
    for (b, vg) in backends {
        c.push_str(&format!(
            "[{b}]\nvolume_group = {vg}\nlvm_conf_file = None\n"
        ));
    }
    c.push_str(&format!(
        "[ember]\nrun_dir = {}\nresync_interval = 3600\n{ember}",
        s.path("run").display()
    ));
    s.write("cinder.conf", &c);
}

fn desired(backend: &str, names: &[String], extra: &str) -> String {
    let mut y = format!("backends:\n  {backend}:\n    prune: true\n    volumes:\n");
    for n in names {
        y.push_str(&format!("      {n}: {{ size: 32M }}\n"));
    }
    y.push_str(extra);
    y
}

/// Writes 4 MiB of random data at the start of each volume and returns its checksum.
fn fill(vg: &str, name: &str) -> String {
    let dev = format!("/dev/{vg}/{name}");
    run(
        "dd",
        &[
            "if=/dev/urandom",
            &format!("of={dev}"),
            "bs=1M",
            "count=4",
            "oflag=direct",
            "status=none",
        ],
    );
    md5(vg, name)
}

fn md5(vg: &str, name: &str) -> String {
    run("md5sum", &[&format!("/dev/{vg}/{name}")])
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

fn converged(d: &Daemon, b: &str, secs: u64) -> serde_json::Value {
    d.wait_for(&format!("{b} converged"), secs, |st| {
        st["ready"] == true && backend(st, b)["state"] == "converged"
    })
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("{prefix}{i}")).collect()
}

#[test]
#[ignore = "VM test: tests/vm/run-tests daemon"]
fn vm_a_file_rewritten_in_place_in_two_writes_deletes_nothing() {
    require_vm("chroot");
    create_vg("vg-half-file");
    let s = Scratch::new();
    conf(&s, &[("h", "vg-half-file")], "");
    let all = names("v", 6);
    s.write("desired-state.yaml", &desired("h", &all, ""));
    let d = Daemon::start(s.dir.path(), &s.path("cinder.conf"), &[]);
    converged(&d, "h", 300);
    let sums: Vec<String> = all.iter().map(|v| fill("vg-half-file", v)).collect();

    // the file rewritten in place: first up to the line after volume 3 (valid YAML), then,
    // 3 s later, the rest
    let full = desired("h", &all, "");
    let cut = full.match_indices('\n').nth(6).map(|(i, _)| i + 1).unwrap();
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(s.path("desired-state.yaml"))
        .unwrap();
    f.write_all(&full.as_bytes()[..cut]).unwrap();
    f.flush().unwrap();
    d.wait_for(
        "the half file read and the missing volumes marked",
        120,
        |_| lv("vg-half-file", "v6").is_some_and(|l| l.tags.contains("ember-undeclared-since=")),
    );
    std::thread::sleep(Duration::from_secs(3));
    f.write_all(&full.as_bytes()[cut..]).unwrap();
    drop(f);
    d.wait_for("unmarked", 120, |_| {
        all.iter()
            .all(|v| lv("vg-half-file", v).is_some_and(|l| !l.tags.contains("undeclared")))
    });
    converged(&d, "h", 120);
    for (v, sum) in all.iter().zip(&sums) {
        assert_eq!(&md5("vg-half-file", v), sum, "{v} holds its data");
    }
    assert!(d.log().contains("unmark volume v6"), "{}", d.log());
}

/// The grace period of the test below, in seconds.
const GRACE: u64 = 75;

#[test]
#[ignore = "VM test: tests/vm/run-tests daemon"]
fn vm_a_removed_volume_is_marked_kept_through_a_restart_and_deleted_after_its_grace_period() {
    require_vm("chroot");
    create_vg("vg-grace");
    let s = Scratch::new();
    // (long enough for the steps below on a machine slower than ours, or a loaded one)
    conf(
        &s,
        &[("g", "vg-grace")],
        &format!("prune_grace = {GRACE}\n"),
    );
    let all = names("w", 4);
    s.write("desired-state.yaml", &desired("g", &all, ""));
    let mut d = Daemon::start(s.dir.path(), &s.path("cinder.conf"), &[]);
    converged(&d, "g", 300);
    let keep = fill("vg-grace", "w3");
    // w4 removed, w3 removed (declared again later), w2 absent
    s.write(
        "desired-state.yaml",
        &desired("g", &all[..1], "      w2: { state: absent }\n"),
    );
    let marked_at = Instant::now();
    let st = d.wait_for("w3 and w4 marked", 120, |st| {
        backend(st, "g")["last_pass"]["scheduled"]
            .as_array()
            .is_some_and(|a| a.len() == 2)
    });
    assert!(
        lv("vg-grace", "w2").is_none(),
        "state: absent deletes at once"
    );
    let status = d.ember(&["status"]).stdout;
    assert!(
        status.contains("marked: - delete volume w4 32.0 MiB (not declared, prune: true) in "),
        "{status}"
    );
    let plan = d.ember(&["plan"]);
    assert!(
        plan.stdout
            .contains("- delete volume w4 32.0 MiB (not declared, prune: true) in "),
        "{plan:?}"
    );
    let delete_at = backend(&st, "g")["last_pass"]["scheduled"][1]["delete_at"]
        .as_u64()
        .unwrap();

    // the mark survives a restart
    assert_eq!(d.stop(60), 0);
    d = Daemon::start(s.dir.path(), &s.path("cinder.conf"), &[]);
    converged(&d, "g", 120);
    let w4 = lv("vg-grace", "w4").expect("not deleted before its grace period");
    assert!(w4.tags.contains("ember-undeclared-since="), "{w4:?}");
    // w3 declared again within the grace period: unmarked, kept with its data
    s.write(
        "desired-state.yaml",
        &desired(
            "g",
            &["w1".to_string(), "w3".to_string()],
            "      w2: { state: absent }\n",
        ),
    );
    d.wait_for("w3 unmarked", 120, |_| {
        lv("vg-grace", "w3").is_some_and(|l| !l.tags.contains("undeclared"))
    });
    assert!(
        marked_at.elapsed() < Duration::from_secs(GRACE),
        "the test was too slow to check the grace period"
    );
    assert!(
        lv("vg-grace", "w4").is_some(),
        "still within its grace period"
    );
    d.wait_for("w4 deleted after its grace period", 180, |_| {
        lv("vg-grace", "w4").is_none()
    });
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(now >= delete_at, "deleted at {now}, before {delete_at}");
    assert_eq!(md5("vg-grace", "w3"), keep);
    assert_eq!(d.stop(60), 0);
}

#[test]
#[ignore = "VM test: tests/vm/run-tests daemon"]
fn vm_swapped_volume_groups_write_nothing_and_swapped_back_everything_converges() {
    require_vm("chroot");
    create_vg("vg-p");
    create_vg("vg-q");
    // a volume made by an ember from before backend tags
    run(
        "lvcreate",
        &[
            "-q",
            "--yes",
            "--type",
            "thin-pool",
            "-L",
            "1G",
            "--addtag",
            "ember-managed",
            "-n",
            "vg-p-pool",
            "vg-p",
        ],
    );
    run(
        "lvcreate",
        &[
            "-q",
            "--yes",
            "--type",
            "thin",
            "-V",
            "32M",
            "--thinpool",
            "vg-p-pool",
            "--addtag",
            "ember-managed",
            "-n",
            "p1",
            "vg-p",
        ],
    );
    let s = Scratch::new();
    conf(&s, &[("p", "vg-p"), ("q", "vg-q")], "prune_grace = 5\n");
    let both = "backends:\n  p:\n    prune: true\n    volumes:\n      p1: { size: 32M }\n      p2: { size: 32M }\n  q:\n    prune: true\n    volumes:\n      q1: { size: 32M }\n      q2: { size: 32M }\n";
    s.write("desired-state.yaml", both);
    let d = Daemon::start(s.dir.path(), &s.path("cinder.conf"), &[]);
    converged(&d, "p", 300);
    converged(&d, "q", 300);
    assert_eq!(
        lv("vg-p", "p1").unwrap().tags,
        "ember-backend=p,ember-managed",
        "the old tag got the backend's"
    );
    let sums: Vec<(&str, &str, String)> = [
        ("vg-p", "p1"),
        ("vg-p", "p2"),
        ("vg-q", "q1"),
        ("vg-q", "q2"),
    ]
    .into_iter()
    .map(|(vg, v)| (vg, v, fill(vg, v)))
    .collect();

    // swapped in cinder.conf, reloaded
    conf(&s, &[("p", "vg-q"), ("q", "vg-p")], "prune_grace = 5\n");
    let r = d.ember(&["reload"]);
    assert_eq!(r.code, 0, "{r:?}");
    // each backend finds its VG marked for the other: it writes nothing there (no empty
    // look-alikes of the other's volumes, no marks), and says so
    let st = d.wait_for("both refused the swapped VGs", 300, |st| {
        ["p", "q"]
            .iter()
            .all(|b| backend(st, b)["last_pass"]["refusal_kinds"]["vg_of_another_backend"] == 1)
    });
    let refused = backend(&st, "p")["last_pass"]["refused"].to_string();
    assert!(
        refused.contains("volume group vg-q is marked for backend q"),
        "{refused}"
    );
    for b in ["p", "q"] {
        assert_eq!(backend(&st, b)["state"], "blocked", "{st:#}");
    }
    std::thread::sleep(Duration::from_secs(7));
    assert_eq!(d.ember(&["reconcile"]).code, 0);
    std::thread::sleep(Duration::from_secs(20));
    let names = |vg: &str| -> Vec<String> { lvs(vg).into_iter().map(|l| l.name).collect() };
    assert_eq!(
        names("vg-p"),
        ["p1", "p2", "vg-p-pool"],
        "nothing made in vg-p"
    );
    assert_eq!(
        names("vg-q"),
        ["q1", "q2", "vg-q-pool"],
        "nothing made in vg-q"
    );
    for (vg, v, sum) in &sums {
        assert_eq!(&md5(vg, v), sum, "{vg}/{v} survives the swap");
        assert!(
            !lv(vg, v).unwrap().tags.contains("undeclared"),
            "{vg}/{v} not marked"
        );
    }
    let r = d.ember(&["status"]);
    assert_eq!(r.code, 2, "blocked is not converged: {r:?}");
    let status = r.stdout;
    assert!(status.contains("is marked for backend p"), "{status}");
    assert!(
        status.contains("2 backends: 2 blocked (p: ")
            && status.matches("(vg_of_another_backend: 1)").count() == 2,
        "{status}"
    );
    // swapped back
    conf(&s, &[("p", "vg-p"), ("q", "vg-q")], "prune_grace = 5\n");
    assert_eq!(d.ember(&["reload"]).code, 0);
    converged(&d, "p", 300);
    converged(&d, "q", 300);
    for (vg, v, sum) in &sums {
        assert_eq!(&md5(vg, v), sum, "{vg}/{v} after swapping back");
    }
    assert_eq!(
        names("vg-p"),
        ["p1", "p2", "vg-p-pool"],
        "vg-p holds what it held"
    );
    assert_eq!(
        names("vg-q"),
        ["q1", "q2", "vg-q-pool"],
        "vg-q holds what it held"
    );
    for (vg, b) in [("vg-p", "p"), ("vg-q", "q")] {
        let tags = run("vgs", &["--noheadings", "-o", "vg_tags", vg]);
        assert_eq!(tags.trim(), format!("ember-backend={b}"), "{vg} marked");
    }
}

#[test]
#[ignore = "VM test: tests/vm/run-tests daemon"]
fn vm_one_writer_per_volume_group() {
    require_vm("chroot");
    create_vg("vg-one");
    let s = Scratch::new();
    conf(&s, &[("o", "vg-one")], "");
    s.write("desired-state.yaml", &desired("o", &names("x", 2), ""));
    let mut d = Daemon::start(s.dir.path(), &s.path("cinder.conf"), &[]);
    let st = converged(&d, "o", 300);
    let r = d.ember(&["apply"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("managed by a running ember daemon")
            && r.stderr.contains("ember reconcile --backend o"),
        "{r:?}"
    );
    // a second daemon with another run_dir and an older desired state
    let s2 = Scratch::new();
    conf(&s2, &[("o", "vg-one")], "");
    s2.write(
        "desired-state.yaml",
        "backends:\n  o:\n    prune: true\n    volumes: {}\n",
    );
    let d2 = Daemon::start(s2.dir.path(), &s2.path("cinder.conf"), &[]);
    let st2 = d2.wait_for("the refusal", 60, |st| {
        backend(st, "o")["last_pass"]["error"].is_string()
    });
    let pid = worker_pids(&st)[0].1;
    let err = backend(&st2, "o")["last_pass"]["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        err.contains("another ember daemon") && err.contains(&format!("pid {pid}")),
        "{err}"
    );
    drop(d2);
    assert_eq!(d.stop(60), 0);
    // two applies at once: the second waits for the first
    s.write("desired-state.yaml", &desired("o", &names("x", 4), ""));
    let spawn = || {
        std::process::Command::new(ember_bin())
            .args([
                "--config-file",
                &s.path("cinder.conf").display().to_string(),
                "apply",
            ])
            .output()
            .unwrap()
    };
    let (a, b) = std::thread::scope(|sc| {
        let a = sc.spawn(spawn);
        std::thread::sleep(Duration::from_millis(200));
        let b = sc.spawn(spawn);
        (a.join().unwrap(), b.join().unwrap())
    });
    assert!(a.status.success() && b.status.success(), "{a:?} {b:?}");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&a.stderr),
        String::from_utf8_lossy(&b.stderr)
    );
    assert!(said.contains("waiting for `ember apply`"), "{said}");
    assert_eq!(lvs("vg-one").len(), 5, "{:?}", lvs("vg-one"));
}

#[test]
#[ignore = "VM test: tests/vm/run-tests daemon"]
fn vm_another_hosts_file_changes_nothing_until_confirmed() {
    require_vm("chroot");
    create_vg("vg-host-a");
    let s = Scratch::new();
    // the most dangerous settings: prune, no grace period
    conf(&s, &[("h", "vg-host-a")], "prune_grace = 0\n");
    s.write("desired-state.yaml", &desired("h", &names("a", 2), ""));
    let d = Daemon::start(s.dir.path(), &s.path("cinder.conf"), &[]);
    converged(&d, "h", 300);
    let sums: Vec<(String, String)> = names("a", 2)
        .into_iter()
        .map(|v| (fill("vg-host-a", &v), v))
        .collect();
    let lv_names = || -> Vec<String> { lvs("vg-host-a").into_iter().map(|l| l.name).collect() };
    let before = lv_names();

    // configuration management pushes host B's file: none of host A's volumes in it
    s.write("desired-state.yaml", &desired("h", &names("b", 1), ""));
    let st = d.wait_for("the file refused", 120, |st| {
        backend(st, "h")["last_pass"]["refusal_kinds"]["unknown_volumes"] == 1
    });
    assert_eq!(backend(&st, "h")["state"], "blocked", "{st:#}");
    // and so it stays, pass after pass
    for _ in 0..2 {
        assert_eq!(d.ember(&["reconcile", "--backend", "h"]).code, 0);
        std::thread::sleep(Duration::from_secs(5));
    }
    assert_eq!(lv_names(), before, "nothing deleted, nothing made");
    for (sum, v) in &sums {
        assert_eq!(&md5("vg-host-a", v), sum, "{v} intact");
        assert!(
            !lv("vg-host-a", v).unwrap().tags.contains("undeclared"),
            "{v} not marked"
        );
    }
    let r = d.ember(&["status"]);
    assert_eq!(r.code, 2, "blocked is not converged: {r:?}");
    let status = r.stdout;
    assert!(
        status.contains("declares none of backend h's 2 volume(s) (a1, a2)")
            && status.contains("--allow-deletions"),
        "{status}"
    );
    assert!(
        status.contains("1 backend: 1 blocked (h: ") && status.contains("unknown_volumes: 1"),
        "{status}"
    );

    // the operator confirms once: carried out, and the passes after it go on as usual
    assert_eq!(
        d.ember(&["reconcile", "--backend", "h", "--allow-deletions"])
            .code,
        0
    );
    d.wait_for("host B's file carried out", 120, |_| {
        lv_names() == ["b1", "vg-host-a-pool"]
    });
    assert_eq!(d.ember(&["reconcile", "--backend", "h"]).code, 0);
    converged(&d, "h", 120);
}
