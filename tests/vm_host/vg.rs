//! The volume group declared from its devices (`volume_group: { devices: [...] }`), on real
//! LVM: blank disks and disks holding an ext4 filesystem, a partition table, a PV of another
//! VG and a mounted filesystem. Nothing but blank devices is ever written (the first MiB of
//! every refused device is checksummed before and after); the VG is created and converged in
//! one apply, extended with a new blank disk, and a disk dropped from the list stays in it.

use super::common::vm::*;
use super::support::*;

const VG: &str = "vg-declared";
const MNT: &str = "/run/ember-vg-mounted";

/// The disk's stable path: vm-run gives disk N the serial `vmdiskN`.
fn by_id(disk: &str) -> String {
    let disks = std::env::var("VM_DISKS").unwrap_or_default();
    let i = disks
        .split_whitespace()
        .position(|d| d == disk)
        .unwrap_or_else(|| panic!("{disk} not in VM_DISKS"));
    format!("/dev/disk/by-id/virtio-vmdisk{i}")
}

/// The checksum of a device's first MiB, read past the page cache.
fn first_mib(dev: &str) -> String {
    run(
        "sh",
        &[
            "-c",
            &format!("dd if={dev} bs=1M count=1 iflag=direct status=none | sha256sum"),
        ],
    )
}

/// A DOS partition table with one partition, written as fdisk would write it.
fn write_partition_table(dev: &str) {
    use std::io::{Seek, SeekFrom, Write};
    let mut mbr = [0u8; 512];
    // one Linux partition (type 0x83) from sector 2048, 65536 sectors long
    let entry = &mut mbr[446..462];
    entry[4] = 0x83;
    entry[8..12].copy_from_slice(&2048u32.to_le_bytes());
    entry[12..16].copy_from_slice(&65536u32.to_le_bytes());
    mbr[440..444].copy_from_slice(&0x1234_5678u32.to_le_bytes());
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    let mut f = std::fs::OpenOptions::new().write(true).open(dev).unwrap();
    f.seek(SeekFrom::Start(0)).unwrap();
    f.write_all(&mbr).unwrap();
    f.sync_all().unwrap();
}

fn outside(script: &str) {
    let out = run_outside_sandbox("sh", &["-c", script], &[]);
    assert!(
        out.status.success(),
        "{script}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn desired(devices: &[&str]) -> String {
    format!(
        "backends:\n  lvm-1:\n    volume_group: {{ devices: [{}] }}\n    thin_pool: {{ size: 50% }}\n    volumes:\n      volume-1: {{ size: 1G }}\n      volume-2: {{ size: 3G }}\n",
        devices.join(", ")
    )
}

/// The VG's PVs, by kernel name, as the guest's own `pvs` reports them.
fn pvs_of(vg: &str) -> Vec<String> {
    let mut v: Vec<String> = run("pvs", &["--noheadings", "-o", "pv_name,vg_name"])
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.get(1) == Some(&vg)).then(|| f[0].to_string())
        })
        .collect();
    v.sort();
    v
}

