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

pub(super) fn yaml_problem(path: &Path, text: &str, e: &serde_yaml::Error) -> Problem {
    let mut msg = e.to_string();
    // serde_yaml appends " at line L column C"; we put the location in front instead
    if let Some(i) = msg.find(" at line ") {
        msg.truncate(i);
    }
    let mut line = e.location().map(|l| l.line());
    let mut column = e.location().map(|l| l.column());
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
