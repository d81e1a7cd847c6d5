//! `ember daemon` against real LVM thin provisioning in the QEMU guest
//! (tests/vm/run-tests daemon). One daemon lives through the whole story, as on a host:
//! start with two backends, edits (in place, rename-over, symlink swap, broken), SIGHUP adding
//! and removing a backend, kill -9 of a worker, stop. Every check of LVM uses the guest's `lvs`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

#[path = "vm_daemon/accidents.rs"]
mod accidents;
#[path = "vm_daemon/autoextend.rs"]
mod autoextend;
#[path = "vm_daemon/capacity.rs"]
mod capacity;
mod common;
#[path = "vm_daemon/drift.rs"]
mod drift;
#[path = "vm_daemon/metrics.rs"]
mod metrics;
use common::daemon::*;
use common::vm::*;
use common::*;

use std::time::{Duration, Instant};

const M: u64 = 1 << 20;

fn conf(s: &Scratch, backends: &[&str]) {
    let mut c = format!(
        "[DEFAULT]\nenabled_backends = {}\nhost = vmhost\n",
        backends.join(",")
    );
    for b in backends {
        c.push_str(&format!(
            "[{b}]\nvolume_group = vg-{b}\nlvm_conf_file = None\n"
        ));
    }
    c.push_str(&format!(
        "[ember]\nrun_dir = {}\nresync_interval = 3600\ndesired_state = cm/desired-state.yaml\n",
        s.path("run").display()
    ));
    s.write("cinder.conf", &c);
}

