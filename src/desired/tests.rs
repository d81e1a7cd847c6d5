use super::*;
use crate::size::SizeSpec;

fn cfg() -> Config {
    crate::testkit::config(
        "[DEFAULT]\nenabled_backends = lvm-1,lvm-2,thick,nfs\n[lvm-1]\nvolume_group = vg1\n[lvm-2]\nvolume_group = vg2\n[thick]\nvolume_group = vg3\nlvm_type = default\n[nfs]\nvolume_driver = cinder.volume.drivers.nfs.NfsDriver\n",
    )
}

fn p(text: &str) -> Result<DesiredState, Vec<Problem>> {
    parse(Path::new("desired-state.yaml"), text, &cfg())
}

/// The one problem `text` has: the whole file's, or its one rejected backend's.
fn one_err(text: &str) -> Problem {
    let e = match p(text) {
        Err(e) => e,
        Ok(d) => d.rejected.into_values().flatten().collect(),
    };
    assert_eq!(e.len(), 1, "{e:?}");
    e.into_iter().next().unwrap()
}

#[test]
fn parses_the_documented_example() {
    let d = p("backends:\n  lvm-1:\n    thin_pool: { size: 90% }\n    prune: false\n    volumes:\n      volume-8d0b5c52: { size: 10G }\n      scratch: { size: 1T, state: absent }\n      gone: { state: absent }\n").unwrap();
    let b = d.backend("lvm-1").unwrap();
    assert_eq!(b.thin_pool.as_ref().unwrap().size, SizeSpec::Percent(90.0));
    let v: Vec<_> = b
        .volumes
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.size(), v.state()))
        .collect();
    assert_eq!(
        v,
        vec![
            ("gone".into(), None, VolumeState::Absent),
            // a size on an absent volume is accepted and means nothing
            ("scratch".into(), None, VolumeState::Absent),
            (
                "volume-8d0b5c52".into(),
                Some(Bytes(10 << 30)),
                VolumeState::Present
            ),
        ]
    );
}

#[test]
fn plain_bytes_and_empty_backends_are_fine() {
    let d = p("backends:\n  lvm-2:\n    volumes:\n      v: { size: 1073741824B }\n").unwrap();
    assert_eq!(
        d.backend("lvm-2")
            .unwrap()
            .volumes
            .iter()
            .next()
            .unwrap()
            .1
            .size(),
        Some(Bytes(1 << 30))
    );
    assert!(p("backends: {}\n").unwrap().backends.is_empty());
}

#[test]
fn errors_carry_line_and_column() {
    let e = one_err("backends:\n  lvm-1:\n    volumes:\n      v1: { size: 10X }\n");
    assert_eq!(e.line, Some(4), "{e}");
    assert!(e.column.is_some());
    assert!(e.message.contains("invalid size"), "{e}");
    assert!(e.to_string().starts_with("desired-state.yaml:4:"), "{e}");
}

#[test]
fn unknown_keys_are_errors() {
    let e = one_err("backends:\n  lvm-1:\n    volumes:\n      v1: { size: 1G, sise: 2G }\n");
    assert_eq!(e.line, Some(4));
    assert!(e.message.contains("unknown field"), "{e}");
    let e = one_err("backends:\n  lvm-1:\n    volums: {}\n");
    assert_eq!(e.line, Some(3));
    let e = one_err("backend:\n  lvm-1: {}\n");
    assert_eq!(e.line, Some(1));
}

#[test]
fn duplicate_keys_are_errors() {
    let e = one_err(
        "backends:\n  lvm-1:\n    volumes:\n      v1: { size: 1G }\n      v1: { size: 2G }\n",
    );
    assert!(e.message.contains("duplicate"), "{e}");
    assert_eq!(e.line, Some(5), "{e}");
    let e = one_err("backends:\n  lvm-1: {}\n  lvm-1: {}\n");
    assert!(e.message.contains("duplicate"), "{e}");
}

#[test]
fn bad_volume_names_are_rejected_with_their_line() {
    for (name, needle) in [
        ("-rf", "option"),
        ("\"../x\"", "'/'"),
        ("a/b", "'/'"),
        ("snapshot", "reserved"),
        ("x_tmeta", "reserved"),
        ("résumé", "'é'"),
    ] {
        let e = one_err(&format!(
            "backends:\n  lvm-1:\n    volumes:\n      {name}: {{ size: 1G }}\n"
        ));
        assert_eq!(e.line, Some(4), "{name}: {e}");
        assert!(e.message.contains(needle), "{name}: {e}");
    }
    let long = "a".repeat(200);
    let e = one_err(&format!(
        "backends:\n  lvm-1:\n    volumes:\n      {long}: {{ size: 1G }}\n"
    ));
    assert!(e.message.contains("longer than"), "{e}");
}

