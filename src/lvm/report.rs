//! Parsing `lvm fullreport --reportformat json --units b --nosuffix` for the fields ember asks
//! for. lvm prints every value as a string; empty strings mean "not applicable".

use serde::Deserialize;

use super::attr::LvAttr;
use super::{LvInfo, LvKind, Observed, Pv, VgInfo};
use crate::names::{LvName, LvUuid};

/// The fields ember asks for, per sub-report (the pv/pvseg/seg reports cannot be switched off,
/// so they get one cheap field each).
pub const VG_FIELDS: &str =
    "vg_name,vg_size,vg_free,vg_extent_size,vg_mda_free,vg_mda_size,vg_tags";
pub const LV_FIELDS: &str = "lv_name,lv_attr,lv_layout,lv_size,pool_lv,origin,lv_tags,data_percent,metadata_percent,lv_metadata_size,lv_uuid,lv_kernel_major,lv_kernel_minor";
/// A PV's name, its UUID and device number: the stamp opens only that device and checks its
/// label's UUID.
pub const PV_FIELDS: &str = "pv_name,pv_uuid,pv_major,pv_minor,pv_size,pe_start";
/// `chunk_size` is a segment field: asked of the seg sub-report (in an LV report it would
/// turn the whole report into a segment report).
pub const SEG_FIELDS: &str = "lv_name,chunk_size";

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
    #[serde(default)]
    seg: Vec<RawSeg>,
    #[serde(default)]
    pv: Vec<RawPv>,
}
#[derive(Deserialize)]
struct RawPv {
    #[serde(default)]
    pv_name: String,
    #[serde(default)]
    pv_uuid: String,
    #[serde(default)]
    pv_major: String,
    #[serde(default)]
    pv_minor: String,
    #[serde(default)]
    pv_size: String,
    #[serde(default)]
    pe_start: String,
}

impl RawPv {
    /// The PV; a device number that is missing, negative or 0:0 (a missing PV's) is none.
    fn pv(self) -> Pv {
        let n = |s: &str| {
            s.trim()
                .parse::<i64>()
                .ok()
                .and_then(|v| u64::try_from(v).ok())
        };
        Pv {
            dev: n(&self.pv_major)
                .zip(n(&self.pv_minor))
                .filter(|d| *d != (0, 0)),
            size: n(&self.pv_size),
            pe_start: n(&self.pe_start),
            name: self.pv_name.into(),
            uuid: self.pv_uuid,
        }
    }
}
#[derive(Deserialize)]
struct RawSeg {
    #[serde(default)]
    lv_name: String,
    #[serde(default)]
    chunk_size: String,
}
#[derive(Deserialize)]
struct RawVg {
    vg_name: String,
    vg_size: String,
    vg_free: String,
    vg_extent_size: String,
    #[serde(default)]
    vg_mda_free: String,
    #[serde(default)]
    vg_mda_size: String,
    #[serde(default)]
    vg_tags: String,
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
    origin: String,
    #[serde(default)]
    lv_tags: String,
    #[serde(default)]
    data_percent: String,
    #[serde(default)]
    metadata_percent: String,
    #[serde(default)]
    lv_metadata_size: String,
    #[serde(default)]
    lv_uuid: String,
    #[serde(default)]
    lv_kernel_major: String,
    #[serde(default)]
    lv_kernel_minor: String,
}

