//! The thin pool over its life, on real LVM: ember's default metadata, a declared metadata
//! size, metadata nearly full, and growth by `autoextend` in `ember plan` and `ember apply`.
//! Every figure is read with the guest's own `lvs -a`, and the metadata rule is checked
//! against thin-provisioning-tools' `thin_metadata_size`.

use super::common::vm::*;
use super::{G, M, host};

/// The guest's view of a pool: (size, metadata size, chunk, data %, metadata %), and the
/// spare's size.
#[derive(Debug)]
struct Pool {
    size: u64,
    metadata: u64,
    chunk: u64,
    data: f64,
    meta: f64,
    spare: u64,
}

fn pool(vg: &str) -> Pool {
    let rows = lvs_rows(
        vg,
        "lv_name,lv_size,lv_metadata_size,chunk_size,data_percent,metadata_percent",
        true,
    );
    let num = |r: &Vec<String>, i: usize| r[i].parse::<u64>().unwrap_or(0);
    let pct = |r: &Vec<String>, i: usize| r[i].parse::<f64>().unwrap_or(0.0);
    let p = rows
        .iter()
        .find(|r| r[0] == format!("{vg}-pool"))
        .unwrap_or_else(|| panic!("no pool in {rows:?}"));
    let spare = rows
        .iter()
        .find(|r| r[0] == "[lvol0_pmspare]")
        .map_or(0, |r| num(r, 1));
    Pool {
        size: num(p, 1),
        metadata: num(p, 2),
        chunk: num(p, 3),
        data: pct(p, 4),
        meta: pct(p, 5),
        spare,
    }
}

/// `thin_metadata_size -b CHUNK -s POOL -m THINS -u b -n`, in bytes.
fn thin_metadata_size(chunk: u64, pool: u64, thins: u64) -> u64 {
    run(
        "thin_metadata_size",
        &[
            "-b",
            &format!("{}k", chunk >> 10),
            "-s",
            &format!("{}k", pool >> 10),
            "-m",
            &thins.to_string(),
            "-u",
            "b",
            "-n",
        ],
    )
    .trim()
    .parse()
    .expect("thin_metadata_size prints a number")
}

#[test]
#[ignore = "VM test: tests/vm/run-tests lvm"]
fn vm_a_pool_created_without_metadata_size_holds_5000_thin_volumes_and_its_spare() {
    require_sandboxed_vm();
    create_vg("vg-meta");
    let s = host(
        &[("lvm-1", "vg-meta", "")],
        "backends:\n  lvm-1:\n    thin_pool: { size: 1G }\n    volumes:\n      v: { size: 1G }\n",
    );
    let free0 = vg_free("vg-meta");
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    let p = pool("vg-meta");
    eprintln!(
        "pool: {p:?}; thin_metadata_size for 5000: {}",
        thin_metadata_size(p.chunk, p.size, 5000)
    );
    assert_eq!((p.size, p.chunk), (G, 64 << 10), "{p:?}");
    assert!(
        p.metadata >= thin_metadata_size(p.chunk, p.size, 5000),
        "the rule promises 5000 thin volumes: {p:?}"
    );
    assert!(p.metadata > 4 * M, "more than lvm's own 4 MiB: {p:?}");
    assert_eq!(p.spare, p.metadata, "lvm's spare beside it: {p:?}");
    assert!(
        r.stdout.contains(&format!(
            "+ create thin pool vg-meta-pool 1.0 GiB (metadata {}",
            ember::size::Bytes(p.metadata)
        )),
        "the plan says the metadata size: {r:?}"
    );
    // the VG space the pool took: data, metadata and spare, as the planner counted them
    assert_eq!(free0 - vg_free("vg-meta"), p.size + 2 * p.metadata);
    // what a thin volume really takes: 200 of them (someone else's), through one lvm shell
    let before = pool("vg-meta");
    lvm_shell(
        &(0..200)
            .map(|i| {
                format!("lvcreate -q --yes --activate n -V 4M -T vg-meta/vg-meta-pool -n f{i}")
            })
            .collect::<Vec<_>>(),
    );
    let after = pool("vg-meta");
    let per_volume = (after.meta - before.meta) / 100.0 * p.metadata as f64 / 200.0;
    // lvm stops creating thin volumes while less than 4 MiB (or 25%) of the metadata is free
    let limit = 100.0 - (4.0 * M as f64 * 100.0 / p.metadata as f64).min(25.0);
    let room = (limit - before.meta) / 100.0 * p.metadata as f64 / per_volume;
    eprintln!(
        "a new pool uses {:.2}% of its metadata; a thin volume takes {per_volume:.0} bytes; lvm's limit {limit:.1}%: room for {room:.0} thin volumes",
        before.meta
    );
    assert!(
        room >= 5000.0,
        "the rule promises 5000 thin volumes: room for {room:.0}"
    );
    let r = s.ember(&["plan"]);
    assert_eq!(r.code, 0, "converged: {r:?}");
}

