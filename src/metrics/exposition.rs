//! Prometheus' classic text exposition format (version 0.0.4), which node_exporter's textfile
//! collector reads (it does not read OpenMetrics): `# HELP` and `# TYPE` once per family, then
//! its samples, one per line, each label set once.

use std::collections::BTreeSet;
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gauge,
    Counter,
}

/// One metric family: a name, its help, its type and its samples.
#[derive(Debug)]
struct Family {
    name: &'static str,
    help: &'static str,
    kind: Kind,
    samples: Vec<(String, f64)>,
    /// The label sets already in `samples`: a series appears once.
    seen: BTreeSet<String>,
}

/// The families of one file, in the order they were first used.
#[derive(Debug, Default)]
pub struct Exposition {
    families: Vec<Family>,
}

impl Exposition {
    /// Adds a sample to family `name` (declared by its first use). A label set the family
    /// already has is ignored: a duplicate series makes the textfile collector drop the file.
    pub fn add(
        &mut self,
        name: &'static str,
        help: &'static str,
        kind: Kind,
        labels: &[(&str, &str)],
        value: f64,
    ) {
        let i = match self.families.iter().position(|f| f.name == name) {
            Some(i) => i,
            None => {
                self.families.push(Family {
                    name,
                    help,
                    kind,
                    samples: vec![],
                    seen: BTreeSet::new(),
                });
                self.families.len() - 1
            }
        };
        let f = &mut self.families[i];
        let labels = label_text(labels);
        if f.seen.insert(labels.clone()) {
            f.samples.push((labels, value));
        }
    }

    pub fn render(&self) -> String {
        let mut s = String::new();
        for f in &self.families {
            let _ = writeln!(s, "# HELP {} {}", f.name, escape_help(f.help));
            let kind = match f.kind {
                Kind::Gauge => "gauge",
                Kind::Counter => "counter",
            };
            let _ = writeln!(s, "# TYPE {} {kind}", f.name);
            for (labels, v) in &f.samples {
                let _ = writeln!(s, "{}{labels} {}", f.name, value_text(*v));
            }
        }
        s
    }
}

/// `{a="1",b="x"}`, or nothing without labels.
fn label_text(labels: &[(&str, &str)]) -> String {
    if labels.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
        .collect();
    format!("{{{}}}", parts.join(","))
}

/// A label value: backslash, double quote and line feed escaped.
pub fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// HELP text: backslash and line feed escaped.
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Integers without a fraction, `NaN`, `+Inf`, `-Inf` as Prometheus spells them.
fn value_text(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 9.0e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}
