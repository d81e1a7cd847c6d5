//! What ember needs of LVM: one read of a volume group's whole state per pass, its writes (lvm
//! commands), and the clear of an LV before its removal ([`clear`]: the one write that is not lvm's).
//!
//! Reading and writing are separate traits: `ember plan` is handed a [`LvmRead`] and so cannot
//! run a mutating command (there is no way to reach one through that type).

pub mod attr;
pub mod clear;
pub mod cli;
pub mod dm;
mod error;
pub mod inflight;
pub mod kind;
mod lvref;
mod observed;
pub mod poolusage;
pub mod probe;
pub mod recall;
pub mod report;
pub mod shell;
pub mod sim;
pub mod sizing;
mod spec;
pub mod stamp;
pub mod vglock;

pub use error::{LvmError, POOL_THRESHOLD, UNKNOWN_TO_POOL};
pub use kind::LvKind;
pub use lvref::LvRef;
pub use observed::{LvInfo, Observed, Owner, Pv, VgInfo};
use observed::{is_false, is_ok, is_true, yes};
pub use spec::{LvmOptions, LvmSpec};

use crate::names::{LvName, Tag, VgName};
use crate::size::Bytes;

/// Reading LVM: what `plan`, `status` and every pass start with.
pub trait LvmRead {
    /// The whole state of one volume group in one lvm call; `None` when it does not exist.
    fn observe(&self, vg: &VgName) -> Result<Option<Observed>, LvmError>;
    /// The volume group and its thin pool `pool` alone, in one cheap read (`lvs` of one LV
    /// with the VG's fields): what the daemon's pool check runs. `None` when the VG or the pool
    /// does not exist.
    fn observe_pool(&self, vg: &VgName, pool: &LvName) -> Result<Option<Observed>, LvmError> {
        Ok(self.observe(vg)?.and_then(|mut o| {
            o.lvs.retain(|l| l.name == *pool);
            (!o.lvs.is_empty()).then_some(o)
        }))
    }
    /// How many lvm processes this handle has started so far.
    fn calls(&self) -> u64;
    /// The volume groups lvm sees, by name (what an error about a missing one lists).
    fn vg_names(&self) -> Result<Vec<String>, LvmError> {
        Ok(vec![])
    }
    /// A cheap read that says whether `vg` is still as `last` (a full read) found it: equal
    /// stamps, the first read before a full read, mean the full read still holds. `None` when
    /// it cannot be had (the caller then reads in full).
    fn stamp(&self, _vg: &VgName, _last: &Observed) -> Option<stamp::Stamp> {
        None
    }
    /// The kernel's count of device events (`/sys/kernel/uevent_seqnum`: every device-mapper
    /// device made, changed or removed is one): the same count around a full read means no
    /// device came and went during it. `None` when it cannot be read (nothing is stamped then).
    fn device_events(&self) -> Option<u64> {
        None
    }
    /// A thin pool's usage and health from the kernel, without lvm ([`poolusage`]): what a
    /// remembered read needs fresh. `None`: not available here (the simulator, whose stamp
    /// covers usage); `Ok(None)`: the pool has no device.
    #[allow(clippy::type_complexity)]
    fn pool_usage(
        &self,
        _vg: &VgName,
        _pool: &LvName,
    ) -> Option<Result<Option<poolusage::PoolUsage>, String>> {
        None
    }
    /// How many lvm commands it has run (more than `calls` when a shell ran several).
    fn commands(&self) -> u64 {
        self.calls()
    }
    /// Whether the device at `path` is blank, read-only ([`probe`]): what a desired volume
    /// group may be made of.
    fn probe(&self, path: &std::path::Path) -> probe::Device {
        probe::probe(path)
    }
    /// Where the kernel's target configuration (configfs) is on the system this LVM is on: the
    /// host's for the real LVM, a model beside the simulator's state.
    fn target_root(&self) -> TargetRoot {
        TargetRoot {
            path: std::path::PathBuf::from(CONFIGFS),
            modelled: false,
        }
    }
}

/// Where configfs is mounted on a host.
pub const CONFIGFS: &str = "/sys/kernel/config";

/// The kernel's target configuration: configfs at `path`, or (`modelled`) a plain directory
/// that models configfs's rules, for the simulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetRoot {
    pub path: std::path::PathBuf,
    pub modelled: bool,
}

