//! Colour for people and `ember apply`'s progress bar, through the real binary against the
//! simulated LVM, on a terminal (a pseudo-terminal) and into pipes: `--color=auto|always|never`,
//! `NO_COLOR`, `CLICOLOR_FORCE`; never an escape in a `--json` document or in a pipe by
//! default; the bar drawn only once a pass knows its total, and a log line never inside it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

mod common;
use common::daemon::*;
use common::*;

use std::io::Read;
use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";

const CONF: &str = "[DEFAULT]\nenabled_backends = lvm-1\n[lvm-1]\nvolume_group = vg1\n";

/// A 10 GiB VG with one LV that ember did not create, declared as a volume (refused) beside
/// `volumes` new ones.
fn setup(volumes: usize) -> Scratch {
    let s = Scratch::new();
    s.write(
        "cinder.conf",
        &format!("{CONF}[ember]\nrun_dir = {}\n", s.path("run").display()),
    );
    s.write(
        "lvm.json",
        r#"{"vgs": {"vg1": {"size": 10737418240, "lvs": {"foreign": {"kind": "linear", "size": 1073741824}}}}}"#,
    );
    let vols: String = (0..volumes)
        .map(|i| format!("      volume-{i}: {{ size: 12M }}\n"))
        .collect();
    s.write(
        "desired-state.yaml",
        &format!("backends:\n  lvm-1:\n    thin_pool: {{ size: 50% }}\n    volumes:\n{vols}      foreign: {{ size: 1G }}\n"),
    );
    s
}

fn sim(s: &Scratch) -> String {
    format!("sim:{}", s.path("lvm.json").display())
}

/// Whether `text` holds an SGR sequence (a colour or an effect: `ESC [ ... m`); the progress
/// bar's own sequences move the cursor and clear lines, they colour nothing.
fn coloured(text: &str) -> bool {
    text.match_indices("\x1b[").any(|(i, _)| {
        text[i + 2..]
            .chars()
            .find(|c| !(c.is_ascii_digit() || *c == ';'))
            == Some('m')
    })
}

