use super::*;

/// Entries as the kernel lays them out: 8-byte aligned, `next` relative to each entry; with
/// `extra`, what newer kernels append after the name (event number, flags, uuid).
fn list(names: &[&str], extra: usize) -> Vec<u8> {
    let mut out = vec![];
    let mut starts = vec![];
    for (i, n) in names.iter().enumerate() {
        starts.push(out.len());
        out.extend_from_slice(&(0xfd00 + i as u64 + 1).to_ne_bytes());
        out.extend_from_slice(&0u32.to_ne_bytes());
        out.extend_from_slice(n.as_bytes());
        out.push(0);
        out.extend(std::iter::repeat_n(0xaa, extra));
        while out.len() % 8 != 0 {
            out.push(0);
        }
    }
    for w in starts.windows(2) {
        let next = (w[1] - w[0]) as u32;
        out[w[0] + 8..w[0] + 12].copy_from_slice(&next.to_ne_bytes());
    }
    out
}

#[test]
fn names_in_the_kernels_order_whatever_follows_each() {
    let names = ["vg-pool", "vg-pool-tpool", "vg--a-volume--1"];
    for extra in [0, 48] {
        assert_eq!(parse_names(&list(&names, extra)).unwrap(), names);
    }
}

#[test]
fn an_empty_list_and_broken_ones() {
    assert_eq!(parse_names(&[0u8; 16]).unwrap(), Vec::<String>::new());
    // an entry that points past the buffer, a name without its NUL
    let mut l = list(&["a", "b"], 0);
    l[8..12].copy_from_slice(&4096u32.to_ne_bytes());
    assert!(parse_names(&l).is_err());
    let mut l = list(&["abc"], 0);
    l.truncate(14);
    assert!(parse_names(&l).is_err());
    assert!(parse_names(&[1, 2, 3]).is_err());
}

#[test]
fn a_target_and_its_status_line() {
    let mut spec = vec![0u8; TARGET_SPEC];
    spec[24..33].copy_from_slice(b"thin-pool");
    spec.extend_from_slice(b"0 1/2 3/4 - rw\0garbage");
    assert_eq!(
        parse_status(&spec).unwrap(),
        ("thin-pool".to_string(), "0 1/2 3/4 - rw".to_string())
    );
    assert!(parse_status(&spec[..30]).is_err());
}

/// Target specs as the kernel lays them out for DM_TABLE_STATUS: each followed by its status
/// line, 8-byte aligned, `next` counted from the start of the data.
fn targets(types: &[&str]) -> Vec<u8> {
    let mut out = vec![];
    for (i, t) in types.iter().enumerate() {
        let start = out.len();
        out.extend_from_slice(&((i as u64) * 2048).to_ne_bytes());
        out.extend_from_slice(&2048u64.to_ne_bytes());
        out.extend_from_slice(&0i32.to_ne_bytes());
        out.extend_from_slice(&0u32.to_ne_bytes());
        let mut name = [0u8; 16];
        name[..t.len()].copy_from_slice(t.as_bytes());
        out.extend_from_slice(&name);
        out.extend_from_slice(b"0 1\0");
        while out.len() % 8 != 0 {
            out.push(0);
        }
        let next = out.len() as u32;
        out[start + 20..start + 24].copy_from_slice(&next.to_ne_bytes());
    }
    out
}

#[test]
fn a_tables_target_types_in_order() {
    let t = targets(&["linear", "striped", "linear"]);
    assert_eq!(
        parse_targets(&t, 3).unwrap(),
        ["linear", "striped", "linear"]
    );
    assert_eq!(parse_targets(&t, 0).unwrap(), Vec::<String>::new());
    assert!(parse_targets(&t[..30], 1).is_err());
    let mut back = targets(&["linear", "linear"]);
    back[20..24].copy_from_slice(&0u32.to_ne_bytes());
    assert!(parse_targets(&back, 2).is_err());
}

#[test]
fn device_numbers_as_the_kernel_encodes_them() {
    assert_eq!(encode_dev(253, 3), (253 << 8) | 3);
    assert_eq!(encode_dev(253, 0x1234), (0x1200 << 12) | (253 << 8) | 0x34);
    assert_eq!(encode_dev(8, 16), 0x810);
}
