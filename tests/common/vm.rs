//! Support for tests that run inside the QEMU guest (tests/vm/run-tests): real LVM, real
//! systemd. Every VM test is `#[ignore]` so plain `cargo test` skips it, and calls
//! [`require_vm`] first so that running it anywhere but in the guest fails loudly.
#![allow(dead_code)]

use std::fs::OpenOptions;
use std::io::{Read, Seek, Write};
use std::process::Command;

/// Panics unless running inside the guest in the given mode (`chroot` or `systemd`).
pub fn require_vm(mode: &str) {
    match std::env::var("VM_MODE") {
        Ok(m) if m == mode => {}
        Ok(m) => panic!("this test needs the {mode} guest, not {m}: run tests/vm/run-tests"),
        Err(_) => panic!("this is a VM test: run it with tests/vm/run-tests, not on the host"),
    }
}

/// Panics unless running inside the systemd guest under the sandbox of `units/ember.service`
/// (tests/vm/sandboxed sets `VM_SANDBOX`): the lvm suite runs every lvm and ember command under
/// the restrictions the daemon has.
pub fn require_sandboxed_vm() {
    require_vm("systemd");
    assert_eq!(
        std::env::var("VM_SANDBOX").as_deref(),
        Ok("units/ember.service"),
        "this test runs under the unit's sandbox: run it with tests/vm/run-tests lvm"
    );
    // and the sandbox is there: a system call filter, no new privileges, a private /tmp
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    for want in ["Seccomp:\t2", "NoNewPrivs:\t1"] {
        assert!(
            status.lines().any(|l| l == want),
            "not sandboxed: no {want:?} in /proc/self/status"
        );
    }
}

/// Runs a program the way another tool on the host would run it: outside the unit's sandbox
/// when the suite runs under it (a transient service of its own, through systemd), as
/// cinder-volume runs in its own unit. `envs` is all of its environment beside systemd's.
pub fn run_outside_sandbox(
    program: &str,
    args: &[&str],
    envs: &[(&str, &str)],
) -> std::process::Output {
    let mut cmd = if std::env::var_os("VM_SANDBOX").is_some() {
        let mut c = Command::new("systemd-run");
        c.args([
            "--wait",
            "--pipe",
            "--quiet",
            "--collect",
            "--service-type=exec",
        ]);
        for (k, v) in envs {
            c.arg(format!("--setenv={k}={v}"));
        }
        c.arg("--").arg(program);
        c
    } else {
        let mut c = Command::new(program);
        c.envs(envs.iter().copied());
        c
    };
    cmd.args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

/// Claims one of the guest's blank disks for this test alone (the tests of one boot share the
/// disks; a counter under /run, which is the guest's own tmpfs, hands each out once).
pub fn claim_disk() -> String {
    let disks: Vec<String> = std::env::var("VM_DISKS")
        .unwrap_or_default()
        .split_whitespace()
        .map(String::from)
        .collect();
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open("/run/ember-vm-disks")
        .expect("open disk counter");
    let mut f = nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| e)
        .expect("flock");
    let mut s = String::new();
    f.read_to_string(&mut s).expect("read counter");
    let next: usize = s.trim().parse().unwrap_or(0);
    assert!(
        next < disks.len(),
        "out of VM disks ({} claimed): give the suite more --disk in tests/vm/run-tests",
        disks.len()
    );
    f.set_len(0).expect("truncate");
    f.rewind().expect("rewind");
    write!(f, "{}", next + 1).expect("write counter");
    disks[next].clone()
}

/// Runs a command, asserts success, returns stdout.
pub fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A fresh volume group on a disk of its own.
pub fn create_vg(name: &str) -> String {
    let disk = claim_disk();
    run("pvcreate", &["-q", &disk]);
    run("vgcreate", &["-q", name, &disk]);
    disk
}

/// One LV as the guest's own `lvs` reports it (independent of ember's parser).
#[derive(Debug, Clone, PartialEq)]
pub struct Lv {
    pub name: String,
    pub size: u64,
    pub attr: String,
    pub pool: String,
    /// Comma-separated, sorted.
    pub tags: String,
}

pub fn lvs(vg: &str) -> Vec<Lv> {
    let out = run(
        "lvs",
        &[
            "--reportformat",
            "json",
            "--units",
            "b",
            "--nosuffix",
            "-o",
            "lv_name,lv_size,lv_attr,pool_lv,lv_tags",
            vg,
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&out).expect("lvs json");
    v["report"][0]["lv"]
        .as_array()
        .expect("lv array")
        .iter()
        .map(|l| Lv {
            name: l["lv_name"].as_str().unwrap_or_default().into(),
            size: l["lv_size"].as_str().unwrap_or("0").parse().expect("size"),
            attr: l["lv_attr"].as_str().unwrap_or_default().into(),
            pool: l["pool_lv"].as_str().unwrap_or_default().into(),
            // sorted: lvm keeps tags in an order of its own
            tags: {
                let mut t: Vec<&str> = l["lv_tags"]
                    .as_str()
                    .unwrap_or_default()
                    .split(',')
                    .filter(|t| !t.is_empty())
                    .collect();
                t.sort_unstable();
                t.join(",")
            },
        })
        .collect()
}

pub fn lv(vg: &str, name: &str) -> Option<Lv> {
    lvs(vg).into_iter().find(|l| l.name == name)
}

/// One numeric field of `vgs` (bytes).
fn vgs_field(vg: &str, field: &str) -> u64 {
    run(
        "vgs",
        &[
            "--noheadings",
            "--units",
            "b",
            "--nosuffix",
            "-o",
            field,
            vg,
        ],
    )
    .trim()
    .parse()
    .unwrap_or_else(|e| panic!("vgs {field} {vg}: {e}"))
}

pub fn vg_size(vg: &str) -> u64 {
    vgs_field(vg, "vg_size")
}

pub fn vg_free(vg: &str) -> u64 {
    vgs_field(vg, "vg_free")
}

/// `lvs` of `target` (a VG, or VG/LV), `fields` comma-separated, in bytes: one row of trimmed
/// fields per LV (`all` includes hidden LVs such as `[lvol0_pmspare]`).
pub fn lvs_rows(target: &str, fields: &str, all: bool) -> Vec<Vec<String>> {
    let mut args = vec![
        "--noheadings",
        "--units",
        "b",
        "--nosuffix",
        "--separator",
        ";",
        "-o",
        fields,
    ];
    if all {
        args.push("-a");
    }
    args.push(target);
    run("lvs", &args)
        .lines()
        .map(|l| l.trim().split(';').map(|f| f.trim().to_string()).collect())
        .collect()
}
