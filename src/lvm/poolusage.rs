//! A thin pool's usage and health as the kernel reports them (the status line of its `-tpool`
//! device), turned into the figures lvm prints (`data_percent`, `metadata_percent`, lv_attr's
//! health): what a pass planned from a remembered read ([`super::recall`]) needs fresh, since
//! writes into thin volumes commit no metadata.

use super::attr::Health;
use crate::names::{LvName, VgName};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoolUsage {
    pub data_percent: f64,
    pub metadata_percent: f64,
    pub health: Health,
}

/// lvm's percentage (libdevmapper's `dm_make_percent` and `dm_percent_to_round_float`, two
/// digits): never 0 when anything is used, never 100 unless all is.
pub fn percent(used: u64, total: u64) -> f64 {
    if total == 0 || used >= total {
        return 100.0;
    }
    if used == 0 {
        return 0.0;
    }
    let f = 100.0 * used as f64 / total as f64;
    let rounded = (f * 100.0).round() / 100.0;
    rounded.clamp(0.01, 99.99)
}

fn fraction(s: &str) -> Result<(u64, u64), String> {
    let (a, b) = s
        .split_once('/')
        .ok_or_else(|| format!("{s:?} is not used/total"))?;
    let n = |x: &str| x.parse::<u64>().map_err(|e| format!("{x:?}: {e}"));
    Ok((n(a)?, n(b)?))
}

/// Parses a `thin-pool` target's status line (the kernel's `pool_status`: `Fail`, `Error`, or
/// `<transaction> <used>/<total metadata> <used>/<total data> <held root> rw|ro|out_of_data_space
/// ...`), with lvm's health for it: `F` failed, `D` out of data, `M` read-only, `X` unknown.
pub fn parse(line: &str) -> Result<PoolUsage, String> {
    let f: Vec<&str> = line.split_whitespace().collect();
    let unknown = |health| PoolUsage {
        data_percent: 0.0,
        metadata_percent: 0.0,
        health,
    };
    match f.first() {
        Some(&"Fail") => return Ok(unknown(Health::Failed)),
        Some(&"Error") | None => return Ok(unknown(Health::Unknown)),
        _ => {}
    }
    let meta = fraction(f.get(1).ok_or("no metadata figures")?)?;
    let data = fraction(f.get(2).ok_or("no data figures")?)?;
    let health = match f.get(4) {
        Some(&"rw") => Health::Ok,
        Some(&"out_of_data_space") => Health::OutOfData,
        Some(&"ro") => Health::MetadataReadOnly,
        _ => Health::Unknown,
    };
    Ok(PoolUsage {
        data_percent: percent(data.0, data.1),
        metadata_percent: percent(meta.0, meta.1),
        health,
    })
}

/// The device-mapper name of an LV's layer: `vg-lv-layer`, each `-` of the names doubled.
pub fn dm_name(vg: &VgName, lv: &LvName, layer: &str) -> String {
    format!("{}-{layer}", super::clear::dm_name(vg, lv))
}

/// The pool's usage from the kernel; `Ok(None)` when the pool has no device (inactive).
pub fn read(vg: &VgName, pool: &LvName) -> Result<Option<PoolUsage>, String> {
    match super::dm::status(&dm_name(vg, pool, "tpool"))? {
        None => Ok(None),
        Some((kind, line)) if kind == "thin-pool" => parse(&line).map(Some),
        Some((kind, _)) => Err(format!("{pool}'s tpool device is a {kind} target")),
    }
}

#[cfg(test)]
mod tests;
