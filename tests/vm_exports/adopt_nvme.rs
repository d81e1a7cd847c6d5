//! Migration from `target_helper = nvmet`: a volume cinder-volume exported as its nvmet helper
//! does (configfs written directly, in the order and with the attributes of nvmetcli's
//! `Subsystem.setup` as cinder calls it: open to any host, nsid 10, `device_uuid` the volume's
//! id, a random NGUID, one port on 127.0.0.1:4420), this guest connected to it with its own
//! host NQN and writing, and as a second host that is never declared. `ember import` says to
//! declare the hosts; `ember apply` with them declared adopts the volume and restricts the
//! subsystem to them: the declared host reconnects by itself (every controller was dropped) to
//! the same disk, the other one is refused at its reconnects and loses the volume, and nothing
//! is left to do.

use std::path::{Path, PathBuf};

use ember::export::nvmet;

use super::common::vm::*;
use super::common::*;
use super::support::*;

const ID: &str = "3c9e5a71-6b2d-4f08-9a1e-7d4c2b8f0e63";
const NGUID: &str = "b2f4c6d8-1a3e-4c5b-9d7f-0e2a4c6b8d1f";
const LEN: usize = 1 << 20;
/// A second compute host, never declared.
const OTHER: &str = "nqn.2014-08.org.nvmexpress:uuid:5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d";
const OTHER_ID: &str = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d";

fn volume() -> String {
    format!("volume-{ID}")
}

/// cinder's export of `device` as `nqn` (cinder:cinder/volume/targets/nvmet.py through
/// nvmetcli's module: the subsystem, its namespace with `enable` last, its attributes, then
/// the port, made only when missing, and the subsystem linked into it).
fn cinder_exports(nqn: &str, device: &Path) {
    let n = Path::new(CONFIGFS).join("nvmet");
    let sub = n.join("subsystems").join(nqn);
    let ns = sub.join("namespaces/10");
    let w = |p: PathBuf, v: &str| {
        std::fs::write(&p, v).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };
    std::fs::create_dir(&sub).unwrap();
    std::fs::create_dir(&ns).unwrap();
    w(ns.join("device_path"), &device.to_string_lossy());
    w(ns.join("device_uuid"), ID);
    w(ns.join("device_nguid"), NGUID);
    w(ns.join("enable"), "1");
    w(sub.join("attr_allow_any_host"), "1");
    let port = n.join("ports/1");
    if !port.exists() {
        std::fs::create_dir(&port).unwrap();
        w(port.join("addr_trtype"), "tcp");
        w(port.join("addr_adrfam"), "ipv4");
        w(port.join("addr_traddr"), "127.0.0.1");
        w(port.join("addr_trsvcid"), "4420");
    }
    std::os::unix::fs::symlink(&sub, port.join("subsystems").join(nqn)).unwrap();
}

/// A compute host's connection as os-brick makes one: reconnecting by itself (every second,
/// for up to two minutes) when its controller is dropped.
fn connect(nqn: &str, hostnqn: &str) -> bool {
    nvme_connect_with(
        nqn,
        hostnqn,
        &["--reconnect-delay=1", "--ctrl-loss-tmo=120"],
    )
}

/// A connection made by writing its options to `/dev/nvme-fabrics`, as nvme-cli does; the
/// kernel's answer (`instance=N,cntlid=M`).
fn fabrics_connect(options: &str) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/nvme-fabrics")?;
    f.write_all(options.as_bytes())?;
    let mut answer = String::new();
    f.read_to_string(&mut answer)?;
    Ok(answer)
}

fn wwid(disk: &Path) -> String {
    let name = disk.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::read_to_string(format!("/sys/block/{name}/wwid"))
        .unwrap()
        .trim()
        .to_string()
}

/// How many times the kernel logged that the initiator's controller `ctrl` (`nvme0`)
/// reconnected (nvme-tcp: "nvme nvme0: Successfully reconnected (1 attempt)").
fn reconnects(ctrl: &str) -> usize {
    let o = try_run(30, "dmesg", &[]);
    let needle = format!(" {ctrl}: Successfully reconnected");
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| l.contains(&needle))
        .count()
}

