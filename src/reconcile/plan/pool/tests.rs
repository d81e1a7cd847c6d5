//! The pool's life in plans: declared growth of data and metadata, autoextend's growth within
//! its cap and the VG, the refusals at the cap, and the pool check's share of a plan.

use super::super::{Action, Growth, Plan, Policy, RefusalKind, WarningKind, plan, plan_pool_check};
use crate::config::LvmType;
use crate::lvm::{LvInfo, LvKind, Observed, VgInfo};
use crate::testkit::desired;

const G: u64 = 1 << 30;
const M: u64 = 1 << 20;
const POLICY: Policy = Policy {
    max_deletions_per_pass: 5,
    prune_grace: 600,
    now: 1_800_000_000,
    confirmed: false,
};

fn pool(size: u64, data: f64, meta_size: u64, meta: f64) -> LvInfo {
    let mut p = crate::testkit::lv("vg-pool", LvKind::ThinPool, size, Some("lvm-1"));
    p.data_percent = Some(data);
    p.metadata_size = Some(meta_size);
    p.metadata_percent = Some(meta);
    p
}

fn observed(free: u64, lvs: Vec<LvInfo>) -> Observed {
    Observed {
        pvs: vec![],
        vg: VgInfo {
            name: "vg".into(),
            size: 10 * G,
            free,
            extent_size: 4 * M,
            ..Default::default()
        },
        lvs,
    }
}

fn run(yaml: &str, o: &Observed) -> Plan {
    plan(
        &crate::testkit::backend("lvm-1", LvmType::Thin),
        &desired(yaml),
        o,
        &POLICY,
    )
}

const AUTO: &str = "thin_pool:\n  size: 1G\n  autoextend: { threshold: 80%, step: 25%, max: 2G }\n";

#[test]
fn below_the_threshold_a_grown_pool_is_converged() {
    // grown past `size` by autoextend earlier: not a shrink, nothing to do
    let p = run(
        AUTO,
        &observed(5 * G, vec![pool(1536 * M, 50.0, 64 * M, 5.0)]),
    );
    assert!(p.actions.is_empty() && p.refused.is_empty(), "{p:?}");
}

#[test]
fn past_the_threshold_data_grows_by_whole_steps() {
    let p = run(AUTO, &observed(5 * G, vec![pool(G, 90.0, 64 * M, 5.0)]));
    assert_eq!(p.actions.len(), 1, "{p:?}");
    let Action::ExtendPool {
        from, to, growth, ..
    } = &p.actions[0]
    else {
        panic!("{p:?}")
    };
    assert_eq!((from.0, to.0), (G, 1280 * M), "one step of 25%");
    assert!(matches!(growth, Growth::Usage { threshold, .. } if *threshold == 80.0));
    assert!(
        p.actions[0]
            .line()
            .contains("~ grow thin pool vg-pool data 1.0 GiB -> 1.25 GiB (usage 90% >= 80%)"),
        "{}",
        p.actions[0].line()
    );
}

#[test]
fn at_the_cap_it_warns_and_refuses_new_volumes_above_the_threshold() {
    let yaml = format!("{AUTO}volumes:\n  new: {{ size: 1G }}\n");
    let p = run(
        &yaml,
        &observed(5 * G, vec![pool(2 * G, 85.0, 64 * M, 5.0)]),
    );
    assert!(p.actions.is_empty(), "{p:?}");
    assert_eq!(p.refused.len(), 1);
    assert_eq!(p.refused[0].kind, RefusalKind::PoolAtCap);
    assert!(
        p.refused[0]
            .reason
            .contains("is at its cap: data 85% of 2.0 GiB, autoextend max 2.0 GiB"),
        "{:?}",
        p.refused
    );
    assert_eq!(p.warnings[0].kind, WarningKind::PoolCap);
    // grown to the cap in this plan, still above: grown, and the volume waits
    let p = run(
        &yaml,
        &observed(5 * G, vec![pool(1800 * M, 99.0, 64 * M, 5.0)]),
    );
    assert!(
        matches!(p.actions[0], Action::ExtendPool { to, .. } if to.0 == 2 * G),
        "{p:?}"
    );
    assert_eq!(p.refused[0].kind, RefusalKind::PoolAtCap);
}

