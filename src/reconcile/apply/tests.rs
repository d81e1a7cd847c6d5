use super::*;
use crate::lvm::sim::{SimLvm, SimState, SimVg};
use crate::lvm::{LvKind, LvmRead};
use crate::size::Bytes;

const M: u64 = 1 << 20;

/// `plan` applied to `vg` with `pool`, default options, never told to stop.
fn apply_plan(lvm: &dyn LvmWrite, vg: &VgName, plan: &Plan, pool: &LvName) -> Outcome {
    apply(
        lvm,
        vg,
        plan,
        Some(pool),
        Options::default(),
        &AtomicBool::new(false),
    )
}

/// A simulated VG with a pool, a healthy volume `keep`, and the named volumes inactive and
/// unknown to the pool, on ember's record of creations under way (what a power cut during
/// `lvcreate` leaves).
fn sim(half_created: &[&str]) -> (tempfile::TempDir, SimLvm, VgName, LvName) {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("lvm.json");
    let lvm = SimLvm::open(&path);
    let mut state = SimState::default();
    state.vgs.insert("vg".into(), SimVg::new(1 << 30));
    lvm.save(&state).unwrap();
    let vg = VgName::new("vg").unwrap();
    let pool = LvName::new("vg-pool").unwrap();
    let spec = crate::lvm::PoolCreate {
        size: Bytes(256 * M),
        metadata: Bytes(4 * M),
        chunk: Bytes(64 << 10),
    };
    lvm.create_thin_pool(&vg, &pool, &spec, &[Tag::managed()])
        .unwrap();
    for name in std::iter::once(&"keep").chain(half_created) {
        let n = LvName::new(name).unwrap();
        lvm.create_volume(&vg, &n, Bytes(64 * M), Some(&pool), &[Tag::managed()])
            .unwrap();
    }
    let mut state = lvm.load().unwrap();
    for name in half_created {
        let v = state.vgs.get_mut("vg").unwrap();
        let l = v.lvs.get_mut(*name).unwrap();
        l.active = false;
        l.unknown_to_pool = true;
        v.in_flight.push(name.to_string());
    }
    lvm.save(&state).unwrap();
    (d, lvm, vg, pool)
}

/// The UUID of `name` in the simulated VG (as a plan would have read it).
fn uuid(lvm: &SimLvm, name: &str) -> crate::names::LvUuid {
    let st = lvm.load().unwrap();
    let u = st.vgs["vg"]
        .lvs
        .get(name)
        .map_or_else(|| crate::lvm::sim::uuid_of(name), |l| l.uuid_of(name));
    crate::names::LvUuid::new(&u).unwrap()
}

fn activations(lvm: &SimLvm, names: &[&str]) -> Plan {
    let mut actions: Vec<Action> = names
        .iter()
        .map(|n| Action::ActivateVolume {
            volume: LvName::new(n).unwrap(),
            uuid: Some(uuid(lvm, n)),
            size: Bytes(64 * M),
            thin: true,
        })
        .collect();
    actions.push(Action::CreateVolume {
        volume: LvName::new("new").unwrap(),
        size: Bytes(64 * M),
        thin: true,
    });
    // (what is on record, as a pass finds it beside its read)
    let in_flight = lvm.in_flight(&VgName::new("vg").unwrap());
    Plan {
        actions,
        in_flight,
        ..Plan::new("b", "vg", 0)
    }
}

#[test]
fn one_half_created_volume_is_recreated_before_anything_new() {
    let (_d, lvm, vg, pool) = sim(&["half"]);
    let out = apply_plan(&lvm, &vg, &activations(&lvm, &["half"]), &pool);
    assert!(out.ok(), "{out:?}");
    let verbs: Vec<&str> = out.done.iter().map(Action::verb).collect();
    assert_eq!(verbs, ["recreate_volume", "create_volume"]);
    let o = lvm.observe(&vg).unwrap().unwrap();
    let half = o.lv("half").unwrap();
    assert!(half.active && half.is_owned() && half.kind == LvKind::Thin);
    assert_eq!(half.size, 64 * M);
    assert!(o.lv("keep").is_some() && o.lv("new").is_some());
    let st = lvm.load().unwrap();
    assert!(
        !st.vgs["vg"].lvs["half"].unknown_to_pool,
        "a fresh thin device"
    );
    assert!(
        st.vgs["vg"].in_flight.is_empty(),
        "off the record once made"
    );
}

#[test]
fn several_half_created_volumes_are_not_what_a_crash_leaves_and_nothing_is_done_to_them() {
    let (_d, lvm, vg, pool) = sim(&["h1", "h2"]);
    let out = apply_plan(&lvm, &vg, &activations(&lvm, &["h1", "h2"]), &pool);
    assert_eq!(out.failed.len(), 2, "{out:?}");
    assert!(
        out.failed[0].error.contains("a crash leaves at most one"),
        "{out:?}"
    );
    let st = lvm.load().unwrap();
    for n in ["h1", "h2"] {
        let l = &st.vgs["vg"].lvs[n];
        assert!(l.unknown_to_pool && !l.active, "{n} left as it was");
    }
    // the rest of the pass still runs
    assert_eq!(
        out.done.iter().map(Action::verb).collect::<Vec<_>>(),
        ["create_volume"]
    );
}

