//! What can go wrong talking to LVM, and what lvm's words about it mean.

use super::report;

#[derive(Debug, thiserror::Error)]
pub enum LvmError {
    #[error("`{command}` failed (exit {code}): {stderr}")]
    Failed {
        command: String,
        code: i32,
        stderr: String,
    },
    #[error("`{command}` was killed by signal {signal}: {stderr}")]
    Signalled {
        command: String,
        signal: i32,
        stderr: String,
    },
    #[error("`{command}` did not finish within {secs} s and was killed (a read: safe to retry)")]
    ReadTimeout { command: String, secs: u64 },
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("`{command}` printed a report ember cannot read: {detail}")]
    Report {
        command: String,
        #[source]
        detail: report::ReportError,
    },
    #[error(
        "`{command}`: the lvm shell ended during the command ({detail}); whether it took effect is known only from the next read"
    )]
    ShellDied { command: String, detail: String },
    /// A bound write whose log, which says what it processed, could not be read.
    #[error("`{command}`: {detail}; whether it took effect is known only from the next read")]
    Unconfirmed { command: String, detail: String },
    /// A device of a desired volume group that is not (or no longer) as planned: blank, the
    /// same device, a path lvm may be given. Nothing was written to it.
    #[error("{device}: {detail}; nothing written to it")]
    Device { device: String, detail: String },
    #[error("simulated LVM state {path}: {detail}")]
    SimState { path: String, detail: String },
    /// A clear (`volume_clear`) that could not be done or finished: the LV is not removed.
    #[error("cannot clear {lv}: {detail}")]
    Clear { lv: String, detail: String },
    /// A bound write ([`super::LvRef`]) found no LV of that name with that UUID: lvm changed nothing.
    #[error(
        "{vg}/{name} is no longer the LV that was planned (uuid {uuid}{now}): nothing done; the next pass reads again"
    )]
    NotPlanned {
        vg: String,
        name: String,
        uuid: String,
        /// What is there now, when known: `; no LV of that name now`, `; now uuid ...`.
        now: String,
    },
}

/// What lvm (libdevmapper) prints when the kernel's thin target cannot find the thin device in
/// its pool's metadata: `thin: Couldn't open thin internal device (-ENODATA)` in the kernel log,
/// `device-mapper: reload ioctl on (...) failed: No data available` from lvm (`LC_ALL=C`).
pub const UNKNOWN_TO_POOL: &str = "failed: No data available";

/// How lvm refuses a new thin volume in a pool whose data or metadata is (nearly) full:
/// `Cannot create new thin volume, free space in thin pool VG/POOL reached threshold.`
pub const POOL_THRESHOLD: &str = "reached threshold";

impl LvmError {
    /// Whether lvm refused a new thin volume because its pool is (nearly) full: every further
    /// creation in the pool would be refused the same way.
    pub fn pool_refuses_new_volumes(&self) -> bool {
        matches!(self, LvmError::Failed { stderr, .. } if stderr.contains(POOL_THRESHOLD))
    }

    /// Whether activating a thin volume failed because its pool has no such thin device: LVM's
    /// metadata names the volume, the pool's own metadata never recorded it (a creation cut
    /// short by a crash or power cut). Such a volume has no mapped blocks: it holds no data.
    pub fn unknown_to_pool(&self) -> bool {
        matches!(self, LvmError::Failed { stderr, .. } if stderr.contains(UNKNOWN_TO_POOL))
    }
}
