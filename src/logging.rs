//! The log's lines on standard error (outside systemd; `main` sets the log up): each event's
//! line gathered and written whole, through `ember apply`'s progress bar while one is drawn
//! (`crate::out::around_bar`), so that a log line never tears the bar.

use std::io::Write;

use tracing_subscriber::fmt::MakeWriter;

/// Where log lines go, each whole, through the progress bar if one is drawn: standard error,
/// or (for tests) any function of the line's bytes.
#[derive(Clone, Copy)]
pub struct Lines<F> {
    sink: F,
}

impl Lines<fn(&[u8])> {
    pub fn stderr() -> Self {
        Lines {
            sink: |b: &[u8]| {
                // nowhere to say that the log cannot be written
                let _ = std::io::stderr().lock().write_all(b);
            },
        }
    }
}

impl<F: Fn(&[u8]) + Copy> Lines<F> {
    pub fn new(sink: F) -> Self {
        Lines { sink }
    }
}

impl<'a, F: Fn(&[u8]) + Copy + 'a> MakeWriter<'a> for Lines<F> {
    type Writer = Line<F>;

    fn make_writer(&'a self) -> Line<F> {
        Line {
            buf: Vec::new(),
            sink: self.sink,
        }
    }
}

/// One event's line, gathered, then written at once when tracing is done with it.
pub struct Line<F: Fn(&[u8])> {
    buf: Vec<u8>,
    sink: F,
}

impl<F: Fn(&[u8])> Write for Line<F> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<F: Fn(&[u8])> Drop for Line<F> {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            crate::out::around_bar(|| (self.sink)(&self.buf));
        }
    }
}
