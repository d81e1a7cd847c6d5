//! Exports declared in the desired state (`export: { hosts: [...] }`) and converged by
//! `ember apply`, checked as an operator would: a real initiator on the guest logs in over
//! 127.0.0.1 (iSCSI with the volume's CHAP credentials, NVMe/TCP with its host NQN) only while
//! its host is listed; what it writes is on the LV; an exported volume declared absent is
//! refused until its hosts are removed; a cleared target configuration comes back with the same
//! serial; another tool's target is reported and left as it is.

use std::path::{Path, PathBuf};

use ember::export::chap::ChapStore;
use ember::export::identity::Identity;
use ember::export::{Step, Value, lio, nvmet};

use super::common::vm::*;
use super::common::*;
use super::support::*;

const VOLUME: &str = "volume-5e1c7a3b-2d4f-4b8a-9c6e-0f1a2b3c4d5e";
const LEN: usize = 4 << 20;

/// A scratch host: cinder.conf with one thick backend on `vg` exporting through `target`
/// options, its CHAP store in a root-only state directory.
fn host(vg: &str, target: &str) -> (Scratch, PathBuf) {
    let s = Scratch::new();
    let state = state_dir(vg);
    s.write(
        "cinder.conf",
        &format!(
            "[DEFAULT]\nenabled_backends = lvm-1\nhost = vmhost\n[ember]\nstate_dir = {}\n[lvm-1]\nvolume_group = {vg}\nlvm_type = default\nlvm_conf_file = None\ntarget_ip_address = 127.0.0.1\n{target}\n",
            state.display()
        ),
    );
    (s, state)
}

fn declare(s: &Scratch, volume: &str) {
    s.write(
        "desired-state.yaml",
        &format!("backends:\n  lvm-1:\n    volumes:\n      {VOLUME}: {volume}\n"),
    );
}

fn apply_ok(s: &Scratch) -> String {
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "ember apply: {r:?}");
    let p = s.ember(&["plan"]);
    assert!(p.stdout.contains("No changes."), "after apply: {p:?}");
    r.stdout
}

