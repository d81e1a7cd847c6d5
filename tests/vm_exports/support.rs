//! What the exports suite's tests share: the guest made ready as a storage host that is also
//! its own compute host (target modules, configfs, iscsid), a pattern written through an
//! initiator's disk and read back from the LV.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use ember::export::lio;

use super::common::vm::*;

/// configfs's mount point on a host: the root ember's export module is given.
pub const CONFIGFS: &str = "/sys/kernel/config";

/// The modules a storage host that exports (target side) and a compute host (initiator side)
/// load, as the research notes' section 4 lists them.
pub const MODULES: &[&str] = &[
    "configfs",
    "target_core_iblock",
    "iscsi_target_mod",
    "nvmet",
    "nvmet_tcp",
    "iscsi_tcp",
    "nvme_tcp",
];

/// Loads the target and initiator modules, mounts configfs (vm-run's systemd guest masks
/// sys-kernel-config.mount), starts iscsid; panics with the reason when one is missing.
pub fn prepare_guest() {
    require_vm("systemd");
    // every `ember` the suite runs, runs under the shipped unit's sandbox (tests/common's
    // `ember_in`); the initiators, as on a compute host, outside it
    let wrap = std::env::var("VM_EMBER_SANDBOX").unwrap_or_default();
    assert!(
        wrap.ends_with("tests/vm/sandboxed"),
        "the exports suite runs ember under the unit's sandbox: run it with tests/vm/run-tests exports"
    );
    run("modprobe", &[&["-a"], MODULES].concat());
    for m in MODULES {
        assert!(
            Path::new("/sys/module").join(m).is_dir(),
            "module {m} is not loaded"
        );
    }
    if !Path::new(CONFIGFS).join("target").is_dir() {
        run("mount", &["-t", "configfs", "configfs", CONFIGFS]);
    }
    for d in ["target/core", "nvmet/subsystems"] {
        assert!(Path::new(CONFIGFS).join(d).is_dir(), "no {CONFIGFS}/{d}");
    }
    run("ip", &["link", "set", "lo", "up"]);
    run("systemctl", &["start", "iscsid.service"]);
}

/// A test's own state directory (its CHAP store), in the unit's (`StateDirectory=ember`, the
/// one place under /var the sandbox lets ember write).
pub fn state_dir(name: &str) -> PathBuf {
    let d = PathBuf::from(format!("/var/lib/ember/vm-{name}"));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs a command with a time limit; its output whatever the status.
pub fn try_run(secs: u32, cmd: &str, args: &[&str]) -> Output {
    Command::new("timeout")
        .arg(secs.to_string())
        .arg(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"))
}

pub fn shown(o: &Output) -> String {
    format!(
        "{}\n{}{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The first word after `key=` in a file like /etc/iscsi/initiatorname.iscsi, or its one line.
pub fn host_name(file: &str, key: Option<&str>) -> String {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file}: {e}"));
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .find_map(|l| match key {
            Some(k) => l.strip_prefix(k).map(str::to_string),
            None => Some(l.to_string()),
        })
        .unwrap_or_else(|| panic!("no name in {file}"))
}

/// A fresh linear LV of `mib` MiB in a VG of its own; its path.
pub fn volume(vg: &str, name: &str, mib: u32) -> PathBuf {
    create_vg(vg);
    run(
        "lvcreate",
        &["-q", "-y", "-L", &format!("{mib}M"), "-n", name, vg],
    );
    PathBuf::from(format!("/dev/{vg}/{name}"))
}

/// Waits for `f` to give a value, polling every 200 ms up to `secs` seconds.
pub fn wait_for<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < end,
            "timed out after {secs} s waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `len` bytes that are neither zeros nor repeating (an LCG seeded by `seed`).
pub fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 56) as u8
        })
        .collect()
}

/// Writes `data` at the start of the block device `dev`, flushed to the device.
pub fn write_through(dev: &Path, data: &[u8]) {
    let mut f = std::fs::OpenOptions::new().write(true).open(dev).unwrap();
    f.write_all(data).unwrap();
    f.sync_all().unwrap();
}

