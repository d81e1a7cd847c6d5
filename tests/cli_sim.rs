//! The one-shot commands end to end, through the real binary, against the simulated LVM.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

mod common;
use common::*;

const CONF: &str = "[DEFAULT]\nenabled_backends = lvm-1,nfs\nhost = node01\n\
[lvm-1]\nvolume_group = vg1\nmax_over_subscription_ratio = 2.0\n\
[nfs]\nvolume_driver = cinder.volume.drivers.nfs.NfsDriver\n\
[ember]\nmax_deletions_per_pass = 2\n";

/// A 10 GiB VG with one LV that ember did not create.
const SIM: &str = r#"{"vgs": {"vg1": {"size": 10737418240, "lvs": {"foreign": {"kind": "linear", "size": 1073741824}}}}}"#;

fn setup(desired: &str) -> Scratch {
    let s = Scratch::new();
    s.write("cinder.conf", CONF);
    s.write("desired-state.yaml", desired);
    s.write("lvm.json", SIM);
    s
}

fn sim_arg(s: &Scratch) -> String {
    format!("sim:{}", s.path("lvm.json").display())
}

fn lvs(s: &Scratch) -> serde_json::Value {
    serde_json::from_str::<serde_json::Value>(&s.read("lvm.json")).unwrap()["vgs"]["vg1"]["lvs"]
        .clone()
}

