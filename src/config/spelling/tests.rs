use super::*;
use crate::config::{Loaded, Sources, load};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cinder")
}

fn load_text(text: &str) -> (tempfile::TempDir, PathBuf, Loaded) {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("c.conf");
    std::fs::write(&f, text).unwrap();
    let l = load(&Sources {
        config_files: vec![f.clone()],
        config_dirs: vec![],
        allow_insecure_files: true,
    });
    (d, f, l)
}

fn warnings(l: &Loaded) -> Vec<String> {
    l.problems
        .iter()
        .filter(|p| !p.is_error())
        .map(|p| p.to_string())
        .collect()
}

#[test]
fn a_near_miss_is_one_or_two_characters_from_exactly_one_option() {
    for (typo, option) in [
        ("volume_grup", "volume_group"),
        ("volume-group", "volume_group"),
        ("volume_groups", "volume_group"),
        ("volumegroup", "volume_group"),
        ("lvm_typ", "lvm_type"),
        ("lvm-type", "lvm_type"),
        ("volume_drvier", "volume_driver"),
        (
            "max_over_subscription_ration",
            "max_over_subscription_ratio",
        ),
        ("reserve_percentage", "reserved_percentage"),
        ("volume_clear_sise", "volume_clear_size"),
        ("target_helpr", "target_helper"),
        ("target-protocol", "target_protocol"),
        ("target_ip_adress", "target_ip_address"),
        (
            "target_secondary_ip_address",
            "target_secondary_ip_addresses",
        ),
        ("target_prot", "target_port"),
        ("nvmet_portid", "nvmet_port_id"),
        ("report_discard_suported", "report_discard_supported"),
    ] {
        assert_eq!(near_miss(typo, BACKEND_OPTIONS), Some(option), "{typo}");
    }
    assert_eq!(
        near_miss("enabled_backend", DEFAULT_OPTIONS),
        Some("enabled_backends")
    );
    for other in [
        "volume_dd_blocksize",
        "volumes_dir",
        "iscsi_target_prefix",
        "lvm_mirrors",
    ] {
        assert_eq!(near_miss(other, BACKEND_OPTIONS), None, "{other}");
    }
}

#[test]
fn no_option_cinder_has_ever_registered_is_a_near_miss() {
    let text = std::fs::read_to_string(fixtures().join("options.txt")).unwrap();
    let names: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert!(names.len() > 1000, "{}", names.len());
    for name in names {
        for options in [BACKEND_OPTIONS, DEFAULT_OPTIONS] {
            if !options.contains(&name) {
                assert_eq!(near_miss(name, options), None, "{name}");
            }
        }
    }
}

#[test]
fn the_target_options_ember_reads_are_never_named_a_typo() {
    let (_d, _f, l) = load_text(
        "[DEFAULT]\nenabled_backends = lvm-1\n[lvm-1]\nvolume_driver = cinder.volume.drivers.lvm.LVMVolumeDriver\n\
         target_helper = lioadm\ntarget_protocol = iscsi\ntarget_prefix = iqn.2010-10.org.openstack:\n\
         target_ip_address = 192.0.2.10\ntarget_secondary_ip_addresses = 192.0.2.11\n\
         iscsi_secondary_ip_addresses = 192.0.2.12\ntarget_port = 3260\nnvmet_port_id = 1\n\
         nvmet_ns_id = 10\nnvmeof_conn_info_version = 1\nreport_discard_supported = true\n",
    );
    for w in warnings(&l) {
        assert!(
            !w.contains("did you mean") && !w.contains("case-sensitive"),
            "{w}"
        );
    }
    for option in [
        "target_helper",
        "target_protocol",
        "target_prefix",
        "target_ip_address",
        "target_secondary_ip_addresses",
        "iscsi_secondary_ip_addresses",
        "target_port",
        "nvmet_port_id",
        "nvmet_ns_id",
        "nvmeof_conn_info_version",
        "report_discard_supported",
    ] {
        assert!(BACKEND_OPTIONS.contains(&option), "{option}");
    }
}

#[test]
fn the_real_world_files_have_no_misspelling() {
    for f in [
        "devstack-lvm.conf",
        "kolla-multi.conf",
        "packstack-legacy.conf",
        "broken-section.conf",
    ] {
        let l = load(&Sources {
            config_files: vec![fixtures().join(f)],
            config_dirs: vec![],
            allow_insecure_files: true,
        });
        for w in warnings(&l) {
            assert!(
                !w.contains("did you mean") && !w.contains("case-sensitive"),
                "{f}: {w}"
            );
        }
    }
}

