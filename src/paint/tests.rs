use super::*;

const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const RED: &str = "\x1b[31m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

fn env(no_color: bool, clicolor_force: bool, clicolor_off: bool, term_colors: bool) -> Env {
    Env {
        no_color,
        clicolor_force,
        clicolor_off,
        term_colors,
    }
}

#[test]
fn auto_colours_a_terminal_unless_the_environment_says_otherwise() {
    use ColorWhen::*;
    let plain = env(false, false, false, true);
    for (when, terminal, env, on, why) in [
        (Auto, true, plain, true, "a terminal"),
        (Auto, false, plain, false, "a pipe or a file"),
        (Auto, true, env(true, false, false, true), false, "NO_COLOR"),
        (
            Auto,
            true,
            env(false, false, false, false),
            false,
            "TERM=dumb or unset",
        ),
        (
            Auto,
            true,
            env(false, false, true, true),
            false,
            "CLICOLOR=0",
        ),
        (
            Auto,
            false,
            env(false, true, false, false),
            true,
            "CLICOLOR_FORCE into a pipe",
        ),
        (
            Auto,
            true,
            env(true, true, false, true),
            false,
            "NO_COLOR over CLICOLOR_FORCE",
        ),
        (
            Always,
            false,
            env(true, false, true, false),
            true,
            "--color=always over NO_COLOR",
        ),
        (
            Never,
            true,
            env(false, true, false, true),
            false,
            "--color=never over CLICOLOR_FORCE",
        ),
    ] {
        assert_eq!(decide(when, terminal, env), on, "{why}");
    }
}

#[test]
fn a_plan_is_coloured_by_its_markers() {
    let text = "backend lvm-1 (volume group vg1):\n  + create volume v1 1.0 GiB (thin)\n  ~ extend volume v2 1.0 GiB -> 2.0 GiB\n  - delete volume v3 1.0 GiB (state: absent)\n  ! refused v4: is 2.0 GiB, the desired state says 1.0 GiB: ember never shrinks\n  warning: the pool does not zero new blocks\n  Plan: 1 to create, 1 to grow, 1 to delete, 1 refused.\n";
    let painted = Paint::ON.diff(text);
    let lines: Vec<&str> = painted.lines().collect();
    assert_eq!(lines[0], "backend lvm-1 (volume group vg1):");
    assert_eq!(
        lines[1],
        format!("  {GREEN}+ create volume v1 1.0 GiB (thin){RESET}")
    );
    assert!(
        lines[2].starts_with(&format!("  {YELLOW}~ extend")),
        "{painted}"
    );
    assert!(
        lines[3].starts_with(&format!("  {RED}- delete")),
        "{painted}"
    );
    assert!(
        lines[4].starts_with(&format!("  {BOLD}{RED}! refused v4")),
        "{painted}"
    );
    assert_eq!(
        lines[5],
        format!("  {BOLD}{YELLOW}warning:{RESET} the pool does not zero new blocks")
    );
    assert!(
        lines[6].starts_with(&format!("  {BOLD}Plan: ")),
        "{painted}"
    );
    // without colour, the very text
    assert_eq!(Paint::OFF.diff(text), text);
    // the text itself is all there, in order
    assert_eq!(strip(&painted), text);
}

#[test]
fn a_pass_colours_what_failed_and_what_was_skipped() {
    let p = Paint::ON;
    assert!(
        p.diff_line("  + create volume v1 1.0 GiB (thin)  [FAILED: lvm said no]")
            .starts_with(&format!("  {BOLD}{RED}+ create")),
    );
    assert!(
        p.diff_line("  + create volume v2 1.0 GiB (thin)  [skipped: an earlier step failed]")
            .starts_with(&format!("  {YELLOW}+ create")),
    );
    assert!(
        p.diff_line("  + create volume v3 1.0 GiB (thin)  [done]")
            .starts_with(&format!("  {GREEN}+ create")),
    );
    assert_eq!(
        p.diff_line("  error: volume group \"vg1\" not found"),
        format!("  {BOLD}{RED}error:{RESET} volume group \"vg1\" not found")
    );
    assert_eq!(
        p.diff_line("  Converged."),
        format!("  {GREEN}Converged.{RESET}")
    );
}

#[test]
fn a_problem_keeps_its_place_and_colours_its_tag() {
    let e = Problem::error(
        Some("desired-state.yaml".into()),
        Some(4),
        "a tab: YAML indents with spaces only (error: not a tag)",
    );
    assert_eq!(
        Paint::ON.problem(&e),
        format!(
            "desired-state.yaml:4: {BOLD}{RED}error:{RESET} a tab: YAML indents with spaces only (error: not a tag)"
        )
    );
    let w = Problem::warning(None, None, "no desired state");
    assert_eq!(
        Paint::ON.problem(&w),
        format!("{BOLD}{YELLOW}warning:{RESET} no desired state")
    );
    assert_eq!(Paint::OFF.problem(&e), e.to_string());
}

#[test]
fn a_tag_is_found_at_the_start_or_after_a_location_only() {
    let p = Paint::ON;
    assert_eq!(
        p.diff_line("  desired state not used: f.yaml:3: error: bad"),
        format!("  desired state not used: f.yaml:3: {BOLD}{RED}error:{RESET} bad")
    );
    assert_eq!(p.diff_line("  no error: here"), "  no error: here");
}

/// The text without its escape sequences.
fn strip(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
