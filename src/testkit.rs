//! Builders the unit tests share (compiled for tests only).

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
        reserved_percentage: 0,
        lvm_conf_file: None,
        lvm_suppress_fd_warnings: false,
        host: format!("h@{name}"),
    }
}

/// One backend's part of a desired state, from YAML.
pub fn desired(yaml: &str) -> BackendDesired {
    serde_yaml::from_str(yaml).unwrap()
}