#[test]
fn a_misspelled_option_is_named_with_what_applies_instead() {
    let (_d, f, l) = load_text(
        "[DEFAULT]\nenabled_backends = lvm-1\n[lvm-1]\nvolume_grup = vg1\nlvm-type = thin\n",
    );
    let c = l.config.as_ref().expect("a warning, not an error");
    assert_eq!(c.backends[0].volume_group, "cinder-volumes");
    let f = f.display();
    assert_eq!(
        warnings(&l),
        [
            format!(
                "{f}:4: warning: [lvm-1] volume_grup is not an option cinder's LVM driver reads: did you mean volume_group? (cinder ignores it: the default volume_group cinder-volumes applies)"
            ),
            format!(
                "{f}:5: warning: [lvm-1] lvm-type is not an option cinder's LVM driver reads: did you mean lvm_type? (cinder ignores it: the default lvm_type auto applies)"
            ),
        ]
    );
}

#[test]
fn what_applies_is_where_the_option_is_set() {
    let (_d, f, l) = load_text(
        "[DEFAULT]\nenabled_backends = lvm-1,lvm-2\nvolume_clear_size = 50\n[backend_defaults]\nvolume_group = vg-shared\nreserved_percentage = 5\nvolume_backend_nam = x\n[lvm-1]\nvolume_grop = vg1\nreserved_percentge = 1\nvolume_clear_sise = 10\nvolume_backend_name = one\n[lvm-2]\nvolume_group = vg2\nvolume_groupp = vg3\n",
    );
    let f = f.display();
    let w = warnings(&l);
    for want in [
        format!(
            "{f}:7: warning: [backend_defaults] volume_backend_nam is not an option cinder's LVM driver reads: did you mean volume_backend_name? (cinder ignores it: volume_backend_name is not set)"
        ),
        format!(
            "{f}:9: warning: [lvm-1] volume_grop is not an option cinder's LVM driver reads: did you mean volume_group? (cinder ignores it: volume_group = vg-shared from [backend_defaults] ({f}:5) applies)"
        ),
        format!(
            "{f}:10: warning: [lvm-1] reserved_percentge is not an option cinder's LVM driver reads: did you mean reserved_percentage? (cinder ignores it: reserved_percentage = 5 from [backend_defaults] ({f}:6) applies)"
        ),
        format!(
            "{f}:11: warning: [lvm-1] volume_clear_sise is not an option cinder's LVM driver reads: did you mean volume_clear_size? (cinder ignores it: volume_clear_size = 50 from [DEFAULT] ({f}:3) applies)"
        ),
        format!(
            "{f}:15: warning: [lvm-2] volume_groupp is not an option cinder's LVM driver reads: did you mean volume_group? (cinder ignores it: volume_group = vg2 ({f}:14) applies)"
        ),
    ] {
        assert!(w.contains(&want), "{want}\n{w:#?}");
    }
    assert_eq!(w.len(), 5, "{w:#?}");
}

#[test]
fn default_is_looked_at_for_its_own_options_only() {
    let (_d, f, l) = load_text(
        "[DEFAULT]\nenabled_backend = lvm-1\nhots = x\nvolume_grup = y\n[lvm-1]\nvolume_group = vg1\n",
    );
    assert!(l.config.is_none(), "no enabled_backends");
    assert_eq!(
        warnings(&l),
        [format!(
            "{}:2: warning: [DEFAULT] enabled_backend is not an option cinder reads: did you mean enabled_backends? (cinder ignores it: enabled_backends is not set)",
            f.display()
        )]
    );
}

#[test]
fn another_drivers_section_gets_no_guess_but_its_case_is_still_checked() {
    let (_d, _f, l) = load_text(
        "[DEFAULT]\nenabled_backends = lvm-1,nfs\n[lvm-1]\nvolume_group = vg1\n[nfs]\nvolume_driver = cinder.volume.drivers.nfs.NfsDriver\nvolume_grup = x\nVolume_Backend_Name = nfs\n",
    );
    let w = warnings(&l);
    assert_eq!(w.len(), 1, "{w:#?}");
    assert!(
        w[0].contains(":8: warning: [nfs] Volume_Backend_Name is not volume_backend_name"),
        "{w:#?}"
    );
}

#[test]
fn a_shared_section_is_looked_at_once() {
    let (_d, _f, l) = load_text(
        "[DEFAULT]\nenabled_backends = a,b\n[backend_defaults]\nLVM_Type = thin\nlvm_typ = thin\n[a]\nvolume_group = vg-a\n[b]\nvolume_group = vg-b\n",
    );
    assert_eq!(warnings(&l).len(), 2, "{:#?}", warnings(&l));
}
