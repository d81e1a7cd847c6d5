//! The metrics file with the real node_exporter (Debian's prometheus-node-exporter, unpacked by
//! tests/vm/setup-prometheus) and the real promtool, on real LVM: the file passes `promtool
//! check metrics`, node_exporter serves the series with the values `ember status --json`
//! shows, an edit changes them, no reader ever sees a partial file during 100 edits, and a
//! metrics directory that disappears is a warning while the daemon goes on.

use super::common::daemon::*;
use super::common::vm::*;
use super::common::*;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// node_exporter with the textfile collector alone, killed when dropped.
struct NodeExporter(std::process::Child);

impl Drop for NodeExporter {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn scrape() -> Option<String> {
    let mut c = std::net::TcpStream::connect("127.0.0.1:9100").ok()?;
    c.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    c.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .ok()?;
    let mut s = String::new();
    c.read_to_string(&mut s).ok()?;
    Some(s.split_once("\r\n\r\n")?.1.to_string())
}

/// The value of the series `name` whose labels include `labels`, as node_exporter serves it
/// (its own float format and label order).
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (key, v) = l.rsplit_once(' ')?;
        let (n, rest) = key.split_once('{').unwrap_or((key, "}"));
        if n != name {
            return None;
        }
        let got: BTreeMap<&str, &str> = rest
            .trim_end_matches('}')
            .split("\",")
            .filter_map(|kv| kv.split_once("=\""))
            .map(|(k, v)| (k, v.trim_end_matches('"')))
            .collect();
        labels
            .iter()
            .all(|(k, want)| got.get(k) == Some(want))
            .then(|| v.parse().ok())?
    })
}

/// A series (its name, some of its labels) and the value it must have.
type Want<'a> = (&'a str, &'a [(&'a str, &'a str)], Option<f64>);

fn edit(s: &Scratch, text: &str) {
    s.write("desired-state.yaml.new", text);
    std::fs::rename(
        s.path("desired-state.yaml.new"),
        s.path("desired-state.yaml"),
    )
    .unwrap();
}

const ONE: &str =
    "backends:\n  met:\n    thin_pool: { size: 1G }\n    volumes:\n      m1: { size: 64M }\n";
const TWO: &str = "backends:\n  met:\n    thin_pool: { size: 1G }\n    volumes:\n      m1: { size: 64M }\n      m2: { size: 64M }\n";