/// The first `len` bytes of the block device `dev`, past its page cache.
pub fn read_back(dev: &Path, len: usize) -> Vec<u8> {
    run("blockdev", &["--flushbufs", &dev.to_string_lossy()]);
    let mut buf = vec![0u8; len];
    std::fs::File::open(dev)
        .unwrap()
        .read_exact(&mut buf)
        .unwrap();
    buf
}

/// sha256sum of `data`, for messages and the checksum comparison.
pub fn sha256(data: &[u8]) -> String {
    let mut child = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string()
}

pub fn iscsiadm(iqn: &str, extra: &[&str]) -> std::process::Output {
    let args = [
        &["-m", "node", "-T", iqn, "-p", "127.0.0.1:3260"][..],
        extra,
    ]
    .concat();
    try_run(90, "iscsiadm", &args)
}

/// Logs in with the volume's credentials (as os-brick does from the connection info); the
/// login's success.
pub fn login(iqn: &str, user: &str, password: &str) -> bool {
    iscsiadm(iqn, &["-o", "delete"]);
    let o = iscsiadm(iqn, &["-o", "new"]);
    assert!(o.status.success(), "iscsiadm new: {}", shown(&o));
    for (n, v) in [
        ("node.session.auth.authmethod", "CHAP"),
        ("node.session.auth.username", user),
        ("node.session.auth.password", password),
        ("node.session.initial_login_retry_max", "1"),
    ] {
        let o = iscsiadm(iqn, &["-o", "update", "-n", n, "-v", v]);
        assert!(o.status.success(), "iscsiadm update {n}: {}", shown(&o));
    }
    iscsiadm(iqn, &["--login"]).status.success()
}

pub fn logout(iqn: &str) {
    let o = iscsiadm(iqn, &["--logout"]);
    assert!(o.status.success(), "logout: {}", shown(&o));
}

pub fn serial_of(iqn: &str) -> Option<String> {
    let state = lio::read(Path::new(CONFIGFS)).unwrap();
    let t = state.target(iqn)?;
    let bs = state.backstore_at(t.tpgs[0].luns[0].backstore.as_deref()?)?;
    bs.serial.clone()
}

/// Every target removed, as rtslib-fb-targetctl's stop (`targetctl clear`) removes them.
pub fn clear_lio() {
    let root = Path::new(CONFIGFS);
    let state = lio::read(root).unwrap();
    for t in &state.targets {
        let now = lio::read(root).unwrap();
        ember::export::apply(root, &lio::remove_steps(&t.iqn, &now).unwrap()).unwrap();
    }
}

/// The initiator's controllers of the subsystem `nqn` that are live.
pub fn live_controllers(nqn: &str) -> usize {
    std::fs::read_dir("/sys/class/nvme")
        .map(|d| {
            d.flatten()
                .filter(|e| {
                    let read = |f: &str| {
                        std::fs::read_to_string(e.path().join(f))
                            .map(|s| s.trim().to_string())
                            .unwrap_or_default()
                    };
                    read("subsysnqn") == nqn && read("state") == "live"
                })
                .count()
        })
        .unwrap_or(0)
}

pub fn nvme_connect(nqn: &str, hostnqn: &str) -> bool {
    // a controller that loses its connection (a detach) is given up after 5 s of refused
    // reconnects, not the default 600 s
    nvme_connect_with(nqn, hostnqn, &["--ctrl-loss-tmo=5"])
}

/// `nvme connect` to `nqn` on 127.0.0.1:4420 as `hostnqn`, with `extra` options; its success
/// (nvme-cli's output shown when it fails).
pub fn nvme_connect_with(nqn: &str, hostnqn: &str, extra: &[&str]) -> bool {
    let args = [
        "connect",
        "-t",
        "tcp",
        "-a",
        "127.0.0.1",
        "-s",
        "4420",
        "-n",
        nqn,
        "-q",
        hostnqn,
    ];
    let o = try_run(90, "nvme", &[&args[..], extra].concat());
    if !o.status.success() {
        eprintln!("nvme connect as {hostnqn}: {}", shown(&o));
    }
    o.status.success()
}

