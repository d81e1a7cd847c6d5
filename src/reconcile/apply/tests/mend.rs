//! The mend of a half-created thin volume happens only for a creation ember recorded as under
//! way, and only when the ENODATA is the volume's own; the record itself.
use super::*;
use crate::lvm::LvRef;
use std::cell::RefCell;

/// A volume whose creation ended (it is not on ember's record) and whose pool then lost it (a
/// `--swapmetadata`, a repair or a restore without it): reported, never made again empty.
#[test]
fn a_volume_the_pool_lost_after_its_creation_ended_is_never_recreated() {
    let (_d, lvm, vg, pool) = sim(&["lost"]);
    // its creation ended: off the record (what the pass that made it leaves)
    lvm.record_in_flight(&vg, &[]).unwrap();
    let before = lvm.load().unwrap().vgs["vg"].lvs["lost"].clone();
    let out = apply_plan(&lvm, &vg, &activations(&lvm, &["lost"]), &pool);
    assert_eq!(out.failed.len(), 1, "{out:?}");
    let f = &out.failed[0];
    assert_eq!(f.action.verb(), "activate_volume");
    assert!(
        f.error
            .contains("ember has no record of a creation of it cut short")
            && f.error.contains("_meta0")
            && f.error.contains("ember changes nothing"),
        "{f:?}"
    );
    let after = lvm.load().unwrap().vgs["vg"].lvs["lost"].clone();
    assert_eq!(
        (&after.uuid, after.unknown_to_pool, after.active),
        (&before.uuid, true, false),
        "the same LV, untouched"
    );
    // the rest of the pass runs
    assert_eq!(
        out.done.iter().map(Action::verb).collect::<Vec<_>>(),
        ["create_volume"]
    );
}

/// An ENODATA on another device's table load (lvm's message is the same, and names only a
/// device number): not the volume's own, so not a creation cut short.
#[test]
fn an_enodata_that_is_not_the_volumes_own_device_is_never_mended() {
    let (_d, lvm, vg, pool) = sim(&[]);
    lvm.create_thin_inactive(
        &vg,
        &LvName::new("v").unwrap(),
        Bytes(64 * M),
        &pool,
        &[Tag::managed()],
    )
    .unwrap();
    let mut st = lvm.load().unwrap();
    st.vgs
        .get_mut("vg")
        .unwrap()
        .lvs
        .get_mut("v")
        .unwrap()
        .enodata_elsewhere = true;
    st.vgs.get_mut("vg").unwrap().in_flight = vec!["v".into()];
    lvm.save(&st).unwrap();
    let before = lvm.load().unwrap().vgs["vg"].lvs["v"].clone();
    let out = apply_plan(&lvm, &vg, &activations(&lvm, &["v"]), &pool);
    assert_eq!(out.failed.len(), 1, "{out:?}");
    assert!(
        out.failed[0]
            .error
            .contains("not on its own device's table load"),
        "{out:?}"
    );
    let after = lvm.load().unwrap().vgs["vg"].lvs["v"].clone();
    assert_eq!(after.uuid, before.uuid, "not removed");
    assert_eq!(
        lvm.in_flight(&vg),
        [LvName::new("v").unwrap()],
        "still on record: the next pass tries again"
    );
}

/// Every lvm write and record, in order.
struct Spy<'a> {
    sim: &'a SimLvm,
    log: RefCell<Vec<String>>,
}

impl Spy<'_> {
    fn note(&self, what: String) {
        self.log.borrow_mut().push(what);
    }
}

