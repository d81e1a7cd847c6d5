use super::*;
use crate::config::{LVM_DRIVERS, LvmType, Ratio};

fn backend(name: &str, vg: &str, managed: bool) -> BackendConfig {
    BackendConfig {
        name: name.into(),
        managed,
        volume_driver: if managed {
            LVM_DRIVERS[0].into()
        } else {
            "cinder.volume.drivers.nfs.NfsDriver".into()
        },
        volume_backend_name: "LVM".into(),
        volume_group: vg.into(),
        lvm_type: LvmType::Auto,
        max_over_subscription_ratio: Ratio::Fixed(20.0),
        max_over_subscription_ratio_text: "20.0".into(),
        reserved_percentage: 0,
        lvm_conf_file: None,
        lvm_suppress_fd_warnings: false,
        volume_clear: Default::default(),
        host: format!("h@{name}"),
        volume_group_set: Default::default(),
        target: Default::default(),
        state_dir: crate::config::default_state_dir(),
    }
}

fn config(backends: Vec<BackendConfig>) -> Config {
    let mut c = crate::testkit::config("[DEFAULT]\nenabled_backends = x\n");
    c.enabled_backends = backends.iter().map(|b| b.name.clone()).collect();
    c.backends = backends;
    c
}

#[test]
fn added_removed_restarted_and_reloaded() {
    let running: BTreeMap<String, BackendConfig> = [
        backend("keep", "vg1", true),
        backend("moved", "vg2", true),
        backend("gone", "vg3", true),
        backend("now-nfs", "vg4", true),
    ]
    .into_iter()
    .map(|b| (b.name.clone(), b))
    .collect();
    let new = config(vec![
        backend("keep", "vg1", true),
        backend("moved", "vg2-new", true),
        backend("now-nfs", "vg4", false),
        backend("new", "vg5", true),
    ]);
    let d = diff(&running, &new);
    assert_eq!(d.added, [backend("new", "vg5", true)]);
    assert_eq!(
        d.removed,
        ["gone", "now-nfs"],
        "a backend ember no longer manages stops"
    );
    assert_eq!(d.restarted, [backend("moved", "vg2-new", true)]);
    assert_eq!(d.reloaded, ["keep"]);
    assert_eq!(
        d.message(),
        "reloaded: added [new], removed [gone, now-nfs], restarted [moved], reloaded [keep]"
    );
}

#[test]
fn an_unchanged_configuration_only_reloads() {
    let b = backend("a", "vg", true);
    let running = BTreeMap::from([("a".to_string(), b.clone())]);
    let d = diff(&running, &config(vec![b]));
    assert_eq!(
        d,
        ReloadDiff {
            reloaded: vec!["a".into()],
            ..ReloadDiff::default()
        }
    );
}

#[test]
fn a_line_moved_in_cinder_conf_restarts_no_worker() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("cinder.conf");
    let load = |text: &str| {
        std::fs::write(&f, text).unwrap();
        crate::config::load(&crate::config::Sources {
            config_files: vec![f.clone()],
            config_dirs: vec![],
            allow_insecure_files: true,
        })
        .config
        .unwrap()
    };
    let text = "[DEFAULT]\nenabled_backends = lvm-1\n[lvm-1]\nvolume_group = vg1\n";
    let running: BTreeMap<String, BackendConfig> = load(text)
        .backends
        .into_iter()
        .map(|b| (b.name.clone(), b))
        .collect();
    let new = load(&format!("# a comment above everything\n\n{text}"));
    let d = diff(&running, &new);
    assert_eq!(d.reloaded, ["lvm-1"], "{d:?}");
    assert!(d.restarted.is_empty(), "{d:?}");
    // (the line did move: the reloaded worker gets the new one with the configuration)
    assert_ne!(
        format!("{:?}", running["lvm-1"].volume_group_set),
        format!("{:?}", new.backends[0].volume_group_set)
    );
}
