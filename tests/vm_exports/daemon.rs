//! The daemon exporting under the shipped unit, as a package installs it: started by systemd
//! on a host where no target module is loaded, it loads them (the unit's `ExecStartPre=`),
//! writes the target configuration from inside its sandbox, takes rtslib's backstore lock
//! there (targetcli holding it makes ember wait), keeps CHAP in its state directory, and puts
//! every export back, with the same serial and namespace UUID, when it starts on a cleared
//! configuration. Two backends as a cinder host has them: a thin one over iSCSI (LIO), a thick
//! one over NVMe/TCP (nvmet), with cinder's own lvm.conf present. It starts by emptying the
//! kernel's target configuration (what the suite's other tests left) and unloading the target
//! modules, as a host that has not exported anything since its boot has them.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use ember::export::identity::Identity;
use ember::export::{lio, nvmet};

use super::common::vm::*;
use super::common::*;
use super::support::*;

const ISCSI_VOLUME: &str = "volume-6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d";
const NVME_VOLUME: &str = "volume-1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9";
const LATER_VOLUME: &str = "volume-9e8d7c6b-5a49-4837-a625-140f1e2d3c4b";
const LEN: usize = 4 << 20;
/// The target modules the unit's `ExecStartPre=` lines load, the fabrics before their cores.
const TARGET_MODULES: &[&str] = &[
    "nvmet_tcp",
    "nvmet",
    "iscsi_target_mod",
    "target_core_iblock",
    "target_core_mod",
];

fn loaded(module: &str) -> bool {
    Path::new("/sys/module")
        .join(module)
        .join("refcnt")
        .exists()
}

/// The modules that use `module` (its holders: other fabrics and backstores another tool's
/// rtslib loaded, as tcm_loop or target_core_user), theirs first.
fn holders(module: &str, out: &mut Vec<String>) {
    let Ok(d) = std::fs::read_dir(Path::new("/sys/module").join(module).join("holders")) else {
        return;
    };
    for e in d.flatten() {
        let h = e.file_name().to_string_lossy().into_owned();
        holders(&h, out);
        if !out.contains(&h) {
            out.push(h);
        }
    }
}

fn unload_target_modules() {
    reset_targets();
    let mut all = vec![];
    for m in TARGET_MODULES {
        holders(m, &mut all);
    }
    for m in TARGET_MODULES {
        if !all.iter().any(|x| x == m) {
            all.push(m.to_string());
        }
    }
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let o = try_run(60, "modprobe", &[&["-r", "-a"], &all[..]].concat());
    for m in TARGET_MODULES {
        assert!(
            !loaded(m),
            "module {m} is still loaded after the target configuration was emptied, so this test cannot show that the unit loads it: {}",
            shown(&o)
        );
    }
}

/// ember installed as a packager installs it (install.sh), with the binary the tests built.
fn install_unit() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new(format!("{root}/install.sh"))
        .env("PREFIX", "/usr/local")
        .env("BIN", ember_bin())
        .output()
        .unwrap();
    assert!(out.status.success(), "install.sh: {out:?}");
    run("systemctl", &["daemon-reload"]);
}

/// cinder.conf as a cinder host has it: `target_ip_address` left to its default, `$my_ip`.
fn write_cinder_conf() {
    std::fs::create_dir_all("/etc/cinder").unwrap();
    // Debian's node_exporter's textfile directory, which the unit lets the daemon write
    std::fs::create_dir_all("/var/lib/prometheus/node-exporter").unwrap();
    std::fs::copy("/etc/lvm/lvm.conf", "/etc/cinder/lvm.conf").unwrap();
    std::fs::write(
        "/etc/cinder/cinder.conf",
        "[DEFAULT]\nenabled_backends = lio, nv\nhost = vmhost\nmy_ip = 127.0.0.1\n\
         [ember]\nmetrics_file = /var/lib/prometheus/node-exporter/ember.prom\n\
         control_group = ember-readers\n\
         [lio]\nvolume_group = vg-unit-lio\nlvm_type = thin\ntarget_helper = lioadm\n\
         [nv]\nvolume_group = vg-unit-nv\nlvm_type = default\ntarget_helper = nvmet\n\
         target_protocol = nvmet_tcp\ntarget_port = 4420\n",
    )
    .unwrap();
}

