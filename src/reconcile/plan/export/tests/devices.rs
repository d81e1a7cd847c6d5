//! Another tool's export is seen on a volume whatever name of its device it opens, and
//! whatever kind of backstore: the volume is then neither deleted nor exported a second time.

use super::*;

/// A target made by hand on `device` through a backstore of `hba` (`iblock_7`, `fileio_3`),
/// with its LUN (`lun`) or without one (a backstore alone).
fn made_by_hand(root: &Path, hba: &str, name: &str, device: &str, lun: bool) {
    let bs = PathBuf::from("target/core").join(hba).join(name);
    let mut steps = vec![
        Step::Mkdir(bs.clone()),
        Step::Write(bs.join("udev_path"), Value::Plain(device.into())),
    ];
    if lun {
        let tpg = PathBuf::from("target/iscsi").join(name).join("tpgt_1");
        steps.push(Step::Mkdir(tpg.join("lun/lun_0")));
        steps.push(Step::Symlink {
            link: tpg.join("lun/lun_0/x"),
            target: bs,
        });
    }
    sim::apply(root, &steps).unwrap();
}

/// The plan that deletes `volume-a` (ember's, in `cfg`'s VG) beside a target made by hand
/// (`made_by_hand`, in the configfs model at `d`).
fn deleting_beside(
    cfg: &BackendConfig,
    d: &tempfile::TempDir,
    (hba, name, device, lun): (&str, &str, &str, bool),
) -> Plan {
    made_by_hand(d.path(), hba, name, device, lun);
    let o = observed(vec![mine("volume-a")]);
    run(
        cfg,
        "volumes:\n  volume-a: { state: absent }\n",
        &o,
        d.path(),
    )
}

#[test]
fn a_volume_another_tool_exports_under_any_of_its_device_names_is_not_deleted() {
    let cfg = iscsi_cfg();
    let other = "iqn.2003-01.org.example:byhand";
    for (hba, device) in [
        ("iblock_7", "/dev/vg/volume-a"),
        ("iblock_7", "/dev/mapper/vg-volume--a"),
        ("iblock_7", "/dev/disk/by-id/dm-name-vg-volume--a"),
        ("fileio_3", "/dev/vg/volume-a"),
        ("fileio_3", "/dev/mapper/vg-volume--a"),
    ] {
        for lun in [true, false] {
            let d = tempfile::tempdir().unwrap();
            let p = deleting_beside(&cfg, &d, (hba, other, device, lun));
            let case = format!("{hba} on {device}, with a LUN: {lun}");
            assert!(p.actions.is_empty(), "{case}: {:?}", p.actions);
            assert!(
                p.export_actions.is_empty(),
                "{case}: {:?}",
                p.export_actions
            );
            assert_eq!(p.refused[0].kind, RefusalKind::Exported, "{case}");
            let w = &p.warnings[0];
            assert_eq!(w.kind, WarningKind::ForeignExport, "{case}");
            let what = match lun {
                true => format!("iSCSI target {other} names or uses volume-a"),
                false => format!("iSCSI backstore {other} uses volume-a"),
            };
            assert!(w.message.contains(&what), "{case}: {}", w.message);
            assert!(
                w.message.contains(&format!("it opens {device}")),
                "{case}: {}",
                w.message
            );
        }
    }
    // another volume's device names: not this one's
    for device in [
        "/dev/vg/volume-ab",
        "/dev/mapper/vg-volume-a",
        "/dev/vgx/volume-a",
    ] {
        let d = tempfile::tempdir().unwrap();
        let p = deleting_beside(&cfg, &d, ("iblock_7", other, device, true));
        assert_eq!(p.actions.len(), 1, "{device}: {:?}", p);
    }
}

#[test]
fn a_fileio_backstore_left_alone_under_ember_s_name_is_another_tool_s() {
    let cfg = iscsi_cfg();
    let d = tempfile::tempdir().unwrap();
    let p = deleting_beside(
        &cfg,
        &d,
        ("fileio_3", &iqn("volume-a"), "/dev/vg/volume-a", false),
    );
    assert!(p.export_actions.is_empty() && p.actions.is_empty(), "{p:?}");
    assert_eq!(p.refused[0].kind, RefusalKind::Exported);
    // an iblock one is what ember's own export cut short leaves: removed, then the deletion
    let d = tempfile::tempdir().unwrap();
    let p = deleting_beside(
        &cfg,
        &d,
        ("iblock_0", &iqn("volume-a"), "/dev/vg/volume-a", false),
    );
    assert!(
        matches!(p.export_actions[..], [ExportAction::Unexport { .. }]),
        "{p:?}"
    );
    assert_eq!(p.actions.len(), 1);
}

#[test]
fn a_target_under_ember_s_name_on_a_backstore_ember_never_makes_is_another_tool_s() {
    let cfg = iscsi_cfg();
    // a fileio backstore on the volume's device, or a pscsi one (not read: no device known)
    for hba in ["fileio_3", "pscsi_0"] {
        let d = tempfile::tempdir().unwrap();
        let p = deleting_beside(&cfg, &d, (hba, &iqn("volume-a"), "/dev/vg/volume-a", true));
        assert!(p.export_actions.is_empty(), "{hba}: {p:?}");
        assert!(p.actions.is_empty(), "{hba}: {p:?}");
        assert_eq!(p.refused[0].kind, RefusalKind::Exported, "{hba}");
        assert_eq!(p.warnings[0].kind, WarningKind::ForeignExport, "{hba}");
        // and its removal's steps, were it asked for, leave that backstore alone
        let state = crate::export::lio::read(d.path()).unwrap();
        let steps = crate::export::lio::remove_steps(&iqn("volume-a"), &state).unwrap();
        assert!(
            !steps.iter().any(|s| s.to_string().contains(hba)),
            "{hba}: {steps:?}"
        );
    }
}

#[test]
fn device_mapper_names_double_the_dashes_of_both_names() {
    let mut cfg = iscsi_cfg();
    cfg.volume_group = "my-vg".into();
    let other = "iqn.2003-01.org.example:byhand";
    for (device, used) in [
        ("/dev/mapper/my--vg-volume--a", true),
        ("/dev/disk/by-id/dm-name-my--vg-volume--a", true),
        ("/dev/my-vg/volume-a", true),
        ("/dev/mapper/my-vg-volume--a", false),
        ("/dev/mapper/my--vg-volume-a", false),
    ] {
        let d = tempfile::tempdir().unwrap();
        let p = deleting_beside(&cfg, &d, ("iblock_7", other, device, true));
        assert_eq!(p.actions.is_empty(), used, "{device}: {p:?}");
    }
}
