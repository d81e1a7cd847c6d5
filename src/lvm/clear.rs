//! Wiping an LV before it is removed, as cinder's LVM driver does (`volume_clear = zero`):
//! zeroes written over its first bytes, so that the next LV on the freed extents cannot read
//! them.
//!
//! The device is opened once, by its device-mapper name, and then proven to be the LV the plan
//! deletes before anything is written: a block device whose number is the one lvm reported, a
//! device-mapper device whose UUID is the LV's (`LVM-<vg uuid><lv uuid>`), open by nothing
//! else (`O_EXCL`, and its open count), a plain table (`linear`/`striped`: never the origin of a
//! COW snapshot, which a write would copy into the snapshot), of the size lvm reported. Every
//! write goes through that one descriptor: nothing is looked up by name again.
//!
//! It writes with `O_DIRECT` (no page cache is filled with zeroes, as cinder's `dd oflag=direct`)
//! from a thread of its own whose I/O priority is `volume_clear_ionice`'s (`ioprio_set(2)`, as
//! `ionice` would set dd's), then flushes the device's cache; `stop` is looked at between writes.

use std::fs::File;
use std::os::unix::fs::{FileExt, FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use super::{LvmError, dm};
use crate::names::{LvName, LvUuid, VgName};

/// What one wipe writes, and what the LV it writes must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClearTarget {
    pub lv: LvName,
    /// `lv_uuid` as lvm reported it when the plan was made: the device must be that LV's, and
    /// the tag and the `lvremove` around the clear are bound to it ([`ClearTarget::reference`]).
    pub uuid: LvUuid,
    /// Its device's number as lvm reported it (`None`: it had no device, it is activated first).
    pub device: Option<(u32, u32)>,
    /// Its size as lvm reported it: the device must be as large.
    pub size: u64,
    /// How many bytes from its start are zeroed (at most `size`).
    pub bytes: u64,
    pub ioprio: Option<IoPriority>,
}

/// The I/O priority the writing thread takes (`ioprio_set(2)`'s value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoPriority {
    pub value: u16,
    /// `ionice -t`: one the kernel refuses is ignored (the wipe runs at the usual priority).
    pub ignore_failure: bool,
}

impl ClearTarget {
    /// The LV as planned: what the writes before and after the clear are bound to.
    pub fn reference(&self) -> super::LvRef {
        super::LvRef::new(&self.lv, &self.uuid)
    }
}

/// Bytes per write.
const CHUNK: usize = 4 << 20;
/// The buffer's alignment: enough for `O_DIRECT` on any logical block size.
const ALIGN: usize = 4096;

/// lvm's device-mapper name of `vg/lv`: each `-` doubled, joined by one.
pub fn dm_name(vg: &VgName, lv: &LvName) -> String {
    format!(
        "{}-{}",
        vg.as_str().replace('-', "--"),
        lv.as_str().replace('-', "--")
    )
}

/// Clears `t` in `vg` (active: it has a device): the device opened and proven, then `ready`,
/// then `busy` (the write is under way), then the zeroes. `progress` is told the bytes written
/// so far.
pub fn clear_device(
    vg: &VgName,
    t: &ClearTarget,
    stop: &AtomicBool,
    ready: &dyn Fn() -> Result<(), LvmError>,
    busy: &dyn Fn(),
    progress: &dyn Fn(u64),
) -> Result<(), LvmError> {
    let err = |detail| LvmError::Clear {
        lv: format!("{vg}/{}", t.lv),
        detail,
    };
    let path = PathBuf::from("/dev/mapper").join(dm_name(vg, &t.lv));
    let file = open(&path).map_err(err)?;
    let block = verify(&file, &path, t).map_err(err)?;
    // held open (exclusively) from here on: what must be recorded first, then the zeroes
    ready()?;
    busy();
    let bytes = t.bytes.min(t.size).div_ceil(block) * block;
    write_zeroes(&file, bytes.min(t.size), t.ioprio, stop, progress).map_err(err)?;
    // the descriptor closes here, before the caller's lvremove
    Ok(())
}

/// Opens the device for writing, exclusively (a mounted or otherwise claimed device fails
/// with `EBUSY`), with `O_DIRECT` where the device takes it.
fn open(path: &Path) -> Result<File, String> {
    let open = |flags: i32| {
        std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(flags | libc::O_EXCL | libc::O_CLOEXEC)
            .open(path)
    };
    match open(libc::O_DIRECT) {
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => open(0),
        r => r,
    }
    .map_err(|e| match e.raw_os_error() {
        Some(libc::EBUSY) => format!(
            "{}: in use (mounted, or claimed by another device or program): not cleared, not removed",
            path.display()
        ),
        _ => format!("{}: {e}", path.display()),
    })
}

nix::ioctl_read_bad!(blksszget, 0x1268, libc::c_int);

