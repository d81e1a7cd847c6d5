//! The CHAP credentials of iSCSI exports, one pair per volume, kept root-only across reboots:
//! `<state_dir>/chap/<backend>/<volume>` (`[ember] state_dir`, `/var/lib/ember`, the unit's
//! `StateDirectory=ember`).
//!
//! As cinder's `lioadm` does (cinder:cinder/volume/targets/iscsi.py `create_export`,
//! cinder/volume/volume_utils.py `generate_username`/`generate_password`), a volume's pair is
//! made once, the first time it is needed, and then the same for every host the volume is
//! exported to: a user name of 20 and a password of 16 characters from cinder's alphabet
//! (digits without 0 and 1, letters without I, O and l), at least one of each group. Unlike
//! cinder, the randomness is the kernel's CSPRNG (`getrandom`) without modulo bias.
//!
//! The store trusts only itself: `state_dir` is reached from `/` through directories only root
//! can change and is root's (the effective user's), writable by it alone
//! ([`crate::trust::walk`]); `chap/`, each backend's directory and each file are moreover
//! readable by root alone (0700, 0600), or refused. A file is written to a temporary name,
//! `fsync`ed, put in place (a new pair without replacing one another process made meanwhile:
//! `link`, which fails on an existing name), and the directory `fsync`ed. Names are checked
//! before they reach a path (no `/`, no leading `.`, nothing but a volume's characters), and a
//! password never reaches a message, a log or `Debug`.

use std::fmt;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use nix::errno::Errno;
use nix::fcntl::{self, AtFlags, OFlag};
use nix::sys::stat::{self, Mode};
use nix::unistd::{self, UnlinkatFlags};

use crate::trust::walk::{Dir, Open, Untrusted};

/// cinder's symbol groups (volume_utils.py `DEFAULT_PASSWORD_SYMBOLS`).
pub const SYMBOL_GROUPS: [&str; 3] = [
    "23456789",
    "ABCDEFGHJKLMNPQRSTUVWXYZ",
    "abcdefghijkmnopqrstuvwxyz",
];
/// cinder's `generate_username()` length.
pub const USERID_LEN: usize = 20;
/// cinder's `generate_password()` length.
pub const PASSWORD_LEN: usize = 16;
/// The kernel's limit on a CHAP name or secret in LIO (`MAX_CHAP_NAME_LEN`,
/// `MAX_CHAP_SECRET_LEN`: 256 with the terminating NUL).
const MAX_CREDENTIAL_LEN: usize = 255;
/// The directory under `state_dir`.
const CHAP_DIR: &str = "chap";
/// A record is two short strings; a longer file is not one.
const MAX_SIZE: u64 = 4096;

/// One volume's CHAP credentials. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chap {
    pub userid: String,
    pub password: String,
}

impl fmt::Debug for Chap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chap")
            .field("userid", &self.userid)
            .field("password", &"<hidden>")
            .finish()
    }
}

impl Chap {
    /// A new pair as cinder's lioadm makes one (20 and 16 characters of its alphabet).
    pub fn generate() -> Result<Chap, ChapError> {
        Ok(Chap {
            userid: random_password(USERID_LEN)?,
            password: random_password(PASSWORD_LEN)?,
        })
    }

    /// Whether both are credentials LIO takes: 1 to 255 printable ASCII characters, no space.
    fn check(&self) -> Result<(), &'static str> {
        let ok = |s: &str| {
            !s.is_empty()
                && s.len() <= MAX_CREDENTIAL_LEN
                && s.bytes().all(|b| b.is_ascii_graphic())
        };
        if !ok(&self.userid) {
            return Err("the user name is not 1 to 255 printable characters without spaces");
        }
        if !ok(&self.password) {
            return Err("the password is not 1 to 255 printable characters without spaces");
        }
        Ok(())
    }
}

