//! oslo.config's INI dialect, as `oslo_config.iniparser` reads it.
//!
//! Whole-line comments (`#`, `;`), no inline comments; an indented line continues the previous
//! value (joined with `\n`), a blank line ends it; `key = value` or `key: value` split at the
//! first of `=`/`:`; key and value trimmed; one pair of matching quotes removed; later values
//! win; repeated sections merge; section names match case-insensitively, except that only the
//! exact `DEFAULT` is the default section. Hand-written because no INI crate on crates.io keeps
//! line numbers and implements these continuation and section rules together (docs/decisions.md).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::problem::Problem;

/// cinder.conf files larger than this are refused (the largest real ones are tens of KB).
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// Where a value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: PathBuf,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub value: String,
    pub origin: Origin,
}

/// The normalized name of a section: `DEFAULT` exactly, or any other name lower-cased.
pub fn section_key(name: &str) -> String {
    if name == "DEFAULT" {
        name.to_string()
    } else {
        name.to_lowercase()
    }
}

/// Python's white space (`str.isspace()`): Unicode's, and the four separators \x1c-\x1f that
/// Rust does not count.
pub(crate) fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// The lines of `text` as Python's universal newlines split them.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let t = rest?;
        match t.find(['\r', '\n']) {
            None => {
                rest = None;
                Some(t)
            }
            Some(i) => {
                let skip = if t[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&t[i + skip..]);
                Some(&t[..i])
            }
        }
    })
}

/// All files merged: section key → option → last value.
#[derive(Debug, Default, Clone)]
pub struct Ini {
    sections: HashMap<String, HashMap<String, Entry>>,
}

impl Ini {
    pub fn get(&self, section: &str, key: &str) -> Option<&Entry> {
        self.sections
            .get(&section_key(section))
            .and_then(|s| s.get(key))
    }
    pub fn has_section(&self, section: &str) -> bool {
        self.sections.contains_key(&section_key(section))
    }
    /// A section's entries (option names exactly as written).
    pub fn entries(&self, section: &str) -> Vec<(&str, &Entry)> {
        self.sections
            .get(&section_key(section))
            .map(|s| s.iter().map(|(k, e)| (k.as_str(), e)).collect())
            .unwrap_or_default()
    }

    /// Parses one file's text and merges it over what is already there. Returns problems;
    /// on an error the file's assignments up to the error are kept, but callers treat any
    /// error as fatal for the whole configuration.
    pub fn merge_text(&mut self, file: &Path, text: &str, problems: &mut Vec<Problem>) {
        let mut text = text;
        if let Some(rest) = text.strip_prefix('\u{feff}') {
            problems.push(Problem::warning(
                Some(file.into()),
                Some(1),
                "file starts with a UTF-8 byte-order mark; ember ignores it, but oslo.config \
                 (cinder-volume) fails on it: remove it",
            ));
            text = rest;
        }
        let mut section: Option<String> = None;
        // the pending assignment: key, value lines, line number
        let mut pending: Option<(String, Vec<String>, usize)> = None;
        let err = |line: usize, msg: String| Problem::error(Some(file.into()), Some(line), msg);

        // Python reads the file with universal newlines: \r\n, \r and \n each end a line
        for (idx, raw) in lines(text).enumerate() {
            let lineno = idx + 1;
            let line = raw.trim_end_matches(py_space);
            if line.is_empty() {
                self.flush(&section, &mut pending, file);
                continue;
            }
            if line.starts_with([' ', '\t']) {
                match pending.as_mut() {
                    Some((_, value, _)) => {
                        value.push(line.trim_start_matches(py_space).to_string())
                    }
                    None => {
                        problems.push(err(lineno, "unexpected continuation line (an indented line must follow a key = value line)".into()));
                        return;
                    }
                }
                continue;
            }
            self.flush(&section, &mut pending, file);
            if let Some(rest) = line.strip_prefix('[') {
                let Some(name) = rest.strip_suffix(']') else {
                    problems.push(err(
                        lineno,
                        "invalid section header (must end with ])".into(),
                    ));
                    return;
                };
                if name.is_empty() {
                    problems.push(err(lineno, "empty section name".into()));
                    return;
                }
                let key = section_key(name);
                self.sections.entry(key.clone()).or_default();
                section = Some(key);
            } else if line.starts_with(['#', ';']) {
                continue;
            } else {
                let eq = line.find('=');
                let colon = line.find(':');
                let at = match (eq, colon) {
                    (None, None) => {
                        problems.push(err(lineno, format!("invalid line {line:?}: expected key = value, [section] or a # comment")));
                        return;
                    }
                    (Some(e), None) => e,
                    (None, Some(c)) => c,
                    (Some(e), Some(c)) => e.min(c),
                };
                let key = line[..at].trim_matches(py_space);
                let mut value = line[at + 1..].trim_matches(py_space);
                if key.is_empty() {
                    problems.push(err(lineno, format!("invalid line {line:?}: empty key")));
                    return;
                }
                if section.is_none() {
                    problems.push(err(
                        lineno,
                        format!("option {key:?} appears before any [section]"),
                    ));
                    return;
                }
                let b = value.as_bytes();
                if !b.is_empty() && (b[0] == b'"' || b[0] == b'\'') && b[0] == b[b.len() - 1] {
                    value = if value.len() >= 2 {
                        &value[1..value.len() - 1]
                    } else {
                        ""
                    };
                }
                pending = Some((key.to_string(), vec![value.to_string()], lineno));
            }
        }
        self.flush(&section, &mut pending, file);
    }

    fn flush(
        &mut self,
        section: &Option<String>,
        pending: &mut Option<(String, Vec<String>, usize)>,
        file: &Path,
    ) {
        if let (Some(sec), Some((key, lines, line))) = (section, pending.take()) {
            let entry = Entry {
                value: lines.join("\n"),
                origin: Origin {
                    file: file.into(),
                    line,
                },
            };
            self.sections
                .entry(sec.clone())
                .or_default()
                .insert(key, entry);
        }
    }

    /// Reads and merges a file; unreadable, oversized, binary or non-UTF-8 files are errors.
    pub fn merge_file(&mut self, path: &Path, problems: &mut Vec<Problem>) {
        match crate::trust::read_input(path, MAX_FILE_BYTES, false) {
            Err(e) => problems.push(Problem::error(
                Some(path.into()),
                None,
                format!("cannot read: {e}"),
            )),
            Ok(read) => self.merge_bytes(path, &read, problems),
        }
    }

    /// Merges what was read of `path`; oversized, binary or non-UTF-8 contents are errors.
    pub fn merge_bytes(
        &mut self,
        path: &Path,
        read: &crate::trust::Contents,
        problems: &mut Vec<Problem>,
    ) {
        let bytes = &read.bytes;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            problems.push(Problem::error(
                Some(path.into()),
                None,
                format!(
                    "{} bytes: a configuration file larger than {MAX_FILE_BYTES} is refused",
                    read.size.max(bytes.len() as u64)
                ),
            ));
            return;
        }
        if bytes.contains(&0) {
            problems.push(Problem::error(
                Some(path.into()),
                None,
                "binary file (contains NUL bytes), not an INI file",
            ));
            return;
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => self.merge_text(path, text, problems),
            Err(e) => {
                let line = bytes[..e.valid_up_to()]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count()
                    + 1;
                problems.push(Problem::error(
                    Some(path.into()),
                    Some(line),
                    "invalid UTF-8",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests;
