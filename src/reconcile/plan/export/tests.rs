//! The export phase's rules, against the configfs model: exports made there with ember's own
//! steps (or by hand, as another tool would), read back with the real readers.

use std::path::{Path, PathBuf};

use super::*;
use crate::config::LvmType;
use crate::export::configfs::sim;
use crate::export::{Step, Value};
use crate::lvm::{LvKind, VgInfo};
use crate::reconcile::plan::{Policy, RefusalKind, plan_with_targets};

pub(crate) const HOST: &str = "iqn.1993-08.org.debian:01:compute1";
pub(crate) const HOST2: &str = "iqn.1993-08.org.debian:01:compute2";
const NOW: u64 = 1_800_000_000;
const POLICY: Policy = Policy {
    max_deletions_per_pass: 5,
    prune_grace: 0,
    now: NOW,
    confirmed: false,
};

pub(crate) fn iscsi_cfg() -> BackendConfig {
    let mut c = crate::testkit::backend("lvm-1", LvmType::Thin);
    c.target.target_helper = "lioadm".into();
    c.target.target_ip_address = "127.0.0.1".into();
    c
}

fn nvme_cfg() -> BackendConfig {
    let mut c = iscsi_cfg();
    c.target.target_helper = "nvmet".into();
    c.target.target_protocol = "nvmet_tcp".into();
    c.target.target_port = 4420;
    c
}

pub(crate) fn observed(lvs: Vec<LvInfo>) -> Observed {
    let mut all = vec![crate::testkit::lv(
        "vg-pool",
        LvKind::ThinPool,
        50 << 30,
        None,
    )];
    all.extend(lvs);
    Observed {
        pvs: vec![],
        vg: VgInfo {
            name: "vg".into(),
            size: 100 << 30,
            free: 40 << 30,
            extent_size: 4 << 20,
            ..Default::default()
        },
        lvs: all,
    }
}

pub(crate) fn mine(name: &str) -> LvInfo {
    crate::testkit::lv(name, LvKind::Thin, 1 << 30, Some("lvm-1"))
}

fn foreign(name: &str) -> LvInfo {
    crate::testkit::lv(name, LvKind::Thin, 1 << 30, None)
}

/// ember's export of `/dev/vg/<lv>` to `hosts`, made in the model at `root` with its steps.
pub(crate) fn export_iscsi(root: &Path, cfg: &BackendConfig, lv: &str, hosts: &[&str]) {
    let state = crate::export::lio::read(root).unwrap();
    let e = crate::export::lio::IscsiExport {
        iqn: Iqn::parse(&format!("{}{lv}", cfg.target.target_prefix)).unwrap(),
        device: PathBuf::from(format!("/dev/vg/{lv}")),
        serial: "s".into(),
        portals: vec![Portal {
            ip: "127.0.0.1".parse().unwrap(),
            port: 3260,
        }],
        chap: Some(crate::export::lio::Chap {
            user: "u".into(),
            password: "p".into(),
        }),
        hosts: hosts.iter().map(|h| Iqn::parse(h).unwrap()).collect(),
    };
    sim::apply(root, &crate::export::lio::create_steps(&e, &state).unwrap()).unwrap();
}

fn targets(root: &Path) -> Targets {
    Targets {
        lio: crate::export::lio::read(root).unwrap(),
        nvmet: crate::export::nvmet::read(root).unwrap(),
        grown: vec![],
    }
}

fn run(cfg: &BackendConfig, yaml: &str, o: &Observed, root: &Path) -> Plan {
    let d = crate::testkit::desired(yaml);
    plan_with_targets(cfg, &d, o, Some(&targets(root)), &POLICY)
}

fn iqn(lv: &str) -> String {
    format!("iqn.2010-10.org.openstack:{lv}")
}

