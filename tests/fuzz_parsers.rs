//! Hostile input to every parser, as property tests (cargo-fuzz needs a nightly toolchain,
//! which this project's machines cannot fetch): arbitrary bytes, and inputs built from each
//! format's own tokens, must give a value or an error, never a panic or a hang.
//! Short in `cargo test`; the long mode is `PROPTEST_CASES=2000000 cargo test --release --test fuzz_parsers`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

use std::path::Path;

use proptest::prelude::*;

use ember::config::ini::Ini;
use ember::size::{Bytes, SizeSpec};

fn cfg() -> ember::config::Config {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("cinder.conf");
    std::fs::write(&f, "[DEFAULT]\nenabled_backends = a,b\n[a]\nvolume_group = va\n[b]\nvolume_group = vb\nlvm_type = default\n").unwrap();
    ember::config::load(&ember::config::Sources {
        config_files: vec![f],
        config_dirs: vec![],
        allow_insecure_files: true,
    })
    .config
    .unwrap()
}

/// Lines made of INI's own pieces, so the fuzzer reaches past the first syntax error.
fn ini_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("[DEFAULT]".to_string()),
        Just("[a]".to_string()),
        Just("[backend_defaults]".to_string()),
        Just("[".to_string()),
        Just("enabled_backends = a,b,".to_string()),
        Just("volume_group = x".to_string()),
        Just("  continued".to_string()),
        Just("# c".to_string()),
        Just("; c".to_string()),
        Just("".to_string()),
        Just("k: v = w".to_string()),
        Just("\"q'".to_string()),
        Just("reserved_percentage = ".to_string()),
        Just("\u{feff}".to_string()),
        Just("lvm_type = Thin".to_string()),
        "[ -~]{0,20}".prop_map(|s| s),
    ];
    prop::collection::vec(piece, 0..30).prop_map(|v| v.join("\n"))
}

fn yaml_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("backends:".to_string()),
        Just("  a:".to_string()),
        Just("  b:".to_string()),
        Just("    volumes:".to_string()),
        Just("      v: { size: 1G }".to_string()),
        Just("      v: { size: 1G }".to_string()),
        Just("      w: { state: absent }".to_string()),
        Just("    thin_pool: { size: 90% }".to_string()),
        Just("    prune: true".to_string()),
        Just("&x [*x]".to_string()),
        Just("a: &a [*a,*a,*a]".to_string()),
        Just("- -".to_string()),
        Just("{{{{".to_string()),
        Just("? [a]: b".to_string()),
        Just("      \"-rf\": { size: 1 }".to_string()),
        Just("      x_tmeta: { size: 99999999999999999999T }".to_string()),
        Just("!!binary aGk=".to_string()),
        Just("\t".to_string()),
        "[ -~]{0,24}".prop_map(|s| s),
    ];
    prop::collection::vec(piece, 0..30).prop_map(|v| v.join("\n"))
}

fn report_text() -> impl Strategy<Value = String> {
    let lv = ("[a-z]{1,3}", "[tV-]?[a-z-]{0,9}", "[0-9x]{0,20}", "[a-z,:-]{0,12}", "[0-9.x]{0,6}").prop_map(|(n, a, s, t, d)| {
        format!("{{\"lv_name\":\"{n}\", \"lv_attr\":\"{a}\", \"lv_size\":\"{s}\", \"lv_tags\":\"{t}\", \"data_percent\":\"{d}\"}}")
    });
    ("[0-9x]{0,20}", "[0-9]{0,12}", prop::collection::vec(lv, 0..5), any::<bool>()).prop_map(|(size, ext, lvs, vg_ok)| {
        let vg = if vg_ok { "v" } else { "w" };
        format!("{{\"report\": [{{\"vg\": [{{\"vg_name\":\"{vg}\", \"vg_size\":\"{size}\", \"vg_free\":\"1\", \"vg_extent_size\":\"{ext}\"}}], \"lv\": [{}]}}]}}", lvs.join(","))
    })
}

proptest! {
    #[test]
    fn ini_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        let text = String::from_utf8_lossy(&bytes);
        let mut ini = Ini::default();
        let mut p = vec![];
        ini.merge_text(Path::new("f.conf"), &text, &mut p);
    }

    #[test]
    fn ini_structured(text in ini_text()) {
        let mut ini = Ini::default();
        let mut p = vec![];
        ini.merge_text(Path::new("f.conf"), &text, &mut p);
        // every error names a line inside the file
        for e in p.iter().filter(|e| e.is_error()) {
            prop_assert!(e.line.is_some_and(|l| l >= 1 && l <= text.split('\n').count()), "{e}");
        }
    }

    #[test]
    fn desired_state_never_panics(text in yaml_text()) {
        let c = cfg();
        let lines = text.split('\n').count();
        match ember::desired::parse(Path::new("d.yaml"), &text, &c) {
            Err(problems) => prop_assert!(!problems.is_empty()),
            // each rejected backend says why, each error inside the file
            Ok(d) => {
                for (name, problems) in &d.rejected {
                    prop_assert!(!problems.is_empty(), "{name}");
                    for p in problems {
                        prop_assert!(p.is_error(), "{p}");
                        prop_assert!(p.line.is_none_or(|l| l >= 1 && l <= lines), "{p}");
                    }
                }
            }
        }
    }

    #[test]
    fn desired_state_bytes(bytes in prop::collection::vec(any::<u8>(), 0..1000)) {
        let c = cfg();
        let _ = ember::desired::parse(Path::new("d.yaml"), &String::from_utf8_lossy(&bytes), &c);
    }

    #[test]
    fn sizes_never_panic(s in "[0-9.]{0,30}[kKmMgGtTpPeEiIbB% ]{0,4}") {
        let _ = Bytes::parse(&s);
        if let Ok(spec) = SizeSpec::parse(&s) {
            let _ = spec.resolve(u64::MAX, 4 << 20);
            let _ = spec.resolve(0, 0);
        }
    }

    #[test]
    fn reports_never_panic(text in report_text()) {
        let _ = ember::lvm::report::parse_fullreport(&text, "v");
    }

    #[test]
    fn reports_bytes(bytes in prop::collection::vec(any::<u8>(), 0..1000)) {
        let _ = ember::lvm::report::parse_fullreport(&String::from_utf8_lossy(&bytes), "v");
    }
}
