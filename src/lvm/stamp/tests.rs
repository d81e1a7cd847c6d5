use super::*;
use std::time::Duration;

/// A PV's UUID as its label holds it, and as lvm prints it.
const UUID: &str = "fE1uP3Yq9dKc0ZlWmN4oR7sT2vX5yA8b";
const PRINTED: &str = "fE1uP3-Yq9d-Kc0Z-lWmN-4oR7-sT2v-X5yA8b";

/// A PV's first block as pvcreate writes it: the label in `sector`, one data area and the
/// metadata areas given.
fn first_block(sector: usize, mdas: &[u64]) -> Vec<u8> {
    let mut b = vec![0u8; BLOCK];
    let l = sector * SECTOR;
    b[l..l + 8].copy_from_slice(LABEL_ID);
    b[l + 8..l + 16].copy_from_slice(&(sector as u64).to_le_bytes());
    b[l + 20..l + 24].copy_from_slice(&32u32.to_le_bytes());
    b[l + 24..l + 32].copy_from_slice(LABEL_TYPE);
    b[l + 32..l + 64].copy_from_slice(UUID.as_bytes());
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

#[test]
fn the_label_carries_the_pvs_uuid() {
    let b = first_block(1, &[4096]);
    assert_eq!(label_uuid(&b), Ok(UUID.as_bytes()));
    assert!(same_uuid(label_uuid(&b).unwrap(), PRINTED));
    assert!(same_uuid(label_uuid(&b).unwrap(), UUID));
    // a clone made before a pvchange --uuid, another PV, or no UUID reported
    assert!(!same_uuid(
        label_uuid(&b).unwrap(),
        "aaaaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaaaa"
    ));
    assert!(!same_uuid(label_uuid(&b).unwrap(), ""));
}

#[test]
fn only_the_block_device_lvm_named_is_read() {
    let dev = nix::sys::stat::makedev(8, 16);
    assert_eq!(check_device(libc::S_IFBLK | 0o660, dev, (8, 16)), Ok(()));
    let e = check_device(libc::S_IFBLK | 0o660, dev, (253, 3)).unwrap_err();
    assert!(
        e.contains("is the device 8:16, not the physical volume's 253:3"),
        "{e}"
    );
    for (mode, what) in [
        (libc::S_IFIFO, "a FIFO"),
        (libc::S_IFREG, "a regular file"),
        (libc::S_IFCHR, "a character device"),
        (libc::S_IFDIR, "a directory"),
    ] {
        let e = check_device(mode | 0o644, dev, (8, 16)).unwrap_err();
        assert!(e.contains(&format!("is {what}, not a block device")), "{e}");
    }
}

fn pv(name: &str) -> Pv {
    Pv {
        size: None,
        pe_start: None,
        name: name.into(),
        uuid: PRINTED.into(),
        dev: Some((8, 16)),
    }
}

/// Runs `f` on a thread of its own: a stamp that blocks fails the test instead of hanging it.
fn within_a_second<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(5))
        .expect("the stamp blocked on a path")
}

#[test]
fn a_missing_pv_or_a_relative_path_is_no_stamp_and_nothing_is_opened() {
    let vg = VgName::new("vg").unwrap();
    for name in ["[unknown]", "relative/sdb", "sdb"] {
        let e = pv_headers(&pv(name)).unwrap_err().to_string();
        assert!(e.contains("not an absolute path"), "{name}: {e}");
        assert!(read(&vg, &[pv(name)], &[]).is_err());
    }
    let mut no_dev = pv("/dev/sdb");
    no_dev.dev = None;
    let e = pv_headers(&no_dev).unwrap_err().to_string();
    assert!(e.contains("no device number"), "{e}");
}

#[test]
fn a_fifo_at_a_pvs_path_is_refused_without_blocking() {
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("sdb");
    nix::unistd::mkfifo(&fifo, Mode::from_bits_truncate(0o600)).unwrap();
    let name = fifo.to_string_lossy().into_owned();
    let e = within_a_second(move || pv_headers(&pv(&name)).map(|_| ()).unwrap_err().to_string());
    assert!(e.contains("is a FIFO, not a block device"), "{e}");
}

#[test]
fn a_regular_file_with_a_pvs_label_is_not_read() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("disk.img");
    let mut img = first_block(1, &[4096]);
    img.resize(2 * BLOCK, 0);
    img[BLOCK + 4..BLOCK + 20].copy_from_slice(MDA_MAGIC);
    std::fs::write(&f, &img).unwrap();
    let e = pv_headers(&pv(&f.to_string_lossy()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("is a regular file, not a block device"), "{e}");
}
