//! What the exports suite's tests share: the guest made ready as a storage host that is also
//! its own compute host (target modules, configfs, iscsid), a pattern written through an
//! initiator's disk and read back from the LV.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

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
