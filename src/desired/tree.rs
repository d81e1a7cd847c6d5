//! The desired-state file as a tree of YAML values, each with where it is in the file: what
//! lets every entry of a file that does not parse be checked on its own, each error with its
//! line (see `collect.rs`).
//!
//! The tree is read by yaml_serde, the parser that reads the file itself, so the two see the
//! same structure. serde gives a visitor no position; a string scalar, though, is handed over
//! as a slice of the file's text (`visit_borrowed_str`), and where that slice starts is where
//! the scalar is. A number, a boolean or a null is found after its key, on the key's line;
//! what has no place of its own (a block scalar, a value on the next line) takes its key's
//! (see `de.rs`). A mapping is where its `{` or its first key is.

mod de;

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

pub(super) use de::{TreeError, from_node, join, unexpected};

/// A 1-based line and column (in characters), as yaml_serde counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Loc {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Kind {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Node {
    pub kind: Kind,
    pub at: Option<Loc>,
}

impl Node {
    /// A scalar as the text of a key or a name (`1234`, `true`); `None` for a collection.
    pub fn scalar_text(&self) -> Option<String> {
        Some(match &self.kind {
            Kind::Null => String::new(),
            Kind::Bool(b) => b.to_string(),
            Kind::Int(i) => i.to_string(),
            Kind::Float(f) => f.to_string(),
            Kind::Str(s) => s.clone(),
            Kind::Seq(_) | Kind::Map(_) => return None,
        })
    }
}

/// Parses `text` into a located tree. Fails where yaml_serde fails to read the file as YAML at
/// all (a syntax error, an alias bomb, nesting too deep).
pub(super) fn parse(text: &str) -> Result<Node, serde_yaml::Error> {
    let starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let lines = Lines {
        text,
        starts: &starts,
    };
    NodeSeed(&lines).deserialize(serde_yaml::Deserializer::from_str(text))
}

/// The file's text and where each of its lines starts.
struct Lines<'t> {
    text: &'t str,
    starts: &'t [usize],
}

impl Lines<'_> {
    /// Where `s` starts in the text, if it is a slice of it.
    fn offset(&self, s: &str) -> Option<usize> {
        let offset = (s.as_ptr() as usize).checked_sub(self.text.as_ptr() as usize)?;
        (offset + s.len() <= self.text.len() && self.text.is_char_boundary(offset))
            .then_some(offset)
    }
    /// Where the scalar `s` (a slice of the text) is: at its opening quote if it is quoted.
    fn of(&self, s: &str) -> Option<Loc> {
        let offset = self.offset(s)?;
        let quoted = self.text[..offset].ends_with(['"', '\'']);
        Some(self.at(if quoted { offset - 1 } else { offset }))
    }
    /// Where the value of `key` (a slice of the text) is when it is on the key's line: a
    /// number, a boolean or a null has no place of its own otherwise.
    fn value_after(&self, key: &str) -> Option<Loc> {
        let end = self.offset(key)? + key.len();
        let rest = &self.text[end..];
        let rest = rest.strip_prefix(['"', '\'']).unwrap_or(rest);
        let rest = rest.trim_start_matches([' ', '\t']).strip_prefix(':')?;
        let rest = rest.trim_start_matches([' ', '\t']);
        match rest.chars().next() {
            None | Some('\n' | '\r' | '#' | ',' | '}') => None,
            Some(_) => Some(self.at(self.text.len() - rest.len())),
        }
    }
    fn at(&self, offset: usize) -> Loc {
        let line = self.starts.partition_point(|&st| st <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let column = self
            .text
            .get(start..offset)
            .map_or(0, |t| t.chars().count())
            + 1;
        Loc { line, column }
    }
    /// A mapping is where its `{` is (a flow mapping) or where its first key is.
    fn mapping_at(&self, first_key: &Node, key_text: Option<&str>) -> Option<Loc> {
        let at = first_key.at?;
        let offset = self.offset(key_text?)?;
        let before = self.text[..offset].trim_end_matches(['"', '\'']).trim_end();
        match before.strip_suffix('{') {
            Some(rest) => Some(self.at(rest.len())),
            None => Some(at),
        }
    }
}

struct NodeSeed<'l, 't>(&'l Lines<'t>);

impl<'de> DeserializeSeed<'de> for NodeSeed<'_, '_> {
    type Value = Node;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor(self.0))
    }
}

struct NodeVisitor<'l, 't>(&'l Lines<'t>);

fn bare(kind: Kind) -> Node {
    Node { kind, at: None }
}

impl<'de> Visitor<'de> for NodeVisitor<'_, '_> {
    type Value = Node;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Node, E> {
        Ok(bare(Kind::Null))
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Node, E> {
        Ok(bare(Kind::Null))
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(bare(Kind::Bool(v)))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(bare(Kind::Int(v.into())))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(bare(Kind::Int(v.into())))
    }
    fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<Node, E> {
        Ok(bare(Kind::Int(v)))
    }
    fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Node, E> {
        Ok(bare(match i128::try_from(v) {
            Ok(i) => Kind::Int(i),
            Err(_) => Kind::Float(v as f64),
        }))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(bare(Kind::Float(v)))
    }
    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Node, E> {
        Ok(Node {
            kind: Kind::Str(v.to_string()),
            at: self.0.of(v),
        })
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(bare(Kind::Str(v.to_string())))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = vec![];
        while let Some(n) = seq.next_element_seed(NodeSeed(self.0))? {
            items.push(n);
        }
        let at = items.first().and_then(|n| n.at);
        Ok(Node {
            kind: Kind::Seq(items),
            at,
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut pairs = vec![];
        let mut at = None;
        while let Some(k) = map.next_key_seed(KeySeed(self.0))? {
            let (key, text) = k;
            if pairs.is_empty() {
                at = self.0.mapping_at(&key, text);
            }
            let mut value = map.next_value_seed(NodeSeed(self.0))?;
            if value.at.is_none() && !matches!(value.kind, Kind::Seq(_) | Kind::Map(_)) {
                value.at = text.and_then(|t| self.0.value_after(t));
            }
            pairs.push((key, value));
        }
        Ok(Node {
            kind: Kind::Map(pairs),
            at,
        })
    }
}

/// A key, and the slice of the text it is (when it is a string scalar): where its mapping's
/// `{` is found from.
struct KeySeed<'l, 't>(&'l Lines<'t>);

impl<'de> DeserializeSeed<'de> for KeySeed<'_, '_> {
    type Value = (Node, Option<&'de str>);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(KeyVisitor(self.0))
    }
}

struct KeyVisitor<'l, 't>(&'l Lines<'t>);

macro_rules! key_as_node {
    ($($f:ident: $t:ty),*) => {$(
        fn $f<E: serde::de::Error>(self, v: $t) -> Result<Self::Value, E> {
            NodeVisitor(self.0).$f(v).map(|n| (n, None))
        }
    )*};
}

impl<'de> Visitor<'de> for KeyVisitor<'_, '_> {
    type Value = (Node, Option<&'de str>);
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML key")
    }
    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        let n = Node {
            kind: Kind::Str(v.to_string()),
            at: self.0.of(v),
        };
        Ok((n, Some(v)))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok((bare(Kind::Null), None))
    }
    key_as_node!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_i128: i128,
        visit_u128: u128, visit_f64: f64, visit_str: &str);
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        NodeVisitor(self.0).visit_seq(seq).map(|n| (n, None))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        NodeVisitor(self.0).visit_map(map).map(|n| (n, None))
    }
}

#[cfg(test)]
mod tests;
