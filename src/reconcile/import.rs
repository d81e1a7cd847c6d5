//! `ember import`: a desired-state document for a host that cinder-volume ran, from
//! cinder.conf and what LVM has. Every LV cinder would own (its name matches
//! `volume_name_template`; for a thin backend a thin volume in the backend's pool that is not a
//! snapshot, for a thick one a linear LV) is declared with its current size and `adopt: true`,
//! and its thin snapshots (`_snapshot-<id>`) under `snapshots:` with the volume each is of;
//! ember's own volumes are declared as they are; everything else is a comment saying why it was
//! left out. A volume with COW snapshots (a thick backend's cinder snapshots, or a backup
//! tool's) is declared with a comment naming them; they are comments themselves (ember does not
//! manage COW snapshots). `ember plan` with the document shows adoptions only.

use std::fmt::Write;

use super::plan::export::{Current, Targets, current_export};
use super::plan::{Whose, adoptable, whose};
use crate::config::BackendConfig;
use crate::lvm::{LvInfo, Observed};

/// What LVM showed for one backend: its volume group (and the target configuration its
/// exports are in), or why it could not be read.
pub enum Source<'a> {
    Observed(&'a Observed, Exports<'a>),
    Missing(String),
}

/// The target configuration of a backend, for the volumes' `export:`.
pub enum Exports<'a> {
    /// The backend exports through nothing ember writes (not lioadm or nvmet).
    NotRead,
    Read(&'a Targets),
    /// It could not be read: no `export:` is written (a comment says why).
    Unreadable(String),
}

/// A size as the desired state writes it: the largest binary unit that divides it exactly
/// (`10G`, `516M`), else bytes (`1073741825B`).
pub fn size_text(bytes: u64) -> String {
    for (unit, shift) in [("T", 40), ("G", 30), ("M", 20), ("K", 10)] {
        if bytes > 0 && bytes.is_multiple_of(1u64 << shift) {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    format!("{bytes}B")
}

/// Whether `name` is one `volume_name_template` (`volume-%s`) makes: the text around `%s`,
/// with something in its place.
pub fn matches_template(template: &str, name: &str) -> bool {
    match template.split_once("%s") {
        Some((pre, post)) => {
            name.len() > pre.len() + post.len() && name.starts_with(pre) && name.ends_with(post)
        }
        None => name == template,
    }
}

/// The document for `backends` (each with what LVM showed), from cinder.conf's
/// `volume_name_template`.
pub fn document(template: &str, backends: &[(&BackendConfig, Source)], header: &str) -> String {
    let mut s = String::new();
    for line in header.lines() {
        let _ = writeln!(s, "# {line}");
    }
    // a backend whose volume group could not be read is left out (a comment): an empty
    // `volumes: {}` would say it has no volumes, which nobody knows
    for (cfg, source) in backends {
        if let Source::Missing(why) = source {
            let _ = writeln!(
                s,
                "# {}: nothing imported: {}",
                cfg.name,
                why.replace(['\n', '\r'], " ")
            );
        }
    }
    let read: Vec<_> = backends
        .iter()
        .filter_map(|(c, src)| match src {
            Source::Observed(o, e) => Some((*c, *o, e)),
            Source::Missing(_) => None,
        })
        .collect();
    if read.is_empty() {
        s.push_str("backends: {}\n");
        return s;
    }
    s.push_str("backends:\n");
    for (cfg, o, e) in read {
        backend(&mut s, template, cfg, o, e);
    }
    s
}

fn backend(s: &mut String, template: &str, cfg: &BackendConfig, o: &Observed, e: &Exports) {
    let mut lvs: Vec<&LvInfo> = o.lvs.iter().collect();
    lvs.sort_by(|a, b| a.name.cmp(&b.name));
    let cow = o.cow_snapshots();
    let mut declared = vec![];
    let mut comments = vec![];
    let mut snapshots = vec![];
    let mut notes = vec![];
    for lv in lvs {
        if lv.name.is_snapshot_name() && lv.kind == crate::lvm::LvKind::Thin {
            match snapshot_verdict(cfg, lv) {
                Ok(Some(origin)) => snapshots.push(format!(
                    "      {}: {{ volume: {} }}",
                    quote(lv.name.as_str()),
                    quote(origin)
                )),
                // its volume is gone: kept as it is
                Ok(None) => snapshots.push(format!("      {}: {{}}", quote(lv.name.as_str()))),
                Err(why) => comments.push(format!("      # {}: {why}", lv.name)),
            }
            continue;
        }
        match verdict(template, cfg, lv) {
            Ok(()) => declared.push(format!(
                "      {}: {{ size: {}{} }}{}",
                quote(lv.name.as_str()),
                size_text(lv.size),
                export_field(cfg, lv, e, &mut notes),
                cow.get(lv.name.as_str())
                    .map(|snaps| format!(
                        "  # with the COW snapshot{} {}: grown only while inactive, never deleted while {} exist{}",
                        if snaps.len() > 1 { "s" } else { "" },
                        crate::lvm::kind::list(snaps),
                        if snaps.len() > 1 { "they" } else { "it" },
                        if snaps.len() > 1 { "" } else { "s" },
                    ))
                    .unwrap_or_default()
            )),
            Err(why) => comments.push(format!("      # {}: {why}", lv.name)),
        }
    }
    let _ = writeln!(
        s,
        "  {}:\n    # volume group {}: {} LV(s), {} declared below\n    adopt: true",
        quote(&cfg.name),
        cfg.volume_group,
        o.lvs.len(),
        declared.len() + snapshots.len()
    );
    if let Exports::Unreadable(why) = e {
        let _ = writeln!(
            s,
            "    # the target configuration could not be read ({}): no export: written; the volumes' exports are left as they are",
            why.replace(['\n', '\r'], " ")
        );
    }
    for n in notes {
        let _ = writeln!(s, "    # {}", n.replace(['\n', '\r'], " "));
    }
    if declared.is_empty() {
        s.push_str("    volumes: {}\n");
    } else {
        s.push_str("    volumes:\n");
    }
    for line in declared.iter().chain(&comments) {
        let _ = writeln!(s, "{line}");
    }
    if !snapshots.is_empty() {
        s.push_str("    snapshots:\n");
    }
    for line in snapshots {
        let _ = writeln!(s, "{line}");
    }
}

/// The `, export: { hosts: [...] }` of a declared volume exported as cinder exports (its
/// ACLs' initiators, sorted), or nothing, with a note in `notes` when it is exported otherwise.
fn export_field(cfg: &BackendConfig, lv: &LvInfo, e: &Exports, notes: &mut Vec<String>) -> String {
    let Exports::Read(targets) = e else {
        return String::new();
    };
    match current_export(cfg, lv.name.as_str(), targets) {
        Current::None => String::new(),
        Current::Hosts(hosts) => {
            let hosts: Vec<String> = hosts.iter().map(|h| quote(h)).collect();
            format!(", export: {{ hosts: [{}] }}", hosts.join(", "))
        }
        Current::AnyHost(name) => {
            notes.push(format!(
                "{}: exported to any host by {name} (as cinder's nvmet exports; nvmet shows no connected host): no export: is written and ember leaves it as it is until you declare its hosts, the NQNs of the compute hosts using it (export: {{ hosts: [nqn...] }}): ember then takes it over as it is, restricted to them (the hosts not listed are cut off; the listed ones reconnect)",
                lv.name
            ));
            String::new()
        }
        Current::Other(why) => {
            notes.push(format!("{}: no export: written: {why}", lv.name));
            String::new()
        }
    }
}

/// A thin LV named as a snapshot (`_snapshot-<id>`): declared under `snapshots:` with the
/// volume it is of (`Ok(Some(origin))`; `Ok(None)` once that is deleted), or left out and why.
fn snapshot_verdict<'a>(cfg: &BackendConfig, lv: &'a LvInfo) -> Result<Option<&'a str>, String> {
    if let Whose::Other(b) = whose(cfg, lv) {
        return Err(format!("ember's, backend {b}"));
    }
    if lv.pool.as_deref() != Some(cfg.pool_name().as_str()) {
        return Err(describe(cfg, lv));
    }
    Ok(lv.origin.as_deref())
}

