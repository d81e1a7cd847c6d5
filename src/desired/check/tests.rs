use super::near_miss;

fn enabled(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_near_miss_is_a_typo_of_exactly_one_enabled_backend() {
    let e = enabled(&["lvm-1", "lvm-nvme", "nfs-1"]);
    for typo in ["lvm1", "LVM-1", "lvm_1", "lmv-1", "lvm-01", "lvm--1"] {
        assert_eq!(near_miss(typo, &e), Some("lvm-1"), "{typo}");
    }
    assert_eq!(near_miss("lvm-nvm", &e), Some("lvm-nvme"));
    let e = enabled(&["cinder-volumes-ssd"]);
    assert_eq!(
        near_miss("cinder-volume-sd", &e),
        Some("cinder-volumes-ssd")
    );
}

#[test]
fn another_backend_is_not_a_near_miss() {
    // staged beside lvm-1 (another number), or as far from it as a new name is
    let e = enabled(&["lvm-1"]);
    for other in [
        "lvm-2", "lvm-10", "lvm-11", "ceph", "lvm-ssd", "lvm-1", "lvm-1-b",
    ] {
        assert_eq!(near_miss(other, &e), None, "{other}");
    }
    // two characters are a near miss only in a long name
    assert_eq!(near_miss("lvm-ssd", &enabled(&["lvm-hdd"])), None);
    // close to two: no guess
    assert_eq!(near_miss("lvm-a", &enabled(&["lvm-b", "lvm-c"])), None);
}
