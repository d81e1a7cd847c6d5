//! Names that reach an `lvm` command line: validated against LVM's own rules before use.
//!
//! LVM accepts `[A-Za-z0-9+_.-]`, no leading `-` (it would read as an option), not `.`/`..`,
//! at most 127 characters, and reserves some prefixes and component suffixes for its internal
//! LVs (lvm2 `lib/metadata/metadata.c`, `apply_lvname_restrictions`).

use std::fmt;

pub mod target;

/// LVM's limit (NAME_LEN 128 including the terminating NUL).
pub const MAX_NAME_LEN: usize = 127;

/// The tag ember puts on every LV it creates: "ember's" (see [`Tag`] for whose).
pub const OWNERSHIP_TAG: &str = "ember-managed";
/// On a volume ember adopted (it did not create it): never recreated empty when its pool does
/// not know it, as a half-created volume of ember's own is.
pub const ADOPTED_TAG: &str = "ember-adopted";
/// On a volume ember made from a source (a snapshot or a volume): never recreated empty, which
/// would not be the copy declared (LVM forgets the source once it is deleted; the tag stays).
pub const COPY_TAG: &str = "ember-copy";
/// On a volume whose deletion began with a clear (`volume_clear`): `ember-clearing=<lv_uuid>`,
/// set before the first zero is written, so that a clear cut short (a crash, a power cut, a
/// stop) is found by the next pass, which clears it again and removes it whatever the desired
/// state says by then (its data is partly gone: it cannot be kept). The UUID binds the tag to
/// that LV: on another LV (one given the name since) it means nothing.
pub const CLEARING_TAG_PREFIX: &str = "ember-clearing=";
/// The tag that names the backend that created (or adopted) an LV: `ember-backend=<name>`.
pub const BACKEND_TAG_PREFIX: &str = "ember-backend=";
/// The mark of a volume that a backend with `prune: true` found undeclared:
/// `ember-undeclared-since=<unix seconds>`. It is deleted `prune_grace` seconds later if it is
/// still undeclared; declared again, the mark is removed.
pub const MARK_TAG_PREFIX: &str = "ember-undeclared-since=";

/// The start of every snapshot's name, as cinder names them (`_snapshot-<id>`: lvm reserves
/// names that start with `snapshot`).
pub const SNAPSHOT_PREFIX: &str = "_snapshot-";

/// `snapshot` or `volume` for an LV name, by cinder's prefix (see [`LvName::is_snapshot_name`]).
pub fn noun(name: &str) -> &'static str {
    if name.starts_with(SNAPSHOT_PREFIX) {
        "snapshot"
    } else {
        "volume"
    }
}

const RESERVED_PREFIXES: &[&str] = &["pvmove", "snapshot"];
const RESERVED_SUBSTRINGS: &[&str] = &[
    "_cdata", "_cmeta", "_corig", "_cpool", "_cvol", "_wcorig", "_mimage", "_mlog", "_rimage",
    "_rmeta", "_tdata", "_tmeta", "_vdata", "_vorigin", "_pmspare", "_vdo",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("name is empty")]
    Empty,
    #[error("name {0:?} is longer than {MAX_NAME_LEN} characters")]
    TooLong(String),
    #[error("name {0:?} starts with '-' (it would be read as an option)")]
    LeadingDash(String),
    #[error("name {0:?} is not allowed ('.' and '..' are reserved)")]
    Dots(String),
    #[error("name {name:?} contains {ch:?}: only A-Z a-z 0-9 + _ . - are allowed")]
    BadChar { name: String, ch: char },
    #[error(
        "name {name:?} uses the reserved {what} {reserved:?} (LVM keeps it for internal volumes)"
    )]
    Reserved {
        name: String,
        what: &'static str,
        reserved: &'static str,
    },
}

fn check_common(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if let Some(ch) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "+_.-".contains(*c)))
    {
        return Err(NameError::BadChar {
            name: name.to_string(),
            ch,
        });
    }
    if name.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong(name.to_string()));
    }
    if name.starts_with('-') {
        return Err(NameError::LeadingDash(name.to_string()));
    }
    if name == "." || name == ".." {
        return Err(NameError::Dots(name.to_string()));
    }
    Ok(())
}

/// A volume group name LVM accepts.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, schemars::JsonSchema,
)]
#[serde(transparent)]
pub struct VgName(String);

