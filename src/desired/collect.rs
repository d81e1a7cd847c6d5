//! Every error of a desired-state file that does not parse as a whole, each with its line: the
//! file read as a located tree (`tree.rs`), then each backend, each of its settings and each
//! volume and snapshot read on its own, so that one mistake does not hide the next.
//!
//! Which backends are rejected is yaml_serde's word alone (`strict.rs`): the tree only finds
//! every error of a part yaml_serde rejects, and a rejected part is rejected whole (what of it
//! is valid is still checked by the rules across entries, for their errors, and never applied).

use std::collections::BTreeMap;
use std::path::Path;

use serde::de::{DeserializeOwned, Error as _};

use super::locate::{in_the_files_words, yaml_problem};
use super::tree::{self, Kind, Loc, Node, TreeError, from_node, join, unexpected};
use super::{BackendDesired, NULL_SNAPSHOTS, NULL_VOLUMES, UniqueMap, strict};
use crate::names::LvName;
use crate::problem::Problem;

/// One backend's part of a file that does not parse as a whole: every error in it, and what of
/// it is valid.
#[derive(Debug, Default)]
pub(super) struct Part {
    pub problems: Vec<Problem>,
    pub valid: BackendDesired,
}

/// The backends whose parts parse, and the others'.
pub(super) type Split = (BTreeMap<String, BackendDesired>, BTreeMap<String, Part>);

/// After the file failed to parse as a whole: the backends whose parts parse and, for each of
/// the others, every error found in it; or, for an error in no backend's part (YAML syntax,
/// the top level), the whole file's errors.
pub(super) fn split(path: &Path, text: &str) -> Result<Split, Vec<Problem>> {
    let found = tree::parse(text).ok().map(|t| find(path, &t));
    let (good, bad) = match strict::split(text) {
        Ok(v) => v,
        Err(e) => {
            return Err(match found {
                Some(f) if !f.top.is_empty() => f
                    .top
                    .into_iter()
                    .chain(f.parts.into_values().flat_map(|p| p.problems))
                    .collect(),
                _ => vec![yaml_problem(path, text, &e)],
            });
        }
    };
    let mut parts = found.map(|f| f.parts).unwrap_or_default();
    let bad = bad
        .into_iter()
        .map(|(name, e)| {
            let part = match parts.remove(&name) {
                Some(p) if !p.problems.is_empty() => p,
                // what the tree did not see, yaml_serde did: its error stands
                _ => Part {
                    problems: vec![yaml_problem(path, text, &e)],
                    valid: BackendDesired::default(),
                },
            };
            (name, part)
        })
        .collect();
    Ok((good, bad))
}

/// The file's errors outside any backend's part (they reject the whole file), and each part.
struct Found {
    top: Vec<Problem>,
    parts: BTreeMap<String, Part>,
}

/// Where errors go: each with the file, its line and column, its path and the file's words.
struct Sink<'p> {
    file: &'p Path,
    problems: Vec<Problem>,
}

impl Sink<'_> {
    fn push(&mut self, e: TreeError) {
        let msg = in_the_files_words(&e.message);
        let msg = match e.path.as_str() {
            "" => msg,
            path => format!("{path}: {msg}"),
        };
        let mut p = Problem::error(Some(self.file.to_path_buf()), e.at.map(|a| a.line), msg);
        p.column = e.at.map(|a| a.column);
        self.problems.push(p);
    }
    fn error(&mut self, e: TreeError, at: Option<Loc>, path: &str) {
        self.push(e.place(at, path));
    }
    /// Reads a `T` from `node`; `None`, and the error kept, when it is not one.
    fn read<T: DeserializeOwned>(&mut self, node: &Node, at: Option<Loc>, path: &str) -> Option<T> {
        from_node(node, at, path).map_err(|e| self.push(e)).ok()
    }
    fn take(&mut self) -> Vec<Problem> {
        std::mem::take(&mut self.problems)
    }
}