fn write_desired(iqn: &str, nqn: &str, later: bool) {
    let later = if later {
        format!("      {LATER_VOLUME}: {{ size: 32M, export: {{ hosts: [{iqn}] }} }}\n")
    } else {
        String::new()
    };
    let text = format!(
        "backends:\n  lio:\n    thin_pool: {{ size: 512M }}\n    volumes:\n      {ISCSI_VOLUME}: {{ size: 64M, export: {{ hosts: [{iqn}] }} }}\n{later}  nv:\n    volumes:\n      {NVME_VOLUME}: {{ size: 64M, export: {{ hosts: [{nqn}] }} }}\n"
    );
    // replaced whole, as an editor saves: the daemon never reads half a file
    std::fs::write("/etc/cinder/desired-state.yaml.new", text).unwrap();
    std::fs::rename(
        "/etc/cinder/desired-state.yaml.new",
        "/etc/cinder/desired-state.yaml",
    )
    .unwrap();
}

fn status_text() -> String {
    run("systemctl", &["show", "-P", "StatusText", "ember"])
        .trim()
        .to_string()
}

/// `ember connection`'s dictionary for a volume, as nova would be handed it.
fn connection(backend: &str, volume: &str, host: &str) -> serde_json::Value {
    let o = try_run(
        60,
        "/usr/local/bin/ember",
        &["connection", "--backend", backend, volume, "--host", host],
    );
    assert!(o.status.success(), "ember connection: {}", shown(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", shown(&o)))
}

fn field(c: &serde_json::Value, key: &str) -> String {
    c["data"][key]
        .as_str()
        .unwrap_or_else(|| panic!("no data.{key} in {c}"))
        .to_string()
}

/// Writes a pattern through the iSCSI disk the connection dictionary leads to; checks it on
/// the LV.
fn iscsi_write_read(c: &serde_json::Value, seed: u64) {
    let iqn = field(c, "target_iqn");
    assert!(
        login(&iqn, &field(c, "auth_username"), &field(c, "auth_password")),
        "no iSCSI login with ember connection's credentials"
    );
    let data = pattern(seed, LEN);
    write_through(&iscsi_disk(&iqn), &data);
    logout(&iqn);
    let lv = format!("/dev/vg-unit-lio/{ISCSI_VOLUME}");
    assert_eq!(
        sha256(&read_back(Path::new(&lv), LEN)),
        sha256(&data),
        "the LV does not hold what the iSCSI initiator wrote"
    );
}

fn nvme_write_read(nqn: &str, host: &str, seed: u64) {
    assert!(nvme_connect(nqn, host), "the listed host cannot connect");
    let data = pattern(seed, LEN);
    write_through(
        &nvme_disk(&Identity::of("vg-unit-nv", NVME_VOLUME).uuid()),
        &data,
    );
    let o = try_run(60, "nvme", &["disconnect", "-n", nqn]);
    assert!(o.status.success(), "nvme disconnect: {}", shown(&o));
    let lv = format!("/dev/vg-unit-nv/{NVME_VOLUME}");
    assert_eq!(
        sha256(&read_back(Path::new(&lv), LEN)),
        sha256(&data),
        "the LV does not hold what the NVMe initiator wrote"
    );
}

/// `ember status` shows the logged-in host's live session on its volume (read from LIO by the
/// pass a `reconcile --wait` runs), and none once it logged out; the NVMe backend says nvmet
/// does not show sessions.
fn live_session_in_status(c: &serde_json::Value, me: &str) {
    let iqn = field(c, "target_iqn");
    assert!(login(
        &iqn,
        &field(c, "auth_username"),
        &field(c, "auth_password")
    ));
    let status = || {
        let o = try_run(120, "/usr/local/bin/ember", &["reconcile", "--wait"]);
        assert!(o.status.success(), "reconcile --wait: {}", shown(&o));
        let o = try_run(60, "/usr/local/bin/ember", &["status", "--json"]);
        assert!(o.status.success(), "status: {}", shown(&o));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let st = status();
    let lio_backend = st["backends"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "lio")
        .unwrap()
        .clone();
    let v = lio_backend["exports"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["volume"] == ISCSI_VOLUME)
        .unwrap_or_else(|| panic!("no export of {ISCSI_VOLUME} in {st:#}"))
        .clone();
    assert_eq!(v["hosts"], serde_json::json!([me]), "{st:#}");
    assert_eq!(v["sessions"][0]["host"], me, "{st:#}");
    assert_eq!(v["sessions"][0]["state"], "LOGGED_IN", "{st:#}");
    assert_eq!(v["sessions"][0]["addresses"][0], "127.0.0.1", "{st:#}");
    let text = String::from_utf8_lossy(&try_run(60, "/usr/local/bin/ember", &["status"]).stdout)
        .into_owned();
    eprintln!("ember status with a session:\n{text}");
    assert!(text.contains("1 live session(s)"), "{text}");
    assert!(text.contains("sessions not shown by nvmet"), "{text}");
    assert!(
        !text.contains(&field(c, "auth_password")),
        "a secret in status"
    );
    // a local user of `control_group`, not root, sees the same, and no secret
    let o = try_run(
        60,
        "runuser",
        &[
            "-u",
            "reader",
            "--",
            "/usr/local/bin/ember",
            "status",
            "--json",
        ],
    );
    let body = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "status as a reader: {}", shown(&o));
    assert!(body.contains("LOGGED_IN") && body.contains(me), "{body}");
    assert!(
        !body.contains(&field(c, "auth_password")),
        "a secret in status"
    );
    exports_through_node_exporter(&field(c, "auth_password"));
    logout(&iqn);
    let st = status();
    let after = st["backends"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "lio")
        .unwrap()["exports"]["volumes"]
        .to_string();
    assert!(
        !after.contains("LOGGED_IN"),
        "a session after the logout: {after}"
    );
}

/// node_exporter (Debian's, unpacked by tests/vm/setup-prometheus) serves the export series
/// from the daemon's metrics file: the iSCSI backend's volume, host and live session; the
/// NVMe backend's volume and host, and no session series (nvmet shows none). The file passes
/// promtool's check and holds no secret.
fn exports_through_node_exporter(password: &str) {
    let file = "/var/lib/prometheus/node-exporter/ember.prom";
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file}: {e}"));
    promtool_check_metrics(&text);
    assert!(!text.contains(password), "a secret in the metrics");
    let mut ne = Command::new(prometheus_bin("prometheus-node-exporter"))
        .args([
            "--collector.disable-defaults",
            "--collector.textfile",
            "--collector.textfile.directory=/var/lib/prometheus/node-exporter",
            "--web.listen-address=127.0.0.1:9100",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let served = wait_for(60, "node_exporter's ember series", || {
        let mut c = std::net::TcpStream::connect("127.0.0.1:9100").ok()?;
        std::io::Write::write_all(&mut c, b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .ok()?;
        let mut s = String::new();
        std::io::Read::read_to_string(&mut c, &mut s).ok()?;
        let body = s.split_once("\r\n\r\n")?.1.to_string();
        // (the file is written by a thread of its own after the status changed)
        body.lines()
            .any(|l| l == "ember_export_sessions{backend=\"lio\",transport=\"iscsi\"} 1")
            .then_some(body)
    });
    let _ = ne.kill();
    let _ = ne.wait();
    let line = |series: &str| {
        served
            .lines()
            .find(|l| l.starts_with(series))
            .map(|l| l.rsplit(' ').next().unwrap_or("").to_string())
    };
    let lio = "{backend=\"lio\",transport=\"iscsi\"}";
    let nv = "{backend=\"nv\",transport=\"nvme_tcp\"}";
    assert_eq!(
        line(&format!("ember_exported_volumes{lio}")).as_deref(),
        Some("1"),
        "{served}"
    );
    assert_eq!(
        line(&format!("ember_export_hosts{lio}")).as_deref(),
        Some("1"),
        "{served}"
    );
    assert_eq!(
        line(&format!("ember_export_sessions{lio}")).as_deref(),
        Some("1"),
        "{served}"
    );
    assert_eq!(
        line(&format!("ember_exported_volumes{nv}")).as_deref(),
        Some("1"),
        "{served}"
    );
    assert_eq!(
        line(&format!("ember_export_sessions{nv}")),
        None,
        "{served}"
    );
    assert_eq!(
        line("node_textfile_scrape_error").as_deref(),
        Some("0"),
        "{served}"
    );
}

/// Every target and subsystem removed, as rtslib-fb-targetctl's stop (or a reboot) leaves the
/// kernel.
fn clear_all() {
    let root = Path::new(CONFIGFS);
    clear_lio();
    for s in nvmet::read(root).unwrap().subsystems {
        let now = nvmet::read(root).unwrap();
        ember::export::apply(root, &nvmet::remove_steps(&s.nqn, &now).unwrap()).unwrap();
    }
}

/// What identifies the two exports to an initiator: the LUN's serial, the namespace's UUID.
fn identities(iqn: &str, nqn: &str) -> (Option<String>, Option<String>) {
    let ns = nvmet::read(Path::new(CONFIGFS))
        .unwrap()
        .subsystem(nqn)
        .and_then(|s| s.namespaces.first().and_then(|n| n.device_uuid.clone()));
    (serial_of(iqn), ns)
}

/// targetcli's side of rtslib's lock: held by a child process until its stdin closes.
fn hold_rtslib_lock() -> std::process::Child {
    let mut child = Command::new("flock")
        .args([
            "/run/rtslib_backstore.lock",
            "sh",
            "-c",
            "echo held; exec cat >/dev/null",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "held", "flock did not take rtslib's lock");
    child
}

#[test]
#[ignore = "VM test: tests/vm/run-tests exports"]
fn vm_daemon_under_the_shipped_unit_loads_the_modules_exports_and_puts_back_a_cleared_configuration()
 {
    prepare_guest();
    unload_target_modules();
    create_vg("vg-unit-lio");
    create_vg("vg-unit-nv");
    install_unit();
    // a local user allowed to read the daemon's status (`[ember] control_group`)
    let o = try_run(30, "groupadd", &["-f", "--system", "ember-readers"]);
    assert!(o.status.success(), "{}", shown(&o));
    if !try_run(10, "id", &["reader"]).status.success() {
        run(
            "useradd",
            &["--no-create-home", "--groups", "ember-readers", "reader"],
        );
    }
    write_cinder_conf();
    let me_iqn = host_name("/etc/iscsi/initiatorname.iscsi", Some("InitiatorName="));
    let me_nqn = host_name("/etc/nvme/hostnqn", None);
    write_desired(&me_iqn, &me_nqn, false);

    // started as systemd starts it: READY=1 once both backends' first passes were read back
    run("systemctl", &["start", "ember"]);
    assert_eq!(status_text(), "2 backends: 2 converged");
    for m in TARGET_MODULES {
        assert!(loaded(m), "the unit's ExecStartPre= did not load {m}");
    }
    let iscsi = connection("lio", ISCSI_VOLUME, &me_iqn);
    let nvme = connection("nv", NVME_VOLUME, &me_nqn);
    let iqn = field(&iscsi, "target_iqn");
    let nqn = field(&nvme, "nqn"); // nvmeof_conn_info_version 1: cinder's `nqn`
    assert_eq!(iqn, format!("iqn.2010-10.org.openstack:{ISCSI_VOLUME}"));
    // the CHAP pair is in the unit's state directory, root's alone
    let chap = format!("/var/lib/ember/chap/lio/{ISCSI_VOLUME}");
    let meta = std::fs::metadata(&chap).unwrap_or_else(|e| panic!("{chap}: {e}"));
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
        0o600
    );
    iscsi_write_read(&iscsi, 50);
    nvme_write_read(&nqn, &me_nqn, 51);
    live_session_in_status(&iscsi, &me_iqn);

    // a new export while targetcli holds rtslib's backstore lock: the daemon waits for it
    // (from inside its sandbox, where the lock file must be writable), then exports
    let later_iqn = format!("iqn.2010-10.org.openstack:{LATER_VOLUME}");
    let mut targetcli = hold_rtslib_lock();
    write_desired(&me_iqn, &me_nqn, true);
    wait_for(120, "the new volume's LV", || {
        lv("vg-unit-lio", LATER_VOLUME).map(|_| ())
    });
    std::thread::sleep(std::time::Duration::from_secs(3));
    let state = lio::read(Path::new(CONFIGFS)).unwrap();
    assert!(
        state.target(&later_iqn).is_none(),
        "a backstore was made while rtslib's lock was held by another process"
    );
    drop(targetcli.stdin.take());
    assert!(targetcli.wait().unwrap().success());
    wait_for(120, "the new volume's export", || {
        let state = lio::read(Path::new(CONFIGFS)).ok()?;
        let t = state.target(&later_iqn)?;
        (t.tpgs.first()?.enabled == Some(true)).then_some(())
    });

    // the kernel's configuration cleared while ember is stopped (a stop of
    // rtslib-fb-targetctl, a reboot): started again, it puts every export back as it was
    let before = identities(&iqn, &nqn);
    assert!(before.0.is_some() && before.1.is_some(), "{before:?}");
    run("systemctl", &["stop", "ember"]);
    clear_all();
    assert_eq!(identities(&iqn, &nqn), (None, None));
    run("systemctl", &["start", "ember"]);
    assert_eq!(status_text(), "2 backends: 2 converged");
    assert_eq!(
        identities(&iqn, &nqn),
        before,
        "another serial or namespace UUID after the restart"
    );
    // the same credentials still log in, and the data is there
    iscsi_write_read(&iscsi, 52);
    nvme_write_read(&nqn, &me_nqn, 53);

    // nothing left for the suite's other tests
    run("systemctl", &["stop", "ember"]);
    clear_all();
    for f in ["/etc/cinder/cinder.conf", "/etc/cinder/desired-state.yaml"] {
        let _ = std::fs::remove_file(f);
    }
}
