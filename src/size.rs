//! Sizes as operators write them (`512M`, `10G`, `1.5T`, `1073741824`, `90%`) and the extent
//! arithmetic LVM applies to them.

use std::fmt;

const UNITS: &[(char, u32)] = &[
    ('K', 10),
    ('M', 20),
    ('G', 30),
    ('T', 40),
    ('P', 50),
    ('E', 60),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    #[error(
        "invalid size {0:?}: expected a number with an optional binary unit (K, M, G, T, P), e.g. 10G"
    )]
    Syntax(String),
    #[error("size {0:?} is too large")]
    Overflow(String),
    #[error("size {0:?} is zero")]
    Zero(String),
    #[error("invalid percentage {0:?}: expected more than 0% and at most 100%")]
    Percent(String),
    #[error("a percentage ({0:?}) is only allowed for the thin pool")]
    PercentNotAllowed(String),
    #[error(
        "size {0} has no unit: cinder's sizes are GiB ({0}G), lvm reads a bare number as MiB ({0}M), and bytes are written {0}B"
    )]
    NoUnit(String),
    #[error(
        "size {0:?} is ambiguous: {1}B means 1000s to some and 1024s to others; write {2}{1} or {2}{1}iB (binary: the unit lvm and cinder use), or the number of bytes with B"
    )]
    Ambiguous(String, char, String),
}

/// A size in bytes. Binary units only: `1K` = `1KiB` = 1024; `1KB` is refused as ambiguous.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, schemars::JsonSchema,
)]
#[serde(transparent)]
pub struct Bytes(pub u64);

impl Bytes {
    pub fn parse(text: &str) -> Result<Self, SizeError> {
        let s = text.trim();
        let syntax = || SizeError::Syntax(text.to_string());
        let split = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let (number, unit) = s.split_at(split);
        let unit = unit.trim_start();
        let shift = match unit.to_ascii_uppercase().as_str() {
            // a bare number is 10 GiB to an operator from cinder and 10 MiB to lvm
            "" if number.is_empty() => return Err(syntax()),
            "" => return Err(SizeError::NoUnit(number.to_string())),
            "B" => 0,
            u => {
                let mut chars = u.chars();
                let first = chars.next().ok_or_else(syntax)?;
                let rest: String = chars.collect();
                if rest == "B" && UNITS.iter().any(|(c, _)| *c == first) {
                    return Err(SizeError::Ambiguous(
                        text.to_string(),
                        first,
                        number.to_string(),
                    ));
                }
                if !(rest.is_empty() || rest == "IB") {
                    return Err(syntax());
                }
                UNITS
                    .iter()
                    .find(|(c, _)| *c == first)
                    .map(|(_, s)| *s)
                    .ok_or_else(syntax)?
            }
        };
        let (int, frac) = match number.split_once('.') {
            Some((i, f)) => (i, f),
            None => (number, ""),
        };
        if int.is_empty() && frac.is_empty() || frac.contains('.') {
            return Err(syntax());
        }
        let overflow = || SizeError::Overflow(text.to_string());
        let int_val: u128 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| overflow())?
        };
        let mut bytes = int_val
            .checked_shl(shift)
            .filter(|v| *v <= u64::MAX as u128)
            .ok_or_else(overflow)?;
        if !frac.is_empty() {
            if frac.len() > 18 {
                return Err(syntax());
            }
            let f: u128 = frac.parse().map_err(|_| syntax())?;
            let denom = 10u128.pow(frac.len() as u32);
            // round up: a fraction of a byte is a whole byte, as LVM rounds up to extents anyway
            bytes += (f << shift).div_ceil(denom);
        }
        let bytes = u64::try_from(bytes).map_err(|_| overflow())?;
        if bytes == 0 {
            return Err(SizeError::Zero(text.to_string()));
        }
        Ok(Bytes(bytes))
    }

    /// Rounds up to a multiple of `extent` (LVM rounds every requested size up to whole extents).
    pub fn round_up(self, extent: u64) -> Bytes {
        if extent == 0 {
            return self;
        }
        Bytes(self.0.div_ceil(extent).saturating_mul(extent))
    }

    pub fn round_down(self, extent: u64) -> Bytes {
        if extent == 0 {
            return self;
        }
        Bytes(self.0 / extent * extent)
    }
}

