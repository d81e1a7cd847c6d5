use super::*;

fn p(arg: &str) -> Result<(IoClass, u8, bool), String> {
    Ionice::parse(arg).map(|i| (i.class, i.level, i.ignore_failure))
}

#[test]
fn ionice_options_as_ionice_reads_its_one_argument() {
    assert_eq!(p("-c3"), Ok((IoClass::Idle, 7, false)));
    assert_eq!(p("-cidle"), Ok((IoClass::Idle, 7, false)));
    assert_eq!(p("-cIdle"), Ok((IoClass::Idle, 7, false)));
    assert_eq!(p("-c2"), Ok((IoClass::BestEffort, 4, false)));
    assert_eq!(p("-c1"), Ok((IoClass::Realtime, 4, false)));
    assert_eq!(p("-c0"), Ok((IoClass::None, 0, false)));
    assert_eq!(p("-n7"), Ok((IoClass::BestEffort, 7, false)));
    assert_eq!(p("-tc3"), Ok((IoClass::Idle, 7, true)));
    assert_eq!(p("-t"), Ok((IoClass::BestEffort, 4, true)));
    assert_eq!(
        p("--class=best-effort"),
        Ok((IoClass::BestEffort, 4, false))
    );
    assert_eq!(p("--classdata=0"), Ok((IoClass::BestEffort, 0, false)));
    assert_eq!(p("--ignore"), Ok((IoClass::BestEffort, 4, true)));
}

#[test]
fn what_ionice_would_run_otherwise_is_an_error() {
    for bad in [
        "-c",      // its value would be `dd`
        "-c 3",    // one argument: " 3" is no class
        "-c2 -n7", // one argument: "2 -n7" is no class
        "-c4", "-cslow", "-n8", "-n-1", "-p1", "-P1", "-u0", "-h", "-V", "--class", "--pid=1",
        "idle", "", "-", "--",
    ] {
        assert!(Ionice::parse(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn the_kernels_ioprio_value() {
    let idle = Ionice::parse("-c3").unwrap();
    assert_eq!(idle.ioprio(), (3 << 13) | 7);
    let be = Ionice::parse("-c2 ").err();
    assert!(be.is_some(), "a trailing space is part of the value");
    assert_eq!(Ionice::parse("-n6").unwrap().ioprio(), (2 << 13) | 6);
}

#[test]
fn the_bytes_wiped() {
    let all = ClearSettings::default();
    assert_eq!(all.bytes(5 << 30), 5 << 30);
    let first = ClearSettings { size_mib: 1, ..all };
    assert_eq!(first.bytes(5 << 30), 1 << 20);
    // never past the end of a volume smaller than volume_clear_size
    let big = ClearSettings {
        size_mib: 1024,
        ..all
    };
    assert_eq!(big.bytes(4 << 20), 4 << 20);
    assert_eq!(first.describe(), "zero (first 1 MiB)");
    let quiet = ClearSettings {
        ionice: Some(Ionice::parse("-c3").unwrap()),
        ..all
    };
    assert_eq!(quiet.describe(), "zero (ionice idle)");
    let none = ClearSettings {
        method: VolumeClear::None,
        ..quiet
    };
    assert_eq!(none.describe(), "none");
}
