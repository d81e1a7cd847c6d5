//! The daemon watches its thin pool and grows it before it fills, on real LVM: a pool written
//! past its threshold is grown within 20 s by the pool check (passes are an hour apart here),
//! step by step, never past its cap; a burst that fills the pool before the next check is
//! grown at once and the writer's `dd` completes without an I/O error; at the cap the status
//! says why it cannot grow and a new volume is refused; the data written stays intact. A
//! second writer times each of its synchronous writes, which measures the I/O pause a growth
//! causes (printed; docs/reliability.md has the figures).

use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::common::daemon::*;
use super::common::vm::*;
use super::common::*;

const M: u64 = 1 << 20;
const CAP: u64 = 384 * M;

/// The pool's (size, data %), from the guest's `lvs`.
fn pool() -> (u64, f64) {
    let rows = lvs_rows("vg-ae/vg-ae-pool", "lv_size,data_percent", false);
    (rows[0][0].parse().unwrap(), rows[0][1].parse().unwrap())
}

/// Writes `count` MiB of random data into the volume `data` at `seek` MiB; the exit code and
/// the region's checksum (read back).
fn write(seek: u64, count: u64) -> (i32, String) {
    let st = std::process::Command::new("dd")
        .args([
            "if=/dev/urandom",
            "of=/dev/vg-ae/data",
            "bs=1M",
            &format!("count={count}"),
            &format!("seek={seek}"),
            "oflag=direct",
            "status=none",
        ])
        .status()
        .unwrap();
    (st.code().unwrap_or(-1), checksum(seek, count))
}

fn checksum(skip: u64, count: u64) -> String {
    run(
        "sh",
        &[
            "-c",
            &format!(
                "dd if=/dev/vg-ae/data bs=1M skip={skip} count={count} iflag=direct status=none | sha256sum"
            ),
        ],
    )
}

/// Waits until the pool is under the threshold or at its cap: how long it took, and when a
/// growth was seen (if one was).
fn grown(d: &Daemon, limit: u64, sizes: &mut Vec<u64>) -> (Duration, Option<Instant>) {
    let t = Instant::now();
    let mut seen = None;
    loop {
        let (size, data) = pool();
        if sizes.last() != Some(&size) {
            sizes.push(size);
            seen = Some(Instant::now());
        }
        assert!(size <= CAP, "never past the cap: {size}");
        if data < 80.0 || size == CAP {
            return (t.elapsed(), seen);
        }
        assert!(
            t.elapsed() < Duration::from_secs(limit),
            "the pool ({size} bytes, data {data}%) was not grown within {limit} s; log:\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// A writer that times synchronous 64 KiB writes over the first 4 MiB of `probe` until told
/// to stop: (when, how long) for each.
fn probe(stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Vec<(Instant, Duration)>> {
    std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_DSYNC)
            .open("/dev/vg-ae/probe")
            .unwrap();
        let buf = vec![0x5au8; 64 << 10];
        let mut v = vec![];
        let mut off = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let t = Instant::now();
            f.seek(SeekFrom::Start(off)).unwrap();
            f.write_all(&buf).unwrap();
            v.push((t, t.elapsed()));
            off = (off + (64 << 10)) % (4 * M);
            std::thread::sleep(Duration::from_millis(20));
        }
        v
    })
}

