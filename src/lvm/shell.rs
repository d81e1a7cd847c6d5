//! One `lvm` process for many commands: the lvm shell, driven the way lvmdbusd drives it.
//!
//! Forking `lvm` costs a process start, a config parse and a device scan per command; the
//! shell pays the first two once (measured: `bench/run --floor`). The protocol is lvm's own:
//! `LVM_COMMAND_PROFILE=lvmdbusd` (the profile lvm2 ships for lvmdbusd: JSON output and a
//! command log) and `LVM_REPORT_FD`, a pipe on which lvm writes one JSON document per command,
//! with the command's report and a `log` whose last `status` entry carries its return code
//! (1 = success). Commands go in on stdin, one line each.
//!
//! Safety rules (the same as for one process per command):
//! - a line is built only from arguments that cannot be misread (no blanks, quotes, backslashes,
//!   `#` or control characters); anything else is refused here and runs as its own process;
//! - a write is never killed: a slow one is reported and waited for;
//! - a read that hangs kills the shell (it is between writes then), as a hung read process is;
//! - if the shell dies during a command, that command's outcome is unknown: it is reported
//!   failed and never retried here; the pass's confirming read decides what happened.

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

/// The descriptor lvm writes its reports to, in the shell process.
const REPORT_FD: i32 = 3;
/// The profile lvm2 installs for lvmdbusd (`/etc/lvm/profile/lvmdbusd.profile`).
pub const PROFILE: &str = "lvmdbusd";

/// Why a command could not be carried out through the shell.
#[derive(Debug)]
pub enum ShellError {
    /// The shell is gone (exited, killed, or spoke something that is not the protocol). Whether
    /// the command ran is unknown. `status` is the shell's exit, when known.
    Died { detail: String, stderr: String },
    /// A read did not finish in time; the shell was killed.
    ReadTimeout,
}

/// What lvm reported for one command.
#[derive(Debug)]
pub struct Response {
    /// lvm's return code mapped to a process exit code: 0 on success.
    pub code: i32,
    /// The whole JSON document (the command's report, if any, and its log).
    pub json: String,
    /// The command's error lines from its log, then anything it printed on stderr.
    pub errors: String,
}

#[derive(serde::Deserialize)]
struct Doc {
    #[serde(default)]
    log: Vec<LogEntry>,
}

#[derive(serde::Deserialize)]
struct LogEntry {
    #[serde(default)]
    log_type: String,
    #[serde(default)]
    log_object_type: String,
    #[serde(default)]
    log_message: String,
    #[serde(default)]
    log_ret_code: String,
}

/// Whether `arg` can go on an lvm shell line and come out as the same argument.
pub fn fits_on_line(arg: &str) -> bool {
    !arg.is_empty()
        && arg
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !matches!(c, '"' | '\'' | '\\' | '#'))
}

pub struct LvmShell {
    /// `None` once reaped or handed to a reaper thread.
    child: Option<Child>,
    stdin: ChildStdin,
    stdout: ChildStdout,
    stderr: ChildStderr,
    report: std::fs::File,
    /// Report bytes read but not yet consumed (at most the start of the next document).
    pending: Vec<u8>,
}

impl std::fmt::Debug for LvmShell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LvmShell")
            .field("pid", &self.child.as_ref().map(Child::id))
            .finish_non_exhaustive()
    }
}