/// Writes a new desired state the way a ConfigMap update does: a new directory, then an
/// atomic swap of the `..data` symlink.
fn configmap_update(s: &Scratch, version: u32, text: &str) {
    let cm = s.path("cm");
    let dir = cm.join(format!("..v{version}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("desired-state.yaml"), text).unwrap();
    let tmp = cm.join("..data_tmp");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(format!("..v{version}"), &tmp).unwrap();
    std::fs::rename(&tmp, cm.join("..data")).unwrap();
    if !cm.join("desired-state.yaml").exists() {
        std::os::unix::fs::symlink("..data/desired-state.yaml", cm.join("desired-state.yaml"))
            .unwrap();
    }
}

fn wait_lv(vg: &str, name: &str, d: &Daemon, secs: u64) -> Lv {
    let t = Instant::now();
    loop {
        if let Some(l) = lv(vg, name) {
            return l;
        }
        assert!(
            t.elapsed() < Duration::from_secs(secs),
            "{vg}/{name} did not appear within {secs} s; log:\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
#[ignore = "VM test: tests/vm/run-tests daemon"]
fn vm_daemon_lifecycle_on_real_lvm() {
    require_vm("chroot");
    for b in ["a", "b", "c"] {
        create_vg(&format!("vg-{b}"));
    }
    let s = Scratch::new();
    conf(&s, &["a", "b"]);
    let two = "backends:\n  a:\n    volumes:\n      a1: { size: 64M }\n  b:\n    volumes:\n      b1: { size: 64M }\n";
    configmap_update(&s, 1, two);

    // --- start: two workers, both converged, READY (status "ready": true)
    let t0 = Instant::now();
    let mut d = Daemon::start(s.dir.path(), &s.path("cinder.conf"), &[]);
    let st = d.wait_for("both converged", 120, |st| st["ready"] == true);
    eprintln!(
        "daemon ready with 2 backends after {} ms",
        t0.elapsed().as_millis()
    );
    for b in ["a", "b"] {
        assert_eq!(backend(&st, b)["state"], "converged", "{st:#}");
        let pool = lv(&format!("vg-{b}"), &format!("vg-{b}-pool")).expect("pool");
        assert!(pool.attr.starts_with('t'));
        let v = lv(&format!("vg-{b}"), &format!("{b}1")).expect("volume");
        assert_eq!(
            (v.size, v.tags.as_str()),
            (64 * M, format!("ember-backend={b},ember-managed").as_str())
        );
    }
    let pids = worker_pids(&st);
    assert_eq!(pids.len(), 2);

    // --- edits without a signal: symlink swap (as a ConfigMap), in place, rename-over
    let t1 = Instant::now();
    configmap_update(&s, 2, &format!("{two}      b2: {{ size: 64M }}\n"));
    wait_lv("vg-b", "b2", &d, 60);
    eprintln!(
        "edit (symlink swap) -> volume created in {} ms",
        t1.elapsed().as_millis()
    );
    let real = s.path("cm/..v2/desired-state.yaml");
    std::fs::write(
        &real,
        format!("{two}      b2: {{ size: 64M }}\n      b3: {{ size: 64M }}\n"),
    )
    .unwrap();
    wait_lv("vg-b", "b3", &d, 60);
    let tmp = s.path("cm/..v2/.desired-state.yaml.swp");
    std::fs::write(
        &tmp,
        format!(
            "{two}      b2: {{ size: 64M }}\n      b3: {{ size: 64M }}\n      b4: {{ size: 64M }}\n"
        ),
    )
    .unwrap();
    std::fs::rename(&tmp, &real).unwrap();
    wait_lv("vg-b", "b4", &d, 60);

    // --- a broken edit changes nothing and shows the error
    let before = (lvs("vg-a"), lvs("vg-b"));
    std::fs::write(
        &real,
        "backends:\n  a:\n    prune: true\n    volumes: {}\n  b:\n    volumes:\n      b1: { size: ",
    )
    .unwrap();
    let st = d.wait_for("the error", 30, |st| {
        backend(st, "b")["desired_state_problems"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
    });
    assert!(
        backend(&st, "b")["desired_state_problems"][0]["line"]
            .as_u64()
            .is_some()
    );
    assert_eq!(d.ember(&["reconcile"]).code, 0);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        (lvs("vg-a"), lvs("vg-b")),
        before,
        "a broken desired state must change nothing"
    );
    let good = format!(
        "{two}      b2: {{ size: 64M }}\n      b3: {{ size: 64M }}\n      b4: {{ size: 64M }}\n"
    );
    std::fs::write(&real, &good).unwrap();
    d.wait_for("error cleared", 30, |st| {
        backend(st, "b")["desired_state_problems"]
            .as_array()
            .is_some_and(|p| p.is_empty())
    });

    // --- SIGHUP with a third backend: it converges, the others keep their workers
    conf(&s, &["a", "b", "c"]);
    configmap_update(
        &s,
        3,
        &format!("{good}  c:\n    volumes:\n      c1: {{ size: 64M }}\n"),
    );
    let t2 = Instant::now();
    d.signal("HUP");
    let st = d.wait_for("c converged", 120, |st| {
        st["ready"] == true && backend(st, "c")["state"] == "converged"
    });
    eprintln!(
        "SIGHUP with a new backend -> ready in {} ms",
        t2.elapsed().as_millis()
    );
    assert!(lv("vg-c", "c1").is_some());
    let now = worker_pids(&st);
    for p in &pids {
        assert!(now.contains(p), "{p:?} kept: {now:?}");
    }
    // ... and removed again: its worker stops, its volumes stay
    let c_pid = backend(&st, "c")["pid"].as_u64().unwrap();
    conf(&s, &["a", "b"]);
    d.signal("HUP");
    d.wait_for("c removed", 60, |st| worker_pids(st).len() == 2);
    assert!(!alive(c_pid));
    assert!(
        lv("vg-c", "c1").is_some(),
        "the removed backend's volumes stay"
    );

    // --- kill -9 a worker: restarted, and its next pass plans nothing
    let a_pid = backend(&d.status().unwrap(), "a")["pid"].as_u64().unwrap();
    std::process::Command::new("kill")
        .args(["-9", &a_pid.to_string()])
        .status()
        .unwrap();
    let st = d.wait_for("a restarted and passed", 60, |st| {
        let a = backend(st, "a");
        a["restarts"] == 1
            && a["pid"].as_u64().is_some_and(|p| p != a_pid)
            && a["last_pass"]["trigger"] == "start"
    });
    let a = backend(&st, "a");
    assert_eq!(a["last_pass"]["done"], serde_json::json!([]), "{a:#}");
    // one lvm read at most: none when the read its predecessor kept in run_dir/memory still
    // holds (the VG's stamp is the same)
    assert!(
        a["last_pass"]["lvm_calls"].as_u64().is_some_and(|n| n <= 1),
        "a converged pass is one lvm read at most: {a:#}"
    );

    // --- stop: everything exits, nothing is left running
    let workers: Vec<u64> = worker_pids(&d.status().unwrap())
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    assert_eq!(d.stop(60), 0);
    for p in workers {
        assert!(!alive(p), "worker {p} left running");
    }
    assert!(workers_mentioning(&s.path("cinder.conf").display().to_string()).is_empty());
    assert!(!s.path("run/control.sock").exists());
}

/// A small deterministic pseudo-random sequence (no dependency needed for jitter).
struct Lcg(u64);
impl Lcg {
    fn next_ms(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        lo + (self.0 >> 33) % (hi - lo)
    }
}

#[test]
#[ignore = "VM test: tests/vm/run-tests daemon"]
fn vm_kill_9_at_random_moments_loses_nothing_and_leaves_nothing_half_done() {
    require_vm("chroot");
    create_vg("vg-crash");
    let rounds: u64 = std::env::var("EMBER_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let per_round = 5;
    let s = Scratch::new();
    s.write("cinder.conf", &format!("[DEFAULT]\nenabled_backends = x\n[x]\nvolume_group = vg-crash\nlvm_conf_file = None\n[ember]\nrun_dir = {}\nresync_interval = 5\n", s.path("run").display()));
    // a volume ember must never touch
    run(
        "lvcreate",
        &["-q", "--yes", "-L", "8M", "-n", "foreign", "vg-crash"],
    );
    let desired = |n: u64| {
        let mut t = String::from("backends:\n  x:\n    thin_pool: { size: 50% }\n    volumes:\n");
        for i in 0..n {
            t.push_str(&format!("      v{i}: {{ size: 64M }}\n"));
        }
        t
    };
    s.write("desired-state.yaml", &desired(per_round));
    let mut d = Daemon::start(s.dir.path(), &s.path("cinder.conf"), &[]);
    let mut rng = Lcg(42);
    let mut supervisor_kills = 0;
    for round in 1..=rounds {
        s.write("desired-state.yaml", &desired(per_round * (round + 1)));
        std::thread::sleep(Duration::from_millis(rng.next_ms(1000, 5000)));
        if round % 3 == 0 {
            // the supervisor dies: its workers finish their lvm command and exit; a new daemon starts
            d.signal("KILL");
            let _ = d.child.wait();
            supervisor_kills += 1;
            let t = Instant::now();
            while !workers_mentioning(&s.path("cinder.conf").display().to_string()).is_empty() {
                assert!(
                    t.elapsed() < Duration::from_secs(60),
                    "orphaned workers did not exit"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
            d = Daemon::start(s.dir.path(), &s.path("cinder.conf"), &[]);
        } else if let Some(pid) = d.status().and_then(|st| backend(&st, "x")["pid"].as_u64()) {
            std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status()
                .unwrap();
        }
        eprintln!(
            "round {round}: killed; {} LVs so far",
            lvs("vg-crash").len()
        );
    }
    let want = per_round * (rounds + 1);
    let t = Instant::now();
    d.wait_for("converged after the crashes", 300, |st| {
        backend(st, "x")["state"] == "converged"
            && backend(st, "x")["capacity"]["owned_volumes"] == want
    });
    eprintln!(
        "{rounds} rounds ({supervisor_kills} supervisor kills): converged {} ms after the last kill",
        t.elapsed().as_millis()
    );
    let all = lvs("vg-crash");
    let mut names: Vec<String> = all.iter().map(|l| l.name.clone()).collect();
    names.sort();
    let mut expected: Vec<String> = (0..want)
        .map(|i| format!("v{i}"))
        .chain(["foreign".to_string(), "vg-crash-pool".to_string()])
        .collect();
    expected.sort();
    assert_eq!(
        names, expected,
        "exactly the desired volumes: no duplicate, no half-created, no leftover LV"
    );
    for l in &all {
        match l.name.as_str() {
            "foreign" => assert_eq!(
                (l.size, l.tags.as_str()),
                (8 * M, ""),
                "the foreign LV is untouched"
            ),
            "vg-crash-pool" => assert!(l.attr.starts_with('t')),
            _ => {
                assert_eq!(
                    (l.size, l.tags.as_str(), l.pool.as_str()),
                    (64 * M, "ember-backend=x,ember-managed", "vg-crash-pool"),
                    "{l:?}"
                );
                assert!(l.attr.starts_with("Vwi-a"), "thin and active: {l:?}");
            }
        }
    }
    assert_eq!(d.stop(60), 0);
    let stray = std::process::Command::new("pgrep")
        .args(["-x", "lvm"])
        .output()
        .unwrap();
    assert!(stray.stdout.is_empty(), "no lvm process left running");
}
