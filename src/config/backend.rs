//! One backend's options, as cinder's `BackendGroupConfiguration` reads them: its own section,
//! then `[backend_defaults]`, then cinder's default, each value substituted and typed as
//! oslo.config does ([`super::subst`]). As in cinder, an option is checked only when it is
//! read: the LVM driver's options only for a backend that uses the LVM driver.

use std::path::PathBuf;

use super::ini::{Ini, Origin};
use super::subst::{Group, Read, Reader, Typed};
use super::*;

/// A value ember reads that has ` #` or ` ;` in it: oslo.config keeps inline "comments" as
/// part of the value, which is almost never what the operator meant.
fn inline_comment(r: &Read, opt: &str, problems: &mut Vec<Problem>) {
    if let (Some(Typed::Str(v)), Some(o)) = (&r.value, &r.origin)
        && (v.contains(" #") || v.contains(" ;"))
    {
        problems.push(Problem::warning(
            Some(o.file.clone()),
            Some(o.line),
            format!(
                "{opt} = {v:?}: oslo.config has no inline comments, so cinder-volume reads all of it as the value (put the comment on a line of its own)"
            ),
        ));
    }
}

fn text(r: &Read) -> Option<String> {
    match &r.value {
        Some(Typed::Str(s)) => Some(s.clone()),
        _ => None,
    }
}

fn at_origin(o: &Option<Origin>, anchor: &Option<PathBuf>) -> (Option<PathBuf>, Option<usize>) {
    match o {
        Some(o) => (Some(o.file.clone()), Some(o.line)),
        None => (anchor.clone(), None),
    }
}

pub(super) fn resolve_backend(
    reader: &Reader,
    name: &str,
    default_host: &str,
    anchor: Option<PathBuf>,
    problems: &mut Vec<Problem>,
) -> Option<BackendConfig> {
    let ini = reader.ini;
    let errors_before = problems.iter().filter(|p| p.is_error()).count();
    if !ini.has_section(name) {
        problems.push(Problem::warning(anchor.clone(), None, format!(
            "backend {name:?} is in enabled_backends but has no [{name}] section: it gets [backend_defaults] and built-in defaults"
        )));
    }
    let mut ok = true;
    let mut read = |opt: &str| match reader.backend(name, opt) {
        Ok(r) => {
            inline_comment(&r, opt, problems);
            Some(r)
        }
        Err(mut p) => {
            p.message = format!("backend {name:?}: {}", p.message);
            problems.push(p);
            ok = false;
            None
        }
    };
    let volume_driver = read("volume_driver")
        .and_then(|r| text(&r))
        .unwrap_or_else(|| LVM_DRIVERS[0].into());
    let managed = LVM_DRIVERS.contains(&volume_driver.as_str());
    let ratio_read = read("max_over_subscription_ratio");
    let reserved_read = read("reserved_percentage");
    let volume_backend_name = read("volume_backend_name")
        .and_then(|r| text(&r))
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "LVM".into());
    // cinder/cmd/volume.py: from the backend's own section only, and an error stops it
    let backend_host = match reader.get(Group::Backend(name), "backend_host") {
        Ok(r) => text(&r).filter(|h| !h.is_empty()),
        Err(mut p) => {
            p.message = format!("backend {name:?}: {}", p.message);
            problems.push(p);
            return None;
        }
    };
    // the LVM driver's options, read (and checked) only for a backend that uses it
    let (mut vg, mut lvm_type, mut conf, mut suppress) = (None, None, None, None);
    let mut wipe: [Option<Read>; 3] = Default::default();
    if managed {
        vg = read("volume_group");
        lvm_type = read("lvm_type");
        conf = read("lvm_conf_file");
        suppress = read("lvm_suppress_fd_warnings");
        // as the driver's deletion reads them: the size and the priority only for a wipe
        wipe[0] = read("volume_clear");
        if wipe[0].as_ref().and_then(text).as_deref() != Some("none") {
            wipe[1] = read("volume_clear_size");
            wipe[2] = read("volume_clear_ionice");
        }
    }
    if !ok {
        return None;
    }
    let target = match managed {
        true => super::target::read(reader, name, &anchor, problems)?,
        false => super::target::TargetSettings::default(),
    };
    let volume_clear = match managed {
        true => clear_of(name, reader, wipe, &anchor, problems)?,
        false => ClearSettings::default(),
    };
    let vg_set = setting(reader.ini, name, vg.as_ref(), &anchor);
    let lvm = lvm_options(
        name,
        managed,
        [vg, lvm_type, conf, suppress],
        &anchor,
        problems,
    );
    let (ratio, ratio_text) = ratio_of(name, ratio_read.as_ref(), &anchor, problems);
    let reserved = reserved_of(name, reserved_read.as_ref(), &anchor, problems);
    if problems.iter().filter(|p| p.is_error()).count() > errors_before {
        return None;
    }
    Some(BackendConfig {
        name: name.to_string(),
        managed,
        volume_driver,
        volume_backend_name,
        volume_group: lvm.volume_group,
        lvm_type: lvm.lvm_type,
        max_over_subscription_ratio: ratio,
        max_over_subscription_ratio_text: ratio_text,
        reserved_percentage: reserved,
        lvm_conf_file: lvm.conf_file,
        lvm_suppress_fd_warnings: lvm.suppress,
        volume_clear,
        // cinder/cmd/volume.py: backend_host comes from the backend's own section only
        host: format!("{}@{name}", backend_host.as_deref().unwrap_or(default_host)),
        volume_group_set: NotCompared(Box::new(vg_set)),
        target,
        state_dir: super::default_state_dir(),
    })
}