/// The initiator's controllers of `nqn` connected as `hostnqn`: (name, state).
fn ctrls(nqn: &str, hostnqn: &str) -> Vec<(String, String)> {
    std::fs::read_dir("/sys/class/nvme")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let read = |f: &str| {
                std::fs::read_to_string(e.path().join(f))
                    .map(|s| s.trim().to_string())
                    .ok()
            };
            (read("subsysnqn")? == nqn && read("hostnqn")? == hostnqn)
                .then(|| Some((e.file_name().to_string_lossy().into_owned(), read("state")?)))?
        })
        .collect()
}

/// The serial the initiator's controllers of `nqn` show.
fn serials(nqn: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir("/sys/class/nvme")
        .unwrap()
        .flatten()
        .filter(|e| {
            std::fs::read_to_string(e.path().join("subsysnqn")).is_ok_and(|s| s.trim() == nqn)
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("serial")).ok())
        .map(|s| s.trim().to_string())
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
#[ignore = "VM test: tests/vm/run-tests exports"]
fn vm_a_cinder_nvmet_export_is_adopted_restricted_to_its_declared_hosts() {
    prepare_guest();
    let vg = "vg-adopt-nvme";
    create_vg(vg);
    let state = state_dir(vg);
    let s = Scratch::new();
    s.write(
        "cinder.conf",
        &format!(
            "[DEFAULT]\nenabled_backends = lvm-1\nhost = vmhost\n[ember]\nstate_dir = {}\n[lvm-1]\nvolume_group = {vg}\nlvm_type = default\nlvm_conf_file = None\ntarget_helper = nvmet\ntarget_protocol = nvmet_tcp\ntarget_port = 4420\ntarget_prefix = nvme-subsystem-1\ntarget_ip_address = 127.0.0.1\n",
            state.display()
        ),
    );
    let me = host_name("/etc/nvme/hostnqn", None);
    let vol = volume();
    let nqn = format!("nqn.nvme-subsystem-1-{ID}");
    let device = PathBuf::from(format!("/dev/{vg}/{vol}"));

    // cinder-volume's work: the LV, create_export; the compute host connects and writes
    run("lvcreate", &["-q", "-y", "-L", "64M", "-n", &vol, vg]);
    cinder_exports(&nqn, &device);
    let root = Path::new(CONFIGFS);
    let before = nvmet::read(root).unwrap();
    let sub = before.subsystem(&nqn).unwrap().clone();
    assert_eq!(sub.allow_any_host, Some(true));
    assert!(connect(&nqn, &me), "cinder's export refused its host");
    let disk = nvme_disk(ID);
    let (id_before, serial_before) = (wwid(&disk), serials(&nqn));
    assert_eq!(id_before, format!("uuid.{ID}"));
    let first = pattern(81, LEN);
    write_through(&disk, &first);
    let mine = ctrls(&nqn, &me);
    assert_eq!(mine.len(), 1, "{mine:?}");
    let ctrl = mine[0].0.clone();
    let reconnected = reconnects(&ctrl);
    // a second compute host, which the operator will not declare, connected as cinder's export
    // lets any host: its own host NQN and ID, through the kernel's fabrics device as nvme-cli
    // writes it (nvme-cli itself refuses a second connection to one subsystem and address,
    // whatever the host NQN: "already connected")
    let o = fabrics_connect(&format!(
        "nqn={nqn},transport=tcp,traddr=127.0.0.1,trsvcid=4420,hostnqn={OTHER},hostid={OTHER_ID},reconnect_delay=1,ctrl_loss_tmo=5"
    ));
    assert!(o.is_ok(), "cinder's export refused a second host: {o:?}");
    let theirs = ctrls(&nqn, OTHER);
    assert!(
        theirs.len() == 1 && theirs[0].1 == "live",
        "the second host: {theirs:?}"
    );

    // import: no hosts known; it says to declare them (no longer that ember refuses)
    let r = s.ember(&["import"]);
    assert_eq!(r.code, 0, "ember import: {r:?}");
    let line = format!("\"{vol}\": {{ size: 64M }}");
    assert!(r.stdout.contains(&line), "{r:?}");
    assert!(
        r.stdout.contains(&format!("exported to any host by {nqn}"))
            && r.stdout.contains("until you declare its hosts")
            && r.stdout.contains("restricted to them"),
        "import's comment: {r:?}"
    );
    // as written, nothing of the export is touched (a warning says why)
    s.write("desired-state.yaml", &r.stdout);
    let p = s.ember(&["plan"]);
    assert!(
        p.stdout.contains(&format!("+ adopt volume {vol}")) && !p.stdout.contains("adopt export"),
        "{p:?}"
    );
    assert!(
        format!("{}{}", p.stdout, p.stderr)
            .contains("open to any host, as cinder's nvmet makes it"),
        "{p:?}"
    );

    // the operator declares the volume's host: one apply adopts and restricts
    let declared = format!("\"{vol}\": {{ size: 64M, export: {{ hosts: [\"{me}\"] }} }}");
    s.write("desired-state.yaml", &r.stdout.replace(&line, &declared));
    let p = s.ember(&["plan"]);
    assert!(
        p.stdout.contains(&format!("+ adopt volume {vol}"))
            && p.stdout.contains(&format!(
                "+ adopt export of volume {vol} over NVMe/TCP at 127.0.0.1:4420 as {nqn} (kept as it is, restricted to its declared hosts: {me};"
            )),
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

    // restricted: closed, this host allowed; the same NQN, namespace, UUID, NGUID, port
    let after = nvmet::read(root).unwrap();
    let now = after.subsystem(&nqn).unwrap();
    assert_eq!(now.allow_any_host, Some(false), "still open to any host");
    assert_eq!(now.allowed_hosts, vec![me.clone()]);
    assert_eq!(now.namespaces, sub.namespaces, "the namespace changed");
    assert_eq!(now.serial, sub.serial, "the serial changed");
    assert_eq!(after.ports, before.ports);

    // every controller was dropped (what cuts off a host not declared: nvmet checks a host
    // at connect only): the declared host reconnected by itself
    wait_for(60, "the declared host to reconnect", || {
        let now = ctrls(&nqn, &me);
        let live = now == [(ctrl.clone(), "live".to_string())];
        (live && reconnects(&ctrl) > reconnected).then_some(())
    });
    // the host not declared lost its controller with the others, and was refused at each
    // reconnect until it gave up (--ctrl-loss-tmo)
    wait_for(60, "the undeclared host's controller to go", || {
        ctrls(&nqn, OTHER).is_empty().then_some(())
    });
    assert_eq!(
        ctrls(&nqn, &me).len(),
        1,
        "the declared host's controller went too"
    );
    let disk = nvme_disk(ID);
    assert_eq!(wwid(&disk), id_before, "another disk");
    assert_eq!(serials(&nqn), serial_before, "another serial");
    write_after_and_check(&disk, &device, &first, 82);

    assert_eq!(
        lv(vg, &vol).map(|l| l.tags.split(',').any(|t| t == "ember-managed")),
        Some(true)
    );
    let p = s.ember(&["plan"]);
    assert!(p.stdout.contains("No changes."), "after apply: {p:?}");

    // a host not declared is refused by the target at a new connection too, the declared one
    // not
    let o = try_run(60, "nvme", &["disconnect", "-n", &nqn]);
    assert!(o.status.success(), "nvme disconnect: {}", shown(&o));
    assert_eq!(controllers(&nqn), 0);
    let other = "nqn.2014-08.org.nvmexpress:uuid:0f6e1d2c-3b4a-4958-8776-a5b4c3d2e1f0";
    assert!(!nvme_connect(&nqn, other), "a host not declared connected");
    assert_eq!(controllers(&nqn), 0);
    assert!(
        nvme_connect(&nqn, &me),
        "the declared host cannot connect again"
    );
    let o = try_run(60, "nvme", &["disconnect", "-n", &nqn]);
    assert!(o.status.success(), "nvme disconnect: {}", shown(&o));
    let steps = nvmet::remove_steps(&nqn, &nvmet::read(root).unwrap()).unwrap();
    ember::export::apply(root, &steps).unwrap();
}
