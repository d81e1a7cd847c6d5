//! Colour for people: the human text of `plan`, `apply`, `check` and `status` (never a `--json`
//! document), and whether the log lines on standard error are coloured.
//!
//! Whether a stream is coloured is decided once, at start, from `--color` ([`decide`]):
//! `always` and `never` are what they say (`always` wins over `NO_COLOR`, a command line over
//! the environment, as <https://no-color.org> asks); `auto` colours a stream only when it is a
//! terminal that takes colour (`TERM` set and not `dumb`), unless `NO_COLOR` is set and not
//! empty, or `CLICOLOR=0`; `CLICOLOR_FORCE` (set, not empty) colours it even into a pipe, below
//! `NO_COLOR`. The same rule as clap's own `--help` (anstream), from the same variables.
//!
//! The text is made by the modules below (`reconcile::render`, `status`) without colour; it is
//! coloured here by its markers, as a diff is: `+` create green, `~` change yellow, `-` delete
//! red, `!` refused bold red, the `warning:` tag yellow, the `error:` tag red, the summary bold.

use std::sync::OnceLock;

use anstyle::{AnsiColor, Style};

use crate::cli::ColorWhen;
use crate::problem::{Problem, Severity};
use crate::status::{DaemonStatus, WorkerState};

const CREATE: Style = AnsiColor::Green.on_default();
const CHANGE: Style = AnsiColor::Yellow.on_default();
const DELETE: Style = AnsiColor::Red.on_default();
const REFUSED: Style = AnsiColor::Red.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default().bold();
const ERROR: Style = AnsiColor::Red.on_default().bold();
const SUMMARY: Style = Style::new().bold();

/// What the environment says about colour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Env {
    /// `NO_COLOR` set and not empty.
    pub no_color: bool,
    /// `CLICOLOR_FORCE` set and not empty.
    pub clicolor_force: bool,
    /// `CLICOLOR=0`.
    pub clicolor_off: bool,
    /// `TERM` set and not `dumb`.
    pub term_colors: bool,
}

impl Env {
    pub fn read() -> Env {
        Env {
            no_color: anstyle_query::no_color(),
            clicolor_force: anstyle_query::clicolor_force(),
            clicolor_off: anstyle_query::clicolor() == Some(false),
            term_colors: anstyle_query::term_supports_color(),
        }
    }
}

/// Whether to colour a stream that is (or is not) a `terminal`.
pub fn decide(when: ColorWhen, terminal: bool, env: Env) -> bool {
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto if env.no_color => false,
        ColorWhen::Auto if env.clicolor_force => true,
        ColorWhen::Auto => !env.clicolor_off && terminal && env.term_colors,
    }
}

/// The decisions for standard output and standard error, made once by [`init`].
static CHOICE: OnceLock<(Paint, Paint)> = OnceLock::new();

/// Decides, once, whether standard output and standard error are coloured.
pub fn init(when: ColorWhen) {
    use std::io::IsTerminal;
    let env = Env::read();
    let _ = CHOICE.set((
        Paint::new(decide(when, std::io::stdout().is_terminal(), env)),
        Paint::new(decide(when, std::io::stderr().is_terminal(), env)),
    ));
}

/// How standard output is painted (no colour before [`init`]).
pub fn stdout() -> Paint {
    CHOICE.get().map(|c| c.0).unwrap_or(Paint::OFF)
}

/// How standard error is painted (no colour before [`init`]).
pub fn stderr() -> Paint {
    CHOICE.get().map(|c| c.1).unwrap_or(Paint::OFF)
}

/// Colours text for one stream, or leaves it as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paint {
    on: bool,
}

impl Paint {
    pub const OFF: Paint = Paint { on: false };
    pub const ON: Paint = Paint { on: true };

    pub fn new(on: bool) -> Paint {
        Paint { on }
    }

    pub fn is_on(self) -> bool {
        self.on
    }

