//! [`Dir`]: a directory opened by [`super::walk`], and what is opened in it.

use std::ffi::OsStr;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{self, OFlag};
use nix::libc;
use nix::sys::stat::{self, Mode};

use super::{Untrusted, check_own, io, look, walk};

/// A directory only the effective user can change, reached through directories and links
/// that only root or it can change: what it holds can be trusted as far as its owner.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

/// How [`Dir::file`] opens a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Open {
    /// Read only; it must exist.
    Read,
    /// Read and write, made (with this mode) when missing; never truncated.
    ReadWrite { create: u32 },
    /// Write only, a new file made with this mode (`O_EXCL`).
    CreateNew { mode: u32 },
}

impl Dir {
    /// Opens the directory `path` (walked from `/`, [`walk`]'s rule; a last link followed),
    /// which must be the effective user's and writable by it alone. With `create`, it and
    /// missing directories on the way are made with that mode.
    pub fn open(path: &Path, create: Option<u32>) -> Result<Dir, Untrusted> {
        let found = walk(path, create)?;
        let (fd, st) = match found.end {
            Some(end) => end,
            None => {
                let Some(mode) = create else {
                    return Err(io(&found.path, Errno::ENOENT));
                };
                return Dir::made(found.parent, &found.name, found.path, mode);
            }
        };
        check_own(&st, &found.path, libc::S_IFDIR)?;
        Ok(Dir {
            fd,
            path: found.path,
        })
    }

    /// Makes `name` in `parent` (or takes the one someone made meanwhile: it is checked).
    fn made(parent: OwnedFd, name: &OsStr, path: PathBuf, mode: u32) -> Result<Dir, Untrusted> {
        match stat::mkdirat(&parent, name, Mode::from_bits_truncate(mode)) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => return Err(io(&path, e)),
        }
        let parent = Dir {
            fd: parent,
            path: path.parent().map(Path::to_path_buf).unwrap_or_default(),
        };
        parent.subdir_at(name, None, path)
    }

    /// The directory `name` in this one, never through a link; made with `create`'s mode
    /// when missing. The effective user's alone, or refused.
    pub fn subdir(&self, name: &str, create: Option<u32>) -> Result<Dir, Untrusted> {
        self.subdir_at(OsStr::new(name), create, self.path.join(name))
    }

    fn subdir_at(
        &self,
        name: &OsStr,
        create: Option<u32>,
        path: PathBuf,
    ) -> Result<Dir, Untrusted> {
        if let Some(mode) = create {
            match stat::mkdirat(&self.fd, name, Mode::from_bits_truncate(mode)) {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(e) => return Err(io(&path, e)),
            }
        }
        let Some((fd, st)) = look(self.fd.as_fd(), name, &path)? else {
            return Err(io(&path, Errno::ENOENT));
        };
        check_own(&st, &path, libc::S_IFDIR)?;
        Ok(Dir { fd, path })
    }

    /// Opens the file `name` in this directory: never through a link, never blocking (a FIFO
    /// is refused, not waited on), and only a regular file of the effective user's that only
    /// it can write.
    pub fn file(&self, name: &str, how: Open) -> Result<std::fs::File, Untrusted> {
        self.file_at(OsStr::new(name), how)
    }

    fn file_at(&self, name: &OsStr, how: Open) -> Result<std::fs::File, Untrusted> {
        let path = self.path.join(name);
        let base = OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
        let (flags, mode) = match how {
            Open::Read => (base | OFlag::O_RDONLY, 0),
            Open::ReadWrite { create } => (base | OFlag::O_RDWR | OFlag::O_CREAT, create),
            Open::CreateNew { mode } => (
                base | OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL,
                mode,
            ),
        };
        let fd =
            fcntl::openat(&self.fd, name, flags, Mode::from_bits_truncate(mode)).map_err(|e| {
                match e {
                    // O_NOFOLLOW on a link
                    Errno::ELOOP => Untrusted::Kind {
                        path: path.clone(),
                        kind: libc::S_IFLNK,
                        want: "a regular file",
                    },
                    e => io(&path, e),
                }
            })?;
        check_own(
            &stat::fstat(&fd).map_err(|e| io(&path, e))?,
            &path,
            libc::S_IFREG,
        )?;
        Ok(std::fs::File::from(fd))
    }

    /// The identity (device, inode) of `name` in this directory, if there is one (a link is
    /// not followed).
    pub fn identity(&self, name: &str) -> Option<(u64, u64)> {
        let st = stat::fstatat(&self.fd, name, fcntl::AtFlags::AT_SYMLINK_NOFOLLOW).ok()?;
        Some((st.st_dev, st.st_ino))
    }

    /// Gives the directory to `group` (root's when `None`) with `mode`, never group-writable.
    pub fn set_group(&self, group: Option<u32>, mode: u32) -> Result<(), Untrusted> {
        // an O_PATH descriptor cannot be changed: the directory itself, opened through it
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let fd =
            fcntl::openat(&self.fd, ".", flags, Mode::empty()).map_err(|e| io(&self.path, e))?;
        let gid = nix::unistd::Gid::from_raw(group.unwrap_or(0));
        nix::unistd::fchown(&fd, None, Some(gid)).map_err(|e| io(&self.path, e))?;
        stat::fchmod(&fd, Mode::from_bits_truncate(mode & !0o022)).map_err(|e| io(&self.path, e))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl AsFd for Dir {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// A file read whole (up to a limit) from the descriptor that was checked.
#[derive(Debug)]
pub struct Contents {
    /// At most the limit plus one byte: longer means the file is over the limit.
    pub bytes: Vec<u8>,
    /// Its size as `fstat` gave it.
    pub size: u64,
}

/// Reads the file at `path`, walked from `/` ([`walk`]'s rule, links followed and checked):
/// a regular file of the effective user's that only it can write, read from the descriptor
/// checked, up to `max` bytes (and one more, to tell a longer file).
pub fn read_file(path: &Path, max: u64) -> Result<Contents, Untrusted> {
    let found = walk(path, None)?;
    if found.end.is_none() {
        return Err(io(&found.path, Errno::ENOENT));
    }
    let dir = Dir {
        fd: found.parent,
        path: found
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
    };
    let file = dir.file_at(&found.name, Open::Read)?;
    let size = file.metadata().map_err(|e| io(&found.path, e))?.len();
    let mut bytes = vec![];
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| io(&found.path, e))?;
    Ok(Contents { bytes, size })
}