/// Why the store did not answer. No variant holds a password.
#[derive(Debug, thiserror::Error)]
pub enum ChapError {
    #[error("invalid {what} name {name:?} for the CHAP store: {why}")]
    Name {
        what: &'static str,
        name: String,
        why: &'static str,
    },
    /// A directory or file someone other than root can change (or is not where it should be).
    #[error("CHAP store refused: {0}")]
    Untrusted(Untrusted),
    /// Readable by others: the secrets may have leaked.
    #[error(
        "CHAP store refused: {} is readable by others (mode {mode:04o}); it holds CHAP secrets: check who read them, then chmod go-rwx it (the volumes' targets keep their credentials until ember is told to forget them)",
        path.display()
    )]
    Readable { path: PathBuf, mode: u32 },
    #[error("CHAP store: {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("CHAP store: {} is not a CHAP record: {why}", path.display())]
    Corrupt { path: PathBuf, why: String },
    #[error("no random numbers from the kernel (getrandom): {0}")]
    Random(std::io::Error),
}

impl From<Untrusted> for ChapError {
    fn from(e: Untrusted) -> ChapError {
        ChapError::Untrusted(e)
    }
}

fn io(path: &Path, e: impl Into<std::io::Error>) -> ChapError {
    ChapError::Io {
        path: path.to_path_buf(),
        source: e.into(),
    }
}

/// The CHAP credentials of every exported volume, under `<state_dir>/chap/`.
#[derive(Debug, Clone)]
pub struct ChapStore {
    state_dir: PathBuf,
}

impl ChapStore {
    pub fn new(state_dir: PathBuf) -> ChapStore {
        ChapStore { state_dir }
    }

    /// Where a volume's credentials are kept (for messages; nothing is opened by this path).
    pub fn path(&self, backend: &str, volume: &str) -> PathBuf {
        self.state_dir.join(CHAP_DIR).join(backend).join(volume)
    }

    /// The volume's credentials, if it has any.
    pub fn load(&self, backend: &str, volume: &str) -> Result<Option<Chap>, ChapError> {
        check_names(backend, volume)?;
        let Some(dir) = self.backend_dir(backend, false)? else {
            return Ok(None);
        };
        read_record(&dir, volume)
    }

    /// The volume's credentials, made (once: whoever comes second gets the first one's) when
    /// it has none.
    pub fn get_or_create(&self, backend: &str, volume: &str) -> Result<Chap, ChapError> {
        check_names(backend, volume)?;
        if let Some(dir) = self.backend_dir(backend, false)?
            && let Some(chap) = read_record(&dir, volume)?
        {
            return Ok(chap);
        }
        let dir = self
            .backend_dir(backend, true)?
            .ok_or_else(|| io(&self.state_dir.join(CHAP_DIR).join(backend), Errno::ENOENT))?;
        let chap = Chap::generate()?;
        match write_record(&dir, volume, &chap, Put::New)? {
            Written::Done => Ok(chap),
            // another process made it meanwhile: its pair is the volume's
            Written::Exists => read_record(&dir, volume)?
                .ok_or_else(|| io(&dir.path().join(volume), Errno::ENOENT)),
        }
    }

    /// Keeps `chap` as the volume's credentials, replacing any (adoption of a target another
    /// tool made: its credentials are the ones its initiators know).
    pub fn put(&self, backend: &str, volume: &str, chap: &Chap) -> Result<(), ChapError> {
        check_names(backend, volume)?;
        chap.check().map_err(|why| ChapError::Corrupt {
            path: self.path(backend, volume),
            why: why.into(),
        })?;
        let dir = self
            .backend_dir(backend, true)?
            .ok_or_else(|| io(&self.state_dir.join(CHAP_DIR).join(backend), Errno::ENOENT))?;
        write_record(&dir, volume, chap, Put::Replace).map(|_| ())
    }

    /// Forgets the volume's credentials (none: nothing to do).
    pub fn forget(&self, backend: &str, volume: &str) -> Result<(), ChapError> {
        check_names(backend, volume)?;
        let Some(dir) = self.backend_dir(backend, false)? else {
            return Ok(());
        };
        match unistd::unlinkat(&dir, volume, UnlinkatFlags::NoRemoveDir) {
            Ok(()) => sync_dir(&dir),
            Err(Errno::ENOENT) => Ok(()),
            Err(e) => Err(io(&dir.path().join(volume), e)),
        }
    }