/// Where a backend option `read` (through [`Reader::backend`]) got its value: the backend's
/// own section when it sets it (oslo.config's value there is not None), else
/// `[backend_defaults]`; else the default, to be set in the backend's section.
fn setting(ini: &Ini, name: &str, read: Option<&Read>, anchor: &Option<PathBuf>) -> Setting {
    match read.and_then(|r| r.origin.as_ref()) {
        Some(o) => {
            let own = ini.entries(name).iter().any(|(_, e)| e.origin == *o);
            Setting::Line {
                file: o.file.clone(),
                line: o.line,
                section: if own { name } else { "backend_defaults" }.to_string(),
            }
        }
        None => Setting::Default {
            file: ini
                .entries(name)
                .first()
                .map(|(_, e)| e.origin.file.clone())
                .or_else(|| anchor.clone())
                .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_FILE)),
        },
    }
}

/// The LVM driver's options of a backend, as read (`[volume_group, lvm_type, lvm_conf_file,
/// lvm_suppress_fd_warnings]`, none for a backend that does not use the driver).
struct LvmOptions {
    volume_group: String,
    lvm_type: LvmType,
    conf_file: Option<PathBuf>,
    suppress: bool,
}

fn lvm_options(
    name: &str,
    managed: bool,
    [vg, lvm_type, conf, suppress]: [Option<Read>; 4],
    anchor: &Option<PathBuf>,
    problems: &mut Vec<Problem>,
) -> LvmOptions {
    let volume_group = vg
        .as_ref()
        .and_then(text)
        .unwrap_or_else(|| "cinder-volumes".into());
    if managed && let Err(e) = VgName::new(&volume_group) {
        let (f, l) = at_origin(&vg.as_ref().and_then(|r| r.origin.clone()), anchor);
        problems.push(Problem::error(
            f,
            l,
            format!("backend {name:?}: volume_group: {e}"),
        ));
    }
    let lvm_type = match lvm_type.as_ref().and_then(text).as_deref() {
        Some("default") => LvmType::Default,
        Some("thin") => LvmType::Thin,
        _ => LvmType::Auto,
    };
    let conf_file = match conf.as_ref().and_then(text) {
        None => Some(PathBuf::from("/etc/cinder/lvm.conf")),
        // cinder's LVM driver: `lvm_conf_file.lower() == 'none'`; the value as it is otherwise
        Some(v) if v.to_lowercase() == "none" || v.is_empty() => None,
        Some(v) => Some(PathBuf::from(v)),
    };
    LvmOptions {
        volume_group,
        lvm_type,
        conf_file,
        suppress: matches!(suppress.map(|r| r.value), Some(Some(Typed::Bool(true)))),
    }
}