#[test]
fn a_declared_export_is_made_then_its_hosts_attached_and_once_made_nothing_more() {
    let d = tempfile::tempdir().unwrap();
    let cfg = iscsi_cfg();
    let yaml = format!("volumes:\n  volume-a: {{ size: 1G, export: {{ hosts: [{HOST}] }} }}\n");
    let p = run(&cfg, &yaml, &observed(vec![mine("volume-a")]), d.path());
    assert_eq!(
        p.export_actions,
        vec![
            ExportAction::Export {
                volume: LvName::new("volume-a").unwrap(),
                transport: Transport::Iscsi,
                target: iqn("volume-a"),
                device: "/dev/vg/volume-a".into(),
                portals: vec!["127.0.0.1:3260".into()],
            },
            ExportAction::AttachHost {
                volume: LvName::new("volume-a").unwrap(),
                transport: Transport::Iscsi,
                target: iqn("volume-a"),
                portals: vec!["127.0.0.1:3260".into()],
                host: HOST.into(),
            },
        ]
    );
    assert!(p.has_changes());
    export_iscsi(d.path(), &cfg, "volume-a", &[HOST]);
    let p = run(&cfg, &yaml, &observed(vec![mine("volume-a")]), d.path());
    assert_eq!(p.export_actions, vec![]);
    assert!(p.warnings.is_empty() && p.refused.is_empty(), "{p:?}");
    // a new volume is exported after its creation (the same plan)
    let p = run(
        &cfg,
        &yaml,
        &observed(vec![]),
        tempfile::tempdir().unwrap().path(),
    );
    assert!(matches!(p.actions[0], Action::CreateVolume { .. }));
    assert_eq!(p.export_actions.len(), 2);
}

#[test]
fn hosts_added_are_attached_removed_detached_and_no_export_keeps_hosts_unexports_without() {
    let d = tempfile::tempdir().unwrap();
    let cfg = iscsi_cfg();
    export_iscsi(d.path(), &cfg, "volume-a", &[HOST]);
    let o = observed(vec![mine("volume-a")]);
    let p = run(
        &cfg,
        &format!("volumes:\n  volume-a: {{ size: 1G, export: {{ hosts: [{HOST2}] }} }}\n"),
        &o,
        d.path(),
    );
    let lines: Vec<String> = p.export_actions.iter().map(ExportAction::line).collect();
    assert_eq!(
        lines,
        vec![
            format!("- detach host {HOST} from volume volume-a (iSCSI at 127.0.0.1:3260)"),
            format!("+ attach host {HOST2} to volume volume-a (iSCSI at 127.0.0.1:3260)"),
        ]
    );
    // the same host in other case is the same host (cinder compares so)
    let upper = HOST.replace("compute1", "COMPUTE1");
    let p = run(
        &cfg,
        &format!("volumes:\n  volume-a: {{ size: 1G, export: {{ hosts: [{upper}] }} }}\n"),
        &o,
        d.path(),
    );
    assert_eq!(p.export_actions, vec![]);
    // declared without export: while hosts remain, left as it is (a line missing from the
    // file, or a host taken over from cinder, never cuts a compute host off its disk), with a
    // warning
    let p = run(&cfg, "volumes:\n  volume-a: { size: 1G }\n", &o, d.path());
    assert_eq!(p.export_actions, vec![]);
    assert!(
        p.warnings
            .iter()
            .any(|w| w.kind == WarningKind::ExportNotDeclared && w.message.contains(HOST)),
        "{:?}",
        p.warnings
    );
    // with no host left on it, unexported
    let d2 = tempfile::tempdir().unwrap();
    export_iscsi(d2.path(), &cfg, "volume-a", &[]);
    let p = run(&cfg, "volumes:\n  volume-a: { size: 1G }\n", &o, d2.path());
    assert_eq!(p.export_actions.len(), 1);
    assert!(matches!(p.export_actions[0], ExportAction::Unexport { .. }));
    // not declared at all: left as it is (as its LV is)
    let p = run(
        &cfg,
        "volumes:\n  other: { size: 1G }\n",
        &observed(vec![mine("volume-a"), mine("other")]),
        d.path(),
    );
    assert_eq!(p.export_actions, vec![]);
}

