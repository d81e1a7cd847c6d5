//! Builders the unit tests share (compiled for tests only).

pub mod cinder;
mod forward;
pub use forward::{Forward, Refuse};

use crate::config::{BackendConfig, LVM_DRIVERS, LvmType, Ratio};
use crate::desired::BackendDesired;

/// A managed LVM backend on the volume group `vg`, ratio 20, nothing reserved.
pub fn backend(name: &str, lvm_type: LvmType) -> BackendConfig {
    BackendConfig {
        name: name.into(),
        managed: true,
        volume_driver: LVM_DRIVERS[0].into(),
        volume_backend_name: "LVM".into(),
        volume_group: "vg".into(),
        lvm_type,
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

/// One backend's part of a desired state, from YAML.
pub fn desired(yaml: &str) -> BackendDesired {
    serde_yaml::from_str(yaml).unwrap()
}

/// The UUID [`lv`] gives an LV of this name (the simulator's for an LV written without one).
pub fn uuid(name: &str) -> crate::names::LvUuid {
    crate::names::LvUuid::new(&crate::lvm::sim::uuid_of(name)).unwrap()
}

/// An LV of `kind` in the pool `vg-pool` (when thin), owned by `owner`'s backend (with
/// `ember-managed` and its backend tag) or foreign (`None`); active, healthy, no usage.
pub fn lv(
    name: &str,
    kind: crate::lvm::LvKind,
    size: u64,
    owner: Option<&str>,
) -> crate::lvm::LvInfo {
    use crate::lvm::LvKind;
    crate::lvm::LvInfo {
        name: crate::names::LvName::new(name).unwrap(),
        uuid: uuid(name),
        kind,
        size,
        pool: (kind == LvKind::Thin).then(|| "vg-pool".into()),
        origin: None,
        tags: owner
            .map(|b| {
                vec![
                    crate::names::OWNERSHIP_TAG.to_string(),
                    crate::names::Tag::backend(b).to_string(),
                ]
            })
            .unwrap_or_default(),
        data_percent: None,
        metadata_percent: None,
        metadata_size: (kind == LvKind::ThinPool).then_some(64 << 20),
        chunk_size: (kind == LvKind::ThinPool).then_some(64 << 10),
        active: true,
        zeroes: kind == LvKind::ThinPool,
        health: Default::default(),
        skip_activation: false,
        device: None,
    }
}

/// The volume group `vgcow` as real lvm 2.03.16 reported it (`tests/fixtures/lvm/cow.json`,
/// src/lvm/kind.rs): `thick` (linear) with the COW snapshot `thicksnap`; in the pool
/// `vgcow-pool`, `thinc` with the COW snapshot `thincow`, `thinv` with the thin snapshot
/// `thinsnap` (which has the COW snapshot `thinsnapcow`), `both` with the thin snapshot
/// `boththin` and the COW snapshot `bothcow`. Every LV but the COW snapshots and the pool gets
/// `owner`'s tags (none: all foreign, as another tool left them).
pub fn cow_fixture(owner: Option<&str>) -> crate::lvm::Observed {
    use crate::lvm::LvKind;
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lvm/cow.json");
    let text = std::fs::read_to_string(p).unwrap();
    let mut o = crate::lvm::report::parse_fullreport(&text, "vgcow").unwrap();
    for l in &mut o.lvs {
        if let (Some(b), LvKind::Thin | LvKind::Linear) = (owner, l.kind) {
            l.tags = vec![
                crate::names::OWNERSHIP_TAG.to_string(),
                crate::names::Tag::backend(b).to_string(),
            ];
        }
    }
    o
}

/// The backend `lvm-1` on the fixture's volume group `vgcow` (pool `vgcow-pool` when thin).
pub fn cow_backend(lvm_type: LvmType) -> BackendConfig {
    BackendConfig {
        volume_group: "vgcow".into(),
        ..backend("lvm-1", lvm_type)
    }
}

/// The configuration cinder.conf `text` gives (read from a scratch file, as `ember` reads it).
pub fn config(text: &str) -> crate::config::Config {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("cinder.conf");
    std::fs::write(&f, text).unwrap();
    crate::config::load(&crate::config::Sources {
        config_files: vec![f],
        config_dirs: vec![],
        allow_insecure_files: true,
    })
    .config
    .unwrap()
}
