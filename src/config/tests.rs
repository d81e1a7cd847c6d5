use super::*;
use std::fs;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cinder")
        .join(name)
}

fn load_files(files: &[PathBuf]) -> Loaded {
    load(&Sources {
        config_files: files.to_vec(),
        config_dirs: vec![],
        allow_insecure_files: true,
    })
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p
}

#[test]
fn devstack_single_lvm_backend() {
    let l = load_files(&[fixture("devstack-lvm.conf")]);
    let c = l.config.expect("valid");
    assert_eq!(c.enabled_backends, ["lvmdriver-1"]);
    let b = &c.backends[0];
    assert!(b.managed);
    assert_eq!(b.volume_group, "stack-volumes-lvmdriver-1");
    assert_eq!(b.lvm_type, LvmType::Auto);
    assert_eq!(b.volume_backend_name, "lvmdriver-1");
    assert_eq!(b.max_over_subscription_ratio, Ratio::Fixed(20.0));
    assert_eq!(b.reserved_percentage, 0);
    assert_eq!(b.pool_name(), "stack-volumes-lvmdriver-1-pool");
    assert!(b.host.ends_with("@lvmdriver-1"));
    assert_eq!(c.ember.desired_state, fixture("desired-state.yaml"));
    assert_eq!(c.ember.max_deletions_per_pass, 5);
}

#[test]
fn kolla_multi_backend_with_defaults_and_foreign_driver() {
    let l = load_files(&[fixture("kolla-multi.conf")]);
    let c = l.config.expect("valid");
    // trailing comma dropped; case-insensitive section [LVM-NVME]
    assert_eq!(c.enabled_backends, ["lvm-1", "lvm-nvme", "nfs-1"]);
    let lvm1 = c.backend("lvm-1").unwrap();
    assert_eq!(lvm1.lvm_type, LvmType::Thin); // from [backend_defaults]
    assert_eq!(lvm1.max_over_subscription_ratio, Ratio::Fixed(10.0));
    assert_eq!(lvm1.reserved_percentage, 5);
    assert!(lvm1.lvm_suppress_fd_warnings);
    let nvme = c.backend("lvm-nvme").unwrap();
    assert_eq!(nvme.volume_group, "cinder-nvme");
    assert_eq!(nvme.max_over_subscription_ratio, Ratio::Auto);
    assert_eq!(nvme.reserved_percentage, 5, "empty value counts as unset");
    assert_eq!(nvme.host, "storage-nvme@lvm-nvme");
    assert!(lvm1.host != "should-be-ignored-in-default@lvm-1");
    let nfs = c.backend("nfs-1").unwrap();
    assert!(!nfs.managed);
    // [DEFAULT] backend_host is not a backend option that cinder reads in multi-backend mode,
    // and the file has no backend options in [DEFAULT]: one warning, for the target helper
    // written in [lvm-1] that ember cannot export through (kolla writes tgtadm)
    assert_eq!(l.problems.len(), 1, "{:?}", l.problems);
    let w = &l.problems[0];
    assert!(!w.is_error() && w.line == Some(36), "{w:?}");
    assert!(w.message.contains("target_helper = tgtadm"), "{w:?}");
}

#[test]
fn packstack_crlf_legacy_driver_thick_and_lvm_conf_none() {
    let l = load_files(&[fixture("packstack-legacy.conf")]);
    let c = l.config.expect("valid");
    let b = &c.backends[0];
    assert!(b.managed, "LVMISCSIDriver is the LVM driver");
    assert_eq!(b.lvm_type, LvmType::Default);
    assert_eq!(b.lvm_conf_file, None);
    assert_eq!(b.host, "node01.example.org@lvm");
    assert_eq!(b.volume_backend_name, "lvm");
}

#[test]
fn broken_file_is_an_error_with_file_and_line() {
    let l = load_files(&[fixture("broken-section.conf")]);
    assert!(l.config.is_none());
    let e = l.problems.iter().find(|p| p.is_error()).unwrap();
    assert_eq!(e.line, Some(5));
    assert!(
        e.to_string()
            .contains("broken-section.conf:5: error: invalid section header (must end with ])"),
        "{e}"
    );
}

