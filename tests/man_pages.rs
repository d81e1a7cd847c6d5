//! The man pages cannot drift from the program: man/ember.8 is generated from the clap
//! definitions (plus the hand-written man/ember.8.extra), and man/ember-desired-state.5 must
//! name every option ember reads. `EMBER_UPDATE_MAN=1 cargo test --test man_pages` rewrites
//! man/ember.8.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

use std::path::Path;

fn roff_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('-', "\\-")
}

/// `\fB\-\-name\fR \fIVALUE\fR` for one argument (the value only when it takes one).
fn arg_roff(a: &clap::Arg) -> String {
    let long = a
        .get_long()
        .map(|l| format!("\\fB\\-\\-{}\\fR", roff_escape(l)))
        .unwrap_or_default();
    let value = a
        .get_value_names()
        .and_then(|v| v.first())
        .filter(|_| a.get_action().takes_values())
        .map(|v| format!(" \\fI{v}\\fR"))
        .unwrap_or_default();
    format!("{long}{value}")
}

/// `ember [--config-file PATH] ... COMMAND`: the visible global options with their values.
fn synopsis(cmd: &clap::Command) -> String {
    let mut line = String::from("\\fBember\\fR");
    for a in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        if a.get_long().is_some() {
            line.push_str(&format!(" [{}]", arg_roff(a)));
        }
    }
    line.push_str(
        " [\\fB\\-h\\fR|\\fB\\-\\-help\\fR] [\\fB\\-V\\fR|\\fB\\-\\-version\\fR] \\fICOMMAND\\fR",
    );
    format!(".SH SYNOPSIS\n{line}\n")
}

/// A COMMANDS section from each visible subcommand's own arguments.
fn commands_section(cmd: &clap::Command) -> String {
    let mut s = String::from(".SH COMMANDS\n");
    for sub in cmd.get_subcommands().filter(|c| !c.is_hide_set()) {
        // (the top-level options a subcommand takes too are in OPTIONS)
        let args: Vec<&clap::Arg> = sub
            .get_arguments()
            .filter(|a| !a.is_hide_set() && !a.is_global_set())
            .filter(|a| !cmd.get_arguments().any(|t| t.get_id() == a.get_id()))
            .collect();
        let mut synopsis = format!("\\fBember {}\\fR", sub.get_name());
        for a in &args {
            synopsis.push_str(&format!(" [{}]", arg_roff(a)));
        }
        let about = roff_escape(&sub.get_about().map(|a| a.to_string()).unwrap_or_default());
        s.push_str(&format!(".TP\n{synopsis}\n{about}\n"));
        if !args.is_empty() {
            s.push_str(".RS\n");
            for a in args {
                let help = roff_escape(&a.get_help().map(|h| h.to_string()).unwrap_or_default());
                s.push_str(&format!(".TP\n{}\n{help}\n", arg_roff(a)));
            }
            s.push_str(".RE\n");
        }
    }
    s
}

fn generate() -> String {
    let cmd = ember::cli::command();
    let man = clap_mangen::Man::new(cmd.clone())
        .section("8")
        .date("2026-11-22")
        .manual("System Administration")
        .source(format!("ember {}", env!("CARGO_PKG_VERSION")));
    let mut buf: Vec<u8> = vec![];
    man.render_title(&mut buf).unwrap();
    man.render_name_section(&mut buf).unwrap();
    // (clap_mangen's synopsis leaves out what each option takes: written here)
    buf.extend_from_slice(synopsis(&cmd).as_bytes());
    man.render_description_section(&mut buf).unwrap();
    man.render_options_section(&mut buf).unwrap();
    let mut page = String::from_utf8(buf).unwrap();
    page.push_str(&commands_section(&cmd));
    page.push_str(&std::fs::read_to_string(root().join("man/ember.8.extra")).unwrap());
    page
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn ember_8_matches_the_cli() {
    let page = generate();
    let path = root().join("man/ember.8");
    if std::env::var_os("EMBER_UPDATE_MAN").is_some() {
        std::fs::write(&path, &page).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == page,
        "man/ember.8 is out of date with the CLI: run `EMBER_UPDATE_MAN=1 cargo test --test man_pages` and commit it"
    );
    for needle in [
        "ember plan",
        "ember apply",
        "ember daemon",
        "ember status",
        "config\\-file",
        "SIGHUP",
        "EXIT STATUS",
        "SEE ALSO",
    ] {
        assert!(page.contains(needle), "{needle}");
    }
    assert!(
        !page.contains("\\fBember worker\\fR"),
        "the internal worker command stays out of COMMANDS"
    );
}

#[test]
fn desired_state_5_names_every_option_ember_reads() {
    let page = std::fs::read_to_string(root().join("man/ember-desired-state.5")).unwrap();
    // the config module's files: cinder.conf and [ember] options
    let src: String = ["mod.rs", "backend.rs", "ember.rs", "subst.rs"]
        .iter()
        .map(|f| std::fs::read_to_string(root().join("src/config").join(f)).unwrap())
        .collect();
    // every key the config module reads: get("key"), ini.get(SECTION, "key"), int("key", ...), path_opt("key")
    let mut keys = vec![];
    for pat in [
        "get(\"",
        "ini.get(\"DEFAULT\", \"",
        "ini.get(\"ember\", \"",
        "ini.get(name, \"",
        "int(\"",
        "path_opt(\"",
        "read(\"",
    ] {
        for part in src.split(pat).skip(1) {
            if let Some(k) = part
                .split('"')
                .next()
                .filter(|k| k.chars().all(|c| c.is_ascii_lowercase() || c == '_') && !k.is_empty())
            {
                keys.push(k.to_string());
            }
        }
    }
    // and every option of the substitution's table (src/config/subst.rs, OPTIONS)
    let subst = std::fs::read_to_string(root().join("src/config/subst.rs")).unwrap();
    let table = subst
        .split("const OPTIONS")
        .nth(1)
        .unwrap()
        .split("];")
        .next()
        .unwrap();
    let mut lines = table.lines().map(str::trim).peekable();
    while let Some(l) = lines.next() {
        let first = match l {
            "(" => lines.next().unwrap_or_default(),
            l if l.starts_with("(\"") => &l[1..],
            _ => continue,
        };
        keys.push(
            first
                .trim_matches(|c| c == '"' || c == ',')
                .split('"')
                .next()
                .unwrap()
                .to_string(),
        );
    }
    keys.sort();
    keys.dedup();
    assert!(keys.len() > 15, "{keys:?}");
    for k in &keys {
        assert!(
            page.contains(k.as_str()),
            "man/ember-desired-state.5 does not document {k}"
        );
    }
}

#[test]
fn pages_render_without_warnings() {
    let Ok(out) = std::process::Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(root().join("man/ember.8"))
        .arg(root().join("man/ember-desired-state.5"))
        .output()
    else {
        panic!("groff is not installed (tests/run-all installs groff-base)");
    };
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "groff warnings:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn ember_8_documents_every_metric() {
    let page =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/man/ember.8")).unwrap();
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/metrics/mod.rs"))
        .unwrap();
    let names: Vec<&str> = src
        .split('"')
        .filter(|s| {
            s.starts_with("ember_") && s.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        })
        .collect();
    assert!(names.len() > 20, "{names:?}");
    for n in names {
        assert!(
            page.contains(&n.replace('_', "\\_")) || page.contains(n),
            "man/ember.8 does not document {n}"
        );
    }
}
