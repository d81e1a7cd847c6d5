use super::*;

fn pool(yaml: &str) -> Result<PoolDesired, String> {
    serde_yaml::from_str::<PoolDesired>(yaml).map_err(|e| e.to_string())
}

#[test]
fn the_documented_pool_parses() {
    let p = pool("size: 60%\nmetadata_size: 1G\nchunk_size: 64K\nautoextend: { threshold: 80%, step: 10%, max: 90% }\n").unwrap();
    assert_eq!(p.size, SizeSpec::Percent(60.0));
    assert_eq!(p.metadata_size, Some(Bytes(1 << 30)));
    assert_eq!(p.chunk_size, Some(Bytes(64 << 10)));
    let a = p.autoextend.unwrap();
    assert_eq!(a.threshold, 80.0);
    assert_eq!(a.step, SizeSpec::Percent(10.0));
    assert_eq!(a.max, SizeSpec::Percent(90.0));
}

#[test]
fn a_size_alone_is_todays_pool() {
    assert_eq!(
        pool("size: 10G\n").unwrap(),
        PoolDesired::of_size(SizeSpec::Bytes(Bytes(10 << 30)))
    );
}

#[test]
fn values_lvm_would_refuse_are_refused_with_the_limits() {
    for (yaml, says) in [
        (
            "size: 1G\nmetadata_size: 1M\n",
            "outside what lvm allows (2.0 MiB to 15.81 GiB)",
        ),
        ("size: 1G\nmetadata_size: 16G\n", "outside what lvm allows"),
        ("size: 1G\nchunk_size: 32K\n", "multiple of 64.0 KiB"),
        ("size: 1G\nchunk_size: 96K\n", "multiple of 64.0 KiB"),
        ("size: 1G\nchunk_size: 2G\n", "multiple of 64.0 KiB"),
        (
            "size: 1G\nmetadata_size: 10%\n",
            "only allowed for the thin pool",
        ),
    ] {
        let e = pool(yaml).expect_err(yaml);
        assert!(e.contains(says), "{yaml}: {e}");
    }
}

#[test]
fn autoextend_is_checked() {
    for (yaml, says) in [
        ("threshold: 40%, step: 10%, max: 90%", "outside 50% to 95%"),
        ("threshold: 99%, step: 10%, max: 90%", "outside 50% to 95%"),
        ("threshold: 80, step: 10%, max: 90%", "must be a percentage"),
        (
            "threshold: 80%, step: 10%, max: 50%",
            "smaller than the pool's size",
        ),
        ("threshold: 80%, max: 90%", "missing field `step`"),
        (
            "threshold: 80%, step: 10%, max: 90%, when: now",
            "unknown field `when`",
        ),
    ] {
        let e = pool(&format!("size: 60%\nautoextend: {{ {yaml} }}\n")).expect_err(yaml);
        assert!(e.contains(says), "{yaml}: {e}");
    }
    // mixed units cannot be compared without the VG: the planner checks them
    assert!(pool("size: 10G\nautoextend: { threshold: 80%, step: 1G, max: 50% }\n").is_ok());
}

#[test]
fn steps_round_up_to_extents_and_are_never_zero() {
    let a = pool("size: 1G\nautoextend: { threshold: 80%, step: 10%, max: 2G }\n")
        .unwrap()
        .autoextend
        .unwrap();
    let e = 4 << 20;
    assert_eq!(
        a.step_from(1 << 30, e),
        Bytes(((1u64 << 30) as f64 * 0.1).ceil() as u64)
            .round_up(e)
            .0
    );
    assert_eq!(a.step_from(0, e), e);
    // metadata: 10 % of its own size, at least an extent
    assert_eq!(a.metadata_step_from(8 << 20, 1 << 30, e), e);
    let abs = pool("size: 1G\nautoextend: { threshold: 80%, step: 512M, max: 2G }\n")
        .unwrap()
        .autoextend
        .unwrap();
    assert_eq!(abs.step_from(1 << 30, e), 512 << 20);
    // an absolute step grows metadata by the same share (512M of 1G: half)
    assert_eq!(abs.metadata_step_from(64 << 20, 1 << 30, e), 32 << 20);
}
