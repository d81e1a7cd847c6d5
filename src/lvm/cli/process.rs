//! One lvm command as a process of its own: started in a clean environment, in its own process
//! group, its output drained, a read killed at its timeout, a write waited for.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;

use wait_timeout::ChildExt;

use super::{LvmCli, Mode, Output, set_in_flight};
use crate::lvm::LvmError;

impl LvmCli {
    pub(super) fn run_once(&self, mode: Mode, args: &[String]) -> Result<Output, LvmError> {
        let command = self.describe(args);
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.commands.fetch_add(1, Ordering::Relaxed);
        let mut cmd = Command::new(&self.program);
        cmd.args(args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        tracing::debug!(command = %command, "running lvm");
        // its own process group: a Ctrl-C or a signal to the daemon's group never reaches lvm
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = cmd.spawn().map_err(|source| LvmError::Spawn {
            command: command.clone(),
            source,
        })?;
        set_in_flight(Some(mode.busy(&command)));
        let result = self.wait_child(mode, &command, &mut child);
        set_in_flight(None);
        result
    }

    fn wait_child(
        &self,
        mode: Mode,
        command: &str,
        child: &mut std::process::Child,
    ) -> Result<Output, LvmError> {
        let command = command.to_string();
        // drain both pipes in threads so a chatty lvm cannot block on a full pipe
        let mut out_pipe = child.stdout.take();
        let mut err_pipe = child.stderr.take();
        let out_t = std::thread::spawn(move || {
            let mut s = Vec::new();
            if let Some(p) = out_pipe.as_mut() {
                let _ = p.read_to_end(&mut s);
            }
            s
        });
        let err_t = std::thread::spawn(move || {
            let mut s = Vec::new();
            if let Some(p) = err_pipe.as_mut() {
                let _ = p.read_to_end(&mut s);
            }
            s
        });
        let wait_err = |source| LvmError::Spawn {
            command: command.clone(),
            source,
        };
        let status = match mode {
            Mode::Read => match child.wait_timeout(self.read_timeout).map_err(wait_err)? {
                Some(s) => s,
                None => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(LvmError::ReadTimeout {
                        command,
                        secs: self.read_timeout.as_secs(),
                    });
                }
            },
            Mode::Write => match child
                .wait_timeout(self.write_warn_after)
                .map_err(wait_err)?
            {
                Some(s) => s,
                None => {
                    tracing::warn!(command = %command, secs = self.write_warn_after.as_secs(),
                        "lvm write is still running; ember never kills a write, waiting for it (backend degraded)");
                    child.wait().map_err(wait_err)?
                }
            },
        };
        let stdout = String::from_utf8_lossy(&out_t.join().unwrap_or_default()).into_owned();
        let stderr = String::from_utf8_lossy(&err_t.join().unwrap_or_default())
            .trim()
            .to_string();
        if status.success() {
            return Ok(Output { stdout, log: None });
        }
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(code), _) => Err(LvmError::Failed {
                command,
                code,
                stderr,
            }),
            (None, Some(signal)) => Err(LvmError::Signalled {
                command,
                signal,
                stderr,
            }),
            (None, None) => Err(LvmError::Failed {
                command,
                code: -1,
                stderr,
            }),
        }
    }
}
