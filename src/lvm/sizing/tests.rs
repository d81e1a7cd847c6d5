use super::*;

#[test]
fn the_estimate_covers_what_lvm_takes() {
    let e = 4 << 20;
    for data in [0, 1 << 20, 64 << 20, 4 << 30, 1 << 40, 10 << 40] {
        assert!(
            pool_overhead(data, e) >= 2 * lvm_metadata(data, e),
            "{data}"
        );
    }
    // lvm2: a 4 GiB pool gets 4 MiB of metadata (64 bytes x 65536 chunks)
    assert_eq!(lvm_metadata(4 << 30, e), 4 << 20);
    assert_eq!(
        lvm_metadata(64 << 20, e),
        4 << 20,
        "2 MiB at least, a whole extent"
    );
}
