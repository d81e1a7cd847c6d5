use super::*;

#[test]
fn the_attributes_lvm_prints() {
    let full = LvAttr::parse("twi-aotzD-").unwrap();
    assert_eq!(
        (full.volume_type, full.state, full.zeroes, full.health),
        ('t', 'a', true, Health::OutOfData)
    );
    let inactive = LvAttr::parse("Vwi---tz--").unwrap();
    assert!(inactive.inactive() && inactive.health == Health::Ok);
    assert_eq!(
        LvAttr::parse("twi-aotzM-").unwrap().health,
        Health::MetadataReadOnly
    );
    assert_eq!(LvAttr::parse("twi-aotzF-").unwrap().health, Health::Failed);
    assert_eq!(
        LvAttr::parse("-wi-a----p").map(|a| a.health),
        Ok(Health::Ok),
        "the 10th is not health"
    );
    assert_eq!(LvAttr::parse("-wi-a---p-").unwrap().health, Health::Partial);
    assert!(
        !LvAttr::parse("twi-a-tz-").unwrap().inactive(),
        "nine characters (older lvm)"
    );
    assert!(Health::Failed.needs_repair() && Health::MetadataReadOnly.needs_repair());
    assert!(!Health::OutOfData.needs_repair());
}

#[test]
fn a_short_or_odd_attr_is_an_error() {
    for bad in ["", "twi", "twi-aotz", "twi-aotzé-"] {
        assert!(LvAttr::parse(bad).is_err(), "{bad:?}");
    }
}
