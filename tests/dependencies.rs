//! Module dependencies flow one way (docs/architecture.md):
//!
//! ```text
//! main ─► cli, commands, daemon            the front ends (cli: the clap definitions)
//! commands, daemon ─► control, inputs, reconcile, status, export
//! status ─► reconcile ─► lvm, config, desired
//! inputs ─► lvm, config, desired           (loading: cinder.conf, desired state, lvm options)
//! control ─► status                        (the control protocol and its client)
//! metrics ─► status                        (the metrics file, rendered from the status)
//! lvm, config, desired ─► names, size, problem, trust   (lvm: names, size, trust)
//! reconcile ─► export                      (the kernel's target configuration; config: target options; trust: the CHAP store)
//! main, commands, daemon ─► out            (output that survives a closed pipe: `outln!` ...)
//! main, commands ─► paint ─► cli, status, problem   (colour for people, from `--color`)
//! main ─► logging ─► out                   (the log's lines on stderr, through the progress bar)
//! ```
//!
//! This test reads every `crate::`/`ember::` path in `src/` (comments aside) and fails on a
//! module that reaches one it must not: a wrong-direction import, or a cycle.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Which modules each module may use.
fn allowed() -> BTreeMap<&'static str, &'static [&'static str]> {
    const CORE: &[&str] = &[
        "lvm", "config", "desired", "export", "names", "size", "problem", "trust",
    ];
    let front: &'static [&'static str] = &[
        "out",
        "paint",
        "logging",
        "cli",
        "control",
        "inputs",
        "metrics",
        "reconcile",
        "status",
        "lvm",
        "config",
        "desired",
        "names",
        "size",
        "problem",
        "trust",
        // `ember connection`: the connection dictionary and the CHAP store
        "export",
    ];
    BTreeMap::from([
        (
            "main",
            &["cli", "commands", "daemon", "out", "paint", "logging"][..],
        ),
        ("out", &[][..]),
        ("paint", &["cli", "problem", "status"][..]),
        ("logging", &["out"][..]),
        ("cli", &["lvm", "config"][..]),
        ("commands", front),
        ("daemon", front),
        ("control", &["status"][..]),
        ("metrics", &["status"][..]),
        ("inputs", &["lvm", "config", "desired", "problem"][..]),
        (
            "status",
            &[
                "reconcile",
                "lvm",
                "config",
                "desired",
                "names",
                "problem",
                "size",
            ][..],
        ),
        ("reconcile", CORE),
        ("lvm", &["names", "size", "trust"][..]),
        ("config", &["names", "problem", "trust"][..]),
        (
            "desired",
            &["config", "names", "size", "problem", "trust"][..],
        ),
        ("export", &["config", "names", "trust"][..]),
        ("names", &[][..]),
        ("size", &[][..]),
        ("problem", &[][..]),
        ("trust", &[][..]),
        // (export: a target made in the configfs model as cinder makes one, testkit/cinder.rs)
        (
            "testkit",
            &["config", "desired", "export", "lvm", "names", "size"][..],
        ),
    ])
}

/// The top-level module a file in src/ belongs to.
fn module_of(rel: &Path) -> String {
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy()
        .to_string();
    first.trim_end_matches(".rs").to_string()
}

fn uses(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for prefix in ["crate::", "ember::"] {
            for (i, _) in line.match_indices(prefix) {
                let rest = &line[i + prefix.len()..];
                let m: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                // the output macros live at the crate's root, and are the module `out`'s
                let m = match m.as_str() {
                    "outln" | "errln" => "out".to_string(),
                    _ => m,
                };
                if !m.is_empty() {
                    out.insert(m);
                }
            }
        }
    }
    out
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn modules_depend_only_downwards() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = vec![];
    files(&src, &mut all);
    let allowed = allowed();
    let mut wrong = vec![];
    let mut seen = BTreeSet::new();
    for f in &all {
        let rel = f.strip_prefix(&src).unwrap();
        let m = module_of(rel);
        if m == "lib" {
            continue;
        }
        seen.insert(m.clone());
        let Some(ok) = allowed.get(m.as_str()) else {
            wrong.push(format!(
                "{}: module {m} is not in the dependency graph (add it)",
                rel.display()
            ));
            continue;
        };
        for d in uses(&std::fs::read_to_string(f).unwrap()) {
            // testkit: the unit tests' shared builders, compiled for tests only
            if d != m && d != "testkit" && !ok.contains(&d.as_str()) {
                wrong.push(format!("{}: {m} uses {d}", rel.display()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the dependency graph:\n{}",
        wrong.join("\n")
    );
    assert!(seen.len() >= 14, "the scan found the modules: {seen:?}");
}

#[test]
fn the_graph_has_no_cycle() {
    let g = allowed();
    // depth-first: a module may not reach itself
    fn reaches(g: &BTreeMap<&str, &[&str]>, from: &str, target: &str, depth: usize) -> bool {
        depth < 32
            && g.get(from).is_some_and(|ds| {
                ds.iter()
                    .any(|d| *d == target || reaches(g, d, target, depth + 1))
            })
    }
    for m in g.keys() {
        assert!(!reaches(&g, m, m, 0), "{m} depends on itself");
    }
}

#[test]
fn the_scan_sees_an_import() {
    assert_eq!(
        uses("use crate::lvm::X;\n// crate::daemon in a comment\nlet x = crate::size::Bytes(1);"),
        BTreeSet::from(["lvm".to_string(), "size".to_string()])
    );
}