/// Runs lvm commands through one `lvm` shell process; its stderr.
fn lvm_shell(cmds: &[String]) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("lvm")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = cmds.join("\n");
    input.push('\n');
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
#[ignore = "VM test: tests/vm/run-tests lvm"]
fn vm_metadata_size_grows_an_existing_pool_a_smaller_one_and_another_chunk_are_refused() {
    require_sandboxed_vm();
    create_vg("vg-mgrow");
    let yaml = |meta: &str, chunk: &str| {
        format!(
            "backends:\n  lvm-1:\n    thin_pool: {{ size: 1G, metadata_size: {meta}{chunk} }}\n    volumes:\n      v: {{ size: 256M }}\n"
        )
    };
    let s = host(
        &[("lvm-1", "vg-mgrow", "")],
        &yaml("8M", ", chunk_size: 128K"),
    );
    assert_eq!(s.ember(&["apply"]).code, 0);
    let p = pool("vg-mgrow");
    assert_eq!(
        (p.metadata, p.spare, p.chunk),
        (8 * M, 8 * M, 128 << 10),
        "{p:?}"
    );
    s.write("desired-state.yaml", &yaml("16M", ""));
    let r = s.ember(&["plan"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout.contains(
            "~ extend thin pool vg-mgrow-pool metadata 8.0 MiB -> 16.0 MiB (metadata_size)"
        ),
        "{r:?}"
    );
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    let p = pool("vg-mgrow");
    assert_eq!(
        (p.metadata, p.spare),
        (16 * M, 16 * M),
        "the spare follows: {p:?}"
    );
    // smaller: refused, nothing changes; another chunk size: a warning, nothing changes
    s.write("desired-state.yaml", &yaml("8M", ", chunk_size: 64K"));
    let r = s.ember(&["apply"]);
    assert_eq!(
        r.code, 3,
        "refused (not an error: nothing failed), the desired state not reached: {r:?}"
    );
    assert!(
        r.stdout
            .contains("metadata_size 8.0 MiB: ember never shrinks"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("  Blocked: 1 refused; the desired state is not reached."),
        "the metadata's shrink is refused, the chunk size only a warning: {r:?}"
    );
    assert!(
        r.stdout
            .contains("has chunk size 128.0 KiB, the desired state says 64.0 KiB"),
        "{r:?}"
    );
    let p = pool("vg-mgrow");
    assert_eq!((p.metadata, p.chunk), (16 * M, 128 << 10));
}

#[test]
#[ignore = "VM test: tests/vm/run-tests lvm"]
fn vm_metadata_nearly_full_takes_no_new_volume_until_it_grows() {
    require_sandboxed_vm();
    // 1 MiB extents: the smallest metadata lvm makes (2 MiB), which fills with fewer volumes
    let disk = claim_disk();
    run("pvcreate", &["-q", &disk]);
    run("vgcreate", &["-q", "-s", "1M", "vg-mfull", &disk]);
    let yaml = |meta: &str, extra: &str| {
        format!(
            "backends:\n  lvm-1:\n    thin_pool: {{ size: 1G, metadata_size: {meta} }}\n    volumes:\n      keep: {{ size: 64M }}\n{extra}"
        )
    };
    let s = host(&[("lvm-1", "vg-mfull", "")], &yaml("2M", ""));
    assert_eq!(s.ember(&["apply"]).code, 0);
    assert_eq!(pool("vg-mfull").metadata, 2 * M);
    run(
        "dd",
        &[
            "if=/dev/urandom",
            "of=/dev/vg-mfull/keep",
            "bs=1M",
            "count=8",
            "oflag=direct",
            "status=none",
        ],
    );
    let sum = run("sha256sum", &["/dev/vg-mfull/keep"]);
    // fill the metadata with someone else's thin volumes, through one lvm shell a batch, until
    // lvm itself refuses (it keeps 25% of a metadata under 16 MiB free)
    let mut made = 0;
    let mut refused = false;
    while !refused && made < 1000 {
        let cmds: Vec<String> = (made..made + 50)
            .map(|i| {
                format!("lvcreate -q --yes --activate n -V 4M -T vg-mfull/vg-mfull-pool -n f{i}")
            })
            .collect();
        let err = lvm_shell(&cmds);
        made += 50;
        refused = err.contains("reached threshold");
    }
    let p = pool("vg-mfull");
    eprintln!("{made} foreign thin volumes tried: {p:?}");
    assert!(refused && p.meta >= 74.0, "lvm refused at 75%: {p:?}");
    let r = s.ember(&["plan"]);
    assert_eq!(r.code, 0, "nothing else to do, nothing breaks: {r:?}");
    s.write(
        "desired-state.yaml",
        &yaml("2M", "      new: { size: 64M }\n"),
    );
    let r = s.ember(&["apply"]);
    assert_eq!(
        r.code, 3,
        "refused (not an error: nothing failed), the desired state not reached: {r:?}"
    );
    assert!(
        r.stdout
            .contains("  Blocked: 1 refused; the desired state is not reached."),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("! refused new: the thin pool vg-mfull-pool's metadata is 7")
            && r.stdout
                .contains("(lvm refuses new thin volumes from 75% of a metadata of 2.0 MiB"),
        "ember says why instead of letting lvm fail: {r:?}"
    );
    assert!(lv("vg-mfull", "new").is_none());
    assert_eq!(
        run("sha256sum", &["/dev/vg-mfull/keep"]),
        sum,
        "the data is intact"
    );
    // grown metadata takes the new volume
    s.write(
        "desired-state.yaml",
        &yaml("8M", "      new: { size: 64M }\n"),
    );
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(lv("vg-mfull", "new").is_some(), "{r:?}");
    let p = pool("vg-mfull");
    assert!(p.metadata == 8 * M && p.meta < 75.0, "{p:?}");
}

#[test]
#[ignore = "VM test: tests/vm/run-tests lvm"]
fn vm_plan_shows_and_apply_does_autoextends_growth_within_its_cap() {
    require_sandboxed_vm();
    create_vg("vg-auto");
    let yaml = |max: &str, extra: &str| {
        format!(
            "backends:\n  lvm-1:\n    thin_pool:\n      size: 256M\n      autoextend: {{ threshold: 80%, step: 25%, max: {max} }}\n    volumes:\n      v: {{ size: 2G }}\n{extra}"
        )
    };
    let s = host(&[("lvm-1", "vg-auto", "")], &yaml("448M", ""));
    assert_eq!(s.ember(&["apply"]).code, 0);
    run(
        "dd",
        &[
            "if=/dev/urandom",
            "of=/dev/vg-auto/v",
            "bs=1M",
            "count=216",
            "oflag=direct",
            "status=none",
        ],
    );
    let p = pool("vg-auto");
    assert!(p.data >= 80.0, "{p:?}");
    let r = s.ember(&["plan"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout
            .contains("~ grow thin pool vg-auto-pool data 256.0 MiB -> 320.0 MiB (usage 8"),
        "{r:?}"
    );
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    let p = pool("vg-auto");
    assert_eq!(p.size, 320 * M, "one step of 25%: {p:?}");
    assert!(p.data < 80.0);
    let dd = |count: &str, seek: &str| {
        run(
            "dd",
            &[
                "if=/dev/urandom",
                "of=/dev/vg-auto/v",
                "bs=1M",
                &format!("count={count}"),
                &format!("seek={seek}"),
                "oflag=direct",
                "status=none",
            ],
        )
    };
    // 300 MiB of 320: one step of 25% again (400 MiB)
    dd("84", "216");
    assert_eq!(s.ember(&["apply"]).code, 0);
    assert_eq!(pool("vg-auto").size, 400 * M);
    // 390 MiB of 400: grown to the cap (448 MiB) and no further; above the threshold there, a
    // new volume waits
    dd("90", "300");
    s.write(
        "desired-state.yaml",
        &yaml("448M", "      new: { size: 64M }\n"),
    );
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 3, "grown to the cap, new refused: {r:?}");
    assert_eq!(pool("vg-auto").size, 448 * M, "{r:?}");
    assert!(r.stdout.contains("warning: thin pool vg-auto-pool at its cap: data 87% of 448.0 MiB, autoextend max 448.0 MiB"), "{r:?}");
    assert!(
        r.stdout
            .contains("! refused new: the thin pool vg-auto-pool is at its cap"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("  Blocked: 1 refused; the desired state is not reached."),
        "{r:?}"
    );
    assert!(lv("vg-auto", "new").is_none());
    // a larger cap lets it grow and take the volume
    s.write(
        "desired-state.yaml",
        &yaml("1G", "      new: { size: 64M }\n"),
    );
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(pool("vg-auto").size > 448 * M && lv("vg-auto", "new").is_some());
}
