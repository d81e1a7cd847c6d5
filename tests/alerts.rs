//! The shipped alert rules (examples/prometheus/ember-alerts.yaml) against the real promtool:
//! `promtool check rules`, and `promtool test rules` with ember-alerts.test.yaml (the metadata
//! alert fires on a series above its threshold, and not before its `for:`; a stale metrics file;
//! a pool at its cap). promtool comes from Debian's prometheus package, unpacked by
//! tests/vm/setup-prometheus (tests/run-all runs it first).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

mod common;

use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn promtool(args: &[&str]) -> String {
    let bin = common::prometheus_bin("promtool");
    let out = Command::new(&bin)
        .args(args)
        .current_dir(format!("{ROOT}/examples/prometheus"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?}:\n{text}");
    text
}

#[test]
fn the_alert_rules_pass_promtool_check_rules() {
    let out = promtool(&["check", "rules", "ember-alerts.yaml"]);
    assert!(out.contains("SUCCESS: 10 rules found"), "{out}");
}

#[test]
fn the_alert_rules_unit_tests_pass() {
    let out = promtool(&["test", "rules", "ember-alerts.test.yaml"]);
    assert!(out.contains("SUCCESS"), "{out}");
}
