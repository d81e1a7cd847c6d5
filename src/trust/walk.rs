//! Opening what root trusts without following what someone else could have planted: a path is
//! walked from `/` one component at a time, each opened relative to the directory before it
//! (`O_PATH | O_NOFOLLOW`) and checked on its descriptor (`fstat`), so nothing can be swapped
//! between a check and the use. Symbolic links are resolved by hand, each checked like a
//! directory entry (the kernel's `protected_symlinks` does not apply to a link read this way).
//!
//! The rule, sshd's `StrictModes` with `/tmp` allowed: every directory on the way and every
//! link is owned by root or the effective user, and a directory on the way that others can
//! write has the sticky bit (then no one else can rename or remove root's entries in it). What
//! is opened at the end is the effective user's own and writable by it alone.

use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{self, OFlag};
use nix::libc;
use nix::sys::stat::{self, FileStat, Mode};

/// As the kernel (`MAXSYMLINKS`).
const MAX_LINKS: u32 = 40;

/// Why a path is not opened.
#[derive(Debug, thiserror::Error)]
pub enum Untrusted {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is owned by {}, not {}{}", path.display(), who(*owner), who(*want), consequence(*dir))]
    Owner {
        path: PathBuf,
        owner: u32,
        want: u32,
        /// A directory on the way (or a link), as opposed to what is opened.
        dir: bool,
    },
    #[error("{} is writable by {} (mode {:04o}){}", path.display(), writers(*mode), mode, if *dir { " without the sticky bit: whoever can write it can replace what is below it" } else { "" })]
    Writable { path: PathBuf, mode: u32, dir: bool },
    #[error("{} is {}, not {want}{}", path.display(), kind_name(*kind), if *kind == libc::S_IFLNK { ": it is not followed" } else { "" })]
    Kind {
        path: PathBuf,
        kind: u32,
        want: &'static str,
    },
    #[error("{}: more than {MAX_LINKS} symbolic links", path.display())]
    Links { path: PathBuf },
}

impl Untrusted {
    /// Whether the path (or a directory on its way) does not exist.
    pub fn not_found(&self) -> bool {
        matches!(self, Untrusted::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

fn io(path: &Path, e: impl Into<std::io::Error>) -> Untrusted {
    Untrusted::Io {
        path: path.to_path_buf(),
        source: e.into(),
    }
}

/// `root`, or a user by name and uid.
fn who(uid: u32) -> String {
    if uid == 0 {
        return "root".into();
    }
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(u)) => format!("{} (uid {uid})", u.name),
        _ => format!("uid {uid}"),
    }
}

fn consequence(dir: bool) -> &'static str {
    if dir {
        ": whoever owns it can replace what is below it"
    } else {
        ""
    }
}

fn writers(mode: u32) -> &'static str {
    if mode & 0o002 != 0 {
        "everyone"
    } else {
        "its group"
    }
}

fn kind_name(kind: u32) -> &'static str {
    match kind {
        libc::S_IFDIR => "a directory",
        libc::S_IFREG => "a regular file",
        libc::S_IFLNK => "a symbolic link",
        libc::S_IFIFO => "a FIFO",
        libc::S_IFSOCK => "a socket",
        libc::S_IFBLK => "a block device",
        libc::S_IFCHR => "a character device",
        _ => "of an unknown kind",
    }
}

fn euid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// A directory on the way, or a link: root's or the effective user's; one that others can
/// write has the sticky bit.
fn check_on_the_way(st: &FileStat, path: &Path) -> Result<(), Untrusted> {
    let me = euid();
    if st.st_uid != 0 && st.st_uid != me {
        return Err(Untrusted::Owner {
            path: path.to_path_buf(),
            owner: st.st_uid,
            want: if me == 0 { 0 } else { me },
            dir: true,
        });
    }
    let mode = st.st_mode & 0o7777;
    let kind = st.st_mode & libc::S_IFMT;
    if kind == libc::S_IFDIR && mode & 0o022 != 0 && mode & 0o1000 == 0 {
        return Err(Untrusted::Writable {
            path: path.to_path_buf(),
            mode,
            dir: true,
        });
    }
    Ok(())
}

/// What is opened: of `kind`, the effective user's, writable by it alone.
fn check_own(st: &FileStat, path: &Path, kind: u32) -> Result<(), Untrusted> {
    let found = st.st_mode & libc::S_IFMT;
    if found != kind {
        return Err(Untrusted::Kind {
            path: path.to_path_buf(),
            kind: found,
            want: if kind == libc::S_IFDIR {
                "a directory"
            } else {
                "a regular file"
            },
        });
    }
    if st.st_uid != euid() {
        return Err(Untrusted::Owner {
            path: path.to_path_buf(),
            owner: st.st_uid,
            want: euid(),
            dir: false,
        });
    }
    let mode = st.st_mode & 0o7777;
    if mode & 0o022 != 0 {
        return Err(Untrusted::Writable {
            path: path.to_path_buf(),
            mode,
            dir: false,
        });
    }
    Ok(())
}

