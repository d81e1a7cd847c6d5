//! Reading ember's types from one node of the tree, as yaml_serde reads them from the file:
//! the same visitors, so the same messages, and each error with the path and the place of the
//! innermost node it is about (what yaml_serde does for the file as a whole).

use std::fmt;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess,
    Unexpected, Visitor,
};

use super::{Kind, Loc, Node};

/// What went wrong reading a node: serde's message, with the path (`backends.a.volumes.v1`)
/// and the place of the node it is about.
#[derive(Debug, Clone, PartialEq)]
pub(in crate::desired) struct TreeError {
    pub message: String,
    pub path: String,
    pub at: Option<Loc>,
    placed: bool,
}

impl TreeError {
    /// Places an error not placed yet: at the innermost node it came out of.
    pub(in crate::desired) fn place(mut self, at: Option<Loc>, path: &str) -> Self {
        if !self.placed {
            self.at = at;
            self.path = path.to_string();
            self.placed = true;
        }
        self
    }
}

impl fmt::Display for TreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TreeError {}

impl de::Error for TreeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        TreeError {
            message: msg.to_string(),
            path: String::new(),
            at: None,
            placed: false,
        }
    }
}

/// Reads a `T` from `node`, at `path`; a node with no place of its own is at `at` (its key's).
pub(in crate::desired) fn from_node<T: DeserializeOwned>(
    node: &Node,
    at: Option<Loc>,
    path: &str,
) -> Result<T, TreeError> {
    let at = node.at.or(at);
    T::deserialize(NodeDe { node, at, path }).map_err(|e| e.place(at, path))
}

/// `parent.key`, as yaml_serde writes a path.
pub(in crate::desired) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

struct NodeDe<'a> {
    node: &'a Node,
    at: Option<Loc>,
    path: &'a str,
}

/// What a node is, in serde's words (`invalid type: string "10G"`).
pub(in crate::desired) fn unexpected(node: &Node) -> Unexpected<'_> {
    match &node.kind {
        Kind::Null => Unexpected::Unit,
        Kind::Bool(b) => Unexpected::Bool(*b),
        Kind::Int(i) => match u64::try_from(*i) {
            Ok(u) => Unexpected::Unsigned(u),
            Err(_) => i64::try_from(*i).map_or(Unexpected::Other("integer"), Unexpected::Signed),
        },
        Kind::Float(f) => Unexpected::Float(*f),
        Kind::Str(s) => Unexpected::Str(s),
        Kind::Seq(_) => Unexpected::Seq,
        Kind::Map(_) => Unexpected::Map,
    }
}

impl<'a> NodeDe<'a> {
    fn map(&self) -> MapDe<'a> {
        let pairs: &'a [(Node, Node)] = match &self.node.kind {
            Kind::Map(p) => p,
            _ => &[],
        };
        MapDe {
            pairs: pairs.iter(),
            value: None,
            at: self.at,
            path: self.path.to_string(),
        }
    }
    fn seq(&self) -> SeqDe<'a> {
        let items: &'a [Node] = match &self.node.kind {
            Kind::Seq(s) => s,
            _ => &[],
        };
        SeqDe {
            items: items.iter(),
            index: 0,
            at: self.at,
            path: self.path.to_string(),
        }
    }
}

