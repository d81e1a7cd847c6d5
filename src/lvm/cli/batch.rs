//! The lvm shell of a batch (a pass's writes and confirming read) or of a worker's life: opening,
//! checking, closing it, and running a command through it.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{LvmCli, Mode, Output, SHELL_MAX_AGE, s, set_in_flight};
use crate::lvm::LvmError;
use crate::lvm::shell::{LvmShell, ShellError, fits_on_line};

impl LvmCli {
    /// Opens the lvm shell for a batch (or checks the kept one): [`LvmWrite::begin_batch`].
    pub(super) fn open_batch(&self) {
        self.batch_ran.store(false, Ordering::Relaxed);
        if !self.use_shell || self.shell_unavailable.load(Ordering::Relaxed) {
            return;
        }
        let Ok(mut slot) = self.shell.lock() else {
            return;
        };
        // a kept shell is started again when it died between passes or has run for long
        // (lvm reads /proc/devices and the lvmdbusd profile only when it starts)
        if let Some((sh, since)) = slot.as_mut() {
            if sh.alive() && since.elapsed() < SHELL_MAX_AGE {
                self.ping_first.store(true, Ordering::Relaxed);
                return;
            }
            if let Some((old, _)) = slot.take() {
                old.close(Duration::from_secs(10));
            }
        }
        // a kept shell starts with the second command that needs it (a pass that reads
        // nothing from lvm starts no lvm at all, one that runs one command starts one process)
        if !self.keep_shell {
            self.start_shell(&mut slot);
        }
    }

