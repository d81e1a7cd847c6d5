//! Where in the file a problem is: serde_yaml's location, moved to the line an operator looks
//! for, and the line of a key found after parsing.

use std::path::Path;

use super::{NULL_SNAPSHOTS, NULL_VOLUMES};
use crate::problem::Problem;

/// The 1-based line where `key:` appears as a mapping key below the top level (best effort,
/// for errors found after parsing).
pub(super) fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let t = l.trim_start();
            t.len() < l.len()
                && [
                    format!("{key}:"),
                    format!("\"{key}\":"),
                    format!("'{key}':"),
                ]
                .iter()
                .any(|k| t.starts_with(k.as_str()))
        })
        .map(|i| i + 1)
}

/// What the file's parts are, in the words of the file rather than of ember's types (serde
/// names the Rust type it expected: `expected struct RawVolume`).
const EXPECTED: &[(&str, &str)] = &[
    (
        "struct RawVolume",
        "a volume: a mapping such as `{ size: 10G }` (a bare `NAME: 10G` is not one)",
    ),
    (
        "struct RawSnapshot",
        "a snapshot: a mapping such as `{ volume: NAME }`",
    ),
    (
        "struct RawSource",
        "a source: `{ snapshot: NAME }` or `{ volume: NAME }`",
    ),
    (
        "struct RawVg",
        "a volume group: a mapping such as `{ devices: [/dev/disk/by-id/...] }`",
    ),
    (
        "struct RawPool",
        "a thin pool: a mapping such as `{ size: 90% }`",
    ),
    (
        "struct RawAutoextend",
        "autoextend: a mapping such as `{ threshold: 80%, step: 20%, max: 2T }`",
    ),
    ("enum VolumeState", "a state: `present` or `absent`"),
    (
        "struct RawBackend",
        "a backend: a mapping of volume_group, thin_pool, volumes, snapshots, prune, adopt",
    ),
    (
        "struct RawTop",
        "the desired state: a mapping whose one key is `backends`",
    ),
    (
        "struct RawFile",
        "the desired state: a mapping whose one key is `backends`",
    ),
];

/// serde's message in the file's words.
pub(super) fn in_the_files_words(msg: &str) -> String {
    let mut msg = msg.to_string();
    for (rust, words) in EXPECTED {
        msg = msg.replace(rust, words);
    }
    msg
}

/// The character at a 1-based line and column of `text`.
fn char_at(text: &str, line: usize, column: usize) -> Option<char> {
    text.lines()
        .nth(line.checked_sub(1)?)?
        .chars()
        .nth(column.checked_sub(1)?)
}

pub(super) fn yaml_problem(path: &Path, text: &str, e: &serde_yaml::Error) -> Problem {
    let mut msg = e.to_string();
    // serde_yaml appends " at line L column C"; we put the location in front instead
    if let Some(i) = msg.find(" at line ") {
        msg.truncate(i);
    }
    let mut msg = in_the_files_words(&msg);
    let mut line = e.location().map(|l| l.line());
    let mut column = e.location().map(|l| l.column());
    if let (Some(l), Some(c)) = (line, column)
        && char_at(text, l, c) == Some('\t')
    {
        msg = "a tab: YAML indents with spaces only (replace the tab with spaces)".to_string();
    }
    // serde_yaml marks a duplicate at the start of its mapping: point at the second occurrence
    if let (Some(start), Some(key)) = (
        line,
        msg.split("duplicate key \"")
            .nth(1)
            .and_then(|k| k.split('"').next()),
    ) && let Some(second) = key_line(
        &text.lines().skip(start).collect::<Vec<_>>().join("\n"),
        key,
    ) {
        line = Some(start + second);
        column = None;
    }
    // serde_yaml marks a null `volumes:` (or `snapshots:`) at the start of its backend's
    // mapping: point at it
    for (null, key) in [(NULL_VOLUMES, "volumes"), (NULL_SNAPSHOTS, "snapshots")] {
        if msg.contains(null)
            && let Some(start) = line
            && let Some(at) = key_line(
                &text.lines().skip(start - 1).collect::<Vec<_>>().join("\n"),
                key,
            )
        {
            line = Some(start - 1 + at);
            column = None;
        }
    }
    let mut p = Problem::error(Some(path.into()), line, msg);
    p.column = column;
    p
}
