//! Whole passes (`converge`) on the simulator, whose target configuration is the configfs
//! model beside its state and whose lvm refuses to remove an LV a backstore holds (as LIO's
//! exclusive open makes the real one refuse).

use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::AtomicBool;

use crate::config::LvmType;
use crate::lvm::LvmRead;
use crate::lvm::sim::{SimLvm, SimState, SimVg};
use crate::names::VgName;
use crate::reconcile::plan::RefusalKind;
use crate::reconcile::plan::export::ExportAction;
use crate::reconcile::{PassReport, Policy, converge};

const HOST: &str = "iqn.1993-08.org.debian:01:compute1";
const VOL: &str = "volume-5e1c7a3b-2d4f-4b8a-9c6e-0f1a2b3c4d5e";

fn setup() -> (tempfile::TempDir, SimLvm, crate::config::BackendConfig) {
    let d = tempfile::tempdir().unwrap();
    let lvm = SimLvm::open(&d.path().join("lvm.json"));
    let mut st = SimState::default();
    st.vgs.insert("vg".into(), SimVg::new(1 << 30));
    lvm.save(&st).unwrap();
    let state = d.path().join("state");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut cfg = crate::testkit::backend("lvm-1", LvmType::Default);
    cfg.target.target_helper = "lioadm".into();
    cfg.target.target_ip_address = "127.0.0.1".into();
    cfg.state_dir = state;
    (d, lvm, cfg)
}

fn pass(lvm: &SimLvm, cfg: &crate::config::BackendConfig, volume: &str) -> PassReport {
    pass_yaml(lvm, cfg, &format!("volumes:\n  {VOL}: {volume}\n"))
}

/// One pass of `cfg` on the simulator with the desired state `yaml`.
pub(crate) fn pass_yaml(
    lvm: &SimLvm,
    cfg: &crate::config::BackendConfig,
    yaml: &str,
) -> PassReport {
    let d = crate::testkit::desired(yaml);
    let policy = Policy {
        max_deletions_per_pass: 5,
        prune_grace: 0,
        now: 1_800_000_000,
        confirmed: false,
    };
    converge(
        cfg,
        Some(&d),
        lvm,
        &policy,
        &AtomicBool::new(false),
        &|| true,
    )
}

fn lio(lvm: &SimLvm) -> crate::export::lio::State {
    crate::export::lio::read(&lvm.target_root().path).unwrap()
}

fn iqn() -> String {
    format!("iqn.2010-10.org.openstack:{VOL}")
}

fn exists(lvm: &SimLvm) -> bool {
    lvm.observe(&VgName::new("vg").unwrap())
        .unwrap()
        .unwrap()
        .lv(VOL)
        .is_some()
}

#[test]
fn a_pass_creates_exports_attaches_and_a_second_finds_nothing_to_do() {
    let (_d, lvm, cfg) = setup();
    let r = pass(
        &lvm,
        &cfg,
        &format!("{{ size: 8M, export: {{ hosts: [{HOST}] }} }}"),
    );
    assert!(r.ok(), "{r:?}");
    let o = r.outcome.unwrap();
    assert!(
        matches!(
            o.export_done[..],
            [ExportAction::Export { .. }, ExportAction::AttachHost { .. }]
        ),
        "{o:?}"
    );
    let st = lio(&lvm);
    let t = st.target(&iqn()).unwrap();
    assert_eq!(t.tpgs[0].acls[0].initiator, HOST);
    assert!(t.tpgs[0].acls[0].chap_user_set);
    assert_eq!(t.tpgs[0].authentication, Some(true));
    assert_eq!(t.tpgs[0].portals, ["127.0.0.1:3260"]);
    assert!(!r.remaining.unwrap().has_changes());
    // the secret is in the store, never in the report
    let chap = crate::export::chap::ChapStore::new(cfg.state_dir.clone())
        .load("lvm-1", VOL)
        .unwrap()
        .unwrap();
    let again = pass(
        &lvm,
        &cfg,
        &format!("{{ size: 8M, export: {{ hosts: [{HOST}] }} }}"),
    );
    assert!(!again.plan.as_ref().unwrap().has_changes());
    assert!(
        !format!("{again:?}{}", serde_json::to_string(&again).unwrap()).contains(&chap.password)
    );
}

#[test]
fn an_exported_volume_is_kept_until_its_hosts_go_then_unexported_before_its_deletion() {
    let (_d, lvm, cfg) = setup();
    pass(
        &lvm,
        &cfg,
        &format!("{{ size: 8M, export: {{ hosts: [{HOST}] }} }}"),
    );
    let r = pass(&lvm, &cfg, "{ state: absent }");
    assert_eq!(
        r.plan.as_ref().unwrap().refused[0].kind,
        RefusalKind::Exported
    );
    assert!(exists(&lvm) && lio(&lvm).target(&iqn()).is_some());
    let r = pass(&lvm, &cfg, "{ size: 8M, export: { hosts: [] } }");
    assert!(r.ok(), "{r:?}");
    assert!(lio(&lvm).target(&iqn()).unwrap().tpgs[0].acls.is_empty());
    // the unexport runs before the deletion (the simulator's lvm, as LIO makes the real one,
    // refuses to remove an LV a backstore holds)
    let r = pass(&lvm, &cfg, "{ state: absent }");
    assert!(r.ok(), "{r:?}");
    assert!(!exists(&lvm));
    let st = lio(&lvm);
    assert!(
        st.targets.is_empty() && st.backstores.is_empty() && st.hbas.is_empty(),
        "{st:?}"
    );
    // its CHAP credentials went with it
    let store = crate::export::chap::ChapStore::new(cfg.state_dir.clone());
    assert_eq!(store.load("lvm-1", VOL).unwrap(), None);
}

