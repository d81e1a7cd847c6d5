//! Option names cinder ignores that look like one ember reads. oslo.config matches a name
//! exactly and ignores one it does not know, and so does cinder: `Volume_Group` (another case)
//! or `volume_grup` (a typo) leaves cinder's default in force without a word. ember says so, as
//! a warning (cinder runs with it), in the sections it reads: each LVM backend's,
//! `[backend_defaults]`, and `[DEFAULT]` for its own few options there.
//!
//! A near miss is a name one or two characters (OSA distance, case aside) from exactly one
//! option ember reads. No option cinder has registered since Liberty (7.0.0, 1,400 names,
//! `tests/fixtures/cinder/options.txt`) is within three of one ember reads, so no real option
//! is ever named a typo (a test holds the rule to that list). In `[DEFAULT]`, full of other
//! services' options, only `enabled_backends` and `volume_name_template` are looked for: `host`
//! and `state_path` are short, and near too many names that are not typos.

use super::ini::{Entry, Ini};
use super::{BackendConfig, at, subst};
use crate::problem::Problem;

/// The backend options ember reads (the backend's section, then `[backend_defaults]`).
const BACKEND_OPTIONS: &[&str] = &[
    "volume_driver",
    "volume_group",
    "lvm_type",
    "max_over_subscription_ratio",
    "reserved_percentage",
    "volume_backend_name",
    "lvm_conf_file",
    "lvm_suppress_fd_warnings",
    "backend_host",
    "volume_clear",
    "volume_clear_size",
    "volume_clear_ionice",
    // the target a volume would be exported through (config/target.rs)
    "target_helper",
    "target_protocol",
    "target_prefix",
    "target_ip_address",
    "target_secondary_ip_addresses",
    "iscsi_secondary_ip_addresses",
    "target_port",
    "nvmet_port_id",
    "nvmet_ns_id",
    "nvmeof_conn_info_version",
    "lvm_share_target",
    "report_discard_supported",
];

/// The `[DEFAULT]` options whose misspellings ember names.
const DEFAULT_OPTIONS: &[&str] = &["enabled_backends", "volume_name_template"];

/// Backend options whose value cinder takes from `[DEFAULT]` when the backend has none (its
/// wipe's size and priority).
const FROM_DEFAULT: &[&str] = &["volume_clear_size", "volume_clear_ionice"];

/// The most characters a near miss is off by.
const MOST: usize = 2;

/// What `[DEFAULT]` has that looks like `enabled_backends` or `volume_name_template`.
pub(super) fn default_section(ini: &Ini, problems: &mut Vec<Problem>) {
    section(ini, "DEFAULT", DEFAULT_OPTIONS, true, problems);
}

/// What the backends' sections and `[backend_defaults]` have that looks like an option ember
/// reads: another case in every enabled backend's section, a near miss in the LVM backends'
/// (another driver's options are that driver's business).
pub(super) fn backend_sections(
    ini: &Ini,
    enabled: &[String],
    backends: &[BackendConfig],
    problems: &mut Vec<Problem>,
) {
    let managed = |n: &str| backends.iter().any(|b| b.managed && b.name == n);
    let any_managed = backends.iter().any(|b| b.managed);
    section(
        ini,
        "backend_defaults",
        BACKEND_OPTIONS,
        any_managed,
        problems,
    );
    for name in enabled {
        section(ini, name, BACKEND_OPTIONS, managed(name), problems);
    }
}

/// The option `key` is a near miss of, if it is one of exactly one of `options`.
pub(super) fn near_miss(key: &str, options: &[&'static str]) -> Option<&'static str> {
    let k = key.to_ascii_lowercase();
    let mut near = options.iter().filter(|o| {
        **o != key && k.len().abs_diff(o.len()) <= MOST && strsim::osa_distance(&k, o) <= MOST
    });
    match (near.next(), near.next()) {
        (Some(o), None) => Some(o),
        _ => None,
    }
}

fn section(
    ini: &Ini,
    name: &str,
    options: &[&'static str],
    typos: bool,
    problems: &mut Vec<Problem>,
) {
    let mut found: Vec<(&str, &Entry, &str)> = ini
        .entries(name)
        .into_iter()
        .filter(|(k, _)| !options.contains(k))
        .filter_map(|(k, e)| {
            let miscased = options.iter().find(|o| o.eq_ignore_ascii_case(k));
            miscased
                .copied()
                .or_else(|| near_miss(k, options))
                .map(|o| (k, e, o))
        })
        .collect();
    found.sort_by_key(|(_, e, _)| (e.origin.file.clone(), e.origin.line));
    for (key, e, option) in found {
        let (f, l) = at(&e.origin);
        let message = if option.eq_ignore_ascii_case(key) {
            format!(
                "[{name}] {key} is not {option}: option names are case-sensitive, so cinder-volume ignores it, and so does ember"
            )
        } else if typos {
            format!(
                "[{name}] {key} is not an option {}: did you mean {option}? (cinder ignores it: {})",
                if name == "DEFAULT" {
                    "cinder reads"
                } else {
                    "cinder's LVM driver reads"
                },
                in_force(ini, name, option)
            )
        } else {
            continue;
        };
        problems.push(Problem::warning(f, l, message));
    }
}

/// What cinder reads for `option` of section `name`, as a clause: where it is set, else its
/// default.
fn in_force(ini: &Ini, name: &str, option: &str) -> String {
    let set = |section: &str, e: &Entry| {
        let origin = format!("{}:{}", e.origin.file.display(), e.origin.line);
        match section == name {
            true => format!("{option} = {} ({origin}) applies", e.value),
            false => format!("{option} = {} from [{section}] ({origin}) applies", e.value),
        }
    };
    let mut sections = vec![name];
    if !matches!(name, "DEFAULT" | "backend_defaults") {
        sections.push("backend_defaults");
    }
    if FROM_DEFAULT.contains(&option) {
        sections.push("DEFAULT");
    }
    if let Some((s, e)) = sections
        .iter()
        .find_map(|s| ini.get(s, option).map(|e| (*s, e)))
    {
        return set(s, e);
    }
    let whose = match name {
        "backend_defaults" => "to a backend whose section does not set it, ",
        _ => "",
    };
    match subst::default_of(option) {
        Some(d) => format!("{whose}the default {option} {d} applies"),
        None => format!("{option} is not set"),
    }
}

#[cfg(test)]
mod tests;
