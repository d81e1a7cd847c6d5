//! The `--json` documents as scripts read them: every command's output matches its shipped
//! schema (checked by `common::ember_in` for every `--json` run of every test), names its
//! format and version, has the same fields whether a backend is healthy, refused, rejected or
//! in error, and a command that cannot start still prints its document.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

mod common;
use common::*;

const CONF: &str = "[DEFAULT]\nenabled_backends = good,refused,rejected,broken\nhost = node01\n\
[good]\nvolume_group = vg-good\n\
[refused]\nvolume_group = vg-refused\nmax_over_subscription_ratio = 1.0\n\
[rejected]\nvolume_group = vg-rejected\n\
[broken]\nvolume_group = vg-missing\n";

const SIM: &str = r#"{"vgs": {"vg-good": {"size": 10737418240}, "vg-refused": {"size": 1073741824}, "vg-rejected": {"size": 1073741824}}}"#;

const DESIRED: &str = "backends:\n  good:\n    thin_pool: { size: 50% }\n    volumes:\n      v1: { size: 1G }\n  refused:\n    thin_pool: { size: 50% }\n    volumes:\n      huge: { size: 100G }\n  rejected:\n    volumes:\n      v1: { size: ten }\n  broken:\n    volumes:\n      v1: { size: 1G }\n";

fn setup() -> (Scratch, String) {
    let s = Scratch::new();
    s.write("cinder.conf", CONF);
    s.write("desired-state.yaml", DESIRED);
    s.write("lvm.json", SIM);
    let sim = format!("sim:{}", s.path("lvm.json").display());
    (s, sim)
}

fn keys(v: &serde_json::Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

fn by_name<'a>(doc: &'a serde_json::Value, key: &str, name: &str) -> &'a serde_json::Value {
    doc["backends"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b[key] == name)
        .unwrap_or_else(|| panic!("no backend {name}: {doc:#}"))
}

/// One backend in each state, and every backend entry has the same fields.
fn assert_same_shape(doc: &serde_json::Value, key: &str, states: &[(&str, &str)]) {
    for (name, state) in states {
        assert_eq!(by_name(doc, key, name)["state"], *state, "{name}: {doc:#}");
    }
    let first = keys(&doc["backends"][0]);
    for b in doc["backends"].as_array().unwrap() {
        assert_eq!(keys(b), first, "every backend has every field: {doc:#}");
    }
}

#[test]
fn plan_and_apply_have_one_shape_for_every_state() {
    let (s, sim) = setup();
    let r = s.ember(&["--lvm", &sim, "plan", "--json"]);
    assert_eq!(r.code, 1, "a backend in error: {r:?}");
    let j = r.json();
    assert_eq!(j["format"], "ember-plan");
    assert_eq!(j["format_version"], 1);
    assert_eq!((&j["ok"], &j["blocked"]), (&false.into(), &true.into()));
    assert_same_shape(
        &j,
        "backend",
        &[
            ("good", "pending"),
            ("refused", "blocked"),
            ("rejected", "rejected"),
            ("broken", "error"),
        ],
    );
    let rejected = by_name(&j, "backend", "rejected");
    assert!(rejected["problems"][0]["line"].as_u64().is_some(), "{j:#}");
    assert_eq!(by_name(&j, "backend", "good")["counts"]["create"], 2);
    assert_eq!(j["counts"]["refused"], 1);
    // (the check itself finds a repeated key)
    assert!(json::has_duplicate_key(r#"{"a": [{"b": 1, "b": 2}]}"#));
    assert!(!json::has_duplicate_key(r#"{"a": [{"b": 1}, {"b": 2}]}"#));

    let r = s.ember(&["--lvm", &sim, "apply", "--json"]);
    assert_eq!(r.code, 1, "{r:?}");
    let j = r.json();
    assert_eq!(j["format"], "ember-apply");
    assert_same_shape(
        &j,
        "backend",
        &[
            ("good", "converged"),
            ("refused", "blocked"),
            ("rejected", "rejected"),
            ("broken", "error"),
        ],
    );
    assert_eq!(
        by_name(&j, "backend", "good")["done"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(r.stderr, "", "with --json, everything is in the document");
}

#[test]
fn a_command_that_cannot_start_prints_its_document() {
    let (s, sim) = setup();
    for (args, what) in [
        (vec!["plan", "--json", "--backend", "nosuch"], "nosuch"),
        (vec!["apply", "--json", "--backend", "nosuch"], "nosuch"),
    ] {
        let mut a = vec!["--lvm", &sim];
        a.extend(args);
        let r = s.ember(&a);
        assert_eq!(r.code, 1, "{r:?}");
        let j = r.json();
        assert_eq!(j["ok"], false);
        assert!(j["error"].as_str().unwrap().contains(what), "{j:#}");
        assert_eq!(j["backends"], serde_json::json!([]));
    }
    // cinder.conf that does not parse: the problem with its line, in the document
    s.write("cinder.conf", "[DEFAULT]\nenabled_backends = good\n[good\n");
    for cmd in ["plan", "apply", "check"] {
        let r = s.ember(&["--lvm", &sim, cmd, "--json"]);
        assert_eq!(r.code, 1, "{r:?}");
        let j = r.json();
        assert_eq!(j["ok"], false, "{j:#}");
        assert_eq!(j["problems"][0]["line"], 3, "{j:#}");
        assert!(j["error"].is_string(), "{j:#}");
    }
    // no daemon to ask
    let r = s.ember(&["status", "--json"]);
    assert_eq!(r.code, 1, "{r:?}");
    let j = r.json();
    assert_eq!(
        (&j["ok"], &j["backends"]),
        (&false.into(), &serde_json::json!([]))
    );
    assert!(j["error"].is_string(), "{j:#}");
}

#[test]
fn check_gives_numbers_as_numbers() {
    let (s, _) = setup();
    s.write(
        "cinder.conf",
        &CONF.replace(
            "max_over_subscription_ratio = 1.0",
            "max_over_subscription_ratio = auto",
        ),
    );
    let r = s.ember(&["check", "--json"]);
    let j = r.json();
    assert_eq!(j["format"], "ember-check");
    let good = by_name(&j, "name", "good");
    assert!(good["max_over_subscription_ratio"].is_f64(), "{j:#}");
    let auto = by_name(&j, "name", "refused");
    assert_eq!(auto["max_over_subscription_ratio"], serde_json::Value::Null);
    assert_eq!(auto["max_over_subscription_ratio_auto"], true);
    let d = &j["desired_state"];
    let rejected = by_name(d, "name", "rejected");
    assert_eq!(rejected["rejected"], true, "{d:#}");
    assert_eq!(keys(rejected), keys(by_name(d, "name", "good")));
}

#[test]
fn a_document_that_breaks_its_schema_is_caught() {
    // the check every --json run goes through is not vacuous
    let wrong = [
        r#"{"format": "ember-plan", "format_version": 1}"#,
        r#"{"format": "ember-plan", "format_version": "1", "ok": true, "changes_pending": false, "blocked": false, "error": null, "problems": [], "backends": [], "counts": {"create": 0, "grow": 0, "delete": 0, "change": 0, "refused": 0}}"#,
    ];
    for text in wrong {
        let r = std::panic::catch_unwind(|| json::validate("plan", text));
        assert!(r.is_err(), "{text}");
    }
    let right = r#"{"format": "ember-plan", "format_version": 1, "ok": true, "changes_pending": false, "blocked": false, "error": null, "problems": [], "backends": [], "counts": {"create": 0, "grow": 0, "delete": 0, "change": 0, "refused": 0}}"#;
    json::validate("plan", right);
}
