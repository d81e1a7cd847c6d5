//! A backend's volumes as `ember status --volumes` lists them, the way `cinder list` lists a
//! project's: name, size, state and whose. ember does not know cinder's states (available,
//! in-use); it says what it knows: whether the LV exists and is active, what the last pass left
//! to do to it, what it refused, when a prune deletes it, and whose its tags say it is.

use serde::{Deserialize, Serialize};

use crate::config::BackendConfig;
use crate::desired::{BackendDesired, SnapshotDesired, VolumeDesired};
use crate::lvm::{LvInfo, LvKind, Observed, Owner};
use crate::names::ADOPTED_TAG;
use crate::reconcile::plan::{Action, Plan};
use crate::size::Bytes;

/// The volumes of a backend's volume group, as its worker's last read found them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct VolumeList {
    /// Unix seconds of that read.
    pub read_at: u64,
    pub volumes: Vec<VolumeEntry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Volume,
    /// A thin snapshot (`_snapshot-…`).
    Snapshot,
    /// Another tool's COW snapshot (`lvcreate --snapshot --size`).
    CowSnapshot,
    /// Anything else lvm shows (raid, mirror, cache, ...): ember never touches these.
    Other,
}

/// Whose an LV is, by its tags, seen from the backend listing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ownership {
    /// Made by ember for this backend (`ember-managed`, `ember-backend=` this backend).
    Ember,
    /// Made by someone else (cinder-volume) and adopted by this backend (`ember-adopted`).
    Adopted,
    /// `ember-managed` without a backend tag: an ember from before backend tags made it.
    Legacy,
    /// Another backend's (`owner_backend` names it).
    OtherBackend,
    /// Not ember's: no `ember-managed` tag (cinder-volume's, or another tool's).
    Foreign,
    /// The LV does not exist (yet).
    None,
}

/// What the desired state says of a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Declared {
    Present,
    Absent,
    Undeclared,
}

/// A change the last pass left to do (it failed, or waits for something).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Create,
    Grow,
    Delete,
    Activate,
    Recreate,
    Adopt,
    Claim,
    /// Marked undeclared (a prune deletes it after the grace period).
    Mark,
    Unmark,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct VolumeEntry {
    pub name: String,
    pub kind: EntryKind,
    /// Its size; for one not made yet, the size declared (`None`: not known yet, a snapshot of
    /// a volume that does not exist).
    pub size: Option<u64>,
    /// Whether the LV exists.
    pub exists: bool,
    /// Whether it is active (has a device); `None` when it does not exist.
    pub active: Option<bool>,
    pub owner: Ownership,
    /// The backend its `ember-backend=` tag names.
    #[serde(default)]
    pub owner_backend: Option<String>,
    /// A snapshot's origin.
    #[serde(default)]
    pub origin: Option<String>,
    pub declared: Declared,
    /// Changes still to do after the last pass, in the plan's order.
    #[serde(default)]
    pub pending: Vec<Change>,
    /// The size a pending creation or growth makes it.
    #[serde(default)]
    pub target_size: Option<u64>,
    /// Kinds of what was refused of it (`over_subscription`, `shrink`, ...).
    #[serde(default)]
    pub refused: Vec<String>,
    /// Unix seconds: when a prune deletes it (marked undeclared, its grace period running).
    #[serde(default)]
    pub delete_at: Option<u64>,
}

impl VolumeList {
    /// The LVs of `o` (but thin pools) and what the desired state declares that is not there,
    /// with what `plan` (made from `o`, or what was left after the pass) says of each.
    pub fn of(
        cfg: &BackendConfig,
        desired: Option<&BackendDesired>,
        o: &Observed,
        plan: Option<&Plan>,
        read_at: u64,
    ) -> VolumeList {
        let declared = |name: &str| -> Declared {
            let Some(d) = desired else {
                return Declared::Undeclared;
            };
            match (d.volumes.get_str(name), d.snapshots.get_str(name)) {
                (Some(VolumeDesired::Present { .. }), _)
                | (_, Some(SnapshotDesired::Present { .. })) => Declared::Present,
                (Some(VolumeDesired::Absent), _) | (_, Some(SnapshotDesired::Absent)) => {
                    Declared::Absent
                }
                _ => Declared::Undeclared,
            }
        };
        let mut volumes: Vec<VolumeEntry> = o
            .lvs
            .iter()
            .filter(|l| l.kind != LvKind::ThinPool)
            .map(|l| existing(cfg, l, declared(l.name.as_str())))
            .collect();
        if let Some(d) = desired {
            let missing = |n: &str| !o.lvs.iter().any(|l| l.name.as_str() == n);
            for (n, v) in d.volumes.iter() {
                if let VolumeDesired::Present { size, .. } = v
                    && missing(n.as_str())
                {
                    volumes.push(absent_entry(
                        n.as_str(),
                        EntryKind::Volume,
                        Some(size.0),
                        None,
                    ));
                }
            }
            for (n, s) in d.snapshots.iter() {
                if let SnapshotDesired::Present { volume } = s
                    && missing(n.as_str())
                {
                    let origin = volume.as_ref().map(|v| v.to_string());
                    let size = origin
                        .as_deref()
                        .and_then(|v| o.lvs.iter().find(|l| l.name.as_str() == v))
                        .map(|l| l.size);
                    volumes.push(absent_entry(n.as_str(), EntryKind::Snapshot, size, origin));
                }
            }
        }
        if let Some(p) = plan {
            for v in &mut volumes {
                v.note_plan(p);
            }
        }
        volumes.sort_by(|a, b| a.name.cmp(&b.name));
        VolumeList { read_at, volumes }
    }

