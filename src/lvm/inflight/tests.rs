use super::*;
use std::os::unix::fs::PermissionsExt;

fn names(v: &[&str]) -> Vec<LvName> {
    v.iter().map(|n| LvName::new(n).unwrap()).collect()
}

#[test]
fn a_record_is_written_read_back_and_removed() {
    let d = tempfile::tempdir().unwrap();
    let state = d.path().join("state");
    let r = InFlight::new(&state);
    let vg = VgName::new("vg-a").unwrap();
    let other = VgName::new("vg-b").unwrap();
    // nothing recorded yet, and no directory made by reading
    assert_eq!(r.read(&vg).unwrap(), Vec::<LvName>::new());
    assert!(!state.exists());
    r.write(&vg, &names(&["v1", "v2"])).unwrap();
    let mode = std::fs::metadata(&state).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "made root's alone");
    assert_eq!(r.read(&vg).unwrap(), names(&["v1", "v2"]));
    assert_eq!(
        r.read(&other).unwrap(),
        Vec::<LvName>::new(),
        "per volume group"
    );
    let file = state.join("in-flight-vg-a.json");
    let fmode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(fmode, 0o600);
    r.write(&vg, &names(&["v3"])).unwrap();
    assert_eq!(r.read(&vg).unwrap(), names(&["v3"]));
    r.write(&vg, &[]).unwrap();
    assert!(!file.exists());
    assert_eq!(r.read(&vg).unwrap(), Vec::<LvName>::new());
    r.write(&vg, &[]).unwrap();
    // no temporary file left behind
    assert_eq!(std::fs::read_dir(&state).unwrap().count(), 0);
}

#[test]
fn only_a_record_of_embers_own_is_believed() {
    let d = tempfile::tempdir().unwrap();
    let state = d.path().join("state");
    let r = InFlight::new(&state);
    let vg = VgName::new("vg").unwrap();
    r.write(&vg, &names(&["v1"])).unwrap();
    let file = state.join("in-flight-vg.json");
    // a file others may write
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
    let e = r.read(&vg).unwrap_err();
    assert!(e.contains("writable by others"), "{e}");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    // a directory others may write
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert!(r.read(&vg).is_err());
    assert!(r.write(&vg, &names(&["v2"])).is_err());
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).unwrap();
    // the record of another VG put in its place
    std::fs::write(&file, r#"{"vg":"other","volumes":["v1"]}"#).unwrap();
    assert!(r.read(&vg).is_err());
    // a link, as the file or as the directory
    std::fs::remove_file(&file).unwrap();
    let elsewhere = d.path().join("elsewhere.json");
    std::fs::write(&elsewhere, r#"{"vg":"vg","volumes":["v1"]}"#).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &file).unwrap();
    assert!(r.read(&vg).is_err());
    std::fs::remove_file(&file).unwrap();
    let linked = InFlight::new(&d.path().join("linked"));
    std::os::unix::fs::symlink(&state, d.path().join("linked")).unwrap();
    r.write(&vg, &names(&["v1"])).unwrap();
    assert!(linked.read(&vg).is_err());
    assert!(linked.write(&vg, &names(&["v2"])).is_err());
    // garbage
    std::fs::write(&file, "{").unwrap();
    assert!(r.read(&vg).is_err());
}
