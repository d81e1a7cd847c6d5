//! LVM misbehaving, through a fake `lvm` (the test-only `--lvm exec:PATH`): a read that hangs is
//! killed and reported; a crash (exit 139) of a read is retried once; a report ember cannot read
//! is a clear error; a slow write is waited for and never killed; in the daemon, one backend's
//! hanging lvm degrades that backend only.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

mod common;
use common::daemon::*;
use common::*;

use std::time::{Duration, Instant};

/// The fakes' VG tags, as lvm keeps them: `vgchange --addtag TAG -- VG` (`tag TAG`) records
/// the tag, and `report` (the captured empty-VG fixture renamed to `$VG`) shows it.
const TAGS: &str = r#"tag() { echo "$1" > "$D/vgtags-$VG"; }
report() { t=$(cat "$D/vgtags-$VG" 2>/dev/null); sed -e "s/vgfix/$VG/" -e "s/\"vg_name\":\"$VG\"/\"vg_name\":\"$VG\", \"vg_tags\":\"$t\"/" FIXTURE; }"#;

/// A fake lvm: `fullreport` runs `read`, anything else runs `write` (bash snippets). `$VG` is the
/// volume group asked for; reports are the captured empty-VG fixture renamed to it. Started
/// without arguments (as the lvm shell) it fails, as an lvm without the shell protocol would.
fn fake_lvm(s: &Scratch, read: &str, write: &str) -> String {
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lvm/empty-vg.json");
    let dir = s.dir.path().display();
    let script = format!(
        "#!/bin/bash\nD={dir}\nif [ $# -eq 0 ]; then echo 'this fake lvm has no shell' >&2; exit 3; fi\n\
         VG=\"${{@: -1}}\"\necho \"$*\" >> $D/calls\n{TAGS}\n\
         case \"$1\" in\n  fullreport) {read} ;;\n  vgchange) tag \"$3\" ;;\n  *) {write} ;;\nesac\n",
        TAGS = TAGS.replace("FIXTURE", &fixture.display().to_string())
    );
    let p = s.write("fake-lvm", &script);
    std::process::Command::new("chmod")
        .arg("755")
        .arg(&p)
        .status()
        .unwrap();
    format!("exec:{}", p.display())
}

