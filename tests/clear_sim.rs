//! cinder's `volume_clear` through the real binary, against the simulated LVM: a deleted thick
//! volume's data (markers written into the simulated LV) is cleared before `lvremove`, and a
//! clear cut short by a crash is finished by the next `ember apply`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

mod common;
use common::*;

const M: u64 = 1 << 20;

fn conf(extra: &str) -> String {
    format!(
        "[DEFAULT]\nenabled_backends = lvm-1\nhost = node01\n[lvm-1]\nvolume_group = vg1\nlvm_type = default\n{extra}\n"
    )
}

/// A 10 GiB VG with two thick volumes of lvm-1's, each holding tenant data at its start and
/// 600 MiB in.
const SIM: &str = r#"{"vgs": {"vg1": {"size": 10737418240, "lvs": {
  "keep": {"kind": "linear", "size": 1073741824, "tags": ["ember-backend=lvm-1", "ember-managed"],
           "data": [{"at": 0, "text": "keep-head"}]},
  "gone": {"kind": "linear", "size": 1073741824, "tags": ["ember-backend=lvm-1", "ember-managed"],
           "data": [{"at": 0, "text": "secret-head"}, {"at": 629145600, "text": "secret-tail"}]}}}}}"#;

const GONE: &str =
    "backends:\n  lvm-1:\n    volumes:\n      keep: { size: 1G }\n      gone: { state: absent }\n";

fn setup(extra: &str, desired: &str) -> (Scratch, String) {
    let s = Scratch::new();
    s.write("cinder.conf", &conf(extra));
    s.write("desired-state.yaml", desired);
    s.write("lvm.json", SIM);
    let sim = format!("sim:{}", s.path("lvm.json").display());
    (s, sim)
}

fn vg(s: &Scratch) -> serde_json::Value {
    serde_json::from_str::<serde_json::Value>(&s.read("lvm.json")).unwrap()["vgs"]["vg1"].clone()
}

fn edit(s: &Scratch, f: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value = serde_json::from_str(&s.read("lvm.json")).unwrap();
    f(&mut v);
    s.write("lvm.json", &v.to_string());
}