    /// A digest of the volumes (not of when they were read): whether a list changed.
    pub fn digest(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.volumes.hash(&mut h);
        h.finish()
    }
}

fn existing(cfg: &BackendConfig, l: &LvInfo, declared: Declared) -> VolumeEntry {
    let (owner, owner_backend) = match l.owner() {
        Owner::Foreign => (Ownership::Foreign, None),
        Owner::Legacy => (Ownership::Legacy, None),
        Owner::Backend(b) if b == cfg.name => {
            let adopted = l.tags.iter().any(|t| t == ADOPTED_TAG);
            let o = if adopted {
                Ownership::Adopted
            } else {
                Ownership::Ember
            };
            (o, Some(b))
        }
        Owner::Backend(b) => (Ownership::OtherBackend, Some(b)),
    };
    let kind = match l.kind {
        LvKind::Thin if l.name.is_snapshot_name() => EntryKind::Snapshot,
        LvKind::Thin | LvKind::Linear => EntryKind::Volume,
        LvKind::CowSnapshot => EntryKind::CowSnapshot,
        LvKind::ThinPool | LvKind::Other => EntryKind::Other,
    };
    VolumeEntry {
        name: l.name.to_string(),
        kind,
        size: Some(l.size),
        exists: true,
        active: Some(l.active),
        owner,
        owner_backend,
        origin: l.origin.clone(),
        declared,
        pending: vec![],
        target_size: None,
        refused: vec![],
        delete_at: None,
    }
}

fn absent_entry(
    name: &str,
    kind: EntryKind,
    size: Option<u64>,
    origin: Option<String>,
) -> VolumeEntry {
    VolumeEntry {
        name: name.to_string(),
        kind,
        size,
        exists: false,
        active: None,
        owner: Ownership::None,
        owner_backend: None,
        origin,
        declared: Declared::Present,
        pending: vec![],
        target_size: None,
        refused: vec![],
        delete_at: None,
    }
}

impl VolumeEntry {
    fn note_plan(&mut self, p: &Plan) {
        for a in p
            .actions
            .iter()
            .filter(|a| a.subject().as_str() == self.name)
        {
            let (change, to) = match a {
                Action::CreateVolume { size, .. }
                | Action::CreateSnapshot { size, .. }
                | Action::CreateFromSource { size, .. } => (Change::Create, Some(size.0)),
                Action::ExtendVolume { to, .. } => (Change::Grow, Some(to.0)),
                Action::DeleteVolume { .. } => (Change::Delete, None),
                Action::ActivateVolume { .. } => (Change::Activate, None),
                Action::RecreateVolume { .. } => (Change::Recreate, None),
                Action::AdoptVolume { .. } => (Change::Adopt, None),
                Action::ClaimVolume { .. } => (Change::Claim, None),
                Action::MarkVolume { .. } => (Change::Mark, None),
                Action::UnmarkVolume { .. } => (Change::Unmark, None),
                Action::CreatePool { .. }
                | Action::ExtendPool { .. }
                | Action::ExtendPoolMetadata { .. } => continue,
            };
            self.pending.push(change);
            if to.is_some() {
                self.target_size = to;
            }
        }
        self.refused = p
            .refused
            .iter()
            .filter(|r| r.subject == self.name)
            .map(|r| r.kind.name())
            .collect();
        self.delete_at = p
            .scheduled
            .iter()
            .find(|s| s.volume == self.name)
            .map(|s| s.delete_at);
    }

    fn is_this_backends(&self) -> bool {
        matches!(
            self.owner,
            Ownership::Ember | Ownership::Adopted | Ownership::Legacy
        )
    }

