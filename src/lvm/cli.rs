//! The real LVM: `lvm` commands as argument vectors, in a clean environment, with timeouts.
//!
//! Reads (`fullreport`) are killed when they exceed the read timeout and retried once when lvm
//! dies with exit 139 (a known transient crash). Writes are never killed: killing lvm mid-write
//! can leave metadata locked; a slow write is logged and waited for.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::shell::LvmShell;
use super::{Busy, BusyKind, LvRef, LvmError, LvmWrite, PoolCreate};
use crate::names::{LvName, Tag, VgName};
use crate::size::Bytes;

/// How lvm is run for one backend.
#[derive(Debug, Clone)]
pub struct LvmCli {
    program: PathBuf,
    env: Vec<(String, OsString)>,
    read_timeout: Duration,
    write_warn_after: Duration,
    /// Whether a pass's writes may go through one lvm shell (`[ember] lvm_shell`).
    use_shell: bool,
    /// Set when the shell did not answer: it is not tried again by this process.
    shell_unavailable: std::sync::Arc<std::sync::atomic::AtomicBool>,
    shell: std::sync::Arc<std::sync::Mutex<Option<(LvmShell, std::time::Instant)>>>,
    /// The shell outlives a batch (a daemon's worker: `LvmOptions::keep_shell`).
    keep_shell: bool,
    /// A kept shell answers a `version` before the first command of a batch: one that stopped
    /// answering while idle is killed (it runs nothing then) and started again, so that no
    /// write is ever sent to it.
    ping_first: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// A command of this batch has run: with no kept shell open, the first one runs as its
    /// own process and the second starts the shell (one command costs no shell start).
    batch_ran: std::sync::Arc<std::sync::atomic::AtomicBool>,
    calls: std::sync::Arc<AtomicU64>,
    commands: std::sync::Arc<AtomicU64>,
    /// Where creations under way are recorded (`LvmOptions::state_dir`).
    in_flight: Option<super::inflight::InFlight>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Read,
    Write,
}

impl Mode {
    fn busy(self, command: &str) -> Busy {
        Busy {
            kind: match self {
                Mode::Read => BusyKind::Read,
                Mode::Write => BusyKind::Write,
            },
            command: command.to_string(),
        }
    }
}

struct Output {
    stdout: String,
    /// The command's whole log (`lastlog`), when it ran in the lvm shell and its caller asked
    /// for it ([`LvmCli::run_logged`]): what says which LVs it processed.
    log: Option<String>,
}

/// The lvm command this process is running now (see [`Busy`]).
static IN_FLIGHT: std::sync::Mutex<Option<Busy>> = std::sync::Mutex::new(None);

pub fn in_flight() -> Option<Busy> {
    IN_FLIGHT.lock().ok().and_then(|g| g.clone())
}

pub(super) fn set_in_flight(v: Option<Busy>) {
    if let Ok(mut g) = IN_FLIGHT.lock() {
        *g = v;
    }
}

impl LvmCli {
    /// `lvm_conf_file` becomes `LVM_SYSTEM_DIR` (its directory) when the file exists, as in
    /// cinder's brick LVM layer; `lvm_suppress_fd_warnings` sets `LVM_SUPPRESS_FD_WARNINGS=1`.
    pub fn new(program: &Path, opts: &super::LvmOptions) -> Self {
        let mut env: Vec<(String, OsString)> = vec![
            ("LC_ALL".into(), "C".into()),
            (
                "PATH".into(),
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
            ),
        ];
        if let Some(conf) = &opts.lvm_conf_file
            && conf.is_file()
            && let Some(dir) = conf.parent()
        {
            env.push(("LVM_SYSTEM_DIR".into(), dir.as_os_str().to_owned()));
        }
        if opts.suppress_fd_warnings {
            env.push(("LVM_SUPPRESS_FD_WARNINGS".into(), "1".into()));
        }
        LvmCli {
            program: program.to_path_buf(),
            env,
            read_timeout: opts.read_timeout,
            write_warn_after: opts.write_warn_after,
            use_shell: opts.use_shell,
            keep_shell: opts.keep_shell,
            ping_first: Default::default(),
            batch_ran: Default::default(),
            shell_unavailable: Default::default(),
            shell: Default::default(),
            calls: Default::default(),
            commands: Default::default(),
            in_flight: opts
                .state_dir
                .as_deref()
                .map(super::inflight::InFlight::new),
        }
    }

    fn describe(&self, args: &[String]) -> String {
        let mut s = self.program.display().to_string();
        for a in args {
            s.push(' ');
            s.push_str(a);
        }
        s
    }

    fn run(&self, mode: Mode, args: &[String]) -> Result<Output, LvmError> {
        self.run_logged(mode, args, false)
    }

