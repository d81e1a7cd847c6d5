use std::collections::{BTreeMap, BTreeSet};

use super::exposition::escape_label;
use super::*;
use crate::status::{
    AutoextendStatus, Capacity, DesiredStatus, PassCounters, PassProgress, PassSummary, PoolStatus,
};

const G: u64 = 1 << 30;

fn backend(name: &str) -> BackendStatus {
    BackendStatus {
        name: name.into(),
        volume_group: "vg1".into(),
        cinder_host: format!("node1@{name}"),
        volume_backend_name: "LVM".into(),
        cinder_pool: format!("node1@{name}#LVM"),
        pid: Some(7),
        state: WorkerState::Converged,
        restarts: 0,
        last_pass: Some(PassSummary {
            trigger: "start".into(),
            finished_at: 1_800_000_000,
            duration_ms: 1500,
            lvm_calls: 2,
            lvm_commands: 5,
            done: vec!["+ create volume a".into(); 3],
            failed: vec![],
            refused: vec!["b: too big".into()],
            error: None,
            refusal_kinds: BTreeMap::from([("over_subscription".to_string(), 1)]),
            pending: 0,
            scheduled: vec![],
            warnings: vec![],
            confirming: false,
        }),
        desired_state_problems: vec![],
        capacity: Some(Capacity {
            total: 10 * G,
            free: 6 * G,
            provisioned: 30 * G,
            max_over_subscription_ratio: 20.0,
            max_over_subscription_ratio_auto: false,
            reserved_percentage: 10,
            pool_size: Some(10 * G),
            data_percent: Some(40.0),
            metadata_percent: Some(12.5),
            pool_health: None,
            volumes: 5,
            owned_volumes: 3,
            snapshots: 2,
            owned_snapshots: 2,
            cow_snapshots: 0,
            vg_size: 20 * G,
            vg_free: 9 * G,
        }),
        busy: None,
        desired_state: DesiredStatus::InForce,
        pool: Some(PoolStatus {
            name: "vg1-pool".into(),
            size: 10 * G,
            data_percent: Some(40.0),
            metadata_size: Some(44 << 20),
            metadata_percent: Some(12.5),
            chunk_size: Some(64 << 10),
            health: Default::default(),
            autoextend: Some(AutoextendStatus {
                threshold_percent: 80.0,
                step: "10%".into(),
                max: "90%".into(),
                max_bytes: 18 * G,
                step_percent: Some(10.0),
                step_bytes: None,
            }),
            vg_mda_free: None,
            last_growth: None,
            cannot_grow: None,
            read_at: 1_800_000_005,
        }),
        progress: None,
        counters: PassCounters {
            converged: 4,
            pending: 1,
            blocked: 2,
            error: 0,
            lvm_commands: 40,
            last_success_at: Some(1_800_000_000),
        },
        volumes: None,
        exports: None,
    }
}

fn status(backends: Vec<BackendStatus>) -> DaemonStatus {
    DaemonStatus {
        pid: 1,
        ready: true,
        config_files: vec![],
        config_problems: vec![],
        config_changed: None,
        metrics_problem: None,
        backends,
    }
}

/// (name, labels) → value, and the families' HELP/TYPE, checked for the format's rules.
fn parse(text: &str) -> BTreeMap<String, f64> {
    let mut series = BTreeMap::new();
    let mut help = BTreeSet::new();
    let mut typed = BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            assert!(help.insert(name.to_string()), "HELP twice for {name}");
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split(' ');
            let name = it.next().unwrap();
            assert!(help.contains(name), "TYPE before HELP for {name}");
            assert!(matches!(it.next(), Some("gauge" | "counter")));
            assert!(typed.insert(name.to_string()), "TYPE twice for {name}");
        } else {
            let (key, value) = line.rsplit_once(' ').unwrap();
            let name = key.split('{').next().unwrap();
            assert!(typed.contains(name), "a sample of {name} before its TYPE");
            assert!(
                series
                    .insert(key.to_string(), value.parse().unwrap())
                    .is_none(),
                "duplicate series {key}"
            );
        }
    }
    assert!(text.ends_with('\n'));
    series
}

