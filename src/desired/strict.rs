//! The file as yaml_serde reads it in one piece, some backends left unread: what decides which
//! backends' parts are valid and what they hold. (`collect.rs` only finds every error of the
//! parts that are not: it never decides what is applied.)

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::BackendDesired;

/// Each backend of the file, in one read of it: `None` for those `skip` leaves unread.
pub(super) type Backends = BTreeMap<String, Option<BackendDesired>>;

/// The backends whose parts parse, and yaml_serde's error in each of the others.
pub(super) type Split = (
    BTreeMap<String, BackendDesired>,
    BTreeMap<String, serde_yaml::Error>,
);

/// Reads `text`, each backend for which `skip` says so left unread (but still a key).
pub(super) fn read(text: &str, skip: &dyn Fn(&str) -> bool) -> Result<Backends, serde_yaml::Error> {
    File(skip).deserialize(serde_yaml::Deserializer::from_str(text))
}

/// The backends whose parts parse, and one error for each of the others (yaml_serde's first in
/// it), after the file failed as a whole. Each read leaves out the backends found broken so
/// far and finds the next one: as many reads as broken backends, plus one. `Err`: an error
/// that is in no backend's part (the file's top level), which rejects the whole file.
pub(super) fn split(text: &str) -> Result<Split, serde_yaml::Error> {
    let names: Vec<String> = read(text, &|_| true)?.into_keys().collect();
    let mut bad: BTreeMap<String, serde_yaml::Error> = BTreeMap::new();
    loop {
        let read = read(text, &|n| bad.contains_key(n));
        match read {
            Ok(all) => {
                let good = all.into_iter().filter_map(|(n, b)| Some((n, b?))).collect();
                return Ok((good, bad));
            }
            Err(e) => match backend_of(&e, &names) {
                Some(name) if !bad.contains_key(&name) => {
                    bad.insert(name, e);
                }
                _ => return Err(e),
            },
        }
    }
}

/// The backend whose part an error is in, from its path (`backends.lvm-1.volumes.v1: …`); the
/// longest name that fits, for names with dots.
fn backend_of(e: &serde_yaml::Error, names: &[String]) -> Option<String> {
    let msg = e.to_string();
    let rest = msg.strip_prefix("backends.")?;
    names
        .iter()
        .filter(|n| {
            rest.strip_prefix(n.as_str())
                .is_some_and(|r| r.starts_with('.') || r.starts_with(':'))
        })
        .max_by_key(|n| n.len())
        .cloned()
}

struct File<'s>(&'s dyn Fn(&str) -> bool);

impl<'de> DeserializeSeed<'de> for File<'_> {
    type Value = Backends;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Backends, D::Error> {
        d.deserialize_struct("RawFile", &["backends"], self)
    }
}

impl<'de> Visitor<'de> for File<'_> {
    type Value = Backends;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct RawFile")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Backends, A::Error> {
        let mut backends = None;
        while let Some(k) = m.next_key::<String>()? {
            if k != "backends" {
                return Err(de::Error::unknown_field(&k, &["backends"]));
            }
            if backends.is_some() {
                return Err(de::Error::duplicate_field("backends"));
            }
            backends = Some(m.next_value_seed(Parts(self.0))?);
        }
        backends.ok_or_else(|| de::Error::missing_field("backends"))
    }
}

/// `backends:`, each part read or left unread.
struct Parts<'s>(&'s dyn Fn(&str) -> bool);

impl<'de> DeserializeSeed<'de> for Parts<'_> {
    type Value = Backends;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Backends, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Parts<'_> {
    type Value = Backends;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Backends, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(k) = m.next_key::<String>()? {
            if out.contains_key(&k) {
                return Err(de::Error::custom(format!("duplicate key \"{k}\"")));
            }
            let b = if (self.0)(&k) {
                m.next_value::<IgnoredAny>()?;
                None
            } else {
                Some(m.next_value::<BackendDesired>()?)
            };
            out.insert(k, b);
        }
        Ok(out)
    }
}