#[test]
fn an_activation_that_fails_otherwise_is_reported_and_never_mended() {
    let (_d, lvm, vg, pool) = sim(&[]);
    let plan = activations(&lvm, &["missing"]);
    let out = apply_plan(&lvm, &vg, &plan, &pool);
    assert_eq!(out.failed.len(), 1);
    assert_eq!(out.failed[0].action.verb(), "activate_volume");
    assert!(lvm.observe(&vg).unwrap().unwrap().lv("missing").is_none());
}

#[test]
fn thin_volumes_created_inactive_are_activated_together_at_the_end() {
    let (_d, lvm, vg, pool) = sim(&[]);
    let n = 2 * crate::lvm::ACTIVATE_CHUNK + 3;
    let plan = Plan {
        actions: (0..n)
            .map(|i| Action::CreateVolume {
                volume: LvName::new(&format!("v{i:03}")).unwrap(),
                size: Bytes(4 * M),
                thin: true,
            })
            .collect(),
        ..Plan::new("b", "vg", 0)
    };
    let calls = lvm.calls();
    let opts = Options {
        create_inactive: true,
        ..Options::default()
    };
    let out = apply(&lvm, &vg, &plan, Some(&pool), opts, &AtomicBool::new(false));
    assert!(out.ok(), "{out:?}");
    assert_eq!(
        lvm.calls() - calls,
        n as u64 + 3,
        "n creations, then 3 activations"
    );
    let o = lvm.observe(&vg).unwrap().unwrap();
    assert_eq!(
        o.lvs
            .iter()
            .filter(|l| l.name.len() == 4 && l.name.starts_with('v'))
            .count(),
        n
    );
    assert!(o.lvs.iter().all(|l| l.active), "all active at the end");
    let created = out
        .done
        .iter()
        .filter(|a| a.verb() == "create_volume")
        .count();
    let activated = out
        .done
        .iter()
        .filter(|a| a.verb() == "activate_volume")
        .count();
    assert_eq!(
        (created, activated),
        (n, 0),
        "the pass reports the creations; their activation is part of them"
    );
}

#[test]
fn a_chunk_that_fails_is_retried_one_by_one_and_the_half_created_volume_mended() {
    let (_d, lvm, vg, pool) = sim(&["half"]);
    // 60 more volumes that are merely inactive (a boot without autoactivation)
    let mut names = vec!["half".to_string()];
    let mut st = lvm.load().unwrap();
    for i in 0..60 {
        let name = format!("sleepy{i:02}");
        let mut l = st.vgs["vg"].lvs["keep"].clone();
        l.active = false;
        st.vgs.get_mut("vg").unwrap().lvs.insert(name.clone(), l);
        names.push(name);
    }
    lvm.save(&st).unwrap();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let out = apply_plan(&lvm, &vg, &activations(&lvm, &refs), &pool);
    assert!(out.ok(), "{out:?}");
    assert!(out.done.iter().any(|a| a.verb() == "recreate_volume"));
    let o = lvm.observe(&vg).unwrap().unwrap();
    assert!(o.lvs.iter().all(|l| l.active), "{o:?}");
}

/// A real LVM that refuses every thin volume after the first `room` (as lvm does when the
/// pool's metadata is full), and counts the commands.
struct FullPool {
    room: std::cell::Cell<u32>,
    commands: std::cell::Cell<u64>,
}

impl crate::testkit::Forward for FullPool {
    fn inner(&self) -> &dyn LvmWrite {
        &crate::testkit::Refuse
    }
    fn observe(&self, _: &VgName) -> Result<Option<crate::lvm::Observed>, LvmError> {
        Ok(None)
    }
    fn calls(&self) -> u64 {
        self.commands.get()
    }
    fn create_lv(
        &self,
        vg: &VgName,
        _: &LvName,
        _: Bytes,
        pool: Option<&LvName>,
        _: bool,
        _: &[Tag],
    ) -> Result<(), LvmError> {
        self.commands.set(self.commands.get() + 1);
        if self.room.get() == 0 {
            return Err(LvmError::Failed {
                command: "lvm lvcreate".into(),
                code: 5,
                stderr: format!(
                    "Cannot create new thin volume, free space in thin pool {vg}/{} reached threshold.",
                    pool.map(LvName::as_str).unwrap_or_default()
                ),
            });
        }
        self.room.set(self.room.get() - 1);
        Ok(())
    }
    fn activate_many(&self, _: &VgName, _: &[LvName]) -> Result<(), LvmError> {
        self.commands.set(self.commands.get() + 1);
        Ok(())
    }
}

