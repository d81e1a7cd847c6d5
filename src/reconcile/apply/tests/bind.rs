//! Writes bound to the LVs the plan saw: a name re-used between the plan and its application.
use super::*;

/// Plans made; then, behind ember's back, each LV they would change removed and made again
/// under the same name (with ember's tags: only the UUID tells it apart); then the plans
/// applied. Every write is reported failed, naming the LV and the UUID planned, and the new LVs
/// are untouched. (Two plans: a failed deletion holds back the pass's growth.)
#[test]
fn a_name_re_used_between_plan_and_apply_is_never_written() {
    let (_d, lvm, vg, pool) = sim(&[]);
    let mine = [Tag::managed(), Tag::backend("b")];
    for name in ["x", "y", "z", "w"] {
        lvm.create_volume(
            &vg,
            &LvName::new(name).unwrap(),
            Bytes(64 * M),
            Some(&pool),
            &mine,
        )
        .unwrap();
    }
    let cfg = crate::testkit::backend("b", crate::config::LvmType::Thin);
    let policy = crate::reconcile::Policy {
        max_deletions_per_pass: 5,
        prune_grace: 600,
        now: 1_800_000_000,
        confirmed: false,
    };
    let plan_for = |yaml: &str| {
        let o = lvm.observe(&vg).unwrap().unwrap();
        crate::reconcile::plan(&cfg, &crate::testkit::desired(yaml), &o, &policy)
    };
    let deletes =
        "prune: true\nvolumes:\n  x: {state: absent}\n  y: {size: 64M}\n  w: {size: 64M}\n";
    let extends = "volumes:\n  y: {size: 128M}\n";
    let stale = [plan_for(deletes), plan_for(extends)];
    let verbs = |p: &Plan| -> Vec<(&str, String)> {
        p.actions
            .iter()
            .map(|a| (a.verb(), a.subject().to_string()))
            .collect()
    };
    assert_eq!(
        verbs(&stale[0]),
        [
            ("mark_volume", "z".to_string()),
            ("delete_volume", "x".into())
        ]
    );
    assert_eq!(verbs(&stale[1]), [("extend_volume", "y".to_string())]);
    // another tool: each removed and made again, with ember's tags and a marker
    let mut marked = mine.to_vec();
    marked.push(Tag::new("marker").unwrap());
    for name in ["x", "y", "z"] {
        let now = lvm
            .observe(&vg)
            .unwrap()
            .unwrap()
            .lv(name)
            .unwrap()
            .reference();
        lvm.remove(&vg, &now).unwrap();
        lvm.create_volume(&vg, &now.name, Bytes(64 * M), Some(&pool), &marked)
            .unwrap();
    }
    let before = lvm.load().unwrap().vgs["vg"].clone();
    for plan in &stale {
        let out = apply_plan(&lvm, &vg, plan, &pool);
        assert!(out.done.is_empty() && out.skipped.is_empty(), "{out:?}");
        assert_eq!(out.failed.len(), plan.actions.len(), "{out:?}");
        for f in &out.failed {
            let planned = f.action.target().unwrap();
            assert!(
                f.error.starts_with(&format!(
                    "vg/{} is no longer the LV that was planned (uuid {})",
                    planned.name, planned.uuid
                )) && f.error.ends_with("nothing done; the next pass reads again"),
                "{f:?}"
            );
        }
    }
    let after = lvm.load().unwrap().vgs["vg"].clone();
    for name in ["x", "y", "z", "w", "keep"] {
        let (b, a) = (&before.lvs[name], &after.lvs[name]);
        assert_eq!(
            (&a.uuid, a.size, &a.tags),
            (&b.uuid, b.size, &b.tags),
            "{name} untouched"
        );
    }
    assert_eq!(after.lvs["y"].size, 64 * M);
    assert!(after.lvs["z"].tags.contains(&"marker".to_string()));
    // read again, the same plans are made and carried out
    let plan = plan_for(deletes);
    let out = apply_plan(&lvm, &vg, &plan, &pool);
    assert!(out.ok() && out.done.len() == 2, "{out:?}");
    let o = lvm.observe(&vg).unwrap().unwrap();
    assert!(o.lv("x").is_none() && o.lv("z").unwrap().marked_since().is_some());
    let plan = plan_for(extends);
    let out = apply_plan(&lvm, &vg, &plan, &pool);
    assert!(out.ok(), "{out:?}");
    assert_eq!(
        lvm.observe(&vg).unwrap().unwrap().lv("y").unwrap().size,
        128 * M
    );
}

/// The pool's growth is bound to the pool the plan saw, as any other write.
#[test]
fn the_pools_growth_is_bound_to_the_pool_planned() {
    let (_d, lvm, vg, pool) = sim(&[]);
    let o = lvm.observe(&vg).unwrap().unwrap();
    let uuid = o.lv(pool.as_str()).unwrap().uuid.clone();
    let other = crate::names::LvUuid::new(&crate::lvm::sim::uuid_of("another pool")).unwrap();
    let grow = |uuid: &crate::names::LvUuid| Plan {
        actions: vec![
            Action::ExtendPoolMetadata {
                pool: pool.clone(),
                uuid: uuid.clone(),
                from: Bytes(4 * M),
                to: Bytes(8 * M),
                growth: crate::reconcile::plan::Growth::Declared,
            },
            Action::ExtendPool {
                pool: pool.clone(),
                uuid: uuid.clone(),
                from: Bytes(256 * M),
                to: Bytes(512 * M),
                growth: crate::reconcile::plan::Growth::Declared,
            },
        ],
        ..Plan::new("b", "vg", 0)
    };
    let out = apply_plan(&lvm, &vg, &grow(&other), &pool);
    assert_eq!(out.failed.len(), 2, "{out:?}");
    for f in &out.failed {
        assert!(
            f.error.contains("is no longer the LV that was planned"),
            "{f:?}"
        );
    }
    assert_eq!(
        lvm.observe(&vg)
            .unwrap()
            .unwrap()
            .lv("vg-pool")
            .unwrap()
            .size,
        256 * M
    );
    let out = apply_plan(&lvm, &vg, &grow(&uuid), &pool);
    assert!(out.ok(), "{out:?}");
    assert_eq!(
        lvm.observe(&vg)
            .unwrap()
            .unwrap()
            .lv("vg-pool")
            .unwrap()
            .size,
        512 * M
    );
}
