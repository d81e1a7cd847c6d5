use super::*;
use crate::lvm::LvKind;
use crate::lvm::{LvmWrite, PoolCreate};
use crate::names::{LvName, Tag};
use crate::size::Bytes;

fn pool_of(size: u64) -> PoolCreate {
    PoolCreate {
        size: Bytes(size),
        metadata: Bytes(8 << 20),
        chunk: Bytes(64 << 10),
    }
}

fn setup() -> (tempfile::TempDir, SimLvm, VgName) {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("lvm.json");
    let sim = SimLvm::open(&path);
    let mut st = SimState::default();
    st.vgs.insert("vg".into(), SimVg::new(10 << 30));
    sim.save(&st).unwrap();
    (d, sim, VgName::new("vg").unwrap())
}

#[test]
fn keeps_lvm_rules() {
    let (_d, sim, vg) = setup();
    let pool = LvName::new("vg-pool").unwrap();
    let v1 = LvName::new("v1").unwrap();
    // thin volume without pool fails
    assert!(
        sim.create_volume(&vg, &v1, Bytes(1 << 30), Some(&pool), &[Tag::managed()])
            .is_err()
    );
    sim.create_thin_pool(&vg, &pool, &pool_of(5 << 30), &[Tag::managed()])
        .unwrap();
    sim.create_volume(&vg, &v1, Bytes(1), Some(&pool), &[Tag::managed()])
        .unwrap();
    let o = sim.observe(&vg).unwrap().unwrap();
    assert_eq!(
        o.lv("v1").unwrap().size,
        4 << 20,
        "rounded up to one extent"
    );
    assert!(o.lv("v1").unwrap().is_owned());
    let (r1, rpool) = (
        o.lv("v1").unwrap().reference(),
        o.lv("vg-pool").unwrap().reference(),
    );
    // exists
    assert!(
        sim.create_volume(&vg, &v1, Bytes(1), Some(&pool), &[Tag::managed()])
            .is_err()
    );
    // no shrink through extend
    assert!(sim.extend(&vg, &r1, Bytes(1)).is_err());
    sim.extend(&vg, &r1, Bytes(1 << 30)).unwrap();
    // pool in use cannot be removed; thick volume larger than free space fails
    assert!(sim.remove(&vg, &rpool).is_err());
    assert!(
        sim.create_volume(
            &vg,
            &LvName::new("big").unwrap(),
            Bytes(6 << 30),
            None,
            &[Tag::managed()]
        )
        .is_err()
    );
    sim.remove(&vg, &r1).unwrap();
    assert!(sim.remove(&vg, &r1).is_err());
    assert!(
        sim.observe(&VgName::new("nope").unwrap())
            .unwrap()
            .is_none()
    );
    assert_eq!(sim.calls(), 12);
}

/// As lvm 2.03.16 does it in the VM (src/lvm/kind.rs): an origin's removal takes its COW
/// snapshots and leaves its thin snapshots; an active origin does not grow, an inactive one
/// does; activating it activates them.
#[test]
fn cow_snapshots_live_and_die_with_their_origin_as_in_lvm() {
    let (_d, sim, vg) = setup();
    let n = |s: &str| LvName::new(s).unwrap();
    // the LV of that name as a plan would see it now
    let r = |s: &str| {
        sim.observe(&vg)
            .unwrap()
            .unwrap()
            .lv(s)
            .unwrap()
            .reference()
    };
    let pool = n("vg-pool");
    sim.create_thin_pool(&vg, &pool, &pool_of(2 << 30), &[])
        .unwrap();
    sim.create_volume(&vg, &n("thick"), Bytes(64 << 20), None, &[])
        .unwrap();
    sim.create_volume(&vg, &n("thin"), Bytes(64 << 20), Some(&pool), &[])
        .unwrap();
    let free = sim.observe(&vg).unwrap().unwrap().vg.free;
    sim.create_cow_snapshot(&vg, &n("thick"), &n("thick-cow"), Bytes(16 << 20))
        .unwrap();
    sim.create_cow_snapshot(&vg, &n("thin"), &n("thin-cow"), Bytes(16 << 20))
        .unwrap();
    sim.create_snapshot(&vg, &n("thin"), &n("thin-snap"), true, &[])
        .unwrap();
    // snapshots of snapshots are not supported
    assert!(
        sim.create_cow_snapshot(&vg, &n("thick-cow"), &n("x"), Bytes(4 << 20))
            .is_err()
    );
    let o = sim.observe(&vg).unwrap().unwrap();
    assert_eq!(o.vg.free, free - (32 << 20), "in the VG's extents");
    let cow = o.lv("thin-cow").unwrap();
    assert_eq!(
        (cow.kind, cow.origin.as_deref(), cow.pool.as_deref()),
        (LvKind::CowSnapshot, Some("thin"), None)
    );
    // an active origin does not grow
    for v in ["thick", "thin"] {
        let e = sim.extend(&vg, &r(v), Bytes(128 << 20)).unwrap_err();
        assert!(
            e.to_string()
                .contains("Snapshot origin volumes can be resized only while inactive"),
            "{e}"
        );
    }
    // inactive, it does; activated, its snapshot is too
    let mut st = sim.load().unwrap();
    for l in st.vgs.get_mut("vg").unwrap().lvs.values_mut() {
        if l.kind != LvKind::ThinPool {
            l.active = false;
        }
    }
    sim.save(&st).unwrap();
    sim.extend(&vg, &r("thick"), Bytes(128 << 20)).unwrap();
    sim.activate(&vg, &n("thick")).unwrap();
    let o = sim.observe(&vg).unwrap().unwrap();
    assert_eq!(o.lv("thick").unwrap().size, 128 << 20);
    assert!(o.lv("thick-cow").unwrap().active);
    assert!(!o.lv("thin-cow").unwrap().active);
    // removing an origin removes its COW snapshot; its thin snapshot stays, naming no origin
    sim.remove(&vg, &r("thin")).unwrap();
    sim.remove(&vg, &r("thick")).unwrap();
    let o = sim.observe(&vg).unwrap().unwrap();
    let names: Vec<&str> = o.lvs.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["thin-snap", "vg-pool"]);
    assert_eq!(o.lv("thin-snap").unwrap().origin, None);
    // and removing a COW snapshot alone leaves its origin
    sim.create_volume(&vg, &n("v"), Bytes(4 << 20), None, &[])
        .unwrap();
    sim.create_cow_snapshot(&vg, &n("v"), &n("v-cow"), Bytes(4 << 20))
        .unwrap();
    sim.remove(&vg, &r("v-cow")).unwrap();
    assert!(sim.observe(&vg).unwrap().unwrap().lv("v").is_some());
}

