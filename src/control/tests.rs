use super::*;

#[test]
fn requests_of_older_clients_still_parse_and_new_fields_are_left_out_when_unused() {
    // `ember status` and `ember reconcile` as clients before --volumes and --wait sent them
    let r: Request = serde_json::from_str(r#"{"cmd":"status"}"#).unwrap();
    assert_eq!(
        r,
        Request::Status {
            backend: None,
            volumes: false
        }
    );
    let r: Request = serde_json::from_str(r#"{"cmd":"reconcile","backend":"a"}"#).unwrap();
    assert_eq!(
        r,
        Request::Reconcile {
            backend: Some("a".into()),
            allow_deletions: None,
            wait: None
        }
    );
    let plain = Request::Status {
        backend: None,
        volumes: false,
    };
    assert_eq!(
        serde_json::to_string(&plain).unwrap(),
        r#"{"cmd":"status"}"#
    );
}

#[test]
fn a_waited_pass_is_for_the_control_group_and_the_daemons_side_waits_past_its_limit() {
    let wait = Request::Reconcile {
        backend: None,
        allow_deletions: None,
        wait: Some(30),
    };
    assert_eq!(wait.for_root_alone(), None);
    assert_eq!(wait.answer_timeout(), Duration::from_secs(30) + WAIT_MARGIN);
    let volumes = Request::Status {
        backend: Some("a".into()),
        volumes: true,
    };
    assert_eq!(volumes.for_root_alone(), None);
    assert_eq!(volumes.answer_timeout(), ANSWER_TIMEOUT);
}