/// Runs ember with the same piped output as `Scratch::ember`, with `env` set (NO_COLOR and the
/// CLICOLOR variables of the test's own environment removed first).
fn piped(s: &Scratch, args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = base(s, args, env).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn base(s: &Scratch, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(ember_bin());
    c.arg("--config-file")
        .arg(s.path("cinder.conf"))
        .args(args)
        .current_dir(s.dir.path())
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .env("TERM", "xterm-256color")
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// Which of the command's outputs is the terminal; the other is a pipe.
#[derive(Clone, Copy, PartialEq)]
enum Tty {
    Stdout,
    Stderr,
    Both,
}

/// ember with `tty` on a pseudo-terminal of 40 x 200: the exit status, what reached the
/// terminal, and what reached the pipe (if one of the two is one).
fn on_terminal(
    s: &Scratch,
    args: &[&str],
    env: &[(&str, &str)],
    tty: Tty,
) -> (i32, String, String) {
    let size = nix::pty::Winsize {
        ws_row: 40,
        ws_col: 200,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let pty = nix::pty::openpty(Some(&size), None).unwrap();
    let terminal = || Stdio::from(pty.slave.try_clone().unwrap());
    let mut c = base(s, args, env);
    match tty {
        Tty::Stdout => c.stdout(terminal()).stderr(Stdio::piped()),
        Tty::Stderr => c.stdout(Stdio::piped()).stderr(terminal()),
        Tty::Both => c.stdout(terminal()).stderr(terminal()),
    };
    let child = c.spawn().unwrap();
    // the terminal's reader sees its end once no process holds the other side
    drop(c);
    drop(pty.slave);
    let master: OwnedFd = pty.master;
    let reader = std::thread::spawn(move || {
        let mut f = std::fs::File::from(master);
        let (mut all, mut buf) = (vec![], [0u8; 4096]);
        // Linux: EIO once the other side is closed
        while let Ok(n) = f.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&all).into_owned()
    });
    let out = child.wait_with_output().unwrap();
    let screen = reader.join().unwrap();
    let pipe = if tty == Tty::Stdout {
        out.stderr
    } else {
        out.stdout
    };
    (
        out.status.code().unwrap_or(-1),
        screen,
        String::from_utf8_lossy(&pipe).into_owned(),
    )
}

#[test]
fn color_always_paints_the_plans_create_line_green_and_its_refusal_red() {
    let s = setup(2);
    let r = piped(&s, &["--lvm", &sim(&s), "--color=always", "plan"], &[]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(
        r.stdout.contains(&format!(
            "  {GREEN}+ create volume volume-0 12.0 MiB (thin)\x1b[0m\n"
        )),
        "{r:?}"
    );
    let refused = r
        .stdout
        .lines()
        .find(|l| l.contains("! refused foreign"))
        .unwrap_or_else(|| panic!("{r:?}"));
    assert!(
        refused.starts_with(&format!("  \x1b[1m{RED}! refused")),
        "{r:?}"
    );
    // the option after the subcommand too (a global option)
    let after = piped(&s, &["--lvm", &sim(&s), "plan", "--color=always"], &[]);
    assert_eq!(after.stdout, r.stdout);
}

#[test]
fn auto_colours_a_terminal_and_no_pipe_and_no_color_turns_it_off() {
    let s = setup(2);
    let sim = sim(&s);
    let plan = ["--lvm", sim.as_str(), "plan"];
    // a terminal: colour
    let (code, screen, _) = on_terminal(&s, &plan, &[], Tty::Stdout);
    assert_eq!(code, 3, "{screen}");
    assert!(
        screen.contains(&format!("{GREEN}+ create volume volume-0")),
        "{screen:?}"
    );
    // a pipe: none
    let r = piped(&s, &plan, &[]);
    assert!(
        r.stdout.contains("+ create volume volume-0") && !r.stdout.contains('\x1b'),
        "{r:?}"
    );
    // NO_COLOR, set and not empty: none on the terminal either; empty: as unset
    let (_, screen, _) = on_terminal(&s, &plan, &[("NO_COLOR", "1")], Tty::Stdout);
    assert!(
        screen.contains("+ create volume volume-0") && !screen.contains('\x1b'),
        "{screen:?}"
    );
    let (_, screen, _) = on_terminal(&s, &plan, &[("NO_COLOR", "")], Tty::Stdout);
    assert!(coloured(&screen), "{screen:?}");
    // TERM=dumb: none
    let (_, screen, _) = on_terminal(&s, &plan, &[("TERM", "dumb")], Tty::Stdout);
    assert!(!screen.contains('\x1b'), "{screen:?}");
    // --color=always wins over NO_COLOR; CLICOLOR_FORCE colours a pipe, NO_COLOR wins over it
    let always = ["--lvm", sim.as_str(), "--color=always", "plan"];
    assert!(coloured(&piped(&s, &always, &[("NO_COLOR", "1")]).stdout));
    assert!(coloured(
        &piped(&s, &plan, &[("CLICOLOR_FORCE", "1")]).stdout
    ));
    let both = piped(&s, &plan, &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]);
    assert!(!both.stdout.contains('\x1b'), "{both:?}");
}

#[test]
fn color_never_on_a_terminal_colours_nothing_not_even_the_log() {
    let s = setup(3);
    let sim = sim(&s);
    s.write("lvm.json.orig", &s.read("lvm.json"));
    let apply = |when: &str, env: &[(&str, &str)]| {
        s.write("lvm.json", &s.read("lvm.json.orig"));
        let color = format!("--color={when}");
        on_terminal(
            &s,
            &["--lvm", &sim, &color, "--log-level", "info", "apply"],
            env,
            Tty::Both,
        )
    };
    // auto on a terminal: the report and the log lines coloured
    let (code, screen, _) = apply("auto", &[]);
    assert_eq!(code, 3, "{screen}");
    assert!(screen.contains(" INFO") && coloured(&screen), "{screen:?}");
    for (when, env) in [("never", &[][..]), ("auto", &[("NO_COLOR", "1")][..])] {
        let (code, screen, _) = apply(when, env);
        assert_eq!(code, 3, "{screen}");
        assert!(
            screen.contains(" INFO") && screen.contains("+ create volume volume-2"),
            "{when}: {screen:?}"
        );
        assert!(!coloured(&screen), "{when} {env:?}: {screen:?}");
    }
    // without a terminal: nothing either
    s.write("lvm.json", &s.read("lvm.json.orig"));
    let r = piped(
        &s,
        &[
            "--lvm",
            &sim,
            "--color=never",
            "--log-level",
            "info",
            "apply",
        ],
        &[("CLICOLOR_FORCE", "1")],
    );
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.stderr.contains(" INFO"), "{r:?}");
    assert!(
        !r.stdout.contains('\x1b') && !r.stderr.contains('\x1b'),
        "{r:?}"
    );
}

#[test]
fn a_json_document_is_never_coloured() {
    let s = setup(2);
    let sim = sim(&s);
    for args in [
        vec!["check", "--json"],
        vec!["plan", "--json"],
        vec!["apply", "--json"],
    ] {
        let mut a = vec!["--lvm", sim.as_str(), "--color=always"];
        a.extend(args.iter());
        let r = piped(&s, &a, &[]);
        assert!(!r.stdout.contains('\x1b'), "{args:?}: {r:?}");
        serde_json::from_str::<serde_json::Value>(&r.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {r:?}"));
        // on a terminal, with colour asked for
        let (_, screen, _) = on_terminal(&s, &a, &[], Tty::Stdout);
        assert!(!screen.contains('\x1b'), "{args:?}: {screen:?}");
    }
}

#[test]
fn check_colours_the_tags_of_its_problems() {
    let s = setup(1);
    s.write(
        "desired-state.yaml",
        "backends:\n  lvm-1:\n    volumes:\n      v1: { size: 10GB }\n  lvm1:\n    volumes:\n      v2: { size: 1G }\n",
    );
    let r = piped(&s, &["--color=always", "check"], &[]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains(&format!("\x1b[1m{RED}error:\x1b[0m ")),
        "{r:?}"
    );
    assert!(
        r.stderr.contains("\x1b[1m\x1b[33mwarning:\x1b[0m "),
        "{r:?}"
    );
    let r = piped(&s, &["check"], &[]);
    assert!(
        r.stderr.contains("error: ") && !r.stderr.contains('\x1b'),
        "{r:?}"
    );
}

/// The log lines of `screen` (what reached a terminal) that do not begin a line of their own:
/// a log line written into the progress bar.
fn torn(screen: &str) -> Vec<String> {
    let mut out = vec![];
    for (i, _) in screen.match_indices("Z  INFO ") {
        let before = &screen[..i];
        let start = before.rfind(['\n', '\r']).map_or(0, |j| j + 1);
        let head = strip_sequences(&before[start..]);
        if !head
            .chars()
            .all(|c| c.is_ascii_digit() || "-T:.".contains(c))
        {
            out.push(format!("{head:?}"));
        }
    }
    out
}

/// The text without its control sequences (`ESC [ ... letter`).
fn strip_sequences(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn the_progress_bar_starts_with_its_total_and_log_lines_go_above_it() {
    let s = setup(60);
    let sim = sim(&s);
    let apply = ["--lvm", sim.as_str(), "--log-level", "info", "apply"];
    // (log lines without colour, the easier to read here)
    let no_color = [("NO_COLOR", "1")];
    let (code, screen, stdout) = on_terminal(&s, &apply, &no_color, Tty::Stderr);
    assert_eq!(code, 3, "{stdout}\n{screen:?}");
    // the bar was drawn, with the pass's total from its first frame on
    // (61 actions: the pool and 60 volumes)
    let first = screen
        .find("lvm-1 [")
        .map(|i| &screen[i..])
        .and_then(|f| f.split('\r').next())
        .unwrap_or_else(|| panic!("no bar: {screen:?}"));
    assert!(first.contains("] 1/61 "), "{first:?}");
    assert!(!screen.contains("] 0/0 "), "{screen:?}");
    // every action logged, each on a line of its own
    assert_eq!(
        screen.matches("Z  INFO + create volume").count(),
        60,
        "{screen:?}"
    );
    let torn = torn(&screen);
    assert!(
        torn.is_empty(),
        "log lines inside the bar: {torn:#?}\n{screen:?}"
    );
    // the report on standard output, the actions streamed as they finished (not a terminal)
    assert!(
        stdout.contains("+ create volume volume-59 12.0 MiB (thin)  [done]"),
        "{stdout}"
    );

    // nothing left to do: no bar at all
    let (code, screen, stdout) = on_terminal(&s, &apply, &no_color, Tty::Stderr);
    assert_eq!(code, 3, "{stdout}\n{screen:?}");
    assert!(!screen.contains("lvm-1 ["), "{screen:?}");
}

#[test]
fn status_colours_each_backends_state_and_the_workers_log_follows_the_daemon() {
    let s = Scratch::new();
    s.write(
        "lvm.json",
        r#"{"vgs": {"vg-a": {"size": 10737418240}, "vg-b": {"size": 10737418240}}}"#,
    );
    let c = s.write(
        "cinder.conf",
        &format!(
            "[DEFAULT]\nenabled_backends = a,b\n[a]\nvolume_group = vg-a\n[b]\nvolume_group = vg-b\n[ember]\nrun_dir = {}\nresync_interval = 3600\n",
            s.path("run").display()
        ),
    );
    // b declares more than its volume group holds: refused, blocked
    s.write(
        "desired-state.yaml",
        "backends:\n  a:\n    volumes:\n      a1: { size: 1G }\n  b:\n    volumes:\n      b1: { size: 500G }\n",
    );
    let sim = sim(&s);
    let mut d = Daemon::start(s.dir.path(), &c, &["--lvm", &sim, "--color=always"]);
    d.wait_for("a converged, b blocked", 10, |st| {
        backend(st, "a")["state"] == "converged" && backend(st, "b")["state"] == "blocked"
    });
    let r = d.ember(&["status"]);
    assert_eq!(r.code, 2, "{r:?}");
    let line = |name: &str| {
        r.stdout
            .lines()
            .find(|l| l.starts_with(&format!("backend {name} ")))
            .unwrap_or_else(|| panic!("{r:?}"))
            .to_string()
    };
    assert!(
        line("a").contains(&format!(": {GREEN}converged\x1b[0m, ")),
        "{r:?}"
    );
    assert!(
        line("b").contains(&format!(": \x1b[1m{RED}blocked\x1b[0m, ")),
        "{r:?}"
    );
    // --json: none (d.status() parses it); auto into a pipe: none
    assert!(d.status().is_some());
    let plain = ember_in(s.dir.path(), &c, &["--lvm", &sim, "status"]);
    assert!(
        plain.stdout.contains("converged") && !plain.stdout.contains('\x1b'),
        "{plain:?}"
    );
    // a worker's log line (its pass's action) coloured as the daemon's, into the same file
    let log = d.log();
    assert!(
        log.lines()
            .any(|l| l.contains("+ create volume a1") && coloured(l)),
        "{log}"
    );
    assert_eq!(d.stop(10), 0);
}