#[test]
fn an_exported_volume_is_not_deleted_while_hosts_remain_then_unexported_and_deleted() {
    let d = tempfile::tempdir().unwrap();
    let cfg = iscsi_cfg();
    export_iscsi(d.path(), &cfg, "volume-a", &[HOST, HOST2]);
    let o = observed(vec![mine("volume-a")]);
    let p = run(
        &cfg,
        "volumes:\n  volume-a: { state: absent }\n",
        &o,
        d.path(),
    );
    assert!(p.actions.is_empty(), "{:?}", p.actions);
    assert_eq!(p.export_actions, vec![]);
    assert_eq!(p.refused.len(), 1);
    assert_eq!(p.refused[0].kind, RefusalKind::Exported);
    assert!(p.refused[0].reason.contains(HOST) && p.refused[0].reason.contains(HOST2));
    assert!(p.refused[0].reason.contains("remove its hosts first"));
    // pruned: the same
    let mut prune = run(
        &cfg,
        "prune: true\nvolumes:\n  b: { size: 1G }\n",
        &observed(vec![mine("volume-a"), mine("b")]),
        d.path(),
    );
    assert!(!prune.actions.iter().any(Action::is_destructive));
    assert!(
        prune
            .refused
            .iter()
            .any(|r| r.kind == RefusalKind::Exported)
    );
    prune.refused.clear();
    // with no host left: unexported, then deleted, in one plan
    let d = tempfile::tempdir().unwrap();
    export_iscsi(d.path(), &cfg, "volume-a", &[]);
    let p = run(
        &cfg,
        "volumes:\n  volume-a: { state: absent }\n",
        &o,
        d.path(),
    );
    assert!(p.refused.is_empty(), "{:?}", p.refused);
    assert!(matches!(p.actions[..], [Action::DeleteVolume { .. }]));
    assert!(matches!(
        p.export_actions[..],
        [ExportAction::Unexport { .. }]
    ));
}

/// A target made by hand (as targetcli makes one): the name ember would use, but the LUN on
/// another device.
fn by_hand(root: &Path, iqn: &str, device: &str, acl: Option<&str>) {
    let bs = PathBuf::from("target/core/iblock_7/byhand");
    let tpg = PathBuf::from("target/iscsi").join(iqn).join("tpgt_1");
    let mut steps = vec![
        Step::Mkdir(bs.clone()),
        Step::Write(bs.join("udev_path"), Value::Plain(device.into())),
        Step::Mkdir(tpg.join("lun/lun_0")),
        Step::Symlink {
            link: tpg.join("lun/lun_0/x"),
            target: bs,
        },
    ];
    if let Some(a) = acl {
        steps.push(Step::Mkdir(tpg.join("acls").join(a)));
    }
    sim::apply(root, &steps).unwrap();
}