/// The wipe settings from what was read (`[volume_clear, volume_clear_size,
/// volume_clear_ionice]`). cinder's `clear_volume` takes `[DEFAULT]`'s value of a size or a
/// priority the backend has none of (`None`: unset, or an empty size); so does ember. A negative
/// size is ember's error (cinder's dd fails on it at every deletion); so is a priority ember
/// cannot read as ionice would (`Ionice::parse`).
fn clear_of(
    name: &str,
    reader: &Reader,
    [method, size, ionice]: [Option<Read>; 3],
    anchor: &Option<PathBuf>,
    problems: &mut Vec<Problem>,
) -> Option<ClearSettings> {
    let method = match method.as_ref().and_then(text).as_deref() {
        Some("none") => VolumeClear::None,
        _ => VolumeClear::Zero,
    };
    if method == VolumeClear::None {
        return Some(ClearSettings {
            method,
            ..Default::default()
        });
    }
    let mut or_default = |r: Option<Read>, opt: &str| match r {
        Some(r) if r.value.is_some() => Some(r),
        _ => match reader.get(Group::Default, opt) {
            Ok(r) => Some(r),
            Err(mut p) => {
                p.message = format!("backend {name:?}: {}", p.message);
                problems.push(p);
                None
            }
        },
    };
    let size = or_default(size, "volume_clear_size")?;
    let ionice = or_default(ionice, "volume_clear_ionice")?;
    let mut bad = |r: &Read, msg: String| {
        let (f, l) = at_origin(&r.origin, anchor);
        problems.push(Problem::error(f, l, format!("backend {name:?}: {msg}")));
    };
    let size_mib = match size.value {
        None => 0,
        Some(Typed::Int(n)) if (0..=1024).contains(&n) => n as u32,
        Some(Typed::Int(n)) if n > 1024 => {
            bad(
                &size,
                format!("volume_clear_size = {n}: must be at most 1024 (MiB)"),
            );
            return None;
        }
        Some(ref v) => {
            bad(
                &size,
                format!(
                    "volume_clear_size = {v:?}: must be 0 (the whole volume) to 1024 MiB (cinder's dd fails on a negative count at every deletion)"
                ),
            );
            return None;
        }
    };
    let ionice = match text(&ionice) {
        None => None,
        Some(v) => match super::clear::Ionice::parse(&v) {
            Ok(i) => Some(i),
            Err(e) => {
                bad(&ionice, format!("volume_clear_ionice: {e}"));
                return None;
            }
        },
    };
    Some(ClearSettings {
        method,
        size_mib,
        ionice,
    })
}

/// `max_over_subscription_ratio` as cinder reads it (its text, already matched against cinder's
/// regex) and the ratio in force; below 1.0 is ember's error.
fn ratio_of(
    name: &str,
    read: Option<&Read>,
    anchor: &Option<PathBuf>,
    problems: &mut Vec<Problem>,
) -> (Ratio, String) {
    let text = read.and_then(text).unwrap_or_else(|| "20.0".into());
    if text == "auto" {
        return (Ratio::Auto, text);
    }
    let v: f64 = text.parse().unwrap_or(20.0);
    if v < 1.0 {
        let (f, l) = at_origin(&read.and_then(|r| r.origin.clone()), anchor);
        problems.push(Problem::error(f, l, format!(
            "backend {name:?}: max_over_subscription_ratio = {text:?}: must be at least 1.0 (below it, ember and cinder would refuse volumes the pool has room for)"
        )));
    }
    (Ratio::Fixed(v), text)
}

/// `reserved_percentage`: 0 to 100; empty in `[backend_defaults]` is None for cinder (whose
/// scheduler then fails), 0 for ember, with a warning.
fn reserved_of(
    name: &str,
    read: Option<&Read>,
    anchor: &Option<PathBuf>,
    problems: &mut Vec<Problem>,
) -> u8 {
    let origin = read.and_then(|r| r.origin.clone());
    match read.map(|r| &r.value) {
        Some(Some(Typed::Int(n))) if (0..=100).contains(n) => *n as u8,
        Some(Some(Typed::Int(n))) => {
            let (f, l) = at_origin(&origin, anchor);
            problems.push(Problem::error(
                f,
                l,
                format!("backend {name:?}: reserved_percentage = {n}: must be between 0 and 100"),
            ));
            0
        }
        _ => {
            if let Some(o) = origin {
                problems.push(Problem::warning(Some(o.file), Some(o.line), format!(
                    "backend {name:?}: reserved_percentage is empty: cinder reads it as no value at all (None); ember reads 0. Write a number"
                )));
            }
            0
        }
    }
}