/// The end of a walk: the directory holding the last component, and the last component (its
/// `O_PATH` descriptor and status, `None` when it does not exist).
struct Found {
    parent: OwnedFd,
    name: OsString,
    path: PathBuf,
    end: Option<(OwnedFd, FileStat)>,
}

fn look(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    path: &Path,
) -> Result<Option<(OwnedFd, FileStat)>, Untrusted> {
    let flags = OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    match fcntl::openat(dir, name, flags, Mode::empty()) {
        Ok(fd) => {
            let st = stat::fstat(&fd).map_err(|e| io(path, e))?;
            Ok(Some((fd, st)))
        }
        Err(Errno::ENOENT) => Ok(None),
        Err(e) => Err(io(path, e)),
    }
}

/// The components of `path` to walk, last first (a stack); `path` made absolute from the
/// current directory.
fn components(path: &Path) -> Result<Vec<OsString>, Untrusted> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map_err(|e| io(path, e))?.join(path)
    };
    let mut todo = vec![];
    for c in abs.components() {
        match c {
            Component::Normal(n) => todo.push(n.to_os_string()),
            Component::ParentDir => todo.push(OsString::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    todo.reverse();
    Ok(todo)
}

/// Walks `path` from `/`: every directory on the way and every link checked
/// ([`check_on_the_way`]), links followed (a last one too). With `create`, missing directories
/// on the way are made with that mode (the last component is left to the caller).
fn walk(path: &Path, create: Option<u32>) -> Result<Found, Untrusted> {
    let mut todo = components(path)?;
    let root = fcntl::open(
        "/",
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| io(Path::new("/"), e))?;
    check_on_the_way(
        &stat::fstat(&root).map_err(|e| io(Path::new("/"), e))?,
        Path::new("/"),
    )?;
    let mut stack: Vec<(OwnedFd, PathBuf)> = vec![(root, PathBuf::from("/"))];
    let mut links = 0;
    while let Some(name) = todo.pop() {
        if name == ".." {
            if stack.len() > 1 {
                stack.pop();
            }
            if todo.is_empty() {
                return Err(io(path, Errno::EINVAL));
            }
            continue;
        }
        let (dir, dir_path) = stack.last().ok_or_else(|| io(path, Errno::EINVAL))?;
        let here = dir_path.join(&name);
        let last = todo.is_empty();
        let Some((fd, st)) = look(dir.as_fd(), &name, &here)? else {
            if last {
                let (parent, _) = stack.pop().ok_or_else(|| io(path, Errno::EINVAL))?;
                return Ok(Found {
                    parent,
                    name,
                    path: here,
                    end: None,
                });
            }
            match create {
                Some(mode) => {
                    match stat::mkdirat(
                        dir.as_fd(),
                        name.as_os_str(),
                        Mode::from_bits_truncate(mode),
                    ) {
                        Ok(()) | Err(Errno::EEXIST) => {}
                        Err(e) => return Err(io(&here, e)),
                    }
                    todo.push(name);
                    continue;
                }
                None => return Err(io(&here, Errno::ENOENT)),
            }
        };
        let link = st.st_mode & libc::S_IFMT == libc::S_IFLNK;
        if link || !last {
            // (what is opened at the end is the caller's to check)
            check_on_the_way(&st, &here)?;
        }
        if link {
            links += 1;
            if links > MAX_LINKS {
                return Err(Untrusted::Links {
                    path: path.to_path_buf(),
                });
            }
            let target = fcntl::readlinkat(&fd, "").map_err(|e| io(&here, e))?;
            let target = Path::new(&target);
            if target.is_absolute() {
                stack.truncate(1);
            }
            let mut more = vec![];
            for c in target.components() {
                match c {
                    Component::Normal(n) => more.push(n.to_os_string()),
                    Component::ParentDir => more.push(OsString::from("..")),
                    _ => {}
                }
            }
            todo.extend(more.into_iter().rev());
            if todo.is_empty() {
                // a link to `/`
                return Err(Untrusted::Kind {
                    path: here,
                    kind: libc::S_IFDIR,
                    want: "a file in a directory",
                });
            }
            continue;
        }
        if last {
            let (parent, _) = stack.pop().ok_or_else(|| io(path, Errno::EINVAL))?;
            return Ok(Found {
                parent,
                name,
                path: here,
                end: Some((fd, st)),
            });
        }
        if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
            return Err(Untrusted::Kind {
                path: here,
                kind: st.st_mode & libc::S_IFMT,
                want: "a directory",
            });
        }
        stack.push((fd, here));
    }
    Err(io(path, Errno::EINVAL))
}

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

#[cfg(test)]
mod tests;