/// One row of `lvs` with VG fields beside the LV's (and the pool's one segment's chunk size).
#[derive(Deserialize)]
struct RawRow {
    #[serde(flatten)]
    vg: RawVg,
    #[serde(flatten)]
    lv: RawLv,
    #[serde(default)]
    chunk_size: String,
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

/// A size field that may be empty (not applicable, or a field this lvm does not print); 0 is
/// "none" too.
fn opt_num(field: &'static str, v: &str) -> Result<Option<u64>, ReportError> {
    if v.trim().is_empty() {
        return Ok(None);
    }
    num(field, v).map(|n| Some(n).filter(|n| *n > 0))
}

fn vg_info(raw: RawVg) -> Result<VgInfo, ReportError> {
    let vg_info = VgInfo {
        size: num("vg_size", &raw.vg_size)?,
        free: num("vg_free", &raw.vg_free)?,
        extent_size: num("vg_extent_size", &raw.vg_extent_size)?,
        mda_free: if raw.vg_mda_free.trim().is_empty() {
            None
        } else {
            Some(num("vg_mda_free", &raw.vg_mda_free)?)
        },
        mda_size: opt_num("vg_mda_size", &raw.vg_mda_size)?,
        tags: raw
            .vg_tags
            .split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        name: raw.vg_name,
    };
    if vg_info.extent_size == 0 {
        return Err(ReportError::ZeroExtent);
    }
    Ok(vg_info)
}

/// One LV; `None` for an LV whose name ember could not have made (left out, with a warning).
fn lv_info(vg: &str, l: RawLv) -> Result<Option<LvInfo>, ReportError> {
    // lvm's rules and ember's differ at the edges (ember reserves a few more suffixes): an
    // LV ember could not have made is not ember's, and it must not stop the backend
    let name = match LvName::new(&l.lv_name) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(vg, "LV {:?} left out of the plan: {e}", l.lv_name);
            return Ok(None);
        }
    };
    let attr = LvAttr::parse(&l.lv_attr).map_err(|detail| ReportError::Attr {
        lv: l.lv_name.clone(),
        detail,
    })?;
    let pool = attr.volume_type == 't';
    let uuid = LvUuid::new(l.lv_uuid.trim()).map_err(|_| ReportError::Field {
        field: "lv_uuid",
        value: l.lv_uuid.clone(),
        what: "an LVM UUID",
    })?;
    Ok(Some(LvInfo {
        uuid,
        kind: super::kind::of(attr.volume_type, &l.lv_layout),
        size: num("lv_size", &l.lv_size)?,
        pool: Some(l.pool_lv).filter(|p| !p.is_empty()),
        origin: Some(l.origin).filter(|o| !o.is_empty()),
        tags: l
            .lv_tags
            .split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        data_percent: pct("data_percent", &l.data_percent)?,
        metadata_percent: pct("metadata_percent", &l.metadata_percent)?,
        metadata_size: opt_num("lv_metadata_size", &l.lv_metadata_size)?.filter(|_| pool),
        chunk_size: None,
        active: !attr.inactive(),
        zeroes: pool && attr.zeroes,
        health: attr.health,
        skip_activation: attr.skip_activation,
        // -1 (or nothing) when it has no device
        device: l
            .lv_kernel_major
            .trim()
            .parse()
            .ok()
            .zip(l.lv_kernel_minor.trim().parse().ok()),
        name,
    }))
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
    let vg_info = vg_info(raw)?;
    let mut lvs = Vec::with_capacity(section.lv.len());
    for l in section.lv {
        lvs.extend(lv_info(vg, l)?);
    }
    // a thin pool's chunk size, from its (one) segment
    for seg in section.seg {
        if let Some(c) = opt_num("chunk_size", &seg.chunk_size)?
            && let Some(l) = lvs
                .iter_mut()
                .find(|l| l.kind == LvKind::ThinPool && l.name == seg.lv_name.as_str())
        {
            l.chunk_size = Some(c);
        }
    }
    let pvs = section
        .pv
        .into_iter()
        .filter(|p| !p.pv_name.is_empty())
        .map(RawPv::pv)
        .collect();
    Ok(Observed {
        vg: vg_info,
        lvs,
        pvs,
    })
}

#[derive(Deserialize)]
struct LvsTop {
    report: Vec<LvsSection>,
}
#[derive(Deserialize)]
struct LvsSection {
    #[serde(default)]
    lv: Vec<RawRow>,
}

/// Parses `vgs --reportformat json -o vg_name`: the names, sorted.
pub fn parse_vg_names(json: &str) -> Result<Vec<String>, ReportError> {
    #[derive(serde::Deserialize)]
    struct Top {
        report: Vec<Section>,
    }
    #[derive(serde::Deserialize)]
    struct Section {
        #[serde(default)]
        vg: Vec<Row>,
    }
    #[derive(serde::Deserialize)]
    struct Row {
        vg_name: String,
    }
    let top: Top = serde_json::from_str(json)?;
    let mut names: Vec<String> = top
        .report
        .into_iter()
        .flat_map(|s| s.vg)
        .map(|r| r.vg_name)
        .collect();
    names.sort();
    Ok(names)
}

/// Parses `lvs -o VG_FIELDS,LV_FIELDS VG/POOL`: the VG and that one LV (the pool check's read).
pub fn parse_pool_row(json: &str, vg: &str) -> Result<Observed, ReportError> {
    let top: LvsTop = serde_json::from_str(json)?;
    let row = top
        .report
        .into_iter()
        .flat_map(|s| s.lv)
        .find(|r| r.vg.vg_name == vg)
        .ok_or_else(|| ReportError::NoVg(vg.to_string()))?;
    let vg_info = vg_info(row.vg)?;
    let chunk = opt_num("chunk_size", &row.chunk_size)?;
    let lvs = lv_info(vg, row.lv)?
        .into_iter()
        .map(|mut l| {
            if l.kind == LvKind::ThinPool {
                l.chunk_size = chunk;
            }
            l
        })
        .collect();
    Ok(Observed {
        vg: vg_info,
        lvs,
        pvs: vec![],
    })
}

#[cfg(test)]
mod tests;
