use super::*;

fn volume(
    name: &str,
    transport: Transport,
    hosts: &[&str],
    sessions: Option<Vec<Session>>,
) -> ExportedVolume {
    ExportedVolume {
        volume: name.into(),
        transport,
        target: format!("t-{name}"),
        hosts: hosts.iter().map(|h| h.to_string()).collect(),
        sessions,
    }
}

#[test]
fn iscsi_exports_show_hosts_and_sessions() {
    let s = ExportsStatus {
        read_at: 100,
        transport: Transport::Iscsi,
        volumes: vec![
            volume(
                "a",
                Transport::Iscsi,
                &["h1", "h2"],
                Some(vec![Session {
                    host: "h1".into(),
                    state: "LOGGED_IN".into(),
                    addresses: vec!["10.0.0.7".into()],
                }]),
            ),
            volume("b", Transport::Iscsi, &[], Some(vec![])),
        ],
    };
    assert_eq!((s.hosts(), s.sessions()), (2, Some(1)));
    assert_eq!(
        s.lines(110, true),
        vec![
            "exports: 2 volume(s) over iSCSI, 2 host(s), 1 live session(s) (read 10 s ago)",
            "  a: h1, h2; sessions: h1 from 10.0.0.7",
            "  b: no host; no session",
        ]
    );
}

#[test]
fn nvme_exports_say_sessions_are_not_shown() {
    let s = ExportsStatus {
        read_at: 100,
        transport: Transport::NvmeTcp,
        volumes: vec![volume("a", Transport::NvmeTcp, &["nqn.x"], None)],
    };
    assert_eq!(s.sessions(), None);
    assert_eq!(
        s.lines(100, false)[0],
        "exports: 1 volume(s) over NVMe/TCP, 1 host(s), sessions not shown by nvmet (read 0 s ago)"
    );
}

#[test]
fn only_logged_in_sessions_are_live() {
    let failed = Session {
        host: "h1".into(),
        state: "FAILED".into(),
        addresses: vec!["10.0.0.7".into()],
    };
    let s = ExportsStatus {
        read_at: 100,
        transport: Transport::Iscsi,
        volumes: vec![volume("a", Transport::Iscsi, &["h1"], Some(vec![failed]))],
    };
    assert_eq!(s.sessions(), Some(0));
    assert_eq!(
        s.lines(100, true)[1],
        "  a: h1; sessions: h1 (FAILED) from 10.0.0.7"
    );
}

#[test]
fn the_volumes_are_listed_only_when_asked_for() {
    let s = ExportsStatus {
        read_at: 100,
        transport: Transport::Iscsi,
        volumes: vec![volume("a", Transport::Iscsi, &["h1"], Some(vec![]))],
    };
    assert_eq!(s.lines(100, false).len(), 1);
    assert_eq!(s.lines(100, true).len(), 2);
}