/// A cinder.conf with backends `a` and `b` on volume groups `vga<N>` and `vgb<N>`, N unique to
/// this test: a write takes the VG's lock in /run/ember/lock, which the tests of this binary,
/// running in parallel, must not share.
fn setup(ember_opts: &str, desired: &str) -> Scratch {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = format!(
        "{}x{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let s = Scratch::new();
    s.write("cinder.conf", &format!(
        "[DEFAULT]\nenabled_backends = a,b\n[a]\nvolume_group = vga{n}\nlvm_conf_file = None\n[b]\nvolume_group = vgb{n}\nlvm_conf_file = None\n\
         [ember]\nrun_dir = {}\nstate_dir = {}\n{ember_opts}\n", s.path("run").display(), s.path("state").display()));
    s.write("desired-state.yaml", desired);
    s
}

fn calls(s: &Scratch) -> Vec<String> {
    std::fs::read_to_string(s.path("calls"))
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn a_hanging_read_is_killed_and_reported() {
    let s = setup("lvm_read_timeout = 1", "backends: {}\n");
    let lvm = fake_lvm(&s, "exec -a ember-fake-hang sleep 60", "exit 0");
    let t = Instant::now();
    let r = s.ember(&["--lvm", &lvm, "plan", "--backend", "a"]);
    assert!(t.elapsed() < Duration::from_secs(10), "not stuck");
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout
            .contains("did not finish within 1 s and was killed"),
        "{r:?}"
    );
    let left = std::process::Command::new("pgrep")
        .args(["-f", "ember-fake-hang"])
        .output()
        .unwrap();
    assert!(left.stdout.is_empty(), "the hung lvm was killed");
}

#[test]
fn a_read_that_crashes_once_is_retried() {
    let s = setup("", "backends:\n  a:\n    volumes:\n      v: { size: 1G }\n");
    let lvm = fake_lvm(
        &s,
        "if [ ! -e $D/crashed ]; then touch $D/crashed; exit 139; fi; report",
        "exit 0",
    );
    let r = s.ember(&["--lvm", &lvm, "plan", "--backend", "a"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.contains("+ create volume v"), "{r:?}");
    assert_eq!(calls(&s).len(), 2, "one crash, one retry");
}

#[test]
fn a_write_that_crashes_is_not_retried() {
    let s = setup("", "backends:\n  a:\n    volumes:\n      v: { size: 1G }\n");
    let lvm = fake_lvm(&s, "report", "echo 'Internal error' >&2; exit 139");
    let r = s.ember(&["--lvm", &lvm, "apply", "--backend", "a"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains("FAILED") && r.stdout.contains("exit 139"),
        "{r:?}"
    );
    let writes = calls(&s)
        .iter()
        .filter(|c| c.starts_with("lvcreate"))
        .count();
    assert_eq!(
        writes, 1,
        "a failed write is never repeated blindly (the pool step failed, the rest skipped)"
    );
}

#[test]
fn an_unreadable_report_is_a_clear_error() {
    for bad in [
        "echo '{\"report\": [{\"vg\": [{\"vg_name\": \"'$VG'\", \"vg_size\": \"lots\"'",
        "echo 'WARNING: something'",
        "head -c 100 /dev/urandom",
    ] {
        let s = setup("", "backends: {}\n");
        let lvm = fake_lvm(&s, bad, "exit 0");
        let r = s.ember(&["--lvm", &lvm, "plan", "--backend", "a"]);
        assert_eq!(r.code, 1, "{bad}: {r:?}");
        assert!(
            r.stdout.contains("printed a report ember cannot read"),
            "{bad}: {r:?}"
        );
    }
}

#[test]
fn a_slow_write_is_waited_for_and_never_killed() {
    let s = setup(
        "lvm_write_warn_after = 1",
        "backends:\n  a:\n    volumes:\n      v: { size: 1G }\n",
    );
    let lvm = fake_lvm(&s, "report", "sleep 3; echo \"$*\" >> $D/finished; exit 0");
    let t = Instant::now();
    let r = s.ember(&[
        "--lvm",
        &lvm,
        "--log-level",
        "warn",
        "apply",
        "--backend",
        "a",
    ]);
    assert!(
        t.elapsed() >= Duration::from_secs(6),
        "waited for both writes (pool, volume)"
    );
    // the fake's VG never changes: both writes succeed, and the confirming read still finds
    // them to do (exit 2, not reached)
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("ember never kills a write"), "{r:?}");
    let finished = std::fs::read_to_string(s.path("finished")).unwrap_or_default();
    assert_eq!(
        finished.lines().count(),
        2,
        "both writes ran to the end: {finished}"
    );
}

#[test]
fn one_backends_hanging_lvm_degrades_that_backend_only() {
    let s = setup(
        "lvm_read_timeout = 1\nresync_interval = 3600",
        "backends:\n  a:\n    volumes:\n      v: { size: 1G }\n  b: {}\n",
    );
    let lvm = fake_lvm(
        &s,
        "case \"$VG\" in vga*) exec sleep 60 ;; esac; report",
        "exit 0",
    );
    let d = Daemon::start(s.dir.path(), &s.path("cinder.conf"), &["--lvm", &lvm]);
    let st = d.wait_ready(20);
    assert_eq!(backend(&st, "a")["state"], "error", "{st:#}");
    assert!(
        backend(&st, "a")["last_pass"]["error"]
            .as_str()
            .unwrap()
            .contains("was killed"),
        "{st:#}"
    );
    assert_eq!(backend(&st, "b")["state"], "converged", "{st:#}");
    let line = d.ember(&["status"]).stdout;
    assert!(
        line.contains("2 backends: 1 converged, 1 error (a: "),
        "{line}"
    );
    // and the daemon keeps serving
    assert_eq!(d.ember(&["reconcile", "--backend", "b"]).code, 0);
}

#[test]
fn lvm_runs_with_a_clean_environment() {
    let s = setup("", "backends: {}\n");
    let lvm = fake_lvm(&s, "env > $D/env; report", "exit 0");
    let out = std::process::Command::new(ember_bin())
        .args(["--config-file"])
        .arg(s.path("cinder.conf"))
        .args(["--lvm", &lvm, "plan", "--backend", "a"])
        .env("LVM_SYSTEM_DIR", "/evil")
        .env("LVM_COMMAND_PROFILE", "evil")
        .env("LD_PRELOAD", "/evil.so")
        .env("SECRET_TOKEN", "x")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let env = std::fs::read_to_string(s.path("env")).unwrap();
    let names: Vec<&str> = env
        .lines()
        .filter_map(|l| l.split('=').next())
        .filter(|n| !["PWD", "SHLVL", "_", "OLDPWD"].contains(n))
        .collect();
    assert_eq!(names, ["LC_ALL", "PATH"], "only what ember sets: {env}");
}

// ---- the lvm shell: one process for a pass's writes ----

/// A fake lvm that also speaks the lvm shell protocol (as lvm does with
/// `LVM_COMMAND_PROFILE=lvmdbusd`): one JSON document per command on `LVM_REPORT_FD`, whose last
/// log entry carries the return code (1 = success). With arguments it runs one command as its
/// own process (`exec_write` for writes). In the shell, `$n` counts the writes and
/// `shell_read`/`shell_write` are bash snippets; `ok`, `fail CODE MESSAGE` and `report_ok`
/// write a response. Like lvm, a failure's messages come only from `lastlog`.
fn fake_shell_lvm(s: &Scratch, shell_read: &str, shell_write: &str, exec_write: &str) -> String {
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lvm/empty-vg.json");
    let dir = s.dir.path().display();
    let status = r#"{"log_seq_num":"9","log_type":"status","log_context":"shell","log_object_type":"cmd","log_message":"x","log_ret_code":"%s"}"#;
    let script = format!(
        r#"#!/bin/bash
D={dir}
{TAGS}
ok() {{ printf '{{"log":[{status}]}}\n' 1 >&3; }}
fail() {{ LAST="$2"; printf '{{"log":[{status}]}}\n' "$1" >&3; }}
lastlog() {{ printf '{{"log":[{{"log_type":"error","log_context":"processing","log_object_type":"cmd","log_message":"%s","log_ret_code":"0"}},{status}]}}\n' "$LAST" 1 >&3; }}
report_ok() {{ report | sed '$ s/}}$/,"log":[{status}]}}/' | sed "s/%s/1/" >&3; }}
if [ $# -gt 0 ]; then
  VG="${{@: -1}}"; echo "$*" >> $D/calls
  case "$1" in fullreport) report ;; vgchange) tag "$3" ;; *) {exec_write} ;; esac
  exit
fi
echo "shell $LVM_COMMAND_PROFILE $LVM_REPORT_FD" >> $D/calls
n=0
while read -r line; do
  set -- $line; VG="${{@: -1}}"; echo "$line" >> $D/shell
  case "$1" in
    version) ok ;;
    lastlog) lastlog ;;
    exit) exit 0 ;;
    fullreport) {shell_read} ;;
    vgchange) tag "$3"; ok ;;
    *) n=$((n+1)); {shell_write} ;;
  esac