    /// `active`, `inactive, undeclared, prune in 59 min`, `not created, refused
    /// (over_subscription)`, `active, pending grow to 2.0 GiB`.
    pub fn state_text(&self, now: u64) -> String {
        let mut parts: Vec<String> = vec![match self.active {
            Some(true) => "active".into(),
            Some(false) => "inactive".into(),
            None => "not created".into(),
        }];
        match (self.kind, &self.origin) {
            (EntryKind::Snapshot, Some(o)) => parts.push(format!("snapshot of {o}")),
            // a thin snapshot not named as cinder names them, or a copy ember made (lvm keeps
            // the source as its origin)
            (EntryKind::Volume, Some(o)) => parts.push(format!("made from {o}")),
            (EntryKind::CowSnapshot, Some(o)) => parts.push(format!("COW snapshot of {o}")),
            (EntryKind::Other, _) => parts.push("not a volume ember manages".into()),
            _ => {}
        }
        match self.declared {
            Declared::Absent if self.exists => parts.push("declared absent".into()),
            Declared::Undeclared if self.is_this_backends() => parts.push("undeclared".into()),
            _ => {}
        }
        for c in &self.pending {
            parts.push(match (c, self.target_size) {
                (Change::Create | Change::Grow, Some(to)) => {
                    format!("pending {} to {}", change_word(*c), Bytes(to))
                }
                (c, _) => format!("pending {}", change_word(*c)),
            });
        }
        if !self.refused.is_empty() {
            parts.push(format!("refused ({})", self.refused.join(", ")));
        }
        if let Some(at) = self.delete_at {
            parts.push(format!(
                "prune {}",
                crate::reconcile::render::after(at, now)
            ));
        }
        parts.join(", ")
    }

    /// `ember (lvm-1)`, `adopted (lvm-1)`, `another backend's (lvm-2)`, `not ember's`.
    pub fn owner_text(&self) -> String {
        let b = self.owner_backend.as_deref().unwrap_or("?");
        match self.owner {
            Ownership::Ember => format!("ember ({b})"),
            Ownership::Adopted => format!("adopted ({b})"),
            Ownership::Legacy => "ember (no backend tag)".into(),
            Ownership::OtherBackend => format!("another backend's ({b})"),
            Ownership::Foreign => "not ember's".into(),
            Ownership::None => "-".into(),
        }
    }
}

fn change_word(c: Change) -> &'static str {
    match c {
        Change::Create => "create",
        Change::Grow => "grow",
        Change::Delete => "delete",
        Change::Activate => "activate",
        Change::Recreate => "recreate",
        Change::Adopt => "adopt",
        Change::Claim => "claim",
        Change::Mark => "mark",
        Change::Unmark => "unmark",
    }
}

impl VolumeList {
    /// A table: NAME, SIZE, STATE, OWNER; one row per volume, in name order.
    pub fn table(&self, now: u64) -> Vec<String> {
        let rows: Vec<[String; 4]> = self
            .volumes
            .iter()
            .map(|v| {
                [
                    v.name.clone(),
                    v.size.map_or("-".into(), |s| Bytes(s).to_string()),
                    v.state_text(now),
                    v.owner_text(),
                ]
            })
            .collect();
        let head = ["NAME", "SIZE", "STATE", "OWNER"].map(String::from);
        let mut width = [0usize; 3];
        for r in std::iter::once(&head).chain(&rows) {
            for (w, c) in width.iter_mut().zip(r.iter()) {
                *w = (*w).max(c.chars().count());
            }
        }
        std::iter::once(&head)
            .chain(&rows)
            .map(|r| {
                format!(
                    "{:w0$}  {:w1$}  {:w2$}  {}",
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    w0 = width[0],
                    w1 = width[1],
                    w2 = width[2]
                )
            })
            .collect()
    }
}

impl super::DaemonStatus {
    /// `ember status --volumes`: per backend, a line naming it and its volumes' table.
    pub fn volumes_text(&self) -> String {
        use std::fmt::Write;
        let now = super::unix_now();
        let mut s = String::new();
        for b in &self.backends {
            let _ = write!(
                s,
                "backend {} (volume group {}, cinder pool {}): ",
                b.name, b.volume_group, b.cinder_pool
            );
            let Some(l) = &b.volumes else {
                let _ = writeln!(s, "not read yet (no pass has read the volume group)");
                continue;
            };
            let count = |k: EntryKind| l.volumes.iter().filter(|v| v.kind == k).count();
            let _ = writeln!(
                s,
                "{} volume(s), {} snapshot(s), read {} s ago",
                count(EntryKind::Volume),
                count(EntryKind::Snapshot),
                now.saturating_sub(l.read_at)
            );
            if !l.volumes.is_empty() {
                for row in l.table(now) {
                    let _ = writeln!(s, "  {}", row.trim_end());
                }
            }
        }
        s
    }
}

#[cfg(test)]
mod tests;
