//! Writing a command's output without dying when its reader goes away: `ember plan | head -1`
//! ends quietly, as Unix tools do, instead of panicking on a closed pipe (Rust ignores SIGPIPE,
//! so a write to a closed pipe is an error, and `print!` panics on it). Once standard output
//! is found closed, nothing more is written to it; the command goes on (an `apply` finishes its
//! pass) and exits with its own status. Any other failure to write (a full disk under
//! `ember plan --json > file`) ends the output too, and the command exits 1: a truncated file
//! must not look like a whole one ([`failed`]).
//!
//! While `ember apply` draws its progress bar ([`hold_bar`]), whatever is written here, and the
//! log lines (`crate::logging`), goes through the bar: the bar is cleared, the text written,
//! the bar drawn again below it, so that a line never tears the bar ([`around_bar`]).

use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::ProgressBar;

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDOUT_FAILED: AtomicBool = AtomicBool::new(false);
/// The progress bar drawn now, if any.
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// From now on, output goes through `bar` (until [`release_bar`]).
pub fn hold_bar(bar: &ProgressBar) {
    *BAR.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar.clone());
}

/// Output no longer goes through a bar.
pub fn release_bar() {
    BAR.lock().unwrap_or_else(|e| e.into_inner()).take();
}

/// Runs `write` with the progress bar, if one is drawn, cleared meanwhile and drawn again after.
pub fn around_bar<R>(write: impl FnOnce() -> R) -> R {
    // the bar (a handle) is taken out of the lock: `write` may take a while
    let bar = BAR.lock().unwrap_or_else(|e| e.into_inner()).clone();
    match bar {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

/// Writes to standard output; a closed pipe (or any write error) ends all later output.
pub fn stdout(args: std::fmt::Arguments<'_>) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let written = around_bar(|| {
        let mut out = std::io::stdout().lock();
        out.write_fmt(args).and_then(|()| out.flush())
    });
    if let Err(e) = written {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            STDOUT_FAILED.store(true, Ordering::Relaxed);
            stderr(format_args!("ember: cannot write the output: {e}\n"));
        }
    }
}

/// Whether writing the output failed other than by its reader going away.
pub fn failed() -> bool {
    STDOUT_FAILED.load(Ordering::Relaxed)
}

/// Writes to standard error; an error is ignored (there is nowhere left to say it).
pub fn stderr(args: std::fmt::Arguments<'_>) {
    around_bar(|| {
        let _ = std::io::stderr().lock().write_fmt(args);
    });
}

/// Whether standard output was found closed.
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// `println!` that never panics: see [`stdout`].
#[macro_export]
macro_rules! outln {
    ($($t:tt)*) => { $crate::out::stdout(format_args!("{}\n", format_args!($($t)*))) };
}

/// `print!` that never panics: see [`stdout`].
#[macro_export]
macro_rules! out {
    ($($t:tt)*) => { $crate::out::stdout(format_args!($($t)*)) };
}

/// `eprintln!` that never panics: see [`stderr`].
#[macro_export]
macro_rules! errln {
    ($($t:tt)*) => { $crate::out::stderr(format_args!("{}\n", format_args!($($t)*))) };
}
