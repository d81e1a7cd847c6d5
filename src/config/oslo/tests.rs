use super::*;

#[test]
fn lists_keep_brackets_and_drop_trailing_commas() {
    assert_eq!(list("[lvm-1, lvm-2]"), ["[lvm-1", "lvm-2]"]);
    assert_eq!(list(" a, b ,, "), ["a", "b"]);
    assert_eq!(list(",a"), ["", "a"]);
    assert_eq!(list("a, ,"), ["a", ""]);
    assert!(list("  ").is_empty());
}

#[test]
fn integers_are_pythons() {
    assert_eq!(int("1_0"), Ok(Some(10)));
    assert_eq!(int(" 5"), Ok(Some(5)));
    assert_eq!(int("+5"), Ok(Some(5)));
    assert_eq!(int("05"), Ok(Some(5)));
    assert_eq!(int("-1"), Ok(Some(-1)));
    assert_eq!(int(""), Ok(None));
    assert_eq!(int("   "), Ok(None));
    for bad in ["1.0", "1__0", "_10", "10_", "0x10", "ten", "+", "- 1"] {
        assert!(int(bad).is_err(), "{bad}");
    }
}

#[test]
fn booleans_are_not_stripped() {
    assert_eq!(boolean("True"), Ok(true));
    assert_eq!(boolean("on"), Ok(true));
    assert_eq!(boolean("No"), Ok(false));
    assert!(boolean(" true").is_err());
    assert!(boolean("maybe").is_err());
}

#[test]
fn the_ratio_is_cinders_regex() {
    for ok in ["auto", "10", "10.5", ".5", "01", "00.75"] {
        assert!(is_ratio(ok), "{ok}");
    }
    for bad in [
        "1e1", "2.", "+2", " 2.0 ", "auto ", "AUTO", "", ".", "1.2.3",
    ] {
        assert!(!is_ratio(bad), "{bad}");
    }
}

#[test]
fn host_addresses_are_osloss() {
    assert_eq!(
        host_address("node1.example.com"),
        Ok("node1.example.com".into())
    );
    assert_eq!(host_address("node1."), Ok("node1".into()));
    assert_eq!(host_address("10.0.0.1"), Ok("10.0.0.1".into()));
    assert_eq!(host_address("::1"), Ok("::1".into()));
    for bad in ["my host", "-bad", "123", "a..b", "", "x_y"] {
        assert!(host_address(bad).is_err(), "{bad}");
    }
}