fn find(file: &Path, tree: &Node) -> Found {
    let mut sink = Sink {
        file,
        problems: vec![],
    };
    let mut parts = BTreeMap::new();
    let what = "the desired state: a mapping whose one key is `backends`";
    let Kind::Map(pairs) = &tree.kind else {
        sink.error(
            TreeError::invalid_type(unexpected(tree), &what),
            tree.at,
            "",
        );
        return Found {
            top: sink.take(),
            parts,
        };
    };
    let mut backends = None;
    for (k, v) in pairs {
        match k.scalar_text().as_deref() {
            Some("backends") if backends.is_none() => backends = Some((k, v)),
            Some("backends") => sink.error(TreeError::duplicate_field("backends"), k.at, ""),
            other => sink.error(
                TreeError::unknown_field(other.unwrap_or("?"), &["backends"]),
                k.at,
                "",
            ),
        }
    }
    match backends.map(|(k, v)| (k, &v.kind)) {
        // (`backend:` is `unknown field`, which says what was meant)
        None if !sink.problems.is_empty() => {}
        None => sink.error(TreeError::missing_field("backends"), tree.at, ""),
        Some((_, Kind::Null)) => {}
        Some((_, Kind::Map(pairs))) => {
            for (k, v) in pairs {
                let name = k.scalar_text().unwrap_or_else(|| "?".into());
                if parts.contains_key(&name) {
                    let dup = TreeError::custom(format!("duplicate key \"{name}\""));
                    sink.error(dup, k.at, "backends");
                    continue;
                }
                let part = backend(file, &name, k.at, v);
                parts.insert(name, part);
            }
        }
        Some((k, _)) => {
            let v = backends.map_or(tree, |(_, v)| v);
            let e = TreeError::invalid_type(unexpected(v), &"a mapping");
            sink.error(e, v.at.or(k.at), "backends");
        }
    }
    Found {
        top: sink.take(),
        parts,
    }
}

const FIELDS: &[&str] = &[
    "volume_group",
    "thin_pool",
    "prune",
    "adopt",
    "volumes",
    "snapshots",
];

/// One backend's part: each setting, each volume and each snapshot read on its own.
fn backend(file: &Path, name: &str, key_at: Option<Loc>, node: &Node) -> Part {
    let mut sink = Sink {
        file,
        problems: vec![],
    };
    let path = join("backends", name);
    let at = node.at.or(key_at);
    let mut b = BackendDesired::default();
    let pairs: &[(Node, Node)] = match &node.kind {
        Kind::Map(p) => p,
        // an empty backend (`lvm-1:`) is one with nothing declared
        Kind::Null => &[],
        _ => {
            let what =
                "a backend: a mapping of volume_group, thin_pool, volumes, snapshots, prune, adopt";
            sink.error(TreeError::invalid_type(unexpected(node), &what), at, &path);
            return Part {
                problems: sink.take(),
                valid: b,
            };
        }
    };
    let mut seen = vec![];
    for (k, v) in pairs {
        let field = k.scalar_text().unwrap_or_else(|| "?".into());
        let kat = k.at.or(at);
        if !FIELDS.contains(&field.as_str()) {
            sink.error(TreeError::unknown_field(&field, FIELDS), kat, &path);
            continue;
        }
        if seen.contains(&field) {
            let dup = FIELDS.iter().find(|f| **f == field).copied().unwrap_or("?");
            sink.error(TreeError::duplicate_field(dup), kat, &path);
            continue;
        }
        let fpath = join(&path, &field);
        match field.as_str() {
            "volume_group" => b.volume_group = sink.read(v, kat, &fpath).flatten(),
            "thin_pool" => b.thin_pool = sink.read(v, kat, &fpath).flatten(),
            "prune" => b.prune = sink.read(v, kat, &fpath).unwrap_or_default(),
            "adopt" => b.adopt = sink.read(v, kat, &fpath).unwrap_or_default(),
            "volumes" => {
                if let Some(m) = entries(&mut sink, v, kat, &fpath, NULL_VOLUMES) {
                    b.volumes = m;
                    b.volumes_listed = true;
                }
            }
            _ => {
                if let Some(m) = entries(&mut sink, v, kat, &fpath, NULL_SNAPSHOTS) {
                    b.snapshots = m;
                    b.snapshots_listed = true;
                }
            }
        }
        seen.push(field);
    }
    Part {
        problems: sink.take(),
        valid: b,
    }
}

/// `volumes:` or `snapshots:`: each entry's name and value read on its own; the valid ones.
fn entries<V: DeserializeOwned>(
    sink: &mut Sink,
    node: &Node,
    key_at: Option<Loc>,
    path: &str,
    null: &str,
) -> Option<UniqueMap<LvName, V>> {
    let pairs = match &node.kind {
        Kind::Map(p) => p,
        Kind::Null => {
            sink.error(TreeError::custom(null), key_at, path);
            return None;
        }
        _ => {
            let e = TreeError::invalid_type(unexpected(node), &"a mapping");
            sink.error(e, node.at.or(key_at), path);
            return None;
        }
    };
    let mut seen = std::collections::HashSet::new();
    let mut out = vec![];
    for (k, v) in pairs {
        let kat = k.at.or(key_at);
        let text = k.scalar_text().unwrap_or_else(|| "?".into());
        if !seen.insert(text.clone()) {
            let dup = TreeError::custom(format!("duplicate key \"{text}\""));
            sink.error(dup, kat, path);
            continue;
        }
        let name = sink.read::<LvName>(k, kat, path);
        let value = sink.read::<V>(v, kat, &join(path, &text));
        if let (Some(n), Some(v)) = (name, value) {
            out.push((n, v));
        }
    }
    Some(out.into_iter().collect())
}

#[cfg(test)]
mod tests;