#[test]
#[ignore = "VM test: tests/vm/run-tests daemon"]
fn vm_metrics_reach_prometheus_through_node_exporter() {
    require_vm("chroot");
    create_vg("vg-met");
    let s = Scratch::new();
    let dir = s.path("textfile");
    std::fs::create_dir(&dir).unwrap();
    s.write(
        "cinder.conf",
        &format!(
            "[DEFAULT]\nenabled_backends = met\n[met]\nvolume_group = vg-met\nlvm_conf_file = None\n[ember]\nrun_dir = {}\nresync_interval = 3600\nmetrics_file = {}/ember.prom\n",
            s.path("run").display(),
            dir.display()
        ),
    );
    s.write("desired-state.yaml", ONE);
    let _ne = NodeExporter(
        std::process::Command::new(prometheus_bin("prometheus-node-exporter"))
            .args([
                "--collector.disable-defaults",
                "--collector.textfile",
                &format!("--collector.textfile.directory={}", dir.display()),
                "--web.listen-address=127.0.0.1:9100",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let d = Daemon::start(s.dir.path(), &s.path("cinder.conf"), &[]);
    // (the pass that wrote is confirmed by a read of its own right after it: until then status
    // keeps what it last read, which may be from before the pool and the volume existed)
    let st = d.wait_for("converged with its pool and volume read", 300, |st| {
        let b = backend(st, "met");
        b["state"] == "converged"
            && b["pool"]["size"].is_u64()
            && b["capacity"]["owned_volumes"] == 1
            && b["capacity"]["provisioned"].as_u64().is_some_and(|p| p > 0)
    });
    let b = backend(&st, "met").clone();

    // the file as written passes promtool's own check (format and naming lints)
    promtool_check_metrics(&s.read("textfile/ember.prom"));

    // node_exporter serves the ember series with status's values (the file is written by a
    // thread of its own after the status changed: it catches up within a moment)
    let be = [("backend", "met")];
    let pool = [("backend", "met"), ("pool", "vg-met-pool")];
    let owned = [("backend", "met"), ("owner", "ember")];
    let want: [Want; 6] = [
        ("node_textfile_scrape_error", &[], Some(0.0)),
        ("ember_backend_converged", &be, Some(1.0)),
        (
            "ember_thin_pool_size_bytes",
            &pool,
            b["pool"]["size"].as_f64(),
        ),
        ("ember_volumes", &owned, Some(1.0)),
        (
            "ember_provisioned_bytes",
            &be,
            b["capacity"]["provisioned"].as_f64(),
        ),
        (
            "ember_volume_group_free_bytes",
            &be,
            b["capacity"]["vg_free"].as_f64(),
        ),
    ];
    let t = Instant::now();
    loop {
        let text = scrape().unwrap_or_default();
        let differ: Vec<String> = want
            .iter()
            .filter(|(name, labels, v)| value(&text, name, labels) != *v)
            .map(|(name, labels, v)| {
                format!(
                    "{name}: {:?}, status says {v:?}",
                    value(&text, name, labels)
                )
            })
            .collect();
        if differ.is_empty() {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "node_exporter serves other values than `ember status` after 60 s: {differ:#?}\n{text}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // an edit: the new volume is counted
    edit(&s, TWO);
    let t = Instant::now();
    while value(
        &scrape().unwrap_or_default(),
        "ember_volumes",
        &[("backend", "met"), ("owner", "ember")],
    ) != Some(2.0)
    {
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "m2 not counted; log:\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // 100 edits while a reader reads the file in a loop: never half a file
    let passes = |st: &serde_json::Value| {
        let c = &backend(st, "met")["counters"];
        ["converged", "pending", "blocked", "error"]
            .iter()
            .map(|k| c[k].as_u64().unwrap_or(0))
            .sum::<u64>()
    };
    let before = passes(&d.status().unwrap());
    let path = dir.join("ember.prom");
    let stop = super::common::watchdog::StopOnDrop::new();
    let reader = {
        let (path, stop) = (path.clone(), stop.flag());
        std::thread::spawn(move || {
            let (mut reads, mut seen) = (0u64, std::collections::HashSet::new());
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let t = std::fs::read_to_string(&path).unwrap();
                assert!(
                    t.starts_with("# HELP ember_info")
                        && t.ends_with('\n')
                        && t.contains("ember_thin_pool_read_timestamp_seconds"),
                    "a partial metrics file:\n{t}"
                );
                seen.insert(t);
                reads += 1;
            }
            (reads, seen.len())
        })
    };
    // (a comment changes nothing and edits closer than the worker's quarter-second debounce
    // coalesce: every tenth edit declares a new volume and waits a little, so that passes, and
    // writes of the file, happen while the reader reads)
    for i in 0..100 {
        let extra: String = (0..=i / 10)
            .filter(|k| *k < i / 10 || i % 10 == 9)
            .map(|k| format!("      e{k}: {{ size: 4M }}\n"))
            .collect();
        edit(&s, &format!("# edit {i}\n{TWO}{extra}"));
        std::thread::sleep(Duration::from_millis(if i % 10 == 9 { 1500 } else { 40 }));
    }
    // the file is written again after a pass that read the last edit
    let t = Instant::now();
    while d.status().is_none_or(|st| passes(&st) <= before + 1) {
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "no pass after the edits; log:\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    d.wait_for("converged after the edits", 120, |st| {
        backend(st, "met")["state"] == "converged"
    });
    std::thread::sleep(Duration::from_secs(2));
    stop.stop();
    let (reads, versions) = reader.join().unwrap();
    assert!(reads > 100, "{reads} reads");
    assert!(versions > 1, "the file never changed during the edits");

    // the directory gone: a warning, and the daemon goes on
    std::fs::remove_dir_all(&dir).unwrap();
    edit(&s, &format!("{TWO}      m3: {{ size: 64M }}\n"));
    let st = d.wait_for("the metrics warning", 120, |st| {
        st["metrics_problem"].is_string() && backend(st, "met")["state"] == "converged"
    });
    assert!(lv("vg-met", "m3").is_some(), "the pass went on: {st:#}");
    assert!(
        d.ember(&["status"])
            .stdout
            .contains("warning: cannot write the metrics file"),
        "{st:#}"
    );
}