impl crate::testkit::Forward for Spy<'_> {
    fn inner(&self) -> &dyn LvmWrite {
        self.sim
    }
    fn create_lv(
        &self,
        vg: &VgName,
        name: &LvName,
        size: Bytes,
        pool: Option<&LvName>,
        active: bool,
        tags: &[Tag],
    ) -> Result<(), LvmError> {
        self.note(format!("lvcreate {name}"));
        if name.as_str() == "broken" {
            return Err(LvmError::ShellDied {
                command: format!("lvcreate {name}"),
                detail: "the test's".into(),
            });
        }
        self.sim.create_lv(vg, name, size, pool, active, tags)
    }
    fn remove(&self, vg: &VgName, lv: &LvRef) -> Result<(), LvmError> {
        self.note(format!("lvremove {}", lv.name));
        self.sim.remove(vg, lv)
    }
    fn clear(
        &self,
        vg: &VgName,
        target: &crate::lvm::clear::ClearTarget,
        stop: &AtomicBool,
        ready: &dyn Fn() -> Result<(), LvmError>,
        progress: &dyn Fn(u64),
    ) -> Result<(), LvmError> {
        self.note(format!("clear {}", target.lv));
        self.sim.clear(vg, target, stop, ready, progress)
    }
    fn record_in_flight(&self, vg: &VgName, volumes: &[LvName]) -> Result<(), String> {
        let names: Vec<&str> = volumes.iter().map(LvName::as_str).collect();
        self.note(format!("record [{}]", names.join(",")));
        self.sim.record_in_flight(vg, volumes)
    }
}

fn creations(names: &[&str]) -> Plan {
    Plan {
        actions: names
            .iter()
            .map(|n| Action::CreateVolume {
                volume: LvName::new(n).unwrap(),
                size: Bytes(4 * M),
                thin: true,
            })
            .collect(),
        ..Plan::new("b", "vg", 0)
    }
}

/// The pass's creations are on record before its first lvcreate (one write for all), and each
/// is off it as soon as its lvcreate returned (a volume made early in a long pass may hold data
/// before the pass ends); one that failed in a way that leaves its outcome unknown stays.
#[test]
fn creations_are_on_record_before_the_first_lvcreate_and_off_it_once_they_returned() {
    let (_d, sim, vg, pool) = sim(&[]);
    for inactive in [false, true] {
        let spy = Spy {
            sim: &sim,
            log: RefCell::new(vec![]),
        };
        let names = if inactive {
            ["c1", "c2", "c3"]
        } else {
            ["a1", "a2", "a3"]
        };
        let opts = Options {
            create_inactive: inactive,
            ..Options::default()
        };
        let out = apply(
            &spy,
            &vg,
            &creations(&names),
            Some(&pool),
            opts,
            &AtomicBool::new(false),
        );
        assert!(out.ok(), "{out:?}");
        let n = &names;
        assert_eq!(
            spy.log.into_inner(),
            [
                format!("record [{},{},{}]", n[0], n[1], n[2]),
                format!("lvcreate {}", n[0]),
                format!("record [{},{}]", n[1], n[2]),
                format!("lvcreate {}", n[1]),
                format!("record [{}]", n[2]),
                format!("lvcreate {}", n[2]),
                "record []".to_string(),
            ]
        );
        assert!(sim.in_flight(&vg).is_empty());
    }
    // the outcome of one is unknown: it stays on record; the one never tried does not
    let spy = Spy {
        sim: &sim,
        log: RefCell::new(vec![]),
    };
    let stop = AtomicBool::new(false);
    let out = apply(
        &spy,
        &vg,
        &creations(&["b1", "broken", "b3"]),
        Some(&pool),
        Options::default(),
        &stop,
    );
    assert_eq!(out.failed.len(), 1, "{out:?}");
    assert_eq!(sim.in_flight(&vg), [LvName::new("broken").unwrap()]);
    // a pass that creates nothing writes no record (converge settled it: "broken" is absent)
    sim.record_in_flight(&vg, &[]).unwrap();
    let spy = Spy {
        sim: &sim,
        log: RefCell::new(vec![]),
    };
    let keep = sim
        .observe(&vg)
        .unwrap()
        .unwrap()
        .lv("keep")
        .unwrap()
        .reference();
    let plan = Plan {
        actions: vec![Action::MarkVolume {
            volume: keep.name.clone(),
            uuid: keep.uuid.clone(),
            size: Bytes(64 * M),
            since: 1,
            delete_at: 2,
        }],
        ..Plan::new("b", "vg", 0)
    };
    let out = apply(&spy, &vg, &plan, Some(&pool), Options::default(), &stop);
    assert!(out.ok(), "{out:?}");
    assert!(
        spy.log.borrow().iter().all(|l| !l.starts_with("record")),
        "{:?}",
        spy.log
    );
}