#[test]
#[ignore = "VM test: tests/vm/run-tests exports"]
fn vm_a_declared_iscsi_export_follows_its_hosts_and_holds_its_volume() {
    prepare_guest();
    let vg = "vg-decl-iscsi";
    create_vg(vg);
    let (s, state) = host(vg, "target_helper = lioadm");
    let me = host_name("/etc/iscsi/initiatorname.iscsi", Some("InitiatorName="));
    let iqn = format!("iqn.2010-10.org.openstack:{VOLUME}");
    let device = PathBuf::from(format!("/dev/{vg}/{VOLUME}"));

    // exported to nobody: made, with CHAP, but this host is not let in
    declare(&s, "{ size: 64M, export: { hosts: [] } }");
    let out = apply_ok(&s);
    assert!(
        out.contains(&format!(
            "+ export volume {VOLUME} over iSCSI at 127.0.0.1:3260 as {iqn}"
        )),
        "{out}"
    );
    let chap = ChapStore::new(state.clone())
        .load("lvm-1", VOLUME)
        .unwrap()
        .expect("the volume's CHAP credentials are kept");
    assert!(!out.contains(&chap.password), "a secret in apply's output");
    assert!(
        !login(&iqn, &chap.userid, &chap.password),
        "a host not listed logged in"
    );

    // listed: attached; it logs in with the CHAP credentials only
    declare(&s, &format!("{{ size: 64M, export: {{ hosts: [{me}] }} }}"));
    let out = apply_ok(&s);
    assert!(
        out.contains(&format!(
            "+ attach host {me} to volume {VOLUME} (iSCSI at 127.0.0.1:3260)"
        )),
        "{out}"
    );
    assert!(
        !login(&iqn, &chap.userid, "wrongpassword123"),
        "a wrong CHAP secret logged in"
    );
    assert!(
        login(&iqn, &chap.userid, &chap.password),
        "the listed host cannot log in"
    );
    // the password in configfs is root's alone (configfs makes attributes 0644)
    let password = format!("{CONFIGFS}/target/iscsi/{iqn}/tpgt_1/acls/{me}/auth/password");
    let as_nobody = std::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "cat",
            &password,
        ])
        .output()
        .unwrap();
    assert!(
        !as_nobody.status.success() && as_nobody.stdout.is_empty(),
        "a local user read the CHAP password: {as_nobody:?}"
    );
    let link = format!("/dev/disk/by-path/ip-127.0.0.1:3260-iscsi-{iqn}-lun-0");
    let disk = wait_for(60, &link, || std::fs::canonicalize(&link).ok());
    let data = pattern(40, LEN);
    write_through(&disk, &data);
    logout(&iqn);
    assert_eq!(
        sha256(&read_back(&device, LEN)),
        sha256(&data),
        "the LV does not hold what the initiator wrote"
    );

    // the target configuration cleared (a stop of rtslib-fb-targetctl): put back as it was
    let serial = serial_of(&iqn).expect("a serial");
    assert_eq!(serial, Identity::of(vg, VOLUME).uuid());
    clear_lio();
    assert!(
        lio::read(Path::new(CONFIGFS))
            .unwrap()
            .target(&iqn)
            .is_none()
    );
    apply_ok(&s);
    assert_eq!(
        serial_of(&iqn).as_deref(),
        Some(serial.as_str()),
        "another serial after the clear"
    );
    assert!(
        login(&iqn, &chap.userid, &chap.password),
        "no login after the clear"
    );
    // grown while logged in: nothing to tell LIO (it reads the size at every READ CAPACITY);
    // the initiator sees the new size at its rescan, as os-brick's extend_volume asks for
    let disk = iscsi_disk(&iqn);
    declare(&s, &format!("{{ size: 96M, export: {{ hosts: [{me}] }} }}"));
    let out = apply_ok(&s);
    assert!(!out.contains("resize export"), "{out}");
    let o = try_run(60, "iscsiadm", &["-m", "session", "--rescan"]);
    assert!(o.status.success(), "rescan: {}", shown(&o));
    let name = disk.file_name().unwrap().to_string_lossy().into_owned();
    wait_for(30, "the initiator to see 96 MiB", || {
        let t = std::fs::read_to_string(format!("/sys/block/{name}/size")).ok()?;
        (t.trim() == ((96u64 << 20) / 512).to_string()).then_some(())
    });
    logout(&iqn);

    // declared absent while exported to a host: refused, nothing removed
    declare(&s, "{ state: absent }");
    let r = s.ember(&["apply"]);
    assert_ne!(r.code, 0, "an exported volume's deletion: {r:?}");
    assert!(
        r.stdout.contains("remove its hosts first") && r.stdout.contains(&me),
        "{r:?}"
    );
    assert!(lv(vg, VOLUME).is_some(), "the exported volume was deleted");
    assert!(serial_of(&iqn).is_some(), "the export was removed");

    // its host removed: detached, the host cannot log in again
    declare(&s, "{ size: 96M, export: { hosts: [] } }");
    let out = apply_ok(&s);
    assert!(
        out.contains(&format!("- detach host {me} from volume {VOLUME}")),
        "{out}"
    );
    assert!(
        !login(&iqn, &chap.userid, &chap.password),
        "a detached host logged in"
    );

    // another tool's target on another LV of the backend's VG: reported, left as it is
    run("lvcreate", &["-q", "-y", "-L", "8M", "-n", "byhand", vg]);
    let other = "iqn.2003-01.org.example:byhand";
    by_hand_target(other, &format!("/dev/{vg}/byhand"));
    let before = lio::read(Path::new(CONFIGFS))
        .unwrap()
        .target(other)
        .cloned();
    let p = s.ember(&["plan"]);
    assert!(
        p.stdout.contains(&format!(
            "target {other} names or uses byhand but is not ember's"
        )),
        "{p:?}"
    );

    // now absent: unexported, then deleted, in one pass
    declare(&s, "{ state: absent }");
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(&format!("- unexport volume {VOLUME}")),
        "{r:?}"
    );
    assert!(lv(vg, VOLUME).is_none(), "not deleted");
    let after = lio::read(Path::new(CONFIGFS)).unwrap();
    assert!(after.target(&iqn).is_none() && !after.backstores.iter().any(|b| b.name == iqn));
    assert_eq!(
        after.target(other).cloned(),
        before,
        "another tool's target was changed"
    );
    iscsiadm(&iqn, &["-o", "delete"]);
}