#[test]
fn apply_then_plan_says_no_changes() {
    let s = setup(
        "backends:\n  lvm-1:\n    thin_pool: { size: 50% }\n    volumes:\n      volume-1: { size: 1G }\n      volume-2: { size: 2G }\n",
    );
    let sim = sim_arg(&s);
    let r = s.ember(&["--lvm", &sim, "plan"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout.contains("+ create thin pool vg1-pool 5.0 GiB"),
        "{r:?}"
    );
    assert!(
        r.stdout.contains("+ create volume volume-1 1.0 GiB (thin)"),
        "{r:?}"
    );
    assert!(lvs(&s).get("vg1-pool").is_none(), "plan must not write");

    let r = s.ember(&["--lvm", &sim, "apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("Converged."), "{r:?}");
    let l = lvs(&s);
    assert_eq!(l["volume-1"]["size"], 1u64 << 30);
    assert_eq!(l["volume-2"]["tags"][0], "ember-managed");
    assert_eq!(l["foreign"]["size"], 1u64 << 30);

    let r = s.ember(&["--lvm", &sim, "plan"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("No changes."), "{r:?}");
    let r = s.ember(&["--lvm", &sim, "apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("No changes.") && r.stdout.contains("(0 lvm call(s)"),
        "idempotent, from the last apply's read (nothing changed since): {r:?}"
    );
}

#[test]
fn shrink_foreign_oversubscription_and_deletion_cap_are_refused_and_nothing_happens() {
    let s = setup(
        "backends:\n  lvm-1:\n    thin_pool: { size: 2G }\n    volumes:\n      a: { size: 1G }\n      b: { size: 1G }\n      c: { size: 100M }\n",
    );
    let sim = sim_arg(&s);
    assert_eq!(s.ember(&["--lvm", &sim, "apply"]).code, 0);
    let before = lvs(&s);
    assert!(before.get("c").is_some(), "2.1 GiB fits in 2 x 2 GiB");

    // shrink a, a foreign LV declared as a volume, a volume that overshoots ratio 2 x 1 GiB,
    // and three deletions with a cap of two
    s.write("desired-state.yaml", "backends:\n  lvm-1:\n    volumes:\n      a: { size: 512M }\n      foreign: { size: 2G }\n      huge: { size: 5G }\n      b: { state: absent }\n      c: { state: absent }\n      x: { state: absent }\n    prune: true\n");
    let r = s.ember(&["--lvm", &sim, "plan"]);
    assert_eq!(
        r.code, 3,
        "refused: the desired state cannot be reached {r:?}"
    );
    assert!(
        r.stdout
            .contains("  Plan: 2 to delete, 3 refused.\n  Blocked: 3 refused; the changes above do not reach the desired state."),
        "{r:?}"
    );
    assert!(
        r.stdout.contains(
            "! refused a: is 1.0 GiB, the desired state says 512.0 MiB: ember never shrinks"
        ),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("! refused foreign: an LV with this name exists without ember's tag"),
        "{r:?}"
    );
    assert!(
        r.stdout.contains("! refused huge: would provision"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("- delete volume b 1.0 GiB (state: absent)"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("- delete volume c 100.0 MiB (state: absent)"),
        "{r:?}"
    );
    assert!(
        !r.stdout.contains("! refused x"),
        "x does not exist: nothing to delete"
    );

    let r = s.ember(&["--lvm", &sim, "plan", "--json"]);
    let kinds: Vec<String> = r.json()["backends"][0]["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["shrink", "foreign", "over_subscription"], "{r:?}");

    let r = s.ember(&["--lvm", &sim, "apply"]);
    assert_eq!(
        r.code, 3,
        "what can be done is done, the rest refused: {r:?}"
    );
    assert!(
        r.stdout
            .contains("Blocked: 3 refused; the desired state is not reached.")
            && !r.stdout.contains("Converged."),
        "{r:?}"
    );
    let r = s.ember(&["--lvm", &sim, "plan", "--json"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert_eq!(r.json()["blocked"], true, "{r:?}");
    let after = lvs(&s);
    assert_eq!(after["a"]["size"], before["a"]["size"], "not shrunk");
    assert_eq!(after["foreign"], before["foreign"], "foreign untouched");
    assert!(after.get("huge").is_none());
    assert!(after.get("b").is_none() && after.get("c").is_none());

    // deletion cap: three owned, undeclared volumes with prune and a cap of two (deleted at
    // once: prune_grace = 0)
    s.write("cinder.conf", &format!("{CONF}prune_grace = 0\n"));
    s.write("desired-state.yaml", "backends:\n  lvm-1:\n    volumes:\n      a: { size: 512M }\n      p1: { size: 4M }\n      p2: { size: 4M }\n      p3: { size: 4M }\n");
    // (a stays larger than declared: refused)
    assert_eq!(s.ember(&["--lvm", &sim, "apply"]).code, 3);
    s.write(
        "desired-state.yaml",
        "backends:\n  lvm-1:\n    prune: true\n    volumes: {}\n",
    );
    let r = s.ember(&["--lvm", &sim, "apply"]);
    let all = ["a", "foreign", "p1", "p2", "p3", "vg1-pool"];
    let left =
        |s: &Scratch| -> Vec<String> { lvs(s).as_object().unwrap().keys().cloned().collect() };
    assert_eq!(left(&s), all, "4 deletions > cap 2: none done");
    assert!(
        r.stdout.contains(
            "! refused a, p1, p2, p3: 4 deletions planned, more than max_deletions_per_pass = 2: none done"
        ),
        "{r:?}"
    );
    let r = s.ember(&[
        "--lvm",
        &sim,
        "apply",
        "--backend",
        "lvm-1",
        "--allow-deletions",
        "4",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        left(&s),
        ["foreign", "vg1-pool"],
        "confirmed with the cap raised"
    );
}

#[test]
fn broken_desired_state_changes_nothing_and_names_file_and_line() {
    let s = setup(
        "backends:\n  lvm-1:\n    volumes:\n      ok: { size: 1G }\n      bad: { size: 12Q }\n",
    );
    let sim = sim_arg(&s);
    let before = s.read("lvm.json");
    for cmd in ["plan", "apply"] {
        let r = s.ember(&["--lvm", &sim, cmd]);
        assert_eq!(r.code, 1, "{r:?}");
        assert!(r.stderr.contains("desired-state.yaml:5:"), "{r:?}");
        assert!(r.stderr.contains("invalid size"), "{r:?}");
    }
    assert_eq!(s.read("lvm.json"), before);
    s.write("desired-state.yaml", "");
    let r = s.ember(&["--lvm", &sim, "apply"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("empty"), "{r:?}");
    assert_eq!(s.read("lvm.json"), before);
}

#[test]
fn check_json_has_the_documented_shape() {
    let s = setup("backends:\n  lvm-1:\n    volumes:\n      v: { size: 1G }\n");
    let r = s.ember(&["check", "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let j = r.json();
    assert_eq!(j["enabled_backends"], serde_json::json!(["lvm-1", "nfs"]));
    let b = &j["backends"][0];
    assert_eq!(b["name"], "lvm-1");
    assert_eq!(b["managed"], true);
    assert_eq!(b["volume_backend_name"], "LVM");
    assert_eq!(b["volume_group"], "vg1");
    assert_eq!(b["lvm_type"], "auto");
    // a number, as in `ember status --json`
    assert_eq!(b["max_over_subscription_ratio"], 2.0);
    assert_eq!(b["max_over_subscription_ratio_auto"], false);
    assert_eq!(b["reserved_percentage"], 0);
    assert_eq!(b["host"], "node01@lvm-1");
    assert_eq!(
        b["volume_driver"],
        "cinder.volume.drivers.lvm.LVMVolumeDriver"
    );
    assert_eq!(j["backends"][1]["managed"], false);
    assert!(
        j["desired_state"]["path"]
            .as_str()
            .unwrap()
            .ends_with("desired-state.yaml")
    );
    let d = &j["desired_state"]["backends"][0];
    assert_eq!(d["name"], "lvm-1");
    assert_eq!(d["rejected"], false);
    assert_eq!(d["volumes"][0]["name"], "v");
    assert_eq!(d["volumes"][0]["size"], 1u64 << 30);
    assert_eq!(j["format"], "ember-check");
    assert_eq!(j["format_version"], 1);
    assert_eq!(j["problems"], serde_json::json!([]));
    assert_eq!(j["config_files"].as_array().unwrap().len(), 1);
}

#[test]
fn check_reports_broken_config_with_file_and_line() {
    let s = Scratch::new();
    s.write("cinder.conf", "[DEFAULT]\nenabled_backends = a\n[a\n");
    let r = s.ember(&["check", "--json"]);
    assert_eq!(r.code, 1);
    let p = &r.json()["problems"][0];
    assert_eq!(p["severity"], "error");
    assert_eq!(p["line"], 3);
    assert!(p["file"].as_str().unwrap().ends_with("cinder.conf"));
    assert!(p["message"].as_str().unwrap().contains("must end with ]"));
    assert_eq!(r.json()["desired_state"], serde_json::Value::Null);
    let r = s.ember(&["check"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("cinder.conf:3: error: invalid section header (must end with ])"),
        "{r:?}"
    );
}

#[test]
fn missing_volume_group_is_an_error_for_that_backend() {
    let s = setup("backends:\n  lvm-1:\n    volumes:\n      v: { size: 1G }\n");
    s.write("lvm.json", r#"{"vgs": {}}"#);
    let r = s.ember(&["--lvm", &sim_arg(&s), "plan"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("volume group \"vg1\" not found"), "{r:?}");
}

#[test]
fn backend_selection_and_usage_errors() {
    let s = setup("backends: {}\n");
    let sim = sim_arg(&s);
    assert_eq!(
        s.ember(&["--lvm", &sim, "plan", "--backend", "lvm-1"]).code,
        0
    );
    let r = s.ember(&["--lvm", &sim, "plan", "--backend", "nope"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no backend \"nope\""), "{r:?}");
    let r = s.ember(&["--lvm", &sim, "plan", "--backend", "nfs"]);
    assert_eq!(r.code, 1);
    let r = s.ember(&["plan", "--bogus"]);
    assert_eq!(
        r.code, 64,
        "usage errors must not look like 'changes pending' (2): {r:?}"
    );
    let r = s.ember(&["--help"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("check") && r.stdout.contains("plan") && r.stdout.contains("apply"));
    assert!(!r.stdout.contains("sim:"), "--lvm is hidden");
}

#[test]
fn files_other_users_can_write_are_refused_when_running_as_root() {
    use std::os::unix::fs::PermissionsExt;
    if !is_root_or_say_so("the refusal of files other users can write (it applies to root)") {
        return;
    }
    let s = setup("backends:\n  lvm-1:\n    volumes:\n      v: { size: 1G }\n");
    let sim = sim_arg(&s);
    let before = s.read("lvm.json");
    std::fs::set_permissions(
        s.path("desired-state.yaml"),
        std::fs::Permissions::from_mode(0o666),
    )
    .unwrap();
    let r = s.ember(&["--lvm", &sim, "apply"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("the desired state refused")
            && r.stderr.contains("writable by everyone (mode 0666)"),
        "{r:?}"
    );
    assert_eq!(s.read("lvm.json"), before, "nothing done");
    let r = s.ember(&["--lvm", &sim, "--allow-insecure-files", "plan"]);
    assert_eq!(r.code, 2, "the operator may accept it explicitly: {r:?}");

    std::fs::set_permissions(
        s.path("desired-state.yaml"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    nix::unistd::chown(
        &s.path("cinder.conf"),
        Some(nix::unistd::Uid::from_raw(65534)),
        None,
    )
    .unwrap();
    let r = s.ember(&["check"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("configuration file refused")
            && r.stderr
                .contains("cinder.conf is owned by nobody (uid 65534), not root;"),
        "{r:?}"
    );
    // a world-writable directory without the sticky bit: the file could be swapped
    nix::unistd::chown(
        &s.path("cinder.conf"),
        Some(nix::unistd::Uid::from_raw(0)),
        None,
    )
    .unwrap();
    std::fs::set_permissions(s.dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let r = s.ember(&["check"]);
    assert!(r.stderr.contains("without the sticky bit"), "{r:?}");
    std::fs::set_permissions(s.dir.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    assert_eq!(
        s.ember(&["check"]).code,
        0,
        "sticky /tmp-style directories are fine"
    );
}

#[test]
fn a_thousand_declared_volumes_converge_and_stay_converged() {
    let mut d = String::from("backends:\n  lvm-1:\n    thin_pool: { size: 80% }\n    volumes:\n");
    for i in 0..1000 {
        d.push_str(&format!("      volume-{i:04}: {{ size: 8M }}\n"));
    }
    let s = setup(&d);
    let sim = sim_arg(&s);
    let r = s.ember(&["--lvm", &sim, "apply"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(lvs(&s).as_object().unwrap().len(), 1000 + 2);
    // the next apply plans from the last read, kept beside the simulator's state (the
    // simulator's stamp is its whole state: nothing changed), and runs no lvm at all
    let r = s.ember(&["--lvm", &sim, "apply"]);
    assert!(
        r.stdout.contains("No changes.") && r.stdout.contains("(0 lvm call(s)"),
        "{r:?}"
    );
    // another tool removes a volume: the next apply reads in full and makes it again
    let mut state: serde_json::Value = serde_json::from_str(&s.read("lvm.json")).unwrap();
    state["vgs"]["vg1"]["lvs"]
        .as_object_mut()
        .unwrap()
        .remove("volume-0500");
    s.write("lvm.json", &state.to_string());
    let r = s.ember(&["--lvm", &sim, "apply"]);
    assert!(
        r.stdout
            .contains("+ create volume volume-0500 8.0 MiB (thin)  [done]"),
        "{r:?}"
    );
    assert!(lvs(&s).get("volume-0500").is_some());
}

#[test]
fn import_adopts_what_cinder_made_and_plan_shows_only_adoptions() {
    // a host cinder-volume ran: its pool, two volumes and a snapshot, untagged; a foreign LV
    let s = setup("backends: {}\n");
    s.write(
        "lvm.json",
        r#"{"vgs": {"vg1": {"size": 10737418240, "lvs": {
            "foreign": {"kind": "linear", "size": 1073741824},
            "vg1-pool": {"kind": "thin-pool", "size": 5368709120},
            "volume-8d0b5c52": {"kind": "thin", "size": 1073741824, "pool": "vg1-pool"},
            "volume-2c7e0f33": {"kind": "thin", "size": 2147483648, "pool": "vg1-pool"},
            "scratch": {"kind": "thin", "size": 1073741824, "pool": "vg1-pool"},
            "_snapshot-51e6": {"kind": "thin", "size": 1073741824, "pool": "vg1-pool", "origin": "volume-8d0b5c52"}}}}}"#,
    );
    let sim = sim_arg(&s);
    let before = s.read("lvm.json");
    let r = s.ember(&["--lvm", &sim, "import"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(s.read("lvm.json"), before, "import changes nothing");
    for line in [
        "    adopt: true\n",
        "      \"volume-2c7e0f33\": { size: 2G }\n",
        "      \"volume-8d0b5c52\": { size: 1G }\n",
        "    snapshots:\n      \"_snapshot-51e6\": { volume: \"volume-8d0b5c52\" }\n",
        "      # foreign: a linear LV (this backend is thin)\n",
    ] {
        assert!(r.stdout.contains(line), "{line:?} in {}", r.stdout);
    }
    s.write("desired-state.yaml", &r.stdout);
    let c = s.ember(&["--lvm", &sim, "check"]);
    assert_eq!(c.code, 0, "its output passes check as it is: {c:?}");
    let p = s.ember(&["--lvm", &sim, "plan"]);
    assert_eq!(p.code, 2, "{p:?}");
    let actions: Vec<&str> = p
        .stdout
        .lines()
        .filter(|l| {
            l.starts_with("  ")
                && !l.starts_with("  warning")
                && !l.starts_with("  !")
                && !l.starts_with("  Plan:")
        })
        .collect();
    assert_eq!(
        actions,
        [
            "  ~ mark volume group vg1 as backend lvm-1's (VG tag ember-backend=lvm-1)",
            "  + adopt volume volume-2c7e0f33 2.0 GiB (thin)",
            "  + adopt volume volume-8d0b5c52 1.0 GiB (thin)",
            "  + adopt snapshot _snapshot-51e6 1.0 GiB (thin)"
        ],
        "adoptions only: {p:?}"
    );
    let a = s.ember(&["--lvm", &sim, "apply"]);
    assert_eq!(a.code, 0, "{a:?}");
    let l = lvs(&s);
    for v in ["volume-2c7e0f33", "volume-8d0b5c52", "_snapshot-51e6"] {
        assert_eq!(
            l[v]["tags"],
            serde_json::json!(["ember-adopted", "ember-backend=lvm-1", "ember-managed"]),
            "{v}"
        );
        assert!(l[v]["size"].as_u64().unwrap() > 0);
    }
    assert_eq!(l["foreign"]["tags"], serde_json::json!([]));
    assert_eq!(
        s.ember(&["--lvm", &sim, "plan"]).code,
        0,
        "a second plan has no changes"
    );
    // a larger declared size is then an extension; adopt: false refuses as before
    s.write(
        "desired-state.yaml",
        "backends:\n  lvm-1:\n    volumes:\n      volume-8d0b5c52: { size: 3G }\n      scratch: { size: 1G }\n",
    );
    let p = s.ember(&["--lvm", &sim, "plan"]);
    assert!(
        p.stdout
            .contains("~ extend volume volume-8d0b5c52 1.0 GiB -> 3.0 GiB"),
        "{p:?}"
    );
    assert!(
        p.stdout
            .contains("! refused scratch: an LV with this name exists without ember's tag"),
        "{p:?}"
    );
    s.write(
        "desired-state.yaml",
        "backends:\n  lvm-1:\n    adopt: true\n    prune: true\n    volumes:\n      foreign: { size: 1G }\n      volume-8d0b5c52: { size: 1G }\n      volume-2c7e0f33: { size: 2G }\n    snapshots:\n      _snapshot-51e6: { volume: volume-8d0b5c52 }\n",
    );
    let p = s.ember(&["--lvm", &sim, "plan"]);
    assert!(
        p.stdout.contains("! refused foreign: adopt: true adopts only what cinder could have made for this backend (a thin volume in vg1-pool); this LV is a linear LV"),
        "{p:?}"
    );
    assert!(
        p.stdout
            .contains("warning: backend lvm-1 has adopt: true and prune: true"),
        "{p:?}"
    );
}

#[test]
fn snapshots_and_copies_are_planned_applied_and_checked() {
    let s = setup(
        "backends:\n  lvm-1:\n    thin_pool: { size: 50% }\n    volumes:\n      volume-a: { size: 1G }\n      volume-b: { size: 2G, source: { snapshot: _snapshot-s1 } }\n      volume-c: { size: 1G, source: { volume: volume-a } }\n    snapshots:\n      _snapshot-s1: { volume: volume-a }\n",
    );
    let sim = sim_arg(&s);
    let c = s.ember(&["--lvm", &sim, "check"]);
    assert_eq!(c.code, 0, "{c:?}");
    assert!(
        c.stdout
            .contains("1 backend(s), 3 volume(s), 1 snapshot(s)"),
        "{c:?}"
    );
    let r = s.ember(&["--lvm", &sim, "apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    let lines: Vec<&str> = r.stdout.lines().map(str::trim).collect();
    let at = |l: &str| {
        lines
            .iter()
            .position(|x| x.strip_suffix("  [done]") == Some(l))
            .unwrap_or_else(|| panic!("{l} in {r:?}"))
    };
    // everything in one pass, each after what it is made from
    let a = at("+ create volume volume-a 1.0 GiB (thin)");
    let s1 = at("+ create snapshot _snapshot-s1 of volume-a");
    let b = at("+ create volume volume-b 2.0 GiB from snapshot _snapshot-s1");
    let cl = at("+ clone volume volume-c from volume-a");
    assert!(a < s1 && s1 < b && a < cl, "{r:?}");
    assert!(r.stdout.contains("Converged."), "{r:?}");
    let l = lvs(&s);
    assert_eq!(l["_snapshot-s1"]["skip_activation"], true);
    assert_eq!(l["_snapshot-s1"]["active"], false);
    assert_eq!(l["_snapshot-s1"]["origin"], "volume-a");
    assert_eq!(l["volume-b"]["size"], 2u64 << 30);
    assert_eq!(l["volume-b"]["origin"], "_snapshot-s1");
    assert_eq!(s.ember(&["--lvm", &sim, "plan"]).code, 0);
    // a source that is not there: the file itself says so to check
    s.write(
        "desired-state.yaml",
        "backends:\n  lvm-1:\n    volumes:\n      volume-d: { size: 1G, source: { volume: volume-x } }\n",
    );
    let c = s.ember(&["--lvm", &sim, "check"]);
    assert!(
        c.stderr
            .contains("volume volume-d: its source, volume volume-x, is not declared"),
        "{c:?}"
    );
    let p = s.ember(&["--lvm", &sim, "plan"]);
    assert!(
        p.stdout
            .contains("! refused volume-d: its source, volume volume-x, does not exist"),
        "{p:?}"
    );
}
