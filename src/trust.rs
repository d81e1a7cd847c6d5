//! Files that decide what root does to disks must not be writable by anyone else: when ember
//! runs as root, a cinder.conf or desired state that is group- or world-writable (or sits in
//! such a directory without the sticky bit), or owned by another user, is refused unless the
//! operator passes `--allow-insecure-files`.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Why `path` (as resolved through symlinks) may be changed by a user other than root, if so.
pub fn untrusted(path: &Path) -> Option<String> {
    let euid = nix::unistd::geteuid().as_raw();
    if euid != 0 {
        return None; // not root: a user's own files are that user's business
    }
    let target = std::fs::canonicalize(path).ok()?;
    let meta = std::fs::metadata(&target).ok()?;
    let mode = meta.mode() & 0o7777;
    if meta.uid() != 0 {
        return Some(format!(
            "{} is owned by uid {}, not root",
            target.display(),
            meta.uid()
        ));
    }
    if mode & 0o022 != 0 {
        return Some(format!(
            "{} is writable by {} (mode {:04o})",
            target.display(),
            if mode & 0o002 != 0 {
                "everyone"
            } else {
                "its group"
            },
            mode
        ));
    }
    let dir = target.parent()?;
    let dmeta = std::fs::metadata(dir).ok()?;
    let dmode = dmeta.mode() & 0o7777;
    if dmode & 0o022 != 0 && dmode & 0o1000 == 0 {
        return Some(format!(
            "its directory {} is writable by others without the sticky bit (mode {:04o}): the file can be replaced",
            dir.display(),
            dmode
        ));
    }
    if dmeta.uid() != 0 {
        return Some(format!(
            "its directory {} is owned by uid {}, not root",
            dir.display(),
            dmeta.uid()
        ));
    }
    None
}

/// The message an operator sees.
pub fn refusal(kind: &str, why: &str) -> String {
    format!(
        "{kind} refused: {why}; it decides what root does to disks. Fix the ownership and mode (chown root; chmod go-w), or start ember with --allow-insecure-files"
    )
}
