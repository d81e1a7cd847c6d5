//! The pure CPU parts of a pass, at sizes beyond any real host (divan):
//! ```text
//! cargo bench --bench pipeline
//! ```
//!
//! - parsing a `lvm fullreport` of 10 000 logical volumes (what one pass reads),
//! - loading a desired state of 10 000 volumes,
//! - planning 10 000 declared volumes against 10 000 existing ones (nothing to do),
//! - loading a 200 KB cinder.conf (oslo.config semantics, 200 backend sections).
//!
//! `bench/run --short` runs each once (`-- --test`) to prove they work.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ember::config::{self, Config, Sources};
use ember::lvm::report::parse_fullreport;
use ember::reconcile::{Policy, plan};

const N: usize = 10_000;
/// The benchmarked backend, `lvm-0`, and its volume group (as cinder_conf() writes them).
const BACKEND: &str = "lvm-0";
const VG: &str = "vg-0";
const SIZES: [u64; 5] = [64, 128, 256, 512, 1024]; // MiB

fn main() {
    divan::main();
}

fn name(i: usize) -> String {
    format!("volume-{i:08x}-1f2e-4b4e-9a51-0f1f2a3b4c5d")
}

/// An lv_uuid in lvm's form (6-4-4-4-4-4-6 letters and digits), one per `i`.
fn uuid(i: usize) -> String {
    let h = format!("{i:012x}");
    format!("{}-aaaa-bbbb-cccc-dddd-eeee-{}", &h[..6], &h[6..])
}

/// A fullreport as lvm 2.03 prints it (the shape of tests/fixtures/lvm/mixed.json).
fn fullreport(n: usize) -> String {
    let mut lvs = String::new();
    let _ = write!(
        lvs,
        r#"{{"lv_name":"{VG}-pool", "lv_attr":"twi-aotz--", "lv_layout":"thin,pool", "lv_size":"{}", "pool_lv":"", "lv_tags":"", "data_percent":"3.91", "metadata_percent":"11.72", "lv_uuid":"{}"}}"#,
        4u64 << 40,
        uuid(usize::MAX >> 40)
    );
    for i in 0..n {
        let _ = write!(
            lvs,
            r#",
{{"lv_name":"{}", "lv_attr":"Vwi-a-tz--", "lv_layout":"thin,sparse", "lv_size":"{}", "pool_lv":"{VG}-pool", "lv_tags":"ember-backend={BACKEND},ember-managed", "data_percent":"0.00", "metadata_percent":"", "lv_uuid":"{}"}}"#,
            name(i),
            SIZES[i % SIZES.len()] << 20,
            uuid(i)
        );
    }
    format!(
        r#"{{"report": [{{"vg": [{{"vg_name":"{VG}", "vg_size":"{}", "vg_free":"{}", "vg_extent_size":"4194304"}}],
"pv": [{{"pv_name":"/dev/vda"}}], "lv": [{lvs}], "pvseg": [], "seg": []}}]}}"#,
        8u64 << 40,
        2u64 << 40
    )
}

fn desired_yaml(n: usize) -> String {
    let mut s = format!("backends:\n  {BACKEND}:\n    thin_pool: {{ size: 4T }}\n    volumes:\n");
    for i in 0..n {
        let _ = writeln!(
            s,
            "      {}: {{ size: {}M }}",
            name(i),
            SIZES[i % SIZES.len()]
        );
    }
    s
}

/// A cinder.conf of about 200 KB: [DEFAULT] with the usual noise, 200 backend sections
/// (`lvm-N` on volume group `vg-N`), and [ember] naming the desired state.
fn cinder_conf(desired: &Path) -> String {
    let backends: Vec<String> = (0..200).map(|i| format!("lvm-{i}")).collect();
    let mut s = String::from("[DEFAULT]\n");
    let _ = writeln!(s, "enabled_backends = {}", backends.join(","));
    for i in 0..400 {
        let _ = writeln!(
            s,
            "# an operator's comment, line {i}, as deployment tools leave them\nopt_{i} = value-{i}"
        );
    }
    let _ = writeln!(s, "\n[ember]\ndesired_state = {}", desired.display());
    s.push_str("\n[backend_defaults]\nvolume_driver = cinder.volume.drivers.lvm.LVMVolumeDriver\nlvm_type = thin\n");
    for (i, b) in backends.iter().enumerate() {
        let _ = writeln!(
            s,
            "\n[{b}]\nvolume_group = vg-{i}\nvolume_backend_name = {b}\nreserved_percentage = 5"
        );
        for k in 0..20 {
            let _ = writeln!(
                s,
                "# tuning note {k}\nextra_option_{k} = a value long enough to look real {k}"
            );
        }
    }
    s
}

struct Files {
    _dir: tempfile::TempDir,
    conf: PathBuf,
    desired: PathBuf,
}

fn files() -> Files {
    let dir = tempfile::tempdir().expect("a temporary directory for the benchmark's files");
    let conf = dir.path().join("cinder.conf");
    let desired = dir.path().join("desired-state.yaml");
    std::fs::write(&conf, cinder_conf(&desired)).expect("write cinder.conf");
    std::fs::write(&desired, desired_yaml(N)).expect("write the desired state");
    Files {
        _dir: dir,
        conf,
        desired,
    }
}

fn load_config(conf: &Path) -> Config {
    let loaded = config::load(&Sources {
        config_files: vec![conf.to_path_buf()],
        config_dirs: vec![],
        allow_insecure_files: true,
    });
    match loaded.config {
        Some(c) => c,
        None => panic!(
            "the generated cinder.conf is invalid: {}",
            loaded.error_text()
        ),
    }
}

#[divan::bench]
fn parse_fullreport_10k(b: divan::Bencher) {
    let json = fullreport(N);
    b.counter(divan::counter::BytesCount::new(json.len()))
        .bench(|| parse_fullreport(divan::black_box(&json), VG).expect("the report parses"));
}

#[divan::bench]
fn load_cinder_conf_200k(b: divan::Bencher) {
    let f = files();
    let size = std::fs::metadata(&f.conf).map(|m| m.len()).unwrap_or(0);
    assert!(size > 190_000, "cinder.conf is {size} bytes");
    b.counter(divan::counter::BytesCount::new(size as usize))
        .bench(|| load_config(divan::black_box(&f.conf)));
}

#[divan::bench]
fn load_desired_state_10k(b: divan::Bencher) {
    let f = files();
    let cfg = load_config(&f.conf);
    b.bench(|| {
        ember::desired::load(divan::black_box(&f.desired), &cfg).expect("the desired state loads")
    });
}

#[divan::bench]
fn plan_10k_converged(b: divan::Bencher) {
    let f = files();
    let cfg = load_config(&f.conf);
    let desired = ember::desired::load(&f.desired, &cfg).expect("the desired state loads");
    let backend = cfg.backend(BACKEND).expect("the benchmarked backend");
    let observed = parse_fullreport(&fullreport(N), VG).expect("the report parses");
    let want = desired
        .backend(BACKEND)
        .expect("the backend in the desired state");
    let policy = Policy {
        max_deletions_per_pass: 5,
        prune_grace: 600,
        now: 1_800_000_000,
        confirmed: false,
    };
    let p = plan(backend, want, &observed, &policy);
    assert!(
        p.actions.is_empty() && p.refused.is_empty(),
        "a converged backend plans nothing: {p:?}"
    );
    b.bench(|| plan(divan::black_box(backend), want, &observed, &policy));
}
