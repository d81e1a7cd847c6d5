//! The ways ember once read cinder.conf differently from oslo.config and cinder-volume, each
//! with its minimal example (the differential test, tests/oslo_parity.rs, covers them at scale).

use super::*;

fn read(text: &str) -> Loaded {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("cinder.conf");
    std::fs::write(&f, text).unwrap();
    load(&Sources {
        config_files: vec![f],
        config_dirs: vec![],
        allow_insecure_files: true,
    })
}

fn warnings(l: &Loaded) -> Vec<(Option<usize>, String)> {
    l.problems
        .iter()
        .filter(|p| !p.is_error())
        .map(|p| (p.line, p.message.clone()))
        .collect()
}

#[test]
fn brackets_in_enabled_backends_are_part_of_the_names_and_a_warning() {
    let l = read("[DEFAULT]\nenabled_backends = [lvm-1]\n[lvm-1]\nvolume_group = vg1\n");
    let c = l.config.as_ref().unwrap();
    assert_eq!(c.enabled_backends, ["[lvm-1]"]);
    // no section [[lvm-1]]: cinder's defaults, as cinder-volume reads it
    assert_eq!(c.backends[0].volume_group, "cinder-volumes");
    let w = warnings(&l);
    assert!(
        w.iter()
            .any(|(l, m)| *l == Some(2) && m.contains("keeps the brackets")),
        "{w:?}"
    );
}

#[test]
fn lvm_options_are_checked_only_for_lvm_backends() {
    let l = read(
        "[DEFAULT]\nenabled_backends = ceph\n[ceph]\nvolume_driver = cinder.volume.drivers.rbd.RBDDriver\nlvm_type = Thin\nlvm_suppress_fd_warnings = maybe\nvolume_group = -x\n",
    );
    let c = l.config.expect("cinder runs it");
    assert!(!c.backends[0].managed);
    let l = read("[DEFAULT]\nenabled_backends = lvm\n[lvm]\nlvm_type = Thin\n");
    assert!(l.config.is_none());
}

#[test]
fn dollar_substitution_is_oslos() {
    let l = read("[DEFAULT]\nenabled_backends = a\nhost = node7\n[a]\nvolume_group = ${host}-vg\n");
    assert_eq!(l.config.unwrap().backends[0].volume_group, "node7-vg");
    let l = read("[DEFAULT]\nenabled_backends = a\n[a]\nvolume_group = $nope\n");
    assert!(l.config.is_none());
    let e = l.problems.iter().find(|p| p.is_error()).unwrap();
    assert_eq!(e.line, Some(4));
    assert!(e.message.contains("no such option nope"), "{e}");
}

#[test]
fn a_lone_carriage_return_ends_a_line() {
    let l = read("[DEFAULT]\renabled_backends = a\r\n[a]\rvolume_group = vg1\r");
    assert_eq!(l.config.unwrap().backends[0].volume_group, "vg1");
}

#[test]
fn the_ratio_is_cinders_regex_and_reported_as_cinder_reads_it() {
    for bad in ["1e1", "2.", "+2", "\" 2.0 \"", "\"auto \""] {
        let l = read(&format!(
            "[DEFAULT]\nenabled_backends = a\n[a]\nmax_over_subscription_ratio = {bad}\n"
        ));
        assert!(l.config.is_none(), "{bad}");
    }
    let l = read("[DEFAULT]\nenabled_backends = a\n[a]\nmax_over_subscription_ratio = 10\n");
    let b = &l.config.unwrap().backends[0];
    assert_eq!(b.max_over_subscription_ratio_text, "10");
    assert_eq!(b.max_over_subscription_ratio, Ratio::Fixed(10.0));
}

#[test]
fn integers_are_pythons_and_an_empty_one_falls_back() {
    let l = read("[DEFAULT]\nenabled_backends = a\n[a]\nreserved_percentage = 1_0\n");
    assert_eq!(l.config.unwrap().backends[0].reserved_percentage, 10);
    let l = read(
        "[DEFAULT]\nenabled_backends = a\n[backend_defaults]\nreserved_percentage = 7\n[a]\nreserved_percentage =\n",
    );
    assert_eq!(l.config.unwrap().backends[0].reserved_percentage, 7);
    // empty in [backend_defaults]: None for cinder; 0 for ember, with a warning
    let l = read("[DEFAULT]\nenabled_backends = a\n[backend_defaults]\nreserved_percentage =\n");
    assert!(
        warnings(&l)
            .iter()
            .any(|(l, m)| *l == Some(4) && m.contains("cinder reads it as no value")),
        "{:?}",
        l.problems
    );
    assert_eq!(l.config.unwrap().backends[0].reserved_percentage, 0);
}

#[test]
fn an_inline_comment_is_part_of_the_value_and_a_warning() {
    let l = read(
        "[DEFAULT]\nenabled_backends = a, b # two\n[a]\nvolume_group = vg1\n[b]\nvolume_driver = cinder.volume.drivers.lvm.LVMVolumeDriver # the LVM driver\n",
    );
    let c = l.config.as_ref().unwrap();
    assert_eq!(c.enabled_backends, ["a", "b # two"]);
    let w = warnings(&l);
    assert!(
        w.iter()
            .any(|(l, m)| *l == Some(2) && m.contains("no inline comments")),
        "{w:?}"
    );
    let l = read(
        "[DEFAULT]\nenabled_backends = b\n[b]\nvolume_driver = cinder.volume.drivers.lvm.LVMVolumeDriver # the LVM driver\n",
    );
    let c = l.config.as_ref().unwrap();
    assert!(
        !c.backends[0].managed,
        "cinder fails to load that driver; ember does not manage it"
    );
    assert!(
        warnings(&l)
            .iter()
            .any(|(l, m)| *l == Some(4) && m.contains("volume_driver")),
        "{:?}",
        l.problems
    );
}