    fn start_shell(&self, slot: &mut Option<(LvmShell, std::time::Instant)>) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        match LvmShell::start(&self.program, &self.env, self.read_timeout) {
            Ok(sh) => *slot = Some((sh, std::time::Instant::now())),
            Err(e) => {
                self.shell_unavailable.store(true, Ordering::Relaxed);
                let dir = self
                    .env
                    .iter()
                    .find(|(k, _)| k == "LVM_SYSTEM_DIR")
                    .map(|(_, v)| std::path::PathBuf::from(v));
                match dir.filter(|_| e.to_string().contains("command profile")) {
                    // cinder's lvm.conf (LVM_SYSTEM_DIR=/etc/cinder) has no profile directory
                    // of its own: correct, only slower; said once, with the remedy
                    Some(dir) => tracing::info!(
                        "lvm runs with LVM_SYSTEM_DIR={} (lvm_conf_file), which has no {}/{}.profile: one lvm process per command (copy /etc/lvm/profile/{}.profile there to let ember use one lvm shell)",
                        dir.display(),
                        dir.join("profile").display(),
                        super::super::shell::PROFILE,
                        super::super::shell::PROFILE
                    ),
                    None => tracing::warn!(
                        "cannot use the lvm shell ({e}); running one lvm process per command from now on"
                    ),
                }
            }
        }
    }

    /// [`LvmWrite::end_batch`]: closes the shell unless it is kept.
    pub(super) fn close_batch(&self) {
        if self.keep_shell {
            return;
        }
        let shell = self.shell.lock().ok().and_then(|mut s| s.take());
        if let Some((sh, _)) = shell {
            sh.close(Duration::from_secs(10));
        }
    }

    /// Runs the command through the open lvm shell, if there is one and every argument fits
    /// on its line; `None` means "run it as its own process". `first`: the batch's first
    /// command, which starts no kept shell (an lvm shell's start costs more than one process).
    pub(super) fn run_in_shell(
        &self,
        mode: Mode,
        args: &[String],
        first: bool,
        log: bool,
    ) -> Option<Result<Output, LvmError>> {
        let mut slot = self.shell.lock().ok()?;
        if !args.iter().all(|a| fits_on_line(a)) {
            return None;
        }
        if self.ping_first.swap(false, Ordering::Relaxed) {
            self.replace_if_silent(&mut slot);
        }
        if slot.is_none()
            && !first
            && self.keep_shell
            && self.use_shell
            && !self.shell_unavailable.load(Ordering::Relaxed)
        {
            self.start_shell(&mut slot);
        }
        let (shell, _) = slot.as_mut()?;
        let command = self.describe(args);
        self.commands.fetch_add(1, Ordering::Relaxed);
        set_in_flight(Some(mode.busy(&command)));
        let warn = || {
            tracing::warn!(command = %command, secs = self.write_warn_after.as_secs(),
                "lvm write is still running; ember never kills a write, waiting for it (backend degraded)");
        };
        let result = match mode {
            Mode::Read => shell.run(args, Some(self.read_timeout), None),
            Mode::Write => shell.run(args, None, Some((self.write_warn_after, &warn))),
        };
        set_in_flight(None);
        match result {
            Ok(r) if r.code == 0 && log => Some(self.with_log(&mut slot, command, r.json)),
            Ok(r) if r.code == 0 => Some(Ok(Output {
                stdout: r.json,
                log: None,
            })),
            Ok(r) => {
                // the shell's command log says only "failure"; lvm keeps the messages for
                // `lastlog` (as lvmdbusd asks for them)
                let mut errors = r.errors;
                match shell.run(&["lastlog".to_string()], Some(self.read_timeout), None) {
                    Ok(last) => {
                        for line in last.errors.lines() {
                            if !errors.lines().any(|l| l == line) {
                                if !errors.is_empty() {
                                    errors.push('\n');
                                }
                                errors.push_str(line);
                            }
                        }
                    }
                    Err(_) => *slot = None,
                }
                Some(Err(LvmError::Failed {
                    command,
                    code: r.code,
                    stderr: errors,
                }))
            }
            Err(ShellError::ReadTimeout) => {
                *slot = None;
                Some(Err(LvmError::ReadTimeout {
                    command,
                    secs: self.read_timeout.as_secs(),
                }))
            }
            Err(ShellError::Died { detail, stderr }) => {
                // the shell is given up on (never killed: it may be finishing a write)
                *slot = None;
                tracing::warn!(command = %command, "{detail}; the rest of this pass runs one lvm process per command");
                match mode {
                    // a read changes nothing: run it again as its own process
                    Mode::Read => None,
                    Mode::Write => Some(Err(LvmError::ShellDied {
                        command,
                        detail: format!("{detail} {stderr}").trim().to_string(),
                    })),
                }
            }
        }
    }

    /// The output of a command the shell ran with success, and its whole log (`lastlog`): what
    /// it processed (the shell's report has only its status). Without the log, whether it did
    /// what was asked is not known. A shell that does not answer is given up on.
    fn with_log(
        &self,
        slot: &mut Option<(LvmShell, std::time::Instant)>,
        command: String,
        stdout: String,
    ) -> Result<Output, LvmError> {
        let unconfirmed = |why: &str| LvmError::Unconfirmed {
            command: command.clone(),
            detail: format!("its log (lastlog) could not be read: {}", why.trim()),
        };
        let Some((shell, _)) = slot.as_mut() else {
            return Err(unconfirmed("the lvm shell is gone"));
        };
        match shell.run(&[s("lastlog")], Some(self.read_timeout), None) {
            Ok(last) if last.code == 0 => Ok(Output {
                stdout,
                log: Some(last.json),
            }),
            Ok(last) => Err(unconfirmed(&last.errors)),
            Err(e) => {
                *slot = None;
                Err(unconfirmed(&match e {
                    ShellError::ReadTimeout => "no answer in time".to_string(),
                    ShellError::Died { detail, stderr } => format!("{detail} {stderr}"),
                }))
            }
        }
    }

    /// A kept shell must answer `version` within the read timeout before a pass's first
    /// command; one that does not is killed (it runs nothing then) and replaced.
    fn replace_if_silent(&self, slot: &mut Option<(LvmShell, std::time::Instant)>) {
        let Some((sh, _)) = slot.as_mut() else {
            return;
        };
        if matches!(sh.run(&[s("version")], Some(self.read_timeout), None), Ok(r) if r.code == 0) {
            return;
        }
        tracing::warn!(
            "the lvm shell kept between passes did not answer within {} s; a new one takes its place",
            self.read_timeout.as_secs()
        );
        // (the batch's next command that needs a shell starts one)
        if let Some((old, _)) = slot.take() {
            old.close(Duration::from_millis(100));
        }
    }
}
