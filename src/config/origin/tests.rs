use std::path::{Path, PathBuf};

use super::*;
use crate::config::{Config, Sources, load};

fn config(files: &[(&Path, &str)]) -> Config {
    let mut paths = vec![];
    for (p, text) in files {
        std::fs::write(p, text).unwrap();
        paths.push(p.to_path_buf());
    }
    load(&Sources {
        config_files: paths,
        config_dirs: vec![],
        allow_insecure_files: true,
    })
    .config
    .unwrap()
}

fn set(c: &Config, backend: &str) -> Setting {
    *c.backend(backend).unwrap().volume_group_set.0.clone()
}

fn line(file: &Path, line: usize, section: &str) -> Setting {
    Setting::Line {
        file: file.to_path_buf(),
        line,
        section: section.into(),
    }
}

#[test]
fn the_line_that_gives_the_value_as_oslo_and_cinder_find_it() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("cinder.conf");
    let c = config(&[(
        &f,
        "[DEFAULT]\nenabled_backends = own,shared\n[backend_defaults]\nvolume_group = vg-shared\n[own]\n# the backend's own\nvolume_group = vg-own\n[shared]\nlvm_type = thin\n",
    )]);
    // the backend's section wins over [backend_defaults]
    assert_eq!(set(&c, "own"), line(&f, 7, "own"));
    // a backend that does not set it gets [backend_defaults]' line
    assert_eq!(set(&c, "shared"), line(&f, 4, "backend_defaults"));
    assert_eq!(c.backend("shared").unwrap().volume_group, "vg-shared");
    // set nowhere: cinder's default, to be set in the backend's section
    let c = config(&[(
        &f,
        "[DEFAULT]\nenabled_backends = lvm-1\n[lvm-1]\nlvm_type = thin\n",
    )]);
    assert_eq!(set(&c, "lvm-1"), Setting::Default { file: f.clone() });
    assert_eq!(c.backend("lvm-1").unwrap().volume_group, "cinder-volumes");
}

#[test]
fn a_later_file_that_sets_it_is_the_one_named() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = (d.path().join("a.conf"), d.path().join("b.conf"));
    let c = config(&[
        (
            &a,
            "[DEFAULT]\nenabled_backends = lvm-1\n[lvm-1]\nvolume_group = vg-a\n",
        ),
        (
            &b,
            "[backend_defaults]\nvolume_group = vg-b\n[lvm-1]\n\nvolume_group = vg-c\n",
        ),
    ]);
    assert_eq!(set(&c, "lvm-1"), line(&b, 5, "lvm-1"));
}

#[test]
fn what_the_message_says() {
    let f = PathBuf::from("/etc/cinder/cinder.conf");
    assert_eq!(
        line(&f, 12, "lvm-1").describe("lvm-1", "volume_group", "foo"),
        "volume_group = foo (/etc/cinder/cinder.conf:12)"
    );
    assert_eq!(
        line(&f, 4, "backend_defaults").describe("lvm-1", "volume_group", "foo"),
        "volume_group = foo (/etc/cinder/cinder.conf:4) in [backend_defaults], which [lvm-1] does not override"
    );
    assert_eq!(
        Setting::Default { file: f }.describe("lvm-1", "volume_group", "cinder-volumes"),
        "neither [lvm-1] nor [backend_defaults] sets volume_group, so cinder's default cinder-volumes applies: set volume_group in [lvm-1] of /etc/cinder/cinder.conf"
    );
}

#[test]
fn a_line_moved_by_an_edit_elsewhere_changes_no_comparison_but_travels_to_the_workers() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("cinder.conf");
    let text = "[DEFAULT]\nenabled_backends = lvm-1\n[lvm-1]\nvolume_group = vg1\n";
    let before = config(&[(&f, text)]);
    let after = config(&[(
        &f,
        &text.replace("[lvm-1]\n", "[lvm-1]\n# moved down a line\n"),
    )]);
    assert_eq!(set(&before, "lvm-1"), line(&f, 4, "lvm-1"));
    assert_eq!(set(&after, "lvm-1"), line(&f, 5, "lvm-1"));
    assert_eq!(before.backends, after.backends);
    assert_eq!(before, after);
    // the workers get it with the configuration (the supervisor sends it as JSON)
    let sent: Config = serde_json::from_str(&serde_json::to_string(&after).unwrap()).unwrap();
    assert_eq!(set(&sent, "lvm-1"), line(&f, 5, "lvm-1"));
    // from an ember that sent none: not known, and the message says what it said before
    let mut old = serde_json::to_value(&after).unwrap();
    old["backends"][0]
        .as_object_mut()
        .unwrap()
        .remove("volume_group_set");
    let old: Config = serde_json::from_value(old).unwrap();
    assert_eq!(set(&old, "lvm-1"), Setting::Unknown);
}