#[test]
fn without_options_the_files_are_oslos_defaults_for_cinder_volume() {
    let d = tempfile::tempdir().unwrap();
    let (home, etc) = (d.path().join("root"), d.path().join("etc"));
    for p in [
        home.join(".cinder"),
        etc.join("cinder/cinder.conf.d"),
        etc.clone(),
    ] {
        std::fs::create_dir_all(p).unwrap();
    }
    std::fs::write(etc.join("cinder/cinder.conf"), "").unwrap();
    std::fs::write(etc.join("cinder-volume.conf"), "").unwrap();
    let (files, dirs) = default_sources(Some(&home), &etc);
    assert_eq!(
        files,
        [
            etc.join("cinder/cinder.conf"),
            etc.join("cinder-volume.conf")
        ]
    );
    assert_eq!(dirs, [etc.join("cinder/cinder.conf.d")]);
    // the topmost wins
    std::fs::write(home.join(".cinder/cinder.conf"), "").unwrap();
    assert_eq!(
        default_sources(Some(&home), &etc).0[0],
        home.join(".cinder/cinder.conf")
    );
    // no cinder user: only /etc/cinder and /etc
    assert_eq!(
        default_sources(None, &etc).0[0],
        etc.join("cinder/cinder.conf")
    );
}

#[test]
fn the_wipe_options_are_read_per_backend_as_cinders_deletion_reads_them() {
    // cinder's defaults: zero, all of the volume, the daemon's own I/O priority
    let l = read("[DEFAULT]\nenabled_backends = a\n[a]\nlvm_type = default\n");
    let c = l.config.unwrap().backends[0].volume_clear;
    assert_eq!(c, ClearSettings::default());
    assert_eq!(
        (c.method, c.size_mib, c.ionice),
        (VolumeClear::Zero, 0, None)
    );
    // the backend's section, then [backend_defaults]
    let l = read(
        "[DEFAULT]\nenabled_backends = a,b\n[backend_defaults]\nvolume_clear = none\nvolume_clear_ionice = -c3\n[a]\nvolume_group = va\nvolume_clear = zero\nvolume_clear_size = 1\n[b]\nvolume_group = vb\n",
    );
    let c = l.config.unwrap();
    let a = c.backend("a").unwrap().volume_clear;
    assert_eq!((a.method, a.size_mib), (VolumeClear::Zero, 1));
    assert_eq!(a.ionice.unwrap().class, IoClass::Idle);
    assert_eq!(
        c.backend("b").unwrap().volume_clear.method,
        VolumeClear::None
    );
    // a priority the backend has none of is [DEFAULT]'s (cinder's clear_volume falls back to
    // CONF.volume_clear_ionice); volume_clear there is ignored, with a warning
    let l = read(
        "[DEFAULT]\nenabled_backends = a\nvolume_clear_ionice = -n7\nvolume_clear = none\n[a]\n",
    );
    let w = warnings(&l);
    let a = l.config.unwrap().backends[0].volume_clear;
    assert_eq!(a.method, VolumeClear::Zero);
    assert_eq!(a.ionice.unwrap().level, 7);
    assert!(
        w.iter()
            .any(|(l, m)| *l == Some(4) && m.contains("volume_clear in [DEFAULT] is ignored")),
        "{w:?}"
    );
    assert!(
        !w.iter().any(|(_, m)| m.contains("volume_clear_ionice")),
        "{w:?}"
    );
}

#[test]
fn a_bad_wipe_option_is_an_error_with_its_line() {
    for (text, line, needle) in [
        ("volume_clear = shred", 4, "cinder removed shred"),
        ("volume_clear = Zero", 4, "must be none or zero"),
        ("volume_clear_size = 1025", 4, "at most 1024"),
        ("volume_clear_size = -1", 4, "negative"),
        ("volume_clear_size = 1M", 4, "expected an integer"),
        ("volume_clear_ionice = -c 3", 4, "unknown I/O class"),
        (
            "volume_clear_ionice = -p1",
            4,
            "only ionice's -c, -n and -t",
        ),
    ] {
        let l = read(&format!("[DEFAULT]\nenabled_backends = a\n[a]\n{text}\n"));
        assert!(l.config.is_none(), "{text}");
        let e = l.problems.iter().find(|p| p.is_error()).unwrap();
        assert_eq!(e.line, Some(line), "{text}: {e}");
        assert!(e.message.contains(needle), "{text}: {e}");
    }
    // read only where cinder reads them: not for another driver, and the size and the priority
    // not when nothing is wiped
    let l = read(
        "[DEFAULT]\nenabled_backends = a,c\n[a]\nvolume_clear = none\nvolume_clear_size = 5000\nvolume_clear_ionice = -p1\n[c]\nvolume_driver = cinder.volume.drivers.rbd.RBDDriver\nvolume_clear = shred\n",
    );
    assert!(l.config.is_some(), "{:?}", l.problems);
}