/// A creation cut short by a power cut, as the next pass finds it: on record, inactive, its
/// pool without the device. `converge` mends it (and only it) and clears the record; volumes
/// on record that the read shows active or absent leave the record without anything done.
#[test]
fn a_pass_mends_a_recorded_creation_cut_short_and_settles_the_record() {
    let (_d, lvm, _vg, _pool) = sim(&["cut"]);
    let mut st = lvm.load().unwrap();
    st.vgs.get_mut("vg").unwrap().in_flight = vec!["cut".into(), "keep".into(), "gone".into()];
    lvm.save(&st).unwrap();
    let uuid_before = uuid(&lvm, "cut");
    let cfg = crate::testkit::backend("b", crate::config::LvmType::Thin);
    let desired = crate::testkit::desired("volumes:\n  cut: {size: 64M}\n  keep: {size: 64M}\n");
    let mut st = lvm.load().unwrap();
    for l in st.vgs.get_mut("vg").unwrap().lvs.values_mut() {
        if l.kind == LvKind::Thin {
            l.tags.push(Tag::backend("b").to_string());
        }
    }
    lvm.save(&st).unwrap();
    let policy = crate::reconcile::Policy {
        max_deletions_per_pass: 5,
        prune_grace: 600,
        now: 1_800_000_000,
        confirmed: false,
    };
    let r = crate::reconcile::converge(
        &cfg,
        Some(&desired),
        &lvm,
        &policy,
        &AtomicBool::new(false),
        &|| true,
    );
    assert!(r.ok(), "{r:?}");
    let done: Vec<&str> = r
        .outcome
        .as_ref()
        .unwrap()
        .done
        .iter()
        .map(Action::verb)
        .collect();
    assert_eq!(done, ["recreate_volume"]);
    assert_eq!(
        r.plan.as_ref().unwrap().in_flight,
        [LvName::new("cut").unwrap()]
    );
    let st = lvm.load().unwrap();
    let cut = &st.vgs["vg"].lvs["cut"];
    assert!(cut.active && !cut.unknown_to_pool);
    assert_ne!(cut.uuid, uuid_before.as_str(), "another LV");
    assert!(
        st.vgs["vg"].in_flight.is_empty(),
        "{:?}",
        st.vgs["vg"].in_flight
    );
}

/// A volume with a COW snapshot is never made again empty, even when its creation is on record.
#[test]
fn a_volume_with_a_cow_snapshot_unknown_to_its_pool_is_never_recreated() {
    // the activation fails as for a creation cut short, but someone snapshotted it (it held
    // data then), and removing it would remove the snapshot too
    let (_d, lvm, vg, pool) = sim(&["half"]);
    let mut state = lvm.load().unwrap();
    let mut cow = crate::lvm::sim::SimLv::cow_snapshot("half", 8 * M);
    cow.active = false;
    state
        .vgs
        .get_mut("vg")
        .unwrap()
        .lvs
        .insert("backup".into(), cow);
    lvm.save(&state).unwrap();
    let cfg = crate::testkit::backend("b", crate::config::LvmType::Thin);
    let o = lvm.observe(&vg).unwrap().unwrap();
    let policy = crate::reconcile::plan::Policy {
        max_deletions_per_pass: 5,
        prune_grace: 600,
        now: 1_800_000_000,
        confirmed: false,
    };
    let plan = crate::reconcile::plan::plan(
        &cfg,
        &crate::testkit::desired("volumes:\n  half: { size: 64M }\n  keep: { size: 64M }\n"),
        &o,
        &policy,
    );
    assert_eq!(plan.origins, ["half"]);
    let out = apply_plan(&lvm, &vg, &plan, &pool);
    assert!(
        out.done.iter().all(|a| a.verb() != "recreate_volume"),
        "{out:?}"
    );
    let f = out
        .failed
        .iter()
        .find(|f| f.action.subject() == "half")
        .unwrap();
    assert!(f.error.contains("it has a COW snapshot"), "{}", f.error);
    let o = lvm.observe(&vg).unwrap().unwrap();
    assert!(o.lv("half").is_some() && o.lv("backup").is_some());
}