#[test]
#[ignore = "VM test: tests/vm/run-tests host"]
fn vm_vg_is_created_from_blank_disks_only_extended_and_never_reduced() {
    require_cinder_host();
    let [blank1, blank2, ext4, table, other_pv, mounted, blank3] =
        std::array::from_fn(|_| claim_disk());
    run("mkfs.ext4", &["-q", &ext4]);
    write_partition_table(&table);
    run("pvcreate", &["-q", &other_pv]);
    run("vgcreate", &["-q", "vg-someone-else", &other_pv]);
    run("mkfs.ext4", &["-q", &mounted]);
    // read-only: a mounted ext4 writes its own superblock now and then, which is not ember's
    outside(&format!(
        "mkdir -p {MNT} && mount -o ro,noload {mounted} {MNT}"
    ));
    run("udevadm", &["settle"]);
    let all = [
        &blank1, &blank2, &ext4, &table, &other_pv, &mounted, &blank3,
    ];
    let before: Vec<String> = all.iter().map(|d| first_mib(d)).collect();
    let unchanged = |which: &[&String]| {
        for d in which {
            let i = all.iter().position(|a| a == d).unwrap();
            assert_eq!(first_mib(d), before[i], "{d} was written to");
        }
    };
    let ids: Vec<String> = all.iter().map(|d| by_id(d)).collect();
    let id = |d: &String| ids[all.iter().position(|a| *a == d).unwrap()].clone();

    // the whole list: four devices are not blank, so nothing is created or written
    let s = cinder_host(
        &[("lvm-1", VG, "lvm_type = thin")],
        &desired(&[
            &id(&blank1),
            &id(&blank2),
            &id(&ext4),
            &id(&table),
            &id(&other_pv),
            &id(&mounted),
        ]),
    );
    let r = s.ember(&["plan"]);
    assert_eq!(r.code, 3, "only refusals: {r:?}");
    for needle in [
        format!("! refused {}: holds an ext4 filesystem", id(&ext4)),
        format!(
            "! refused {}: has partitions ({}1); holds a dos partition table",
            id(&table),
            table.trim_start_matches("/dev/")
        ),
        format!(
            "! refused {}: holds an LVM label (a physical volume)",
            id(&other_pv)
        ),
        format!("! refused {}: is mounted at {MNT}", id(&mounted)),
        format!("! refused {VG}: volume group not created: 4 of its 6 devices cannot be used"),
    ] {
        assert!(r.stdout.contains(&needle), "{needle}\n{r:?}");
    }
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(pvs_of(VG).is_empty(), "{r:?}");
    unchanged(&all[..6]);
    // lvm itself, without --force or --yes (as ember runs it), refuses a device with a
    // signature: the second line of defence
    let out = std::process::Command::new("pvcreate")
        .args(["--", &ext4])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success(), "{out:?}");
    unchanged(&[&ext4]);

    // the two blank disks: the VG, its pool and its volumes in one apply
    s.write(
        "desired-state.yaml",
        &desired(&[&id(&blank1), &id(&blank2)]),
    );
    let r = s.ember(&["plan"]);
    assert_eq!(r.code, 2, "{r:?}");
    let create = format!(
        "+ create volume group {VG} on {}, {} (4.0 GiB, metadata area 16.0 MiB per device)",
        id(&blank1),
        id(&blank2)
    );
    assert!(r.stdout.contains(&create), "{r:?}");
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("Converged."), "{r:?}");
    assert_eq!(pvs_of(VG), vec![blank1.clone(), blank2.clone()]);
    assert_eq!(
        run("vgs", &["--noheadings", "-o", "vg_tags", VG]).trim(),
        "ember-backend=lvm-1"
    );
    let mda: u64 = run(
        "pvs",
        &[
            "--noheadings",
            "--units",
            "b",
            "--nosuffix",
            "-o",
            "pv_mda_size",
            &blank1,
        ],
    )
    .trim()
    .parse()
    .unwrap();
    assert!(mda >= 15 << 20, "metadata area {mda}");
    for (name, size) in [("volume-1", 1u64 << 30), ("volume-2", 3 << 30)] {
        let v = lv(VG, name).unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(
            (v.size, v.pool.as_str()),
            (size, "vg-declared-pool"),
            "{v:?}"
        );
    }
    assert_eq!(s.ember(&["plan"]).code, 0);
    unchanged(&all[2..6]);

    // a new blank disk is added; the ext4 disk listed with it is refused and untouched
    s.write(
        "desired-state.yaml",
        &desired(&[&id(&blank1), &id(&blank2), &id(&blank3), &id(&ext4)]),
    );
    let r = s.ember(&["plan"]);
    assert!(
        r.stdout.contains(&format!(
            "~ extend volume group {VG} with {} (+2.0 GiB",
            id(&blank3)
        )) && r.stdout.contains(&format!(
            "! refused {}: holds an ext4 filesystem",
            id(&ext4)
        )),
        "{r:?}"
    );
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert_eq!(
        pvs_of(VG),
        vec![blank1.clone(), blank2.clone(), blank3.clone()]
    );
    unchanged(&all[2..6]);

    // a disk dropped from the list stays (a warning); a kernel name is a warning too
    s.write("desired-state.yaml", &desired(&[&id(&blank1), &blank3]));
    let r = s.ember(&["check"]);
    assert!(
        r.stderr
            .contains(&format!("device {blank3} is a kernel name"))
            || r.stdout
                .contains(&format!("device {blank3} is a kernel name")),
        "{r:?}"
    );
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(&format!(
            "physical volume {blank2} of volume group {VG} is not listed"
        )),
        "{r:?}"
    );
    assert_eq!(
        pvs_of(VG),
        vec![blank1.clone(), blank2.clone(), blank3.clone()]
    );
    unchanged(&all[2..6]);
    outside(&format!("umount {MNT}"));
}

#[test]
#[ignore = "VM test: tests/vm/run-tests host"]
fn vm_vg_the_daemon_creates_the_vg_from_its_blank_disk_and_converges_it() {
    use super::common::daemon::{Daemon, backend};
    require_cinder_host();
    const DVG: &str = "vg-declared-daemon";
    let [blank, ext4] = std::array::from_fn(|_| claim_disk());
    run("mkfs.ext4", &["-q", &ext4]);
    let before = first_mib(&ext4);
    let yaml = |devices: &[&str]| {
        format!(
            "backends:\n  lvm-d:\n    volume_group: {{ devices: [{}] }}\n    volumes:\n      volume-1: {{ size: 1G }}\n",
            devices.join(", ")
        )
    };
    let s = cinder_host(
        &[("lvm-d", DVG, "lvm_type = thin")],
        &yaml(&[&by_id(&blank), &by_id(&ext4)]),
    );
    let mut d = Daemon::start(s.dir.path(), &s.path("cinder.conf"), &[]);
    let st = d.wait_for("lvm-d blocked", 300, |st| {
        st["ready"] == true && backend(st, "lvm-d")["state"] == "blocked"
    });
    assert!(
        st.to_string().contains("holds an ext4 filesystem"),
        "{st:#}"
    );
    assert!(pvs_of(DVG).is_empty());
    assert_eq!(first_mib(&ext4), before);

    // the list corrected: the daemon's worker makes the VG, its pool and the volume in a pass
    s.write("desired-state.yaml", &yaml(&[&by_id(&blank)]));
    d.wait_for("lvm-d converged", 300, |st| {
        backend(st, "lvm-d")["state"] == "converged"
    });
    assert_eq!(pvs_of(DVG), vec![blank.clone()]);
    assert_eq!(
        run("vgs", &["--noheadings", "-o", "vg_tags", DVG]).trim(),
        "ember-backend=lvm-d"
    );
    let v = lv(DVG, "volume-1").expect("volume-1 created by the daemon");
    assert_eq!(
        (v.size, v.pool.as_str()),
        (1 << 30, "vg-declared-daemon-pool")
    );
    assert_eq!(first_mib(&ext4), before);
    assert_eq!(d.stop(60), 0, "{}", d.log());
}

