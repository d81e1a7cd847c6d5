//! What a worker killed in the middle of a change to the target configuration leaves (configfs
//! keeps every step made; the undo of a failed change never ran): a target without its LUN, a
//! backstore without its target. The next pass counts them ember's only when they open the
//! volume's device and nothing else, removes them, and makes the export whole again.

use super::*;

fn tpg(lvm: &SimLvm) -> std::path::PathBuf {
    lvm.target_root()
        .path
        .join("target/iscsi")
        .join(iqn())
        .join("tpgt_1")
}

/// The state an unexport cut short after the LUN's removal leaves: TPG off, ACLs, portal and
/// LUN gone; the target and its backstore still there.
fn cut_after_the_lun(lvm: &SimLvm) {
    let tpg = tpg(lvm);
    std::fs::write(tpg.join("enable"), "0").unwrap();
    for gone in ["acls", "np", "lun/lun_0"] {
        let _ = std::fs::remove_dir_all(tpg.join(gone));
    }
    assert!(tpg.join("lun").is_dir() && !tpg.join("lun/lun_0").exists());
}

#[test]
fn a_target_left_without_its_lun_is_removed_before_its_volumes_deletion() {
    let (_d, lvm, cfg) = setup();
    pass(&lvm, &cfg, "{ size: 8M, export: { hosts: [] } }");
    cut_after_the_lun(&lvm);
    let st = lio(&lvm);
    assert!(st.target(&iqn()).unwrap().tpgs[0].luns.is_empty());
    let r = pass(&lvm, &cfg, "{ state: absent }");
    assert!(r.ok(), "{r:?}");
    assert!(!exists(&lvm));
    let st = lio(&lvm);
    assert!(st.targets.is_empty() && st.backstores.is_empty(), "{st:?}");
}

#[test]
fn a_backstore_left_without_its_target_is_removed_before_its_volumes_deletion() {
    let (_d, lvm, cfg) = setup();
    pass(&lvm, &cfg, "{ size: 8M, export: { hosts: [] } }");
    cut_after_the_lun(&lvm);
    std::fs::remove_dir_all(tpg(&lvm).parent().unwrap()).unwrap();
    assert!(lio(&lvm).targets.is_empty() && lio(&lvm).backstores.len() == 1);
    // without it the simulator's lvm (as LIO's exclusive open makes the real one) refuses
    let r = pass(&lvm, &cfg, "{ state: absent }");
    assert!(r.ok(), "{r:?}");
    let o = r.outcome.as_ref().unwrap();
    assert!(
        matches!(o.export_done[..], [ExportAction::Unexport { .. }]),
        "{o:?}"
    );
    assert!(!exists(&lvm));
    assert!(lio(&lvm).backstores.is_empty());
}

#[test]
fn an_export_left_half_is_made_whole_again_with_its_hosts_and_serial() {
    let (_d, lvm, cfg) = setup();
    let yaml = format!("{{ size: 8M, export: {{ hosts: [{HOST}] }} }}");
    pass(&lvm, &cfg, &yaml);
    let serial = lio(&lvm).backstores[0].serial.clone();
    cut_after_the_lun(&lvm);
    let r = pass(&lvm, &cfg, &yaml);
    assert!(r.ok(), "{r:?}");
    let st = lio(&lvm);
    let t = st.target(&iqn()).unwrap();
    assert_eq!(t.tpgs[0].luns.len(), 1);
    assert_eq!(t.tpgs[0].acls[0].initiator, HOST);
    assert_eq!(t.tpgs[0].acls[0].mapped_luns.len(), 1);
    assert_eq!(t.tpgs[0].enabled, Some(true));
    assert_eq!(st.backstores.len(), 1);
    assert_eq!(st.backstores[0].serial, serial);
    let r = pass(&lvm, &cfg, &yaml);
    assert!(!r.remaining.as_ref().unwrap().has_changes(), "{r:?}");
}

#[test]
fn a_target_without_a_lun_whose_backstore_opens_another_device_is_another_tools() {
    let (_d, lvm, cfg) = setup();
    pass(&lvm, &cfg, "{ size: 8M, export: { hosts: [] } }");
    cut_after_the_lun(&lvm);
    let bs = &lio(&lvm).backstores[0];
    let attr = lvm.target_root().path.join(bs.path()).join("udev_path");
    std::fs::write(&attr, "/dev/vg/someone-elses\n").unwrap();
    let before = lio(&lvm);
    let r = pass(&lvm, &cfg, "{ state: absent }");
    let plan = r.plan.as_ref().unwrap();
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.message.contains("not ember's")),
        "{plan:?}"
    );
    assert_eq!(plan.refused[0].kind, RefusalKind::Exported);
    assert_eq!(lio(&lvm), before);
    assert!(exists(&lvm));
}