/// A target as targetcli makes one: its own backstore name, LUN 0, no ACL, no portal.
fn by_hand_target(iqn: &str, device: &str) {
    let root = Path::new(CONFIGFS);
    let hba = PathBuf::from("target/core/iblock_90");
    let bs = hba.join("byhand");
    let tpg = PathBuf::from("target/iscsi").join(iqn).join("tpgt_1");
    let plain = |s: &str| Value::Plain(s.into());
    ember::export::apply(
        root,
        &[
            Step::Mkdir(hba),
            Step::Mkdir(bs.clone()),
            Step::Write(bs.join("control"), plain(&format!("udev_path={device}"))),
            Step::Write(bs.join("udev_path"), plain(device)),
            Step::Write(bs.join("enable"), plain("1")),
            Step::Mkdir(PathBuf::from("target/iscsi").join(iqn)),
            Step::Mkdir(tpg.clone()),
            Step::Mkdir(tpg.join("lun/lun_0")),
            Step::Symlink {
                link: tpg.join("lun/lun_0/byhand"),
                target: bs,
            },
        ],
    )
    .unwrap();
}

#[test]
#[ignore = "VM test: tests/vm/run-tests exports"]
fn vm_a_declared_nvme_export_lets_in_only_its_hosts() {
    prepare_guest();
    let vg = "vg-decl-nvme";
    create_vg(vg);
    let (s, _) = host(
        vg,
        "target_helper = nvmet\ntarget_protocol = nvmet_tcp\ntarget_port = 4420\ntarget_prefix = nvme-subsystem-1",
    );
    let me = host_name("/etc/nvme/hostnqn", None);
    let id = Identity::of(vg, VOLUME);
    let nqn = format!("nqn.nvme-subsystem-1-{}", id.uuid());
    let device = PathBuf::from(format!("/dev/{vg}/{VOLUME}"));

    declare(&s, "{ size: 64M, export: { hosts: [] } }");
    let out = apply_ok(&s);
    assert!(
        out.contains(&format!(
            "+ export volume {VOLUME} over NVMe/TCP at 127.0.0.1:4420 as {nqn}"
        )),
        "{out}"
    );
    let sub = nvmet::read(Path::new(CONFIGFS)).unwrap();
    assert_eq!(sub.subsystem(&nqn).unwrap().allow_any_host, Some(false));
    assert!(!nvme_connect(&nqn, &me), "a host not listed connected");

    declare(&s, &format!("{{ size: 64M, export: {{ hosts: [{me}] }} }}"));
    apply_ok(&s);
    assert!(nvme_connect(&nqn, &me), "the listed host cannot connect");
    let disk = nvme_disk(&id.uuid());
    let data = pattern(41, LEN);
    write_through(&disk, &data);
    let o = try_run(60, "nvme", &["disconnect", "-n", &nqn]);
    assert!(o.status.success(), "nvme disconnect: {}", shown(&o));
    assert_eq!(
        sha256(&read_back(&device, LEN)),
        sha256(&data),
        "the LV does not hold what the initiator wrote"
    );

    // removed while connected: its controller is dropped (nvmet checks a host at connect
    // only), and it cannot connect again
    assert!(
        nvme_connect(&nqn, &me),
        "the listed host cannot connect again"
    );
    assert!(live_controllers(&nqn) > 0, "no live controller for {nqn}");

    // grown while connected: the host sees the new size by itself (no rescan asked for)
    let disk = nvme_disk(&id.uuid());
    let sectors = || {
        let name = disk.file_name().unwrap().to_string_lossy().into_owned();
        std::fs::read_to_string(format!("/sys/block/{name}/size"))
            .ok()
            .and_then(|t| t.trim().parse::<u64>().ok())
    };
    assert_eq!(sectors(), Some((64 << 20) / 512));
    declare(&s, &format!("{{ size: 96M, export: {{ hosts: [{me}] }} }}"));
    let out = apply_ok(&s);
    assert!(
        out.contains(&format!(
            "~ resize export of volume {VOLUME} (NVMe/TCP at 127.0.0.1:4420)"
        )),
        "{out}"
    );
    wait_for(30, "the host to see 96 MiB", || {
        (sectors() == Some((96 << 20) / 512)).then_some(())
    });

    // a worker killed between its lvextend and the resize: the LV grown, the mark the pass
    // made before its lvextend left (src/reconcile/exports/grown.rs), the host not told
    let mark = PathBuf::from(format!("/run/ember/grown/{vg}/{VOLUME}"));
    std::fs::create_dir_all(mark.parent().unwrap()).unwrap();
    std::fs::write(&mark, "").unwrap();
    run("lvextend", &["-q", "-L", "128M", &device.to_string_lossy()]);
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(sectors(), Some((96 << 20) / 512), "told without a resize");
    declare(
        &s,
        &format!("{{ size: 128M, export: {{ hosts: [{me}] }} }}"),
    );
    let p = s.ember(&["plan"]);
    assert!(
        p.stdout
            .contains(&format!("~ resize export of volume {VOLUME}"))
            && !p.stdout.contains("~ extend"),
        "the resize not planned again: {p:?}"
    );
    apply_ok(&s);
    wait_for(30, "the host to see 128 MiB", || {
        (sectors() == Some((128 << 20) / 512)).then_some(())
    });
    assert!(!mark.exists(), "the mark was left after the resize");

    declare(&s, "{ size: 128M, export: { hosts: [] } }");
    let out = apply_ok(&s);
    assert!(
        out.contains(&format!(
            "- detach host {me} from volume {VOLUME} (NVMe/TCP at 127.0.0.1:4420)"
        )),
        "{out}"
    );
    let t = std::time::Instant::now();
    while live_controllers(&nqn) > 0 {
        assert!(
            t.elapsed().as_secs() < 30,
            "the detached host's controller is still live"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // its reconnection attempts are refused, and the controller is given up
    let t = std::time::Instant::now();
    while controllers(&nqn) > 0 {
        assert!(
            t.elapsed().as_secs() < 90,
            "the detached host's controller was never given up: its reconnects are let in?"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert!(!nvme_connect(&nqn, &me), "a detached host connected");

    // unexported and deleted
    declare(&s, "{ state: absent }");
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(lv(vg, VOLUME).is_none(), "not deleted");
    assert!(
        nvmet::read(Path::new(CONFIGFS))
            .unwrap()
            .subsystem(&nqn)
            .is_none()
    );
}

#[test]
#[ignore = "VM test: tests/vm/run-tests exports"]
fn vm_an_export_whose_port_another_target_holds_on_every_address_says_which() {
    prepare_guest();
    // (what the tests before left: another tool's target of theirs holds iblock_90, and
    // ember's own portals on 127.0.0.1:3260 would keep 0.0.0.0:3260 from being made)
    reset_targets();
    let vg = "vg-decl-wild";
    create_vg(vg);
    let (s, _state) = host(vg, "target_helper = lioadm");
    // another tool's target with targetcli's default portal: 0.0.0.0:3260
    run("lvcreate", &["-q", "-y", "-L", "8M", "-n", "byhand", vg]);
    let other = "iqn.2003-01.org.example:wild";
    // (the iSCSI fabric's group, which its first user makes: ember has made none yet)
    std::fs::create_dir_all(Path::new(CONFIGFS).join("target/iscsi")).unwrap();
    by_hand_target(other, &format!("/dev/{vg}/byhand"));
    let np = PathBuf::from(CONFIGFS)
        .join("target/iscsi")
        .join(other)
        .join("tpgt_1/np/0.0.0.0:3260");
    std::fs::create_dir(&np).unwrap();
    declare(&s, "{ size: 16M, export: { hosts: [] } }");
    let r = s.ember(&["apply"]);
    assert_ne!(r.code, 0, "{r:?}");
    let want = format!(
        "target {other} listens on 0.0.0.0:3260, every address of port 3260, so LIO cannot listen on 127.0.0.1:3260 alone: give that target portals on the addresses it should listen on instead (targetcli: /iscsi/{other}/tpg1/portals create <address> 3260, then delete 0.0.0.0 3260)"
    );
    assert!(r.stdout.contains(&want), "{r:?}");
    let iqn = format!("iqn.2010-10.org.openstack:{VOLUME}");
    assert!(
        lio::read(Path::new(CONFIGFS))
            .unwrap()
            .target(&iqn)
            .is_none(),
        "the failed export was not undone"
    );
    // the operator gives that target its own address's portal instead: exported beside it
    // (LIO shares one listener between targets on the same address and port)
    std::fs::remove_dir(&np).unwrap();
    std::fs::create_dir(np.with_file_name("127.0.0.1:3260")).unwrap();
    apply_ok(&s);
    let t = lio::read(Path::new(CONFIGFS))
        .unwrap()
        .target(&iqn)
        .cloned()
        .unwrap();
    assert_eq!(t.tpgs[0].portals, ["127.0.0.1:3260"]);
    clear_lio();
}
