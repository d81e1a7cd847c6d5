use super::*;

#[test]
fn signatures_are_named_for_operators() {
    assert_eq!(describe("ext4"), "holds an ext4 filesystem");
    assert_eq!(describe("xfs"), "holds an xfs filesystem");
    assert_eq!(describe("btrfs"), "holds a btrfs filesystem");
    assert_eq!(describe("gpt"), "holds a gpt partition table");
    assert_eq!(
        describe("LVM2_member"),
        "holds an LVM label (a physical volume)"
    );
    assert_eq!(
        describe("crypto_LUKS"),
        "holds a LUKS header (an encrypted volume)"
    );
    assert_eq!(describe("whatever"), "holds a whatever signature");
}

#[test]
fn what_is_no_block_device_is_not_blank() {
    let d = probe(Path::new("/proc/self/status"));
    assert!(!d.is_blank());
    assert_eq!(d.found, vec!["is not a block device".to_string()]);
    let d = probe(Path::new("/dev/no-such-device-here"));
    assert!(!d.is_blank(), "{d:?}");
}