    /// The volumes of `backend` that have credentials (names as validated; anything else in
    /// the directory is left out).
    pub fn volumes(&self, backend: &str) -> Result<Vec<String>, ChapError> {
        check_name("backend", backend, backend_char)?;
        let Some(dir) = self.backend_dir(backend, false)? else {
            return Ok(vec![]);
        };
        // (names only: each is opened through the checked directory when it is used)
        let mut names = vec![];
        let entries = std::fs::read_dir(dir.path()).map_err(|e| io(dir.path(), e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io(dir.path(), e))?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if check_name("volume", &name, volume_char).is_ok() {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    /// `<state_dir>/chap/<backend>`, checked (and made, 0700, with `create`); `None` when it
    /// does not exist and was not to be made.
    fn backend_dir(&self, backend: &str, create: bool) -> Result<Option<Dir>, ChapError> {
        let mode = create.then_some(0o700);
        let chap = match Dir::open(&self.state_dir, mode).and_then(|d| d.subdir(CHAP_DIR, mode)) {
            Ok(d) => d,
            Err(e) if e.not_found() && !create => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        private(chap.as_fd(), chap.path())?;
        let dir = match chap.subdir(backend, mode) {
            Ok(d) => d,
            Err(e) if e.not_found() && !create => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        private(dir.as_fd(), dir.path())?;
        Ok(Some(dir))
    }
}

/// Readable by its owner alone (what [`Dir`] does not check: it only refuses writers).
fn private(fd: impl AsFd, path: &Path) -> Result<(), ChapError> {
    let st = stat::fstat(fd).map_err(|e| io(path, e))?;
    let mode = st.st_mode & 0o7777;
    if mode & 0o077 != 0 {
        return Err(ChapError::Readable {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

/// The directory itself, opened for reading (a [`Dir`] holds an `O_PATH` descriptor, which
/// can be neither listed nor `fsync`ed).
fn open_readable(dir: &Dir) -> Result<OwnedFd, ChapError> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    fcntl::openat(dir, ".", flags, Mode::empty()).map_err(|e| io(dir.path(), e))
}

fn sync_dir(dir: &Dir) -> Result<(), ChapError> {
    let fd = open_readable(dir)?;
    unistd::fsync(&fd).map_err(|e| io(dir.path(), e))
}

fn read_record(dir: &Dir, volume: &str) -> Result<Option<Chap>, ChapError> {
    let path = dir.path().join(volume);
    let file = match dir.file(volume, Open::Read) {
        Ok(f) => f,
        Err(e) if e.not_found() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    private(&file, &path)?;
    let mut text = vec![];
    file.take(MAX_SIZE + 1)
        .read_to_end(&mut text)
        .map_err(|e| io(&path, e))?;
    if text.len() as u64 > MAX_SIZE {
        return Err(ChapError::Corrupt {
            path,
            why: format!("longer than {MAX_SIZE} bytes"),
        });
    }
    // serde's message could quote a value: only where the record is wrong is said
    let chap: Chap = serde_json::from_slice(&text).map_err(|e| ChapError::Corrupt {
        path: path.clone(),
        why: format!(
            "not {{\"userid\": ..., \"password\": ...}} (line {}, column {})",
            e.line(),
            e.column()
        ),
    })?;
    chap.check().map_err(|why| ChapError::Corrupt {
        path,
        why: why.into(),
    })?;
    Ok(Some(chap))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Put {
    /// Only if there is none (`link`: an existing name is kept).
    New,
    /// Replacing any (`rename`).
    Replace,
}

enum Written {
    Done,
    Exists,
}

/// Writes the record to a temporary file, `fsync`s it, puts it in place and `fsync`s the
/// directory; the temporary file never stays.
fn write_record(dir: &Dir, volume: &str, chap: &Chap, put: Put) -> Result<Written, ChapError> {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let tmp = format!(".{volume}.{}.{n}", std::process::id());
    let path = dir.path().join(volume);
    let text = serde_json::to_vec(chap).map_err(|e| ChapError::Corrupt {
        path: path.clone(),
        why: format!("cannot be written: {}", e.classify() as u8),
    })?;
    let mut file = dir.file(&tmp, Open::CreateNew { mode: 0o600 })?;
    let placed = file
        .write_all(&text)
        .and_then(|()| file.sync_all())
        .map_err(|e| io(&path, e))
        .and_then(|()| place(dir, &tmp, volume, put, &path));
    let _ = unistd::unlinkat(dir, tmp.as_str(), UnlinkatFlags::NoRemoveDir);
    let written = placed?;
    sync_dir(dir)?;
    Ok(written)
}

fn place(dir: &Dir, tmp: &str, volume: &str, put: Put, path: &Path) -> Result<Written, ChapError> {
    match put {
        Put::Replace => {
            fcntl::renameat(dir, tmp, dir, volume).map_err(|e| io(path, e))?;
            Ok(Written::Done)
        }
        Put::New => match unistd::linkat(dir, tmp, dir, volume, AtFlags::empty()) {
            Ok(()) => Ok(Written::Done),
            Err(Errno::EEXIST) => Ok(Written::Exists),
            Err(e) => Err(io(path, e)),
        },
    }
}

fn check_names(backend: &str, volume: &str) -> Result<(), ChapError> {
    check_name("backend", backend, backend_char)?;
    check_name("volume", volume, volume_char)
}

/// A volume's characters: LVM's (`[A-Za-z0-9+_.-]`).
fn volume_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+_.-".contains(c)
}

/// A backend's (a cinder.conf section name): printable ASCII without `/`, `\` or spaces.
fn backend_char(c: char) -> bool {
    c.is_ascii_graphic() && c != '/' && c != '\\'
}

/// A name that is one path component of ember's own: not empty, at most 255 bytes, not
/// starting with `.` (`.`, `..` and the temporary files), of `ok` characters only.
fn check_name(what: &'static str, name: &str, ok: fn(char) -> bool) -> Result<(), ChapError> {
    let why = if name.is_empty() {
        Some("empty")
    } else if name.len() > 255 {
        Some("longer than 255 bytes")
    } else if name.starts_with('.') {
        Some("starts with '.'")
    } else if !name.chars().all(ok) {
        Some(
            "holds a character that cannot be part of the name (a '/', a space, a control character or non-ASCII)",
        )
    } else {
        None
    };
    match why {
        Some(why) => Err(ChapError::Name {
            what,
            name: name.into(),
            why,
        }),
        None => Ok(()),
    }
}

/// Fills `buf` from the kernel's CSPRNG (`getrandom(2)`, blocking until it is seeded).
fn fill_random(buf: &mut [u8]) -> Result<(), ChapError> {
    let mut done = 0;
    while done < buf.len() {
        let rest = &mut buf[done..];
        // SAFETY: the pointer and length describe `rest`, which is valid for writes.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(ChapError::Random(e));
        }
        done += n as usize;
    }
    Ok(())
}

/// A uniform number below `n` (`n` ≤ 256), by rejection: no modulo bias.
fn random_below(n: usize) -> Result<usize, ChapError> {
    let limit = 256 - 256 % n;
    loop {
        let mut b = [0u8];
        fill_random(&mut b)?;
        if (b[0] as usize) < limit {
            return Ok(b[0] as usize % n);
        }
    }
}

fn random_pick(symbols: &[u8]) -> Result<char, ChapError> {
    Ok(symbols[random_below(symbols.len())?] as char)
}

/// cinder's `generate_password`: one character of each group, the rest from all groups,
/// shuffled (Fisher-Yates).
pub(crate) fn random_password(len: usize) -> Result<String, ChapError> {
    let mut out: Vec<char> = vec![];
    for group in SYMBOL_GROUPS.iter().take(len) {
        out.push(random_pick(group.as_bytes())?);
    }
    let all = SYMBOL_GROUPS.concat();
    while out.len() < len {
        out.push(random_pick(all.as_bytes())?);
    }
    for i in (1..out.len()).rev() {
        out.swap(i, random_below(i + 1)?);
    }
    Ok(out.into_iter().collect())
}

#[cfg(test)]
mod tests;
