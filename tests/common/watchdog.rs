//! A time limit on one test that ends with the test.
//!
//! A test that can hang (a process it waits for is stopped, a lock is never released) takes a
//! `Watchdog`. If the test is still running after its limit, the watchdog writes what it was
//! told to report straight to the console (past libtest's output capture, which keeps a
//! hung test's `eprintln!` to itself), then runs the test's `unblock` (kill what the test waits
//! for), so that the test fails by itself and the tests after it run. Dropping the watchdog (the
//! test returned or panicked) ends its thread at once: it never outlives its test.
//!
//! Only if the test is still stuck `GRACE` after `unblock` (a process in uninterruptible
//! sleep) does the watchdog end the test binary, with a last line saying so.

use std::io::Write;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a test may stay stuck after `unblock` before the binary is ended.
const GRACE: Duration = Duration::from_secs(120);

pub struct Watchdog {
    done: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    what: String,
    limit: Duration,
    start: Instant,
}

/// Writes `text` to the process's standard error directly (libtest captures only the print
/// macros), so that a hang's report reaches the console whatever the capture.
pub fn to_console(text: &str) {
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(text.as_bytes());
    let _ = e.write_all(b"\n");
    let _ = e.flush();
}

/// What a hang report usually needs: every process, with its state and wait channel.
pub fn processes() -> String {
    std::process::Command::new("ps")
        .args(["-eo", "pid,ppid,stat,wchan:20,etimes,args"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_else(|e| format!("(ps failed: {e})"))
}

impl Watchdog {
    /// Guards the test `what` for `limit`. `unblock` runs only on a hang, on the watchdog's
    /// thread: it returns the report (processes, logs) and kills what the test waits for.
    pub fn new(
        what: &str,
        limit: Duration,
        unblock: impl FnOnce() -> String + Send + 'static,
    ) -> Self {
        let (tx, rx) = mpsc::channel::<()>();
        let name = what.to_string();
        let what = what.to_string();
        let thread = std::thread::spawn(move || {
            let start = Instant::now();
            // a message never comes: the sender is only dropped, when the test ends
            if rx.recv_timeout(limit) != Err(RecvTimeoutError::Timeout) {
                return;
            }
            to_console(&format!(
                "WATCHDOG: {what} still running after {} s: unblocking it so that it fails",
                start.elapsed().as_secs()
            ));
            let report = unblock();
            to_console(&format!("WATCHDOG: {what}: what was running:\n{report}"));
            if rx.recv_timeout(GRACE) == Err(RecvTimeoutError::Timeout) {
                to_console(&format!(
                    "WATCHDOG: {what} still stuck {} s after being unblocked: ending the test \
                     binary (exit 1)\n{}",
                    GRACE.as_secs(),
                    processes()
                ));
                std::process::exit(1);
            }
        });
        Watchdog {
            done: Some(tx),
            thread: Some(thread),
            what: name,
            limit,
            start: Instant::now(),
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // the headroom the limit leaves, in the suite's log
        to_console(&format!(
            "WATCHDOG: {} ended after {:.0} s of its {} s limit",
            self.what,
            self.start.elapsed().as_secs_f64(),
            self.limit.as_secs()
        ));
        drop(self.done.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Says on the console when a wait took more than half of its limit: the headroom a slower
/// machine has before that limit fails a test.
pub fn note_wait(what: &str, took: Duration, limit_secs: u64) {
    if took.as_secs_f64() * 2.0 > limit_secs as f64 {
        to_console(&format!(
            "SLOW WAIT: {what} took {:.1} s of its {limit_secs} s limit",
            took.as_secs_f64()
        ));
    }
}

/// A stop flag for a helper thread that loops until told to stop: set when the guard is
/// dropped, so that a test that panics before it says stop leaves no thread running into the
/// tests after it.
pub struct StopOnDrop(pub std::sync::Arc<std::sync::atomic::AtomicBool>);

impl StopOnDrop {
    pub fn new() -> Self {
        StopOnDrop(std::sync::Arc::new(std::sync::atomic::AtomicBool::new(
            false,
        )))
    }
    pub fn flag(&self) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
        self.0.clone()
    }
    pub fn stop(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.stop();
    }
}
