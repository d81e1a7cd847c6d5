use super::*;

#[test]
fn a_change_that_fails_part_way_undoes_what_it_made_and_keeps_what_was_there() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    std::fs::create_dir(root.join("before")).unwrap();
    let steps = [
        Step::Mkdir("target".into()),
        Step::Mkdir("target/tpgt_1".into()),
        Step::Symlink {
            link: "target/tpgt_1/lun".into(),
            target: "before".into(),
        },
        // (no such attribute: the kernel refusing a step)
        Step::Write("target/tpgt_1/enable".into(), Value::Plain("1".into())),
        Step::Mkdir("never".into()),
    ];
    let e = apply(root, &steps).unwrap_err();
    assert!(e.to_string().contains("enable"), "{e}");
    assert!(!root.join("target").exists(), "what the change made stayed");
    assert!(!root.join("never").exists());
    assert!(root.join("before").is_dir(), "what was there before went");
}
