use super::*;
use crate::config::LvmType;
use crate::lvm::{LvKind, VgInfo};

const G: u64 = 1 << 30;
const M: u64 = 1 << 20;

fn cfg(lvm_type: LvmType) -> BackendConfig {
    crate::testkit::backend("lvm-1", lvm_type)
}

use crate::testkit::desired;

fn lv(name: &str, kind: LvKind, size: u64, owned: bool) -> LvInfo {
    crate::testkit::lv(name, kind, size, owned.then_some("lvm-1"))
}

fn observed(free: u64, lvs: Vec<LvInfo>) -> Observed {
    Observed {
        pvs: vec![],
        vg: VgInfo {
            name: "vg".into(),
            size: 100 * G,
            free,
            extent_size: 4 * M,
            ..Default::default()
        },
        lvs,
    }
}

/// Deletes at once (no grace period), as before marks existed: the tests of the other rules.
const POLICY: Policy = Policy {
    max_deletions_per_pass: 5,
    prune_grace: 0,
    now: NOW,
    confirmed: false,
};
const NOW: u64 = 1_800_000_000;

#[test]
fn from_nothing_creates_pool_then_volumes() {
    let p = plan(
        &cfg(LvmType::Auto),
        &desired("thin_pool: {size: 50%}\nvolumes:\n  b: {size: 1G}\n  a: {size: 1B}\n"),
        &observed(100 * G, vec![]),
        &POLICY,
    );
    assert_eq!(
        p.actions,
        vec![
            Action::CreatePool {
                pool: LvName::new("vg-pool").unwrap(),
                size: Bytes(50 * G),
                // room for 5000 thin volumes beside a full pool's mappings (1.5 x 44.8 MiB +
                // 8 MiB, whole extents)
                metadata: Bytes(76 * M),
                chunk: Bytes(64 << 10),
            },
            Action::CreateVolume {
                volume: LvName::new("a").unwrap(),
                size: Bytes(4 * M),
                thin: true
            },
            Action::CreateVolume {
                volume: LvName::new("b").unwrap(),
                size: Bytes(G),
                thin: true
            },
        ]
    );
    assert!(p.refused.is_empty());
}

#[test]
fn default_pool_is_95_percent_of_free_space() {
    let p = plan(
        &cfg(LvmType::Thin),
        &desired("volumes:\n  a: {size: 1G}\n"),
        &observed(40 * G, vec![]),
        &POLICY,
    );
    assert_eq!(
        p.actions[0],
        Action::CreatePool {
            pool: LvName::new("vg-pool").unwrap(),
            size: Bytes(38 * G),
            metadata: Bytes(68 * M),
            chunk: Bytes(64 << 10),
        }
    );
}

#[test]
fn converged_state_plans_nothing_despite_rounding() {
    let o = observed(
        10 * G,
        vec![
            lv("vg-pool", LvKind::ThinPool, 50 * G, false),
            lv("a", LvKind::Thin, 4 * M, true),
        ],
    );
    // 1 byte rounds up to the 4 MiB extent the LV already has; 50% of 100G is the pool's size
    let p = plan(
        &cfg(LvmType::Auto),
        &desired("thin_pool: {size: 50%}\nvolumes:\n  a: {size: 1B}\n"),
        &o,
        &POLICY,
    );
    assert!(!p.has_changes(), "{p:?}");
    assert!(p.refused.is_empty());
}

#[test]
fn shrink_is_refused_and_nothing_happens() {
    let o = observed(
        10 * G,
        vec![
            lv("vg-pool", LvKind::ThinPool, 50 * G, false),
            lv("a", LvKind::Thin, 20 * G, true),
        ],
    );
    let p = plan(
        &cfg(LvmType::Auto),
        &desired("thin_pool: {size: 10G}\nvolumes:\n  a: {size: 10G}\n"),
        &o,
        &POLICY,
    );
    assert!(p.actions.is_empty());
    let kinds: Vec<_> = p
        .refused
        .iter()
        .map(|r| (r.subject.as_str(), r.kind))
        .collect();
    assert_eq!(
        kinds,
        [("a", RefusalKind::Shrink), ("vg-pool", RefusalKind::Shrink)]
    );
    assert!(p.refused[0].reason.contains("never shrinks"));
}

