use super::*;

#[test]
fn parses_binary_units() {
    assert_eq!(Bytes::parse("512M"), Ok(Bytes(512 << 20)));
    assert_eq!(Bytes::parse("10G"), Ok(Bytes(10 << 30)));
    assert_eq!(Bytes::parse("10g"), Ok(Bytes(10 << 30)));
    assert_eq!(Bytes::parse("10GiB"), Ok(Bytes(10 << 30)));
    assert_eq!(Bytes::parse("1T"), Ok(Bytes(1 << 40)));
    assert_eq!(Bytes::parse("4096B"), Ok(Bytes(4096)));
    // a bare number means GiB to cinder and MiB to lvm: it needs a unit
    assert!(matches!(Bytes::parse("4096"), Err(SizeError::NoUnit(_))));
    assert_eq!(Bytes::parse("1.5G"), Ok(Bytes(3 << 29)));
    assert_eq!(Bytes::parse("0.5k"), Ok(Bytes(512)));
}

#[test]
fn rejects_garbage_zero_and_overflow() {
    for bad in [
        "", "G", "10X", "10 GB B", "-1G", "1..5G", "1e9", "ten", "10GiBs",
    ] {
        assert!(
            matches!(Bytes::parse(bad), Err(SizeError::Syntax(_))),
            "{bad:?}"
        );
    }
    assert!(matches!(Bytes::parse("0B"), Err(SizeError::Zero(_))));
    assert!(matches!(Bytes::parse("16E"), Err(SizeError::Overflow(_))));
    assert!(matches!(
        Bytes::parse("99999999999999999999999999999B"),
        Err(SizeError::Overflow(_))
    ));
    assert!(matches!(
        Bytes::parse("18446744073709551616B"),
        Err(SizeError::Overflow(_))
    ));
}

#[test]
fn percentages_only_in_range() {
    assert_eq!(SizeSpec::parse("90%"), Ok(SizeSpec::Percent(90.0)));
    assert_eq!(SizeSpec::parse("100%"), Ok(SizeSpec::Percent(100.0)));
    for bad in ["0%", "101%", "-5%", "%", "abc%", "1e2%"] {
        assert!(SizeSpec::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn extent_rounding_matches_lvm() {
    let ext = 4 << 20;
    assert_eq!(Bytes(1).round_up(ext), Bytes(ext));
    assert_eq!(Bytes(ext).round_up(ext), Bytes(ext));
    assert_eq!(Bytes(ext + 1).round_up(ext), Bytes(2 * ext));
    // 90% of a 10 GiB VG with 4 MiB extents: 9216 MiB exactly
    assert_eq!(
        SizeSpec::Percent(90.0).resolve(10 << 30, ext),
        Bytes(9216 << 20)
    );
    // 33% rounds down to whole extents
    assert_eq!(SizeSpec::Percent(33.0).resolve(10 << 30, ext).0 % ext, 0);
}

#[test]
fn displays_like_an_operator_reads() {
    assert_eq!(Bytes(10 << 30).to_string(), "10.0 GiB");
    assert_eq!(Bytes(512 << 20).to_string(), "512.0 MiB");
    assert_eq!(Bytes(100).to_string(), "100 B");
    assert_eq!(Bytes((10 << 30) + (4 << 20)).to_string(), "10.00 GiB");
}

#[test]
fn a_unit_with_b_is_refused_as_ambiguous_naming_the_spellings_that_work() {
    for (bad, unit) in [("10GB", 'G'), ("10gb", 'G'), ("512MB", 'M'), ("1.5TB", 'T')] {
        let e = Bytes::parse(bad).unwrap_err();
        assert!(
            matches!(e, SizeError::Ambiguous(_, u, _) if u == unit),
            "{bad}: {e}"
        );
    }
    let msg = Bytes::parse("10GB").unwrap_err().to_string();
    assert!(
        msg.contains("write 10G or 10GiB") && msg.contains("number of bytes with B"),
        "{msg}"
    );
}

#[test]
fn two_different_sizes_never_print_alike() {
    // 1801 GiB against a limit of 1800.5 GiB: both "1.76 TiB" with two decimals
    let (a, b) = (Bytes(1801 << 30), Bytes((18005 << 30) / 10));
    assert_eq!(a.to_string(), b.to_string());
    let (sa, sb) = apart(a, b);
    assert_ne!(sa, sb);
    assert_eq!((sa.as_str(), sb.as_str()), ("1.759 TiB", "1.758 TiB"));
    // one byte apart: bytes
    assert_eq!(
        apart(Bytes((1 << 40) + 1), Bytes(1 << 40)),
        ("1099511627777 B".to_string(), "1099511627776 B".to_string())
    );
    // what Display tells apart stays as it is
    assert_eq!(
        apart(Bytes(2 << 30), Bytes(1 << 30)),
        ("2.0 GiB".to_string(), "1.0 GiB".to_string())
    );
}