#[test]
fn the_volume_group_bounds_growth_and_says_so() {
    let yaml = format!("{AUTO}volumes:\n  new: {{ size: 1G }}\n");
    let p = run(&yaml, &observed(100 * M, vec![pool(G, 95.0, 64 * M, 5.0)]));
    assert!(
        matches!(p.actions[0], Action::ExtendPool { to, .. } if to.0 == G + 100 * M),
        "{p:?}"
    );
    assert!(
        p.warnings[0]
            .message
            .contains("the volume group has 0 B free: it cannot grow to its cap 2.0 GiB"),
        "{:?}",
        p.warnings
    );
    assert_eq!(p.refused[0].kind, RefusalKind::PoolAtCap);
}

#[test]
fn the_cap_leaves_room_for_metadata_and_its_spare() {
    let yaml = "thin_pool:\n  size: 1G\n  autoextend: { threshold: 80%, step: 100%, max: 100% }\n";
    let p = run(
        yaml,
        &observed(5 * G, vec![pool(8 * G, 99.0, 512 * M, 5.0)]),
    );
    let Action::ExtendPool { to, .. } = &p.actions[0] else {
        panic!("{p:?}")
    };
    assert_eq!(to.0, 9 * G, "10 GiB less twice the metadata: {p:?}");
}

#[test]
fn metadata_grows_with_its_spare_when_declared_or_past_the_threshold() {
    let yaml = "thin_pool: { size: 1G, metadata_size: 128M }\n";
    let p = run(yaml, &observed(5 * G, vec![pool(G, 10.0, 64 * M, 5.0)]));
    assert!(
        matches!(&p.actions[0], Action::ExtendPoolMetadata { from, to, growth: Growth::Declared, .. } if from.0 == 64 * M && to.0 == 128 * M),
        "{p:?}"
    );
    // the spare grows too: 64 MiB more of each does not fit in 100 MiB
    let p = run(yaml, &observed(100 * M, vec![pool(G, 10.0, 64 * M, 5.0)]));
    assert!(p.actions.is_empty());
    assert!(
        p.refused[0]
            .reason
            .contains("needs 128.0 MiB free in the volume group (with its spare)"),
        "{p:?}"
    );
    // autoextend: 90% of 64 MiB, a 25% step brings it to 72%
    let p = run(AUTO, &observed(5 * G, vec![pool(G, 10.0, 64 * M, 90.0)]));
    assert!(
        matches!(&p.actions[0], Action::ExtendPoolMetadata { to, growth: Growth::Usage { .. }, .. } if to.0 == 80 * M),
        "{p:?}"
    );
    // smaller: refused without autoextend, converged with it
    let p = run(
        "thin_pool: { size: 1G, metadata_size: 32M }\n",
        &observed(5 * G, vec![pool(G, 10.0, 64 * M, 5.0)]),
    );
    assert_eq!(p.refused[0].kind, RefusalKind::Shrink);
    let p = run(
        "thin_pool:\n  size: 1G\n  metadata_size: 32M\n  autoextend: { threshold: 80%, step: 25%, max: 2G }\n",
        &observed(5 * G, vec![pool(G, 10.0, 64 * M, 5.0)]),
    );
    assert!(p.refused.is_empty() && p.actions.is_empty(), "{p:?}");
}

#[test]
fn metadata_near_lvms_limit_or_95_percent_takes_no_new_volume() {
    let yaml = "volumes:\n  new: { size: 1G }\n";
    // 4 MiB of metadata: lvm refuses from 75%
    let p = run(yaml, &observed(5 * G, vec![pool(G, 10.0, 4 * M, 76.0)]));
    assert_eq!(p.refused[0].kind, RefusalKind::PoolFull);
    assert!(
        p.refused[0]
            .reason
            .contains("(lvm refuses new thin volumes from 75% of a metadata of 4.0 MiB"),
        "{p:?}"
    );
    // 1 GiB of metadata: ember's 95%
    let p = run(yaml, &observed(5 * G, vec![pool(G, 10.0, G, 95.5)]));
    assert!(
        p.refused[0]
            .reason
            .contains("(ember takes no new or growing volumes from 95%)"),
        "{p:?}"
    );
    let p = run(yaml, &observed(5 * G, vec![pool(G, 10.0, G, 94.0)]));
    assert!(p.refused.is_empty(), "{p:?}");
}