/// Changing LVM. Every LV ember creates carries the tags its caller gives (ember's own:
/// `ember-managed` and the backend's `ember-backend=<name>`).
pub trait LvmWrite: LvmRead {
    /// The commands until [`LvmWrite::end_batch`] may share one lvm process (the lvm shell).
    fn begin_batch(&self) {}
    fn end_batch(&self) {}
    /// Closes a shell kept beyond its batch (`LvmOptions::keep_shell`): called when the
    /// caller is idle, so that no lvm process stays resident between bursts of work.
    fn release(&self) {}
    /// `lvcreate --type thin-pool` with the metadata and chunk sizes given, and these tags.
    fn create_thin_pool(
        &self,
        vg: &VgName,
        pool: &LvName,
        spec: &PoolCreate,
        tags: &[Tag],
    ) -> Result<(), LvmError>;
    /// `lvextend --poolmetadatasize`: the pool's metadata grown to `size` (lvm grows the spare
    /// with it when the spare is smaller). Bound to the pool as planned, as [`LvmWrite::extend`].
    fn extend_pool_metadata(&self, vg: &VgName, pool: &LvRef, size: Bytes) -> Result<(), LvmError>;
    /// `lvcreate` of a volume ember owns: thin in `pool`, or linear (thick) when `pool` is
    /// `None`; a thin volume created inactive when not `active` (a linear one is always created
    /// active: lvcreate wipes its start, which needs it active).
    fn create_lv(
        &self,
        vg: &VgName,
        name: &LvName,
        size: Bytes,
        pool: Option<&LvName>,
        active: bool,
        tags: &[Tag],
    ) -> Result<(), LvmError>;
    /// A thin volume in `pool`, or a linear (thick) volume when `pool` is `None`; active.
    fn create_volume(
        &self,
        vg: &VgName,
        name: &LvName,
        size: Bytes,
        pool: Option<&LvName>,
        tags: &[Tag],
    ) -> Result<(), LvmError> {
        self.create_lv(vg, name, size, pool, true, tags)
    }
    /// A thin volume created inactive (`--activate n`): no activation and no udev wait; the
    /// caller activates it later, with others ([`LvmWrite::activate_many`]).
    fn create_thin_inactive(
        &self,
        vg: &VgName,
        name: &LvName,
        size: Bytes,
        pool: &LvName,
        tags: &[Tag],
    ) -> Result<(), LvmError> {
        self.create_lv(vg, name, size, Some(pool), false, tags)
    }
    /// A thin snapshot `name` of the thin volume `origin` (`lvcreate --snapshot`, no size: it
    /// shares the origin's blocks and has its virtual size). `skip_activation`: left inactive
    /// and skipped by `vgchange -ay` and at boot, as cinder leaves its snapshots; otherwise
    /// activated, an ordinary volume (a clone, or a volume from a snapshot). lvm copies none of
    /// the origin's tags.
    fn create_snapshot(
        &self,
        vg: &VgName,
        origin: &LvName,
        name: &LvName,
        skip_activation: bool,
        tags: &[Tag],
    ) -> Result<(), LvmError>;
    /// `lvchange --addtag ... --deltag ...` of one LV (ownership and prune marks), bound to the
    /// LV as planned: lvm itself selects it by its UUID in the same command.
    fn change_tags(
        &self,
        vg: &VgName,
        lv: &LvRef,
        add: &[Tag],
        remove: &[Tag],
    ) -> Result<(), LvmError>;
    /// `pvcreate --metadatasize` of blank devices, then `vgcreate --addtag` of the VG on them.
    /// Never `--force` or `--yes`: lvm itself refuses a device with a signature.
    fn create_vg(
        &self,
        _vg: &VgName,
        _devices: &[std::path::PathBuf],
        _metadata_area: Bytes,
        _tags: &[Tag],
    ) -> Result<(), LvmError> {
        Err(LvmError::Device {
            device: String::new(),
            detail: "this lvm cannot create a volume group".into(),
        })
    }
    /// `pvcreate --metadatasize` of blank devices, then `vgextend` of the VG with them.
    fn extend_vg(
        &self,
        _vg: &VgName,
        _devices: &[std::path::PathBuf],
        _metadata_area: Bytes,
    ) -> Result<(), LvmError> {
        Err(LvmError::Device {
            device: String::new(),
            detail: "this lvm cannot extend a volume group".into(),
        })
    }
    /// `pvresize` of a PV whose device grew.
    fn resize_pv(&self, _vg: &VgName, device: &std::path::Path) -> Result<(), LvmError> {
        Err(LvmError::Device {
            device: device.display().to_string(),
            detail: "this lvm cannot resize a physical volume".into(),
        })
    }
    /// `vgchange --addtag`: the VG marked as one backend's (`ember-backend=NAME`).
    fn tag_vg(&self, vg: &VgName, add: &Tag) -> Result<(), LvmError>;
    /// `lvextend -L`, bound to the LV as planned. lvextend takes no selection (lvm2 2.03: only
    /// an LV name), so the UUID is checked by the command right before it, in the same lvm
    /// shell when there is one.
    fn extend(&self, vg: &VgName, lv: &LvRef, size: Bytes) -> Result<(), LvmError>;
    /// `lvextend -L` of an LV this pass made with its previous command (a copy made larger
    /// than its source): by name, as its UUID is not known yet.
    fn extend_new(&self, vg: &VgName, lv: &LvName, size: Bytes) -> Result<(), LvmError>;
    /// `lvremove`, bound to the LV as planned: lvm itself selects it by its UUID in the same
    /// command.
    fn remove(&self, vg: &VgName, lv: &LvRef) -> Result<(), LvmError>;
    /// Zeroes over the first `target.bytes` of the LV `target` names, through its device,
    /// proven to be that LV first ([`clear`]); an inactive one is activated first. `ready` runs
    /// once the device is proven and held, before the first zero (what must be recorded before
    /// any data is lost: its failure writes nothing). `progress` is told the bytes written so
    /// far; `stop` ends it between writes (an error: the LV is then not removed). No lvm command
    /// writes data: this is the one write that is not lvm's.
    fn clear(
        &self,
        vg: &VgName,
        target: &clear::ClearTarget,
        stop: &std::sync::atomic::AtomicBool,
        ready: &dyn Fn() -> Result<(), LvmError>,
        progress: &dyn Fn(u64),
    ) -> Result<(), LvmError>;
    /// `lvchange --activate y` of several volumes in one command (at most [`ACTIVATE_CHUNK`]);
    /// fails if any of them could not be activated (the others may have been).
    fn activate_many(&self, vg: &VgName, lvs: &[LvName]) -> Result<(), LvmError>;
    /// Activates one thin volume once more to tell why it cannot be: `Ok(true)` when it is its
    /// own table load that lvm's kernel refused with ENODATA (its pool has no such thin
    /// device), not another device's and not another failure; `Ok(false)` when it activated;
    /// otherwise the error. (lvm's message names only a device number: `reload ioctl on
    /// (253:6) failed: No data available`; `lvchange -v` says which device each number is.)
    fn own_device_unknown_to_pool(&self, vg: &VgName, lv: &LvName) -> Result<bool, LvmError> {
        match self.activate(vg, lv) {
            Ok(()) => Ok(false),
            Err(e) if e.unknown_to_pool() => Ok(true),
            Err(e) => Err(e),
        }
    }
    /// The thin volumes of `vg` whose creation ember recorded as under way and did not see end
    /// ([`inflight`]): what a crash or power cut during `lvcreate` leaves recorded. Nothing
    /// when nothing is recorded, or the record cannot be trusted (said in the log).
    fn in_flight(&self, _vg: &VgName) -> Vec<LvName> {
        vec![]
    }
    /// Records that `volumes` are the thin volumes of `vg` whose creation is under way, on
    /// disk before it returns (the record replaces the last; none: no record).
    fn record_in_flight(&self, _vg: &VgName, _volumes: &[LvName]) -> Result<(), String> {
        Ok(())
    }
    /// One volume: what cinder-volume's `ensure_export` does for each of its volumes at start.
    fn activate(&self, vg: &VgName, lv: &LvName) -> Result<(), LvmError> {
        self.activate_many(vg, std::slice::from_ref(lv))
    }
}

/// A thin pool to create: data, metadata (one LV; lvm puts a spare of the same size beside it)
/// and chunk size, each a whole number of extents or chunks already.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PoolCreate {
    pub size: Bytes,
    pub metadata: Bytes,
    pub chunk: Bytes,
}

/// The lvm command a process is running now (a worker runs one command at a time). The
/// supervisor uses it to decide whether a stuck worker may be killed (a read) or never (a write).
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Busy {
    pub kind: BusyKind,
    pub command: String,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum BusyKind {
    Read,
    Write,
}

impl Busy {
    pub fn is_write(&self) -> bool {
        self.kind == BusyKind::Write
    }
}

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            BusyKind::Read => "read",
            BusyKind::Write => "write",
        };
        write!(f, "{kind}: {}", self.command)
    }
}

/// Volumes per `lvchange --activate y`: lvm's shell splits a line into at most 64 words
/// (`MAX_ARGS` in lvm2's tools/lvm.c), and a command line stays short.
pub const ACTIVATE_CHUNK: usize = 50;