#[test]
fn a_cleared_target_configuration_is_put_back_with_the_same_serial() {
    let (_d, lvm, cfg) = setup();
    let yaml = format!("{{ size: 8M, export: {{ hosts: [{HOST}] }} }}");
    pass(&lvm, &cfg, &yaml);
    let serial = lio(&lvm).backstores[0].serial.clone();
    assert_eq!(
        serial.as_deref(),
        Some(
            crate::export::identity::Identity::of("vg", VOL)
                .uuid()
                .as_str()
        )
    );
    std::fs::remove_dir_all(lvm.target_root().path.join("target")).unwrap();
    let r = pass(&lvm, &cfg, &yaml);
    assert!(r.ok(), "{r:?}");
    let st = lio(&lvm);
    assert_eq!(st.backstores[0].serial, serial);
    assert_eq!(st.target(&iqn()).unwrap().tpgs[0].acls.len(), 1);
}

#[test]
fn a_failed_unexport_holds_the_deletion() {
    let (_d, lvm, cfg) = setup();
    pass(&lvm, &cfg, "{ size: 8M, export: { hosts: [] } }");
    // the model refuses the target's removal: a link left pointing into it (EBUSY)
    let root = lvm.target_root().path;
    let tpg = root.join("target/iscsi").join(iqn()).join("tpgt_1");
    std::os::unix::fs::symlink(&tpg, root.join("pin")).unwrap();
    let r = pass(&lvm, &cfg, "{ state: absent }");
    let o = r.outcome.unwrap();
    assert_eq!(o.export_failed.len(), 1, "{o:?}");
    assert!(o.done.is_empty() && o.skipped.len() == 1, "{o:?}");
    assert!(exists(&lvm));
}

#[test]
fn a_half_made_export_is_completed_by_the_next_pass() {
    let (_d, lvm, cfg) = setup();
    let yaml = format!("{{ size: 8M, export: {{ hosts: [{HOST}] }} }}");
    pass(&lvm, &cfg, &yaml);
    // a pass cut short before the portal and the TPG's enable
    let tpg = lvm
        .target_root()
        .path
        .join("target/iscsi")
        .join(iqn())
        .join("tpgt_1");
    std::fs::remove_dir(tpg.join("np/127.0.0.1:3260")).unwrap();
    std::fs::write(tpg.join("enable"), "0").unwrap();
    let r = pass(&lvm, &cfg, &yaml);
    assert!(r.ok(), "{r:?}");
    let t = lio(&lvm).target(&iqn()).cloned().unwrap();
    assert_eq!(t.tpgs[0].portals, ["127.0.0.1:3260"]);
    assert_eq!(t.tpgs[0].enabled, Some(true));
    // the enable alone
    std::fs::write(tpg.join("enable"), "0").unwrap();
    let r = pass(&lvm, &cfg, &yaml);
    assert!(r.ok(), "{r:?}");
    let t = lio(&lvm).target(&iqn()).cloned().unwrap();
    assert_eq!(t.tpgs[0].enabled, Some(true));
    assert!(!r.remaining.unwrap().has_changes());
}

mod grown;
mod half;

#[test]
fn an_export_refused_its_portal_says_which_target_listens_on_every_address() {
    let (_d, lvm, cfg) = setup();
    // another tool's target with targetcli's default portal, on a device of its own
    let root = lvm.target_root().path;
    let np = std::path::PathBuf::from("target/iscsi/iqn.2003-01.org.example:else/tpgt_1/np");
    crate::export::configfs::sim::apply(
        &root,
        &[crate::export::Step::Mkdir(np.join("0.0.0.0:3260"))],
    )
    .unwrap();
    let yaml = format!("{{ size: 8M, export: {{ hosts: [{HOST}] }} }}");
    let r = pass(&lvm, &cfg, &yaml);
    assert!(!r.ok());
    let failed = &r.outcome.as_ref().unwrap().export_failed;
    assert!(
        failed[0].error.contains(
            "target iqn.2003-01.org.example:else listens on 0.0.0.0:3260, every address of port 3260, so LIO cannot listen on 127.0.0.1:3260 alone: give that target portals on the addresses it should listen on instead (targetcli: /iscsi/iqn.2003-01.org.example:else/tpg1/portals create <address> 3260, then delete 0.0.0.0 3260)"
        ),
        "{failed:?}"
    );
    // its portal removed: exported (the simulator's configfs keeps what the failed change
    // made, as a killed worker would leave it: the pass completes it)
    crate::export::configfs::sim::apply(
        &root,
        &[crate::export::Step::Rmdir(np.join("0.0.0.0:3260"))],
    )
    .unwrap();
    let r = pass(&lvm, &cfg, &yaml);
    assert!(r.ok(), "{r:?}");
    let t = lio(&lvm).target(&iqn()).cloned().unwrap();
    assert_eq!(t.tpgs[0].portals, ["127.0.0.1:3260"]);
    assert_eq!(t.tpgs[0].enabled, Some(true));
}