#[test]
#[ignore = "VM test: tests/vm/run-tests host"]
fn vm_vg_a_pv_whose_device_grew_is_resized() {
    require_cinder_host();
    const GVG: &str = "vg-declared-grown";
    const IMG: &str = "/run/ember-vg-grown.img";
    // a loop device (made outside the sandbox, as an operator would), grown later as a SAN LUN
    // or a cloud disk grows
    let out = run_outside_sandbox(
        "sh",
        &[
            "-c",
            &format!("truncate -s 256M {IMG} && losetup --show -f {IMG}"),
        ],
        &[],
    );
    assert!(out.status.success(), "{out:?}");
    let dev = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let s = cinder_host(
        &[("lvm-g", GVG, "lvm_type = thin")],
        &format!(
            "backends:\n  lvm-g:\n    volume_group: {{ devices: [{dev}] }}\n    volumes: {{}}\n"
        ),
    );
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(pvs_of(GVG), vec![dev.clone()]);
    let size = || vg_size(GVG);
    let small = size();
    assert_eq!(s.ember(&["plan"]).code, 0);

    outside(&format!("truncate -s 512M {IMG} && losetup -c {dev}"));
    let r = s.ember(&["plan"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout
            .contains(&format!("~ resize physical volume {dev} ")),
        "{r:?}"
    );
    let r = s.ember(&["apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(size(), small + (256 << 20), "grown by what the device grew");
    let r = s.ember(&["plan"]);
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
#[ignore = "VM test: tests/vm/run-tests host"]
fn vm_vg_a_device_that_changed_after_the_plan_is_not_written() {
    use std::sync::atomic::AtomicBool;

    use ember::lvm::{LvmOptions, LvmSpec};
    use ember::names::VgName;
    use ember::reconcile::{self, Policy, apply::Options};
    require_cinder_host();
    const RVG: &str = "vg-declared-raced";
    let [blank, changed] = std::array::from_fn(|_| claim_disk());
    let lvm = LvmSpec::Exec("lvm".into()).writer(&LvmOptions {
        lvm_conf_file: Some("/etc/cinder/lvm.conf".into()),
        suppress_fd_warnings: false,
        read_timeout: std::time::Duration::from_secs(120),
        write_warn_after: std::time::Duration::from_secs(300),
        use_shell: true,
        keep_shell: false,
        state_dir: None,
    });
    let mut cfg = super::common::backend_config(true, 20.0);
    cfg.volume_group = RVG.into();
    let desired: ember::desired::BackendDesired = serde_yaml::from_str(&format!(
        "volume_group: {{ devices: [{}, {}] }}\nvolumes: {{}}\n",
        by_id(&blank),
        by_id(&changed)
    ))
    .unwrap();
    let policy = Policy {
        max_deletions_per_pass: 5,
        prune_grace: 600,
        now: 1_800_000_000,
        confirmed: false,
    };
    let (_, plan) =
        reconcile::observe_and_plan(&cfg, Some(&desired), lvm.as_ref(), &policy).unwrap();
    assert_eq!(plan.vg_actions.len(), 1, "{plan:?}");
    let blank_before = first_mib(&blank);
    // between the plan and its writes, someone makes a filesystem on one of the disks
    run("mkfs.ext4", &["-q", &changed]);
    let changed_before = first_mib(&changed);
    let vg = VgName::new(RVG).unwrap();
    let out = reconcile::apply(
        lvm.as_ref(),
        &vg,
        &plan,
        None,
        Options::default(),
        &AtomicBool::new(false),
    );
    assert!(out.vg_done.is_empty(), "{out:?}");
    assert!(
        out.vg_failed[0]
            .error
            .contains("changed since the plan: it holds an ext4 filesystem; nothing written to it"),
        "{out:?}"
    );
    assert!(pvs_of(RVG).is_empty());
    assert_eq!(
        first_mib(&blank),
        blank_before,
        "the blank disk was written to"
    );
    assert_eq!(
        first_mib(&changed),
        changed_before,
        "the changed disk was written to"
    );
}
