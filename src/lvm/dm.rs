//! The kernel's list of device-mapper devices, in one ioctl (`DM_LIST_DEVICES` on
//! `/dev/mapper/control`, as `dmsetup ls` asks it).
//!
//! Why not sysfs: reading `/sys/block/dm-*/dm/name` costs a few system calls per device
//! (0.5 s for 1000 devices under TCG, measured: `bench/run --read`), the ioctl one. Why not
//! the `devicemapper` crate: it generates its bindings with bindgen (libclang at build time)
//! for this one call; the ABI used here is the kernel's stable `linux/dm-ioctl.h` (version 4).

use std::os::fd::AsRawFd;

/// `struct dm_ioctl` of `linux/dm-ioctl.h`: the header of every device-mapper ioctl.
#[repr(C)]
struct DmIoctl {
    version: [u32; 3],
    data_size: u32,
    data_start: u32,
    target_count: u32,
    open_count: i32,
    flags: u32,
    event_nr: u32,
    padding: u32,
    dev: u64,
    name: [u8; 128],
    uuid: [u8; 129],
    data: [u8; 7],
}

const HEADER: usize = std::mem::size_of::<DmIoctl>();
const _: () = assert!(HEADER == 312);
/// The kernel set this: the result did not fit, ask again with a bigger buffer.
const BUFFER_FULL: u32 = 1 << 8;

nix::ioctl_readwrite!(dm_list_devices, 0xfd, 2, DmIoctl);
nix::ioctl_readwrite!(dm_dev_status, 0xfd, 7, DmIoctl);
nix::ioctl_readwrite!(dm_table_status, 0xfd, 12, DmIoctl);
/// `DM_NOFLUSH_FLAG`: a thin pool's status without committing its metadata first (as lvm asks it).
const NOFLUSH: u32 = 1 << 11;
/// `struct dm_target_spec`: sector_start, length (u64), status (i32), next (u32), target_type[16].
const TARGET_SPEC: usize = 40;

/// device-mapper's control node, where its ioctls go.
fn control() -> Result<std::fs::File, String> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/mapper/control")
        .map_err(|e| format!("/dev/mapper/control: {e}"))
}

/// One ioctl's buffer: a `DmIoctl` header, then what the kernel writes. u64 words: aligned as
/// the header and the kernel's entries need.
struct Request {
    buf: Vec<u64>,
}

impl Request {
    fn new(words: usize, flags: u32, name: &str) -> Request {
        let mut r = Request {
            buf: vec![0u64; words],
        };
        let len = words * 8;
        let h = r.header();
        h.version = [4, 0, 0];
        h.data_size = len as u32;
        h.data_start = HEADER as u32;
        h.flags = flags;
        h.name[..name.len()].copy_from_slice(name.as_bytes());
        r
    }

    /// A request about the device whose number is `major:minor` (no name, no uuid: the kernel
    /// then finds the device by its number).
    fn for_device(words: usize, major: u32, minor: u32) -> Request {
        let mut r = Request::new(words, 0, "");
        r.header().dev = encode_dev(major, minor);
        r
    }

    fn header(&mut self) -> &mut DmIoctl {
        // SAFETY: `buf` is zeroed or kernel-written, 8-byte aligned and at least HEADER bytes
        // long (every caller asks for more), so it holds a valid `DmIoctl` (plain integers and
        // byte arrays) at its start; the header tells the kernel the buffer's length.
        unsafe { &mut *(self.buf.as_mut_ptr() as *mut DmIoctl) }
    }

    /// What the kernel wrote after the header.
    fn data(&mut self) -> &[u8] {
        let start = self.header().data_start as usize;
        // SAFETY: the same buffer as bytes: `buf.len() * 8` initialised bytes.
        let bytes = unsafe {
            std::slice::from_raw_parts(self.buf.as_ptr() as *const u8, self.buf.len() * 8)
        };
        bytes.get(start..).unwrap_or_default()
    }
}

/// The names of all device-mapper devices. `Err` with the reason when the kernel cannot be
/// asked (no device-mapper, no permission).
pub fn device_names() -> Result<Vec<String>, String> {
    let control = control()?;
    let mut words = 16 * 1024; // 128 KiB, then doubled while the kernel says full
    loop {
        let mut r = Request::new(words, 0, "");
        // SAFETY: the pointer is to a buffer of `data_size` bytes, as the ioctl requires.
        unsafe { dm_list_devices(control.as_raw_fd(), r.header()) }
            .map_err(|e| format!("DM_LIST_DEVICES: {e}"))?;
        if r.header().flags & BUFFER_FULL != 0 {
            if words >= 16 * 1024 * 64 {
                return Err("DM_LIST_DEVICES: the list does not fit in 8 MiB".into());
            }
            words *= 2;
            continue;
        }
        return parse_names(r.data());
    }
}

/// The status line of the device-mapper device `name`'s first target, with its type
/// (`thin-pool`, ...). `Ok(None)`: no such device.
pub fn status(name: &str) -> Result<Option<(String, String)>, String> {
    if name.len() >= 128 || name.contains('\0') {
        return Err(format!("{name:?}: not a device-mapper name"));
    }
    let control = control()?;
    let mut r = Request::new(2048, NOFLUSH, name); // 16 KiB: one target's status line
    // SAFETY: the pointer is to a buffer of `data_size` bytes, as the ioctl requires.
    match unsafe { dm_table_status(control.as_raw_fd(), r.header()) } {
        Ok(_) => {}
        Err(nix::errno::Errno::ENXIO) => return Ok(None),
        Err(e) => return Err(format!("DM_TABLE_STATUS {name}: {e}")),
    }
    let h = r.header();
    if h.flags & BUFFER_FULL != 0 {
        return Err(format!("DM_TABLE_STATUS {name}: the status does not fit"));
    }
    if h.target_count == 0 {
        return Ok(None);
    }
    parse_status(r.data()).map(Some)
}

