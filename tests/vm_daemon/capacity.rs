//! `ember status` shows the capacity figures cinder's LVM driver would report, computed here
//! from the guest's own `lvs` and `vgs` with cinder's formulas (os-brick 7.1.1's own thin
//! figures cannot be used on Debian 12's lvm2: it reads `data_percent` with `lvs --readonly`,
//! which that lvm leaves empty).

use super::common::daemon::*;
use super::common::vm::*;
use super::common::*;

/// `lvs` of one field set, as (name, size, data_percent).
fn lvs_usage(vg: &str) -> Vec<(String, u64, f64)> {
    lvs_rows(vg, "lv_name,lv_size,data_percent", false)
        .into_iter()
        .filter_map(|f| {
            Some((
                f.first()?.to_string(),
                f.get(1)?.parse().ok()?,
                f.get(2).and_then(|p| p.parse().ok()).unwrap_or(0.0),
            ))
        })
        .collect()
}

#[test]
#[ignore = "VM test: tests/vm/run-tests daemon"]
fn vm_status_capacity_is_cinders() {
    require_vm("chroot");
    create_vg("vg-cap");
    let s = Scratch::new();
    s.write(
        "cinder.conf",
        &format!(
            "[DEFAULT]\nenabled_backends = cap\n[cap]\nvolume_group = vg-cap\nlvm_conf_file = None\nmax_over_subscription_ratio = auto\n[ember]\nrun_dir = {}\nresync_interval = 3600\n",
            s.path("run").display()
        ),
    );
    s.write(
        "desired-state.yaml",
        "backends:\n  cap:\n    thin_pool: { size: 1G }\n    volumes:\n      c1: { size: 256M }\n      c2: { size: 64M }\n",
    );
    let mut d = Daemon::start(s.dir.path(), &s.path("cinder.conf"), &[]);
    d.wait_for("converged", 300, |st| {
        backend(st, "cap")["state"] == "converged"
    });
    // a foreign thin volume and a foreign linear one, some data
    run(
        "lvcreate",
        &[
            "-q",
            "--yes",
            "--type",
            "thin",
            "-V",
            "128M",
            "--thinpool",
            "vg-cap-pool",
            "-n",
            "foreign-thin",
            "vg-cap",
        ],
    );
    run(
        "lvcreate",
        &["-q", "--yes", "-L", "32M", "-n", "foreign-linear", "vg-cap"],
    );
    run(
        "dd",
        &[
            "if=/dev/urandom",
            "of=/dev/vg-cap/c1",
            "bs=1M",
            "count=48",
            "oflag=direct",
            "status=none",
        ],
    );
    assert_eq!(d.ember(&["reconcile"]).code, 0);
    std::thread::sleep(std::time::Duration::from_secs(8));
    let st = d.wait_for("a pass after the changes", 120, |st| {
        backend(st, "cap")["capacity"]["volumes"] == 4
    });
    let c = &backend(&st, "cap")["capacity"];

    // cinder's formulas (cinder/volume/drivers/lvm.py _update_volume_stats, thin)
    let lvs = lvs_usage("vg-cap");
    let pool = lvs.iter().find(|l| l.0 == "vg-cap-pool").expect("the pool");
    let total = pool.1;
    let free = (pool.1 as f64 * (1.0 - pool.2 / 100.0)) as u64;
    let provisioned: u64 = lvs
        .iter()
        .filter(|l| l.0 != "vg-cap-pool")
        .map(|l| l.1)
        .sum();
    // auto: 1 + provisioned / (used + 1), in GiB
    let gib = (1u64 << 30) as f64;
    let used = pool.1 as f64 * pool.2 / 100.0;
    let ratio = 1.0 + (provisioned as f64 / gib) / (used / gib + 1.0);
    eprintln!(
        "cinder: total {total} free {free} provisioned {provisioned} ratio {ratio:.4}; ember: {c}"
    );
    assert_eq!(c["total"].as_u64(), Some(total));
    // lvm prints data_percent with two decimals in both reads: the figures match to that
    let free_ember = c["free"].as_u64().unwrap();
    assert!(
        free_ember.abs_diff(free) <= total / 10_000 + 1,
        "free {free_ember} vs {free}"
    );
    assert_eq!(c["provisioned"].as_u64(), Some(provisioned), "{c}");
    let r = c["max_over_subscription_ratio"].as_f64().unwrap();
    assert!((r - ratio).abs() < 1e-3, "ratio {r} vs {ratio}");
    assert_eq!(d.stop(60), 0);
}