#[test]
fn grows_pool_and_volume() {
    let o = observed(
        40 * G,
        vec![
            lv("vg-pool", LvKind::ThinPool, 50 * G, true),
            lv("a", LvKind::Thin, G, true),
        ],
    );
    let p = plan(
        &cfg(LvmType::Auto),
        &desired("thin_pool: {size: 60%}\nvolumes:\n  a: {size: 2G}\n"),
        &o,
        &POLICY,
    );
    assert_eq!(
        p.actions,
        vec![
            Action::ExtendPool {
                pool: LvName::new("vg-pool").unwrap(),
                uuid: crate::testkit::uuid("vg-pool"),
                from: Bytes(50 * G),
                to: Bytes(60 * G),
                growth: Growth::Declared,
            },
            Action::ExtendVolume {
                volume: LvName::new("a").unwrap(),
                uuid: crate::testkit::uuid("a"),
                from: Bytes(G),
                to: Bytes(2 * G)
            },
        ]
    );
}

#[test]
fn pool_growth_beyond_free_space_is_refused() {
    let o = observed(5 * G, vec![lv("vg-pool", LvKind::ThinPool, 50 * G, true)]);
    let p = plan(
        &cfg(LvmType::Auto),
        &desired("thin_pool: {size: 60%}\n"),
        &o,
        &POLICY,
    );
    assert!(p.actions.is_empty());
    assert_eq!(p.refused[0].kind, RefusalKind::InsufficientSpace);
}

#[test]
fn foreign_lvs_are_never_touched() {
    let o = observed(
        10 * G,
        vec![
            lv("vg-pool", LvKind::ThinPool, 50 * G, false),
            lv("a", LvKind::Thin, G, false),
            lv("b", LvKind::Thin, G, false),
            lv("c", LvKind::Linear, G, false),
        ],
    );
    let p = plan(
        &cfg(LvmType::Auto),
        &desired("prune: true\nvolumes:\n  a: {size: 5G}\n  b: {state: absent}\n"),
        &o,
        &POLICY,
    );
    assert!(p.actions.is_empty(), "{p:?}");
    assert_eq!(
        p.refused.iter().map(|r| r.kind).collect::<Vec<_>>(),
        [RefusalKind::Foreign, RefusalKind::Foreign]
    );
}

#[test]
fn deletes_only_absent_or_pruned_owned_volumes() {
    let o = observed(
        10 * G,
        vec![
            lv("vg-pool", LvKind::ThinPool, 50 * G, true),
            lv("keep", LvKind::Thin, G, true),
            lv("undeclared", LvKind::Thin, G, true),
            lv("gone", LvKind::Thin, G, true),
        ],
    );
    let p = plan(
        &cfg(LvmType::Auto),
        &desired("volumes:\n  keep: {size: 1G}\n  gone: {state: absent}\n"),
        &o,
        &POLICY,
    );
    assert_eq!(
        p.actions,
        vec![Action::DeleteVolume {
            volume: LvName::new("gone").unwrap(),
            uuid: crate::testkit::uuid("gone"),
            size: Bytes(G),
            reason: DeleteReason::Absent,
            snapshots: vec![],
            clear: None,
        }]
    );
    let p = plan(
        &cfg(LvmType::Auto),
        &desired("prune: true\nvolumes:\n  keep: {size: 1G}\n"),
        &o,
        &POLICY,
    );
    let deleted: Vec<_> = p.actions.iter().map(|a| a.subject().to_string()).collect();
    assert_eq!(deleted, ["gone", "undeclared"], "the pool is never pruned");
}