/// Declared (`Ok`), or left out and why.
fn verdict(template: &str, cfg: &BackendConfig, lv: &LvInfo) -> Result<(), String> {
    if lv.name == cfg.pool_name().as_str() {
        return Err("the backend's thin pool (used as it is, never shrunk or deleted)".into());
    }
    // whoever's tags it carries: ember never manages a COW snapshot
    if lv.kind == crate::lvm::LvKind::CowSnapshot {
        return Err(describe(cfg, lv));
    }
    match whose(cfg, lv) {
        Whose::Mine { .. } => return Ok(()),
        Whose::Other(b) => return Err(format!("ember's, backend {b}")),
        Whose::Foreign => {}
    }
    adoptable(cfg, lv).map_err(|_| describe(cfg, lv))?;
    if !matches_template(template, lv.name.as_str()) {
        return Err(format!(
            "not a name cinder gives (volume_name_template = {template})"
        ));
    }
    Ok(())
}

fn describe(cfg: &BackendConfig, lv: &LvInfo) -> String {
    use crate::lvm::LvKind;
    match lv.kind {
        LvKind::Thin if lv.origin.is_some() && lv.name.as_str().starts_with("_snapshot") => {
            format!(
                "a thin snapshot of {}",
                lv.origin.as_deref().unwrap_or_default()
            )
        }
        LvKind::Thin if cfg.lvm_type.is_thin() => format!(
            "a thin volume in another pool ({})",
            lv.pool.as_deref().unwrap_or_default()
        ),
        LvKind::Thin => "a thin volume (this backend is thick)".into(),
        LvKind::Linear => "a linear LV (this backend is thin)".into(),
        LvKind::ThinPool => "another thin pool".into(),
        LvKind::CowSnapshot => format!(
            "{}: ember leaves it alone, and keeps {} while it exists",
            lv.describe(),
            lv.origin.as_deref().unwrap_or("its origin")
        ),
        LvKind::Other => lv.describe(),
    }
}

/// A YAML key or value, quoted: an LV may be named `null`, `true` or `1e3`, and a host name
/// read from configfs may hold any byte (a JSON string is a YAML double-quoted scalar).
fn quote(name: &str) -> String {
    serde_json::to_string(name).unwrap_or_else(|_| "\"\"".into())
}

#[cfg(test)]
mod tests;
