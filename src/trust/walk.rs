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

/// Pushes the components of `path` onto `todo` (a stack: the first component on top).
fn push_components(todo: &mut Vec<OsString>, path: &Path) {
    let mut more = vec![];
    for c in path.components() {
        match c {
            Component::Normal(n) => more.push(n.to_os_string()),
            Component::ParentDir => more.push(OsString::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    todo.extend(more.into_iter().rev());
}

/// A walk under way: the directories entered from `/` (each checked, with its path), what is
/// left to walk (a stack), and the links followed.
struct Walker<'a> {
    path: &'a Path,
    stack: Vec<(OwnedFd, PathBuf)>,
    todo: Vec<OsString>,
    links: u32,
}

impl<'a> Walker<'a> {
    fn new(path: &'a Path) -> Result<Walker<'a>, Untrusted> {
        let root = Path::new("/");
        let fd = fcntl::open(
            root,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| io(root, e))?;
        check_on_the_way(&stat::fstat(&fd).map_err(|e| io(root, e))?, root)?;
        let mut todo = vec![];
        if path.is_relative() {
            push_components(&mut todo, path);
            let cwd = std::env::current_dir().map_err(|e| io(path, e))?;
            push_components(&mut todo, &cwd);
        } else {
            push_components(&mut todo, path);
        }
        Ok(Walker {
            path,
            stack: vec![(fd, root.to_path_buf())],
            todo,
            links: 0,
        })
    }

    fn invalid(&self) -> Untrusted {
        io(self.path, Errno::EINVAL)
    }

    /// The end of the walk at `name` in the directory on top of the stack.
    fn end(
        mut self,
        name: OsString,
        path: PathBuf,
        end: Option<(OwnedFd, FileStat)>,
    ) -> Result<Found, Untrusted> {
        let (parent, _) = self.stack.pop().ok_or_else(|| self.invalid())?;
        Ok(Found {
            parent,
            name,
            path,
            end,
        })
    }

    /// Follows the link `fd` (at `here`): its target is walked next.
    fn follow(&mut self, fd: &OwnedFd, here: &Path) -> Result<(), Untrusted> {
        self.links += 1;
        if self.links > MAX_LINKS {
            return Err(Untrusted::Links {
                path: self.path.to_path_buf(),
            });
        }
        let target = fcntl::readlinkat(fd, "").map_err(|e| io(here, e))?;
        let target = Path::new(&target);
        if target.is_absolute() {
            self.stack.truncate(1);
        }
        push_components(&mut self.todo, target);
        if self.todo.is_empty() {
            // a link to `/`: no file to open there
            return Err(Untrusted::Kind {
                path: here.to_path_buf(),
                kind: libc::S_IFDIR,
                want: "a file in a directory",
            });
        }
        Ok(())
    }
}

/// Walks `path` from `/`: every directory on the way and every link checked
/// ([`check_on_the_way`]), links followed (a last one too). With `create`, missing directories
/// on the way are made with that mode (the last component is left to the caller).
fn walk(path: &Path, create: Option<u32>) -> Result<Found, Untrusted> {
    let mut w = Walker::new(path)?;
    while let Some(name) = w.todo.pop() {
        if name == ".." {
            if w.stack.len() > 1 {
                w.stack.pop();
            }
            if w.todo.is_empty() {
                return Err(w.invalid());
            }
            continue;
        }
        let (dir, dir_path) = w.stack.last().ok_or_else(|| w.invalid())?;
        let here = dir_path.join(&name);
        let last = w.todo.is_empty();
        let Some((fd, st)) = look(dir.as_fd(), &name, &here)? else {
            if last {
                return w.end(name, here, None);
            }
            let Some(mode) = create else {
                return Err(io(&here, Errno::ENOENT));
            };
            match stat::mkdirat(
                dir.as_fd(),
                name.as_os_str(),
                Mode::from_bits_truncate(mode),
            ) {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(e) => return Err(io(&here, e)),
            }
            w.todo.push(name);
            continue;
        };
        let kind = st.st_mode & libc::S_IFMT;
        if kind == libc::S_IFLNK || !last {
            // (what is opened at the end is the caller's to check)
            check_on_the_way(&st, &here)?;
        }
        if kind == libc::S_IFLNK {
            w.follow(&fd, &here)?;
        } else if last {
            return w.end(name, here, Some((fd, st)));
        } else if kind != libc::S_IFDIR {
            return Err(Untrusted::Kind {
                path: here,
                kind,
                want: "a directory",
            });
        } else {
            w.stack.push((fd, here));
        }
    }
    Err(w.invalid())
}

mod dir;
pub use dir::{Contents, Dir, Open, read_file};

#[cfg(test)]
mod tests;