#[test]
fn deletions_over_the_cap_are_refused() {
    let mut lvs = vec![lv("vg-pool", LvKind::ThinPool, 50 * G, true)];
    let mut yaml = String::from("volumes:\n");
    for i in 0..8 {
        lvs.push(lv(&format!("v{i}"), LvKind::Thin, G, true));
        yaml.push_str(&format!("  v{i}: {{state: absent}}\n"));
    }
    let p_lvs = || lvs.clone();
    let p = plan(
        &cfg(LvmType::Auto),
        &desired(&yaml),
        &observed(10 * G, p_lvs()),
        &Policy {
            max_deletions_per_pass: 3,
            ..POLICY
        },
    );
    assert!(
        p.actions.is_empty(),
        "over the cap: a circuit breaker, nothing is deleted"
    );
    assert_eq!(p.refused.len(), 8);
    assert!(p.refused.iter().all(|r| r.kind == RefusalKind::DeletionCap));
    assert!(
        p.refused[0].reason.contains("8 deletions planned"),
        "{}",
        p.refused[0].reason
    );
    let p = plan(
        &cfg(LvmType::Auto),
        &desired(&yaml),
        &observed(10 * G, p_lvs()),
        &Policy {
            max_deletions_per_pass: 8,
            ..POLICY
        },
    );
    assert_eq!(p.actions.len(), 8);
    assert!(p.actions.iter().all(Action::is_destructive));
}

#[test]
fn over_subscription_refuses_only_what_does_not_fit() {
    let mut c = cfg(LvmType::Auto);
    c.max_over_subscription_ratio = Ratio::Fixed(2.0);
    // pool 10G, ratio 2 => 20G; 15G already provisioned (5G foreign counts too)
    let o = observed(
        10 * G,
        vec![
            lv("vg-pool", LvKind::ThinPool, 10 * G, true),
            lv("x", LvKind::Thin, 10 * G, true),
            lv("f", LvKind::Thin, 5 * G, false),
        ],
    );
    let p = plan(
        &c,
        &desired("volumes:\n  x: {size: 10G}\n  a: {size: 3G}\n  b: {size: 3G}\n  c: {size: 2G}\n"),
        &o,
        &POLICY,
    );
    let created: Vec<_> = p.actions.iter().map(|a| a.subject().to_string()).collect();
    assert_eq!(
        created,
        ["a", "c"],
        "a fits (18G), b would make 21G, c fits (20G)"
    );
    assert_eq!(p.refused.len(), 1);
    assert_eq!(p.refused[0].kind, RefusalKind::OverSubscription);
    assert!(
        p.refused[0].reason.contains("ratio 2.00"),
        "{}",
        p.refused[0].reason
    );
}

#[test]
fn reserved_percentage_lowers_the_limit_and_deletions_free_budget() {
    let mut c = cfg(LvmType::Auto);
    c.max_over_subscription_ratio = Ratio::Fixed(1.0);
    c.reserved_percentage = 50;
    let o = observed(
        10 * G,
        vec![
            lv("vg-pool", LvKind::ThinPool, 10 * G, true),
            lv("old", LvKind::Thin, 5 * G, true),
        ],
    );
    let p = plan(&c, &desired("volumes:\n  new: {size: 5G}\n"), &o, &POLICY);
    assert_eq!(p.refused[0].kind, RefusalKind::OverSubscription);
    let p = plan(
        &c,
        &desired("volumes:\n  old: {state: absent}\n  new: {size: 5G}\n"),
        &o,
        &POLICY,
    );
    assert_eq!(p.actions.len(), 2, "{p:?}");
}

#[test]
fn auto_ratio_follows_cinder() {
    assert_eq!(effective_ratio(Ratio::Auto, None, 0), 20.0);
    let mut pool = lv("vg-pool", LvKind::ThinPool, 10 * G, true);
    pool.data_percent = Some(10.0); // 1 GiB used
    assert!((effective_ratio(Ratio::Auto, Some(&pool), 4 * G) - 3.0).abs() < 1e-9);
}

#[test]
fn thick_backend_makes_linear_volumes_within_free_space() {
    let mut c = cfg(LvmType::Default);
    c.reserved_percentage = 10; // 10G of 100G
    let p = plan(
        &c,
        &desired("volumes:\n  a: {size: 5G}\n  b: {size: 10G}\n"),
        &observed(20 * G, vec![]),
        &POLICY,
    );
    assert_eq!(
        p.actions,
        vec![Action::CreateVolume {
            volume: LvName::new("a").unwrap(),
            size: Bytes(5 * G),
            thin: false
        }]
    );
    assert_eq!(p.refused[0].kind, RefusalKind::InsufficientSpace);
}

