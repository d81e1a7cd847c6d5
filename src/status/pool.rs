//! A thin pool as `ember status` shows it: size and usage of data and metadata, chunk size,
//! health, autoextend's settings, its last growth and why it cannot grow, if it cannot.

use serde::{Deserialize, Serialize};

use crate::desired::PoolDesired;
use crate::lvm::attr::Health;
use crate::lvm::{LvKind, Observed};
use crate::reconcile::apply::Outcome;
use crate::reconcile::plan::{Action, Plan, WarningKind};
use crate::size::Bytes;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolStatus {
    pub name: String,
    pub size: u64,
    pub data_percent: Option<f64>,
    pub metadata_size: Option<u64>,
    pub metadata_percent: Option<f64>,
    pub chunk_size: Option<u64>,
    pub health: Health,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoextend: Option<AutoextendStatus>,
    /// The VG's metadata area left (`vg_mda_free`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vg_mda_free: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_growth: Option<GrowthRecord>,
    /// Why autoextend cannot grow it (at its cap, no room in the VG).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cannot_grow: Option<String>,
    /// Unix seconds of the read these figures come from.
    pub read_at: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoextendStatus {
    pub threshold_percent: f64,
    pub step: String,
    pub max: String,
    /// The cap in bytes for this VG.
    pub max_bytes: u64,
    /// The step as declared: percent of the current size, or bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_percent: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_bytes: Option<u64>,
}

/// One growth of the pool, data or metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrowthRecord {
    /// Unix seconds.
    pub at: u64,
    /// `data` or `metadata`.
    pub part: String,
    pub from: u64,
    pub to: u64,
    /// The diff line: why it grew.
    pub line: String,
}

impl GrowthRecord {
    /// The last growth an outcome records, if any.
    pub fn last_of(outcome: &Outcome, at: u64) -> Option<GrowthRecord> {
        outcome.done.iter().rev().find_map(|a| {
            let (part, from, to) = match a {
                Action::ExtendPool { from, to, .. } => ("data", from, to),
                Action::ExtendPoolMetadata { from, to, .. } => ("metadata", from, to),
                _ => return None,
            };
            Some(GrowthRecord {
                at,
                part: part.into(),
                from: from.0,
                to: to.0,
                line: a.line(),
            })
        })
    }
}

impl PoolStatus {
    /// The pool `name` as read in `o`, with what `plan` (made from that read) says of it.
    pub fn of(
        name: &str,
        spec: Option<&PoolDesired>,
        o: &Observed,
        plan: Option<&Plan>,
        read_at: u64,
    ) -> Option<PoolStatus> {
        let p = o.lv(name).filter(|l| l.kind == LvKind::ThinPool)?;
        let extent = o.vg.extent_size.max(1);
        Some(PoolStatus {
            name: name.to_string(),
            size: p.size,
            data_percent: p.data_percent,
            metadata_size: p.metadata_size,
            metadata_percent: p.metadata_percent,
            chunk_size: p.chunk_size,
            health: p.health,
            autoextend: spec
                .and_then(|s| s.autoextend.as_ref())
                .map(|a| AutoextendStatus {
                    threshold_percent: a.threshold,
                    step: a
                        .step
                        .to_string()
                        .replace(" of the VG", " of the current size"),
                    max: a.max.to_string(),
                    max_bytes: a.max_bytes(o.vg.size, extent),
                    step_percent: match a.step {
                        crate::size::SizeSpec::Percent(p) => Some(p),
                        crate::size::SizeSpec::Bytes(_) => None,
                    },
                    step_bytes: match a.step {
                        crate::size::SizeSpec::Bytes(b) => Some(b.0),
                        crate::size::SizeSpec::Percent(_) => None,
                    },
                }),
            vg_mda_free: o.vg.mda_free,
            last_growth: None,
            cannot_grow: plan.and_then(|p| {
                p.warnings
                    .iter()
                    .find(|w| w.kind == WarningKind::PoolCap)
                    .map(|w| w.message.clone())
            }),
            read_at,
        })
    }

    /// `pool vg-pool: 10.0 GiB, data 42.00%, metadata 24.0 MiB 3.10%, chunk 64.0 KiB, ok`, then
    /// autoextend, the last growth and why it cannot grow, one line each.
    pub fn lines(&self, now: u64) -> Vec<String> {
        let pct = |p: Option<f64>| p.map_or("-".into(), |p| format!("{p:.2}%"));
        let mut v = vec![format!(
            "pool {}: {}, data {}, metadata {} {}, chunk {}, {}{}",
            self.name,
            Bytes(self.size),
            pct(self.data_percent),
            self.metadata_size
                .map_or("-".into(), |m| Bytes(m).to_string()),
            pct(self.metadata_percent),
            self.chunk_size.map_or("-".into(), |c| Bytes(c).to_string()),
            match self.health {
                Health::Ok => "ok".to_string(),
                h if h.needs_repair() => format!("CRITICAL: {} (lv_attr)", h.describe()),
                h => format!("{} (lv_attr)", h.describe()),
            },
            self.vg_mda_free.map_or(String::new(), |m| format!(
                ", VG metadata area {} free",
                Bytes(m)
            ))
        )];
        match &self.autoextend {
            Some(a) => v.push(format!(
                "autoextend: at {}% by {}, up to {} ({})",
                a.threshold_percent,
                a.step,
                a.max,
                Bytes(a.max_bytes)
            )),
            None => v.push("autoextend: off (the pool grows only to a declared size)".into()),
        }
        if let Some(g) = &self.last_growth {
            v.push(format!(
                "last growth: {} s ago, {} {} -> {} ({})",
                now.saturating_sub(g.at),
                g.part,
                Bytes(g.from),
                Bytes(g.to),
                g.line.trim_start_matches("~ ")
            ));
        }
        if let Some(w) = &self.cannot_grow {
            v.push(format!("cannot grow: {w}"));
        }
        v
    }
}
