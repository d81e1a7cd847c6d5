//! A cinder-made export (as cinder's lioadm makes it) of a volume adopted: taken over in the
//! pass that adopts the volume, as it is; its CHAP pair refused when its ACLs disagree; what
//! `ember import` declares of it.

use super::*;
use crate::testkit::cinder::cinder_export;

const VOL: &str = "volume-a";

fn adopting(hosts: &str) -> String {
    format!("adopt: true\nvolumes:\n  {VOL}: {{ size: 1G, export: {{ hosts: [{hosts}] }} }}\n")
}

#[test]
fn an_adopted_volumes_cinder_export_is_taken_over_in_the_same_pass_as_it_is() {
    let d = tempfile::tempdir().unwrap();
    let cfg = iscsi_cfg();
    cinder_export(
        d.path(),
        &iqn(VOL),
        "/dev/vg/volume-a",
        &[(HOST, "cinderuser", "cinderpass")],
    );
    let o = observed(vec![foreign(VOL)]);
    let p = run(&cfg, &adopting(HOST), &o, d.path());
    assert!(
        matches!(p.actions[..], [Action::AdoptVolume { .. }]),
        "{p:?}"
    );
    assert!(p.refused.is_empty() && p.warnings.is_empty(), "{p:?}");
    // kept as it is: no export made or completed (the serial is rtslib's, not ember's: no
    // matter), no host attached or detached; its credentials taken over
    assert_eq!(
        p.export_actions,
        vec![ExportAction::AdoptExport {
            volume: LvName::new(VOL).unwrap(),
            transport: Transport::Iscsi,
            target: iqn(VOL),
            portals: vec!["127.0.0.1:3260".into()],
            hosts: vec![],
        }]
    );
    assert!(
        p.export_actions[0]
            .line()
            .starts_with("+ adopt export of volume volume-a over iSCSI")
    );
    // without adopt: true it stays another tool's
    let p = run(
        &cfg,
        &format!("volumes:\n  {VOL}: {{ size: 1G, export: {{ hosts: [{HOST}] }} }}\n"),
        &o,
        d.path(),
    );
    assert!(p.export_actions.is_empty());
    assert_eq!(p.warnings[0].kind, WarningKind::ForeignExport);
    // a host declared beside cinder's is attached, one missing detached (the operator's list)
    let p = run(&cfg, &adopting(HOST2), &o, d.path());
    let verbs: Vec<&str> = p.export_actions.iter().map(ExportAction::verb).collect();
    assert_eq!(verbs, ["adopt_export", "detach_host", "attach_host"]);
}

#[test]
fn once_its_acls_are_root_only_nothing_more_is_done() {
    let d = tempfile::tempdir().unwrap();
    let cfg = iscsi_cfg();
    cinder_export(d.path(), &iqn(VOL), "/dev/vg/volume-a", &[(HOST, "u", "p")]);
    let acl = PathBuf::from("target/iscsi")
        .join(iqn(VOL))
        .join("tpgt_1/acls")
        .join(HOST)
        .join("auth");
    sim::apply(d.path(), &[Step::RootOnly(acl)]).unwrap();
    let p = run(&cfg, &adopting(HOST), &observed(vec![mine(VOL)]), d.path());
    assert!(!p.has_changes(), "{p:?}");
}

#[test]
fn acls_with_different_chap_pairs_are_refused_not_picked_from() {
    let d = tempfile::tempdir().unwrap();
    let cfg = iscsi_cfg();
    cinder_export(
        d.path(),
        &iqn(VOL),
        "/dev/vg/volume-a",
        &[(HOST, "user1", "pass1"), (HOST2, "user2", "pass2")],
    );
    let p = run(
        &cfg,
        &adopting(&format!("{HOST}, {HOST2}")),
        &observed(vec![foreign(VOL)]),
        d.path(),
    );
    assert!(p.export_actions.is_empty(), "{:?}", p.export_actions);
    assert_eq!(p.refused.len(), 1, "{:?}", p.refused);
    assert_eq!(p.refused[0].kind, RefusalKind::ExportChapDiffers);
    assert!(p.refused[0].reason.contains("2 different CHAP pairs"));
    // never the secrets in a plan
    let all = format!("{p:?}");
    assert!(!all.contains("pass1") && !all.contains("pass2"), "{all}");
}

