use std::path::Path;

use super::super::{DesiredState, parse};
use super::*;
use crate::config::Config;
use crate::problem::Problem;

fn cfg() -> Config {
    crate::testkit::config(
        "[DEFAULT]\nenabled_backends = lvm-1,thick\n[lvm-1]\nvolume_group = vg1\nlvm_type = thin\n[thick]\nvolume_group = vg3\nlvm_type = default\n",
    )
}

fn p(text: &str) -> Result<DesiredState, Vec<Problem>> {
    parse(Path::new("desired-state.yaml"), text, &cfg())
}

/// The problems of `text`: the whole file's, or its rejected backends'.
fn errs(text: &str) -> Vec<Problem> {
    match p(text) {
        Err(e) => e,
        Ok(d) => d.rejected.into_values().flatten().collect(),
    }
}

fn n(s: &str) -> LvName {
    LvName::new(s).unwrap()
}

#[test]
fn parses_the_documented_example() {
    let d = p("backends:\n  lvm-1:\n    volumes:\n      volume-a: { size: 10G }\n      volume-b: { size: 20G, source: { snapshot: _snapshot-s1 } }\n      volume-c: { size: 10G, source: { volume: volume-a } }\n    snapshots:\n      _snapshot-s1: { volume: volume-a }\n      _snapshot-old: { state: absent }\n").unwrap();
    let b = d.backend("lvm-1").unwrap();
    assert_eq!(
        b.volumes.get_str("volume-b"),
        Some(&VolumeDesired::Present {
            size: crate::size::Bytes(20 << 30),
            source: Some(Source::Snapshot(n("_snapshot-s1"))),
            export: None,
        })
    );
    assert!(matches!(
        b.volumes.get_str("volume-c"),
        Some(VolumeDesired::Present { source: Some(Source::Volume(v)), .. }) if v == "volume-a"
    ));
    assert_eq!(
        b.snapshots.get_str("_snapshot-s1"),
        Some(&SnapshotDesired::Present {
            volume: Some(n("volume-a"))
        })
    );
    assert_eq!(
        b.snapshots.get_str("_snapshot-old"),
        Some(&SnapshotDesired::Absent)
    );
}

#[test]
fn each_mistake_is_an_error_with_its_line() {
    for (yaml, line, what) in [
        (
            "    snapshots:\n      snap-1: { volume: v }\n",
            4,
            "snapshot names start with _snapshot-",
        ),
        (
            "    volumes:\n      _snapshot-1: { size: 1G }\n",
            4,
            "declare it under snapshots:",
        ),
        (
            "    snapshots:\n      _snapshot-1: { volume: _snapshot-2 }\n",
            4,
            "ember snapshots volumes only",
        ),
        (
            "    volumes:\n      v: { size: 1G, source: { snapshot: v0 } }\n",
            4,
            "names no snapshot",
        ),
        (
            "    volumes:\n      v: { size: 1G, source: { volume: _snapshot-1 } }\n",
            4,
            "names a snapshot",
        ),
        (
            "    volumes:\n      v: { size: 1G, source: { volume: a, snapshot: _snapshot-1 } }\n",
            4,
            "one snapshot or one volume",
        ),
        (
            "    volumes:\n      v: { size: 1G, source: { image: a } }\n",
            4,
            "unknown field `image`",
        ),
    ] {
        let text = format!("backends:\n  lvm-1:\n{yaml}");
        let e = errs(&text);
        assert_eq!(e.len(), 1, "{text}: {e:?}");
        assert!(e[0].message.contains(what), "{text}: {e:?}");
        assert_eq!(e[0].line, Some(line), "{text}: {e:?}");
    }
}

#[test]
fn a_thick_backend_has_no_snapshots_nor_sources() {
    let e = errs(
        "backends:\n  thick:\n    volumes:\n      v: { size: 1G }\n    snapshots:\n      _snapshot-1: { volume: v }\n",
    );
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].message.contains("snapshots of thin volumes only"),
        "{e:?}"
    );
    assert_eq!(e[0].line, Some(6));
    let e = errs(
        "backends:\n  thick:\n    volumes:\n      v: { size: 1G }\n      w: { size: 1G, source: { volume: v } }\n",
    );
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].message.contains("remove source"), "{e:?}");
    assert_eq!(e[0].line, Some(5));
}

#[test]
fn a_source_the_file_does_not_declare_is_a_warning_for_check() {
    let d = p("backends:\n  lvm-1:\n    volumes:\n      a: { size: 1G }\n      b: { size: 1G, source: { volume: a } }\n      c: { size: 1G, source: { snapshot: _snapshot-gone } }\n    snapshots:\n      _snapshot-1: { volume: elsewhere }\n").unwrap();
    let w: Vec<(Option<usize>, &str)> = d
        .warnings
        .iter()
        .map(|w| (w.line, w.message.as_str()))
        .collect();
    assert_eq!(w.len(), 2, "{w:?}");
    assert_eq!(w[0].0, Some(6));
    assert!(
        w[0].1
            .starts_with("volume c: its source, snapshot _snapshot-gone, is not declared"),
        "{w:?}"
    );
    assert_eq!(w[1].0, Some(8));
    assert!(w[1].1.contains("volume elsewhere is not declared"), "{w:?}");
}

#[test]
fn a_snapshots_key_with_no_value_is_an_error_naming_its_line() {
    let e = errs(
        "backends:\n  lvm-1:\n    volumes: {}\n    snapshots:\n    #  _snapshot-1: { volume: v }\n",
    );
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].message.contains("write `snapshots: {}`"), "{e:?}");
    assert_eq!(e[0].line, Some(4), "{e:?}");
    let d = p("backends:\n  lvm-1:\n    volumes: {}\n    snapshots: {}\n").unwrap();
    assert!(d.backend("lvm-1").unwrap().snapshots_listed);
    let d = p("backends:\n  lvm-1:\n    volumes: {}\n").unwrap();
    assert!(!d.backend("lvm-1").unwrap().snapshots_listed);
}