/// Writes a second pattern (`seed`) after the first `len` bytes of the initiator's `disk`, then
/// checks that the LV at `device` holds both: `first` (written before) and the second.
pub fn write_after_and_check(disk: &Path, device: &Path, first: &[u8], seed: u64) {
    use std::io::{Seek, SeekFrom};
    let len = first.len();
    let second = pattern(seed, len);
    let mut f = std::fs::OpenOptions::new().write(true).open(disk).unwrap();
    f.seek(SeekFrom::Start(len as u64)).unwrap();
    f.write_all(&second).unwrap();
    f.sync_all().unwrap();
    let both = read_back(device, 2 * len);
    assert_eq!(
        sha256(&both[..len]),
        sha256(first),
        "the write before is not on the LV"
    );
    assert_eq!(
        sha256(&both[len..]),
        sha256(&second),
        "the write after is not on the LV"
    );
}

/// The initiator's controllers of the subsystem `nqn`, in any state.
pub fn controllers(nqn: &str) -> usize {
    std::fs::read_dir("/sys/class/nvme")
        .map(|d| {
            d.flatten()
                .filter(|e| {
                    std::fs::read_to_string(e.path().join("subsysnqn"))
                        .is_ok_and(|s| s.trim() == nqn)
                })
                .count()
        })
        .unwrap_or(0)
}

/// The SCSI disk LUN 0 of `iqn` became on this host, through udev's by-path link.
pub fn iscsi_disk(iqn: &str) -> PathBuf {
    let link = format!("/dev/disk/by-path/ip-127.0.0.1:3260-iscsi-{iqn}-lun-0");
    wait_for(60, &link, || std::fs::canonicalize(&link).ok())
}

/// The namespace block device whose `wwid` names `uuid` (the initiator shows nvmet's
/// device_uuid there): the namespace's head (`nvme0n1`), not a hidden path of it
/// (`nvme0c0n1`, no device node: native multipath).
pub fn nvme_disk(uuid: &str) -> PathBuf {
    let want = format!("uuid.{uuid}");
    wait_for(60, &want, || {
        std::fs::read_dir("/sys/block")
            .ok()?
            .flatten()
            .find_map(|e| {
                let wwid = std::fs::read_to_string(e.path().join("wwid")).ok()?;
                let dev = Path::new("/dev").join(e.file_name());
                (wwid.trim() == want && dev.exists()).then_some(dev)
            })
    })
}

/// The kernel's whole target configuration removed, as a reboot leaves it: every initiator
/// session ended, then configfs emptied from the leaves up (links unlinked, directories
/// removed; a default group, which goes with its parent, refuses on its own and is left for
/// it), the fabrics' groups last. What another test left then holds no target module.
pub fn reset_targets() {
    let _ = try_run(60, "iscsiadm", &["-m", "node", "--logoutall=all"]);
    let _ = try_run(60, "nvme", &["disconnect-all"]);
    for top in ["target", "nvmet"] {
        let root = Path::new(CONFIGFS).join(top);
        for _ in 0..12 {
            if !remove_beneath(&root) {
                break;
            }
        }
    }
    // the fabric groups (`target/iscsi`), made at the fabric's first use
    if let Ok(d) = std::fs::read_dir(Path::new(CONFIGFS).join("target")) {
        for e in d.flatten() {
            if e.file_name() != "core" {
                let _ = std::fs::remove_dir(e.path());
            }
        }
    }
}

/// One pass over `dir`'s tree, deepest first: what could be removed was; whether anything was.
fn remove_beneath(dir: &Path) -> bool {
    let Ok(d) = std::fs::read_dir(dir) else {
        return false;
    };
    let mut removed = false;
    for e in d.flatten() {
        let p = e.path();
        let Ok(t) = e.file_type() else { continue };
        if t.is_symlink() {
            removed |= std::fs::remove_file(&p).is_ok();
        } else if t.is_dir() {
            removed |= remove_beneath(&p);
            removed |= std::fs::remove_dir(&p).is_ok();
        }
    }
    removed
}