/// A write bound to an LV as planned (its name and UUID) does nothing to an LV made again under
/// that name since, and says so; as lvm does with ember's `--select lv_uuid=...`.
#[test]
fn a_write_to_an_lv_made_again_under_its_name_touches_nothing() {
    let (_d, sim, vg) = setup();
    let pool = LvName::new("vg-pool").unwrap();
    let x = LvName::new("x").unwrap();
    sim.create_thin_pool(&vg, &pool, &pool_of(5 << 30), &[])
        .unwrap();
    sim.create_volume(&vg, &x, Bytes(1 << 30), Some(&pool), &[Tag::managed()])
        .unwrap();
    let planned = sim
        .observe(&vg)
        .unwrap()
        .unwrap()
        .lv("x")
        .unwrap()
        .reference();
    // another tool removes it and makes another of the same name
    let now = sim
        .observe(&vg)
        .unwrap()
        .unwrap()
        .lv("x")
        .unwrap()
        .reference();
    sim.remove(&vg, &now).unwrap();
    sim.create_volume(
        &vg,
        &x,
        Bytes(2 << 30),
        Some(&pool),
        &[Tag::new("marker").unwrap()],
    )
    .unwrap();
    let other = sim.observe(&vg).unwrap().unwrap().lv("x").unwrap().clone();
    assert_ne!(other.uuid, planned.uuid, "another LV, another UUID");
    let not_planned = |e: LvmError, lv: &crate::lvm::LvRef| {
        assert!(matches!(e, LvmError::NotPlanned { .. }), "{e:?}");
        assert!(
            e.to_string().starts_with(&format!(
                "vg/{} is no longer the LV that was planned (uuid {})",
                lv.name, lv.uuid
            )),
            "{e}"
        );
    };
    not_planned(sim.remove(&vg, &planned).unwrap_err(), &planned);
    not_planned(
        sim.extend(&vg, &planned, Bytes(3 << 30)).unwrap_err(),
        &planned,
    );
    not_planned(
        sim.change_tags(
            &vg,
            &planned,
            &[Tag::mark(1)],
            &[Tag::new("marker").unwrap()],
        )
        .unwrap_err(),
        &planned,
    );
    let pool_then = sim
        .observe(&vg)
        .unwrap()
        .unwrap()
        .lv("vg-pool")
        .unwrap()
        .reference();
    let pool_gone = crate::lvm::LvRef::new(&pool, &other.uuid);
    not_planned(
        sim.extend(&vg, &pool_gone, Bytes(6 << 30)).unwrap_err(),
        &pool_gone,
    );
    not_planned(
        sim.extend_pool_metadata(&vg, &pool_gone, Bytes(16 << 20))
            .unwrap_err(),
        &pool_gone,
    );
    assert_eq!(
        sim.observe(&vg).unwrap().unwrap().lv("x"),
        Some(&other),
        "the LV made again is untouched"
    );
    // gone altogether: said too
    sim.remove(&vg, &other.reference()).unwrap();
    let e = sim.remove(&vg, &planned).unwrap_err();
    assert!(e.to_string().contains("no LV of that name now"), "{e}");
    // and the LV as planned is written
    sim.extend(&vg, &pool_then, Bytes(6 << 30)).unwrap();
}
