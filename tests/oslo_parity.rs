//! ember reads cinder.conf as cinder-volume does, proven against the real oslo.config: a seeded
//! generator (tests/oslo_parity/generate.rs) writes cinder.conf files with the quirks real files
//! have; the real oslo.config 10.7.0 (tests/oslo/setup, a venv from PyPI) reads each with
//! cinder's option definitions and per-backend lookup (tests/oslo/oracle.py), and ember's
//! `config::load` reads each too. They must agree on accept/reject, the enabled backends and,
//! per backend, managed, volume_group, lvm_type, lvm_conf_file, lvm_suppress_fd_warnings,
//! max_over_subscription_ratio (as cinder's string), reserved_percentage, the backend name and
//! `host@backend`, except where ember departs on purpose (`departure`, documented in
//! ember-desired-state(5)). `EMBER_OSLO_CASES` sets the number of files (default 2000; the
//! long mode, tests/long, runs more), `EMBER_OSLO_SEED` the first seed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

#[path = "oslo_parity/generate.rs"]
mod generate;

use std::collections::BTreeMap;
use std::process::Command;

use ember::config::{self, BackendConfig, Config, Sources};
use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn oracle(dir: &std::path::Path) -> BTreeMap<String, Value> {
    let python = format!("{ROOT}/target/oslo/bin/python3");
    assert!(
        std::path::Path::new(&python).exists(),
        "oslo.config's venv is missing: run tests/oslo/setup (tests/run-all does)"
    );
    let out = Command::new(&python)
        .arg(format!("{ROOT}/tests/oslo/oracle.py"))
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["file"].as_str().unwrap().to_string(), v)
        })
        .collect()
}

/// ember's reading of one backend, in the oracle's terms.
fn ember_backend(b: &BackendConfig) -> Value {
    let mut v = serde_json::json!({
        "managed": b.managed,
        "max_over_subscription_ratio": b.max_over_subscription_ratio_text,
        "reserved_percentage": b.reserved_percentage,
        "host": b.host,
    });
    if b.managed {
        v["volume_group"] = b.volume_group.clone().into();
        v["lvm_type"] = b.lvm_type.to_string().into();
        v["lvm_conf_file"] = b
            .lvm_conf_file
            .as_ref()
            .map(|p| p.display().to_string())
            .into();
        v["lvm_suppress_fd_warnings"] = b.lvm_suppress_fd_warnings.into();
        v["volume_backend_name"] = b.volume_backend_name.clone().into();
        let c = b.volume_clear;
        v["volume_clear"] = c.method.to_string().into();
        if c.method != config::VolumeClear::None {
            v["volume_clear_size"] = c.size_mib.into();
            v["volume_clear_ionice"] = serde_json::to_value(c.ionice).unwrap();
        }
    }
    v
}

/// The oracle's reading of one backend, with what cinder's LVM driver does next with it
/// (`lvm_conf_file = None` disables it; no volume_backend_name reports `LVM`).
fn cinder_backend(o: &Value) -> Value {
    let mut v = serde_json::json!({
        "managed": o["managed"],
        "max_over_subscription_ratio": o["max_over_subscription_ratio"],
        "reserved_percentage": o["reserved_percentage"],
        "host": o["host"],
    });
    if o["managed"] == true {
        for k in ["volume_group", "lvm_type", "lvm_suppress_fd_warnings"] {
            v[k] = o[k].clone();
        }
        let conf = o["lvm_conf_file"].as_str().unwrap_or_default();
        v["lvm_conf_file"] = if conf.eq_ignore_ascii_case("none") || conf.is_empty() {
            Value::Null
        } else {
            conf.into()
        };
        v["volume_backend_name"] = match o["volume_backend_name"].as_str() {
            Some(n) if !n.is_empty() => n.into(),
            _ => "LVM".into(),
        };
        v["volume_clear"] = o["volume_clear"].clone();
        if o["volume_clear"] != "none" {
            // an unset size is cinder's None, which its dd cannot count: ember reads 0 (all)
            v["volume_clear_size"] = o["volume_clear_size"].as_i64().unwrap_or(0).into();
            // the priority ionice would set with it (a text ember cannot read: a departure)
            let ionice = o["volume_clear_ionice"]
                .as_str()
                .map(|t| config::Ionice::parse(t).map_err(|_| t));
            v["volume_clear_ionice"] = match ionice {
                None => Value::Null,
                Some(Ok(i)) => serde_json::to_value(i).unwrap(),
                Some(Err(t)) => format!("unreadable: {t}").into(),
            };
        }
    }
    v
}

/// ember's errors for what cinder runs, each a documented departure.
const DEPARTURES: &[(&str, &str)] = &[
    (
        "named twice in enabled_backends",
        "a backend named twice: refused",
    ),
    (
        "both use volume group",
        "two managed backends on one volume group: refused",
    ),
    (
        "must be at least 1.0",
        "max_over_subscription_ratio below 1.0: refused",
    ),
    (
        "enabled_backends is missing or empty",
        "no enabled backend: refused (ember manages enabled_backends only)",
    ),
    (
        "volume_group: name",
        "a volume_group LVM cannot have: refused",
    ),
    (
        "cinder's dd fails on a negative count",
        "a negative volume_clear_size: refused",
    ),
    (
        "volume_clear_ionice:",
        "a volume_clear_ionice ionice would not run the wipe with: refused",
    ),
];

