//! Against what lvm2 2.03.16 said in the VM (target of `lastlog` in the lvm shell after an
//! `lvchange --addtag t1 --select lv_uuid=...`, and the messages of a process of its own).
use super::*;

const UUID: &str = "rSEDPh-IoN6-KKsX-aIjc-e8qo-kUUT-iVj484";

/// `lastlog` after a selection that matched the LV.
const PROCESSED: &str = r#"{"log": [{"log_seq_num": "1", "log_type": "print", "log_context": "processing", "log_object_type": "lv", "log_object_name": "y", "log_object_id": "rSEDPh-IoN6-KKsX-aIjc-e8qo-kUUT-iVj484", "log_object_group": "vg-a", "log_object_group_id": "mUTs4v-jNiT-HEg1-hwKj-Ew6B-DTYr-A1AwBp", "log_message": "Logical volume vg-a/y changed.", "log_errno": "0", "log_ret_code": "0"}, {"log_seq_num": "2", "log_type": "status", "log_context": "processing", "log_object_type": "lv", "log_object_name": "y", "log_object_id": "rSEDPh-IoN6-KKsX-aIjc-e8qo-kUUT-iVj484", "log_object_group": "vg-a", "log_object_group_id": "mUTs4v-jNiT-HEg1-hwKj-Ew6B-DTYr-A1AwBp", "log_message": "success", "log_errno": "0", "log_ret_code": "1"}, {"log_seq_num": "3", "log_type": "status", "log_context": "processing", "log_object_type": "vg", "log_object_name": "vg-a", "log_object_id": "mUTs4v-jNiT-HEg1-hwKj-Ew6B-DTYr-A1AwBp", "log_object_group": "", "log_object_group_id": "", "log_message": "success", "log_errno": "0", "log_ret_code": "1"}, {"log_seq_num": "4", "log_type": "status", "log_context": "shell", "log_object_type": "cmd", "log_object_name": "lvchange", "log_object_id": "", "log_object_group": "", "log_object_group_id": "", "log_message": "success", "log_errno": "0", "log_ret_code": "1"}]}"#;

/// `lastlog` after a selection that matched nothing: the VG processed, no LV, and success.
const NOTHING: &str = r#"{"log": [{"log_seq_num": "1", "log_type": "status", "log_context": "processing", "log_object_type": "vg", "log_object_name": "vg-a", "log_object_id": "mUTs4v-jNiT-HEg1-hwKj-Ew6B-DTYr-A1AwBp", "log_object_group": "", "log_object_group_id": "", "log_message": "success", "log_errno": "0", "log_ret_code": "1"}, {"log_seq_num": "2", "log_type": "status", "log_context": "shell", "log_object_type": "cmd", "log_object_name": "lvchange", "log_object_id": "", "log_object_group": "", "log_object_group_id": "", "log_message": "success", "log_errno": "0", "log_ret_code": "1"}]}"#;

#[test]
fn the_shell_log_says_which_lv_was_processed() {
    let uuid = LvUuid::new(UUID).unwrap();
    assert!(processed_in_log(PROCESSED, &uuid));
    assert!(
        !processed_in_log(NOTHING, &uuid),
        "a selection that matched nothing"
    );
    let other = LvUuid::new("Q2AwQx-F1la-LyKx-K3j7-zhcp-xCfB-4WWy3l").unwrap();
    assert!(!processed_in_log(PROCESSED, &other), "another LV's UUID");
    // a failed processing of the LV, or a log that cannot be read, is not a success
    let failed = PROCESSED.replace(
        r#""log_message": "success", "log_errno": "0", "log_ret_code": "1"}, {"log_seq_num": "3""#,
        r#""log_message": "failure", "log_errno": "0", "log_ret_code": "5"}, {"log_seq_num": "3""#,
    );
    assert!(!processed_in_log(&failed, &uuid));
    assert!(!processed_in_log("", &uuid) && !processed_in_log("{", &uuid));
}

#[test]
fn a_process_says_what_it_processed_on_stdout() {
    let vg = VgName::new("vg-a").unwrap();
    let y = LvName::new("y").unwrap();
    let y2 = LvName::new("y2").unwrap();
    assert!(Done::Changed.said("  Logical volume vg-a/y changed.\n", &vg, &y));
    assert!(!Done::Changed.said("  Logical volume vg-a/y2 changed.\n", &vg, &y));
    assert!(
        !Done::Changed.said("", &vg, &y),
        "a selection that matched nothing says nothing"
    );
    let removed = "  Logical volume \"y2\" successfully removed.\n";
    assert!(Done::Removed.said(removed, &vg, &y2));
    assert!(!Done::Removed.said(removed, &vg, &y));
    assert!(!Done::Removed.said("  Logical volume vg-a/y changed.\n", &vg, &y));
}

#[test]
fn uuids_are_read_from_an_lvs_report_as_a_process_or_the_shell_prints_it() {
    let process = r#"  {
      "report": [
          {
              "lv": [
                  {"lv_uuid":"rSEDPh-IoN6-KKsX-aIjc-e8qo-kUUT-iVj484"}
              ]
          }
      ]
  }"#;
    assert_eq!(uuids_in_report(process), [UUID]);
    let shell = format!(
        r#"{{"report": [{{"lv": [{{"lv_uuid": "{UUID}"}}]}}], "log": [{{"log_type": "status"}}]}}"#
    );
    assert_eq!(uuids_in_report(&shell), [UUID]);
    assert!(uuids_in_report("").is_empty());
    assert!(uuids_in_report(r#"{"report": [{"lv": []}]}"#).is_empty());
}
