//! Exports through the daemon on the simulator (whose target configuration is a configfs model
//! beside its state, `lvm.json.configfs`): the workers run the same pass as `ember apply`, so a
//! declared export is made at start, and a target configuration cleared behind the daemon's
//! back (as rtslib-fb-targetctl's stop clears it) is put back by the next pass, on a
//! `reconcile` and after a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

mod common;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use common::daemon::*;
use common::*;

const HOST: &str = "iqn.1993-08.org.debian:01:compute1";
const VOL: &str = "volume-5e1c7a3b-2d4f-4b8a-9c6e-0f1a2b3c4d5e";

fn acl(s: &Scratch) -> PathBuf {
    s.path("lvm.json.configfs/target/iscsi")
        .join(format!("iqn.2010-10.org.openstack:{VOL}"))
        .join("tpgt_1/acls")
        .join(HOST)
}

fn wait_until(d: &Daemon, what: &str, f: impl Fn() -> bool) {
    let t = std::time::Instant::now();
    while !f() {
        assert!(
            t.elapsed().as_secs() < 15,
            "{what} not reached; log:\n{}",
            d.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn the_daemon_exports_and_puts_a_cleared_target_configuration_back() {
    let s = Scratch::new();
    s.write("lvm.json", "{\"vgs\": {\"vg-a\": {\"size\": 10737418240}}}");
    let state = s.path("state");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).unwrap();
    let c = s.write(
        "cinder.conf",
        &format!(
            "[DEFAULT]\nenabled_backends = a\n[a]\nvolume_group = vg-a\nlvm_type = default\ntarget_helper = lioadm\ntarget_ip_address = 127.0.0.1\n[ember]\nrun_dir = {}\nstate_dir = {}\nresync_interval = 3600\n",
            s.path("run").display(),
            state.display()
        ),
    );
    s.write(
        "desired-state.yaml",
        &format!("backends:\n  a:\n    volumes:\n      {VOL}: {{ size: 8M, export: {{ hosts: [{HOST}] }} }}\n"),
    );
    let sim = format!("sim:{}", s.path("lvm.json").display());
    let mut d = Daemon::start(s.dir.path(), &c, &["--lvm", &sim]);
    let st = d.wait_ready(10);
    assert_eq!(backend(&st, "a")["state"], "converged", "{st:#}");
    assert!(acl(&s).is_dir(), "not exported at start; log:\n{}", d.log());
    let done = backend(&st, "a")["last_pass"]["done"].to_string();
    assert!(done.contains("+ attach host"), "{done}");

    // status shows the export, its host, and the host's session once LIO shows one (the
    // model's ACL gets the `info` text the kernel writes for a logged-in initiator)
    let ex = &backend(&st, "a")["exports"];
    assert_eq!(ex["transport"], "iscsi", "{st:#}");
    assert_eq!(ex["volumes"][0]["volume"], VOL, "{st:#}");
    assert_eq!(ex["volumes"][0]["hosts"][0], HOST, "{st:#}");
    assert_eq!(
        ex["volumes"][0]["sessions"],
        serde_json::json!([]),
        "{st:#}"
    );
    std::fs::write(
        acl(&s).join("info"),
        format!("InitiatorName: {HOST}\nInitiatorAlias: compute1\nLIO Session ID: 1   ISID: 0x00 02 3d 00 00 00  TSIH: 1  SessionType: Normal\nSession State: TARG_SESS_STATE_LOGGED_IN\n----------------------[iSCSI Connections]-------------------------\nCID: 0  Connection State: TARG_CONN_STATE_LOGGED_IN\n   Address 10.0.0.7 TCP  StatSN: 0x00000012\n"),
    )
    .unwrap();
    assert_eq!(d.ember(&["reconcile", "--wait"]).code, 0);
    let st = d.status().unwrap();
    let session = &backend(&st, "a")["exports"]["volumes"][0]["sessions"][0];
    assert_eq!(session["host"], HOST, "{st:#}");
    assert_eq!(session["addresses"][0], "10.0.0.7", "{st:#}");
    let text = d.ember(&["status"]);
    assert!(
        text.stdout
            .contains("exports: 1 volume(s) over iSCSI, 1 host(s), 1 live session(s)")
            && text
                .stdout
                .contains(&format!("{VOL}: {HOST}; sessions: {HOST} from 10.0.0.7")),
        "{text:?}"
    );
    let password = std::fs::read_to_string(acl(&s).join("auth/password")).unwrap();
    assert!(password.trim().len() >= 12, "a CHAP password: {password:?}");
    assert!(
        !text.stdout.contains(password.trim()) && !st.to_string().contains(password.trim()),
        "the CHAP password in status"
    );

    // cleared behind its back: the next pass puts it back
    std::fs::remove_dir_all(s.path("lvm.json.configfs/target")).unwrap();
    assert_eq!(d.ember(&["reconcile"]).code, 0);
    wait_until(&d, "the export put back", || acl(&s).is_dir());

    // cleared while the daemon is down: its first pass puts it back
    assert_eq!(d.stop(10), 0);
    std::fs::remove_dir_all(s.path("lvm.json.configfs/target")).unwrap();
    let mut d = Daemon::start(s.dir.path(), &c, &["--lvm", &sim]);
    d.wait_ready(10);
    wait_until(&d, "the export made again after a restart", || {
        acl(&s).is_dir()
    });
    assert_eq!(d.stop(10), 0);
}

/// A simulated host with one thick backend `a` exporting through LIO on 127.0.0.1, its CHAP
/// store in a root-only state directory (returned).
fn one_exporting_backend() -> (Scratch, std::path::PathBuf) {
    let s = Scratch::new();
    s.write("lvm.json", "{\"vgs\": {\"vg-a\": {\"size\": 10737418240}}}");
    let state = s.path("state");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).unwrap();
    s.write(
        "cinder.conf",
        &format!(
            "[DEFAULT]\nenabled_backends = a\n[a]\nvolume_group = vg-a\nlvm_type = default\ntarget_helper = lioadm\ntarget_ip_address = 127.0.0.1\n[ember]\nrun_dir = {}\nstate_dir = {}\n",
            s.path("run").display(),
            state.display()
        ),
    );
    (s, state)
}

/// Declares volume `VOL` of backend `a` as `v`.
fn declare_vol(s: &Scratch, v: &str) {
    s.write(
        "desired-state.yaml",
        &format!("backends:\n  a:\n    volumes:\n      {VOL}: {v}\n"),
    );
}

/// An unexport that fails part-way (here: a link the model's rmdir refuses to remove, as
/// configfs refuses ENOTEMPTY, stands for any failing write) holds back its
/// volume's deletion, and `ember apply` says it failed: never "Converged." over a failure.
#[test]
fn a_failed_unexport_keeps_the_volume_and_apply_says_it_failed() {
    let (s, state) = one_exporting_backend();
    let declare = |v: &str| declare_vol(&s, v);
    let sim = format!("sim:{}", s.path("lvm.json").display());
    declare("{ size: 8M, export: { hosts: [] } }");
    let r = s.ember(&["--lvm", &sim, "apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    let tpg = s
        .path("lvm.json.configfs/target/iscsi")
        .join(format!("iqn.2010-10.org.openstack:{VOL}"))
        .join("tpgt_1");
    assert!(tpg.is_dir(), "exported: {r:?}");
    std::os::unix::fs::symlink(&state, tpg.join("stray")).unwrap();

    declare("{ state: absent }");
    let r = s.ember(&["--lvm", &sim, "apply"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("FAILED"), "{r:?}");
    assert!(
        r.stdout
            .contains("Failed: 1 action(s) failed; the desired state is not reached.")
            && !r.stdout.contains("Converged."),
        "{r:?}"
    );
    assert!(
        std::fs::read_to_string(s.path("lvm.json"))
            .unwrap()
            .contains(VOL),
        "the volume was deleted under a failed unexport"
    );
}

/// `ember apply` prints the actions in the order it did them: the unexport before the deletion
/// it allows, the export after the creation of the volume it exports.
#[test]
fn apply_prints_exports_in_the_order_they_were_done() {
    let (s, _state) = one_exporting_backend();
    let declare = |v: &str| declare_vol(&s, v);
    let sim = format!("sim:{}", s.path("lvm.json").display());
    let at = |out: &str, what: &str| {
        out.find(what)
            .unwrap_or_else(|| panic!("no {what:?} in {out}"))
    };
    {
        declare("{ size: 8M, export: { hosts: [] } }");
        let r = s.ember(&["--lvm", &sim, "apply"]);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(
            at(&r.stdout, "+ create volume") < at(&r.stdout, "+ export volume"),
            "{r:?}"
        );
        declare("{ state: absent }");
        let r = s.ember(&["--lvm", &sim, "apply"]);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(
            at(&r.stdout, "- unexport volume") < at(&r.stdout, "- delete volume"),
            "{r:?}"
        );
    }
}
