//! The plan's vocabulary: actions and why they are done, refusals, warnings, marked volumes,
//! and the plan itself.

use serde::Serialize;

use crate::desired::Source;
use crate::lvm::LvRef;
use crate::names::{LvName, LvUuid, Tag};
use crate::size::Bytes;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeleteReason {
    /// `state: absent` in the desired state.
    Absent,
    /// Owned, not declared, and the backend has `prune: true`.
    Prune,
    /// Its wipe began in an earlier pass and was cut short (the tag `ember-clearing`): its
    /// data is partly gone, so it is wiped again and removed.
    Resume,
}

/// The wipe before a deletion (`volume_clear`): zeroes over the LV's first `bytes`, written to
/// the device proven to be the LV that was read (the deletion's `uuid`, and `device`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Clear {
    pub method: crate::config::VolumeClear,
    pub bytes: Bytes,
    /// The device's number as read (`None`: inactive; activated for the wipe).
    #[serde(skip)]
    pub device: Option<(u32, u32)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnmarkReason {
    /// Declared again before its grace period ended.
    Declared,
    /// The backend no longer has `prune: true`.
    PruneOff,
    /// Dated in the future (the clock was ahead): replaced by a mark from now.
    FutureMark,
}

/// Why a thin pool's data or metadata grows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum Growth {
    /// The desired state declares it larger.
    Declared,
    /// `autoextend`: usage (percent) reached the threshold.
    Usage { percent: f64, threshold: f64 },
    /// lvm marks the pool out of data space: grown at once (within the cap), so that the
    /// writes the kernel holds complete.
    OutOfData,
}