/// The kernel's `huge_encode_dev`: how a device number travels in `struct dm_ioctl`.
pub fn encode_dev(major: u32, minor: u32) -> u64 {
    u64::from((minor & 0xff) | (major << 8) | ((minor & !0xff) << 12))
}

/// A device-mapper device as the kernel knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevInfo {
    pub name: String,
    /// lvm's: `LVM-` and the VG's and the LV's UUIDs without dashes (a suffix such as `-cow`
    /// for an LV's hidden parts).
    pub uuid: String,
    /// How many times it is open (a mounted filesystem, a VM, another device on top).
    pub open_count: i32,
    /// Its table's target types, in order (`linear`, `striped`, `snapshot-origin`, ...).
    pub targets: Vec<String>,
}

/// The device-mapper device whose number is `major:minor` (`DM_DEV_STATUS`, then
/// `DM_TABLE_STATUS`, both by number). `Ok(None)`: no such device.
pub fn device(major: u32, minor: u32) -> Result<Option<DevInfo>, String> {
    let control = control()?;
    let mut r = Request::for_device(64, major, minor);
    // SAFETY: the pointer is to a buffer of `data_size` bytes, as the ioctl requires.
    match unsafe { dm_dev_status(control.as_raw_fd(), r.header()) } {
        Ok(_) => {}
        Err(nix::errno::Errno::ENXIO) => return Ok(None),
        Err(e) => return Err(format!("DM_DEV_STATUS {major}:{minor}: {e}")),
    }
    let text = |b: &[u8]| {
        let end = b.iter().position(|c| *c == 0).unwrap_or(b.len());
        String::from_utf8_lossy(&b[..end]).into_owned()
    };
    let h = r.header();
    let (name, uuid, open_count) = (text(&h.name), text(&h.uuid), h.open_count);
    let mut r = Request::for_device(2048, major, minor);
    // SAFETY: as above.
    match unsafe { dm_table_status(control.as_raw_fd(), r.header()) } {
        Ok(_) => {}
        Err(nix::errno::Errno::ENXIO) => return Ok(None),
        Err(e) => return Err(format!("DM_TABLE_STATUS {major}:{minor}: {e}")),
    }
    let h = r.header();
    if h.flags & BUFFER_FULL != 0 {
        return Err(format!(
            "DM_TABLE_STATUS {major}:{minor}: the status does not fit"
        ));
    }
    let count = h.target_count as usize;
    let targets = parse_targets(r.data(), count)?;
    Ok(Some(DevInfo {
        name,
        uuid,
        open_count,
        targets,
    }))
}

/// The target types of `count` `struct dm_target_spec` entries, each followed by its status
/// line; `next` is the offset of the next entry from the start of the data.
pub fn parse_targets(data: &[u8], count: usize) -> Result<Vec<String>, String> {
    let mut types = Vec::with_capacity(count);
    let mut at = 0usize;
    for i in 0..count {
        let spec = data
            .get(at..at + TARGET_SPEC)
            .ok_or("DM_TABLE_STATUS: a target past the buffer")?;
        let kind = &spec[24..TARGET_SPEC];
        let end = kind.iter().position(|c| *c == 0).unwrap_or(kind.len());
        types.push(String::from_utf8_lossy(&kind[..end]).into_owned());
        let next = spec
            .get(20..24)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_ne_bytes)
            .ok_or("DM_TABLE_STATUS: a short target")? as usize;
        if i + 1 < count && next <= at {
            return Err("DM_TABLE_STATUS: a target that points back".into());
        }
        at = next;
    }
    Ok(types)
}

/// Parses one `struct dm_target_spec` and the NUL-terminated status line after it.
pub fn parse_status(spec: &[u8]) -> Result<(String, String), String> {
    let text = |b: &[u8]| {
        let end = b.iter().position(|c| *c == 0).unwrap_or(b.len());
        String::from_utf8_lossy(&b[..end]).into_owned()
    };
    let kind = spec
        .get(24..TARGET_SPEC)
        .map(text)
        .ok_or("DM_TABLE_STATUS: a short target")?;
    let line = spec
        .get(TARGET_SPEC..)
        .map(text)
        .ok_or("DM_TABLE_STATUS: a short target")?;
    Ok((kind, line))
}

/// Parses a list of `struct dm_name_list` entries: {dev u64, next u32, name NUL-terminated},
/// `next` the offset of the next entry from this one (0: the last); a first `dev` of 0 is an
/// empty list.
pub fn parse_names(list: &[u8]) -> Result<Vec<String>, String> {
    let mut names = vec![];
    let mut at = 0usize;
    loop {
        let entry = list
            .get(at..)
            .ok_or("DM_LIST_DEVICES: an entry past the buffer")?;
        let dev = entry
            .get(0..8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_ne_bytes)
            .ok_or("DM_LIST_DEVICES: a short entry")?;
        let next = entry
            .get(8..12)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_ne_bytes)
            .ok_or("DM_LIST_DEVICES: a short entry")?;
        if dev == 0 && at == 0 {
            return Ok(names);
        }
        let name = entry.get(12..).unwrap_or_default();
        let end = name
            .iter()
            .position(|b| *b == 0)
            .ok_or("DM_LIST_DEVICES: a name without its end")?;
        names.push(String::from_utf8_lossy(&name[..end]).into_owned());
        if next == 0 {
            return Ok(names);
        }
        at += next as usize;
    }
}

#[cfg(test)]
mod tests;
