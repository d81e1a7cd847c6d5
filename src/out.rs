//! Writing a command's output without dying when its reader goes away: `ember plan | head -1`
//! ends quietly, as Unix tools do, instead of panicking on a closed pipe (Rust ignores SIGPIPE,
//! so a write to a closed pipe is an error, and `print!` panics on it). Once standard output
//! is found closed, nothing more is written to it; the command goes on (an `apply` finishes its
//! pass) and exits with its own status. Any other failure to write (a full disk under
//! `ember plan --json > file`) ends the output too, and the command exits 1: a truncated file
//! must not look like a whole one ([`failed`]).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDOUT_FAILED: AtomicBool = AtomicBool::new(false);

/// Writes to standard output; a closed pipe (or any write error) ends all later output.
pub fn stdout(args: std::fmt::Arguments<'_>) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
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
    let _ = std::io::stderr().lock().write_fmt(args);
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