impl LvmShell {
    /// Starts `program` as a shell and checks that it speaks the protocol (a `version` command
    /// must come back as a JSON document with a success status within `timeout`).
    pub fn start(
        program: &Path,
        env: &[(String, std::ffi::OsString)],
        timeout: Duration,
    ) -> Result<Self, String> {
        let (rd, wr) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
            .map_err(|e| format!("cannot make a pipe for lvm's reports: {e}"))?;
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("LVM_COMMAND_PROFILE", PROFILE)
            .env("LVM_REPORT_FD", REPORT_FD.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // its own process group: a signal to the daemon's group never reaches lvm
            .process_group(0);
        let wr_raw = wr.as_raw_fd();
        // SAFETY: between fork and exec this only calls dup2/fcntl (async-signal-safe) on a
        // descriptor that is open in the child.
        unsafe {
            cmd.pre_exec(move || {
                if wr_raw == REPORT_FD {
                    let fd = std::os::fd::BorrowedFd::borrow_raw(wr_raw);
                    nix::fcntl::fcntl(
                        fd,
                        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
                    )?;
                } else if nix::libc::dup2(wr_raw, REPORT_FD) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
        drop(wr); // only lvm holds the write end: its exit is an end of file here
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err("lvm's pipes were not set up".into());
        };
        let report = std::fs::File::from(rd);
        for fd in [stdout.as_fd(), stderr.as_fd(), report.as_fd()] {
            set_nonblocking(fd).map_err(|e| format!("cannot set up lvm's pipes: {e}"))?;
        }
        let mut shell = LvmShell {
            child: Some(child),
            stdin,
            stdout,
            stderr,
            report,
            pending: Vec::new(),
        };
        match shell.run(&["version".to_string()], Some(timeout), None) {
            Ok(r) if r.code == 0 => Ok(shell),
            Ok(r) => {
                shell.kill();
                Err(format!(
                    "the lvm shell answered `version` with code {}: {}",
                    r.code, r.errors
                ))
            }
            Err(ShellError::ReadTimeout) => Err(format!(
                "the lvm shell gave no report within {} s (is the {PROFILE} profile installed?)",
                timeout.as_secs()
            )),
            Err(ShellError::Died { detail, stderr }) => {
                shell.kill();
                let stderr = stderr.replace('\n', " ");
                Err(if stderr.is_empty() {
                    format!("it did not answer `version`: {detail}")
                } else {
                    format!("it did not answer `version`: {detail}: {stderr}")
                })
            }
        }
    }

    /// Runs one command. `deadline` bounds a read (the shell is killed when it passes); a write
    /// has none, and `warn_after` reports it as slow once.
    pub fn run(
        &mut self,
        args: &[String],
        deadline: Option<Duration>,
        warn_after: Option<(Duration, &dyn Fn())>,
    ) -> Result<Response, ShellError> {
        let mut line = args.join(" ");
        line.push('\n');
        if let Err(e) = self.stdin.write_all(line.as_bytes()) {
            return Err(self.died(format!("the lvm shell does not take commands: {e}")));
        }
        let _ = self.stdin.flush();
        let start = Instant::now();
        let mut warned = false;
        let mut stderr = Vec::new();
        let mut sink = Vec::new();
        loop {
            let complete = match self.complete_document() {
                Ok(c) => c,
                Err(e) => return Err(self.died(e)),
            };
            if let Some(end) = complete {
                // anything lvm printed on stderr before finishing is in the pipe by now
                drain(&mut self.stderr, &mut stderr);
                drain(&mut self.stdout, &mut sink);
                let doc: Vec<u8> = self.pending.drain(..end).collect();
                let json = String::from_utf8_lossy(&doc).into_owned();
                return Ok(interpret(json, &stderr));
            }
            let elapsed = start.elapsed();
            let wait = match deadline {
                Some(d) if elapsed >= d => {
                    self.kill();
                    return Err(ShellError::ReadTimeout);
                }
                Some(d) => d - elapsed,
                None => Duration::from_secs(1),
            };
            if let Some((after, warn)) = warn_after
                && !warned
                && elapsed >= after
            {
                warned = true;
                warn();
            }
            let ms = wait.as_millis().clamp(1, 1000) as u16;
            let (out_ev, err_ev, rep_ev) = {
                let mut fds = [
                    PollFd::new(self.stdout.as_fd(), PollFlags::POLLIN),
                    PollFd::new(self.stderr.as_fd(), PollFlags::POLLIN),
                    PollFd::new(self.report.as_fd(), PollFlags::POLLIN),
                ];
                match poll(&mut fds, PollTimeout::from(ms)) {
                    Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                    Err(e) => return Err(self.died(format!("cannot wait for the lvm shell: {e}"))),
                }
                let ev = |f: &PollFd| f.revents().unwrap_or(PollFlags::empty());
                (ev(&fds[0]), ev(&fds[1]), ev(&fds[2]))
            };
            let ready = PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR;
            if out_ev.intersects(ready) {
                drain(&mut self.stdout, &mut sink);
                sink.clear();
            }
            if err_ev.intersects(ready) {
                drain(&mut self.stderr, &mut stderr);
            }
            if rep_ev.intersects(ready) && drain(&mut self.report, &mut self.pending) {
                // end of file: lvm is gone; a document it finished is still good
                if !matches!(self.complete_document(), Ok(Some(_))) {
                    drain(&mut self.stderr, &mut stderr);
                    let text = String::from_utf8_lossy(&stderr).trim().to_string();
                    let mut e = self.died("the lvm shell exited during the command".into());
                    if let ShellError::Died { stderr, .. } = &mut e {
                        *stderr = format!("{text} {stderr}").trim().to_string();
                    }
                    return Err(e);
                }
            }
        }
    }

    /// The length of the first complete JSON document in `pending`, if there is one; an error
    /// when the bytes cannot be the start of one (the shell is not speaking the protocol).
    fn complete_document(&self) -> Result<Option<usize>, String> {
        let Some(start) = self.pending.iter().position(|b| !b.is_ascii_whitespace()) else {
            return Ok(None);
        };
        let mut it = serde_json::Deserializer::from_slice(&self.pending[start..])
            .into_iter::<serde::de::IgnoredAny>();
        match it.next() {
            Some(Ok(_)) => Ok(Some(start + it.byte_offset())),
            Some(Err(e)) if !e.is_eof() => Err(format!("lvm wrote a report that is not JSON: {e}")),
            _ => Ok(None),
        }
    }

    /// Whether the shell process is still running (a shell that died between commands is
    /// started again before the next one, not found dead by a write).
    pub fn alive(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    fn died(&mut self, detail: String) -> ShellError {
        let how = match self.child.as_mut().map(Child::try_wait) {
            Some(Ok(Some(s))) => format!(" ({s})"),
            _ => String::new(),
        };
        ShellError::Died {
            detail: format!("{detail}{how}"),
            stderr: String::new(),
        }
    }

    /// Asks the shell to exit (it is between commands) and reaps it; kills it if it does not
    /// go within `grace`.
    pub fn close(mut self, grace: Duration) {
        let _ = self.stdin.write_all(b"exit\n");
        let _ = self.stdin.flush();
        let end = Instant::now() + grace;
        while Instant::now() < end {
            if let Some(Ok(Some(_))) = self.child.as_mut().map(Child::try_wait) {
                self.child = None;
                return;
            }
            let mut sink = Vec::new();
            drain(&mut self.stdout, &mut sink);
            drain(&mut self.stderr, &mut sink);
            drain(&mut self.report, &mut sink);
            std::thread::sleep(Duration::from_millis(5));
        }
        self.kill();
    }

    /// Kills the shell and its process group (only ever between writes or during a read).
    fn kill(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(None) = child.try_wait() {
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::killpg(pid, nix::sys::signal::Signal::SIGKILL);
            let _ = child.wait();
        }
    }
}

impl Drop for LvmShell {
    /// A shell given up on (it died, or stopped speaking the protocol) may still be running a
    /// write: it is never killed here. Its input closes when this value is gone, so it exits
    /// after the command under way; a thread reaps it.
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take()
            && let Ok(None) = child.try_wait()
        {
            std::thread::spawn(move || {
                let _ = child.wait();
            });
        }
    }
}

fn set_nonblocking(fd: std::os::fd::BorrowedFd<'_>) -> nix::Result<()> {
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    let flags = OFlag::from_bits_truncate(fcntl(fd, FcntlArg::F_GETFL)?);
    fcntl(fd, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(())
}

/// Reads what is available without blocking. Returns true at end of file.
fn drain(r: &mut impl Read, into: &mut Vec<u8>) -> bool {
    let mut buf = [0u8; 65536];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return true,
            Ok(n) => into.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
    }
}

fn interpret(json: String, stderr: &[u8]) -> Response {
    let log = serde_json::from_str::<Doc>(&json)
        .map(|d| d.log)
        .unwrap_or_default();
    let status = log
        .iter()
        .rev()
        .find(|e| e.log_type == "status" && e.log_object_type == "cmd");
    let code = match status.map(|e| e.log_ret_code.trim().parse::<i32>()) {
        Some(Ok(1)) => 0,
        Some(Ok(c)) if c > 1 => c,
        // no status, or one that says nothing: not a success ember can rely on
        _ => 5,
    };
    let mut errors: Vec<&str> = log
        .iter()
        .filter(|e| e.log_type == "error")
        .map(|e| e.log_message.as_str())
        .collect();
    let stderr = String::from_utf8_lossy(stderr);
    errors.extend(stderr.lines().map(str::trim).filter(|l| !l.is_empty()));
    Response {
        code,
        json,
        errors: errors.join("\n"),
    }
}

#[cfg(test)]
mod tests;
