//! Helpers shared by the integration tests: run the real `ember` binary in a scratch directory.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Self {
        Scratch {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).expect("write");
        p
    }
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).expect("read")
    }
    /// Runs `ember --config-file <dir>/cinder.conf <args>`.
    pub fn ember(&self, args: &[&str]) -> Run {
        ember_in(self.dir.path(), &self.path("cinder.conf"), args)
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

pub fn ember_bin() -> &'static str {
    env!("CARGO_BIN_EXE_ember")
}

/// The command that runs `ember`: the binary itself, or, where the suite asks for it
/// (`VM_EMBER_SANDBOX`, set by tests/vm/run-tests for the exports suite, whose initiators cannot
/// run under the unit's sandbox), the binary under the shipped unit's sandbox
/// (tests/vm/sandboxed), as the daemon runs.
fn ember_command() -> Command {
    match std::env::var_os("VM_EMBER_SANDBOX") {
        Some(wrap) => {
            let mut c = Command::new(wrap);
            c.arg(ember_bin());
            c
        }
        None => Command::new(ember_bin()),
    }
}

pub fn ember_in(dir: &Path, conf: &Path, args: &[&str]) -> Run {
    let out: Output = ember_command()
        .arg("--config-file")
        .arg(conf)
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        // colour only when a test asks for it (tests/color_sim.rs)
        .env_remove("CLICOLOR_FORCE")
        .output()
        .expect("run ember");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    // every --json document any test sees matches its shipped schema
    if let Some(command) = json::command_of(args) {
        json::validate(command, &run.stdout);
    }
    run
}
/// Whether the test runs as root. Where it does not, the test says so loudly and returns; under
/// CI (`CI=true`, which runs as root) not being root is a failure, never a silent pass.
pub fn is_root_or_say_so(what: &str) -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{what} needs root, and CI runs as root: this run is not as it should be"
    );
    eprintln!("!!! NOT TESTED (not root): {what}");
    false
}

pub mod daemon;
pub mod json;
pub mod vm;
pub mod watchdog;

/// A binary of Debian's prometheus packages, unpacked by tests/vm/setup-prometheus (tests/run-all
/// and tests/vm/run-tests run it first): `promtool`, `prometheus-node-exporter`.
pub fn prometheus_bin(name: &str) -> String {
    let b = format!(
        "{}/target/vm/prometheus/root/usr/bin/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    assert!(
        Path::new(&b).exists(),
        "{b} is missing: run tests/vm/setup-prometheus (tests/run-all does)"
    );
    b
}

/// `promtool check metrics` on a metrics file's text: the format and Prometheus' naming lints.
pub fn promtool_check_metrics(text: &str) {
    use std::io::Write;
    let mut check = Command::new(prometheus_bin("promtool"))
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    check
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = check.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics:\n{}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The backend `b` on the volume group `vg` that the property tests plan for: thin or thick, with
/// this over-subscription ratio, nothing reserved.
pub fn backend_config(thin: bool, ratio: f64) -> ember::config::BackendConfig {
    use ember::config::{LVM_DRIVERS, LvmType, Ratio};
    ember::config::BackendConfig {
        name: "b".into(),
        managed: true,
        volume_driver: LVM_DRIVERS[0].into(),
        volume_backend_name: "LVM".into(),
        volume_group: "vg".into(),
        lvm_type: if thin {
            LvmType::Thin
        } else {
            LvmType::Default
        },
        max_over_subscription_ratio: Ratio::Fixed(ratio),
        max_over_subscription_ratio_text: ratio.to_string(),
        reserved_percentage: 0,
        lvm_conf_file: None,
        lvm_suppress_fd_warnings: false,
        volume_clear: Default::default(),
        host: "h@b".into(),
        volume_group_set: Default::default(),
        target: Default::default(),
        state_dir: ember::config::default_state_dir(),
    }
}
