//! Names that reach an `lvm` command line: validated against LVM's own rules before use.
//!
//! LVM accepts `[A-Za-z0-9+_.-]`, no leading `-` (it would read as an option), not `.`/`..`,
//! at most 127 characters, and reserves some prefixes and component suffixes for its internal
//! LVs (lvm2 `lib/metadata/metadata.c`, `apply_lvname_restrictions`).

use std::fmt;

/// LVM's limit (NAME_LEN 128 including the terminating NUL).
pub const MAX_NAME_LEN: usize = 127;

/// The tag ember puts on every LV it creates; only LVs carrying it are ever changed.
pub const OWNERSHIP_TAG: &str = "ember-managed";

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
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
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
}

impl<'de> serde::Deserialize<'de> for LvName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        LvName::new(&s).map_err(serde::de::Error::custom)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_cinder_style_names() {
        assert!(LvName::new("volume-8d0b5c52-1f2e-4b4e-9a51-0f1f2a3b4c5d").is_ok());
        assert!(LvName::new("a+b_c.d-e").is_ok());
        assert!(VgName::new("cinder-volumes").is_ok());
    }

    #[test]
    fn rejects_what_lvm_rejects_or_reads_as_an_option() {
        for bad in [
            "",
            "-rf",
            "../x",
            "a/b",
            ".",
            "..",
            "snapshot",
            "snapshot1",
            "pvmove0",
            "x_tmeta",
            "x_tdata",
            "a_rimage_1",
            "vol ume",
            "résumé",
            "a$b",
            "a\nb",
        ] {
            assert!(LvName::new(bad).is_err(), "{bad:?} must be rejected");
        }
        assert!(LvName::new(&"a".repeat(127)).is_ok());
        assert!(matches!(
            LvName::new(&"a".repeat(200)),
            Err(NameError::TooLong(_))
        ));
        assert!(VgName::new("-vg").is_err());
    }

    #[test]
    fn error_messages_say_why() {
        let e = LvName::new("x_tmeta").unwrap_err().to_string();
        assert!(e.contains("reserved") && e.contains("_tmeta"), "{e}");
        let e = LvName::new("-rf").unwrap_err().to_string();
        assert!(e.contains("option"), "{e}");
    }
}