#[test]
fn another_tools_targets_are_reported_never_changed_and_hold_what_they_use() {
    let cfg = iscsi_cfg();
    // ember's name, another device: not ember's; the declared export is refused
    let d = tempfile::tempdir().unwrap();
    by_hand(d.path(), &iqn("volume-a"), "/dev/other/x", None);
    let o = observed(vec![mine("volume-a")]);
    let p = run(
        &cfg,
        &format!("volumes:\n  volume-a: {{ size: 1G, export: {{ hosts: [{HOST}] }} }}\n"),
        &o,
        d.path(),
    );
    assert_eq!(p.export_actions, vec![]);
    assert_eq!(p.warnings[0].kind, WarningKind::ForeignExport);
    assert_eq!(p.refused[0].kind, RefusalKind::ExportNotOurs);
    // another name on one of the backend's volumes: reported; the volume is not deleted, and
    // not unexported
    let d = tempfile::tempdir().unwrap();
    by_hand(
        d.path(),
        "iqn.2003-01.org.example:byhand",
        "/dev/vg/volume-a",
        None,
    );
    let p = run(
        &cfg,
        "volumes:\n  volume-a: { state: absent }\n",
        &o,
        d.path(),
    );
    assert_eq!(p.export_actions, vec![]);
    assert!(p.actions.is_empty());
    assert_eq!(p.refused[0].kind, RefusalKind::Exported);
    assert!(p.refused[0].reason.contains("another tool"));
    let p = run(&cfg, "volumes:\n  volume-a: { size: 1G }\n", &o, d.path());
    assert_eq!(p.export_actions, vec![]);
    assert_eq!(p.warnings.len(), 1);
    // ... and declared exported: not exported a second time under ember's name (two sets of
    // initiators could write it)
    let p = run(
        &cfg,
        &format!("volumes:\n  volume-a: {{ size: 1G, export: {{ hosts: [{HOST}] }} }}\n"),
        &o,
        d.path(),
    );
    assert_eq!(p.export_actions, vec![], "{:?}", p.export_actions);
    assert_eq!(p.refused[0].kind, RefusalKind::ExportNotOurs);
    assert!(
        p.refused[0].reason.contains("uses it already"),
        "{:?}",
        p.refused
    );
    // a volume ember does not own: never exported
    let d = tempfile::tempdir().unwrap();
    let p = run(
        &cfg,
        "volumes:\n  volume-f: { size: 1G, export: { hosts: [] } }\n",
        &observed(vec![foreign("volume-f")]),
        d.path(),
    );
    assert_eq!(p.export_actions, vec![]);
    // (refused as another's volume already: once)
    assert_eq!(p.refused.len(), 1, "{:?}", p.refused);
    // ember's export of a volume that is no longer ember's (its tag removed): another's
    let d = tempfile::tempdir().unwrap();
    export_iscsi(d.path(), &cfg, "volume-f", &[HOST]);
    let p = run(
        &cfg,
        "volumes:\n  volume-f: { size: 1G }\n",
        &observed(vec![foreign("volume-f")]),
        d.path(),
    );
    assert_eq!(p.export_actions, vec![]);
    assert_eq!(p.warnings[0].kind, WarningKind::ForeignExport);
    // a target that has nothing to do with the backend: not even mentioned
    let d = tempfile::tempdir().unwrap();
    by_hand(
        d.path(),
        "iqn.2003-01.org.example:else",
        "/dev/sdz",
        Some(HOST),
    );
    let p = run(&cfg, "volumes:\n  volume-a: { size: 1G }\n", &o, d.path());
    assert!(p.warnings.is_empty() && p.export_actions.is_empty());
}

#[test]
fn nvme_subsystems_are_named_as_cinder_names_them() {
    let d = tempfile::tempdir().unwrap();
    let cfg = nvme_cfg();
    let v = "volume-8d0b5c52-1b7c-4c43-9d5e-1f1e2a3b4c5d";
    let nqn = "nqn.2014-08.org.nvmexpress:uuid:aa";
    let p = run(
        &cfg,
        &format!("volumes:\n  {v}: {{ size: 1G, export: {{ hosts: [{nqn}] }} }}\n"),
        &observed(vec![mine(v)]),
        d.path(),
    );
    let lines: Vec<String> = p.export_actions.iter().map(ExportAction::line).collect();
    assert_eq!(
        lines,
        vec![
            format!(
                "+ export volume {v} over NVMe/TCP at 127.0.0.1:4420 as nqn.iqn.2010-10.org.openstack:-8d0b5c52-1b7c-4c43-9d5e-1f1e2a3b4c5d"
            ),
            format!("+ attach host {nqn} to volume {v} (NVMe/TCP at 127.0.0.1:4420)"),
        ]
    );
}

#[test]
fn a_backend_that_exports_through_nothing_ember_writes_plans_no_export() {
    let d = tempfile::tempdir().unwrap();
    let iscsi = iscsi_cfg();
    export_iscsi(d.path(), &iscsi, "volume-a", &[HOST]);
    let cfg = crate::testkit::backend("lvm-1", LvmType::Thin);
    let p = run(
        &cfg,
        "volumes:\n  volume-a: { state: absent }\n",
        &observed(vec![mine("volume-a")]),
        d.path(),
    );
    // (its desired state cannot declare an export; its deletions are not read against targets)
    assert!(p.export_actions.is_empty());
}

mod adopt;
mod adopt_nvme;
mod devices;
mod properties;
