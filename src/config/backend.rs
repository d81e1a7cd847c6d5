//! One backend's options: its own section, then `[backend_defaults]`, then cinder's default.

use std::path::PathBuf;

use super::ini::Ini;
use super::*;

pub(super) fn resolve_backend(
    ini: &Ini,
    name: &str,
    default_host: &str,
    anchor: Option<PathBuf>,
    problems: &mut Vec<Problem>,
) -> Option<BackendConfig> {
    if !ini.has_section(name) {
        problems.push(Problem::warning(anchor, None, format!(
            "backend {name:?} is in enabled_backends but has no [{name}] section: it gets [backend_defaults] and built-in defaults"
        )));
    }
    let get = |key: &str| {
        ini.get(name, key)
            .or_else(|| ini.get("backend_defaults", key))
    };
    for section in [name, "backend_defaults"] {
        miscased(ini, section, problems);
    }
    let mut ok = true;
    let mut fail = |p: Problem| {
        problems.push(p);
        ok = false;
    };
    let volume_driver = get("volume_driver")
        .map(|e| e.value.clone())
        .unwrap_or_else(|| LVM_DRIVERS[0].into());
    let managed = LVM_DRIVERS.contains(&volume_driver.as_str());
    let volume_group = get("volume_group")
        .map(|e| e.value.clone())
        .unwrap_or_else(|| "cinder-volumes".into());
    if managed && let Err(e) = VgName::new(&volume_group) {
        let entry = get("volume_group");
        let (f, l) = entry.map(|e| at(&e.origin)).unwrap_or((None, None));
        fail(Problem::error(
            f,
            l,
            format!("backend {name:?}: volume_group: {e}"),
        ));
    }
    let lvm_type = match get("lvm_type") {
        None => LvmType::Auto,
        Some(e) => match e.value.as_str() {
            "default" => LvmType::Default,
            "thin" => LvmType::Thin,
            "auto" => LvmType::Auto,
            v => {
                fail(err_at(
                    e,
                    format!("lvm_type = {v:?}: must be one of default, thin, auto"),
                ));
                LvmType::Auto
            }
        },
    };
    let ratio = match get("max_over_subscription_ratio") {
        None => Ratio::Fixed(20.0),
        Some(e) if e.value.trim() == "auto" => Ratio::Auto,
        Some(e) => match e.value.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 1.0 => Ratio::Fixed(v),
            Ok(_) => {
                fail(err_at(
                    e,
                    format!(
                        "max_over_subscription_ratio = {:?}: must be a number of at least 1.0, or auto",
                        e.value
                    ),
                ));
                Ratio::Fixed(20.0)
            }
            Err(_) => {
                fail(err_at(
                    e,
                    format!(
                        "max_over_subscription_ratio = {:?}: expected a number or auto",
                        e.value
                    ),
                ));
                Ratio::Fixed(20.0)
            }
        },
    };
    // an empty integer counts as unset: fall through to [backend_defaults], then the default
    let reserved_entry = [name, "backend_defaults"]
        .iter()
        .filter_map(|s| ini.get(s, "reserved_percentage"))
        .find(|e| !e.value.trim().is_empty());
    let reserved = match reserved_entry.map(|e| parse_int(e, "reserved_percentage", 0, 100)) {
        Some(Ok(Some(v))) => v as u8,
        Some(Err(p)) => {
            fail(p);
            0
        }
        _ => 0,
    };
    let lvm_conf_file = match get("lvm_conf_file") {
        None => Some(PathBuf::from("/etc/cinder/lvm.conf")),
        Some(e) if e.value.trim().eq_ignore_ascii_case("none") || e.value.trim().is_empty() => None,
        Some(e) => Some(PathBuf::from(e.value.trim())),
    };
    let suppress =
        match get("lvm_suppress_fd_warnings").map(|e| parse_bool(e, "lvm_suppress_fd_warnings")) {
            Some(Ok(v)) => v,
            Some(Err(p)) => {
                fail(p);
                false
            }
            None => false,
        };
    let volume_backend_name = get("volume_backend_name")
        .map(|e| e.value.clone())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "LVM".into());
    // cinder/cmd/volume.py: backend_host comes from the backend's own section only
    let host_part = ini
        .get(name, "backend_host")
        .map(|e| e.value.clone())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| default_host.to_string());
    ok.then(|| BackendConfig {
        name: name.to_string(),
        managed,
        volume_driver,
        volume_backend_name,
        volume_group,
        lvm_type,
        max_over_subscription_ratio: ratio,
        reserved_percentage: reserved,
        lvm_conf_file,
        lvm_suppress_fd_warnings: suppress,
        host: format!("{host_part}@{name}"),
    })
}

/// The backend options ember reads. oslo.config matches option names exactly: a key that
/// differs from one of these only in case is ignored by cinder, so ember ignores it too, and
/// says so.
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
];

fn miscased(ini: &Ini, section: &str, problems: &mut Vec<Problem>) {
    let mut found: Vec<(&str, &ini::Entry, &str)> = ini
        .entries(section)
        .into_iter()
        .filter_map(|(k, e)| {
            BACKEND_OPTIONS
                .iter()
                .find(|o| **o != k && o.eq_ignore_ascii_case(k))
                .map(|o| (k, e, *o))
        })
        .collect();
    found.sort_by_key(|(k, _, _)| *k);
    for (key, e, option) in found {
        let (f, l) = at(&e.origin);
        problems.push(Problem::warning(
            f,
            l,
            format!(
                "[{section}] {key} is not {option}: option names are case-sensitive, so cinder-volume ignores it, and so does ember"
            ),
        ));
    }
}
