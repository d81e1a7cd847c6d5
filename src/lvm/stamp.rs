//! Knowing that a volume group is still as it was last read, without asking lvm.
//!
//! Every lvm command that reads a VG parses its whole text metadata (at 1000 volumes that is
//! most of an `lvs`), so no lvm command can say "unchanged" cheaply. LVM itself detects a
//! change by the metadata area header of each physical volume: every commit writes the new
//! text after the old one and rewrites the header's committed location (offset, size and the
//! checksum of a text that holds the incremented `seqno`) on every metadata area in use; a
//! commit in flight shows in the header's second (precommitted) slot. lvm writes them with
//! `O_DIRECT`; they are read here the same way. An activation changes no metadata: the
//! kernel's device-mapper devices of the VG are the other half (their names, [`super::dm`]).
//!
//! A [`Stamp`] is those bytes and names. Two equal stamps, the first read before a full read,
//! mean the full read still describes the VG's metadata and which of its LVs have a device.
//! Anything unreadable or unexpected is an error, and the caller reads lvm in full.
//!
//! The PVs are those of the last full read, and a path there may since name something else: a
//! missing PV is `[unknown]` (relative: it would be opened in the current directory), a FIFO
//! would block the open while the caller holds the VG's lock, and an old path may now name a
//! clone (an array snapshot) of the PV. So a PV is read only at an absolute path that names a
//! block device with the device number lvm reported (looked at through an `O_PATH` descriptor,
//! which opens nothing), opened through that very descriptor, and only when its label carries
//! the PV's UUID. A PV lvm reported without a device number is no stamp: a full read.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::fcntl::{self, OFlag};
use nix::libc;
use nix::sys::stat::{self, Mode};

use super::Pv;
use crate::names::VgName;

/// The physical volumes' metadata area headers, the VG's device-mapper devices, and which
/// lvm and which configuration of it read them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stamp {
    headers: Vec<(PathBuf, u64, Vec<u8>)>,
    devices: Vec<String>,
    /// The lvm binary and its configuration files (an upgraded lvm or an edited filter can
    /// report the same metadata differently): `None` for one that does not exist.
    files: Vec<(PathBuf, Option<FileId>)>,
}

/// A file as `stat` identifies it: a changed file has another inode, size or mtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileId {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: i64,
    mtime_nsec: i64,
}

impl FileId {
    /// The identity of the file at `path` (links followed); `None` when there is none.
    pub fn of(path: &Path) -> Option<FileId> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).ok()?;
        Some(FileId {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: m.mtime(),
            mtime_nsec: m.mtime_nsec(),
        })
    }
}

