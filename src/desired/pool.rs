//! A backend's thin pool as the desired state declares it: its size, its metadata, its chunk
//! size and how far it may grow by itself.
//!
//! ```yaml
//! thin_pool:
//!   size: 60%              # created with, grown to, never shrunk
//!   metadata_size: 1G      # created with, grown to, never shrunk (default: ember's rule)
//!   chunk_size: 64K        # at creation only
//!   autoextend: { threshold: 80%, step: 10%, max: 90% }
//! ```

use serde::{Deserialize, Serialize};

use crate::size::{Bytes, SizeSpec};

use crate::size::limits::{MAX_CHUNK, MAX_METADATA, MIN_CHUNK, MIN_METADATA};
/// The range a growth threshold may take, in percent.
pub const THRESHOLD_RANGE: (f64, f64) = (50.0, 95.0);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawPool")]
pub struct PoolDesired {
    pub size: SizeSpec,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata_size: Option<Bytes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunk_size: Option<Bytes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autoextend: Option<Autoextend>,
}

impl PoolDesired {
    /// A pool of `size`, everything else left to ember's defaults.
    pub fn of_size(size: SizeSpec) -> PoolDesired {
        PoolDesired {
            size,
            metadata_size: None,
            chunk_size: None,
            autoextend: None,
        }
    }
}

/// How the pool grows by itself: when data or metadata usage reaches `threshold`, by `step`,
/// never past `max`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Autoextend {
    /// Percent of data or metadata in use that triggers growth (50-95).
    pub threshold: f64,
    /// Each growth: an absolute size, or a percentage of the current size (of the data, or of
    /// the metadata).
    pub step: SizeSpec,
    /// The largest the pool's data may become: absolute, or a percentage of the VG.
    pub max: SizeSpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPool {
    size: SizeSpec,
    #[serde(default)]
    metadata_size: Option<Bytes>,
    #[serde(default)]
    chunk_size: Option<Bytes>,
    #[serde(default)]
    autoextend: Option<RawAutoextend>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAutoextend {
    threshold: Threshold,
    step: SizeSpec,
    max: SizeSpec,
}

impl TryFrom<RawPool> for PoolDesired {
    type Error = String;
    fn try_from(r: RawPool) -> Result<Self, String> {
        if let Some(m) = r.metadata_size
            && !(MIN_METADATA..=MAX_METADATA).contains(&m.0)
        {
            return Err(format!(
                "metadata_size {m} is outside what lvm allows ({} to {})",
                Bytes(MIN_METADATA),
                Bytes(MAX_METADATA)
            ));
        }
        if let Some(c) = r.chunk_size
            && (!(MIN_CHUNK..=MAX_CHUNK).contains(&c.0) || !c.0.is_multiple_of(MIN_CHUNK))
        {
            return Err(format!(
                "chunk_size {c} is not one lvm allows: a multiple of 64.0 KiB from {} to {}",
                Bytes(MIN_CHUNK),
                Bytes(MAX_CHUNK)
            ));
        }
        let autoextend = r.autoextend.map(|a| a.validate(&r.size)).transpose()?;
        Ok(PoolDesired {
            size: r.size,
            metadata_size: r.metadata_size,
            chunk_size: r.chunk_size,
            autoextend,
        })
    }
}

/// A usage percentage as the file writes it (`80%`).
struct Threshold(f64);

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = match serde_yaml::Value::deserialize(d)? {
            serde_yaml::Value::String(s) => s,
            serde_yaml::Value::Number(n) => n.to_string(),
            other => format!("{other:?}"),
        };
        let bad = || {
            serde::de::Error::custom(format!(
                "autoextend threshold {text} must be a percentage of usage from {}% to {}% (e.g. 80%)",
                THRESHOLD_RANGE.0, THRESHOLD_RANGE.1
            ))
        };
        match SizeSpec::parse(&text) {
            Ok(SizeSpec::Percent(p)) => Ok(Threshold(p)),
            _ => Err(bad()),
        }
    }
}

impl RawAutoextend {
    fn validate(self, size: &SizeSpec) -> Result<Autoextend, String> {
        let threshold = self.threshold.0;
        if !(THRESHOLD_RANGE.0..=THRESHOLD_RANGE.1).contains(&threshold) {
            return Err(format!(
                "autoextend threshold {threshold}% is outside {}% to {}%: lower grows a pool that is half empty, higher leaves no time to grow before it fills",
                THRESHOLD_RANGE.0, THRESHOLD_RANGE.1
            ));
        }
        // both relative to the VG, or both absolute: the cap can be checked here
        let below = match (size, &self.max) {
            (SizeSpec::Percent(s), SizeSpec::Percent(m)) => m < s,
            (SizeSpec::Bytes(s), SizeSpec::Bytes(m)) => m < s,
            _ => false,
        };
        if below {
            return Err(format!(
                "autoextend max ({}) is smaller than the pool's size ({size}): the cap must be at least the size the pool is created with",
                self.max
            ));
        }
        Ok(Autoextend {
            threshold,
            step: self.step,
            max: self.max,
        })
    }
}

impl Autoextend {
    /// The cap in bytes: a size rounded down to whole extents (a cap is never passed), a
    /// percentage of the VG as a pool size resolves it (rounded down too).
    pub fn max_bytes(&self, vg_size: u64, extent: u64) -> u64 {
        match self.max {
            SizeSpec::Bytes(b) => b.round_down(extent).0,
            p => p.resolve(vg_size, extent).0,
        }
    }

    /// One step from `current` bytes (a percentage is of `current`), rounded up to extents and
    /// at least one extent.
    pub fn step_from(&self, current: u64, extent: u64) -> u64 {
        let raw = match self.step {
            SizeSpec::Bytes(b) => b.0,
            SizeSpec::Percent(p) => (current as f64 * p / 100.0).ceil() as u64,
        };
        Bytes(raw.max(1)).round_up(extent.max(1)).0
    }

    /// The metadata's step from `current` metadata bytes of a pool of `data` bytes: a percentage
    /// is of the metadata's own size; an absolute step grows metadata by the same share of its
    /// size as it grows the data.
    pub fn metadata_step_from(&self, current: u64, data: u64, extent: u64) -> u64 {
        let raw = match self.step {
            SizeSpec::Percent(p) => (current as f64 * p / 100.0).ceil() as u64,
            SizeSpec::Bytes(b) => (current as f64 * b.0 as f64 / data.max(1) as f64).ceil() as u64,
        };
        Bytes(raw.max(1)).round_up(extent.max(1)).0
    }
}

#[cfg(test)]
mod tests;
