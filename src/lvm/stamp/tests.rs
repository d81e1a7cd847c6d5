use super::*;

/// A PV's first block as pvcreate writes it: the label in `sector`, one data area and the
/// metadata areas given.
fn first_block(sector: usize, mdas: &[u64]) -> Vec<u8> {
    let mut b = vec![0u8; BLOCK];
    let l = sector * SECTOR;
    b[l..l + 8].copy_from_slice(LABEL_ID);
    b[l + 8..l + 16].copy_from_slice(&(sector as u64).to_le_bytes());
    b[l + 20..l + 24].copy_from_slice(&32u32.to_le_bytes());
    b[l + 24..l + 32].copy_from_slice(LABEL_TYPE);
    let mut at = l + 32 + 32; // uuid
    b[at..at + 8].copy_from_slice(&(8u64 << 30).to_le_bytes());
    at += 8;
    let mut put = |b: &mut Vec<u8>, offset: u64, size: u64| {
        b[at..at + 8].copy_from_slice(&offset.to_le_bytes());
        b[at + 8..at + 16].copy_from_slice(&size.to_le_bytes());
        at += 16;
    };
    put(&mut b, 1 << 20, 0);
    put(&mut b, 0, 0);
    for m in mdas {
        put(&mut b, *m, 1 << 20);
    }
    put(&mut b, 0, 0);
    b
}

#[test]
fn the_label_lists_the_metadata_areas_wherever_it_is() {
    assert_eq!(metadata_areas(&first_block(1, &[4096])), Ok(vec![4096]));
    assert_eq!(metadata_areas(&first_block(0, &[4096])), Ok(vec![4096]));
    assert_eq!(
        metadata_areas(&first_block(3, &[4096, 8 << 30])),
        Ok(vec![4096, 8 << 30])
    );
    // a PV made with --metadatacopies 0
    assert_eq!(metadata_areas(&first_block(1, &[])), Ok(vec![]));
}

#[test]
fn what_is_not_an_lvm2_label_is_an_error() {
    assert!(metadata_areas(&vec![0u8; BLOCK]).is_err());
    let mut b = first_block(1, &[4096]);
    b[SECTOR + 24..SECTOR + 32].copy_from_slice(b"LVM1 001");
    assert!(metadata_areas(&b).is_err());
    // a list that never ends within the label's sector
    let mut b = first_block(1, &[4096]);
    for x in &mut b[SECTOR + 72..2 * SECTOR] {
        *x = 0xff;
    }
    assert!(metadata_areas(&b).is_err());
    // shorter than the label's sector
    assert!(metadata_areas(&first_block(1, &[4096])[..600]).is_err());
}

#[test]
fn a_header_needs_its_magic() {
    let mut s = vec![0u8; SECTOR];
    assert!(check_header(&s).is_err());
    s[4..20].copy_from_slice(MDA_MAGIC);
    assert!(check_header(&s).is_ok());
}

#[test]
fn device_names_of_the_vg_alone_with_dashes_doubled() {
    let all = [
        "vg--a-volume--1",
        "vg--a-pool",
        "vg--ab-x",
        "other-x",
        "vg--a",
    ];
    let vg = VgName::new("vg-a").unwrap();
    assert_eq!(
        vg_devices(all.iter().map(|s| s.to_string()).collect(), &vg),
        vec!["vg--a-pool".to_string(), "vg--a-volume--1".to_string()]
    );
}