    fn wrap(self, style: Style, text: &str) -> String {
        if self.on && !text.is_empty() {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }

    /// Lines of a plan or a pass (`reconcile::render`, `ember apply`), each by its marker.
    pub fn diff(self, text: &str) -> String {
        self.lines(text, |l| self.diff_line(l))
    }

    /// One line of a plan or a pass, indentation kept.
    pub fn diff_line(self, line: &str) -> String {
        if !self.on {
            return line.to_string();
        }
        let body = line.trim_start_matches(' ');
        let indent = &line[..line.len() - body.len()];
        let style = if body.contains("  [FAILED: ") {
            Some(ERROR)
        } else if body.contains("  [skipped: ") {
            Some(CHANGE)
        } else if body.starts_with("+ ") {
            Some(CREATE)
        } else if body.starts_with("~ ") || body.starts_with("still pending:") {
            Some(CHANGE)
        } else if body.starts_with("- ") {
            Some(DELETE)
        } else if body.starts_with("! ") || body.starts_with("Blocked: ") {
            Some(REFUSED)
        } else if body.starts_with("Plan: ") || body.starts_with("Plan, ") {
            Some(SUMMARY)
        } else if body == "Converged." || body == "No changes." {
            Some(CREATE)
        } else {
            None
        };
        match style {
            Some(s) => format!("{indent}{}", self.wrap(s, body)),
            None => self.tag(line),
        }
    }

    /// A problem (`file:line: error: message`), its tag coloured.
    pub fn problem(self, p: &Problem) -> String {
        let text = p.to_string();
        let (tag, style) = match p.severity {
            Severity::Error => ("error:", ERROR),
            Severity::Warning => ("warning:", WARNING),
        };
        // Display ends with `tag message`
        match text
            .len()
            .checked_sub(p.message.len() + tag.len() + 1)
            .filter(|&at| text.get(at..at + tag.len()) == Some(tag))
        {
            Some(at) if self.on => format!(
                "{}{}{}",
                &text[..at],
                self.wrap(style, tag),
                &text[at + tag.len()..]
            ),
            _ => text,
        }
    }

    /// `ember status`'s text: each backend's state, and the tags of its problems.
    pub fn status(self, st: &DaemonStatus, text: &str) -> String {
        self.lines(text, |line| {
            let found = st.backends.iter().find_map(|b| {
                let shown = match &b.progress {
                    Some(p) => (p.to_string(), CHANGE),
                    None => (b.state.to_string(), state_style(b.state)?),
                };
                line.strip_prefix("backend ")
                    .and_then(|rest| rest.strip_prefix(b.name.as_str()))
                    .filter(|rest| rest.starts_with([' ', ':']))?;
                let at = line.find(&format!(": {}", shown.0))? + 2;
                Some((at, shown))
            });
            match found {
                Some((at, (state, style))) => format!(
                    "{}{}{}",
                    &line[..at],
                    self.wrap(style, &state),
                    &line[at + state.len()..]
                ),
                None => self.tag(line),
            }
        })
    }

    /// Green: a result that is as it should be (`OK`).
    pub fn good(self, text: &str) -> String {
        self.wrap(CREATE, text)
    }

    /// Red: a count of errors, a failure.
    pub fn bad(self, text: &str) -> String {
        self.wrap(ERROR, text)
    }

    /// The first `error:` or `warning:` tag of a line (at its start, or after `: `) coloured.
    fn tag(self, line: &str) -> String {
        if !self.on {
            return line.to_string();
        }
        let body = line.trim_start_matches(' ');
        let start = line.len() - body.len();
        let mut at = Some(start);
        while let Some(i) = at {
            let rest = &line[i..];
            for (tag, style) in [
                ("error:", ERROR),
                ("warning:", WARNING),
                ("failed:", ERROR),
                ("refused:", REFUSED),
            ] {
                if rest.starts_with(tag) && rest[tag.len()..].starts_with(' ') {
                    return format!(
                        "{}{}{}",
                        &line[..i],
                        self.wrap(style, tag),
                        &line[i + tag.len()..]
                    );
                }
            }
            at = line[i..].find(": ").map(|j| i + j + 2);
        }
        line.to_string()
    }

    /// `paint` applied to each line of `text` (its line ends kept).
    fn lines(self, text: &str, paint: impl Fn(&str) -> String) -> String {
        if !self.on {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len() + text.len() / 4);
        for l in text.split_inclusive('\n') {
            let (body, end) = match l.strip_suffix('\n') {
                Some(b) => (b, "\n"),
                None => (l, ""),
            };
            out.push_str(&paint(body));
            out.push_str(end);
        }
        out
    }
}

/// A backend's state as `ember status` colours it: converged green, under way yellow, anything
/// that needs the operator red; no desired state (nothing managed yet) as it is.
fn state_style(s: WorkerState) -> Option<Style> {
    match s {
        WorkerState::Converged => Some(CREATE),
        WorkerState::Pending
        | WorkerState::Starting
        | WorkerState::Restarting
        | WorkerState::Stopping => Some(CHANGE),
        WorkerState::Blocked | WorkerState::Error | WorkerState::Rejected => Some(ERROR),
        WorkerState::NoDesiredState => None,
    }
}

#[cfg(test)]
mod tests;
