//! A host that cinder-volume ran, made with os-brick's LVM class as cinder's LVM driver makes it
//! (tests/vm/cinder-host.py; os-brick 7.1.1 from tests/vm/setup-osbrick): `ember import`,
//! `ember check`, `ember plan` (adoptions only), `ember apply`; the volumes become ember's with
//! their data byte-identical, the snapshot and a foreign LV untouched.

use super::common::vm::*;
use super::host;

const V1: &str = "volume-8d0b5c52-1f2e-4b4e-9a51-0f1f2a3b4c5d";
const V2: &str = "volume-2c7e0f33-5d3a-4f8a-8e0b-6b1d9c4e7a21";
const V3: &str = "volume-51e6a0b4-90c2-4a7d-b0f4-3c2d1e0f9a88";
const SNAP: &str = "_snapshot-0f9e8d7c-6b5a-4c3d-2e1f-0a9b8c7d6e5f";

/// The checksum of the 8 MiB written at the start of a volume.
fn sha(vg: &str, lv: &str) -> String {
    run(
        "sh",
        &[
            "-c",
            &format!("dd if=/dev/{vg}/{lv} bs=1M count=8 iflag=direct status=none | sha256sum"),
        ],
    )
}

#[test]
#[ignore = "VM test: tests/vm/run-tests lvm"]
fn vm_a_host_cinder_made_is_imported_and_adopted_with_its_data_intact() {
    require_sandboxed_vm();
    create_vg("vg-cinder");
    run(
        "lvcreate",
        &["-q", "--yes", "-L", "64M", "-n", "foreign", "vg-cinder"],
    );
    let root = env!("CARGO_MANIFEST_DIR");
    let python = format!("{root}/target/vm/osbrick/bin/python3");
    assert!(
        std::path::Path::new(&python).exists(),
        "os-brick's venv is missing: tests/vm/run-tests runs tests/vm/setup-osbrick first"
    );
    // os-brick runs lvm through oslo.privsep, which starts its helper with `sudo
    // privsep-helper` (from the venv); as root, sudo is a pass-through (as in bench/guest.py).
    // It runs outside ember's sandbox, as cinder-volume did (privsep changes its capabilities);
    // the shim lives in the project directory, which both sides see.
    let shim = format!("{root}/target/vm/shim");
    std::fs::create_dir_all(&shim).unwrap();
    std::fs::write(format!("{shim}/sudo"), "#!/bin/sh\nexec \"$@\"\n").unwrap();
    run("chmod", &["755", &format!("{shim}/sudo")]);
    let path = format!(
        "{shim}:{root}/target/vm/osbrick/bin:{}",
        std::env::var("PATH").unwrap_or_default()
    );
    let out = run_outside_sandbox(
        &python,
        &[
            &format!("{root}/tests/vm/cinder-host.py"),
            "vg-cinder",
            &format!("volume={V1}:1"),
            &format!("volume={V2}:2"),
            &format!("volume={V3}:1"),
            &format!("snapshot={SNAP}:{V1}"),
        ],
        &[
            ("PATH", &path),
            ("PYTHONWARNINGS", "ignore"),
            ("HOME", "/root"),
        ],
    );
    let made = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "os-brick: {}\n{made}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(made.contains("made 4"), "{made}");
    for v in [V1, V2, V3] {
        run(
            "dd",
            &[
                "if=/dev/urandom",
                &format!("of=/dev/vg-cinder/{v}"),
                "bs=1M",
                "count=8",
                "oflag=direct",
                "status=none",
            ],
        );
    }
    let sums: Vec<String> = [V1, V2, V3].iter().map(|v| sha("vg-cinder", v)).collect();
    let snap0 = lv("vg-cinder", SNAP).expect("cinder's snapshot");
    assert!(
        snap0.attr.ends_with('k'),
        "cinder leaves its snapshots skipped at activation: {snap0:?}"
    );
    let foreign0 = lv("vg-cinder", "foreign").unwrap();

    let s = host(
        &[("lvm-1", "vg-cinder", "lvm_type = thin")],
        "backends: {}\n",
    );
    let r = s.ember(&["import"]);
    assert_eq!(r.code, 0, "{r:?}");
    eprintln!("{}", r.stdout);
    for want in [
        format!("      \"{V1}\": {{ size: 1G }}"),
        format!("      \"{V2}\": {{ size: 2G }}"),
        format!("    snapshots:\n      \"{SNAP}\": {{ volume: \"{V1}\" }}"),
        "      # foreign: a linear LV (this backend is thin)".to_string(),
        "      # vg-cinder-pool: the backend's thin pool".to_string(),
    ] {
        assert!(r.stdout.contains(&want), "{want:?} in {}", r.stdout);
    }
    s.write("desired-state.yaml", &r.stdout);
    let c = s.ember(&["check"]);
    assert_eq!(c.code, 0, "{c:?}");
    let p = s.ember(&["plan"]);
    assert_eq!(p.code, 2, "{p:?}");
    let actions: Vec<&str> = p
        .stdout
        .lines()
        .filter(|l| ["  +", "  ~", "  -"].iter().any(|x| l.starts_with(x)))
        // (and the VG is marked as the backend's with the first write: src/reconcile/plan/guard.rs)
        .filter(|l| !l.starts_with("  ~ mark volume group "))
        .collect();
    assert_eq!(actions.len(), 4, "{p:?}");
    assert!(
        actions
            .iter()
            .all(|a| a.starts_with("  + adopt volume volume-")
                || a.starts_with(&format!("  + adopt snapshot {SNAP} "))),
        "adoptions only: {p:?}"
    );

    let a = s.ember(&["apply"]);
    assert_eq!(a.code, 0, "{a:?}");
    for (v, sum) in [V1, V2, V3].iter().zip(&sums) {
        let l = lv("vg-cinder", v).unwrap();
        assert_eq!(
            l.tags, "ember-adopted,ember-backend=lvm-1,ember-managed",
            "{l:?}"
        );
        assert_eq!(&sha("vg-cinder", v), sum, "{v}: the data is byte-identical");
    }
    let snap = lv("vg-cinder", SNAP).unwrap();
    assert_eq!(
        (snap.size, snap.attr.as_str(), snap.tags.as_str()),
        (
            snap0.size,
            snap0.attr.as_str(),
            "ember-adopted,ember-backend=lvm-1,ember-managed"
        ),
        "the snapshot adopted: tagged, and otherwise as cinder left it (inactive, skipped at activation)"
    );
    assert_eq!(
        lv("vg-cinder", "foreign").unwrap(),
        foreign0,
        "the foreign LV untouched"
    );
    let p = s.ember(&["plan"]);
    assert_eq!(p.code, 0, "a second plan has no changes: {p:?}");

    // from now on they are ember's: a larger size is an extension; without adopt, a new
    // untagged volume of cinder's is refused as before
    run(
        "lvcreate",
        &[
            "-q",
            "--yes",
            "-T",
            "-V",
            "1G",
            "-n",
            "volume-late",
            "vg-cinder/vg-cinder-pool",
        ],
    );
    s.write(
        "desired-state.yaml",
        &format!("backends:\n  lvm-1:\n    volumes:\n      {V1}: {{ size: 1G }}\n      {V2}: {{ size: 3G }}\n      {V3}: {{ size: 1G }}\n      volume-late: {{ size: 1G }}\n"),
    );
    let a = s.ember(&["apply"]);
    assert_eq!(a.code, 3, "{V2} extended, volume-late refused: {a:?}");
    assert!(
        a.stdout
            .contains(&format!("~ extend volume {V2} 2.0 GiB -> 3.0 GiB")),
        "{a:?}"
    );
    assert!(
        a.stdout
            .contains("  Blocked: 1 refused; the desired state is not reached."),
        "{a:?}"
    );
    assert!(
        a.stdout
            .contains("! refused volume-late: an LV with this name exists without ember's tag"),
        "{a:?}"
    );
    assert_eq!(lv("vg-cinder", V2).unwrap().size, 3 << 30);
    assert_eq!(
        sha("vg-cinder", V2),
        sums[1],
        "the data is there after the extension"
    );
}
