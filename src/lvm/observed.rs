//! What one read of a volume group shows: the VG, its PVs and LVs, and whose each LV is by
//! its tags.

use super::{LvKind, attr};
use crate::names::{BACKEND_TAG_PREFIX, LvName, LvUuid, MARK_TAG_PREFIX, OWNERSHIP_TAG, Tag};

/// A volume group and its logical volumes, as one `lvm fullreport` shows them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Observed {
    pub vg: VgInfo,
    pub lvs: Vec<LvInfo>,
    /// The VG's physical volumes: where [`stamp`] finds its metadata headers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pvs: Vec<Pv>,
}

/// A physical volume as the report names it: what [`stamp`] may open, and what it must find.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pv {
    /// `pv_name`: a device path, or `[unknown]` for a missing PV.
    pub name: std::path::PathBuf,
    /// `pv_uuid`, as lvm prints it (with dashes).
    pub uuid: String,
    /// `pv_major`:`pv_minor`, the device the name stood for; `None` when lvm gave none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<(u64, u64)>,
    /// `pv_size` in bytes: what a `pvresize` after its device grew makes larger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// `pe_start`: where its first extent begins (after the metadata area).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pe_start: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, Default)]
pub struct VgInfo {
    pub name: String,
    pub size: u64,
    pub free: u64,
    pub extent_size: u64,
    /// Free space in the VG's metadata area (`vg_mda_free`): lvm fails a creation when the
    /// VG's text metadata no longer fits. `None` when lvm did not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mda_free: Option<u64>,
    /// The size of the smallest metadata area (`vg_mda_size`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mda_size: Option<u64>,
    /// The VG's tags (`vg_tags`): `ember-backend=NAME` marks it as that backend's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LvInfo {
    /// LVM's own names obey LVM's rules, so every visible LV's name is an [`LvName`].
    pub name: LvName,
    /// lvm's identity of the LV (`lv_uuid`): what a write to it is bound to ([`LvRef`]), and
    /// what a clear checks the device it opens against ([`clear`]).
    pub uuid: LvUuid,
    pub kind: LvKind,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    /// A snapshot's origin (`origin`): a thin snapshot is a thin LV with an origin, a COW
    /// snapshot ([`LvKind::CowSnapshot`]) always has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_percent: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_percent: Option<f64>,
    /// A thin pool's metadata LV size (`lv_metadata_size`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_size: Option<u64>,
    /// A thin pool's chunk size (`chunk_size`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_size: Option<u64>,
    /// Whether the LV is active (has a device). After a boot LVM activates volumes itself; one
    /// that stays inactive may be a thin volume its pool does not know (see `LvmWrite::activate`).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub active: bool,
    /// A thin pool that zeroes newly provisioned blocks (lv_attr's eighth character `z`, the
    /// default): a thin volume in it reads as zeroes where nothing was written.
    #[serde(default, skip_serializing_if = "is_false")]
    pub zeroes: bool,
    /// lv_attr's health character (a thin pool out of data space, failed, metadata read-only).
    #[serde(default, skip_serializing_if = "is_ok")]
    pub health: attr::Health,
    /// lv_attr's `k`: not activated by `vgchange -ay` or at boot (a snapshot).
    #[serde(default, skip_serializing_if = "is_false")]
    pub skip_activation: bool,
    /// Its device's number (`lv_kernel_major`, `lv_kernel_minor`) when it is active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<(u32, u32)>,
}

pub(super) fn is_ok(h: &attr::Health) -> bool {
    *h == attr::Health::Ok
}

// serde helpers for boolean fields with a default (also the simulator's)
pub(super) fn is_false(b: &bool) -> bool {
    !*b
}
pub(super) fn yes() -> bool {
    true
}
pub(super) fn is_true(b: &bool) -> bool {
    *b
}

/// Whose an LV is, by its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// No `ember-managed` tag: not ember's.
    Foreign,
    /// `ember-managed` without a backend tag: made by an ember from before backend tags; it
    /// belongs to the backend whose volume group it is in.
    Legacy,
    /// `ember-managed` and `ember-backend=<name>` (the name decoded).
    Backend(String),
}

impl LvInfo {
    /// Carries `ember-managed` (whichever backend's it is).
    pub fn is_owned(&self) -> bool {
        self.tags.iter().any(|t| t == OWNERSHIP_TAG)
    }

    pub fn owner(&self) -> Owner {
        if !self.is_owned() {
            return Owner::Foreign;
        }
        match self
            .tags
            .iter()
            .find_map(|t| t.strip_prefix(BACKEND_TAG_PREFIX))
        {
            None => Owner::Legacy,
            Some(v) => {
                Owner::Backend(crate::names::decode_tag_value(v).unwrap_or_else(|| v.to_string()))
            }
        }
    }

    /// When a backend with `prune: true` marked it undeclared (the earliest valid mark).
    pub fn marked_since(&self) -> Option<u64> {
        self.tags
            .iter()
            .filter_map(|t| t.strip_prefix(MARK_TAG_PREFIX)?.parse().ok())
            .min()
    }

    /// Carries `ember-clearing=<its own uuid>`: a clear before its deletion began and did not
    /// end.
    pub fn is_clearing(&self) -> bool {
        self.clearing_tags()
            .any(|t| t.strip_prefix(crate::names::CLEARING_TAG_PREFIX) == Some(self.uuid.as_str()))
    }

    /// Its `ember-clearing=` tags (its own, or another LV's: one that had its name before).
    pub fn clearing_tags(&self) -> impl Iterator<Item = &str> {
        self.tags
            .iter()
            .map(String::as_str)
            .filter(|t| t.starts_with(crate::names::CLEARING_TAG_PREFIX))
    }

    /// Every mark tag it carries (valid or not): what unmarking removes.
    pub fn mark_tags(&self) -> Vec<Tag> {
        self.tags
            .iter()
            .filter(|t| t.starts_with(MARK_TAG_PREFIX))
            .filter_map(|t| Tag::new(t).ok())
            .collect()
    }
}

impl Observed {
    /// A volume group that does not exist (yet): no LV, no PV, no space.
    pub fn absent(name: &str) -> Observed {
        Observed {
            vg: VgInfo {
                name: name.to_string(),
                ..VgInfo::default()
            },
            lvs: vec![],
            pvs: vec![],
        }
    }
    pub fn lv(&self, name: &str) -> Option<&LvInfo> {
        self.lvs.iter().find(|l| l.name == name)
    }
}