impl VgName {
    pub fn new(name: &str) -> Result<Self, NameError> {
        check_common(name)?;
        Ok(Self(name.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A logical volume name LVM accepts and that cannot collide with LVM's internal volumes.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, schemars::JsonSchema,
)]
#[serde(transparent)]
pub struct LvName(String);

impl LvName {
    pub fn new(name: &str) -> Result<Self, NameError> {
        check_common(name)?;
        for p in RESERVED_PREFIXES {
            if name.starts_with(p) {
                return Err(NameError::Reserved {
                    name: name.into(),
                    what: "prefix",
                    reserved: p,
                });
            }
        }
        for s in RESERVED_SUBSTRINGS {
            if name.contains(s) {
                return Err(NameError::Reserved {
                    name: name.into(),
                    what: "suffix",
                    reserved: s,
                });
            }
        }
        Ok(Self(name.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Named as a snapshot (`_snapshot-…`): ember declares and makes snapshots only under such
    /// names, and volumes never.
    pub fn is_snapshot_name(&self) -> bool {
        self.0.starts_with(SNAPSHOT_PREFIX)
    }
    /// `snapshot` or `volume`, as plans and logs name it.
    pub fn noun(&self) -> &'static str {
        noun(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for LvName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        LvName::new(&s).map_err(serde::de::Error::custom)
    }
}

/// Reads as its text (`len`, `starts_with`, comparisons with `&str`).
impl std::ops::Deref for LvName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for LvName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for LvName {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<LvName> for &str {
    fn eq(&self, other: &LvName) -> bool {
        *self == other.0
    }
}

/// Ordered, compared and hashed exactly as its text, so maps keyed by LvName look up by &str.
impl std::borrow::Borrow<str> for LvName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VgName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Display for LvName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An LV's UUID as lvm reports it (`lv_uuid`): 32 letters and digits in groups of 6-4-4-4-4-4-6
/// joined by `-` (lvm2's `id_write_format`). It reaches lvm's command line inside a selection
/// (`--select lv_uuid=...`), so nothing else is accepted.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, schemars::JsonSchema,
)]
#[serde(transparent)]
pub struct LvUuid(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an LVM UUID (32 letters and digits, grouped 6-4-4-4-4-4-6 by '-')")]
pub struct UuidError(String);

impl LvUuid {
    pub fn new(uuid: &str) -> Result<Self, UuidError> {
        const GROUPS: [usize; 7] = [6, 4, 4, 4, 4, 4, 6];
        let parts: Vec<&str> = uuid.split('-').collect();
        let ok = parts.len() == GROUPS.len()
            && parts
                .iter()
                .zip(GROUPS)
                .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_alphanumeric()));
        if ok {
            Ok(LvUuid(uuid.to_string()))
        } else {
            Err(UuidError(uuid.to_string()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> serde::Deserialize<'de> for LvUuid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        LvUuid::new(&s).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for LvUuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An LVM tag: `A-Za-z0-9._+-/=!:&#` (lvm2's `validate_tag`), not starting with `-` (it would be
/// read as an option), and without `#` (the lvm shell reads it as a comment).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, schemars::JsonSchema,
)]
#[serde(transparent)]
pub struct Tag(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not an LVM tag ember can write (A-Z a-z 0-9 . _ + - / = ! : &, not starting with -)"
)]
pub struct TagError(String);

impl Tag {
    pub fn new(tag: &str) -> Result<Self, TagError> {
        let ok = !tag.is_empty()
            && !tag.starts_with('-')
            && tag.len() <= 1024
            && tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._+-/=!:&".contains(c));
        if ok {
            Ok(Tag(tag.to_string()))
        } else {
            Err(TagError(tag.to_string()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// `ember-managed`.
    pub fn managed() -> Tag {
        Tag(OWNERSHIP_TAG.to_string())
    }
    /// `ember-adopted`: made by someone else (cinder-volume), adopted.
    pub fn adopted() -> Tag {
        Tag(ADOPTED_TAG.to_string())
    }
    /// `ember-copy`: made from a snapshot or cloned from a volume.
    pub fn copy() -> Tag {
        Tag(COPY_TAG.to_string())
    }
    /// `ember-clearing=<lv_uuid>`: the LV with this UUID is being cleared before its deletion.
    pub fn clearing(uuid: &str) -> Result<Tag, TagError> {
        Tag::new(&format!("{CLEARING_TAG_PREFIX}{uuid}"))
    }
    /// `ember-backend=<name>`: the backend name in LVM's tag alphabet. Bytes other than
    /// `A-Za-z0-9._+-` are written `:` and two lowercase hex digits (`:` itself is `:3a`), so
    /// the encoding is reversible and two backend names never share a tag.
    pub fn backend(name: &str) -> Tag {
        Tag(format!("{BACKEND_TAG_PREFIX}{}", encode_tag_value(name)))
    }
    /// `ember-undeclared-since=<unix seconds>`.
    pub fn mark(since: u64) -> Tag {
        Tag(format!("{MARK_TAG_PREFIX}{since}"))
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// See [`Tag::backend`].
pub fn encode_tag_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"._+-".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!(":{b:02x}"));
        }
    }
    out
}

/// The inverse of [`encode_tag_value`]; `None` for text it never produces.
pub fn decode_tag_value(v: &str) -> Option<String> {
    let mut bytes = vec![];
    let mut it = v.bytes();
    while let Some(b) = it.next() {
        if b == b':' {
            let hex = [it.next()?, it.next()?];
            let hex = std::str::from_utf8(&hex).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
        } else {
            bytes.push(b);
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests;
