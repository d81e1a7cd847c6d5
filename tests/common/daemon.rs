//! Running `ember daemon` in tests: start it, ask it for status, wait for conditions, and make
//! sure nothing is left running whatever happens.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{Run, ember_in};

pub struct Daemon {
    pub child: Child,
    pub conf: PathBuf,
    pub dir: PathBuf,
    pub extra: Vec<String>,
}

impl Daemon {
    /// `ember --config-file CONF [extra...] daemon`, logging to `dir/daemon.log`.
    pub fn start(dir: &Path, conf: &Path, extra: &[&str]) -> Daemon {
        let log = std::fs::File::create(dir.join("daemon.log")).expect("log file");
        let child = Command::new(super::ember_bin())
            .arg("--config-file")
            .arg(conf)
            .args(extra)
            .arg("daemon")
            .current_dir(dir)
            .env_remove("NOTIFY_SOCKET")
            .env_remove("JOURNAL_STREAM")
            .env("RUST_LOG", "info")
            .env_remove("CLICOLOR_FORCE")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start ember daemon");
        Daemon {
            child,
            conf: conf.to_path_buf(),
            dir: dir.to_path_buf(),
            extra: extra.iter().map(|s| s.to_string()).collect(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("daemon.log")).unwrap_or_default()
    }

    /// Runs an ember client command against this daemon's configuration.
    pub fn ember(&self, args: &[&str]) -> Run {
        let mut a: Vec<&str> = self.extra.iter().map(String::as_str).collect();
        a.extend_from_slice(args);
        ember_in(&self.dir, &self.conf, &a)
    }

    pub fn status(&self) -> Option<serde_json::Value> {
        let r = self.ember(&["status", "--json"]);
        serde_json::from_str(&r.stdout).ok()
    }

    /// Waits until `f(status)` holds; panics with the daemon's log after `secs`.
    pub fn wait_for(
        &self,
        what: &str,
        secs: u64,
        mut f: impl FnMut(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let t = Instant::now();
        loop {
            if let Some(s) = self.status() {
                if f(&s) {
                    super::watchdog::note_wait(what, t.elapsed(), secs);
                    return s;
                }
                if t.elapsed() > Duration::from_secs(secs) {
                    // what a reader needs first (a CI log may keep only the start of this)
                    panic!(
                        "timed out after {secs} s waiting for {what}\n{}\nthe daemon's log, last 40 lines:\n{}\nstatus:\n{s:#}",
                        summary(&s),
                        tail(&self.log(), 40)
                    );
                }
            } else if t.elapsed() > Duration::from_secs(secs) {
                panic!(
                    "timed out after {secs} s waiting for {what}; no status; log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn wait_ready(&self, secs: u64) -> serde_json::Value {
        self.wait_for("ready", secs, |s| s["ready"] == true)
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.pid().to_string()])
            .status()
            .expect("kill");
        assert!(ok.success());
    }

    /// SIGTERM, then wait for exit; returns the exit code.
    pub fn stop(&mut self, secs: u64) -> i32 {
        self.signal("TERM");
        let t = Instant::now();
        loop {
            if let Ok(Some(s)) = self.child.try_wait() {
                return s.code().unwrap_or(-1);
            }
            assert!(
                t.elapsed() < Duration::from_secs(secs),
                "daemon did not stop within {secs} s; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One line per backend: its state, its worker, and what its last pass said.
pub fn summary(s: &serde_json::Value) -> String {
    let mut out = String::new();
    for b in s["backends"].as_array().into_iter().flatten() {
        let last = &b["last_pass"];
        out.push_str(&format!(
            "backend {}: state {}, pid {}, restarts {}, counters {}, problems {}, busy {}, last pass: trigger {}, error {}, refused {}, failed {}\n",
            b["name"], b["state"], b["pid"], b["restarts"], b["counters"],
            b["desired_state_problems"], b["busy"], last["trigger"], last["error"],
            last["refused"], last["failed"]
        ));
    }
    out
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Worker PIDs by backend name, from a status.
pub fn worker_pids(s: &serde_json::Value) -> Vec<(String, u64)> {
    s["backends"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|b| {
                    (
                        b["name"].as_str().unwrap_or("").to_string(),
                        b["pid"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

pub fn backend<'a>(s: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    s["backends"]
        .as_array()
        .and_then(|a| a.iter().find(|b| b["name"] == name))
        .unwrap_or(&serde_json::Value::Null)
}

/// Whether a process is alive (and not a zombie).
pub fn alive(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
}

/// PIDs of `ember worker` processes whose command line mentions `needle`.
pub fn workers_mentioning(needle: &str) -> Vec<u64> {
    let mut out = vec![];
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u64>() else {
            continue;
        };
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.contains(" worker ") && cmd.contains(needle) && alive(pid) {
            out.push(pid);
        }
    }
    out
}
