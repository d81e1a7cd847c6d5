//! Migration: a host where cinder-volume exported a volume with `lioadm` (the export made by
//! the same rtslib-fb calls as cinder's `cinder-rtstool`, tests/vm_exports/cinder-rtstool.py),
//! a compute host (this guest's open-iscsi) logged in with cinder's CHAP pair and writing; then
//! `ember import` and one `ember apply` with its document. The session stays up through the
//! takeover; nothing of the target changes but its ACLs' `auth/` modes; ember's connection
//! info gives cinder's pair.

use std::path::{Path, PathBuf};

use ember::export::lio;

use super::common::vm::*;
use super::common::*;
use super::support::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const VOLUME: &str = "volume-7a4e2c1b-9d3f-4e5a-8b6c-1d2e3f4a5b6c";
/// A pair as cinder makes one (volume_utils: 20 and 16 characters of its alphabet).
const USER: &str = "Hq7Zt3kMw9RbX2nPa4Ce";
const PASS: &str = "Vd8sK2mTq5WzJ3hN";
const LEN: usize = 1 << 20;

fn rtstool(args: &[&str]) {
    let script = format!("{ROOT}/tests/vm_exports/cinder-rtstool.py");
    let o = try_run(
        120,
        "/usr/bin/python3",
        &[&[script.as_str()], args].concat(),
    );
    assert!(o.status.success(), "cinder-rtstool {args:?}: {}", shown(&o));
}

/// The initiator's session of `iqn` (`iscsiadm -m session`: `tcp: [SID] PORTAL,TPGT IQN ...`).
fn session_id(iqn: &str) -> Option<String> {
    let o = try_run(30, "iscsiadm", &["-m", "session"]);
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .find(|l| l.split_whitespace().any(|w| w == iqn))
        .and_then(|l| {
            l.split_once('[')?
                .1
                .split_once(']')
                .map(|(s, _)| s.to_string())
        })
}

/// The target's side: the LIO session of the ACL (`info`: `LIO Session ID: N ...`), which a new
/// login (after a target made again) would number anew.
fn lio_session(iqn: &str, host: &str) -> String {
    let info = format!("{CONFIGFS}/target/iscsi/{iqn}/tpgt_1/acls/{host}/info");
    let text = std::fs::read_to_string(&info).unwrap_or_else(|e| panic!("{info}: {e}"));
    text.lines()
        .find(|l| l.contains("Session ID"))
        .unwrap_or_else(|| panic!("no session in {info}:\n{text}"))
        .to_string()
}

/// Whether the non-root user `nobody` may read `path` (its mode bits and its directories').
fn readable_by_nobody(path: &str) -> bool {
    std::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "test",
            "-r",
            path,
        ])
        .status()
        .unwrap()
        .success()
}

fn serial_of(iqn: &str) -> Option<String> {
    let state = lio::read(Path::new(CONFIGFS)).unwrap();
    let t = state.target(iqn)?;
    let bs = state.backstore_at(t.tpgs[0].luns[0].backstore.as_deref()?)?;
    bs.serial.clone()
}

