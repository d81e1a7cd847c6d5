//! `lv_attr`, parsed once (lvs(8), "lv_attr bits"): ten characters, each a field.
//!
//! ```text
//! twi-aotzD-   t thin pool, w writeable, i inherited allocation, - no fixed minor,
//!              a active, o open, t thin target, z zeroes new blocks, D out of data space,
//!              - no activation skip
//! ```

use serde::{Deserialize, Serialize};

/// The ninth character: the volume's health as lvm reports it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    #[default]
    Ok,
    /// `p`: a physical volume it uses is missing.
    Partial,
    /// `X`: lvm cannot tell.
    Unknown,
    /// `F`: a thin pool that failed; needs a repair by hand (`lvconvert --repair`).
    Failed,
    /// `D`: a thin pool out of data space.
    OutOfData,
    /// `M`: a thin pool whose metadata went read-only; needs a repair by hand.
    MetadataReadOnly,
    /// Any other mark (RAID refresh needed, mismatches, writecache error, ...).
    Other,
}

impl Health {
    fn from_char(c: char) -> Health {
        match c {
            '-' => Health::Ok,
            'p' => Health::Partial,
            'X' => Health::Unknown,
            'F' => Health::Failed,
            'D' => Health::OutOfData,
            'M' => Health::MetadataReadOnly,
            _ => Health::Other,
        }
    }

    /// A thin pool in this state takes no write at all until it is repaired by hand.
    pub fn needs_repair(self) -> bool {
        matches!(self, Health::Failed | Health::MetadataReadOnly)
    }

    pub fn describe(self) -> &'static str {
        match self {
            Health::Ok => "ok",
            Health::Partial => "partial (a physical volume is missing)",
            Health::Unknown => "unknown",
            Health::Failed => "failed",
            Health::OutOfData => "out of data space",
            Health::MetadataReadOnly => "metadata read-only",
            Health::Other => "marked by lvm",
        }
    }
}

/// The fields of `lv_attr` ember uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LvAttr {
    /// First character: `t` thin pool, `V` thin volume, `-` plain, `s` snapshot, ...
    pub volume_type: char,
    /// Fifth: `a` active, `-` inactive, or another state (suspended, ...).
    pub state: char,
    /// Eighth: `z` when a thin pool zeroes newly provisioned blocks.
    pub zeroes: bool,
    /// Ninth.
    pub health: Health,
    /// Tenth: `k` when activation skips it (a snapshot, as cinder and ember leave them).
    pub skip_activation: bool,
}

impl LvAttr {
    /// lvm prints ten characters (older versions nine, without the activation skip flag).
    pub fn parse(attr: &str) -> Result<LvAttr, String> {
        let c: Vec<char> = attr.chars().collect();
        if c.len() < 9 || !attr.is_ascii() {
            return Err(format!("lv_attr {attr:?} is not lvm's 9 or 10 characters"));
        }
        Ok(LvAttr {
            volume_type: c[0],
            state: c[4],
            zeroes: c[7] == 'z',
            health: Health::from_char(c[8]),
            skip_activation: c.get(9) == Some(&'k'),
        })
    }

    /// Inactive: no device. A suspended or otherwise odd state is not "inactive": ember leaves
    /// those to the operator.
    pub fn inactive(&self) -> bool {
        self.state == '-'
    }
}

#[cfg(test)]
mod tests;
