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

#[test]
fn a_links_target_is_found_however_it_is_spelled_and_not_outside_the_root() {
    use std::os::unix::fs::symlink;
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("config");
    let store = root.join("target/core/iblock_0/vol");
    let lun = root.join("target/iscsi/iqn.x/tpgt_1/lun/lun_0");
    std::fs::create_dir_all(&store).unwrap();
    std::fs::create_dir_all(&lun).unwrap();
    // as the kernel shows it: relative, from the link's directory
    symlink("../../../../../core/iblock_0/vol", lun.join("rel")).unwrap();
    // as the simulator writes it: absolute
    symlink(&store, lun.join("abs")).unwrap();
    symlink("../../../../../../../outside", lun.join("out")).unwrap();
    std::fs::create_dir(d.path().join("outside")).unwrap();
    symlink("../../../../../core/iblock_0/gone", lun.join("gone")).unwrap();
    let want = Some(PathBuf::from("target/core/iblock_0/vol"));
    assert_eq!(super::link_target(&root, &lun.join("rel")), want);
    assert_eq!(super::link_target(&root, &lun.join("abs")), want);
    assert_eq!(super::link_target(&root, &lun.join("out")), None);
    assert_eq!(super::link_target(&root, &lun.join("gone")), None);
    assert_eq!(super::link_target(&root, &lun.join("missing")), None);
}
