//! What the host suite's tests share: the host's shape, checked; a cinder.conf as cinder hosts
//! have it (no `lvm_conf_file` line: cinder's default, `/etc/cinder/lvm.conf`, is in force).
#![allow(dead_code)]

use super::common::vm::*;
use super::common::*;

/// Panics unless this runs on the host `tests/vm/cinder-host` built, under the unit's sandbox.
pub fn require_cinder_host() {
    require_sandboxed_vm();
    assert_eq!(
        std::env::var("VM_HOST").as_deref(),
        Ok("cinder"),
        "this test needs the cinder-shaped host: run it with tests/vm/run-tests host"
    );
    assert!(
        std::path::Path::new("/etc/cinder/lvm.conf").is_file(),
        "cinder's lvm.conf is missing: tests/vm/cinder-host did not run"
    );
}

/// A scratch directory with a cinder.conf as a cinder host has it: one section per
/// (backend, VG, extra options), `lvm_conf_file` left at cinder's default.
pub fn cinder_host(backends: &[(&str, &str, &str)], desired: &str) -> Scratch {
    let s = Scratch::new();
    let names: Vec<&str> = backends.iter().map(|b| b.0).collect();
    let mut conf = format!(
        "[DEFAULT]\nenabled_backends = {}\nhost = vmhost\n[ember]\nrun_dir = {}\n",
        names.join(","),
        s.path("run").display()
    );
    for (name, vg, extra) in backends {
        conf.push_str(&format!("[{name}]\nvolume_group = {vg}\n{extra}\n"));
    }
    s.write("cinder.conf", &conf);
    s.write("desired-state.yaml", desired);
    s
}

/// Runs `program args` as the local user `user` (runuser, outside the unit's sandbox, as that
/// user would on the host).
pub fn as_user(user: &str, program: &str, args: &[&str]) -> std::process::Output {
    let mut a = vec!["-u", user, "--", program];
    a.extend_from_slice(args);
    run_outside_sandbox("runuser", &a, &[])
}