#[test]
fn later_files_win_and_config_dir_is_read_sorted_after_files() {
    let d = tempfile::tempdir().unwrap();
    let a = write(
        d.path(),
        "a.conf",
        "[DEFAULT]\nenabled_backends = one\n[one]\nvolume_group = vg-a\n",
    );
    let b = write(d.path(), "b.conf", "[one]\nvolume_group = vg-b\n");
    let confd = d.path().join("conf.d");
    fs::create_dir(&confd).unwrap();
    write(&confd, "20-last.conf", "[one]\nvolume_group = vg-dir-20\n");
    write(
        &confd,
        "10-first.conf",
        "[one]\nvolume_group = vg-dir-10\nlvm_type = thin\n",
    );
    write(&confd, "ignored.txt", "[one]\nvolume_group = nope\n");
    let c = load_files(&[a.clone(), b.clone()]).config.unwrap();
    assert_eq!(c.backends[0].volume_group, "vg-b");
    let l = load(&Sources {
        config_files: vec![a, b.clone()],
        config_dirs: vec![confd.clone()],
        allow_insecure_files: true,
    });
    let c = l.config.unwrap();
    assert_eq!(c.backends[0].volume_group, "vg-dir-20");
    assert_eq!(c.backends[0].lvm_type, LvmType::Thin);
    assert_eq!(c.config_files.len(), 4);
    // desired state sits beside the last --config-file
    assert_eq!(c.ember.desired_state, d.path().join("desired-state.yaml"));
}

#[test]
fn missing_or_empty_enabled_backends_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    for text in [
        "[DEFAULT]\n",
        "[DEFAULT]\nenabled_backends =\n",
        "[DEFAULT]\nenabled_backends = , ,\n",
    ] {
        let f = write(d.path(), "c.conf", text);
        let l = load_files(&[f]);
        assert!(l.config.is_none(), "{text:?}");
        assert!(
            l.problems
                .iter()
                .any(|p| p.is_error() && p.message.contains("enabled_backends"))
        );
    }
}

#[test]
fn duplicate_backend_is_an_error_and_empty_names_are_skipped() {
    let d = tempfile::tempdir().unwrap();
    let f = write(
        d.path(),
        "c.conf",
        "[DEFAULT]\nenabled_backends = a,,b\n[a]\nvolume_group = va\n[b]\nvolume_group = vb\n",
    );
    let c = load_files(&[f]).config.unwrap();
    assert_eq!(c.enabled_backends, ["a", "b"]);
    let f = write(
        d.path(),
        "c.conf",
        "[DEFAULT]\n\nenabled_backends = a, b, a\n",
    );
    let l = load_files(&[f]);
    assert!(l.config.is_none());
    let e = &l.problems.iter().find(|p| p.is_error()).unwrap();
    assert_eq!(e.line, Some(3));
    assert!(e.message.contains("named twice"));
}

#[test]
fn backend_without_section_gets_defaults_and_a_warning() {
    let d = tempfile::tempdir().unwrap();
    let f = write(
        d.path(),
        "c.conf",
        "[DEFAULT]\nenabled_backends = lonely\n[backend_defaults]\nvolume_group = shared\n",
    );
    let l = load_files(&[f]);
    let c = l.config.unwrap();
    assert_eq!(c.backends[0].volume_group, "shared");
    assert_eq!(c.backends[0].volume_backend_name, "LVM");
    assert!(
        l.problems
            .iter()
            .any(|p| !p.is_error() && p.message.contains("no [lonely] section"))
    );
}

#[test]
fn default_section_is_never_used_for_backend_options() {
    let d = tempfile::tempdir().unwrap();
    let f = write(
        d.path(),
        "c.conf",
        "[DEFAULT]\nenabled_backends = a\nvolume_group = from-default\n[a]\n",
    );
    let l = load_files(&[f]);
    assert_eq!(l.config.unwrap().backends[0].volume_group, "cinder-volumes");
    let w = l.problems.iter().find(|p| !p.is_error()).unwrap();
    assert_eq!(w.line, Some(3));
    assert!(w.message.contains("ignored"));
}