/// Proves that `file` is the LV `t` names; returns its logical block size.
fn verify(file: &File, path: &Path, t: &ClearTarget) -> Result<u64, String> {
    let p = path.display();
    let m = file.metadata().map_err(|e| format!("{p}: {e}"))?;
    if !m.file_type().is_block_device() {
        return Err(format!("{p} is not a block device"));
    }
    let (major, minor) = (
        nix::sys::stat::major(m.rdev()) as u32,
        nix::sys::stat::minor(m.rdev()) as u32,
    );
    if let Some((ma, mi)) = t.device
        && (ma, mi) != (major, minor)
    {
        return Err(format!(
            "{p} is device {major}:{minor}, lvm reported {ma}:{mi} for the LV: not the LV the plan deletes (it changed since it was read)"
        ));
    }
    let info = dm::device(major, minor)?
        .ok_or_else(|| format!("{p} ({major}:{minor}) is not a device-mapper device"))?;
    let want = t.uuid.as_str().replace('-', "");
    let theirs = info.uuid.strip_prefix("LVM-").unwrap_or_default();
    if want.len() != 32 || theirs.len() != 64 || !theirs.ends_with(&want) {
        return Err(format!(
            "{p} is device-mapper device {} (uuid {:?}), not the LV {} with uuid {}: not the LV the plan deletes",
            info.name, info.uuid, t.lv, t.uuid
        ));
    }
    if info.open_count != 1 {
        return Err(format!(
            "{p} is open {} time(s) besides ember's (attached, mounted or held by another device): not cleared, not removed",
            info.open_count - 1
        ));
    }
    if info.targets.is_empty() || info.targets.iter().any(|k| k != "linear" && k != "striped") {
        return Err(format!(
            "{p}'s table is {} (a snapshot's origin, or not a plain volume): ember clears only plain (linear) volumes; a write to an origin would be copied into its snapshots",
            info.targets.join(", ")
        ));
    }
    let size = device_size(file).map_err(|e| format!("{p}: its size: {e}"))?;
    if size != t.size {
        return Err(format!(
            "{p} is {size} bytes, lvm reported {}: not the LV the plan deletes (it changed since it was read)",
            t.size
        ));
    }
    let mut block: libc::c_int = 0;
    // SAFETY: BLKSSZGET writes one int through the pointer, to a local that outlives the call.
    unsafe { blksszget(std::os::fd::AsRawFd::as_raw_fd(file), &mut block) }
        .map_err(|e| format!("{p}: its logical block size: {e}"))?;
    Ok(u64::try_from(block).unwrap_or(512).max(512))
}

/// `lseek(SEEK_END)`: a block device's size.
fn device_size(mut file: &File) -> std::io::Result<u64> {
    use std::io::Seek;
    let end = file.seek(std::io::SeekFrom::End(0))?;
    file.seek(std::io::SeekFrom::Start(0))?;
    Ok(end)
}

/// Writes `bytes` zeroes from the start of `file`, from a thread at `prio`, then flushes the
/// device's cache. `progress` runs on the caller's thread.
fn write_zeroes(
    file: &File,
    bytes: u64,
    prio: Option<IoPriority>,
    stop: &AtomicBool,
    progress: &dyn Fn(u64),
) -> Result<(), String> {
    let (tx, rx) = std::sync::mpsc::channel::<u64>();
    std::thread::scope(|s| {
        let writer = std::thread::Builder::new()
            .name("ember-clear".into())
            .spawn_scoped(s, move || -> Result<(), String> {
                if let Some(p) = prio {
                    set_ioprio(p)?;
                }
                let buf = vec![0u8; CHUNK + ALIGN];
                let off = buf.as_ptr().align_offset(ALIGN);
                let zeroes = buf.get(off..off + CHUNK).ok_or("no aligned buffer")?;
                let mut at = 0u64;
                while at < bytes {
                    if stop.load(Ordering::Relaxed) {
                        return Err(format!(
                            "interrupted after {at} of {bytes} bytes: ember is stopping (the LV keeps its tag {}<uuid>, and the next pass clears it again and removes it)",
                            crate::names::CLEARING_TAG_PREFIX
                        ));
                    }
                    let n = (bytes - at).min(CHUNK as u64) as usize;
                    file.write_all_at(&zeroes[..n], at)
                        .map_err(|e| format!("writing at byte {at}: {e}"))?;
                    at += n as u64;
                    let _ = tx.send(at);
                }
                file.sync_data()
                    .map_err(|e| format!("flushing the device's cache: {e}"))
            })
            .map_err(|e| format!("cannot start the clear's thread: {e}"))?;
        for n in rx {
            progress(n);
        }
        writer
            .join()
            .map_err(|_| "the clear's thread panicked".to_string())?
    })
}

/// The calling thread's I/O priority (`ioprio_set(IOPRIO_WHO_PROCESS, 0, ...)`: this thread
/// alone).
fn set_ioprio(p: IoPriority) -> Result<(), String> {
    const IOPRIO_WHO_PROCESS: libc::c_long = 1;
    // SAFETY: ioprio_set takes three integers and touches no memory of this process.
    let r = unsafe {
        libc::syscall(
            libc::SYS_ioprio_set,
            IOPRIO_WHO_PROCESS,
            0 as libc::c_long,
            libc::c_long::from(p.value),
        )
    };
    if r == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    if p.ignore_failure {
        tracing::warn!(
            "cannot set the clear's I/O priority ({e}); ionice -t: clearing at the usual priority"
        );
        return Ok(());
    }
    Err(format!(
        "cannot set the clear's I/O priority (volume_clear_ionice): {e}"
    ))
}

#[cfg(test)]
mod tests;
