//! Writing the metrics file so that no reader ever sees half of it: a temporary file in the
//! same directory (a name the textfile collector does not read: it reads `*.prom`), created
//! new and never through a symbolic link, written, flushed to disk, made 0644, then renamed
//! over the old one.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Writes `text` to `path` atomically. The error says what failed, with the path.
pub fn write(path: &Path, text: &str) -> Result<(), String> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let what = |step: &str, e: std::io::Error| {
        format!(
            "cannot write the metrics file {}: {step}: {e}",
            path.display()
        )
    };
    let result = (|| {
        // a stale one (a crash between create and rename): gone first; then created new, never
        // through a link someone else put there
        let _ = std::fs::remove_file(&tmp);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW)
            .mode(0o644)
            .open(&tmp)
            .map_err(|e| what("creating a temporary file", e))?;
        f.write_all(text.as_bytes())
            .map_err(|e| what("writing", e))?;
        f.set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(|e| what("setting its mode", e))?;
        f.sync_all().map_err(|e| what("flushing", e))?;
        std::fs::rename(&tmp, path).map_err(|e| what("renaming it into place", e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
