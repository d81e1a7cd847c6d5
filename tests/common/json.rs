//! Every `--json` document a test sees is checked here: it has no duplicate key, and it is
//! valid against its command's schema in `schemas/` (the files the package ships).

use std::collections::HashSet;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

/// The command whose document `args` asks for (`plan --json` → `plan`), if it asks for one.
pub fn command_of(args: &[&str]) -> Option<&'static str> {
    if !args.contains(&"--json") {
        return None;
    }
    let c = ["check", "plan", "apply", "status"]
        .into_iter()
        .find(|c| args.contains(c));
    assert!(c.is_some(), "--json with no known command in {args:?}");
    c
}

/// Panics unless `text` is one JSON document without duplicate keys, valid against
/// `schemas/<command>.schema.json`.
pub fn validate(command: &str, text: &str) -> serde_json::Value {
    let mut d = serde_json::Deserializer::from_str(text);
    if let Err(e) = NoDuplicates::deserialize(&mut d) {
        panic!("ember {command} --json: {e}:\n{text}");
    }
    let v: serde_json::Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("ember {command} --json is not JSON ({e}):\n{text}"));
    let path = format!(
        "{}/schemas/{command}.schema.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")),
    )
    .unwrap_or_else(|e| panic!("{path}: {e}"));
    let validator =
        jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{path} is no schema: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(&v)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "ember {command} --json does not match {path}:\n{}\n{text}",
        errors.join("\n")
    );
    v
}

/// Deserializes any JSON, refusing an object that repeats a key.
struct NoDuplicates;

impl<'de> Deserialize<'de> for NoDuplicates {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoDuplicatesVisitor)
    }
}

struct NoDuplicatesVisitor;

impl<'de> Visitor<'de> for NoDuplicatesVisitor {
    type Value = NoDuplicates;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_i64<E>(self, _: i64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_u64<E>(self, _: u64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_f64<E>(self, _: f64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_str<E>(self, _: &str) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_unit<E>(self) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<NoDuplicates, A::Error> {
        while s.next_element::<NoDuplicates>()?.is_some() {}
        Ok(NoDuplicates)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<NoDuplicates, A::Error> {
        let mut seen = HashSet::new();
        while let Some(k) = m.next_key::<String>()? {
            if !seen.insert(k.clone()) {
                return Err(de::Error::custom(format!("duplicate key {k:?}")));
            }
            m.next_value::<NoDuplicates>()?;
        }
        Ok(NoDuplicates)
    }
}

/// Whether `text` repeats a key in some object.
pub fn has_duplicate_key(text: &str) -> bool {
    let mut d = serde_json::Deserializer::from_str(text);
    NoDuplicates::deserialize(&mut d).is_err()
}
