//! What `ember apply` shows while a pass writes. On a terminal (standard error): a progress bar
//! per backend with done/total, elapsed and an estimate of what is left. Not on a terminal
//! (standard output to a log): each action's line as it finishes, so that a log shows how far
//! the pass got, and a volume cleared before its deletion at every tenth of its clear. Nothing
//! with `--json`.
//!
//! The bar is drawn only once the pass knows its total, at its first finished action (a pass
//! with nothing to do shows none, and no frame says `0/0`), and while it is drawn, output and
//! log lines go through it (`crate::out::hold_bar`).

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::BackendConfig;
use crate::reconcile::Step;

pub(super) struct Shown {
    header: String,
    /// The bar, hidden until the first step with a total.
    bar: Option<ProgressBar>,
    /// Where the bar is drawn, until it is.
    target: Mutex<Option<ProgressDrawTarget>>,
    /// Print each action's line on standard output as it finishes.
    stream: bool,
    streamed: Mutex<bool>,
    /// The clear last printed, and its last tenth printed.
    cleared: Mutex<Option<(String, u64)>>,
}

impl Shown {
    pub(super) fn new(b: &BackendConfig, json: bool) -> Shown {
        let target = (!json && std::io::stderr().is_terminal()).then(ProgressDrawTarget::stderr);
        Shown::with(b, target, !json && !std::io::stdout().is_terminal())
    }

    /// A bar drawn to `target` (none: no bar); `stream`: each action's line on standard output.
    fn with(b: &BackendConfig, target: Option<ProgressDrawTarget>, stream: bool) -> Shown {
        let bar = target.is_some().then(|| {
            // hidden until the pass knows its total: see `step`
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
            if let Ok(style) = ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos}/{len} {elapsed} (about {eta} left) {wide_msg}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(b.name.clone());
            bar
        });
        Shown {
            header: format!("backend {} (volume group {}):", b.name, b.volume_group),
            bar,
            target: Mutex::new(target),
            stream,
            streamed: Mutex::new(false),
            cleared: Mutex::new(None),
        }
    }

    pub(super) fn step(&self, s: &Step) {
        if let Some(bar) = self.bar.as_ref().filter(|_| s.total > 0) {
            bar.set_length(s.total as u64);
            bar.set_position(s.done as u64);
            // the first frame: drawn with the total known
            if let Some(target) = self.target.lock().ok().and_then(|mut t| t.take()) {
                bar.set_draw_target(target);
                crate::out::hold_bar(bar);
            }
            bar.set_message(s.line.clone());
        }
        if let Some(c) = &s.clearing
            && let Ok(mut last) = self.cleared.lock()
        {
            // a clear's line at each tenth only
            let tenth = (&c.volume, c.percent() / 10);
            if last.as_ref().is_some_and(|(v, t)| (v, *t) == tenth) {
                return;
            }
            *last = Some((c.volume.clone(), tenth.1));
        }
        if self.stream
            && let Ok(mut started) = self.streamed.lock()
        {
            let mut out = std::io::stdout().lock();
            if !*started {
                let _ = writeln!(out, "{}", self.header);
                *started = true;
            }
            let _ = writeln!(out, "  {}", crate::paint::stdout().diff_line(&s.line));
            let _ = out.flush();
        }
    }

    /// Clears the bar; whether the actions' lines were printed already.
    pub(super) fn finish(self) -> bool {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
            crate::out::release_bar();
        }
        self.streamed.into_inner().unwrap_or(false)
    }
}

#[cfg(test)]
mod tests;