/// Two sizes printed so that they read as different when they are: `Display`'s one or two
/// decimals, or as many more as it takes in the larger one's unit (`1.7588 TiB` against
/// `1.7578 TiB`, not `1.76 TiB` against `1.76 TiB`), or bytes.
pub fn apart(a: Bytes, b: Bytes) -> (String, String) {
    let (sa, sb) = (a.to_string(), b.to_string());
    // (`1.00 TiB` and `1.0 TiB` read alike)
    let read = |s: &str| {
        let (v, unit) = s.split_once(' ').unwrap_or((s, ""));
        (v.parse::<f64>().ok(), unit.to_string())
    };
    if a == b || read(&sa) != read(&sb) {
        return (sa, sb);
    }
    let larger = a.0.max(b.0);
    let (name, div) = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        .iter()
        .enumerate()
        .rev()
        .map(|(i, n)| (*n, 1u64 << (10 * (i + 1))))
        .find(|(_, d)| larger >= *d)
        .unwrap_or(("B", 1));
    for decimals in 3..=9 {
        let f = |x: Bytes| format!("{:.*} {name}", decimals, x.0 as f64 / div as f64);
        if f(a) != f(b) {
            return (f(a), f(b));
        }
    }
    (format!("{} B", a.0), format!("{} B", b.0))
}

impl fmt::Display for Bytes {
    /// `10.0 GiB`, `512.0 MiB`, `4096 B`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: &[&str] = &["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        let mut unit = None;
        for (i, name) in NAMES.iter().enumerate().rev() {
            if self.0 >= 1u64 << (10 * (i + 1)) {
                unit = Some((name, 1u64 << (10 * (i + 1))));
                break;
            }
        }
        match unit {
            None => write!(f, "{} B", self.0),
            Some((name, div)) => {
                let v = self.0 as f64 / div as f64;
                // one decimal, unless that would hide a difference LVM cares about
                if (v * 10.0).round() / 10.0 == v || v >= 1000.0 {
                    write!(f, "{v:.1} {name}")
                } else {
                    write!(f, "{v:.2} {name}")
                }
            }
        }
    }
}

impl<'de> serde::Deserialize<'de> for Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match SizeSpec::deserialize(d)? {
            SizeSpec::Bytes(b) => Ok(b),
            SizeSpec::Percent(p) => Err(serde::de::Error::custom(SizeError::PercentNotAllowed(
                format!("{p}%"),
            ))),
        }
    }
}

/// A thin pool size: absolute, or a percentage of the volume group's size.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SizeSpec {
    Bytes(Bytes),
    /// Percent of the VG size, 0 < p <= 100.
    Percent(f64),
}

impl SizeSpec {
    pub fn parse(text: &str) -> Result<Self, SizeError> {
        let s = text.trim();
        if let Some(p) = s.strip_suffix('%') {
            let v: f64 = p
                .trim()
                .parse()
                .map_err(|_| SizeError::Percent(text.to_string()))?;
            let plain = p.trim().chars().all(|c| c.is_ascii_digit() || c == '.');
            if !(plain && v > 0.0 && v <= 100.0) {
                return Err(SizeError::Percent(text.to_string()));
            }
            return Ok(SizeSpec::Percent(v));
        }
        Bytes::parse(s).map(SizeSpec::Bytes)
    }

    /// The size in bytes for a VG of `vg_size` with `extent`-sized extents. Percentages round
    /// down (never more than asked for), absolute sizes round up (as lvcreate does).
    pub fn resolve(&self, vg_size: u64, extent: u64) -> Bytes {
        match *self {
            SizeSpec::Bytes(b) => b.round_up(extent),
            SizeSpec::Percent(p) => {
                let raw = (vg_size as f64 * p / 100.0).floor() as u64;
                Bytes(raw).round_down(extent)
            }
        }
    }
}

impl fmt::Display for SizeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SizeSpec::Bytes(b) => b.fmt(f),
            SizeSpec::Percent(p) => write!(f, "{p}% of the VG"),
        }
    }
}

impl<'de> serde::Deserialize<'de> for SizeSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = SizeSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size such as 10G, 512M, 1T, 4096B, or (thin pool) 90%")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<SizeSpec, E> {
                Err(E::custom(SizeError::NoUnit(v.to_string())))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<SizeSpec, E> {
                Err(E::custom(SizeError::NoUnit(v.to_string())))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<SizeSpec, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom(format!("size {v} is negative")))
                    .and_then(|v| self.visit_u64(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<SizeSpec, E> {
                SizeSpec::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

pub mod limits;

#[cfg(test)]
mod tests;