impl Stamp {
    /// The stamp of a simulated LVM: its whole state file (the simulator keeps the kernel's
    /// side in it too).
    pub fn of_contents(contents: Vec<u8>) -> Stamp {
        Stamp {
            headers: vec![(PathBuf::new(), 0, contents)],
            devices: vec![],
            files: vec![],
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StampError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {detail}")]
    Format { path: String, detail: &'static str },
    #[error("physical volume {path}: {detail}")]
    Device { path: String, detail: String },
    #[error("device-mapper: {0}")]
    Dm(String),
    #[error("no physical volume of the volume group has a metadata area")]
    NoMetadataArea,
}

const SECTOR: usize = 512;
/// lvm looks for its label in the first four sectors.
const LABEL_SECTORS: usize = 4;
const LABEL_ID: &[u8] = b"LABELONE";
const LABEL_TYPE: &[u8] = b"LVM2 001";
/// The metadata area header's magic (`FMTT_MAGIC`).
const MDA_MAGIC: &[u8] = b" LVM2 x[5A%r0N*>";
/// What is read at once: one page, aligned, as `O_DIRECT` wants.
const BLOCK: usize = 4096;

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// The label's sector and where its `pv_header` starts in it.
fn label(first: &[u8]) -> Result<(&[u8], usize), &'static str> {
    let sector = (0..LABEL_SECTORS)
        .find(|s| first.get(s * SECTOR..s * SECTOR + 8) == Some(LABEL_ID))
        .ok_or("no LVM label in its first sectors")?;
    let label = first
        .get(sector * SECTOR..(sector + 1) * SECTOR)
        .ok_or("short label")?;
    if label.get(24..32) != Some(LABEL_TYPE) {
        return Err("not an LVM2 text-format label");
    }
    let contents = u32_at(label, 20).ok_or("short label")? as usize;
    Ok((label, contents))
}

/// The PV's UUID its label carries (32 characters, lvm prints them with dashes).
pub fn label_uuid(first: &[u8]) -> Result<&[u8], &'static str> {
    let (label, contents) = label(first)?;
    label
        .get(contents..contents + 32)
        .ok_or("pv_header runs past its sector")
}

/// The offsets of the metadata areas a PV's label lists, from the device's first
/// [`LABEL_SECTORS`] sectors. `Err` names what is wrong.
pub fn metadata_areas(first: &[u8]) -> Result<Vec<u64>, &'static str> {
    let (label, contents) = label(first)?;
    // pv_header: uuid (32), device size (8), then {offset, size} lists ended by {0, 0}: the
    // data areas, then the metadata areas
    let mut at = contents + 40;
    let mut lists = [Vec::new(), Vec::new()];
    for list in &mut lists {
        loop {
            let offset = u64_at(label, at).ok_or("pv_header runs past its sector")?;
            at += 16;
            if offset == 0 {
                break;
            }
            list.push(offset);
        }
    }
    let [_, mdas] = lists;
    Ok(mdas)
}

/// Checks a metadata area header sector: its magic.
pub fn check_header(sector: &[u8]) -> Result<(), &'static str> {
    match sector.get(4..20) {
        Some(m) if m == MDA_MAGIC => Ok(()),
        _ => Err("no metadata area header where the label says"),
    }
}

/// Reads `BLOCK` bytes at `offset` (a multiple of it) with `O_DIRECT`, past the page cache.
fn read_block(file: &std::fs::File, offset: u64) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0u8; 2 * BLOCK];
    let skip = buf.as_ptr().align_offset(BLOCK);
    let aligned = &mut buf[skip..skip + BLOCK];
    let n = file.read_at(aligned, offset)?;
    Ok(aligned[..n].to_vec())
}

/// Whether what `fstat` says (`mode`, `rdev`) is the block device `want` (major, minor).
pub fn check_device(mode: u32, rdev: u64, want: (u64, u64)) -> Result<(), String> {
    let kind = mode & libc::S_IFMT;
    if kind != libc::S_IFBLK {
        let what = match kind {
            libc::S_IFIFO => "a FIFO",
            libc::S_IFREG => "a regular file",
            libc::S_IFDIR => "a directory",
            libc::S_IFCHR => "a character device",
            libc::S_IFSOCK => "a socket",
            _ => "not a device",
        };
        return Err(format!("is {what}, not a block device"));
    }
    let found = (stat::major(rdev), stat::minor(rdev));
    if found != want {
        return Err(format!(
            "is the device {}:{}, not the physical volume's {}:{} (another device under its old name, such as a clone)",
            found.0, found.1, want.0, want.1
        ));
    }
    Ok(())
}

/// Whether the label's UUID is `uuid` as lvm prints it.
pub fn same_uuid(label: &[u8], uuid: &str) -> bool {
    let want: Vec<u8> = uuid.bytes().filter(|b| *b != b'-').collect();
    want.len() == 32 && label == want.as_slice()
}

