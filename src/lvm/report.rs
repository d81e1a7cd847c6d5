//! Parsing `lvm fullreport --reportformat json --units b --nosuffix` for the fields ember asks
//! for. lvm prints every value as a string; empty strings mean "not applicable".

use serde::Deserialize;

use super::attr::LvAttr;
use super::{LvInfo, LvKind, Observed, VgInfo};
use crate::names::LvName;

/// The fields ember asks for, per sub-report (the pv/pvseg/seg reports cannot be switched off,
/// so they get one cheap field each).
pub const VG_FIELDS: &str = "vg_name,vg_size,vg_free,vg_extent_size";
pub const LV_FIELDS: &str =
    "lv_name,lv_attr,lv_layout,lv_size,pool_lv,lv_tags,data_percent,metadata_percent";

#[derive(Deserialize)]
struct Top {
    report: Vec<Section>,
}
#[derive(Deserialize)]
struct Section {
    #[serde(default)]
    vg: Vec<RawVg>,
    #[serde(default)]
    lv: Vec<RawLv>,
}
#[derive(Deserialize)]
struct RawVg {
    vg_name: String,
    vg_size: String,
    vg_free: String,
    vg_extent_size: String,
}
#[derive(Deserialize)]
struct RawLv {
    lv_name: String,
    lv_attr: String,
    #[serde(default)]
    lv_layout: String,
    lv_size: String,
    #[serde(default)]
    pool_lv: String,
    #[serde(default)]
    lv_tags: String,
    #[serde(default)]
    data_percent: String,
    #[serde(default)]
    metadata_percent: String,
}

/// What is wrong with a report ember cannot read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("no volume group {0:?} in the report")]
    NoVg(String),
    #[error("{field} = {value:?} is not {what}")]
    Field {
        field: &'static str,
        value: String,
        what: &'static str,
    },
    #[error("vg_extent_size is 0")]
    ZeroExtent,
    #[error("LV {lv}: {detail}")]
    Attr { lv: String, detail: String },
}

fn num(field: &'static str, v: &str) -> Result<u64, ReportError> {
    v.trim().parse().map_err(|_| ReportError::Field {
        field,
        value: v.to_string(),
        what: "a number of bytes",
    })
}

fn pct(field: &'static str, v: &str) -> Result<Option<f64>, ReportError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    v.parse().map(Some).map_err(|_| ReportError::Field {
        field,
        value: v.to_string(),
        what: "a percentage",
    })
}

fn kind(attr: &LvAttr, layout: &str) -> LvKind {
    match attr.volume_type {
        't' => LvKind::ThinPool,
        'V' => LvKind::Thin,
        '-' if layout.is_empty() || layout == "linear" || layout == "striped" => LvKind::Linear,
        _ => LvKind::Other,
    }
}

/// Parses the report of one volume group named `vg`.
pub fn parse_fullreport(json: &str, vg: &str) -> Result<Observed, ReportError> {
    let top: Top = serde_json::from_str(json)?;
    let section = top
        .report
        .into_iter()
        .find(|s| s.vg.iter().any(|v| v.vg_name == vg))
        .ok_or_else(|| ReportError::NoVg(vg.to_string()))?;
    let raw = section
        .vg
        .into_iter()
        .find(|v| v.vg_name == vg)
        .ok_or_else(|| ReportError::NoVg(vg.to_string()))?;
    let vg_info = VgInfo {
        size: num("vg_size", &raw.vg_size)?,
        free: num("vg_free", &raw.vg_free)?,
        extent_size: num("vg_extent_size", &raw.vg_extent_size)?,
        name: raw.vg_name,
    };
    if vg_info.extent_size == 0 {
        return Err(ReportError::ZeroExtent);
    }
    let mut lvs = Vec::with_capacity(section.lv.len());
    for l in section.lv {
        // lvm's rules and ember's differ at the edges (ember reserves a few more suffixes): an
        // LV ember could not have made is not ember's, and it must not stop the backend
        let name = match LvName::new(&l.lv_name) {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(vg, "LV {:?} left out of the plan: {e}", l.lv_name);
                continue;
            }
        };
        let attr = LvAttr::parse(&l.lv_attr).map_err(|detail| ReportError::Attr {
            lv: l.lv_name.clone(),
            detail,
        })?;
        lvs.push(LvInfo {
            kind: kind(&attr, &l.lv_layout),
            size: num("lv_size", &l.lv_size)?,
            pool: Some(l.pool_lv).filter(|p| !p.is_empty()),
            tags: l
                .lv_tags
                .split(',')
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
            data_percent: pct("data_percent", &l.data_percent)?,
            metadata_percent: pct("metadata_percent", &l.metadata_percent)?,
            active: !attr.inactive(),
            zeroes: attr.volume_type == 't' && attr.zeroes,
            health: attr.health,
            name,
        });
    }
    Ok(Observed { vg: vg_info, lvs })
}

#[cfg(test)]
mod tests;