#[test]
fn sizes_must_parse_and_fit() {
    for (size, needle) in [
        ("99999999999T", "too large"),
        ("0B", "zero"),
        (
            "10",
            "size 10 has no unit: cinder's sizes are GiB (10G), lvm reads a bare number as MiB (10M), and bytes are written 10B",
        ),
        ("\"10\"", "has no unit"),
        ("-1", "negative"),
        ("50%", "only allowed for the thin pool"),
        ("1.5", "size 1.5 has no unit"),
    ] {
        let e = one_err(&format!(
            "backends:\n  lvm-1:\n    volumes:\n      v: {{ size: {size} }}\n"
        ));
        assert!(e.message.contains(needle), "{size}: {e}");
        assert_eq!(e.line, Some(4));
    }
    let e = one_err("backends:\n  lvm-1:\n    thin_pool: { size: 120% }\n");
    assert!(e.message.contains("percentage"), "{e}");
}

#[test]
fn present_volume_needs_a_size() {
    let e = one_err("backends:\n  lvm-1:\n    volumes:\n      v: { state: present }\n");
    assert!(e.message.contains("needs a size"), "{e}");
    assert_eq!(e.line, Some(4));
}

#[test]
fn backend_must_be_enabled_and_lvm() {
    // not enabled: a warning, and the backend is ignored; the others stand
    let d = p("backends:\n  lvm-1: {}\n  lvm-9: {}\n").unwrap();
    assert_eq!(d.backends.keys().collect::<Vec<_>>(), ["lvm-1"]);
    assert_eq!(d.warnings.len(), 1);
    assert_eq!(d.warnings[0].line, Some(3));
    assert!(!d.warnings[0].is_error());
    assert!(
        d.warnings[0].message.contains("not in enabled_backends"),
        "{:?}",
        d.warnings
    );
    let e = one_err("backends:\n  nfs: {}\n");
    assert!(e.message.contains("does not manage"), "{e}");
    let e = one_err("backends:\n  thick:\n    thin_pool: { size: 50% }\n");
    assert!(e.message.contains("lvm_type = default"), "{e}");
    let e = one_err("backends:\n  lvm-1:\n    volumes:\n      vg1-pool: { size: 1G }\n");
    assert_eq!(e.line, Some(4));
}

#[test]
fn empty_and_truncated_files_are_errors() {
    for text in ["", "\n\n", "# only a comment\n"] {
        assert!(one_err(text).message.contains("empty"), "{text:?}");
    }
    // half-written: cut in the middle of a flow mapping
    let e = one_err("backends:\n  lvm-1:\n    volumes:\n      v1: { size: 1");
    assert!(e.line.is_some(), "{e}");
    // wrong types
    one_err("backends: [a, b]\n");
    one_err("backends:\n  lvm-1:\n    prune: maybe\n");
    one_err("- just\n- a list\n");
}

