use super::*;

fn parse(y: &str) -> Result<VgDesired, String> {
    serde_yaml::from_str(y).map_err(|e| e.to_string())
}

#[test]
fn devices_are_read_in_order() {
    let v = parse("devices: [/dev/disk/by-id/a, /dev/vdc]").unwrap();
    assert_eq!(
        v.devices,
        vec![
            PathBuf::from("/dev/disk/by-id/a"),
            PathBuf::from("/dev/vdc")
        ]
    );
}

#[test]
fn bad_lists_are_refused() {
    for (y, want) in [
        ("devices: []", "is empty"),
        ("devices: [vdb]", "not a device path under /dev/"),
        ("devices: [/tmp/x]", "not a device path under /dev/"),
        ("devices: [/dev/../etc/passwd]", "not a plain path"),
        ("devices: ['/dev/vdb ']", "space"),
        ("devices: [/dev/vdb, /dev/vdb]", "listed twice"),
        ("devices: [/dev/vdb/]", "not a plain path"),
        ("{}", "missing field `devices`"),
        ("devices: [/dev/vdb]\nsize: 1G", "unknown field `size`"),
    ] {
        let e = parse(y).unwrap_err();
        assert!(e.contains(want), "{y}: {e}");
    }
}

#[test]
fn kernel_names_are_told_from_stable_paths() {
    assert!(is_kernel_name(Path::new("/dev/vdb")));
    assert!(is_kernel_name(Path::new("/dev/nvme0n1")));
    assert!(!is_kernel_name(Path::new("/dev/disk/by-id/virtio-x")));
    assert!(!is_kernel_name(Path::new("/dev/mapper/mpatha")));
}