/// Opens the PV `pv` for reading (`O_DIRECT`), only when its name is an absolute path to the
/// block device lvm reported: looked at first through an `O_PATH` descriptor (nothing is
/// opened: a FIFO does not block), then opened through that descriptor.
fn open_pv(pv: &Pv) -> Result<std::fs::File, StampError> {
    let path = &pv.name;
    let refuse = |detail: String| StampError::Device {
        path: path.display().to_string(),
        detail,
    };
    if !path.is_absolute() {
        return Err(refuse(
            "not an absolute path (a missing physical volume is [unknown])".into(),
        ));
    }
    let want = pv
        .dev
        .ok_or_else(|| refuse("lvm reported no device number".into()))?;
    let io = |e: nix::errno::Errno| refuse(e.desc().to_string());
    let look: OwnedFd =
        fcntl::open(path, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty()).map_err(io)?;
    let st = stat::fstat(&look).map_err(io)?;
    check_device(st.st_mode, st.st_rdev, want).map_err(refuse)?;
    // the very inode looked at (an O_PATH descriptor cannot be read)
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECT | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(format!("/proc/self/fd/{}", look.as_raw_fd()))
        .map_err(|e| refuse(e.to_string()))?;
    let again = stat::fstat(&file).map_err(io)?;
    if (again.st_dev, again.st_ino) != (st.st_dev, st.st_ino) {
        return Err(refuse("changed while it was opened".into()));
    }
    check_device(again.st_mode, again.st_rdev, want).map_err(refuse)?;
    Ok(file)
}

/// The headers of one PV's metadata areas: (offset, the header sector's bytes).
fn pv_headers(pv: &Pv) -> Result<Vec<(u64, Vec<u8>)>, StampError> {
    let path = &pv.name;
    let io = |source| StampError::Io {
        path: path.display().to_string(),
        source,
    };
    let format = |detail| StampError::Format {
        path: path.display().to_string(),
        detail,
    };
    let file = open_pv(pv)?;
    let first = read_block(&file, 0).map_err(io)?;
    if !same_uuid(label_uuid(&first).map_err(format)?, &pv.uuid) {
        return Err(format(
            "its label carries another UUID than the physical volume's",
        ));
    }
    let mut out = vec![];
    for offset in metadata_areas(&first).map_err(format)? {
        let block = offset - offset % BLOCK as u64;
        let bytes = read_block(&file, block).map_err(io)?;
        let at = (offset - block) as usize;
        let sector = bytes
            .get(at..at + SECTOR)
            .ok_or_else(|| format("short read"))?;
        check_header(sector).map_err(format)?;
        out.push((offset, sector.to_vec()));
    }
    Ok(out)
}

/// The device-mapper name prefix of a VG's LVs: `vg-lv`, with every `-` of each doubled.
fn dm_prefix(vg: &VgName) -> String {
    format!("{}-", vg.as_str().replace('-', "--"))
}

/// The names of `vg`'s devices (LVs and their hidden layers) among device-mapper's, sorted.
pub fn vg_devices(all: Vec<String>, vg: &VgName) -> Vec<String> {
    let prefix = dm_prefix(vg);
    let mut names: Vec<String> = all.into_iter().filter(|n| n.starts_with(&prefix)).collect();
    names.sort();
    names
}

/// Reads the stamp of `vg`, whose physical volumes are `pvs` (as the last full read listed
/// them: a PV added or removed is a commit on the others), read by lvm with `files` (its
/// binary and configuration).
pub fn read(vg: &VgName, pvs: &[Pv], files: &[PathBuf]) -> Result<Stamp, StampError> {
    let mut headers = vec![];
    for pv in pvs {
        for (offset, bytes) in pv_headers(pv)? {
            headers.push((pv.name.clone(), offset, bytes));
        }
    }
    if headers.is_empty() {
        return Err(StampError::NoMetadataArea);
    }
    Ok(Stamp {
        headers,
        devices: vg_devices(super::dm::device_names().map_err(StampError::Dm)?, vg),
        files: files.iter().map(|f| (f.clone(), FileId::of(f))).collect(),
    })
}

#[cfg(test)]
mod tests;
