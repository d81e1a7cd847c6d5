//! Writing a command's output without dying when its reader goes away: `ember plan | head -1`
//! ends quietly, as Unix tools do, instead of panicking on a closed pipe (Rust ignores SIGPIPE,
//! so a write to a closed pipe is an error, and `print!` panics on it). Once standard output
//! is found closed, nothing more is written to it; the command goes on (an `apply` finishes its
//! pass) and exits with its own status.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes to standard output; a closed pipe (or any write error) ends all later output.
pub fn stdout(args: std::fmt::Arguments<'_>) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if out.write_fmt(args).and_then(|()| out.flush()).is_err() {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    }
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
