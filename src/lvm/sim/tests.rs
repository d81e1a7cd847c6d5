use super::*;
use crate::lvm::{LvmWrite, PoolCreate};
use crate::names::Tag;

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
    // exists
    assert!(
        sim.create_volume(&vg, &v1, Bytes(1), Some(&pool), &[Tag::managed()])
            .is_err()
    );
    // no shrink through extend
    assert!(sim.extend(&vg, &v1, Bytes(1)).is_err());
    sim.extend(&vg, &v1, Bytes(1 << 30)).unwrap();
    // pool in use cannot be removed; thick volume larger than free space fails
    assert!(sim.remove(&vg, &pool).is_err());
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
    sim.remove(&vg, &v1).unwrap();
    assert!(sim.remove(&vg, &v1).is_err());
    assert!(
        sim.observe(&VgName::new("nope").unwrap())
            .unwrap()
            .is_none()
    );
    assert_eq!(sim.calls(), 12);
}
