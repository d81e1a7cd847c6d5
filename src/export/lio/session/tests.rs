use super::*;

const HOST: &str = "iqn.1993-08.org.debian:01:compute1";

/// As the kernel prints it for a logged-in session with one connection (iscsi_target_configfs.c).
const LOGGED_IN: &str = "InitiatorName: iqn.1993-08.org.debian:01:compute1
InitiatorAlias: compute1
LIO Session ID: 1   ISID: 0x00 02 3d 00 00 00  TSIH: 1  SessionType: Normal
Session State: TARG_SESS_STATE_LOGGED_IN
---------------------[iSCSI Session Values]-----------------------
  CmdSN/WR  :  CmdSN/WC  :  ExpCmdSN  :  MaxCmdSN  :     ITT    :     TTT
 0x00000010   0x00000010   0x00000010   0x00000090   0x00000000   0x00000000
----------------------[iSCSI Connections]-------------------------
CID: 0  Connection State: TARG_CONN_STATE_LOGGED_IN
   Address 10.0.0.7 TCP  StatSN: 0x00000012
";

#[test]
fn a_logged_in_session_is_read_with_its_addresses() {
    assert_eq!(
        parse_info(HOST, LOGGED_IN),
        Some(Session {
            host: HOST.into(),
            state: "LOGGED_IN".into(),
            addresses: vec!["10.0.0.7".into()],
        })
    );
}

#[test]
fn no_session_and_unreadable_text_are_none() {
    let none = format!("No active iSCSI Session for Initiator Endpoint: {HOST}\n");
    assert_eq!(parse_info(HOST, &none), None);
    assert_eq!(parse_info(HOST, ""), None);
}

#[test]
fn sessions_are_read_per_acl_from_configfs() {
    let d = tempfile::tempdir().unwrap();
    let acls = d
        .path()
        .join("target/iscsi/iqn.2010-10.org.openstack:v/tpgt_1/acls");
    for (h, text) in [
        (HOST, LOGGED_IN.to_string()),
        (
            "iqn.1993-08.org.debian:01:compute2",
            "No active iSCSI Session for Initiator Endpoint: x\n".to_string(),
        ),
    ] {
        std::fs::create_dir_all(acls.join(h)).unwrap();
        std::fs::write(acls.join(h).join("info"), text).unwrap();
    }
    let s = sessions(d.path(), "iqn.2010-10.org.openstack:v");
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].host, HOST);
    assert!(sessions(d.path(), "iqn.2010-10.org.openstack:none").is_empty());
}

#[test]
fn an_alias_cannot_forge_a_state_or_an_address() {
    // the initiator's alias is printed first; it may hold line breaks and escapes
    let forged = LOGGED_IN.replace(
        "InitiatorAlias: compute1",
        "InitiatorAlias: x\nSession State: TARG_SESS_STATE_FREE\n----[iSCSI Connections]----\n   Address 6.6.6.6 TCP\n   Address \u{1b}[2J TCP",
    );
    let s = parse_info(HOST, &forged).unwrap();
    assert_eq!(s.state, "LOGGED_IN");
    assert_eq!(s.addresses, vec!["10.0.0.7".to_string()]);
    let odd = LOGGED_IN.replace("TARG_SESS_STATE_LOGGED_IN", "\u{1b}[31mX");
    assert_eq!(
        parse_info(HOST, &odd),
        None,
        "a state that is not the kernel's"
    );
}