impl Growth {
    /// Growth the daemon's pool check does by itself (a declared size waits for a pass).
    pub fn is_automatic(&self) -> bool {
        !matches!(self, Growth::Declared)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    CreatePool {
        pool: LvName,
        size: Bytes,
        /// The metadata LV (lvm puts a spare of the same size beside it).
        metadata: Bytes,
        chunk: Bytes,
    },
    /// The pool's data grown.
    ExtendPool {
        pool: LvName,
        uuid: LvUuid,
        from: Bytes,
        to: Bytes,
        growth: Growth,
    },
    /// The pool's metadata grown (`lvextend --poolmetadatasize`; the spare follows).
    ExtendPoolMetadata {
        pool: LvName,
        uuid: LvUuid,
        from: Bytes,
        to: Bytes,
        growth: Growth,
    },
    CreateVolume {
        volume: LvName,
        size: Bytes,
        thin: bool,
    },
    ExtendVolume {
        volume: LvName,
        uuid: LvUuid,
        from: Bytes,
        to: Bytes,
    },
    /// A thin snapshot of one of the backend's volumes: inactive, skipped at activation.
    CreateSnapshot {
        snapshot: LvName,
        origin: LvName,
        /// Its virtual size, the origin's (it counts toward over-subscription with it).
        size: Bytes,
    },
    /// A new volume made from a snapshot, or cloned from a volume: a thin snapshot of the
    /// source made an ordinary volume (activated, no activation skip), extended from the
    /// source's size to `size` when that is larger.
    CreateFromSource {
        volume: LvName,
        size: Bytes,
        source: Source,
        source_size: Bytes,
    },
    /// A volume or a snapshot (the name says which: snapshots are `_snapshot-…`).
    DeleteVolume {
        volume: LvName,
        uuid: LvUuid,
        size: Bytes,
        reason: DeleteReason,
        /// The volume's thin snapshots, which stay (a thin snapshot does not need its origin;
        /// a volume with a COW snapshot, which would go with it, is never deleted).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        snapshots: Vec<LvName>,
        /// Wiped first (`volume_clear`): tagged `ember-clearing`, zeroed, then removed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clear: Option<Clear>,
    },
    /// An owned, declared volume that is inactive: activated, as cinder-volume's
    /// `ensure_export` does for its volumes at start.
    ActivateVolume {
        volume: LvName,
        /// The LV's as planned (what the mend of a half-created volume removes); none for a
        /// volume this pass created inactive (activated at its end).
        #[serde(skip_serializing_if = "Option::is_none")]
        uuid: Option<LvUuid>,
        size: Bytes,
        thin: bool,
    },
    /// Never planned: what applying does with a thin volume whose activation shows that its
    /// pool has no such device (a creation cut short by a crash or power cut; it holds no
    /// data): removed from LVM's metadata and created again, empty, as declared.
    RecreateVolume {
        volume: LvName,
        /// The half-created LV's, which is removed.
        uuid: LvUuid,
        size: Bytes,
    },
    /// A declared volume that exists without ember's tag (cinder made it), with `adopt: true`:
    /// it gets ember's tags; nothing else about it changes in that step.
    AdoptVolume {
        volume: LvName,
        uuid: LvUuid,
        size: Bytes,
        thin: bool,
    },
    /// A volume made by an ember from before backend tags (`ember-managed` alone): it gets
    /// this backend's tag, once.
    ClaimVolume {
        volume: LvName,
        uuid: LvUuid,
        size: Bytes,
    },
    /// Undeclared with `prune: true`: tagged with the time, deleted at `delete_at` if it is
    /// still undeclared then.
    MarkVolume {
        volume: LvName,
        uuid: LvUuid,
        size: Bytes,
        since: u64,
        delete_at: u64,
    },
    /// A marked volume that will not be deleted after all.
    UnmarkVolume {
        volume: LvName,
        uuid: LvUuid,
        size: Bytes,
        tags: Vec<Tag>,
        reason: UnmarkReason,
    },
}

impl Action {
    pub fn is_destructive(&self) -> bool {
        matches!(self, Action::DeleteVolume { .. })
    }
    /// The size of the LV a deletion removes (0 for any other action).
    pub fn deleted_size(&self) -> u64 {
        match self {
            Action::DeleteVolume { size, .. } => size.0,
            _ => 0,
        }
    }
    /// A new LV: a volume, a snapshot or a copy.
    pub fn creates(&self) -> bool {
        matches!(
            self,
            Action::CreateVolume { .. }
                | Action::CreateSnapshot { .. }
                | Action::CreateFromSource { .. }
        )
    }
    /// The LV this action's new LV is made from (a snapshot's origin, a copy's source).
    pub fn made_from(&self) -> Option<&LvName> {
        match self {
            Action::CreateSnapshot { origin, .. } => Some(origin),
            Action::CreateFromSource { source, .. } => Some(source.name()),
            _ => None,
        }
    }
    /// The existing LV it changes or removes, as planned: what its write is bound to. `None`
    /// for a creation (it fails if the name exists) and for a pool's creation.
    pub fn target(&self) -> Option<LvRef> {
        match self {
            Action::ExtendPool { uuid, .. }
            | Action::ExtendPoolMetadata { uuid, .. }
            | Action::ExtendVolume { uuid, .. }
            | Action::DeleteVolume { uuid, .. }
            | Action::ActivateVolume {
                uuid: Some(uuid), ..
            }
            | Action::RecreateVolume { uuid, .. }
            | Action::ClaimVolume { uuid, .. }
            | Action::AdoptVolume { uuid, .. }
            | Action::MarkVolume { uuid, .. }
            | Action::UnmarkVolume { uuid, .. } => Some(LvRef::new(self.subject(), uuid)),
            Action::ActivateVolume { uuid: None, .. }
            | Action::CreatePool { .. }
            | Action::CreateVolume { .. }
            | Action::CreateSnapshot { .. }
            | Action::CreateFromSource { .. } => None,
        }
    }
    pub fn subject(&self) -> &LvName {
        match self {
            Action::CreatePool { pool, .. }
            | Action::ExtendPool { pool, .. }
            | Action::ExtendPoolMetadata { pool, .. } => pool,
            Action::CreateSnapshot {
                snapshot: volume, ..
            }
            | Action::CreateFromSource { volume, .. }
            | Action::CreateVolume { volume, .. }
            | Action::ExtendVolume { volume, .. }
            | Action::DeleteVolume { volume, .. }
            | Action::ActivateVolume { volume, .. }
            | Action::RecreateVolume { volume, .. }
            | Action::ClaimVolume { volume, .. }
            | Action::AdoptVolume { volume, .. }
            | Action::MarkVolume { volume, .. }
            | Action::UnmarkVolume { volume, .. } => volume,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefusalKind {
    Shrink,
    Foreign,
    /// Another backend's volume (its `ember-backend=` tag names that backend).
    OtherBackend,
    OverSubscription,
    DeletionCap,
    /// A prune that would leave the backend without any volume.
    PruneAll,
    InsufficientSpace,
    PoolUnavailable,
    PoolFull,
    /// lvm marks the thin pool failed or its metadata read-only: nothing is written.
    PoolNeedsRepair,
    /// The pool's data is above its autoextend threshold and it cannot grow (at its cap, or
    /// the VG has no room): a new volume would be a promise of space that is not there.
    PoolAtCap,
    /// `adopt: true`, but the LV is not what cinder could have made for this backend.
    NotAdoptable,
    /// The VG's own metadata area could not hold another LV.
    VgMetadataFull,
    /// A snapshot's volume or a new volume's `source` that does not exist (and is not made in
    /// this pass), or is declared absent.
    SourceMissing,
    /// The source exists but is not this backend's (another's, or not ember's at all).
    SourceNotOwned,
    /// The source is larger than the volume made from it (ember never shrinks).
    SourceLarger,
    WrongKind,
    /// The VG is marked for another backend, or holds another backend's volumes and none of
    /// this one's (a `volume_group` swapped or mistyped in cinder.conf): nothing is written.
    VgOfAnotherBackend,
    /// The desired state declares none of the backend's existing volumes (another host's or
    /// another backend's file?): nothing is done until the operator confirms once.
    UnknownVolumes,
    /// A COW snapshot (another tool's `lvcreate --snapshot --size`) depends on the volume: lvm
    /// would remove it with the volume, and grows the volume only while it is inactive.
    HasCowSnapshot,
    /// A deletion whose wipe (`volume_clear`) cannot be done safely: not deleted.
    NotWiped,
    /// A device of `volume_group.devices` that is not blank (a filesystem, a partition table,
    /// an LVM label, any signature), or is mounted, held or in use: nothing is written to it.
    DeviceInUse,
    /// The volume group does not exist and some of its devices cannot be used: nothing is
    /// created (all or nothing).
    VgNotCreated,
    /// The volume is exported to hosts (or another tool's target uses it): not deleted until
    /// they are removed.
    Exported,
    /// An export ember will not make: the volume is not ember's, or another tool's target
    /// holds the name.
    ExportNotOurs,
    /// An adopted target whose ACLs carry different CHAP pairs: ember keeps one pair per
    /// volume and will not pick one.
    ExportChapDiffers,
}

impl RefusalKind {
    /// Its name as JSON and the metrics write it: `over_subscription`.
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

/// Something the desired state asks for that ember will not do, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Refusal {
    pub subject: String,
    pub kind: RefusalKind,
    pub reason: String,
}

/// A marked volume whose grace period has not ended: deleted by the first pass after
/// `delete_at` if it is still undeclared then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Scheduled {
    pub volume: String,
    pub size: u64,
    pub delete_at: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// An undeclared volume in this backend's VG that another backend owns.
    OtherBackend,
    /// A new name that looks like a volume about to be pruned.
    DidYouMean,
    /// A volume of an ember from before backend tags that this backend does not declare.
    Unclaimed,
    /// The system clock cannot be right: no marks, no prune.
    Clock,
    /// The thin pool cannot grow any more (its cap, or the VG is full).
    PoolCap,
    /// Something declared of the pool that cannot change once it exists (its chunk size).
    PoolFixed,
    /// `adopt: true` with `prune: true`: what is adopted is pruned when no longer listed.
    AdoptPrune,
    /// A `source` on a volume that exists: it means nothing any more (and names nothing).
    SourceIgnored,
    /// A thin volume deleted without a wipe from a pool that does not zero new blocks.
    NotWiped,
    /// A declared volume whose interrupted clear is finished (its data was partly gone).
    WipeResumed,
    /// An `ember-clearing=` tag naming another LV's UUID: ignored.
    StrayClearTag,
    /// A PV of the VG that `volume_group.devices` does not list: it stays.
    PvNotListed,
    /// Another tool's target (or subsystem) that names or uses one of the backend's volumes:
    /// never changed.
    ForeignExport,
    /// An export of a declared volume without `export:` that still has hosts: left as it is
    /// (hosts are detached only when the file lists the volume's hosts).
    ExportNotDeclared,
}

/// Something the operator should see that changes nothing by itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Warning {
    pub subject: String,
    pub kind: WarningKind,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub backend: String,
    pub volume_group: String,
    /// Unix seconds the plan was made at.
    pub planned_at: u64,
    /// What is done to the volume group itself (`volume_group.devices`), before the actions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vg_actions: Vec<super::vg::VgAction>,
    pub actions: Vec<Action>,
    /// What is done to the kernel's target configuration: removals before `actions`, the
    /// rest after them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub export_actions: Vec<super::export::ExportAction>,
    pub refused: Vec<Refusal>,
    pub scheduled: Vec<Scheduled>,
    pub warnings: Vec<Warning>,
    /// Volumes ember adopted (tagged `ember-adopted`): never recreated empty by a pass.
    #[serde(skip)]
    pub adopted: Vec<LvName>,
    /// Volumes made from a source (a thin snapshot's origin in LVM): never recreated empty
    /// either, which would not be the copy declared.
    #[serde(skip)]
    pub copies: Vec<LvName>,
    /// Thin volumes whose creation ember recorded as under way and has not seen end (inactive
    /// when read): of the volumes whose pool turns out not to know them, only these may be
    /// made again empty (a creation cut short). Not the planner's: set from ember's record
    /// beside the read (`reconcile::converge`).
    #[serde(skip)]
    pub in_flight: Vec<LvName>,
    /// The VG gets this backend's tag (`ember-backend=NAME`) before the plan's first write:
    /// it is not marked for this backend yet.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub mark_vg: bool,
    /// Volumes with a COW snapshot: never recreated either (removing one removes its COW
    /// snapshots, which are not ember's).
    #[serde(skip)]
    pub origins: Vec<LvName>,
    /// ember's exports of the backend's volumes, as read for this plan (`None`: the backend
    /// exports through no target ember writes, or the configuration was not read).
    #[serde(skip)]
    pub exported: Option<Vec<super::export::ExportedVolume>>,
}

impl Plan {
    pub fn new(backend: &str, volume_group: &str, planned_at: u64) -> Plan {
        Plan {
            backend: backend.to_string(),
            volume_group: volume_group.to_string(),
            planned_at,
            vg_actions: vec![],
            actions: vec![],
            export_actions: vec![],
            refused: vec![],
            scheduled: vec![],
            warnings: vec![],
            adopted: vec![],
            copies: vec![],
            in_flight: vec![],
            mark_vg: false,
            origins: vec![],
            exported: None,
        }
    }
    pub fn has_changes(&self) -> bool {
        !self.actions.is_empty() || !self.vg_actions.is_empty() || !self.export_actions.is_empty()
    }
    pub fn deletes(&self) -> bool {
        self.actions.iter().any(Action::is_destructive)
    }
    /// When the next marked volume's grace period ends.
    pub fn next_deletion_at(&self) -> Option<u64> {
        let marked = self.actions.iter().filter_map(|a| match a {
            Action::MarkVolume { delete_at, .. } => Some(*delete_at),
            _ => None,
        });
        self.scheduled
            .iter()
            .map(|s| s.delete_at)
            .chain(marked)
            .min()
    }
    pub(super) fn warn(&mut self, subject: &str, kind: WarningKind, message: String) {
        self.warnings.push(Warning {
            subject: subject.to_string(),
            kind,
            message,
        });
    }
    pub(super) fn refuse(&mut self, subject: &str, kind: RefusalKind, reason: String) {
        self.refused.push(Refusal {
            subject: subject.to_string(),
            kind,
            reason,
        });
    }
}