#[test]
fn alias_bombs_are_refused() {
    let mut s = String::from("a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n");
    for i in 0..9 {
        let prev = (b'a' + i) as char;
        let next = (b'a' + i + 1) as char;
        s.push_str(&format!("{next}: &{next} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
    }
    s.push_str("backends: {}\n");
    assert!(p(&s).is_err());
}

#[test]
fn load_rejects_binary_bad_utf8_missing_and_huge() {
    let d = tempfile::tempdir().unwrap();
    let c = cfg();
    let f = d.path().join("ds.yaml");
    std::fs::write(&f, b"backends:\x00\x01").unwrap();
    assert!(load(&f, &c).unwrap_err()[0].message.contains("binary"));
    std::fs::write(&f, b"backends:\n  \xff: {}\n").unwrap();
    assert_eq!(load(&f, &c).unwrap_err()[0].line, Some(2));
    assert!(
        load(&d.path().join("missing.yaml"), &c).unwrap_err()[0]
            .message
            .contains("cannot read")
    );
    std::fs::write(&f, vec![b'#'; 10 << 20]).unwrap(); // 10 MB
    assert!(load(&f, &c).unwrap_err()[0].message.contains("refused"));
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let text = format!("backends: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    assert!(p(&text).is_err());
    let text = format!(
        "backends:\n  lvm-1:\n    volumes:\n      v: {}\n",
        "{a: ".repeat(5_000)
    );
    assert!(p(&text).is_err());
}

#[test]
fn a_volumes_list_with_no_value_is_an_error_and_only_an_explicit_list_counts() {
    // every volume line commented out leaves `volumes:` with no value (YAML null)
    for text in [
        "backends:\n  lvm-1:\n    prune: true\n    volumes:\n#      a: { size: 1G }\n",
        "backends:\n  lvm-1:\n    prune: true\n    volumes: ~\n",
    ] {
        let e = one_err(text);
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.message.contains("volumes: {}"), "{e}");
    }
    let listed = |t: &str| p(t).unwrap().backend("lvm-1").unwrap().volumes_listed;
    assert!(listed("backends:\n  lvm-1:\n    volumes: {}\n"));
    assert!(!listed("backends:\n  lvm-1:\n    prune: true\n"));
}

#[test]
fn the_digest_is_of_the_files_bytes() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("d.yaml");
    std::fs::write(&f, "backends: {}\n").unwrap();
    let mut c = cfg();
    c.allow_insecure_files = true;
    let s = load(&f, &c).unwrap();
    assert_eq!(Digest::of_file(&f), Some(s.digest));
    std::fs::write(&f, "backends: {}\n\n").unwrap();
    assert_ne!(Digest::of_file(&f), Some(s.digest));
}

#[test]
fn an_error_in_one_backend_rejects_that_backend_only() {
    let d = p("backends:\n  lvm-1:\n    volumes:\n      v: { size: 10 }\n  lvm-2:\n    volumes:\n      w: { size: 1G }\n").unwrap();
    assert_eq!(d.backends.keys().collect::<Vec<_>>(), ["lvm-2"]);
    let e = &d.rejected["lvm-1"];
    assert_eq!(e.len(), 1);
    assert_eq!((e[0].line, e[0].column), (Some(4), Some(18)), "{e:?}");
    assert!(e[0].message.contains("has no unit"), "{e:?}");
    // two broken backends: both rejected, each with its line
    let d = p("backends:\n  lvm-1:\n    volumes:\n      v: { size: 10 }\n  lvm-2:\n    bogus: 1\n  thick: {}\n").unwrap();
    assert_eq!(d.backends.keys().collect::<Vec<_>>(), ["thick"]);
    // (the line of the unknown key itself)
    assert_eq!(d.rejected["lvm-2"][0].line, Some(6), "{:?}", d.rejected);
    assert!(
        d.rejected["lvm-2"][0]
            .message
            .contains("unknown field `bogus`"),
        "{:?}",
        d.rejected
    );
    // a validation error (a thin pool on a thick backend) rejects that backend only too
    let d = p("backends:\n  thick:\n    thin_pool: { size: 50% }\n  lvm-1: {}\n").unwrap();
    assert_eq!(d.backends.keys().collect::<Vec<_>>(), ["lvm-1"]);
    assert!(
        d.rejected["thick"][0]
            .message
            .contains("lvm_type = default")
    );
    // what does not parse as a whole still blocks everything
    assert!(p("backends:\n  lvm-1: [\n").is_err());
    assert!(p("backend:\n  lvm-1: {}\n").is_err());
    assert!(p("backends:\n  lvm-1: {}\n  lvm-1: {}\n").is_err());
}

#[test]
fn a_volume_line_that_lost_its_indentation_rejects_the_whole_file() {
    // `b` meant as lvm-1's volume, written as a backend of its own: lvm-1 would miss it and,
    // with prune, delete it. Nothing in the file is used.
    let e = p("backends:\n  lvm-1:\n    prune: true\n    volumes:\n      a: { size: 1G }\n  b: { size: 1G }\n").expect_err("rejected whole");
    assert!(
        e[0].message.contains(
            "\"b\" is not a backend in enabled_backends: a line with the wrong indentation?"
        ),
        "{e:?}"
    );
    assert_eq!(e[0].line, Some(6), "{e:?}");
    // while another backend's part is rejected, prune is held everywhere
    let d = p("backends:\n  lvm-1:\n    prune: true\n    volumes:\n      a: { size: 1G }\n  lvm-2:\n    volumes:\n      b: { size: 1 }\n").unwrap();
    assert!(d.rejected.contains_key("lvm-2"));
    assert!(!d.backends["lvm-1"].prune, "held");
    assert!(
        d.warnings
            .iter()
            .any(|w| w.message.contains("prune is held")),
        "{:?}",
        d.warnings
    );
    // a volume named like a number is still a name when a backend is parsed on its own
    let d = p("backends:\n  lvm-1:\n    volumes:\n      1234: { size: 1G }\n  lvm-2:\n    volumes:\n      b: { size: 1 }\n").unwrap();
    assert!(
        d.backends["lvm-1"].volumes.contains_key_str("1234"),
        "{d:?}"
    );
}

#[test]
fn a_ring_of_sources_is_an_error_on_its_first_member_once() {
    let e = one_err(
        "backends:\n  lvm-1:\n    volumes:\n      b: { size: 1G, source: { volume: a } }\n      a: { size: 1G, source: { volume: b } }\n",
    );
    assert_eq!(e.line, Some(5), "{e}");
    assert!(
        e.message
            .contains("a: made from itself through a <- b <- a: none of them can be made first"),
        "{e}"
    );
    // through a snapshot: the snapshot of v, and v from the snapshot
    let e = one_err(
        "backends:\n  lvm-1:\n    volumes:\n      v: { size: 1G, source: { snapshot: _snapshot-s } }\n    snapshots:\n      _snapshot-s: { volume: v }\n",
    );
    assert!(
        e.message
            .contains("_snapshot-s: made from itself through _snapshot-s <- v <- _snapshot-s"),
        "{e}"
    );
    // a chain is not a ring
    assert!(
        p("backends:\n  lvm-1:\n    volumes:\n      a: { size: 1G }\n      b: { size: 1G, source: { volume: a } }\n      c: { size: 1G, source: { volume: b } }\n")
            .is_ok_and(|d| d.rejected.is_empty())
    );
}

#[test]
fn a_long_chain_of_copies_is_checked_in_one_walk() {
    // 20 000 volumes each a copy of the one before (an O(n^2) or worse check would not end)
    let mut y = String::from("backends:\n  lvm-1:\n    volumes:\n      v0: { size: 1G }\n");
    for i in 1..20_000 {
        y.push_str(&format!(
            "      v{i}: {{ size: 1G, source: {{ volume: v{} }} }}\n",
            i - 1
        ));
    }
    let d = p(&y).unwrap();
    assert!(d.rejected.is_empty(), "{:?}", d.rejected);
    // and a ring at its end is found
    y.push_str("      w: { size: 1G, source: { volume: x } }\n      x: { size: 1G, source: { volume: w } }\n");
    let e = one_err(&y);
    assert!(
        e.message
            .contains("w: made from itself through w <- x <- w"),
        "{e}"
    );
}

#[test]
fn the_volume_group_is_declared_from_its_devices() {
    let d = p("backends:\n  lvm-1:\n    volume_group: { devices: [/dev/disk/by-id/a, /dev/disk/by-id/b] }\n    volumes: {}\n").unwrap();
    let vg = d.backend("lvm-1").unwrap().volume_group.as_ref().unwrap();
    assert_eq!(vg.devices.len(), 2);
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    // without it: as before
    let d = p("backends:\n  lvm-1:\n    volumes: {}\n").unwrap();
    assert!(d.backend("lvm-1").unwrap().volume_group.is_none());
}

#[test]
fn a_kernel_name_is_a_warning_on_its_line() {
    let d = p("backends:\n  lvm-1:\n    volume_group:\n      devices:\n        - /dev/disk/by-id/a\n        - /dev/vdc\n").unwrap();
    assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
    let w = &d.warnings[0];
    assert_eq!(w.line, Some(6));
    assert!(
        w.message.contains("device /dev/vdc is a kernel name"),
        "{w}"
    );
}

#[test]
fn a_bad_device_list_is_an_error_with_its_line() {
    let e = one_err("backends:\n  lvm-1:\n    volumes: {}\n    volume_group: { devices: [vdb] }\n");
    assert_eq!(e.line, Some(4), "{e}");
    assert!(
        e.message.contains("is not a device path under /dev/"),
        "{e}"
    );
    let e = one_err("backends:\n  lvm-1:\n    volume_group:\n      devices: []\n");
    assert!(e.message.contains("devices is empty"), "{e}");
    assert!(e.line.is_some(), "{e}");
    let e = one_err("backends:\n  lvm-1:\n    volume_group: { disks: [/dev/vdb] }\n");
    assert_eq!(e.line, Some(3), "{e}");
}