#[test]
fn check_and_plan_say_what_is_cleared_and_apply_leaves_nothing_on_the_freed_extents() {
    let (s, sim) = setup("", GONE);
    let r = s.ember(&["--lvm", &sim, "check"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains(", volume_clear zero\n"), "{r:?}");
    let r = s.ember(&["--lvm", &sim, "plan"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout
            .contains("- delete volume gone 1.0 GiB (state: absent; cleared first: zero, 1.0 GiB)"),
        "{r:?}"
    );
    let r = s.ember(&["--lvm", &sim, "apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    // standard output is not a terminal: the clear's progress by tenths, then the deletion
    for line in [
        "~ clearing gone 0 B of 1.0 GiB (0%)",
        "~ clearing gone 512.0 MiB of 1.0 GiB (50%)",
        "~ clearing gone 1.0 GiB of 1.0 GiB (100%)",
        "- delete volume gone 1.0 GiB (state: absent; cleared first: zero, 1.0 GiB)  [done]",
    ] {
        assert!(r.stdout.contains(line), "{line} in {r:?}");
    }
    let v = vg(&s);
    assert!(v["lvs"].get("gone").is_none());
    assert!(v.get("freed").is_none(), "left on freed extents: {v}");
    assert_eq!(v["clears"][0]["bytes"], 1u64 << 30);
    assert_eq!(v["lvs"]["keep"]["data"][0]["text"], "keep-head");
}

#[test]
fn with_volume_clear_none_the_data_stays_and_with_a_size_the_rest_does() {
    let (s, sim) = setup("volume_clear = none", GONE);
    let r = s.ember(&["--lvm", &sim, "apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stdout.contains("clear"), "{r:?}");
    assert_eq!(
        vg(&s)["freed"],
        serde_json::json!(["gone: secret-head", "gone: secret-tail"])
    );
    let (s, sim) = setup("volume_clear_size = 1\nvolume_clear_ionice = -c3", GONE);
    let r = s.ember(&["--lvm", &sim, "plan"]);
    assert!(
        r.stdout.contains("cleared first: zero, the first 1.0 MiB)"),
        "{r:?}"
    );
    assert_eq!(s.ember(&["--lvm", &sim, "apply"]).code, 0);
    let v = vg(&s);
    assert_eq!(v["freed"], serde_json::json!(["gone: secret-tail"]));
    assert_eq!(v["clears"][0]["bytes"], M);
    assert_eq!(v["clears"][0]["ioprio"], (3 << 13) | 7, "ionice -c3: idle");
}

#[test]
fn a_crash_mid_clear_is_finished_by_the_next_apply_even_if_the_volume_is_declared_again() {
    let (s, sim) = setup("", GONE);
    // the process dies (abort: as kill -9) once 300 MiB are zeroed
    edit(&s, |v| v["clear_abort_at"] = (300 * M).into());
    let r = s.ember(&["--lvm", &sim, "apply"]);
    assert_ne!(r.code, 0, "{r:?}");
    edit(&s, |v| {
        v.as_object_mut().unwrap().remove("clear_abort_at");
    });
    let v = vg(&s);
    let gone = &v["lvs"]["gone"];
    assert_eq!(
        gone["data"],
        serde_json::json!([{"at": 629145600, "text": "secret-tail"}]),
        "half cleared: {v}"
    );
    assert!(
        gone["tags"]
            .as_array()
            .unwrap()
            .contains(&format!("ember-clearing={}", ember::lvm::sim::uuid_of("gone")).into()),
        "{v}"
    );
    // the operator declares it again: its data is partly gone; the deletion is finished, the
    // volume made again, empty, and the plan says so
    s.write(
        "desired-state.yaml",
        "backends:\n  lvm-1:\n    volumes:\n      keep: { size: 1G }\n      gone: { size: 1G }\n",
    );
    let r = s.ember(&["--lvm", &sim, "plan"]);
    assert!(
        r.stdout.contains("- delete volume gone 1.0 GiB (its clear was cut short (tag ember-clearing): cleared again and removed; cleared first: zero, 1.0 GiB)")
            && r.stdout.contains("+ create volume gone 1.0 GiB (thick)")
            && r.stdout.contains("its data is partly gone, so its deletion is finished"),
        "{r:?}"
    );
    let r = s.ember(&["--lvm", &sim, "apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = vg(&s);
    assert!(v.get("freed").is_none(), "left on freed extents: {v}");
    let gone = &v["lvs"]["gone"];
    assert!(gone.get("data").is_none(), "made again, empty: {v}");
    assert!(!gone["tags"].to_string().contains("ember-clearing"), "{v}");
    let r = s.ember(&["--lvm", &sim, "plan"]);
    assert!(r.stdout.contains("No changes."), "{r:?}");
}

#[test]
fn the_daemon_shows_a_clear_under_way_and_a_stop_mid_clear_is_finished_after_a_restart() {
    let (s, sim) = setup("", GONE);
    s.write(
        "cinder.conf",
        &format!(
            "{}[ember]\nrun_dir = {}\nresync_interval = 3600\n",
            conf(""),
            s.path("run").display()
        ),
    );
    // every simulated write takes 2 s; the clear writes in four steps of 0.5 s
    edit(&s, |v| v["write_delay_ms"] = 2000.into());
    let mut d =
        common::daemon::Daemon::start(s.dir.path(), &s.path("cinder.conf"), &["--lvm", &sim]);
    let st = d.wait_for("a clear under way", 30, |st| {
        st["backends"][0]["progress"]["clearing"]["done"]
            .as_u64()
            .is_some_and(|n| n > 0)
    });
    let p = &st["backends"][0]["progress"];
    assert_eq!(p["clearing"]["volume"], "gone", "{st:#}");
    assert_eq!(p["clearing"]["total"], 1u64 << 30, "{st:#}");
    let r = d.ember(&["status"]);
    assert!(
        r.stdout
            .contains("applying 0/1 (clearing gone before its deletion: "),
        "{r:?}"
    );
    // stopped mid-clear: the clear ends between two writes, the volume stays, tagged
    assert_eq!(d.stop(30), 0, "{}", d.log());
    let log = d.log();
    assert!(
        log.contains("clearing gone before its deletion: zeroes over all 1.0 GiB"),
        "{log}"
    );
    let v = vg(&s);
    assert!(
        v["lvs"]["gone"]["tags"]
            .to_string()
            .contains("ember-clearing="),
        "{v}\n{log}"
    );
    assert!(log.contains("interrupted"), "{log}");
    // the next daemon finishes it
    edit(&s, |v| v["write_delay_ms"] = 0.into());
    let mut d =
        common::daemon::Daemon::start(s.dir.path(), &s.path("cinder.conf"), &["--lvm", &sim]);
    d.wait_ready(30);
    let v = vg(&s);
    assert!(v["lvs"].get("gone").is_none(), "{v}\n{}", d.log());
    assert!(v.get("freed").is_none(), "{v}");
    assert!(
        d.log()
            .contains("its clear was cut short (tag ember-clearing)"),
        "{}",
        d.log()
    );
    assert_eq!(d.stop(30), 0);
}