done
"#,
        TAGS = TAGS.replace("FIXTURE", &fixture.display().to_string())
    );
    let p = s.write("fake-lvm", &script);
    std::process::Command::new("chmod")
        .arg("755")
        .arg(&p)
        .status()
        .unwrap();
    format!("exec:{}", p.display())
}

fn lines(s: &Scratch, file: &str) -> Vec<String> {
    std::fs::read_to_string(s.path(file))
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

const THREE: &str = "backends:\n  a:\n    volumes:\n      v1: { size: 1G }\n      v2: { size: 1G }\n      v3: { size: 1G }\n";

#[test]
fn a_passs_writes_and_its_confirming_read_share_one_lvm_shell() {
    let s = setup("", THREE);
    let lvm = fake_shell_lvm(&s, "report_ok", "ok", "exit 1");
    let r = s.ember(&["--lvm", &lvm, "apply", "--backend", "a"]);
    // the fake's VG never changes, so the confirming read still sees the four changes pending
    assert!(r.stdout.contains("still pending: 4 change(s)"), "{r:?}");
    assert_eq!(
        r.code, 2,
        "the desired state is not reached: apply says so in its exit status, as plan does: {r:?}"
    );
    assert!(
        r.stdout.contains("(2 lvm call(s) for 7 commands"),
        "one read, then one shell for the VG's mark, 4 writes and the confirming read: {r:?}"
    );
    let calls = lines(&s, "calls");
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(calls[0].starts_with("fullreport"), "{calls:?}");
    assert_eq!(calls[1], "shell lvmdbusd 3", "lvm's own shell protocol");
    let shell = lines(&s, "shell");
    assert_eq!(shell[0], "version", "the shell is checked before any write");
    let creates: Vec<&String> = shell.iter().filter(|l| l.starts_with("lvcreate")).collect();
    assert_eq!(creates.len(), 4, "{shell:?}");
    assert!(
        creates.iter().all(|c| c.contains("--addtag ember-managed")
            && c.rsplit_once(" -- ")
                .is_some_and(|(_, vg)| vg.starts_with("vga"))),
        "{creates:?}"
    );
    assert!(
        shell[shell.len() - 2].starts_with("fullreport"),
        "{shell:?}"
    );
    assert_eq!(shell[shell.len() - 1], "exit", "{shell:?}");
}

#[test]
fn an_lvm_error_in_the_shell_is_reported_with_lvms_own_message() {
    let s = setup("", THREE);
    let lvm = fake_shell_lvm(
        &s,
        "report_ok",
        "if [ $n -eq 2 ]; then fail 5 'Insufficient free space: 1 extents needed'; else ok; fi",
        "exit 1",
    );
    let r = s.ember(&["--lvm", &lvm, "apply", "--backend", "a"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout
            .contains("(exit 5): Insufficient free space: 1 extents needed"),
        "{r:?}"
    );
    assert_eq!(r.stdout.matches("FAILED").count(), 1, "{r:?}");
}

#[test]
fn a_shell_that_dies_during_a_write_is_not_trusted_and_that_write_is_not_repeated() {
    let s = setup("", THREE);
    // the second write (the first volume) kills the shell; the rest run one process each
    let lvm = fake_shell_lvm(
        &s,
        "report_ok",
        "if [ $n -eq 2 ]; then echo \"$line\" > $D/died; kill -SEGV $$; fi; ok",
        "exit 0",
    );
    let r = s.ember(&[
        "--lvm",
        &lvm,
        "--log-level",
        "warn",
        "apply",
        "--backend",
        "a",
    ]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains("the lvm shell ended during the command")
            && r.stdout.contains("known only from the next read"),
        "{r:?}"
    );
    assert!(r.stderr.contains("one lvm process per command"), "{r:?}");
    let died = std::fs::read_to_string(s.path("died")).unwrap();
    let exec_creates: Vec<String> = lines(&s, "calls")
        .into_iter()
        .filter(|c| c.starts_with("lvcreate"))
        .collect();
    assert_eq!(
        exec_creates.len(),
        2,
        "the other two volumes: {exec_creates:?}"
    );
    assert!(
        !exec_creates.contains(&died.trim().to_string()),
        "the write whose outcome is unknown is not run again: {died} in {exec_creates:?}"
    );
    let reads = lines(&s, "calls")
        .iter()
        .filter(|c| c.starts_with("fullreport"))
        .count();
    assert_eq!(reads, 2, "the confirming read ran as its own process");
}

#[test]
fn a_shell_that_stops_speaking_json_during_a_write_is_left_to_finish_it() {
    let s = setup("", THREE);
    let lvm = fake_shell_lvm(
        &s,
        "report_ok",
        "echo 'garbage{' >&3; sleep 2; echo \"$line\" >> $D/finished",
        "exit 0",
    );
    let t = Instant::now();
    let r = s.ember(&["--lvm", &lvm, "apply", "--backend", "a"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("not JSON"), "{r:?}");
    assert!(t.elapsed() < Duration::from_secs(2), "not waited for");
    // the pool step failed, so the volumes were skipped; the shell's write still ran to its end
    let deadline = Instant::now() + Duration::from_secs(10);
    while lines(&s, "finished").is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let finished = lines(&s, "finished");
    assert_eq!(finished.len(), 1, "never killed: {finished:?}");
    assert!(finished[0].contains("thin-pool"), "{finished:?}");
}

#[test]
fn a_read_that_hangs_in_the_shell_is_killed() {
    let s = setup("lvm_read_timeout = 1", THREE);
    let lvm = fake_shell_lvm(&s, "exec -a ember-fake-shell-hang sleep 60", "ok", "exit 0");
    let t = Instant::now();
    let r = s.ember(&["--lvm", &lvm, "apply", "--backend", "a"]);
    assert!(t.elapsed() < Duration::from_secs(10), "not stuck");
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains("after applying")
            && r.stdout
                .contains("did not finish within 1 s and was killed"),
        "{r:?}"
    );
    let left = std::process::Command::new("pgrep")
        .args(["-f", "ember-fake-shell-hang"])
        .output()
        .unwrap();
    assert!(left.stdout.is_empty(), "the hung shell was killed");
}

#[test]
fn without_the_shell_each_command_is_its_own_process() {
    // an lvm whose shell does not answer, and lvm_shell = false
    for (opts, lvm_has_shell) in [("", false), ("lvm_shell = false", true)] {
        let s = setup(opts, THREE);
        let lvm = if lvm_has_shell {
            fake_shell_lvm(&s, "report_ok", "ok", "exit 0")
        } else {
            fake_lvm(&s, "report", "exit 0")
        };
        let r = s.ember(&[
            "--lvm",
            &lvm,
            "--log-level",
            "warn",
            "apply",
            "--backend",
            "a",
        ]);
        // the shell that did not answer was one process
        // (the VG's mark, the pool, three volumes, two reads)
        let want = if lvm_has_shell { 7 } else { 8 };
        assert!(
            r.stdout.contains(&format!("({want} lvm call(s),")),
            "{opts}: {r:?}"
        );
        assert_eq!(
            r.stderr.contains("cannot use the lvm shell"),
            !lvm_has_shell,
            "{opts}: {r:?}"
        );
        let calls = lines(&s, "calls");
        assert_eq!(calls.len(), 7, "{opts}: {calls:?}");
        assert!(calls.iter().all(|c| !c.starts_with("shell")), "{calls:?}");
    }
}

#[test]
fn a_daemons_pass_that_failed_runs_again_by_itself_soon() {
    // the first read hangs and is killed (a loaded host); nothing else would start a pass for
    // an hour, and the worker tries again by itself within seconds
    let s = setup(
        "lvm_read_timeout = 1\nresync_interval = 3600",
        "backends:\n  a:\n    volumes:\n      v: { size: 1G }\n  b: {}\n",
    );
    let lvm = fake_lvm(
        &s,
        "case \"$VG\" in vga*) if [ ! -e $D/hung ]; then touch $D/hung; exec sleep 60; fi ;; esac; report",
        "exit 0",
    );
    let d = Daemon::start(s.dir.path(), &s.path("cinder.conf"), &["--lvm", &lvm]);
    let st = d.wait_ready(20);
    assert_eq!(backend(&st, "a")["state"], "error", "{st:#}");
    let st = d.wait_for("the retry", 30, |st| {
        backend(st, "a")["counters"]["converged"].as_u64() >= Some(1)
    });
    let log = d.log();
    assert!(
        log.contains("the pass could not read its volume group: the next one runs in 5 s")
            && log.contains("pass (retry): 2 done, 0 failed"),
        "{st:#}\n{log}"
    );
}
