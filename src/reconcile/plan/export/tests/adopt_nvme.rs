//! cinder's nvmet subsystems (open to any host) of a volume that declares its hosts: ember's,
//! restricted to those hosts, in the pass that adopts the volume or any later one; without
//! `export:`, or in another shape, another tool's.

use super::*;
use crate::testkit::cinder::cinder_nvmet;

const VOL: &str = "volume-a";
const NHOST: &str = "nqn.2014-08.org.nvmexpress:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427";
const NHOST2: &str = "nqn.2014-08.org.nvmexpress:uuid:6fa459ea-ee8a-3ca4-894e-db77e160355e";

fn nqn(cfg: &BackendConfig, lv: &str) -> String {
    format!("nqn.{}-{lv}", cfg.target.target_prefix)
}

fn yaml(adopt: bool, export: &str) -> String {
    let adopt = if adopt { "adopt: true\n" } else { "" };
    format!("{adopt}volumes:\n  {VOL}: {{ size: 1G{export} }}\n")
}

fn hosts(h: &str) -> String {
    format!(", export: {{ hosts: [{h}] }}")
}

/// cinder's subsystem of VOL, in a fresh model.
fn cinder_host(cfg: &BackendConfig) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    cinder_nvmet(d.path(), &nqn(cfg, VOL), &["/dev/vg/volume-a"], "uuid-a");
    d
}

fn adopted(cfg: &BackendConfig, hosts: &[&str]) -> ExportAction {
    ExportAction::AdoptExport {
        volume: LvName::new(VOL).unwrap(),
        transport: Transport::NvmeTcp,
        target: nqn(cfg, VOL),
        portals: vec!["127.0.0.1:4420".into()],
        hosts: hosts.iter().map(|h| h.to_string()).collect(),
    }
}

#[test]
fn declared_hosts_take_over_cinders_subsystem_restricted_in_the_pass_that_adopts_it() {
    let cfg = nvme_cfg();
    let d = cinder_host(&cfg);
    let o = observed(vec![foreign(VOL)]);
    let p = run(&cfg, &yaml(true, &hosts(NHOST)), &o, d.path());
    assert!(
        matches!(p.actions[..], [Action::AdoptVolume { .. }]),
        "{p:?}"
    );
    assert!(p.refused.is_empty() && p.warnings.is_empty(), "{p:?}");
    // one action, nothing made again, no host attached or detached besides
    assert_eq!(p.export_actions, vec![adopted(&cfg, &[NHOST])]);
    assert_eq!(
        p.export_actions[0].line(),
        format!(
            "+ adopt export of volume {VOL} over NVMe/TCP at 127.0.0.1:4420 as {} (kept as it is, restricted to its declared hosts: {NHOST}; its hosts' connections are dropped once, the declared ones reconnect)",
            nqn(&cfg, VOL)
        )
    );
    // and as ember's it is reported exported to the declared hosts
    // (the LV already ember's, adopted in an earlier pass: the same)
    let p = run(
        &cfg,
        &yaml(false, &hosts(NHOST)),
        &observed(vec![mine(VOL)]),
        d.path(),
    );
    assert_eq!(p.export_actions, vec![adopted(&cfg, &[NHOST])]);
    assert!(p.refused.is_empty() && p.warnings.is_empty(), "{p:?}");
}

#[test]
fn hosts_declared_empty_restrict_it_to_nobody() {
    let cfg = nvme_cfg();
    let d = cinder_host(&cfg);
    let p = run(
        &cfg,
        &yaml(true, ", export: { hosts: [] }"),
        &observed(vec![foreign(VOL)]),
        d.path(),
    );
    assert_eq!(p.export_actions, vec![adopted(&cfg, &[])]);
    assert!(
        p.export_actions[0]
            .line()
            .contains("restricted to its declared hosts: none;"),
        "{}",
        p.export_actions[0].line()
    );
}

