use super::*;

#[test]
fn iqns_cinder_and_debian_write_are_accepted() {
    for n in [
        "iqn.2010-10.org.openstack:volume-8d0b5c52-1b7c-4c43-9d5e-1f1e2a3b4c5d",
        "iqn.1993-08.org.debian:01:d9749640318a",
        "eui.02004567A425678D",
        "naa.52004567BA64678D",
    ] {
        assert_eq!(Iqn::parse(n).unwrap().as_str(), n);
    }
}

#[test]
fn iqns_that_would_escape_or_mislead_are_refused() {
    for n in [
        "",
        "iqn.",
        "volume-1",
        "iqn.2010-10.org.openstack:../../core",
        "iqn.2010-10.org.openstack:a b",
        "iqn.2010-10.org.openstack:a\n",
        "iqn.2010-10.org.openstack:a,b",
    ] {
        assert!(Iqn::parse(n).is_err(), "{n:?} accepted");
    }
    let long = format!("iqn.2010-10.org.openstack:{}", "a".repeat(200));
    assert!(matches!(
        Iqn::parse(&long),
        Err(ExportNameError::TooLong { .. })
    ));
}

#[test]
fn nqns_cinder_and_nvme_cli_write_are_accepted() {
    for n in [
        "nqn.iqn.2010-10.org.openstack:-8d0b5c52-1b7c-4c43-9d5e-1f1e2a3b4c5d",
        "nqn.nvme-subsystem-1-8d0b5c52-1b7c-4c43-9d5e-1f1e2a3b4c5d",
        "nqn.2014-08.org.nvmexpress:uuid:62ccf2e5-6bfb-4deb-96ae-42d4ee9c9c97",
    ] {
        assert_eq!(Nqn::parse(n).unwrap().as_str(), n);
    }
    for n in ["", "nqn.", "iqn.x", "nqn.a/b", "nqn.a b", "nqn.a\u{e9}"] {
        assert!(Nqn::parse(n).is_err(), "{n:?} accepted");
    }
}

#[test]
fn portals_are_named_as_lio_names_them() {
    let p = |s: &str, port| Portal {
        ip: s.parse().unwrap(),
        port,
    };
    assert_eq!(p("127.0.0.1", 3260).lio_name(), "127.0.0.1:3260");
    assert_eq!(p("::1", 3260).lio_name(), "[::1]:3260");
}

#[test]
fn a_portal_is_served_by_itself_or_by_every_address_of_its_family_on_its_port() {
    let p = |s: &str, port| Portal {
        ip: s.parse().unwrap(),
        port,
    };
    let v4 = p("10.0.0.5", 3260);
    for np in ["10.0.0.5:3260", "0.0.0.0:3260"] {
        assert!(v4.served_by(np), "{np}");
    }
    for np in [
        "10.0.0.6:3260",
        "0.0.0.0:3261",
        "[::0]:3260",
        "[::]:3260",
        "x:3260",
        "3260",
        "",
    ] {
        assert!(!v4.served_by(np), "{np}");
    }
    let v6 = p("fd00::5", 3260);
    for np in ["[fd00::5]:3260", "[::0]:3260", "[::]:3260", "fd00::5:3260"] {
        assert!(v6.served_by(np), "{np}");
    }
    for np in ["0.0.0.0:3260", "[fd00::6]:3260", "[::0]:4420"] {
        assert!(!v6.served_by(np), "{np}");
    }
}
