use std::path::Path;

use super::super::{DesiredState, parse};
use crate::config::Config;
use crate::problem::Problem;

fn cfg() -> Config {
    crate::testkit::config(
        "[DEFAULT]\nenabled_backends = lvm-1,lvm-2,lvm-3\n[lvm-1]\nvolume_group = vg1\n[lvm-2]\nvolume_group = vg2\n[lvm-3]\nvolume_group = vg3\n",
    )
}

fn p(text: &str) -> Result<DesiredState, Vec<Problem>> {
    parse(Path::new("d.yaml"), text, &cfg())
}

/// `line:column: message`, or `line: message` without a column.
fn said(ps: &[Problem]) -> Vec<String> {
    ps.iter()
        .map(|p| {
            assert!(p.is_error(), "{p}");
            p.to_string().trim_start_matches("d.yaml:").to_string()
        })
        .collect()
}

const FIVE_MISTAKES: &str = "\
backends:
  lvm-1:
    thin_pool: { size: 90 }
    prune: true
    volumes:
      good: { size: 1G }
      a: 10G
      b: { size: 10GB }
      c: { state: present }
  lvm-2:
    volume: {}
    volumes:
      d: { size: 1G, sise: 2G }
  lvm-3:
    prune: true
    volumes:
      e: { size: 1G }
";

#[test]
fn every_mistake_of_a_file_is_reported_at_once_each_with_its_line() {
    let d = p(FIVE_MISTAKES).unwrap();
    assert_eq!(
        said(&d.rejected["lvm-1"]),
        [
            "3:24: error: backends.lvm-1.thin_pool.size: size 90 has no unit: cinder's sizes are GiB (90G), lvm reads a bare number as MiB (90M), and bytes are written 90B",
            "7:10: error: backends.lvm-1.volumes.a: invalid type: string \"10G\", expected a volume: a mapping such as `{ size: 10G }` (a bare `NAME: 10G` is not one)",
            "8:18: error: backends.lvm-1.volumes.b.size: size \"10GB\" is ambiguous: GB means 1000s to some and 1024s to others; write 10G or 10GiB (binary: the unit lvm and cinder use), or the number of bytes with B",
            "9:10: error: backends.lvm-1.volumes.c: a present volume needs a size (e.g. size: 10G)",
        ]
    );
    assert_eq!(
        said(&d.rejected["lvm-2"]),
        [
            "11:5: error: backends.lvm-2: unknown field `volume`, expected one of `volume_group`, `thin_pool`, `prune`, `adopt`, `volumes`, `snapshots`",
            "13:22: error: backends.lvm-2.volumes.d: unknown field `sise`, expected one of `size`, `state`, `source`, `export`",
        ]
    );
    // a part with an error is rejected whole: nothing of lvm-1 (not even `good`) is used
    assert_eq!(d.backends.keys().collect::<Vec<_>>(), ["lvm-3"]);
    // and while part of the file is rejected, no backend prunes
    assert!(!d.backends["lvm-3"].prune);
}

#[test]
fn the_valid_rest_of_a_broken_part_is_still_checked_across_its_entries() {
    let d = p("backends:\n  lvm-1:\n    volumes:\n      x: 10G\n      a: { size: 1G, source: { volume: b } }\n      b: { size: 1G, source: { volume: a } }\n    snapshots:\n      s1: { volume: a }\n").unwrap();
    assert_eq!(
        said(&d.rejected["lvm-1"]),
        [
            "4:10: error: backends.lvm-1.volumes.x: invalid type: string \"10G\", expected a volume: a mapping such as `{ size: 10G }` (a bare `NAME: 10G` is not one)",
            "5: error: a: made from itself through a <- b <- a: none of them can be made first; remove one of these sources",
            "8: error: snapshot s1: snapshot names start with _snapshot- (cinder's LV name for a snapshot: _snapshot-<id>)",
        ]
    );
    assert!(d.backends.is_empty());
}

#[test]
fn a_name_and_a_value_both_wrong_are_two_errors_and_a_duplicate_is_one() {
    let d = p("backends:\n  lvm-1:\n    volumes:\n      -rf: 1G\n      v: { size: 1G }\n      v: { size: 2G }\n").unwrap();
    let s = said(&d.rejected["lvm-1"]);
    assert_eq!(s.len(), 3, "{s:?}");
    assert!(
        s[0].starts_with("4:7: error: backends.lvm-1.volumes: name \"-rf\" starts with '-'"),
        "{s:?}"
    );
    assert!(
        s[1].starts_with("4:12: error: backends.lvm-1.volumes.-rf: invalid type"),
        "{s:?}"
    );
    assert_eq!(
        s[2],
        "6:7: error: backends.lvm-1.volumes: duplicate key \"v\""
    );
}

#[test]
fn what_is_rejected_is_yaml_serdes_word_not_the_trees() {
    // `~` as a backend: the tree reads an empty value, yaml_serde refuses it; its error stands
    let d = p("backends:\n  lvm-1: ~\n  lvm-2:\n    volumes:\n      v: 1G\n  lvm-3: {}\n").unwrap();
    assert_eq!(
        said(&d.rejected["lvm-1"]),
        [
            "2:10: error: backends.lvm-1: invalid type: unit value, expected a backend: a mapping of volume_group, thin_pool, volumes, snapshots, prune, adopt"
        ]
    );
    assert_eq!(d.rejected["lvm-2"].len(), 1);
    assert_eq!(d.backends.keys().collect::<Vec<_>>(), ["lvm-3"]);
}

#[test]
fn a_yaml_syntax_error_is_the_one_error_of_the_file() {
    let e =
        p("backends:\n  lvm-1:\n    volumes:\n      a: 10G\n      b: { size: 1G\n  lvm-2: {}\n")
            .unwrap_err();
    assert_eq!(e.len(), 1, "{e:?}");
}

#[test]
fn errors_at_the_top_level_reject_the_whole_file_and_come_with_the_rest() {
    let e =
        p("backend: {}\nbackends:\n  lvm-1:\n    volumes:\n      a: 10G\n  lvm-2: {}\nextra: 1\n")
            .unwrap_err();
    assert_eq!(
        said(&e),
        [
            "1:1: error: unknown field `backend`, expected `backends`",
            "7:1: error: unknown field `extra`, expected `backends`",
            "5:10: error: backends.lvm-1.volumes.a: invalid type: string \"10G\", expected a volume: a mapping such as `{ size: 10G }` (a bare `NAME: 10G` is not one)",
        ]
    );
    let e = p("backends:\n  lvm-1: {}\n  lvm-1: {}\n  lvm-2:\n    volumes:\n      a: 10G\n")
        .unwrap_err();
    assert!(said(&e)[0].contains("duplicate key \"lvm-1\""), "{e:?}");
}

#[test]
fn thousands_of_broken_volumes_are_each_reported_in_one_read() {
    let mut y = String::from("backends:\n  lvm-1:\n    volumes:\n");
    for i in 0..5000 {
        y.push_str(&format!("      v{i}: {i}G\n"));
    }
    let d = p(&y).unwrap();
    let e = &d.rejected["lvm-1"];
    assert_eq!(e.len(), 5000);
    assert_eq!(e[4999].line, Some(5003));
}
