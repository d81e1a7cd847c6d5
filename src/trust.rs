//! Files that decide what root does to disks must not be changeable by anyone else: when ember
//! runs as root, a cinder.conf or desired state is refused unless every directory from `/` to
//! it, every link on the way and the file itself are root's and writable by root alone (a
//! directory others can write must have the sticky bit, as `/tmp`), as sshd's `StrictModes`
//! checks a user's keys; the operator may accept one with `--allow-insecure-files`. What is
//! parsed is what was checked: the file is read from the descriptor whose owner and mode were
//! looked at ([`walk`], which also opens ember's own root-only directories).

pub mod walk;

use std::io::Read;
use std::path::Path;

pub use walk::{Contents, Untrusted};

/// Whether ember checks who can change the files it reads: only as root (a user's own files
/// are that user's business), and not when the operator accepted them.
pub fn checks(allow_insecure_files: bool) -> bool {
    !allow_insecure_files && nix::unistd::geteuid().is_root()
}

/// Why an input file was not read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Someone other than root can change it (see [`refusal`]).
    #[error("{0}")]
    Untrusted(Untrusted),
    #[error("{0}")]
    Io(std::io::Error),
}

impl InputError {
    pub fn not_found(&self) -> bool {
        matches!(self, InputError::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }
}

/// Reads `path` (up to `max` bytes, and one more to tell a longer file): with `check`, only a
/// file no one but root can change, read from the descriptor that was checked.
pub fn read_input(path: &Path, max: u64, check: bool) -> Result<Contents, InputError> {
    if check {
        return walk::read_file(path, max).map_err(|e| match e {
            Untrusted::Io { source, .. } => InputError::Io(source),
            e => InputError::Untrusted(e),
        });
    }
    let file = std::fs::File::open(path).map_err(InputError::Io)?;
    let size = file.metadata().map_err(InputError::Io)?.len();
    let mut bytes = vec![];
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(InputError::Io)?;
    Ok(Contents { bytes, size })
}

/// The message an operator sees.
pub fn refusal(kind: &str, why: &str) -> String {
    format!(
        "{kind} refused: {why}; it decides what root does to disks. Fix the ownership and mode (chown root; chmod go-w) of that path, or start ember with --allow-insecure-files"
    )
}

#[cfg(test)]
mod tests;
