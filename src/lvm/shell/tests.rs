use super::*;

#[test]
fn only_unambiguous_arguments_go_on_a_line() {
    for ok in [
        "lvcreate",
        "--addtag",
        "ember-managed",
        "vg/v_1.2+x",
        "1073741824b",
        "ember-undeclared-since=1800000000",
    ] {
        assert!(fits_on_line(ok), "{ok}");
    }
    for name in ["lvm-1", "a b", "ü:#,@x"] {
        let t = crate::names::Tag::backend(name);
        assert!(
            fits_on_line(t.as_str()),
            "every backend tag goes on a line: {t}"
        );
    }
    for bad in [
        "", "a b", "a\tb", "a\"b", "a'b", "a\\b", "#x", "a\nb", "a\u{85}b",
    ] {
        assert!(!fits_on_line(bad), "{bad:?}");
    }
}

#[test]
fn a_success_status_is_code_zero_and_errors_come_from_the_log_and_stderr() {
    let ok = r#"{"log":[{"log_type":"status","log_object_type":"cmd","log_message":"success","log_ret_code":"1"}]}"#;
    let r = interpret(ok.into(), b"");
    assert_eq!(r.code, 0);
    let failed = r#"{"log":[
        {"log_type":"error","log_object_type":"cmd","log_message":"Volume group \"vg\" not found","log_ret_code":"0"},
        {"log_type":"status","log_object_type":"cmd","log_message":"failure","log_ret_code":"5"}]}"#;
    let r = interpret(failed.into(), b"  WARNING: something\n");
    assert_eq!(r.code, 5);
    assert_eq!(
        r.errors,
        "Volume group \"vg\" not found\nWARNING: something"
    );
}

#[test]
fn a_document_without_a_status_is_not_a_success() {
    assert_eq!(interpret(r#"{"report":[]}"#.into(), b"").code, 5);
    assert_eq!(interpret("not json".into(), b"").code, 5);
}
