//! configfs, as files: steps that change it, performed in order, and the reads the observers
//! share. Every path in a [`Step`] is relative to the configfs root given to [`apply`].

use std::fmt;
use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

/// What goes into an attribute: shown as it is, or (a CHAP password) never shown.
#[derive(Clone, PartialEq, Eq)]
pub enum Value {
    Plain(String),
    Secret(String),
}

impl Value {
    fn bytes(&self) -> &[u8] {
        match self {
            Value::Plain(s) | Value::Secret(s) => s.as_bytes(),
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Plain(s) => write!(f, "{s:?}"),
            Value::Secret(_) => f.write_str("(secret)"),
        }
    }
}

/// One change to configfs. The kernel checks each one (a LUN link to a device not enabled yet,
/// a port address written while the port is enabled, ... are refused), so order matters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `mkdir`: in configfs this makes the object and its attribute files.
    Mkdir(PathBuf),
    /// One `write` to an existing attribute file.
    Write(PathBuf, Value),
    /// `symlink(target, link)`: maps a LUN, allows a host, links a subsystem into a port.
    Symlink {
        link: PathBuf,
        target: PathBuf,
    },
    Unlink(PathBuf),
    Rmdir(PathBuf),
    /// `chmod 0700` of a directory: only root may enter it (configfs makes every attribute
    /// 0644: a CHAP password would be readable by any local user).
    RootOnly(PathBuf),
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Mkdir(p) => write!(f, "mkdir {}", p.display()),
            Step::Write(p, v) => write!(f, "write {v} to {}", p.display()),
            Step::Symlink { link, target } => {
                write!(f, "link {} -> {}", link.display(), target.display())
            }
            Step::Unlink(p) => write!(f, "unlink {}", p.display()),
            Step::Rmdir(p) => write!(f, "rmdir {}", p.display()),
            Step::RootOnly(p) => write!(f, "chmod 0700 {}", p.display()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{step} (under {root}): {source}")]
    Step {
        step: String,
        root: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

/// Performs `steps` in order under `root`; stops at the first that fails (the kernel's error
/// is in the message, e.g. "Device or resource busy" for a device another target holds), and
/// then undoes what the steps before it made (links unlinked, objects removed, last first): a
/// failed export leaves nothing behind for the next pass to trip on ("exists already"), nor a
/// backstore holding the LV open. What they removed is not made again.
pub fn apply(root: &Path, steps: &[Step]) -> Result<(), ExportError> {
    for (i, step) in steps.iter().enumerate() {
        if let Err(source) = perform(root, step) {
            undo(root, &steps[..i]);
            return Err(ExportError::Step {
                step: step.to_string(),
                root: root.to_path_buf(),
                source,
            });
        }
    }
    Ok(())
}

/// Removes what `done` made, last first; what cannot be removed stays (the next read shows
/// it).
fn undo(root: &Path, done: &[Step]) {
    for step in done.iter().rev() {
        let r = match step {
            Step::Mkdir(p) => fs::remove_dir(root.join(p)),
            Step::Symlink { link, .. } => fs::remove_file(root.join(link)),
            _ => Ok(()),
        };
        if let Err(e) = r {
            tracing::warn!(step = %step, error = %e, "could not undo a step of a failed change to the target configuration");
        }
    }
}

fn perform(root: &Path, step: &Step) -> std::io::Result<()> {
    match step {
        Step::Mkdir(p) => fs::create_dir(root.join(p)),
        // no O_CREAT: a configfs attribute exists once its object does; a store is one write
        Step::Write(p, v) => fs::OpenOptions::new()
            .write(true)
            .open(root.join(p))?
            .write_all(v.bytes()),
        Step::Symlink { link, target } => {
            std::os::unix::fs::symlink(root.join(target), root.join(link))
        }
        Step::Unlink(p) => fs::remove_file(root.join(p)),
        Step::Rmdir(p) => fs::remove_dir(root.join(p)),
        Step::RootOnly(p) => fs::set_permissions(
            root.join(p),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        ),
    }
}

/// The entries of a directory that are directories (sorted); none when it does not exist.
pub(crate) fn subdirs(dir: &Path) -> Result<Vec<String>, ExportError> {
    entries(dir, |t| t.is_dir())
}

/// The entries of a directory that are symbolic links (sorted); none when it does not exist.
pub(crate) fn links(dir: &Path) -> Result<Vec<String>, ExportError> {
    entries(dir, |t| t.is_symlink())
}

fn entries(dir: &Path, keep: fn(&fs::FileType) -> bool) -> Result<Vec<String>, ExportError> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(ExportError::Read {
                path: dir.to_path_buf(),
                source,
            });
        }
    };
    let mut out = Vec::new();
    for e in rd {
        let e = e.map_err(|source| ExportError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let t = e.file_type().map_err(|source| ExportError::Read {
            path: e.path(),
            source,
        })?;
        if keep(&t) {
            out.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    out.sort();
    Ok(out)
}

/// An attribute's value, trimmed; `None` when the file does not exist (an older kernel, or a
/// scratch tree that leaves it out).
pub(crate) fn attr(path: &Path) -> Result<Option<String>, ExportError> {
    match read_small(path) {
        Ok(s) => Ok(Some(s.trim().to_string())),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ExportError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// A configfs attribute's text (at most a page): opened, read until its end, closed. Not
/// `read_to_string`, whose size probe (`statx`, useless on configfs) is one more system call
/// per attribute.
fn read_small(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut f = fs::File::open(path)?;
    let mut buf = Vec::new();
    let mut page = [0u8; 4096];
    loop {
        match f.read(&mut page)? {
            0 => break,
            n => buf.extend_from_slice(&page[..n]),
        }
    }
    String::from_utf8(buf).map_err(|e| std::io::Error::new(ErrorKind::InvalidData, e))
}

/// A flag attribute (`0`/`1`); `None` when absent or not a flag.
pub(crate) fn flag(path: &Path) -> Result<Option<bool>, ExportError> {
    Ok(attr(path)?.and_then(|v| match v.as_str() {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    }))
}

/// Where the symbolic link `link` points, as a path relative to `root` (configfs links are
/// relative, `../../..`; the result does not depend on how they are spelled). `None` when it
/// points outside `root` or nowhere.
///
/// Resolved by reading the one link and walking its `..` by name: no directory under configfs
/// is a link, and `canonicalize` would instead ask for every component of both paths (about 35
/// system calls a link, thousands a pass on a host exporting a hundred volumes).
pub(crate) fn link_target(root: &Path, link: &Path) -> Option<PathBuf> {
    let to = fs::read_link(link).ok()?;
    let full = lexical(&link.parent()?.join(to))?;
    let rel = full.strip_prefix(lexical(root)?).ok()?.to_path_buf();
    fs::symlink_metadata(&full).ok().map(|_| rel)
}

/// `path` with its `.` and `..` taken by name; `None` when a `..` climbs above its start.
fn lexical(path: &Path) -> Option<PathBuf> {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            c => out.push(c),
        }
    }
    Some(out)
}

/// configfs's rules on a plain directory: for the unit tests, and for the LVM simulator's
/// model of a host (`ember --lvm sim:PATH`).
pub mod model;
#[cfg(test)]
pub(crate) use model as sim;

/// [`apply`] on a modelled configfs ([`model`]).
pub fn apply_modelled(root: &Path, steps: &[Step]) -> Result<(), ExportError> {
    for step in steps {
        model::perform(root, step).map_err(|source| ExportError::Step {
            step: step.to_string(),
            root: root.to_path_buf(),
            source,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
