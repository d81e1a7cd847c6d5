use super::*;
use crate::lvm::LvKind;

const G: u64 = 1 << 30;
const M: u64 = 1 << 20;
const E: u64 = 4 * M;

fn auto(threshold: f64, step: &str, max: &str) -> Autoextend {
    let yaml =
        format!("size: 1G\nautoextend: {{ threshold: {threshold}%, step: {step}, max: {max} }}\n");
    serde_yaml::from_str::<crate::desired::PoolDesired>(&yaml)
        .unwrap()
        .autoextend
        .unwrap()
}

fn pool(size: u64, data: f64, meta_size: u64, meta: f64) -> LvInfo {
    let mut p = crate::testkit::lv("vg-pool", LvKind::ThinPool, size, Some("lvm-1"));
    p.data_percent = Some(data);
    p.metadata_size = Some(meta_size);
    p.metadata_percent = Some(meta);
    p
}

#[test]
fn below_the_threshold_nothing_grows() {
    let a = auto(80.0, "10%", "10G");
    assert_eq!(
        grow_data(&a, &pool(G, 79.9, 8 * M, 10.0), G, 10 * G, 100 * G, E),
        None
    );
    assert_eq!(
        grow_metadata(&a, &pool(G, 10.0, 8 * M, 79.0), 8 * M, G, 100 * G, E),
        None
    );
}

#[test]
fn data_grows_by_whole_steps_until_under_the_threshold() {
    let a = auto(80.0, "10%", "10G");
    // 82 % of 1 GiB: one step of 10 % (rounded up to extents) brings it under 80 %
    let (to, g) = grow_data(&a, &pool(G, 82.0, 8 * M, 1.0), G, 10 * G, 100 * G, E).unwrap();
    assert_eq!(to, G + Bytes(G / 10).round_up(E).0);
    assert!(percent((G as f64 * 0.82) as u64, to) < 80.0);
    assert!(
        matches!(g, Growth::Usage { percent, threshold: 80.0 } if (percent - 82.0).abs() < 0.01),
        "{g:?}"
    );
    // 99 %: several steps, still whole ones
    let (to, _) = grow_data(&a, &pool(G, 99.0, 8 * M, 1.0), G, 10 * G, 100 * G, E).unwrap();
    assert!(percent((G as f64 * 0.99) as u64, to) < 80.0);
    let one = a.step_from(G, E);
    assert!(to > G + one, "more than one step: {to}");
}

#[test]
fn never_past_the_cap_nor_the_room() {
    let a = auto(80.0, "50%", "1200M");
    let (to, _) = grow_data(&a, &pool(G, 99.0, 8 * M, 1.0), G, 1200 * M, 100 * G, E).unwrap();
    assert_eq!(to, 1200 * M, "the cap");
    let (to, _) = grow_data(&a, &pool(G, 99.0, 8 * M, 1.0), G, 10 * G, 10 * M + 1, E).unwrap();
    assert_eq!(to, G + 8 * M, "what the VG has, in whole extents");
    assert_eq!(
        grow_data(&a, &pool(G, 99.0, 8 * M, 1.0), G, G, 100 * G, E),
        None,
        "at the cap"
    );
    assert_eq!(
        grow_data(&a, &pool(G, 99.0, 8 * M, 1.0), G, 10 * G, 0, E),
        None,
        "no room"
    );
}

#[test]
fn out_of_data_grows_at_once_whatever_the_percentage_says() {
    let a = auto(80.0, "10%", "10G");
    let mut p = pool(G, 0.0, 8 * M, 1.0);
    p.health = Health::OutOfData;
    let (to, g) = grow_data(&a, &p, G, 10 * G, 100 * G, E).unwrap();
    assert_eq!(g, Growth::OutOfData);
    assert!(
        percent(G, to) < 80.0,
        "a full pool's worth of data fits under the threshold"
    );
}

#[test]
fn metadata_grows_with_its_spare_within_lvms_limit() {
    let a = auto(80.0, "100%", "10G");
    let (to, _) = grow_metadata(&a, &pool(G, 1.0, 8 * M, 90.0), 8 * M, G, 100 * G, E).unwrap();
    assert_eq!(to, 16 * M, "doubled once: 45 % now");
    // the spare grows with it: the room must hold twice the growth
    let (to, _) = grow_metadata(&a, &pool(G, 1.0, 8 * M, 90.0), 8 * M, G, 8 * M, E).unwrap();
    assert_eq!(to, 12 * M);
    let big = MAX_METADATA - E;
    assert_eq!(
        grow_metadata(
            &a,
            &pool(G, 1.0, big, 99.0),
            Bytes(big).round_down(E).0,
            G,
            100 * G,
            E
        )
        .map(|g| g.0 <= MAX_METADATA),
        Some(true)
    );
}

#[test]
fn steps_is_bounded_and_monotonic() {
    assert_eq!(steps(100, 0, 80.0, 1000, |_| 10), 100);
    assert_eq!(steps(100, 100, 80.0, 1000, |_| 10), 130);
    assert_eq!(steps(100, 100, 80.0, 110, |_| 10), 110);
    assert_eq!(
        steps(100, 100, 80.0, 50, |_| 10),
        100,
        "a cap below the size never shrinks"
    );
    // a step of nothing still ends (one byte a step, a bounded number of steps)
    assert_eq!(
        steps(0, u64::MAX, 50.0, u64::MAX, |_| 0),
        u64::from(MAX_STEPS)
    );
}
