use super::*;

fn parse(text: &str) -> (Ini, Vec<Problem>) {
    let mut ini = Ini::default();
    let mut p = vec![];
    ini.merge_text(Path::new("cinder.conf"), text, &mut p);
    (ini, p)
}
fn val<'a>(ini: &'a Ini, s: &str, k: &str) -> Option<&'a str> {
    ini.get(s, k).map(|e| e.value.as_str())
}

#[test]
fn comments_are_whole_lines_only() {
    let (ini, p) = parse("[DEFAULT]\n# comment\n; also\na = b # not a comment\n");
    assert!(p.is_empty());
    assert_eq!(val(&ini, "DEFAULT", "a"), Some("b # not a comment"));
}

#[test]
fn continuation_lines_join_with_newline_and_blank_line_ends_them() {
    let (ini, p) = parse("[s]\na = one\n  two\n\ttwo-and-a-half\n\nb = x\n");
    assert!(p.is_empty());
    assert_eq!(val(&ini, "s", "a"), Some("one\ntwo\ntwo-and-a-half"));
    assert_eq!(val(&ini, "s", "b"), Some("x"));
    let (_, p) = parse("[s]\na = one\n\n  orphan\n");
    assert_eq!(p[0].line, Some(4));
    assert!(p[0].message.contains("continuation"));
}

#[test]
fn splits_at_first_equals_or_colon_and_trims() {
    let (ini, _) =
        parse("[s]\nurl = http://x:1/a=b \nk:v=w\nq = \"quoted\"\nr='x'\ns=\"mismatch'\nt=\"\n");
    assert_eq!(val(&ini, "s", "url"), Some("http://x:1/a=b"));
    assert_eq!(val(&ini, "s", "k"), Some("v=w"));
    assert_eq!(val(&ini, "s", "q"), Some("quoted"));
    assert_eq!(val(&ini, "s", "r"), Some("x"));
    assert_eq!(val(&ini, "s", "s"), Some("\"mismatch'"));
    assert_eq!(val(&ini, "s", "t"), Some(""));
}

#[test]
fn sections_merge_match_case_insensitively_but_default_is_exact() {
    let (ini, p) =
        parse("[LVM-1]\na = 1\n[DEFAULT]\nx = 1\n[lvm-1]\nb = 2\na = 3\n[default]\ny = 2\n");
    assert!(p.is_empty());
    assert_eq!(val(&ini, "lvm-1", "a"), Some("3"));
    assert_eq!(val(&ini, "Lvm-1", "b"), Some("2"));
    assert_eq!(val(&ini, "DEFAULT", "y"), None);
    assert_eq!(val(&ini, "default", "y"), Some("2"));
}

#[test]
fn keys_are_case_sensitive() {
    let (ini, _) = parse("[s]\nVolume_Group = a\n");
    assert_eq!(val(&ini, "s", "volume_group"), None);
}

#[test]
fn crlf_works() {
    let (ini, p) = parse("[DEFAULT]\r\nenabled_backends = a,b\r\n");
    assert!(p.is_empty());
    assert_eq!(val(&ini, "DEFAULT", "enabled_backends"), Some("a,b"));
}

#[test]
fn errors_name_the_line() {
    let (_, p) = parse("[DEFAULT]\nok = 1\n\n[broken\n");
    assert_eq!(
        p[0].to_string(),
        "cinder.conf:4: error: invalid section header (must end with ])"
    );
    let (_, p) = parse("a = 1\n");
    assert_eq!(p[0].line, Some(1));
    assert!(p[0].message.contains("before any [section]"));
    let (_, p) = parse("[s]\njust words\n");
    assert_eq!(p[0].line, Some(2));
    let (_, p) = parse("[s]\n= v\n");
    assert!(p[0].message.contains("empty key"));
    let (_, p) = parse("[]\n");
    assert!(p[0].message.contains("empty section"));
}

#[test]
fn bom_is_accepted_with_a_warning() {
    let (ini, p) = parse("\u{feff}[DEFAULT]\na = 1\n");
    assert_eq!(val(&ini, "DEFAULT", "a"), Some("1"));
    assert_eq!(p.len(), 1);
    assert!(!p[0].is_error());
}

#[test]
fn binary_and_bad_utf8_files_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin.conf");
    std::fs::write(&bin, b"[s]\x00\x01\x02").unwrap();
    let utf = dir.path().join("utf.conf");
    std::fs::write(&utf, b"[s]\na = \xff\xfe\n").unwrap();
    let mut ini = Ini::default();
    let mut p = vec![];
    ini.merge_file(&bin, &mut p);
    ini.merge_file(&utf, &mut p);
    ini.merge_file(&dir.path().join("missing.conf"), &mut p);
    assert_eq!(p.len(), 3);
    assert!(p[0].message.contains("binary"));
    assert_eq!(p[1].line, Some(2));
    assert!(p[2].message.contains("cannot read"));
}
