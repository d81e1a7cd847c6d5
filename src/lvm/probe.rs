//! Whether a block device is blank, as the system's own prober sees it: what a volume group
//! may be made of or extended with.
//!
//! A device is usable only when `wipefs --no-act --json` (util-linux's libblkid, the prober
//! udev and every installer use) finds no signature on it at all (filesystem, partition table,
//! RAID, LUKS, swap, LVM label, anything), it has no partitions, nothing holds it
//! (`/sys/dev/block/M:m/holders`: device-mapper, md), it is not mounted or used as swap, and it
//! can be opened exclusively (the kernel's own word that nothing has claimed it). Every check
//! is read-only; `wipefs` runs from an argument vector, never a shell (docs/decisions.md).

use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use wait_timeout::ChildExt;

/// A probe that takes longer is killed (and the device refused).
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// One device of a desired volume group, as probed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// The path the desired state lists.
    pub path: PathBuf,
    /// The device node it resolves to (`/dev/vdb`).
    pub node: PathBuf,
    /// Its device number; `None` when it is no block device.
    pub dev: Option<(u64, u64)>,
    /// Its size in bytes.
    pub size: u64,
    /// What makes it unusable, one phrase each (`holds an ext4 filesystem`); empty: blank.
    #[serde(default)]
    pub found: Vec<String>,
}

impl Device {
    pub fn is_blank(&self) -> bool {
        self.found.is_empty()
    }
}

/// Probes `path` (read-only). A device that cannot be probed is not blank.
pub fn probe(path: &Path) -> Device {
    let mut d = Device {
        path: path.to_path_buf(),
        node: path.to_path_buf(),
        dev: None,
        size: 0,
        found: vec![],
    };
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            d.found.push(format!("cannot be read ({e})"));
            return d;
        }
    };
    if !meta.file_type().is_block_device() {
        d.found.push("is not a block device".into());
        return d;
    }
    if let Ok(node) = std::fs::canonicalize(path) {
        d.node = node;
    }
    let dev = (
        u64::from(libc::major(meta.rdev())),
        u64::from(libc::minor(meta.rdev())),
    );
    d.dev = Some(dev);
    let sys = PathBuf::from(format!("/sys/dev/block/{}:{}", dev.0, dev.1));
    d.size = read_trimmed(&sys.join("size"))
        .and_then(|s| s.parse::<u64>().ok())
        .map_or(0, |sectors| sectors * 512);
    d.found.extend(in_use(&sys, dev, &d.node));
    d.found.extend(signatures(&d.node));
    if d.found.is_empty()
        && let Err(e) = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_EXCL)
            .open(&d.node)
    {
        d.found.push(format!(
            "cannot be opened exclusively ({e}): something holds it"
        ));
    }
    d
}

fn read_trimmed(p: &Path) -> Option<String> {
    std::fs::read_to_string(p)
        .ok()
        .map(|s| s.trim().to_string())
}

/// Holders, partitions, mounts and swap: what uses the device besides its signatures.
fn in_use(sys: &Path, dev: (u64, u64), node: &Path) -> Vec<String> {
    let mut found = vec![];
    let names = |dir: PathBuf| -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|r| {
                r.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut holders = names(sys.join("holders"));
    holders.sort();
    if !holders.is_empty() {
        found.push(format!(
            "is held by {} (device-mapper or md)",
            holders.join(", ")
        ));
    }
    let mut parts: Vec<String> = names(sys.to_path_buf())
        .into_iter()
        .filter(|n| sys.join(n).join("partition").exists())
        .collect();
    parts.sort();
    if !parts.is_empty() {
        found.push(format!("has partitions ({})", parts.join(", ")));
    }
    let want = format!("{}:{}", dev.0, dev.1);
    if let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") {
        for l in info.lines() {
            let f: Vec<&str> = l.split(' ').collect();
            if f.get(2) == Some(&want.as_str()) {
                found.push(format!("is mounted at {}", f.get(4).unwrap_or(&"?")));
            }
        }
    }
    if let Ok(swaps) = std::fs::read_to_string("/proc/swaps") {
        let used = swaps.lines().skip(1).any(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|n| Path::new(n) == node)
        });
        if used {
            found.push("is in use as swap".into());
        }
    }
    found
}

#[derive(Deserialize)]
struct Wipefs {
    #[serde(default)]
    signatures: Vec<Signature>,
}
#[derive(Deserialize)]
struct Signature {
    #[serde(rename = "type", default)]
    kind: String,
}

/// What `wipefs --no-act --json` finds on the device, in words; a probe that fails is a
/// finding too (the device is then not blank).
fn signatures(node: &Path) -> Vec<String> {
    let program = ["/usr/sbin/wipefs", "/sbin/wipefs"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("wipefs");
    let out = run(program, node);
    let text = match out {
        Ok(t) => t,
        Err(e) => return vec![format!("cannot be probed ({e})")],
    };
    if text.trim().is_empty() {
        return vec![];
    }
    match serde_json::from_str::<Wipefs>(&text) {
        Ok(w) => {
            let mut found: Vec<String> = vec![];
            for s in w.signatures {
                let phrase = describe(&s.kind);
                if !found.contains(&phrase) {
                    found.push(phrase);
                }
            }
            found
        }
        Err(e) => vec![format!(
            "cannot be probed (wipefs said something unexpected: {e})"
        )],
    }
}

/// `wipefs --no-act --json -- NODE`, its standard output; killed after [`PROBE_TIMEOUT`].
fn run(program: &str, node: &Path) -> Result<String, String> {
    let mut child = Command::new(program)
        .args(["--no-act", "--json", "--"])
        .arg(node)
        .env_clear()
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{program}: {e}"))?;
    let mut out_pipe = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(p) = out_pipe.as_mut() {
            let _ = p.read_to_string(&mut s);
        }
        s
    });
    let status = match child.wait_timeout(PROBE_TIMEOUT) {
        Ok(Some(s)) => s,
        Ok(None) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{program} took longer than {PROBE_TIMEOUT:?}"));
        }
        Err(e) => return Err(format!("{program}: {e}")),
    };
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        let mut err = String::new();
        if let Some(mut p) = child.stderr.take() {
            let _ = p.read_to_string(&mut err);
        }
        return Err(format!("{program} failed ({status}): {}", err.trim()));
    }
    Ok(out)
}

/// A signature's type as an operator reads it.
pub fn describe(kind: &str) -> String {
    match kind {
        "LVM2_member" | "LVM1_member" => "holds an LVM label (a physical volume)".into(),
        "gpt" | "dos" | "PMBR" | "sun" | "bsd" | "mac" | "sgi" | "atari" => {
            format!("holds a {kind} partition table")
        }
        "crypto_LUKS" => "holds a LUKS header (an encrypted volume)".into(),
        "linux_raid_member" | "isw_raid_member" | "ddf_raid_member" => {
            format!("holds a RAID member signature ({kind})")
        }
        "swap" => "holds a swap signature".into(),
        "ext2" | "ext3" | "ext4" | "xfs" | "btrfs" | "vfat" | "exfat" | "ntfs" | "f2fs" | "jfs"
        | "reiserfs" | "iso9660" | "squashfs" | "zfs_member" | "bcache" => {
            let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u', 'x']) {
                "an"
            } else {
                "a"
            };
            format!("holds {article} {kind} filesystem")
        }
        "" => "holds an unnamed signature".into(),
        other => format!("holds a {other} signature"),
    }
}

#[cfg(test)]
mod tests;
