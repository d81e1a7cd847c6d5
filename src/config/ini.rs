//! oslo.config's INI dialect, as `oslo_config.iniparser` reads it.
//!
//! Whole-line comments (`#`, `;`), no inline comments; an indented line continues the previous
//! value (joined with `\n`), a blank line ends it; `key = value` or `key: value` split at the
//! first of `=`/`:`; key and value trimmed; one pair of matching quotes removed; later values
//! win; repeated sections merge; section names match case-insensitively, except that only the
//! exact `DEFAULT` is the default section. Hand-written because no INI crate on crates.io keeps
//! line numbers and implements these continuation and section rules together (see README).

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

        for (idx, raw) in text.split('\n').enumerate() {
            let lineno = idx + 1;
            let line = raw.trim_end();
            if line.is_empty() {
                self.flush(&section, &mut pending, file);
                continue;
            }
            if line.starts_with([' ', '\t']) {
                match pending.as_mut() {
                    Some((_, value, _)) => value.push(line.trim_start().to_string()),
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
                let key = line[..at].trim();
                let mut value = line[at + 1..].trim();
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
        if let Ok(m) = std::fs::metadata(path)
            && m.len() > MAX_FILE_BYTES
        {
            problems.push(Problem::error(
                Some(path.into()),
                None,
                format!(
                    "{} bytes: a configuration file larger than {MAX_FILE_BYTES} is refused",
                    m.len()
                ),
            ));
            return;
        }
        match std::fs::read(path) {
            Err(e) => problems.push(Problem::error(
                Some(path.into()),
                None,
                format!("cannot read: {e}"),
            )),
            Ok(bytes) => {
                if bytes.contains(&0) {
                    problems.push(Problem::error(
                        Some(path.into()),
                        None,
                        "binary file (contains NUL bytes), not an INI file",
                    ));
                    return;
                }
                match std::str::from_utf8(&bytes) {
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Ini, Vec<Problem>) {
        let mut ini = Ini::default();
        let mut p = vec![];
        ini.merge_text(Path::new("cinder.conf"), text, &mut p);
        (ini, p)
    }
    fn val<'a>(ini: &'a Ini, s: &str, k: &str) -> Option<&'a str> {
        ini.get(s, k).map(|e| e.value.as_str())
    }

    #[test]
    fn comments_are_whole_lines_only() {
        let (ini, p) = parse("[DEFAULT]\n# comment\n; also\na = b # not a comment\n");
        assert!(p.is_empty());
        assert_eq!(val(&ini, "DEFAULT", "a"), Some("b # not a comment"));
    }

    #[test]
    fn continuation_lines_join_with_newline_and_blank_line_ends_them() {
        let (ini, p) = parse("[s]\na = one\n  two\n\ttwo-and-a-half\n\nb = x\n");
        assert!(p.is_empty());
        assert_eq!(val(&ini, "s", "a"), Some("one\ntwo\ntwo-and-a-half"));
        assert_eq!(val(&ini, "s", "b"), Some("x"));
        let (_, p) = parse("[s]\na = one\n\n  orphan\n");
        assert_eq!(p[0].line, Some(4));
        assert!(p[0].message.contains("continuation"));
    }

    #[test]
    fn splits_at_first_equals_or_colon_and_trims() {
        let (ini, _) = parse(
            "[s]\nurl = http://x:1/a=b \nk:v=w\nq = \"quoted\"\nr='x'\ns=\"mismatch'\nt=\"\n",
        );
        assert_eq!(val(&ini, "s", "url"), Some("http://x:1/a=b"));
        assert_eq!(val(&ini, "s", "k"), Some("v=w"));
        assert_eq!(val(&ini, "s", "q"), Some("quoted"));
        assert_eq!(val(&ini, "s", "r"), Some("x"));
        assert_eq!(val(&ini, "s", "s"), Some("\"mismatch'"));
        assert_eq!(val(&ini, "s", "t"), Some(""));
    }

    #[test]
    fn sections_merge_match_case_insensitively_but_default_is_exact() {
        let (ini, p) =
            parse("[LVM-1]\na = 1\n[DEFAULT]\nx = 1\n[lvm-1]\nb = 2\na = 3\n[default]\ny = 2\n");
        assert!(p.is_empty());
        assert_eq!(val(&ini, "lvm-1", "a"), Some("3"));
        assert_eq!(val(&ini, "Lvm-1", "b"), Some("2"));
        assert_eq!(val(&ini, "DEFAULT", "y"), None);
        assert_eq!(val(&ini, "default", "y"), Some("2"));
    }

    #[test]
    fn keys_are_case_sensitive() {
        let (ini, _) = parse("[s]\nVolume_Group = a\n");
        assert_eq!(val(&ini, "s", "volume_group"), None);
    }

    #[test]
    fn crlf_works() {
        let (ini, p) = parse("[DEFAULT]\r\nenabled_backends = a,b\r\n");
        assert!(p.is_empty());
        assert_eq!(val(&ini, "DEFAULT", "enabled_backends"), Some("a,b"));
    }

    #[test]
    fn errors_name_the_line() {
        let (_, p) = parse("[DEFAULT]\nok = 1\n\n[broken\n");
        assert_eq!(
            p[0].to_string(),
            "cinder.conf:4: invalid section header (must end with ])"
        );
        let (_, p) = parse("a = 1\n");
        assert_eq!(p[0].line, Some(1));
        assert!(p[0].message.contains("before any [section]"));
        let (_, p) = parse("[s]\njust words\n");
        assert_eq!(p[0].line, Some(2));
        let (_, p) = parse("[s]\n= v\n");
        assert!(p[0].message.contains("empty key"));
        let (_, p) = parse("[]\n");
        assert!(p[0].message.contains("empty section"));
    }

    #[test]
    fn bom_is_accepted_with_a_warning() {
        let (ini, p) = parse("\u{feff}[DEFAULT]\na = 1\n");
        assert_eq!(val(&ini, "DEFAULT", "a"), Some("1"));
        assert_eq!(p.len(), 1);
        assert!(!p[0].is_error());
    }

    #[test]
    fn binary_and_bad_utf8_files_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin.conf");
        std::fs::write(&bin, b"[s]\x00\x01\x02").unwrap();
        let utf = dir.path().join("utf.conf");
        std::fs::write(&utf, b"[s]\na = \xff\xfe\n").unwrap();
        let mut ini = Ini::default();
        let mut p = vec![];
        ini.merge_file(&bin, &mut p);
        ini.merge_file(&utf, &mut p);
        ini.merge_file(&dir.path().join("missing.conf"), &mut p);
        assert_eq!(p.len(), 3);
        assert!(p[0].message.contains("binary"));
        assert_eq!(p[1].line, Some(2));
        assert!(p[2].message.contains("cannot read"));
    }
}