    /// [`LvmCli::run`]; `log`: a command that succeeds in the lvm shell comes back with its
    /// log (`lastlog`).
    fn run_logged(&self, mode: Mode, args: &[String], log: bool) -> Result<Output, LvmError> {
        let first = !self.batch_ran.swap(true, Ordering::Relaxed);
        if let Some(result) = self.run_in_shell(mode, args, first, log) {
            return result;
        }
        let result = self.run_once(mode, args);
        let transient = matches!(
            result,
            Err(LvmError::Failed { code: 139, .. }) | Err(LvmError::Signalled { signal: 11, .. })
        );
        if mode == Mode::Read && transient {
            tracing::warn!(command = %self.describe(args), "lvm crashed (exit 139); retrying the read once");
            return self.run_once(mode, args);
        }
        result
    }

    /// What else a stamp covers: the lvm binary (found as `Command` finds it, on the PATH
    /// lvm runs with) and the configuration files it reads.
    fn stamped_files(&self) -> Vec<PathBuf> {
        let env = |k: &str| self.env.iter().find(|(n, _)| n == k).map(|(_, v)| v);
        let program = if self.program.components().count() > 1 {
            self.program.clone()
        } else {
            env("PATH")
                .into_iter()
                .flat_map(std::env::split_paths)
                .map(|d| d.join(&self.program))
                .find(|p| p.is_file())
                .unwrap_or_else(|| self.program.clone())
        };
        let dir = env("LVM_SYSTEM_DIR").map_or_else(|| PathBuf::from("/etc/lvm"), PathBuf::from);
        // and the devices files, which say which devices lvm may use (`lvmdevices` changes
        // them with no commit; lvm.conf's devices/devicesfile picks one of them)
        let devices = dir.join("devices");
        let mut files = vec![program, dir.join("lvm.conf"), dir.join("lvmlocal.conf")];
        let mut listed: Vec<PathBuf> = std::fs::read_dir(&devices)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        listed.sort();
        files.push(devices);
        files.extend(listed);
        files
    }

    fn lv_path(vg: &VgName, lv: &LvName) -> String {
        format!("{vg}/{lv}")
    }
}

mod batch;
mod bound;
mod process;
mod read;
mod unknown;
mod vg;

/// A kept lvm shell is started again after this long.
pub const SHELL_MAX_AGE: Duration = Duration::from_secs(3600);

fn s(v: &str) -> String {
    v.to_string()
}

fn size_arg(size: Bytes) -> String {
    format!("{}b", size.0)
}

impl LvmWrite for LvmCli {
    fn begin_batch(&self) {
        self.open_batch()
    }

    fn end_batch(&self) {
        self.close_batch()
    }

    fn release(&self) {
        // (between commands: every command of the caller's last batch has returned)
        let shell = self.shell.lock().ok().and_then(|mut s| s.take());
        if let Some((sh, _)) = shell {
            sh.close(Duration::from_secs(2));
        }
    }

    fn create_thin_pool(
        &self,
        vg: &VgName,
        pool: &LvName,
        spec: &PoolCreate,
        tags: &[Tag],
    ) -> Result<(), LvmError> {
        let mut args = vec![
            s("lvcreate"),
            s("--yes"),
            s("--type"),
            s("thin-pool"),
            s("-L"),
            size_arg(spec.size),
            s("--poolmetadatasize"),
            size_arg(spec.metadata),
            s("--chunksize"),
            size_arg(spec.chunk),
        ];
        for t in tags {
            args.extend([s("--addtag"), s(t.as_str())]);
        }
        args.extend([s("-n"), s(pool.as_str()), s("--"), s(vg.as_str())]);
        self.run(Mode::Write, &args).map(drop)
    }

    fn extend_pool_metadata(&self, vg: &VgName, pool: &LvRef, size: Bytes) -> Result<(), LvmError> {
        self.check_uuid(vg, pool)?;
        let args = vec![
            s("lvextend"),
            s("--poolmetadatasize"),
            size_arg(size),
            s("--"),
            Self::lv_path(vg, &pool.name),
        ];
        self.run(Mode::Write, &args).map(drop)
    }

    fn create_lv(
        &self,
        vg: &VgName,
        name: &LvName,
        size: Bytes,
        pool: Option<&LvName>,
        active: bool,
        tags: &[Tag],
    ) -> Result<(), LvmError> {
        let mut args = vec![s("lvcreate"), s("--yes")];
        match pool {
            Some(p) => args.extend([
                s("--type"),
                s("thin"),
                s("-V"),
                size_arg(size),
                s("--thinpool"),
                s(p.as_str()),
            ]),
            None => args.extend([s("--type"), s("linear"), s("-L"), size_arg(size)]),
        }
        if !active && pool.is_some() {
            args.extend([s("--activate"), s("n")]);
        }
        for t in tags {
            args.extend([s("--addtag"), s(t.as_str())]);
        }
        args.extend([s("-n"), s(name.as_str()), s("--"), s(vg.as_str())]);
        self.run(Mode::Write, &args).map(drop)
    }