#[test]
#[ignore = "VM test: tests/vm/run-tests exports"]
fn vm_a_cinder_made_export_is_adopted_with_its_session_kept() {
    prepare_guest();
    let vg = "vg-adopt";
    create_vg(vg);
    let state = state_dir(vg);
    let s = Scratch::new();
    s.write(
        "cinder.conf",
        &format!(
            "[DEFAULT]\nenabled_backends = lvm-1\nhost = vmhost\n[ember]\nstate_dir = {}\n[lvm-1]\nvolume_group = {vg}\nlvm_type = default\nlvm_conf_file = None\ntarget_helper = lioadm\ntarget_ip_address = 127.0.0.1\n",
            state.display()
        ),
    );
    let me = host_name("/etc/iscsi/initiatorname.iscsi", Some("InitiatorName="));
    let iqn = format!("iqn.2010-10.org.openstack:{VOLUME}");
    let device = PathBuf::from(format!("/dev/{vg}/{VOLUME}"));

    // cinder-volume's work: the LV (thick: lvcreate -n volume-<id> -L), create_export,
    // initialize_connection for this host, each followed by a save
    run("lvcreate", &["-q", "-y", "-L", "64M", "-n", VOLUME, vg]);
    // rtslib's dbroot, which rtslib-fb-targetctl.service makes on a real host (its first
    // ExecStart; the suite's guests do not run that service)
    std::fs::create_dir_all("/etc/rtslib-fb-target").unwrap();
    let dev = device.to_string_lossy().into_owned();
    rtstool(&[
        "create",
        &dev,
        &iqn,
        USER,
        PASS,
        "False",
        "-p",
        "3260",
        "-a",
        "127.0.0.1",
    ]);
    rtstool(&["save"]);
    rtstool(&["add-initiator", &iqn, USER, PASS, &me]);
    rtstool(&["save"]);
    let before = lio::read(Path::new(CONFIGFS)).unwrap();
    let serial = serial_of(&iqn).expect("rtslib gives the LUN a serial");
    let password = format!("{CONFIGFS}/target/iscsi/{iqn}/tpgt_1/acls/{me}/auth/password");
    assert!(
        readable_by_nobody(&password),
        "configfs made cinder's ACL's password file 0644 in a 0755 auth/: the check below would prove nothing"
    );

    // the compute host: logged in with cinder's pair, writing
    assert!(login(&iqn, USER, PASS), "cinder's export refused its host");
    let sid = session_id(&iqn).expect("a session");
    let lio_sid = lio_session(&iqn, &me);
    let link = format!("/dev/disk/by-path/ip-127.0.0.1:3260-iscsi-{iqn}-lun-0");
    let disk = wait_for(60, &link, || std::fs::canonicalize(&link).ok());
    let first = pattern(71, LEN);
    write_through(&disk, &first);

    // the takeover: import, then one apply with what it wrote
    let r = s.ember(&["import"]);
    assert_eq!(r.code, 0, "ember import: {r:?}");
    assert!(
        r.stdout.contains(&format!(
            "\"{VOLUME}\": {{ size: 64M, export: {{ hosts: [\"{me}\"] }} }}"
        )),
        "import did not declare the volume's host: {r:?}"
    );
    s.write("desired-state.yaml", &r.stdout);
    let p = s.ember(&["plan"]);
    assert!(
        p.stdout.contains(&format!("+ adopt volume {VOLUME}"))
            && p.stdout
                .contains(&format!("+ adopt export of volume {VOLUME} over iSCSI")),
        "{p:?}"
    );
    assert!(
        !p.stdout.contains("+ export ")
            && !p.stdout.contains("attach host")
            && !p.stdout.contains("detach"),
        "{p:?}"
    );
    let a = s.ember(&["apply"]);
    assert_eq!(a.code, 0, "ember apply: {a:?}");
    assert!(
        !a.stdout.contains(PASS) && !a.stderr.contains(PASS),
        "a secret in apply's output"
    );

    // the session is the same one, on both sides, and still writes to the LV
    assert_eq!(
        session_id(&iqn).as_deref(),
        Some(sid.as_str()),
        "the session changed"
    );
    assert_eq!(
        lio_session(&iqn, &me),
        lio_sid,
        "the target's session changed (a new login)"
    );
    write_after_and_check(&disk, &device, &first, 72);

    // the target as cinder made it: same IQN, backstore, serial, LUN, ACL, portal
    let after = lio::read(Path::new(CONFIGFS)).unwrap();
    assert_eq!(
        serial_of(&iqn).as_deref(),
        Some(serial.as_str()),
        "the serial changed"
    );
    let strip = |st: &lio::State| {
        let mut st = st.clone();
        for a in st
            .targets
            .iter_mut()
            .flat_map(|t| &mut t.tpgs)
            .flat_map(|g| &mut g.acls)
        {
            a.auth_private = false;
        }
        st
    };
    // (a pass reads no password of a root-only auth/: read here, as an attach would)
    let mut after = after;
    for t in &mut after.targets {
        *t = lio::with_passwords(Path::new(CONFIGFS), t).unwrap();
    }
    assert_eq!(strip(&after), strip(&before), "the target was changed");
    assert_eq!(
        lv(vg, VOLUME).map(|l| l.tags.split(',').any(|t| t == "ember-managed")),
        Some(true)
    );
    let p = s.ember(&["plan"]);
    assert!(p.stdout.contains("No changes."), "after apply: {p:?}");

    // ember's connection info gives cinder's pair: the host's next login works
    let c = s.ember(&["connection", "--backend", "lvm-1", VOLUME]);
    assert_eq!(c.code, 0, "{c:?}");
    let data = &c.json()["data"];
    assert_eq!(data["auth_username"], USER, "{c:?}");
    assert_eq!(data["auth_password"], PASS);
    assert_eq!(data["target_iqn"], iqn.as_str());
    let o = iscsiadm(&iqn, &["--logout"]);
    assert!(o.status.success(), "logout: {}", shown(&o));
    assert!(
        login(&iqn, USER, PASS),
        "a new login with cinder's pair failed"
    );
    let o = iscsiadm(&iqn, &["--logout"]);
    assert!(o.status.success(), "logout: {}", shown(&o));
    iscsiadm(&iqn, &["-o", "delete"]);

    // its password is root's alone now, as ember's own
    assert!(
        !readable_by_nobody(&password),
        "a local user may read the CHAP password"
    );
}
