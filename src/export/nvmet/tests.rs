use super::*;
use crate::export::configfs::{Step, sim};
use crate::export::names::{Nqn, Portal};

const NQN: &str = "nqn.nvme-subsystem-1-8d0b5c52-1b7c-4c43-9d5e-1f1e2a3b4c5d";
const HOST: &str = "nqn.2014-08.org.nvmexpress:uuid:62ccf2e5-6bfb-4deb-96ae-42d4ee9c9c97";

fn export() -> NvmeExport {
    NvmeExport {
        nqn: Nqn::parse(NQN).unwrap(),
        nsid: 10,
        device: "/dev/vg/volume-8d0b5c52-1b7c-4c43-9d5e-1f1e2a3b4c5d".into(),
        uuid: "8d0b5c52-1b7c-4c43-9d5e-1f1e2a3b4c5d".into(),
        serial: "8d0b5c521b7c4c439d5e".into(),
        ports: vec![(
            1,
            Portal {
                ip: "127.0.0.1".parse().unwrap(),
                port: 4420,
            },
        )],
        hosts: vec![Nqn::parse(HOST).unwrap()],
    }
}

fn at(steps: &[Step], f: impl Fn(&Step) -> bool) -> usize {
    steps.iter().position(f).expect("step missing")
}

#[test]
fn create_runs_in_the_kernels_order() {
    let steps = create_steps(&export(), &State::default()).unwrap();
    let s = |e: String| {
        move |st: &Step| match st {
            Step::Write(p, _) | Step::Mkdir(p) => steps::rel(p).ends_with(&e),
            Step::Symlink { link, .. } => steps::rel(link).ends_with(&e),
            _ => false,
        }
    };
    assert_eq!(steps[0], Step::Mkdir(format!("nvmet/hosts/{HOST}").into()));
    let any_host = at(&steps, s("attr_allow_any_host".to_string()));
    let allowed = at(&steps, s(format!("allowed_hosts/{HOST}")));
    let uuid = at(&steps, s("device_uuid".to_string()));
    let enable = at(&steps, s("10/enable".to_string()));
    let addr = at(&steps, s("ports/1/addr_traddr".to_string()));
    let link = at(&steps, s(format!("ports/1/subsystems/{NQN}")));
    assert!(
        any_host < allowed,
        "allow_any_host is 0 before a host is linked"
    );
    assert!(
        uuid < enable,
        "the namespace's identity before it is enabled"
    );
    assert!(
        enable < link && addr < link,
        "the port's address before the link enables it"
    );
}

#[test]
fn an_existing_port_is_reused_and_never_rewritten() {
    let mut state = State::default();
    state.hosts.push(HOST.into());
    state.ports.push(Port {
        id: 1,
        trtype: Some("tcp".into()),
        adrfam: Some("ipv4".into()),
        traddr: Some("127.0.0.1".into()),
        trsvcid: Some("4420".into()),
        subsystems: vec!["nqn.other".into()],
    });
    let steps = create_steps(&export(), &state).unwrap();
    assert!(!steps.iter().any(|s| matches!(s, Step::Mkdir(p) if steps::rel(p).starts_with("ports") || steps::rel(p).starts_with("hosts"))));
    state.ports[0].traddr = Some("10.0.0.1".into());
    let err = create_steps(&export(), &state).unwrap_err().to_string();
    assert!(err.contains("port 1 exists with another address"), "{err}");
}

#[test]
fn what_is_made_reads_back_and_is_removed_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("nvmet/hosts")).unwrap();
    sim::apply(
        root,
        &create_steps(&export(), &read(root).unwrap()).unwrap(),
    )
    .unwrap();
    let state = read(root).unwrap();
    let s = state.subsystem(NQN).unwrap();
    assert_eq!(s.allow_any_host, Some(false));
    assert_eq!(s.allowed_hosts, [HOST]);
    let ns = &s.namespaces[0];
    assert_eq!((ns.nsid, ns.enabled), (10, Some(true)));
    assert_eq!(
        ns.device_uuid.as_deref(),
        Some("8d0b5c52-1b7c-4c43-9d5e-1f1e2a3b4c5d")
    );
    assert_eq!(state.port(1).unwrap().subsystems, [NQN]);
    sim::apply(root, &remove_steps(NQN, &state).unwrap()).unwrap();
    let after = read(root).unwrap();
    assert!(after.subsystems.is_empty());
    assert_eq!(
        after.hosts,
        [HOST],
        "hosts stay: other subsystems may allow them"
    );
    assert!(after.port(1).unwrap().subsystems.is_empty());
}

#[test]
fn completing_an_export_whose_linked_port_has_another_address_is_an_error_not_done() {
    // the subsystem made and linked to port 1 on 10.0.0.1; target_ip_address is now 127.0.0.1
    let state = linked("10.0.0.1");
    let e = complete_steps(&export(), &state).unwrap_err();
    assert!(e.to_string().contains("another address"), "{e}");
    // the same address: nothing to do
    let mut same = state.clone();
    same.ports[0].traddr = Some("127.0.0.1".into());
    assert_eq!(complete_steps(&export(), &same).unwrap(), vec![]);
}

#[test]
fn a_disallowed_host_loses_its_connected_controllers_the_subsystem_stays_in_its_ports() {
    let state = linked("127.0.0.1");
    let steps = disallow_steps(NQN, HOST, &state);
    let shown: Vec<String> = steps
        .iter()
        .map(|s| {
            steps::rel(match s {
                Step::Unlink(p) => p,
                Step::Symlink { link, .. } => link,
                _ => panic!("{s}"),
            })
        })
        .collect();
    assert_eq!(
        shown,
        vec![
            format!("subsystems/{NQN}/allowed_hosts/{HOST}"),
            format!("ports/1/subsystems/{NQN}"),
            format!("ports/1/subsystems/{NQN}"),
        ]
    );
    assert!(matches!(steps[1], Step::Unlink(_)) && matches!(steps[2], Step::Symlink { .. }));
}

/// The subsystem `NQN`, allowing `HOST`, linked to port 1 on `traddr`:4420.
fn linked(traddr: &str) -> State {
    State {
        loaded: true,
        hosts: vec![HOST.into()],
        subsystems: vec![Subsystem {
            nqn: NQN.into(),
            allow_any_host: Some(false),
            serial: None,
            allowed_hosts: vec![HOST.into()],
            namespaces: vec![],
        }],
        ports: vec![Port {
            id: 1,
            trtype: Some("tcp".into()),
            adrfam: Some("ipv4".into()),
            traddr: Some(traddr.into()),
            trsvcid: Some("4420".into()),
            subsystems: vec![NQN.into()],
        }],
    }
}
