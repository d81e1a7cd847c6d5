//! A grown volume's export is resized over NVMe/TCP only, and only when it is ember's.

use std::path::{Path, PathBuf};

use crate::config::LvmType;
use crate::export::configfs::sim;
use crate::export::names::{Nqn, Portal};
use crate::export::nvmet;
use crate::lvm::Observed;
use crate::reconcile::plan::export::{ExportAction, Targets, Transport};
use crate::reconcile::plan::{Action, Policy, plan_with_targets};

const V: &str = "volume-8d0b5c52-1b7c-4c43-9d5e-1f1e2a3b4c5d";
const NQN: &str = "nqn.iqn.2010-10.org.openstack:-8d0b5c52-1b7c-4c43-9d5e-1f1e2a3b4c5d";
const HOST: &str = "nqn.2014-08.org.nvmexpress:uuid:aa";

fn cfg(helper: &str) -> crate::config::BackendConfig {
    let mut c = crate::testkit::backend("lvm-1", LvmType::Thin);
    c.target.target_helper = helper.into();
    if helper == "nvmet" {
        c.target.target_protocol = "nvmet_tcp".into();
        c.target.target_port = 4420;
    }
    c.target.target_ip_address = "127.0.0.1".into();
    c
}

fn observed() -> Observed {
    use crate::reconcile::plan::export::tests::{mine, observed};
    observed(vec![mine(V)])
}

/// ember's NVMe export of the volume, made in the model with its own steps.
fn export_nvme(root: &Path) {
    let e = nvmet::NvmeExport {
        nqn: Nqn::parse(NQN).unwrap(),
        nsid: 10,
        device: PathBuf::from(format!("/dev/vg/{V}")),
        uuid: "u".into(),
        serial: "s".into(),
        ports: vec![(
            1,
            Portal {
                ip: "127.0.0.1".parse().unwrap(),
                port: 4420,
            },
        )],
        hosts: vec![Nqn::parse(HOST).unwrap()],
    };
    let state = nvmet::read(root).unwrap();
    sim::apply(root, &nvmet::create_steps(&e, &state).unwrap()).unwrap();
}

fn plan(cfg: &crate::config::BackendConfig, size: &str, root: &Path) -> Vec<ExportAction> {
    plan_marked(cfg, size, root, &[])
}

/// [`plan`], with `marked` recorded as grown by an earlier pass.
fn plan_marked(
    cfg: &crate::config::BackendConfig,
    size: &str,
    root: &Path,
    marked: &[&str],
) -> Vec<ExportAction> {
    let host = match cfg.target.target_helper.as_str() {
        "nvmet" => HOST,
        _ => crate::reconcile::plan::export::tests::HOST,
    };
    let d = crate::testkit::desired(&format!(
        "volumes:\n  {V}: {{ size: {size}, export: {{ hosts: [{host}] }} }}\n"
    ));
    let targets = Targets {
        lio: crate::export::lio::read(root).unwrap(),
        nvmet: nvmet::read(root).unwrap(),
        grown: marked
            .iter()
            .map(|v| crate::names::LvName::new(v).unwrap())
            .collect(),
    };
    let policy = Policy {
        max_deletions_per_pass: 5,
        prune_grace: 0,
        now: 1_800_000_000,
        confirmed: false,
    };
    let p = plan_with_targets(cfg, &d, &observed(), Some(&targets), &policy);
    assert!(
        size == "1G" || matches!(p.actions[..], [Action::ExtendVolume { .. }]),
        "{p:?}"
    );
    p.export_actions
}

#[test]
fn a_grown_nvme_export_is_resized_and_nothing_else_is() {
    let d = tempfile::tempdir().unwrap();
    export_nvme(d.path());
    let nvme = cfg("nvmet");
    assert_eq!(plan(&nvme, "1G", d.path()), vec![], "not grown: nothing");
    let grown = plan(&nvme, "2G", d.path());
    assert_eq!(
        grown,
        vec![ExportAction::Resize {
            volume: crate::names::LvName::new(V).unwrap(),
            transport: Transport::NvmeTcp,
            target: NQN.into(),
            portals: vec!["127.0.0.1:4420".into()],
        }]
    );
    assert_eq!(
        grown[0].line(),
        format!(
            "~ resize export of volume {V} (NVMe/TCP at 127.0.0.1:4420): its connected hosts are told the new size"
        )
    );
    assert!(!grown[0].is_removal(), "resized after the LV grew");
    // the steps write revalidate_size of its enabled namespace, which the model accepts
    let steps = nvmet::revalidate_steps(NQN, &nvmet::read(d.path()).unwrap());
    assert_eq!(steps.len(), 1);
    assert!(
        steps[0]
            .to_string()
            .contains("namespaces/10/revalidate_size")
    );
    sim::apply(d.path(), &steps).unwrap();

    // not exported yet: the export made after the growth has the new size anyway
    let empty = tempfile::tempdir().unwrap();
    let p = plan(&nvme, "2G", empty.path());
    assert!(
        !p.iter().any(|a| matches!(a, ExportAction::Resize { .. })),
        "{p:?}"
    );
}

#[test]
fn a_grown_iscsi_export_needs_no_resize() {
    let d = tempfile::tempdir().unwrap();
    let iscsi = cfg("lioadm");
    crate::reconcile::plan::export::tests::export_iscsi(
        d.path(),
        &iscsi,
        V,
        &[crate::reconcile::plan::export::tests::HOST],
    );
    assert_eq!(plan(&iscsi, "1G", d.path()), vec![], "ember's, complete");
    let p = plan(&iscsi, "2G", d.path());
    assert!(
        !p.iter().any(|a| matches!(a, ExportAction::Resize { .. })),
        "{p:?}"
    );
}

#[test]
fn a_resize_not_seen_done_is_planned_again_and_only_for_ember_s_nvme_export() {
    let d = tempfile::tempdir().unwrap();
    export_nvme(d.path());
    let nvme = cfg("nvmet");
    let resize = ExportAction::Resize {
        volume: crate::names::LvName::new(V).unwrap(),
        transport: Transport::NvmeTcp,
        target: NQN.into(),
        portals: vec!["127.0.0.1:4420".into()],
    };
    // grown by an earlier pass (nothing left to extend), its resize not done: again
    assert_eq!(
        plan_marked(&nvme, "1G", d.path(), &[V]),
        vec![resize.clone()]
    );
    // grown again: one resize
    assert_eq!(plan_marked(&nvme, "2G", d.path(), &[V]), vec![resize]);
    // a mark of a volume ember does not export, or over iSCSI: nothing
    let other = "volume-00000000-1b7c-4c43-9d5e-1f1e2a3b4c5d";
    assert_eq!(plan_marked(&nvme, "1G", d.path(), &[other]), vec![]);
    // not exported yet: exported (at its size), not resized
    let empty = tempfile::tempdir().unwrap();
    let p = plan_marked(&nvme, "1G", empty.path(), &[V]);
    assert!(
        matches!(
            p[..],
            [ExportAction::Export { .. }, ExportAction::AttachHost { .. }]
        ),
        "{p:?}"
    );
    let iscsi = cfg("lioadm");
    let li = tempfile::tempdir().unwrap();
    crate::reconcile::plan::export::tests::export_iscsi(
        li.path(),
        &iscsi,
        V,
        &[crate::reconcile::plan::export::tests::HOST],
    );
    assert_eq!(plan_marked(&iscsi, "1G", li.path(), &[V]), vec![]);
}
