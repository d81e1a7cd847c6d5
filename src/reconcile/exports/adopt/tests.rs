//! A cinder-made export taken over by the pass that adopts its volume (the simulator, its
//! configfs model): nothing made again or removed, cinder's CHAP pair kept, `auth/` root-only.

use std::os::unix::fs::PermissionsExt;

use super::*;
use crate::config::LvmType;
use crate::lvm::sim::{SimLv, SimLvm, SimState, SimVg};
use crate::lvm::{LvKind, LvmRead};
use crate::reconcile::plan::export::ExportAction;
use crate::testkit::cinder::{auth_mode, cinder_export};

const HOST: &str = "iqn.1993-08.org.debian:01:compute1";
const HOST2: &str = "iqn.1993-08.org.debian:01:compute2";
const VOL: &str = "volume-5e1c7a3b-2d4f-4b8a-9c6e-0f1a2b3c4d5e";
const USER: &str = "cinderUser2345678abc";
const PASS: &str = "cinderPass234567";

fn iqn() -> String {
    format!("iqn.2010-10.org.openstack:{VOL}")
}

/// A host cinder-volume ran: VOL untagged, exported by cinder to HOST.
fn cinder_host() -> (tempfile::TempDir, SimLvm, BackendConfig) {
    let d = tempfile::tempdir().unwrap();
    let lvm = SimLvm::open(&d.path().join("lvm.json"));
    let mut st = SimState::default();
    let mut vg = SimVg::new(1 << 30);
    vg.lvs
        .insert(VOL.into(), SimLv::new(LvKind::Linear, 8 << 20));
    st.vgs.insert("vg".into(), vg);
    lvm.save(&st).unwrap();
    let state = d.path().join("state");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut cfg = crate::testkit::backend("lvm-1", LvmType::Default);
    cfg.target.target_helper = "lioadm".into();
    cfg.target.target_ip_address = "127.0.0.1".into();
    cfg.state_dir = state;
    cinder_export(
        &lvm.target_root().path,
        &iqn(),
        &format!("/dev/vg/{VOL}"),
        &[(HOST, USER, PASS)],
    );
    (d, lvm, cfg)
}

fn pass(lvm: &SimLvm, cfg: &BackendConfig, hosts: &str) -> crate::reconcile::PassReport {
    crate::reconcile::exports::tests::pass_yaml(
        lvm,
        cfg,
        &format!(
            "adopt: true\nvolumes:\n  {VOL}: {{ size: 8M, export: {{ hosts: [{hosts}] }} }}\n"
        ),
    )
}

fn lio_state(lvm: &SimLvm) -> lio::State {
    lio::read(&lvm.target_root().path).unwrap()
}

#[test]
fn one_pass_adopts_the_volume_and_its_cinder_export_as_it_is() {
    let (_d, lvm, cfg) = cinder_host();
    let root = lvm.target_root().path;
    let before = lio_state(&lvm);
    assert_eq!(auth_mode(&root, &iqn(), HOST), 0o755);
    let r = pass(&lvm, &cfg, HOST);
    assert!(r.ok(), "{r:?}");
    let o = r.outcome.as_ref().unwrap();
    assert!(
        matches!(o.export_done[..], [ExportAction::AdoptExport { .. }]),
        "{o:?}"
    );
    assert!(!r.remaining.as_ref().unwrap().has_changes(), "{r:?}");
    // cinder's pair is the volume's now (what `ember connection` and a later attach give)
    let store = ChapStore::new(cfg.state_dir.clone());
    let kept = store.load("lvm-1", VOL).unwrap().unwrap();
    assert_eq!((kept.userid.as_str(), kept.password.as_str()), (USER, PASS));
    // nothing else changed: same backstore (and rtslib's serial), LUN, ACL, portal, enable
    let mut after = lio_state(&lvm);
    let unchanged = lio::with_passwords(&root, &after.targets[0]).unwrap().tpgs[0].acls[0]
        .chap
        .clone();
    let acl = &mut after.targets[0].tpgs[0].acls[0];
    // root-only now, so a pass no longer reads its password (ember's store holds it)
    assert!(acl.auth_private && acl.chap.is_none());
    acl.auth_private = false;
    acl.chap = unchanged;
    assert_eq!(after, before);
    assert_eq!(auth_mode(&root, &iqn(), HOST), 0o700);
    assert_eq!(
        before.backstores[0].serial.as_deref(),
        Some("9f0c2d4e-rtslib-random")
    );
    // the secret is in no report
    assert!(!format!("{r:?}").contains(PASS));
    assert!(!serde_json::to_string(&r).unwrap().contains(PASS));
    // a host attached later gets cinder's pair too
    let r = pass(&lvm, &cfg, &format!("{HOST}, {HOST2}"));
    assert!(r.ok(), "{r:?}");
    let t = lio::with_passwords(
        &lvm.target_root().path,
        lio_state(&lvm).target(&iqn()).unwrap(),
    )
    .unwrap();
    let acls = &t.tpgs[0].acls;
    assert_eq!(acls.len(), 2);
    assert!(acls.iter().all(|a| {
        a.chap
            .as_ref()
            .is_some_and(|c| c.user == USER && c.password == PASS)
    }));
}

#[test]
fn without_a_stored_pair_an_attach_takes_the_acls_pair_not_a_new_one() {
    let (_d, lvm, cfg) = cinder_host();
    let store = ChapStore::new(cfg.state_dir.clone());
    let t = lio_state(&lvm);
    let root = lvm.target_root().path;
    let c = volume_chap("lvm-1", &store, VOL, (&root, t.target(&iqn()))).unwrap();
    assert_eq!((c.userid.as_str(), c.password.as_str()), (USER, PASS));
    assert_eq!(store.load("lvm-1", VOL).unwrap(), Some(c.clone()));
    // the store's pair first, once there
    assert_eq!(volume_chap("lvm-1", &store, VOL, (&root, None)).unwrap(), c);
    // no target, no pair: a new one (cinder's shape)
    let new = volume_chap("lvm-1", &store, "volume-other", (&root, None)).unwrap();
    assert_eq!(new.userid.len(), 20);
}

#[test]
fn acls_that_disagree_or_cannot_be_read_give_no_pair() {
    let (_d, lvm, _cfg) = cinder_host();
    let mut t = lio_state(&lvm).target(&iqn()).unwrap().clone();
    let mut other = t.tpgs[0].acls[0].clone();
    other.initiator = HOST2.into();
    other.chap = Some(lio::Chap {
        user: USER.into(),
        password: "another".into(),
    });
    t.tpgs[0].acls.push(other.clone());
    let e = acl_chap(&t).unwrap_err();
    assert!(e.contains("2 different CHAP pairs"), "{e}");
    assert!(!e.contains(PASS) && !e.contains("another"));
    t.tpgs[0].acls[1].chap = None;
    let e = acl_chap(&t).unwrap_err();
    assert!(e.contains("cannot be read"), "{e}");
    // ... and the Debug of what was read never shows a password
    assert!(!format!("{t:?}").contains(PASS));
}