#[test]
fn every_series_has_help_and_type_and_appears_once() {
    let text = render(&status(vec![backend("lvm-1"), backend("lvm-2")]));
    let s = parse(&text);
    let v = |k: &str| *s.get(k).unwrap_or_else(|| panic!("{k} in\n{text}"));
    assert_eq!(v("ember_info{version=\"0.1.0\"}"), 1.0);
    assert_eq!(v("ember_backend_converged{backend=\"lvm-2\"}"), 1.0);
    assert_eq!(
        v("ember_backend_refusals{backend=\"lvm-1\",reason=\"over_subscription\"}"),
        1.0
    );
    assert_eq!(v("ember_pass_duration_seconds{backend=\"lvm-1\"}"), 1.5);
    assert_eq!(
        v("ember_passes_total{backend=\"lvm-1\",result=\"converged\"}"),
        4.0
    );
    assert_eq!(
        v("ember_passes_total{backend=\"lvm-1\",result=\"error\"}"),
        0.0
    );
    assert_eq!(v("ember_lvm_commands_total{backend=\"lvm-1\"}"), 40.0);
    assert_eq!(
        v("ember_volume_group_free_bytes{backend=\"lvm-1\",vg=\"vg1\"}"),
        (9 * G) as f64
    );
    assert_eq!(
        v("ember_thin_pool_data_usage_ratio{backend=\"lvm-1\",vg=\"vg1\",pool=\"vg1-pool\"}"),
        0.4
    );
    assert_eq!(
        v("ember_thin_pool_metadata_usage_ratio{backend=\"lvm-1\",vg=\"vg1\",pool=\"vg1-pool\"}"),
        0.125
    );
    assert_eq!(
        v("ember_thin_pool_autoextend_max_bytes{backend=\"lvm-1\",vg=\"vg1\",pool=\"vg1-pool\"}"),
        (18 * G) as f64
    );
    // ratio 20 x pool 10 GiB x (1 - 10%)
    assert_eq!(
        v("ember_provisioned_limit_bytes{backend=\"lvm-1\",vg=\"vg1\"}"),
        180.0 * G as f64
    );
    assert_eq!(
        v("ember_volumes{backend=\"lvm-1\",vg=\"vg1\",owner=\"other\"}"),
        2.0
    );
    assert_eq!(
        v("ember_snapshots{backend=\"lvm-1\",vg=\"vg1\",owner=\"ember\"}"),
        2.0
    );
    assert_eq!(v("ember_pass_actions_done{backend=\"lvm-1\"}"), 3.0);
    // integers are written as integers
    assert!(
        text.contains("ember_volume_group_size_bytes{backend=\"lvm-1\",vg=\"vg1\"} 21474836480\n")
    );
}

#[test]
fn a_pass_under_way_and_a_backend_with_nothing_yet() {
    let mut b = backend("lvm-1");
    b.progress = Some(PassProgress {
        done: 350,
        total: 1000,
        clearing: None,
    });
    b.state = WorkerState::Pending;
    let mut empty = backend("lvm-2");
    empty.last_pass = None;
    empty.capacity = None;
    empty.pool = None;
    empty.counters = PassCounters::default();
    empty.state = WorkerState::Starting;
    let s = parse(&render(&status(vec![b, empty])));
    assert_eq!(s["ember_pass_actions_done{backend=\"lvm-1\"}"], 350.0);
    assert_eq!(s["ember_pass_actions_planned{backend=\"lvm-1\"}"], 1000.0);
    assert_eq!(s["ember_backend_converged{backend=\"lvm-1\"}"], 0.0);
    assert_eq!(s["ember_backend_converged{backend=\"lvm-2\"}"], 0.0);
    assert!(
        !s.keys()
            .any(|k| k.contains("lvm-2") && k.contains("thin_pool"))
    );
    assert!(!s.contains_key("ember_last_success_timestamp_seconds{backend=\"lvm-2\"}"));
}

#[test]
fn label_values_are_escaped() {
    assert_eq!(escape_label(r#"a"b\c"#), r#"a\"b\\c"#);
    assert_eq!(escape_label("a\nb"), "a\\nb");
    let text = render(&status(vec![backend("we\"ird\\name")]));
    parse(&text);
    assert!(
        text.contains("ember_backend_converged{backend=\"we\\\"ird\\\\name\"} 1\n"),
        "{text}"
    );
}

#[test]
fn the_file_is_replaced_whole_with_mode_0644() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("ember.prom");
    file::write(&p, "a 1\n").unwrap();
    file::write(&p, "b 2\n").unwrap();
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "b 2\n");
    assert_eq!(
        std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
        0o644
    );
    // nothing else is left in the directory (no temporary file)
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    let e = file::write(&d.path().join("gone/ember.prom"), "x").unwrap_err();
    assert!(e.contains("gone/ember.prom"), "{e}");
}

#[test]
fn exports_count_volumes_hosts_and_iscsi_sessions() {
    use crate::status::{ExportedVolume, Session, Transport};
    let exported = |hosts: &[&str], sessions: Option<Vec<Session>>| ExportedVolume {
        volume: "v".into(),
        transport: Transport::Iscsi,
        target: "t".into(),
        hosts: hosts.iter().map(|h| h.to_string()).collect(),
        sessions,
    };
    let mut a = backend("lvm-1");
    let session = Session {
        host: "h1".into(),
        state: "LOGGED_IN".into(),
        addresses: vec!["10.0.0.7".into()],
    };
    a.exports = Some(crate::status::ExportsStatus {
        read_at: 1,
        transport: Transport::Iscsi,
        volumes: vec![
            exported(&["h1", "h2"], Some(vec![session])),
            exported(&[], Some(vec![])),
        ],
    });
    let mut b = backend("lvm-2");
    b.exports = Some(crate::status::ExportsStatus {
        read_at: 1,
        transport: Transport::NvmeTcp,
        volumes: vec![exported(&["nqn.x"], None)],
    });
    let text = render(&status(vec![a, b]));
    let s = parse(&text);
    let v = |k: &str| s.get(k).copied();
    let l1 = "backend=\"lvm-1\",transport=\"iscsi\"";
    let l2 = "backend=\"lvm-2\",transport=\"nvme_tcp\"";
    assert_eq!(v(&format!("ember_exported_volumes{{{l1}}}")), Some(2.0));
    assert_eq!(v(&format!("ember_export_hosts{{{l1}}}")), Some(2.0));
    assert_eq!(v(&format!("ember_export_sessions{{{l1}}}")), Some(1.0));
    assert_eq!(v(&format!("ember_exported_volumes{{{l2}}}")), Some(1.0));
    assert_eq!(v(&format!("ember_export_sessions{{{l2}}}")), None, "{text}");
}