/// Where ember departs from cinder on purpose (each documented in ember-desired-state(5)).
fn departure(
    text: &str,
    mine: &Option<Config>,
    errors: &[String],
    theirs: &Value,
) -> Option<&'static str> {
    if text.starts_with('\u{feff}') {
        return Some("a UTF-8 BOM: accepted with a warning");
    }
    // ember refuses what cinder runs: a departure only when every error is one
    if mine.is_none() && theirs["ok"] == true {
        let mut which = None;
        for e in errors {
            which = Some(DEPARTURES.iter().find(|(needle, _)| e.contains(needle))?.1);
        }
        return which;
    }
    if let (Some(c), true) = (mine, theirs["ok"] == true) {
        let empty_shared = c
            .backends
            .iter()
            .any(|b| theirs["backends"][&b.name]["reserved_percentage"].is_null());
        if empty_shared {
            return Some("an empty reserved_percentage in [backend_defaults]: 0, not None");
        }
    }
    None
}

#[test]
fn ember_reads_cinder_conf_as_oslo_config_does() {
    let n: u64 = std::env::var("EMBER_OSLO_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let seed0: u64 = std::env::var("EMBER_OSLO_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let dir = tempfile::tempdir().unwrap();
    let mut texts = BTreeMap::new();
    for seed in seed0..seed0 + n {
        let mut rng = generate::Rng::new(seed);
        let text = generate::file(&mut rng);
        let text = generate::line_endings(&mut rng, text);
        let name = format!("case-{seed:06}.conf");
        std::fs::write(dir.path().join(&name), &text).unwrap();
        texts.insert(name, text);
    }
    let theirs = oracle(dir.path());
    assert_eq!(theirs.len(), texts.len());
    let (mut agree, mut both_ok, mut compared) = (0, 0, 0);
    let mut departures: BTreeMap<&str, usize> = BTreeMap::new();
    let mut wrong = vec![];
    for (name, text) in &texts {
        let t = &theirs[name];
        let loaded = config::load(&Sources {
            config_files: vec![dir.path().join(name)],
            config_dirs: vec![],
            allow_insecure_files: true,
        });
        let errors: Vec<String> = loaded
            .problems
            .iter()
            .filter(|p| p.is_error())
            .map(|p| p.to_string())
            .collect();
        let same = match (&loaded.config, t["ok"].as_bool().unwrap()) {
            (None, false) => true,
            (Some(c), true) => {
                let enabled: Vec<Value> = c
                    .enabled_backends
                    .iter()
                    .map(|s| s.as_str().into())
                    .collect();
                enabled == t["enabled"].as_array().cloned().unwrap_or_default()
                    && c.backends
                        .iter()
                        .all(|b| ember_backend(b) == cinder_backend(&t["backends"][&b.name]))
                    && c.backends.len() == t["backends"].as_object().map_or(0, |o| o.len())
            }
            _ => false,
        };
        if same {
            agree += 1;
            if let Some(c) = &loaded.config {
                both_ok += 1;
                compared += c.backends.len();
            }
        } else if let Some(d) = departure(text, &loaded.config, &errors, t) {
            *departures.entry(d).or_default() += 1;
        } else {
            let mine = loaded
                .config
                .as_ref()
                .map(|c| {
                    serde_json::json!({
                        "enabled": c.enabled_backends,
                        "backends": c.backends.iter().map(|b| (b.name.clone(), ember_backend(b))).collect::<BTreeMap<_, _>>()
                    })
                })
                .unwrap_or_else(|| serde_json::json!({"errors": errors}));
            wrong.push(format!(
                "{name}:\n{text:?}\n  oslo.config: {t}\n  ember:       {mine}\n"
            ));
        }
    }
    eprintln!(
        "oslo.config parity: {n} files, {agree} agree ({both_ok} read by both, {compared} backends compared; the rest refused by both), {} documented departures {departures:?}, {} disagreements",
        departures.values().sum::<usize>(),
        wrong.len()
    );
    assert!(
        wrong.is_empty(),
        "{} of {n} disagree; the first:\n{}",
        wrong.len(),
        wrong.iter().take(8).cloned().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn check_and_plan_show_the_warnings_with_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    let conf = d.path().join("cinder.conf");
    std::fs::write(
        &conf,
        "[DEFAULT]\nenabled_backends = [lvm-1]\n[[lvm-1]]\nvolume_group = vg1 # the first\n",
    )
    .unwrap();
    std::fs::write(d.path().join("desired-state.yaml"), "backends: {}\n").unwrap();
    std::fs::write(
        d.path().join("lvm.json"),
        r#"{"vgs": {"vg1 # the first": {"size": 1073741824}}}"#,
    )
    .unwrap();
    let sim = format!("sim:{}", d.path().join("lvm.json").display());
    for cmd in ["check", "plan"] {
        let out = Command::new(env!("CARGO_BIN_EXE_ember"))
            .arg("--config-file")
            .arg(&conf)
            .args(["--allow-insecure-files", "--lvm", &sim, cmd])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        for want in [
            format!(
                "{}:2: warning: enabled_backends = \"[lvm-1]\": oslo.config keeps the brackets",
                conf.display()
            ),
            format!(
                "{}:4: warning: volume_group = \"vg1 # the first\": oslo.config has no inline comments",
                conf.display()
            ),
        ] {
            assert!(err.contains(&want), "{cmd}: {want} in {err}");
        }
    }
}
