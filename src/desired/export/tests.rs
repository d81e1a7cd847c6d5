use std::path::Path;

use crate::desired::{DesiredState, VolumeDesired, parse};
use crate::problem::Problem;

/// lvm-1 exports over iSCSI (lioadm), nvme over NVMe/TCP, plain has cinder's default helper
/// (tgtadm), mixed a helper and a protocol that do not go together.
fn cfg() -> crate::config::Config {
    crate::testkit::config(
        "[DEFAULT]\nenabled_backends = lvm-1,nvme,plain,mixed\n\
         [lvm-1]\nvolume_group = vg1\nlvm_type = thin\ntarget_helper = lioadm\ntarget_ip_address = 127.0.0.1\n\
         [nvme]\nvolume_group = vg2\ntarget_helper = nvmet\ntarget_protocol = nvmet_tcp\ntarget_ip_address = 127.0.0.1\n\
         [plain]\nvolume_group = vg3\n\
         [mixed]\nvolume_group = vg4\ntarget_helper = nvmet\ntarget_ip_address = 127.0.0.1\n",
    )
}

fn p(text: &str) -> Result<DesiredState, Vec<Problem>> {
    parse(Path::new("desired-state.yaml"), text, &cfg())
}

fn errs(text: &str) -> Vec<Problem> {
    match p(text) {
        Err(e) => e,
        Ok(d) => d.rejected.into_values().flatten().collect(),
    }
}

const IQN: &str = "iqn.1993-08.org.debian:01:compute1";
const NQN: &str = "nqn.2014-08.org.nvmexpress:uuid:0c0f1e3a-1b7c-4c43-9d5e-1f1e2a3b4c5d";

#[test]
fn an_export_lists_its_hosts_and_none_means_not_exported() {
    let d = p(&format!(
        "backends:\n  lvm-1:\n    volumes:\n      volume-a:\n        size: 1G\n        export:\n          hosts:\n            - {IQN}\n      volume-b: {{ size: 1G, export: {{ hosts: [] }} }}\n      volume-c: {{ size: 1G }}\n"
    ))
    .unwrap();
    let b = d.backend("lvm-1").unwrap();
    let e = |n| b.volumes.get_str(n).and_then(VolumeDesired::export);
    assert_eq!(e("volume-a").unwrap().hosts, vec![IQN.to_string()]);
    assert!(e("volume-b").unwrap().hosts.is_empty());
    assert_eq!(e("volume-c"), None);
    let d = p(&format!(
        "backends:\n  nvme:\n    volumes:\n      v: {{ size: 1G, export: {{ hosts: [{NQN}] }} }}\n"
    ))
    .unwrap();
    assert!(
        d.backend("nvme")
            .unwrap()
            .volumes
            .get_str("v")
            .unwrap()
            .export()
            .is_some()
    );
}

#[test]
fn hosts_of_the_wrong_kind_are_errors_on_their_line() {
    let e = errs(&format!(
        "backends:\n  lvm-1:\n    volumes:\n      volume-a:\n        size: 1G\n        export:\n          hosts:\n            - {IQN}\n            - {NQN}\n            - compute2\n"
    ));
    assert_eq!(e.len(), 2, "{e:?}");
    assert_eq!(e[0].line, Some(9));
    assert!(
        e[0].message.contains("iSCSI") && e[0].message.contains("initiatorname"),
        "{}",
        e[0].message
    );
    assert_eq!(e[1].line, Some(10));
    let e = errs(&format!(
        "backends:\n  nvme:\n    volumes:\n      v: {{ size: 1G, export: {{ hosts: [{IQN}] }} }}\n"
    ));
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].line, Some(4));
    assert!(e[0].message.contains("hostnqn"), "{}", e[0].message);
}

#[test]
fn a_host_listed_twice_is_an_error_on_its_second_line() {
    let upper = IQN.to_uppercase().replacen("IQN.", "iqn.", 1);
    let e = errs(&format!(
        "backends:\n  lvm-1:\n    volumes:\n      volume-a:\n        size: 1G\n        export:\n          hosts:\n            - {IQN}\n            - {IQN}\n"
    ));
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].line, Some(9));
    assert!(e[0].message.contains("twice"));
    // initiator names compare without case
    let e = errs(&format!(
        "backends:\n  lvm-1:\n    volumes:\n      volume-a: {{ size: 1G, export: {{ hosts: [{IQN}, {upper}] }} }}\n"
    ));
    assert_eq!(e.len(), 1, "{e:?}");
}

#[test]
fn a_backend_without_a_target_ember_writes_cannot_export() {
    let e = errs(
        "backends:\n  plain:\n    volumes:\n      v: { size: 1G }\n      w: { size: 1G, export: { hosts: [] } }\n",
    );
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].line, Some(5));
    assert!(
        e[0].message.contains("target_helper = tgtadm") && e[0].message.contains("lioadm"),
        "{}",
        e[0].message
    );
    let e =
        errs("backends:\n  mixed:\n    volumes:\n      w: { size: 1G, export: { hosts: [] } }\n");
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].message.contains("nvmet_tcp"), "{}", e[0].message);
    // exporting nothing, the same backends are fine
    assert!(
        p("backends:\n  plain:\n    volumes:\n      v: { size: 1G }\n  mixed: { volumes: {} }\n")
            .unwrap()
            .rejected
            .is_empty()
    );
}

#[test]
fn absent_volumes_and_snapshots_are_not_exported() {
    let e = errs(
        "backends:\n  lvm-1:\n    volumes:\n      v: { state: absent, export: { hosts: [] } }\n",
    );
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].line, Some(4));
    assert!(e[0].message.contains("absent"), "{}", e[0].message);
    let e = errs(
        "backends:\n  lvm-1:\n    volumes:\n      v: { size: 1G }\n    snapshots:\n      _snapshot-s: { volume: v, export: { hosts: [] } }\n",
    );
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].message.contains("export"), "{}", e[0].message);
    let e =
        errs("backends:\n  lvm-1:\n    volumes:\n      v: { size: 1G, export: { host: [] } }\n");
    assert_eq!(e.len(), 1, "{e:?}");
}

#[test]
fn an_export_without_a_value_or_without_hosts_is_an_error_not_unexported() {
    // every host line commented out: YAML null, which must not read as "not exported"
    let e = errs(
        "backends:\n  lvm-1:\n    volumes:\n      volume-a:\n        size: 1G\n        export:\n#          hosts: [iqn.1993-08.org.debian:01:compute1]\n",
    );
    assert!(
        e.iter()
            .any(|p| p.message.contains("`export:` has no value") && p.line.is_some()),
        "{e:?}"
    );
    // `export: {}` says nothing about the hosts
    let e = errs("backends:\n  lvm-1:\n    volumes:\n      volume-a: { size: 1G, export: {} }\n");
    assert!(e.iter().any(|p| p.message.contains("hosts")), "{e:?}");
}