#[test]
fn a_different_chunk_size_is_reported_not_acted_on() {
    let p = run(
        "thin_pool: { size: 1G, chunk_size: 128K }\n",
        &observed(5 * G, vec![pool(G, 10.0, 64 * M, 5.0)]),
    );
    assert!(p.actions.is_empty());
    assert_eq!(p.warnings[0].kind, WarningKind::PoolFixed);
    assert!(
        p.warnings[0]
            .message
            .contains("has chunk size 64.0 KiB, the desired state says 128.0 KiB")
    );
}

#[test]
fn a_new_pool_gets_the_declared_or_the_default_metadata_and_chunk() {
    let p = run(
        "thin_pool: { size: 1G, metadata_size: 100M, chunk_size: 256K }\n",
        &observed(5 * G, vec![]),
    );
    assert!(
        matches!(&p.actions[0], Action::CreatePool { metadata, chunk, .. } if metadata.0 == 100 * M && chunk.0 == 256 << 10),
        "{p:?}"
    );
    // the default is sized for the cap
    let p = run(
        "thin_pool:\n  size: 1G\n  autoextend: { threshold: 80%, step: 25%, max: 100G }\n",
        &observed(5 * G, vec![]),
    );
    let small = run("thin_pool: { size: 1G }\n", &observed(5 * G, vec![]));
    let meta = |p: &Plan| match &p.actions[0] {
        Action::CreatePool { metadata, .. } => metadata.0,
        a => panic!("{a:?}"),
    };
    assert!(meta(&p) > meta(&small), "{p:?} {small:?}");
    // the VG must hold the data, the metadata and the spare
    let p = run(
        "thin_pool: { size: 1G, metadata_size: 100M }\n",
        &observed(G + 150 * M, vec![]),
    );
    assert!(
        p.refused[0]
            .reason
            .contains("with its metadata 100.0 MiB and the spare"),
        "{p:?}"
    );
}

#[test]
fn the_pool_check_plans_only_automatic_growth() {
    // a declared size the pool has not reached yet waits for a pass; usage past the threshold
    // does not
    let yaml = "thin_pool:\n  size: 1536M\n  metadata_size: 128M\n  autoextend: { threshold: 80%, step: 25%, max: 4G }\nvolumes:\n  new: { size: 1G }\n";
    let cfg = crate::testkit::backend("lvm-1", LvmType::Thin);
    let o = observed(5 * G, vec![pool(G, 10.0, 64 * M, 5.0)]);
    assert!(
        plan_pool_check(&cfg, &desired(yaml), &o, POLICY.now)
            .actions
            .is_empty()
    );
    let o = observed(5 * G, vec![pool(G, 90.0, 64 * M, 5.0)]);
    let p = plan_pool_check(&cfg, &desired(yaml), &o, POLICY.now);
    assert_eq!(p.actions.len(), 1, "{p:?}");
    assert!(matches!(
        &p.actions[0],
        Action::ExtendPool {
            growth: Growth::Usage { .. },
            ..
        }
    ));
    // a pool that needs a repair gets nothing, not even growth
    let mut bad = pool(G, 90.0, 64 * M, 5.0);
    bad.health = crate::lvm::attr::Health::MetadataReadOnly;
    assert!(
        plan_pool_check(
            &cfg,
            &desired(yaml),
            &observed(5 * G, vec![bad]),
            POLICY.now
        )
        .actions
        .is_empty()
    );
}