#[test]
#[ignore = "VM test: tests/vm/run-tests daemon"]
fn vm_the_daemon_grows_a_filling_pool_within_20_s_never_past_its_cap() {
    require_vm("chroot");
    create_vg("vg-ae");
    let s = Scratch::new();
    s.write(
        "cinder.conf",
        &format!(
            "[DEFAULT]\nenabled_backends = ae\n[ae]\nvolume_group = vg-ae\nlvm_conf_file = None\n[ember]\nrun_dir = {}\nresync_interval = 3600\n",
            s.path("run").display()
        ),
    );
    let desired = |extra: &str| {
        format!(
            "backends:\n  ae:\n    thin_pool:\n      size: 128M\n      autoextend: {{ threshold: 80%, step: 25%, max: 384M }}\n    volumes:\n      data: {{ size: 1G }}\n      probe: {{ size: 64M }}\n{extra}"
        )
    };
    s.write("desired-state.yaml", &desired(""));
    let d = Daemon::start(s.dir.path(), &s.path("cinder.conf"), &[]);
    d.wait_for("converged", 300, |st| {
        backend(st, "ae")["state"] == "converged"
    });
    let stop = super::common::watchdog::StopOnDrop::new();
    let writer = probe(stop.flag());
    let mut sizes = vec![pool().0];
    let mut sums = vec![];
    let mut growths = vec![];

    // past the threshold: grown within 20 s (passes are an hour apart: the pool check does it)
    let (rc, sum) = write(0, 106);
    assert_eq!(rc, 0);
    sums.push((0, 106, sum));
    let (took, seen) = grown(&d, 20, &mut sizes);
    growths.extend(seen);
    eprintln!("grown {took:?} after the write ended: {sizes:?}");
    assert!(sizes.len() >= 2 && sizes[1] > 128 * M);

    // a burst that fills the pool before the next check (the check that just grew it ran
    // within the last second; the next is 10 s away): grown at once by that check, the writes
    // the kernel held complete, dd sees no error
    let (size, _) = pool();
    let burst = size / M - 100 + 60;
    let t = Instant::now();
    let (rc, sum) = write(106, burst);
    eprintln!(
        "burst of {burst} MiB into a pool of {size} bytes: dd exit {rc} after {:?}",
        t.elapsed()
    );
    assert_eq!(
        rc,
        0,
        "the burst's writes completed without an I/O error; log:\n{}",
        d.log()
    );
    sums.push((106, burst, sum));
    grown(&d, 20, &mut sizes);
    let mut written = 106 + burst;
    let log = d.log();
    assert!(
        log.contains("(lvm marks it out of data space: grown at once)")
            || log.contains("(usage 100% >= 80%)"),
        "the full pool was grown: {log}"
    );

    // step by step up to the cap, never past it
    loop {
        let (size, data) = pool();
        if size == CAP && data >= 80.0 {
            break;
        }
        let room = (size as f64 * (1.0 - data / 100.0)) as u64 / M;
        let n = room.saturating_sub(4).min(24);
        assert!(
            n > 0,
            "the pool is {size} bytes, {data}% full, and not grown: {sizes:?}"
        );
        let (rc, sum) = write(written, n);
        assert_eq!(rc, 0);
        sums.push((written, n, sum));
        written += n;
        let (_, seen) = grown(&d, 20, &mut sizes);
        growths.extend(seen);
    }
    eprintln!("pool sizes seen: {sizes:?}");
    assert!(
        sizes.windows(2).all(|w| w[0] < w[1]),
        "only grows: {sizes:?}"
    );
    assert_eq!(*sizes.last().unwrap(), CAP);

    // at the cap: status says why it cannot grow, a new volume is refused
    let st = d.wait_for("the cap in status", 30, |st| {
        backend(st, "ae")["pool"]["cannot_grow"]
            .as_str()
            .is_some_and(|w| w.contains("at its cap"))
    });
    eprintln!("{:#}", backend(&st, "ae")["pool"]);
    let text = d.ember(&["status"]).stdout;
    assert!(
        text.contains("cannot grow: thin pool vg-ae-pool at its cap: data 8"),
        "{text}"
    );
    assert!(
        text.contains("autoextend: at 80% by 25% of the current size, up to 384.0 MiB"),
        "{text}"
    );
    s.write("desired-state.yaml", &desired("      new: { size: 16M }\n"));
    let st = d.wait_for("the new volume refused", 60, |st| {
        backend(st, "ae")["last_pass"]["refused"]
            .as_array()
            .is_some_and(|r| {
                r.iter().any(|x| {
                    x.as_str()
                        .is_some_and(|x| x.contains("new: the thin pool vg-ae-pool is at its cap"))
                })
            })
    });
    assert!(lv("vg-ae", "new").is_none());
    assert_eq!(backend(&st, "ae")["state"], "blocked", "{st:#}");

    // the data written before every growth is intact
    for (skip, count, sum) in &sums {
        assert_eq!(&checksum(*skip, *count), sum, "{count} MiB at {skip} MiB");
    }
    stop.stop();
    let lat = writer.join().unwrap();
    pause_report(&lat, &growths);
}

/// The probe's latencies: the median, and the longest of the writes that started in the
/// 5 s before each growth was seen (one of them spans the growth's suspend of the pool).
fn pause_report(lat: &[(Instant, Duration)], growths: &[Instant]) {
    let mut all: Vec<Duration> = lat.iter().map(|l| l.1).collect();
    all.sort();
    let median = all[all.len() / 2];
    let around: Vec<Duration> = growths
        .iter()
        .map(|g| {
            lat.iter()
                .filter(|(t, _)| *t <= *g && *g - *t < Duration::from_secs(5))
                .map(|l| l.1)
                .max()
                .unwrap_or_default()
        })
        .collect();
    eprintln!(
        "I/O pause: {} synchronous 64 KiB writes, median {median:?}; the longest write around each of {} growths: {around:?}",
        all.len(),
        growths.len()
    );
    assert!(!growths.is_empty());
}
