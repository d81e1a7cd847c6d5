use super::*;

#[test]
fn percentages_as_lvm_prints_them() {
    assert_eq!(percent(0, 100), 0.0);
    assert_eq!(percent(100, 100), 100.0);
    assert_eq!(percent(1, 1_000_000), 0.01);
    assert_eq!(percent(999_999, 1_000_000), 99.99);
    assert_eq!(percent(1234, 10_000), 12.34);
    assert_eq!(percent(2, 3), 66.67);
}

#[test]
fn the_kernels_status_lines() {
    let u =
        parse("0 2183/10240 1639/65536 - rw no_discard_passdown queue_if_no_space - 1024").unwrap();
    assert_eq!(
        u,
        PoolUsage {
            data_percent: 2.5,
            metadata_percent: 21.32,
            health: Health::Ok
        }
    );
    let full = parse(
        "3 300/10240 65536/65536 - out_of_data_space discard_passdown error_if_no_space - 1024",
    )
    .unwrap();
    assert_eq!((full.data_percent, full.health), (100.0, Health::OutOfData));
    assert_eq!(
        parse("3 300/10240 10/65536 - ro discard_passdown queue_if_no_space needs_check 1024")
            .unwrap()
            .health,
        Health::MetadataReadOnly
    );
    assert_eq!(parse("Fail").unwrap().health, Health::Failed);
    assert_eq!(parse("Error").unwrap().health, Health::Unknown);
    assert!(parse("0 x/10 1/2 - rw").is_err());
    assert!(parse("0 1/10").is_err());
}

#[test]
fn device_names_double_every_dash() {
    let (vg, pool) = (
        VgName::new("cinder-volumes").unwrap(),
        LvName::new("cinder-volumes-pool").unwrap(),
    );
    assert_eq!(
        dm_name(&vg, &pool, "tpool"),
        "cinder--volumes-cinder--volumes--pool-tpool"
    );
}