#[test]
fn the_volume_groups_metadata_area_bounds_creations() {
    // 100 volumes besides the pool: 50 500 bytes of text, 495 a volume (742 with the margin);
    // 1600 bytes left: two more fit, the third does not
    let mut lvs = vec![pool(G, 10.0, 64 * M, 5.0)];
    lvs.extend((0..100).map(|i| crate::testkit::lv(&format!("x{i}"), LvKind::Thin, M, None)));
    let mut o = observed(5 * G, lvs);
    o.vg.mda_size = Some((50_500 + 1600 + 512) * 2 + 512);
    o.vg.mda_free = Some(1600);
    let p = run(
        "volumes:\n  a: { size: 1G }\n  b: { size: 1G }\n  c: { size: 1G }\n",
        &o,
    );
    let made: Vec<_> = p.actions.iter().map(|a| a.subject().to_string()).collect();
    let refused: Vec<_> = p.refused.iter().map(|r| r.subject.as_str()).collect();
    assert_eq!(made, ["a", "b"], "{p:?}");
    assert_eq!(refused, ["c"], "{p:?}");
    assert_eq!(p.refused[0].kind, RefusalKind::VgMetadataFull);
    assert!(
        p.refused[0].reason.contains(
            "the volume group's metadata area has 1.56 KiB free and another LV takes about 742 B"
        ),
        "{p:?}"
    );
    // a pool that does not fit takes its volumes with it
    let mut o = observed(5 * G, vec![]);
    o.vg.mda_size = Some(1 << 20);
    o.vg.mda_free = Some(1000);
    let p = run("volumes:\n  a: { size: 1G }\n", &o);
    assert!(p.actions.is_empty(), "{p:?}");
    assert_eq!(p.refused.len(), 2, "{p:?}");
}

#[test]
fn a_pool_is_not_created_past_its_cap_and_the_cap_is_never_rounded_up() {
    // 4 MiB extents: a cap of 1030M is 1028 MiB, not 1032
    let p = run(
        "thin_pool:\n  size: 1G\n  autoextend: { threshold: 80%, step: 100%, max: 1030M }\n",
        &observed(5 * G, vec![pool(G, 99.0, 64 * M, 5.0)]),
    );
    assert!(
        matches!(p.actions[0], Action::ExtendPool { to, .. } if to.0 == 1028 * M),
        "{p:?}"
    );
    // a size in % and a cap in bytes cannot be compared until the VG is known
    let p = run(
        "thin_pool:\n  size: 50%\n  autoextend: { threshold: 80%, step: 10%, max: 2G }\n",
        &observed(9 * G, vec![]),
    );
    assert!(p.actions.is_empty(), "{p:?}");
    assert_eq!(p.refused[0].kind, RefusalKind::PoolAtCap);
    assert!(
        p.refused[0]
            .reason
            .contains("thin_pool size 5.0 GiB is more than autoextend max 2.0 GiB"),
        "{p:?}"
    );
}

#[test]
fn metadata_grows_before_data_takes_the_last_of_the_vg() {
    // both past the threshold, room for only one of them: the metadata gets it
    let p = run(AUTO, &observed(32 * M, vec![pool(G, 95.0, 64 * M, 90.0)]));
    assert!(
        matches!(&p.actions[..], [Action::ExtendPoolMetadata { to, .. }] if to.0 == 80 * M),
        "{p:?}"
    );
    assert!(
        p.warnings
            .iter()
            .any(|w| w.message.contains("cannot grow to its cap")),
        "{p:?}"
    );
}

#[test]
fn metadata_is_grown_before_data_in_the_plan_and_the_pool_check() {
    // both past the threshold with room for both: the metadata's lvextend comes first (apply
    // runs the plan's order), in a pass and in the daemon's pool check alike
    let o = observed(5 * G, vec![pool(G, 95.0, 64 * M, 90.0)]);
    let p = run(AUTO, &o);
    assert!(
        matches!(
            &p.actions[..],
            [Action::ExtendPoolMetadata { .. }, Action::ExtendPool { .. }]
        ),
        "{p:?}"
    );
    let cfg = crate::testkit::backend("lvm-1", LvmType::Thin);
    let p = plan_pool_check(&cfg, &desired(AUTO), &o, POLICY.now);
    assert!(
        matches!(
            &p.actions[..],
            [Action::ExtendPoolMetadata { .. }, Action::ExtendPool { .. }]
        ),
        "{p:?}"
    );
    // declared sizes too
    let p = run(
        "thin_pool: { size: 2G, metadata_size: 128M }\n",
        &observed(5 * G, vec![pool(G, 10.0, 64 * M, 5.0)]),
    );
    assert!(
        matches!(
            &p.actions[..],
            [
                Action::ExtendPoolMetadata {
                    growth: Growth::Declared,
                    ..
                },
                Action::ExtendPool {
                    growth: Growth::Declared,
                    ..
                }
            ]
        ),
        "{p:?}"
    );
}
