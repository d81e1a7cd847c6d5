//! cinder's nvmet subsystem of a volume adopted with its hosts declared, through a whole pass
//! on the simulator and its configfs model: restricted in the kernel's order, kept otherwise
//! as it is; nothing more to do on the next pass; left alone without `export:`.

use super::*;
use crate::config::LvmType;
use crate::lvm::sim::{SimLv, SimLvm, SimState, SimVg};
use crate::lvm::{LvKind, LvmRead};
use crate::reconcile::plan::export::ExportAction;
use crate::testkit::cinder::{CINDER_NGUID, CINDER_SERIAL, cinder_nvmet};

const VOL: &str = "volume-5e1c7a3b-2d4f-4b8a-9c6e-0f1a2b3c4d5e";
const ID: &str = "5e1c7a3b-2d4f-4b8a-9c6e-0f1a2b3c4d5e";
const NHOST: &str = "nqn.2014-08.org.nvmexpress:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427";

fn nqn(cfg: &BackendConfig) -> String {
    format!("nqn.{}-{ID}", cfg.target.target_prefix)
}

/// A host cinder-volume ran with nvmet: VOL untagged; `devices` in its subsystem.
fn cinder_host(devices: &[&str]) -> (tempfile::TempDir, SimLvm, BackendConfig) {
    let d = tempfile::tempdir().unwrap();
    let lvm = SimLvm::open(&d.path().join("lvm.json"));
    let mut st = SimState::default();
    let mut vg = SimVg::new(1 << 30);
    for lv in [VOL, "volume-other"] {
        vg.lvs
            .insert(lv.into(), SimLv::new(LvKind::Linear, 8 << 20));
    }
    st.vgs.insert("vg".into(), vg);
    lvm.save(&st).unwrap();
    let mut cfg = crate::testkit::backend("lvm-1", LvmType::Default);
    cfg.target.target_helper = "nvmet".into();
    cfg.target.target_protocol = "nvmet_tcp".into();
    cfg.target.target_ip_address = "127.0.0.1".into();
    cfg.target.target_port = 4420;
    cfg.state_dir = d.path().join("state");
    cinder_nvmet(&lvm.target_root().path, &nqn(&cfg), devices, ID);
    (d, lvm, cfg)
}

fn pass(lvm: &SimLvm, cfg: &BackendConfig, export: &str) -> crate::reconcile::PassReport {
    crate::reconcile::exports::tests::pass_yaml(
        lvm,
        cfg,
        &format!("adopt: true\nvolumes:\n  {VOL}: {{ size: 8M{export} }}\n"),
    )
}

fn state(lvm: &SimLvm) -> nvmet::State {
    nvmet::read(&lvm.target_root().path).unwrap()
}

#[test]
fn one_pass_adopts_the_volume_and_restricts_its_subsystem_to_the_declared_hosts() {
    let (_d, lvm, cfg) = cinder_host(&[&format!("/dev/vg/{VOL}")]);
    let before = state(&lvm);
    let r = pass(&lvm, &cfg, &format!(", export: {{ hosts: [{NHOST}] }}"));
    assert!(r.ok(), "{r:?}");
    let o = r.outcome.as_ref().unwrap();
    assert!(
        matches!(o.export_done[..], [ExportAction::AdoptExport { .. }]),
        "{o:?}"
    );
    assert!(!r.remaining.as_ref().unwrap().has_changes(), "{r:?}");
    // closed, the declared host allowed; the same subsystem otherwise (NQN, serial, nsid 10,
    // device, UUID, NGUID, port): the host sees the same disk
    let after = state(&lvm);
    let s = after.subsystem(&nqn(&cfg)).unwrap();
    assert_eq!(s.allow_any_host, Some(false));
    assert_eq!(s.allowed_hosts, vec![NHOST.to_string()]);
    assert_eq!(s.serial.as_deref(), Some(CINDER_SERIAL));
    assert_eq!(s.namespaces, before.subsystems[0].namespaces);
    assert_eq!(s.namespaces[0].nsid, 10);
    assert_eq!(s.namespaces[0].device_nguid.as_deref(), Some(CINDER_NGUID));
    assert_eq!(after.ports, before.ports);
    assert_eq!(after.hosts, vec![NHOST.to_string()]);
    // the next pass: nothing to do
    let r = pass(&lvm, &cfg, &format!(", export: {{ hosts: [{NHOST}] }}"));
    assert!(r.ok(), "{r:?}");
    assert!(
        r.outcome.as_ref().is_none_or(|o| o.export_done.is_empty()),
        "{r:?}"
    );
    assert_eq!(state(&lvm), after);
}

#[test]
fn the_steps_close_it_then_link_the_hosts_then_drop_the_controllers() {
    let (_d, lvm, cfg) = cinder_host(&[&format!("/dev/vg/{VOL}")]);
    let now = state(&lvm);
    let h = Nqn::parse(NHOST).unwrap();
    let steps = nvmet::restrict_steps(&nqn(&cfg), &[h], &now).unwrap();
    let shown: Vec<String> = steps.iter().map(|s| s.to_string()).collect();
    let sub = format!("nvmet/subsystems/{}", nqn(&cfg));
    let port = format!("nvmet/ports/1/subsystems/{}", nqn(&cfg));
    let at = |needle: &str| {
        shown
            .iter()
            .position(|s| s.contains(needle))
            .unwrap_or_else(|| panic!("{needle} not in {shown:#?}"))
    };
    assert_eq!(steps.len(), 5, "{shown:#?}");
    assert!(at(&format!("nvmet/hosts/{NHOST}")) < at("attr_allow_any_host"));
    assert!(at("attr_allow_any_host") < at(&format!("{sub}/allowed_hosts/{NHOST}")));
    assert!(at(&format!("{sub}/allowed_hosts/{NHOST}")) < at(&port));
    assert!(matches!(steps[3], Step::Unlink(_)) && matches!(steps[4], Step::Symlink { .. }));
    // the other order is refused, as the kernel refuses it (-EINVAL)
    let mut wrong = steps.clone();
    wrong.swap(1, 2);
    let e = crate::export::apply_modelled(&lvm.target_root().path, &wrong).unwrap_err();
    assert!(e.to_string().contains("allow_any_host"), "{e}");
}

#[test]
fn without_export_or_in_shared_mode_it_is_left_as_it_is() {
    let (_d, lvm, cfg) = cinder_host(&[&format!("/dev/vg/{VOL}")]);
    let before = state(&lvm);
    let r = pass(&lvm, &cfg, "");
    assert!(
        r.outcome.as_ref().is_none_or(|o| o.export_done.is_empty()),
        "{r:?}"
    );
    assert_eq!(state(&lvm), before);
    // two namespaces (cinder's shared targets): another tool's, though the hosts are declared
    let (_d, lvm, cfg) = cinder_host(&[&format!("/dev/vg/{VOL}"), "/dev/vg/volume-other"]);
    let before = state(&lvm);
    let r = pass(&lvm, &cfg, &format!(", export: {{ hosts: [{NHOST}] }}"));
    assert!(
        r.outcome.as_ref().is_none_or(|o| o.export_done.is_empty()),
        "{r:?}"
    );
    assert_eq!(state(&lvm), before);
}