#[test]
fn wrong_kind_is_refused() {
    let o = observed(
        10 * G,
        vec![
            lv("vg-pool", LvKind::ThinPool, 50 * G, true),
            lv("a", LvKind::Linear, G, true),
        ],
    );
    let p = plan(
        &cfg(LvmType::Auto),
        &desired("volumes:\n  a: {size: 2G}\n"),
        &o,
        &POLICY,
    );
    assert_eq!(p.refused[0].kind, RefusalKind::WrongKind);
    let o = observed(10 * G, vec![lv("vg-pool", LvKind::Linear, 50 * G, false)]);
    let p = plan(
        &cfg(LvmType::Auto),
        &desired("volumes:\n  a: {size: 2G}\n"),
        &o,
        &POLICY,
    );
    assert!(p.actions.is_empty());
    assert_eq!(
        p.refused.iter().map(|r| r.kind).collect::<Vec<_>>(),
        [RefusalKind::WrongKind, RefusalKind::PoolUnavailable]
    );
}

#[test]
fn nothing_declared_means_nothing_done() {
    let p = plan(
        &cfg(LvmType::Auto),
        &desired("{}"),
        &observed(10 * G, vec![lv("x", LvKind::Thin, G, true)]),
        &POLICY,
    );
    assert!(p.actions.is_empty() && p.refused.is_empty());
}

#[test]
fn deletions_free_space_for_the_pool_in_the_same_pass() {
    // found by the property test: an owned thick volume pruned to make room for the pool
    let o = observed(2 * G, vec![lv("old", LvKind::Linear, 98 * G, true)]);
    let p = plan(
        &cfg(LvmType::Thin),
        // (`volumes: {}`: a prune of every volume must be said explicitly)
        &desired("prune: true\nthin_pool: {size: 50%}\nvolumes: {}\n"),
        &o,
        // (and it declares none of the backend's volumes: confirmed)
        &Policy {
            confirmed: true,
            ..POLICY
        },
    );
    assert!(matches!(p.actions[0], Action::DeleteVolume { .. }), "{p:?}");
    assert!(matches!(p.actions[1], Action::CreatePool { .. }), "{p:?}");
    assert!(p.refused.is_empty());
}

#[test]
fn a_full_pool_takes_no_more_until_it_grows() {
    let mut pool = lv("vg-pool", LvKind::ThinPool, 10 * G, true);
    pool.data_percent = Some(100.0);
    pool.metadata_percent = Some(20.0);
    let o = observed(
        50 * G,
        vec![
            pool.clone(),
            lv("a", LvKind::Thin, G, true),
            lv("gone", LvKind::Thin, G, true),
        ],
    );
    let p = plan(
        &cfg(LvmType::Auto),
        &desired("volumes:\n  a: {size: 2G}\n  b: {size: 1G}\n  gone: {state: absent}\n"),
        &o,
        &POLICY,
    );
    assert_eq!(p.actions.len(), 1, "the deletion still happens: {p:?}");
    assert!(p.actions[0].is_destructive());
    assert_eq!(
        p.refused.iter().map(|r| r.kind).collect::<Vec<_>>(),
        [RefusalKind::PoolFull, RefusalKind::PoolFull]
    );
    assert!(
        p.refused[0].reason.contains("full (data 100.00%)"),
        "{}",
        p.refused[0].reason
    );
    // growing the pool in the same pass makes room
    let p = plan(
        &cfg(LvmType::Auto),
        &desired("thin_pool: {size: 20G}\nvolumes:\n  a: {size: 1G}\n  b: {size: 1G}\n"),
        &o,
        &POLICY,
    );
    assert_eq!(p.actions.len(), 2, "{p:?}");
    // full metadata
    pool.data_percent = Some(10.0);
    pool.metadata_percent = Some(97.0);
    let o = observed(50 * G, vec![pool]);
    let p = plan(
        &cfg(LvmType::Auto),
        &desired("volumes:\n  b: {size: 1G}\n"),
        &o,
        &POLICY,
    );
    assert!(p.actions.is_empty());
    assert!(
        p.refused[0].reason.contains("metadata is 97.00% full"),
        "{}",
        p.refused[0].reason
    );
}

mod activate;
