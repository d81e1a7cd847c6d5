use super::*;

#[test]
fn accepts_cinder_style_names() {
    assert!(LvName::new("volume-8d0b5c52-1f2e-4b4e-9a51-0f1f2a3b4c5d").is_ok());
    assert!(LvName::new("a+b_c.d-e").is_ok());
    assert!(VgName::new("cinder-volumes").is_ok());
}

#[test]
fn rejects_what_lvm_rejects_or_reads_as_an_option() {
    for bad in [
        "",
        "-rf",
        "../x",
        "a/b",
        ".",
        "..",
        "snapshot",
        "snapshot1",
        "pvmove0",
        "x_tmeta",
        "x_tdata",
        "a_rimage_1",
        "vol ume",
        "résumé",
        "a$b",
        "a\nb",
    ] {
        assert!(LvName::new(bad).is_err(), "{bad:?} must be rejected");
    }
    assert!(LvName::new(&"a".repeat(127)).is_ok());
    assert!(matches!(
        LvName::new(&"a".repeat(200)),
        Err(NameError::TooLong(_))
    ));
    assert!(VgName::new("-vg").is_err());
}

#[test]
fn backend_tags_are_lvm_tags_and_decode_back() {
    for name in ["lvm-1", "LVM_iSCSI", "a b", "ü:#,@x", "-x", "a.b+c"] {
        let t = Tag::backend(name);
        assert!(Tag::new(t.as_str()).is_ok(), "{t}");
        assert!(
            !t.as_str().contains('#'),
            "the lvm shell reads # as a comment: {t}"
        );
        let v = t.as_str().strip_prefix(BACKEND_TAG_PREFIX).unwrap();
        assert_eq!(decode_tag_value(v).as_deref(), Some(name));
    }
    assert_eq!(Tag::backend("lvm-1").as_str(), "ember-backend=lvm-1");
    assert_eq!(Tag::backend("a b").as_str(), "ember-backend=a:20b");
    assert_ne!(Tag::backend("a:20b"), Tag::backend("a b"));
    assert!(Tag::new("-x").is_err() && Tag::new("a#b").is_err() && Tag::new("a,b").is_err());
}

#[test]
fn error_messages_say_why() {
    let e = LvName::new("x_tmeta").unwrap_err().to_string();
    assert!(e.contains("reserved") && e.contains("_tmeta"), "{e}");
    let e = LvName::new("-rf").unwrap_err().to_string();
    assert!(e.contains("option"), "{e}");
}

#[test]
fn lv_uuids_are_lvms_format_and_nothing_else() {
    for ok in [
        "Q2AwQx-F1la-LyKx-K3j7-zhcp-xCfB-4WWy3l",
        "rSEDPh-IoN6-KKsX-aIjc-e8qo-kUUT-iVj484",
    ] {
        assert_eq!(LvUuid::new(ok).unwrap().as_str(), ok);
    }
    for bad in [
        "",
        "Q2AwQxF1laLyKxK3j7zhcpxCfB4WWy3l",
        "Q2AwQx-F1la-LyKx-K3j7-zhcp-xCfB-4WWy3",
        "Q2AwQx-F1la-LyKx-K3j7-zhcp-xCfB-4WWy3l-",
        "Q2AwQx-F1la-LyKx-K3j7-zhcp-xCfB-4WWy3 ",
        "Q2AwQx-F1la-LyKx-K3j7-zhcp-xCfB,lv_nam",
        "Q2AwQx-F1la-LyKx-K3j7-zhcp-xC|B-4WWy3l",
    ] {
        assert!(LvUuid::new(bad).is_err(), "{bad:?}");
    }
}