#[test]
fn without_export_or_without_adopt_it_stays_another_tools_with_a_warning() {
    let cfg = nvme_cfg();
    let d = cinder_host(&cfg);
    for (y, o) in [
        (yaml(true, ""), observed(vec![foreign(VOL)])),
        (yaml(false, ""), observed(vec![mine(VOL)])),
    ] {
        let p = run(&cfg, &y, &o, d.path());
        assert!(p.export_actions.is_empty(), "{p:?}");
        assert_eq!(p.warnings.len(), 1, "{p:?}");
        assert_eq!(p.warnings[0].kind, WarningKind::ForeignExport);
        assert!(
            p.warnings[0]
                .message
                .contains("open to any host, as cinder's nvmet makes it: left as it is until volume volume-a, ember's or adopted, declares its hosts"),
            "{}",
            p.warnings[0].message
        );
    }
    // the LV not adopted (no adopt: true): neither is its export
    let p = run(
        &cfg,
        &yaml(false, &hosts(NHOST)),
        &observed(vec![foreign(VOL)]),
        d.path(),
    );
    assert!(p.export_actions.is_empty(), "{p:?}");
    assert_eq!(p.warnings[0].kind, WarningKind::ForeignExport);
}

#[test]
fn shared_mode_another_device_or_another_name_stay_another_tools() {
    let cfg = nvme_cfg();
    let o = observed(vec![foreign(VOL), foreign("volume-b")]);
    let y = yaml(true, &hosts(NHOST));
    // cinder's shared-target mode: two namespaces in one subsystem (named as VOL's here, to
    // show the shape alone decides)
    let shared = tempfile::tempdir().unwrap();
    cinder_nvmet(
        shared.path(),
        &nqn(&cfg, VOL),
        &["/dev/vg/volume-a", "/dev/vg/volume-b"],
        "uuid-a",
    );
    // VOL's name on another volume's device
    let other_dev = tempfile::tempdir().unwrap();
    cinder_nvmet(
        other_dev.path(),
        &nqn(&cfg, VOL),
        &["/dev/vg/volume-b"],
        "uuid-b",
    );
    // another name on VOL's device
    let other_name = tempfile::tempdir().unwrap();
    cinder_nvmet(
        other_name.path(),
        "nqn.2003-01.org.example:x",
        &["/dev/vg/volume-a"],
        "uuid-a",
    );
    for d in [&shared, &other_dev, &other_name] {
        let p = run(&cfg, &y, &o, d.path());
        assert!(p.export_actions.is_empty(), "{p:?}");
        assert!(
            p.warnings
                .iter()
                .all(|w| w.kind == WarningKind::ForeignExport)
                && !p.warnings.is_empty(),
            "{p:?}"
        );
        assert!(
            p.refused
                .iter()
                .any(|r| r.kind == RefusalKind::ExportNotOurs),
            "{p:?}"
        );
    }
}

#[test]
fn once_restricted_it_is_ember_export_and_only_host_changes_follow() {
    let cfg = nvme_cfg();
    let d = cinder_host(&cfg);
    let sub = PathBuf::from("nvmet/subsystems").join(nqn(&cfg, VOL));
    let h = |x: &str| Nqn::parse(x).unwrap();
    let now = crate::export::nvmet::read(d.path()).unwrap();
    let steps = crate::export::nvmet::restrict_steps(&nqn(&cfg, VOL), &[h(NHOST)], &now).unwrap();
    sim::apply(d.path(), &steps).unwrap();
    assert!(
        d.path()
            .join(&sub)
            .join("allowed_hosts")
            .join(NHOST)
            .is_symlink()
    );
    let o = observed(vec![mine(VOL)]);
    let p = run(&cfg, &yaml(false, &hosts(NHOST)), &o, d.path());
    assert!(!p.has_changes(), "{p:?}");
    let p = run(&cfg, &yaml(false, &hosts(NHOST2)), &o, d.path());
    let verbs: Vec<&str> = p.export_actions.iter().map(ExportAction::verb).collect();
    assert_eq!(verbs, ["detach_host", "attach_host"]);
}
