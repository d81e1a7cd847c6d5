//! The rules across a backend's entries and against cinder.conf, once its part is read: the
//! backend is enabled and LVM, a thin pool only on a thin backend, names of the right kind,
//! no ring of sources, no volume named as the pool.

use std::path::Path;

use super::BackendDesired;
use super::locate::key_line;
use super::snapshot::{self, names_by_kind, source_cycles, thick_snapshots};
use crate::config::Config;
use crate::problem::Problem;

/// What the rules found in one backend's part.
pub(super) struct Checked {
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
    /// The backend is in enabled_backends (else it is ignored: a warning).
    pub enabled: bool,
}

pub(super) fn backend(
    path: &Path,
    text: &str,
    config: &Config,
    name: &str,
    b: &BackendDesired,
) -> Checked {
    let file = || Some(path.to_path_buf());
    let line = key_line(text, name);
    let mut errors = vec![];
    let mut warnings = vec![];
    // staged before it is enabled, or disabled for maintenance: the others go on
    let Some(cfg) = config.backend(name) else {
        warnings.push(Problem::warning(
            file(),
            line,
            format!(
                "backend {name:?} is not in enabled_backends ({}): ignored until it is enabled{}",
                config.enabled_backends.join(", "),
                match near_miss(name, &config.enabled_backends) {
                    Some(b) => format!("; did you mean {b}?"),
                    None => String::new(),
                }
            ),
        ));
        return Checked {
            errors,
            warnings,
            enabled: false,
        };
    };
    let mut err = |msg: String| errors.push(Problem::error(file(), line, msg));
    if !cfg.managed {
        err(format!(
            "backend {name:?} uses volume_driver {} which ember does not manage (only the LVM driver)",
            cfg.volume_driver
        ));
    } else if b.thin_pool.is_some() && !cfg.lvm_type.is_thin() {
        err(format!(
            "backend {name:?} has lvm_type = default (thick volumes): it has no thin pool, remove thin_pool"
        ));
    }
    // (each names the line of the volume or snapshot it is about)
    let mut keyed = vec![];
    if cfg.managed && !cfg.lvm_type.is_thin() {
        thick_snapshots(b, &mut keyed);
    }
    names_by_kind(b, &mut keyed);
    source_cycles(b, &mut keyed);
    for (key, msg) in keyed {
        errors.push(Problem::error(file(), key_line(text, &key).or(line), msg));
    }
    if cfg.managed {
        let mut found = vec![];
        super::export::check(cfg, b, &mut found);
        for (volume, host, msg) in found {
            let at = key_line(text, &volume);
            let at = host
                .and_then(|(h, nth)| line_of(text, at.unwrap_or(1), &h, nth))
                .or(at)
                .or(line);
            errors.push(Problem::error(file(), at, msg));
        }
    }
    for (key, msg) in snapshot::undeclared_sources(b) {
        warnings.push(Problem::warning(file(), key_line(text, &key), msg));
    }
    if let Some(vg) = &b.volume_group {
        let vg_line = key_line(text, "volume_group").or(line);
        for d in vg.devices.iter().filter(|d| super::is_kernel_name(d)) {
            let shown = d.display().to_string();
            let at = text.lines().position(|l| l.contains(shown.as_str()));
            warnings.push(Problem::warning(
                file(),
                at.map(|i| i + 1).or(vg_line),
                format!(
                    "backend {name:?}: device {} is a kernel name, which may name another disk after a boot; write a stable path (/dev/disk/by-id/...)",
                    d.display()
                ),
            ));
        }
    }
    let pool = cfg.pool_name();
    if cfg.managed && b.volumes.contains_key_str(&pool) {
        errors.push(Problem::error(
            file(),
            key_line(text, &pool),
            format!("volume name {pool:?} is the backend's thin pool; choose another name"),
        ));
    }
    Checked {
        errors,
        warnings,
        enabled: true,
    }
}

/// The line (1-based) of the `nth` (0: first) occurrence of `word` at or after line `from`.
fn line_of(text: &str, from: usize, word: &str, nth: usize) -> Option<usize> {
    text.lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .flat_map(|(i, l)| std::iter::repeat_n(i + 1, l.matches(word).count()))
        .nth(nth)
}

/// The one enabled backend `name` is probably a mistyped spelling of, if there is exactly one:
/// the same but for case and separators (`LVM_1`, `lvm1` for `lvm-1`), or one character off (two
/// in names of eight or more), with the same numbers: `lvm-2` is another backend, staged
/// beside `lvm-1`, not a typo of it.
pub(super) fn near_miss<'a>(name: &str, enabled: &'a [String]) -> Option<&'a str> {
    let bare = |s: &str| -> String {
        s.chars()
            .filter(|c| !matches!(c, '-' | '_' | '.' | ' '))
            .flat_map(char::to_lowercase)
            .collect()
    };
    let numbers = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_ascii_digit())
            .filter(|n| !n.is_empty())
            .map(|n| n.trim_start_matches('0').to_string())
            .collect()
    };
    let near = |b: &str| {
        if bare(name) == bare(b) {
            return true;
        }
        let most = if name.len().min(b.len()) >= 8 { 2 } else { 1 };
        numbers(name) == numbers(b)
            && name.len().abs_diff(b.len()) <= most
            && strsim::osa_distance(&name.to_lowercase(), &b.to_lowercase()) <= most
    };
    let mut found = enabled.iter().filter(|b| b.as_str() != name && near(b));
    match (found.next(), found.next()) {
        (Some(b), None) => Some(b),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
