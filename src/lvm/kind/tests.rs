//! Against `tests/fixtures/lvm/cow.json`, captured from real lvm 2.03.16 in the VM
//! (`tests/vm/capture-lvm-fixtures.sh cow`).
use super::*;
use crate::lvm::report::parse_fullreport;

fn cow() -> Observed {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lvm/cow.json");
    parse_fullreport(&std::fs::read_to_string(p).unwrap(), "vgcow").unwrap()
}

#[test]
fn an_origin_is_still_its_volume_and_a_cow_snapshot_a_kind_of_its_own() {
    let o = cow();
    let kind = |n: &str| o.lv(n).unwrap().kind;
    // a linear volume and a thin one with a COW snapshot (`o`), one with both kinds
    assert_eq!(kind("thick"), LvKind::Linear);
    assert_eq!(kind("thinc"), LvKind::Thin);
    assert_eq!(kind("both"), LvKind::Thin);
    assert_eq!(o.lv("thinc").unwrap().pool.as_deref(), Some("vgcow-pool"));
    // thin snapshots stay thin, one with a COW snapshot of its own too
    assert_eq!(kind("thinsnap"), LvKind::Thin);
    assert_eq!(o.lv("thinsnap").unwrap().origin.as_deref(), Some("thinv"));
    assert_eq!(kind("boththin"), LvKind::Thin);
    // the COW snapshots: with their origin, outside any pool
    for (snap, origin) in [
        ("thicksnap", "thick"),
        ("thincow", "thinc"),
        ("bothcow", "both"),
        ("thinsnapcow", "thinsnap"),
    ] {
        let l = o.lv(snap).unwrap();
        assert_eq!(
            (l.kind, l.origin.as_deref(), l.pool.as_deref()),
            (LvKind::CowSnapshot, Some(origin), None),
            "{snap}"
        );
    }
    let by_origin = o.cow_snapshots();
    assert_eq!(by_origin.len(), 4);
    assert_eq!(by_origin["thick"], [&LvName::new("thicksnap").unwrap()]);
    assert!(
        !by_origin.contains_key("thinv"),
        "a thin snapshot is not one"
    );
}

#[test]
fn kinds_from_the_first_attribute_and_the_layout() {
    for (t, layout, want) in [
        ('t', "thin,pool", LvKind::ThinPool),
        ('V', "thin,sparse", LvKind::Thin),
        ('o', "thin,sparse", LvKind::Thin),
        ('-', "linear", LvKind::Linear),
        ('-', "striped", LvKind::Linear),
        ('o', "linear", LvKind::Linear),
        ('s', "linear", LvKind::CowSnapshot),
        ('S', "linear", LvKind::CowSnapshot),
        // an origin a snapshot is merging into, raid, cache: left alone
        ('O', "linear", LvKind::Other),
        ('r', "raid,raid1", LvKind::Other),
        ('o', "raid,raid1", LvKind::Other),
        ('C', "cache", LvKind::Other),
    ] {
        assert_eq!(of(t, layout), want, "{t} {layout}");
    }
}

#[test]
fn descriptions_say_what_an_lv_is() {
    let o = cow();
    assert_eq!(
        o.lv("thicksnap").unwrap().describe(),
        "a COW snapshot of thick (lvcreate --snapshot --size, as backup tools and cinder's thick backends make them)"
    );
    assert_eq!(
        o.lv("thinsnap").unwrap().describe(),
        "a thin snapshot of thinv"
    );
    let a = LvName::new("a").unwrap();
    let b = LvName::new("b").unwrap();
    let c = LvName::new("c").unwrap();
    assert_eq!(list(&[&a]), "a");
    assert_eq!(list(&[&a, &b, &c]), "a, b and c");
}
