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

use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

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

/// The offsets of the metadata areas a PV's label lists, from the device's first
/// [`LABEL_SECTORS`] sectors. `Err` names what is wrong.
pub fn metadata_areas(first: &[u8]) -> Result<Vec<u64>, &'static str> {
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

/// The headers of one PV's metadata areas: (offset, the header sector's bytes).
fn pv_headers(path: &Path) -> Result<Vec<(u64, Vec<u8>)>, StampError> {
    let io = |source| StampError::Io {
        path: path.display().to_string(),
        source,
    };
    let format = |detail| StampError::Format {
        path: path.display().to_string(),
        detail,
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_DIRECT)
        .open(path)
        .map_err(io)?;
    let first = read_block(&file, 0).map_err(io)?;
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
pub fn read(vg: &VgName, pvs: &[PathBuf], files: &[PathBuf]) -> Result<Stamp, StampError> {
    let mut headers = vec![];
    for pv in pvs {
        for (offset, bytes) in pv_headers(pv)? {
            headers.push((pv.clone(), offset, bytes));
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