#[test]
fn invalid_option_values_name_the_line() {
    let d = tempfile::tempdir().unwrap();
    let cases = [
        ("lvm_type = Thin", "lvm_type"),
        (
            "max_over_subscription_ratio = lots",
            "max_over_subscription_ratio",
        ),
        ("max_over_subscription_ratio = 0.5", "at least 1.0"),
        ("reserved_percentage = 101", "between 0 and 100"),
        ("reserved_percentage = five", "integer"),
        ("lvm_suppress_fd_warnings = maybe", "boolean"),
        ("volume_group = -rf", "volume_group"),
    ];
    for (line, needle) in cases {
        let f = write(
            d.path(),
            "c.conf",
            &format!("[DEFAULT]\nenabled_backends = a\n[a]\n{line}\n"),
        );
        let l = load_files(&[f]);
        assert!(l.config.is_none(), "{line}");
        let e = l.problems.iter().find(|p| p.is_error()).unwrap();
        assert_eq!(e.line, Some(4), "{line}");
        assert!(e.message.contains(needle), "{line}: {e}");
    }
}

#[test]
fn booleans_accept_any_case() {
    let d = tempfile::tempdir().unwrap();
    for (v, want) in [
        ("TRUE", true),
        ("On", true),
        ("1", true),
        ("yes", true),
        ("No", false),
        ("off", false),
        ("0", false),
    ] {
        let f = write(
            d.path(),
            "c.conf",
            &format!("[DEFAULT]\nenabled_backends = a\n[a]\nlvm_suppress_fd_warnings = {v}\n"),
        );
        assert_eq!(
            load_files(&[f]).config.unwrap().backends[0].lvm_suppress_fd_warnings,
            want,
            "{v}"
        );
    }
}

#[test]
fn two_backends_on_one_volume_group_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let f = write(
        d.path(),
        "c.conf",
        "[DEFAULT]\nenabled_backends = a,b\n[a]\nvolume_group = vg\n[b]\nvolume_group = vg\n",
    );
    let l = load_files(&[f]);
    assert!(l.config.is_none());
    assert!(
        l.problems
            .iter()
            .any(|p| p.message.contains("both use volume group"))
    );
}

#[test]
fn ember_section_settings_and_relative_desired_state() {
    let d = tempfile::tempdir().unwrap();
    let f = write(
        d.path(),
        "c.conf",
        "[DEFAULT]\nenabled_backends = a\n[ember]\ndesired_state = state/ds.yaml\nmax_deletions_per_pass = 20\n",
    );
    let c = load_files(&[f]).config.unwrap();
    assert_eq!(c.ember.desired_state, d.path().join("state/ds.yaml"));
    assert_eq!(c.ember.max_deletions_per_pass, 20);
    let f = write(
        d.path(),
        "c.conf",
        "[DEFAULT]\nenabled_backends = a\n[ember]\nmax_deletions_per_pass = -1\n",
    );
    assert!(load_files(&[f]).config.is_none());
}

#[test]
fn missing_config_file_and_dir_are_errors() {
    let l = load(&Sources {
        config_files: vec!["/nonexistent/cinder.conf".into()],
        config_dirs: vec!["/nonexistent.d".into()],
        allow_insecure_files: true,
    });
    assert!(l.config.is_none());
    assert_eq!(l.problems.iter().filter(|p| p.is_error()).count(), 2);
}

#[test]
fn an_option_spelled_in_another_case_is_ignored_with_a_warning() {
    let d = tempfile::tempdir().unwrap();
    let f = write(
        d.path(),
        "cinder.conf",
        "[DEFAULT]\nenabled_backends = lvm-1\n[lvm-1]\nVolume_Group = vg-typo\nLVM_TYPE = thin\n",
    );
    let l = load_files(&[f]);
    let c = l.config.expect("a warning, not an error");
    // cinder reads neither: the defaults hold
    assert_eq!(c.backends[0].volume_group, "cinder-volumes");
    assert_eq!(c.backends[0].lvm_type, LvmType::Auto);
    let w: Vec<&Problem> = l.problems.iter().filter(|p| !p.is_error()).collect();
    assert_eq!(w.len(), 2, "{w:?}");
    // in the file's order
    assert_eq!((w[0].line, w[1].line), (Some(4), Some(5)), "{w:?}");
    assert!(
        w[0].message
            .contains("[lvm-1] Volume_Group is not volume_group: option names are case-sensitive"),
        "{w:?}"
    );
}