impl<'de> Deserializer<'de> for NodeDe<'_> {
    type Error = TreeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TreeError> {
        let (at, path) = (self.at, self.path);
        match &self.node.kind {
            Kind::Null => v.visit_unit(),
            Kind::Bool(b) => v.visit_bool(*b),
            Kind::Int(i) => match (u64::try_from(*i), i64::try_from(*i)) {
                (Ok(u), _) => v.visit_u64(u),
                (_, Ok(s)) => v.visit_i64(s),
                _ => v.visit_i128(*i),
            },
            Kind::Float(f) => v.visit_f64(*f),
            Kind::Str(s) => v.visit_str(s),
            Kind::Seq(_) => v.visit_seq(self.seq()),
            Kind::Map(_) => v.visit_map(self.map()),
        }
        .map_err(|e: TreeError| e.place(at, path))
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TreeError> {
        match self.node.kind {
            Kind::Null => v.visit_none(),
            _ => v.visit_some(self),
        }
    }

    /// A plain scalar read as a string is its text (yaml_serde's rule): `1234` is a name.
    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TreeError> {
        let (at, path) = (self.at, self.path);
        match self.node.scalar_text() {
            Some(s) => v.visit_str(&s),
            None => Err(de::Error::invalid_type(unexpected(self.node), &v)),
        }
        .map_err(|e: TreeError| e.place(at, path))
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TreeError> {
        self.deserialize_str(v)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TreeError> {
        self.deserialize_str(v)
    }

    /// A mapping; an empty value (YAML null) is an empty one, as yaml_serde reads it.
    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TreeError> {
        let (at, path) = (self.at, self.path);
        match self.node.kind {
            Kind::Map(_) | Kind::Null => v.visit_map(self.map()),
            _ => Err(de::Error::invalid_type(unexpected(self.node), &v)),
        }
        .map_err(|e: TreeError| e.place(at, path))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, TreeError> {
        self.deserialize_map(v)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TreeError> {
        let (at, path) = (self.at, self.path);
        match self.node.kind {
            Kind::Seq(_) | Kind::Null => v.visit_seq(self.seq()),
            _ => Err(de::Error::invalid_type(unexpected(self.node), &v)),
        }
        .map_err(|e: TreeError| e.place(at, path))
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, v: V) -> Result<V::Value, TreeError> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        v: V,
    ) -> Result<V::Value, TreeError> {
        self.deserialize_seq(v)
    }

    /// A unit variant, written as its name (`state: absent`).
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, TreeError> {
        let (at, path) = (self.at, self.path);
        match &self.node.kind {
            Kind::Str(s) => v.visit_enum(s.as_str().into_deserializer()),
            _ => Err(de::Error::invalid_type(unexpected(self.node), &v)),
        }
        .map_err(|e: TreeError| e.place(at, path))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value, TreeError> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TreeError> {
        v.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf unit
        unit_struct
    }
}

struct MapDe<'a> {
    pairs: std::slice::Iter<'a, (Node, Node)>,
    value: Option<(&'a Node, Option<Loc>, String)>,
    at: Option<Loc>,
    path: String,
}

impl<'de> MapAccess<'de> for MapDe<'_> {
    type Error = TreeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, TreeError> {
        let Some((k, v)) = self.pairs.next() else {
            return Ok(None);
        };
        let at = k.at.or(self.at);
        let name = k.scalar_text().unwrap_or_else(|| "?".into());
        self.value = Some((v, at, join(&self.path, &name)));
        let key = NodeDe {
            node: k,
            at,
            path: &self.path,
        };
        seed.deserialize(key).map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, TreeError> {
        let Some((node, key_at, path)) = self.value.take() else {
            return Err(de::Error::custom("a value without its key"));
        };
        let at = node.at.or(key_at);
        seed.deserialize(NodeDe {
            node,
            at,
            path: &path,
        })
        .map_err(|e| e.place(at, &path))
    }
}

struct SeqDe<'a> {
    items: std::slice::Iter<'a, Node>,
    index: usize,
    at: Option<Loc>,
    path: String,
}

impl<'de> SeqAccess<'de> for SeqDe<'_> {
    type Error = TreeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, TreeError> {
        let Some(node) = self.items.next() else {
            return Ok(None);
        };
        let path = format!("{}[{}]", self.path, self.index);
        self.index += 1;
        let at = node.at.or(self.at);
        seed.deserialize(NodeDe {
            node,
            at,
            path: &path,
        })
        .map(Some)
        .map_err(|e| e.place(at, &path))
    }
}