    fn create_snapshot(
        &self,
        vg: &VgName,
        origin: &LvName,
        name: &LvName,
        skip_activation: bool,
        tags: &[Tag],
    ) -> Result<(), LvmError> {
        let mut args = vec![
            s("lvcreate"),
            s("--yes"),
            s("--snapshot"),
            s("--setactivationskip"),
            s(if skip_activation { "y" } else { "n" }),
        ];
        for t in tags {
            args.extend([s("--addtag"), s(t.as_str())]);
        }
        args.extend([
            s("-n"),
            s(name.as_str()),
            s("--"),
            Self::lv_path(vg, origin),
        ]);
        self.run(Mode::Write, &args).map(drop)
    }

    fn extend(&self, vg: &VgName, lv: &LvRef, size: Bytes) -> Result<(), LvmError> {
        self.check_uuid(vg, lv)?;
        self.extend_new(vg, &lv.name, size)
    }

    fn extend_new(&self, vg: &VgName, lv: &LvName, size: Bytes) -> Result<(), LvmError> {
        let args = vec![
            s("lvextend"),
            s("-L"),
            size_arg(size),
            s("--"),
            Self::lv_path(vg, lv),
        ];
        self.run(Mode::Write, &args).map(drop)
    }

    fn remove(&self, vg: &VgName, lv: &LvRef) -> Result<(), LvmError> {
        let args = vec![s("lvremove"), s("--yes")];
        self.run_bound(args, vg, lv, bound::Done::Removed)
    }

    fn clear(
        &self,
        vg: &VgName,
        target: &super::clear::ClearTarget,
        stop: &std::sync::atomic::AtomicBool,
        ready: &dyn Fn() -> Result<(), LvmError>,
        progress: &dyn Fn(u64),
    ) -> Result<(), LvmError> {
        // an inactive LV has no device to write
        if target.device.is_none() {
            self.activate(vg, &target.lv)?;
        }
        let what = format!("clear {vg}/{} (zero, {})", target.lv, Bytes(target.bytes));
        let busy = || set_in_flight(Some(Mode::Write.busy(&what)));
        let r = super::clear::clear_device(vg, target, stop, ready, &busy, progress);
        set_in_flight(None);
        r
    }

    fn change_tags(
        &self,
        vg: &VgName,
        lv: &LvRef,
        add: &[Tag],
        remove: &[Tag],
    ) -> Result<(), LvmError> {
        let mut args = vec![s("lvchange")];
        for t in add {
            args.extend([s("--addtag"), s(t.as_str())]);
        }
        for t in remove {
            args.extend([s("--deltag"), s(t.as_str())]);
        }
        self.run_bound(args, vg, lv, bound::Done::Changed)
    }

    fn create_vg(
        &self,
        vg: &VgName,
        devices: &[std::path::PathBuf],
        metadata_area: Bytes,
        tags: &[Tag],
    ) -> Result<(), LvmError> {
        self.pvcreate(devices, metadata_area)?;
        self.vgcreate(vg, devices, tags)
    }

    fn extend_vg(
        &self,
        vg: &VgName,
        devices: &[std::path::PathBuf],
        metadata_area: Bytes,
    ) -> Result<(), LvmError> {
        self.pvcreate(devices, metadata_area)?;
        self.vgextend(vg, devices)
    }

    fn resize_pv(&self, _vg: &VgName, device: &std::path::Path) -> Result<(), LvmError> {
        self.pvresize(device)
    }

    fn tag_vg(&self, vg: &VgName, add: &Tag) -> Result<(), LvmError> {
        let args = vec![
            s("vgchange"),
            s("--addtag"),
            s(add.as_str()),
            s("--"),
            s(vg.as_str()),
        ];
        self.run(Mode::Write, &args).map(drop)
    }

    fn activate_many(&self, vg: &VgName, lvs: &[LvName]) -> Result<(), LvmError> {
        // -K: a volume (an adopted clone, say) with activation skip set is activated too;
        // ember never activates a snapshot
        let mut args = vec![
            s("lvchange"),
            s("--activate"),
            s("y"),
            s("--ignoreactivationskip"),
            s("--"),
        ];
        args.extend(lvs.iter().map(|lv| Self::lv_path(vg, lv)));
        self.run(Mode::Write, &args).map(drop)
    }

    fn own_device_unknown_to_pool(&self, vg: &VgName, lv: &LvName) -> Result<bool, LvmError> {
        self.activate_telling_tables(vg, lv)
    }

    fn in_flight(&self, vg: &VgName) -> Vec<LvName> {
        self.read_in_flight(vg)
    }

    fn record_in_flight(&self, vg: &VgName, volumes: &[LvName]) -> Result<(), String> {
        match &self.in_flight {
            Some(r) => r.write(vg, volumes),
            None if volumes.is_empty() => Ok(()),
            None => Err("no state directory".into()),
        }
    }
}

#[cfg(test)]
mod tests;
