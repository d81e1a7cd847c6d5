use super::*;

const E: u64 = 4 << 20;

#[test]
fn lvm_sizes_metadata_from_the_data_alone() {
    // lvm2: a 4 GiB pool gets 4 MiB of metadata (64 bytes x 65536 chunks)
    assert_eq!(lvm_metadata(4 << 30, E), 4 << 20);
    assert_eq!(
        lvm_metadata(64 << 20, E),
        4 << 20,
        "2 MiB at least, a whole extent"
    );
}

#[test]
fn thin_metadata_size_as_thin_provisioning_tools_computes_it() {
    // thin_metadata_size -b 64k -s 4g -m 5000 -u b: 1 + ceil(65536 / 126) + 5000 blocks of 4 KiB
    assert_eq!(
        thin_metadata_size(64 << 10, 4 << 30, 5000),
        (1 + 521 + 5000) * 4096
    );
    assert_eq!(thin_metadata_size(64 << 10, 0, 0), 4096);
    // never more than the kernel's format holds
    assert_eq!(
        thin_metadata_size(64 << 10, 1 << 60, 5000),
        255 * 16320 * 4096
    );
}

#[test]
fn the_chunk_doubles_as_lvm_doubles_it() {
    assert_eq!(default_chunk(1 << 30), 64 << 10);
    assert_eq!(default_chunk(128 << 30), 64 << 10);
    assert_eq!(default_chunk(129 << 30), 128 << 10);
    assert_eq!(default_chunk(1 << 40), 512 << 10);
    assert_eq!(default_chunk(u64::MAX), MAX_CHUNK);
}

#[test]
fn the_default_holds_5000_thins_within_lvms_limits() {
    for (chunk, data) in [
        (64 << 10, 1 << 30),
        (64 << 10, 4 << 30),
        (64 << 10, 100 << 30),
        (512 << 10, 1 << 40),
        (1 << 30, 1 << 50),
        (64 << 10, 1 << 50),
    ] {
        let m = default_metadata(chunk, data, E);
        assert!(
            m >= (thin_metadata_size(chunk, data, DEFAULT_THINS) * 3 / 2 + (8 << 20))
                .min(MAX_METADATA - E),
            "{chunk} {data}: {m}"
        );
        assert!(m >= lvm_metadata(data, E).min(MAX_METADATA - E));
        assert!((MIN_METADATA..=MAX_METADATA).contains(&m), "{m}");
        assert_eq!(m % E, 0, "whole extents");
    }
    // the benchmark's pool: 4 GiB held 643 thin volumes with lvm's 4 MiB; ember's holds 5000
    // (1.5 x 21.6 MiB + 8 MiB, whole extents)
    assert_eq!(default_metadata(64 << 10, 4 << 30, E), 44 << 20);
}