#[test]
fn import_reads_a_volumes_hosts_or_says_why_not() {
    let d = tempfile::tempdir().unwrap();
    let cfg = iscsi_cfg();
    cinder_export(
        d.path(),
        &iqn(VOL),
        "/dev/vg/volume-a",
        &[(HOST2, "u", "p"), (HOST, "u", "p")],
    );
    let t = targets(d.path());
    assert_eq!(
        current_export(&cfg, VOL, &t),
        Current::Hosts(vec![HOST.into(), HOST2.into()])
    );
    assert_eq!(current_export(&cfg, "volume-b", &t), Current::None);
    // another name on the device: reported, not declared
    by_hand(
        d.path(),
        "iqn.2003-01.org.example:x",
        "/dev/vg/volume-b",
        None,
    );
    assert!(matches!(
        current_export(&cfg, "volume-b", &targets(d.path())),
        Current::Other(why) if why.contains("iqn.2003-01.org.example:x")
    ));
    // nvmet open to any host (cinder's): no hosts known
    let d = tempfile::tempdir().unwrap();
    let cfg = nvme_cfg();
    let nqn = format!("nqn.{}-volume-a", cfg.target.target_prefix);
    let sub = PathBuf::from("nvmet/subsystems").join(&nqn);
    sim::apply(
        d.path(),
        &[
            Step::Mkdir(sub.join("namespaces/10")),
            Step::Write(
                sub.join("namespaces/10/device_path"),
                Value::Plain("/dev/vg/volume-a".into()),
            ),
            Step::Write(sub.join("attr_allow_any_host"), Value::Plain("1".into())),
        ],
    )
    .unwrap();
    let got = current_export(&cfg, VOL, &targets(d.path()));
    assert!(
        matches!(got, Current::AnyHost(ref n) if *n == nqn),
        "{got:?}"
    );
}

/// cinder's export of the volume, listening on `portals` instead of 127.0.0.1:3260.
fn cinder_export_on(root: &Path, portals: &[&str]) {
    cinder_export(
        root,
        &iqn(VOL),
        "/dev/vg/volume-a",
        &[(HOST, "cinderuser", "cinderpass")],
    );
    let np = PathBuf::from("target/iscsi")
        .join(iqn(VOL))
        .join("tpgt_1/np");
    let mut steps = vec![Step::Rmdir(np.join("127.0.0.1:3260"))];
    steps.extend(portals.iter().map(|p| Step::Mkdir(np.join(p))));
    sim::apply(root, &steps).unwrap();
}

#[test]
fn a_cinder_export_on_every_address_needs_no_portal_of_its_own() {
    let cfg = iscsi_cfg();
    let o = observed(vec![foreign(VOL)]);
    // rtstool given no address: 0.0.0.0 and [::0], which serve 127.0.0.1:3260
    let d = tempfile::tempdir().unwrap();
    cinder_export_on(d.path(), &["0.0.0.0:3260", "[::0]:3260"]);
    let p = run(&cfg, &adopting(HOST), &o, d.path());
    let verbs: Vec<&str> = p.export_actions.iter().map(ExportAction::verb).collect();
    assert_eq!(verbs, ["adopt_export"], "{p:?}");
    // another address, or another port: the backend's portal is added
    for np in ["10.9.9.9:3260", "0.0.0.0:3261"] {
        let d = tempfile::tempdir().unwrap();
        cinder_export_on(d.path(), &[np]);
        let p = run(&cfg, &adopting(HOST), &o, d.path());
        let added: Vec<&ExportAction> = p
            .export_actions
            .iter()
            .filter(|a| a.verb() == "export")
            .collect();
        assert!(
            matches!(added[..], [ExportAction::Export { portals, .. }] if portals == &["127.0.0.1:3260"]),
            "{np}: {p:?}"
        );
    }
}