#[test]
fn a_pool_that_refuses_new_volumes_stops_the_passes_creations() {
    let lvm = FullPool {
        room: std::cell::Cell::new(3),
        commands: std::cell::Cell::new(0),
    };
    let plan = Plan {
        actions: (0..20)
            .map(|i| Action::CreateVolume {
                volume: LvName::new(&format!("v{i:02}")).unwrap(),
                size: Bytes(4 * M),
                thin: true,
            })
            .collect(),
        ..Plan::new("b", "vg", 0)
    };
    let vg = VgName::new("vg").unwrap();
    let pool = LvName::new("vg-pool").unwrap();
    let opts = Options {
        create_inactive: true,
        ..Options::default()
    };
    let out = apply(&lvm, &vg, &plan, Some(&pool), opts, &AtomicBool::new(false));
    assert_eq!(
        (out.done.len(), out.failed.len(), out.skipped.len()),
        (3, 1, 16)
    );
    assert!(
        out.skipped[0].error.contains("reached its threshold"),
        "{out:?}"
    );
    assert_eq!(
        lvm.commands.get(),
        5,
        "3 made, 1 refused, 1 activation; no more tries"
    );
}

#[test]
fn a_copy_unknown_to_its_pool_is_never_recreated_and_counts_toward_several() {
    // one alone: reported, not made again empty
    let (_d, lvm, vg, pool) = sim(&["copy"]);
    let mut plan = activations(&lvm, &["copy"]);
    plan.copies = vec![LvName::new("copy").unwrap()];
    let out = apply_plan(&lvm, &vg, &plan, &pool);
    assert_eq!(out.failed.len(), 1, "{out:?}");
    assert!(out.failed[0].error.contains("it is a copy"), "{out:?}");
    assert!(lvm.load().unwrap().vgs["vg"].lvs["copy"].unknown_to_pool);
    // with a plain volume beside it: two unknown at once, and neither is recreated
    let (_d, lvm, vg, pool) = sim(&["half", "copy"]);
    let mut plan = activations(&lvm, &["half", "copy"]);
    plan.copies = vec![LvName::new("copy").unwrap()];
    let out = apply_plan(&lvm, &vg, &plan, &pool);
    assert!(
        !out.done.iter().any(|a| a.verb() == "recreate_volume"),
        "{out:?}"
    );
    assert!(lvm.load().unwrap().vgs["vg"].lvs["half"].unknown_to_pool);
}

#[test]
fn what_is_made_from_an_lv_whose_adoption_failed_is_skipped() {
    let (_d, lvm, vg, pool) = sim(&[]);
    let n = |s: &str| LvName::new(s).unwrap();
    let plan = Plan {
        actions: vec![
            Action::AdoptVolume {
                volume: n("ghost"),
                uuid: uuid(&lvm, "ghost"),
                size: Bytes(64 * M),
                thin: true,
            },
            Action::CreateSnapshot {
                snapshot: n("_snapshot-1"),
                origin: n("ghost"),
                size: Bytes(64 * M),
            },
            Action::CreateFromSource {
                volume: n("clone"),
                size: Bytes(64 * M),
                source: crate::desired::Source::Volume(n("ghost")),
                source_size: Bytes(64 * M),
            },
        ],
        ..Plan::new("b", "vg", 0)
    };
    let out = apply_plan(&lvm, &vg, &plan, &pool);
    assert_eq!(out.failed.len(), 1, "the adoption: {out:?}");
    assert_eq!(out.skipped.len(), 2, "{out:?}");
    assert!(
        out.skipped
            .iter()
            .all(|f| f.error.contains("adopting its source failed")),
        "{out:?}"
    );
}

#[test]
fn a_copy_is_tagged_as_one_and_the_progress_counts_every_action() {
    let (_d, lvm, vg, pool) = sim(&[]);
    let n = |s: &str| LvName::new(s).unwrap();
    let plan = Plan {
        actions: vec![
            Action::CreateSnapshot {
                snapshot: n("_snapshot-1"),
                origin: n("keep"),
                size: Bytes(64 * M),
            },
            Action::CreateFromSource {
                volume: n("clone"),
                size: Bytes(128 * M),
                source: crate::desired::Source::Snapshot(n("_snapshot-1")),
                source_size: Bytes(64 * M),
            },
        ],
        ..Plan::new("b", "vg", 0)
    };
    let steps = std::sync::Mutex::new(vec![]);
    let out = apply_with(
        &lvm,
        &vg,
        &plan,
        Some(&pool),
        Options::default(),
        &AtomicBool::new(false),
        &|s: &Step| steps.lock().unwrap().push((s.done, s.total)),
    );
    assert!(out.ok(), "{out:?}");
    assert_eq!(*steps.lock().unwrap(), vec![(1, 2), (2, 2)]);
    let o = lvm.observe(&vg).unwrap().unwrap();
    let clone = o.lv("clone").unwrap();
    assert_eq!(clone.size, 128 * M, "extended to its declared size");
    assert!(
        clone.tags.iter().any(|t| t == crate::names::COPY_TAG),
        "{clone:?}"
    );
    let snap = o.lv("_snapshot-1").unwrap();
    assert!(snap.skip_activation && !snap.active, "{snap:?}");
    assert!(!snap.tags.iter().any(|t| t == crate::names::COPY_TAG));
}

mod bind;
mod mend;
