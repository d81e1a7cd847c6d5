//! The simulator's state, as its JSON file holds it: volume groups, their LVs, LVM's rules on
//! them (extents, pools, snapshots, no shrinking).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::super::{LvInfo, LvKind, Observed, VgInfo};
use crate::names::{LvName, LvUuid};
use crate::size::Bytes;

const DEFAULT_EXTENT: u64 = 4 << 20;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimState {
    #[serde(default)]
    pub vgs: BTreeMap<String, SimVg>,
    /// Every write takes this long (a slow lvm, for tests of progress).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub write_delay_ms: u64,
    /// Every read takes this long (a slow lvm, for tests of what happens during a read).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub read_delay_ms: u64,
    /// A wipe that reaches this many bytes writes them and then kills the process, as a crash
    /// or `kill -9` would (for tests that run ember as a process).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clear_abort_at: Option<u64>,
    /// A wipe that reaches this many bytes writes them and then fails (an I/O error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clear_error_at: Option<u64>,
}

/// Data a test wrote into a simulated LV: `text` at byte `at`. A wipe of the LV's first bytes
/// removes what starts there; an LV removed with data on it leaves the data on the extents it
/// frees ([`SimVg::freed`]), as on a disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimData {
    pub at: u64,
    pub text: String,
}

/// One wipe the simulator carried out: which LV, how many bytes, at which I/O priority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimClear {
    pub lv: String,
    pub bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ioprio: Option<u16>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimVg {
    pub size: u64,
    #[serde(default = "default_extent")]
    pub extent_size: u64,
    #[serde(default)]
    pub lvs: BTreeMap<String, SimLv>,
    /// The metadata area's size, when a test wants lvm's `vg_mda_free` simulated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mda_size: Option<u64>,
    /// The VG's own tags (`vgchange --addtag`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Data left on freed space by removed LVs (`<lv>: <text>`): what the next LV there may
    /// read (a linear LV's extents; a thin pool that does not zero new blocks).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub freed: Vec<String>,
    /// The wipes carried out, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clears: Vec<SimClear>,
    /// LVs created so far: each new LV's UUID is made from the VG's name, its name and this
    /// count, so that an LV made again under the same name is another LV, as on real LVM.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub created: u64,
    /// ember's record of the thin volumes whose creation is under way (kept here by the
    /// simulator, in `state_dir` on real LVM: `crate::lvm::inflight`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub in_flight: Vec<String>,
}

/// What the simulator charges the metadata area for the VG itself and for each LV.
pub const MDA_BASE: u64 = 2048;
pub const MDA_PER_LV: u64 = 512;

fn default_extent() -> u64 {
    DEFAULT_EXTENT
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimLv {
    pub kind: LvKind,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_percent: Option<f64>,
    #[serde(
        default = "super::super::yes",
        skip_serializing_if = "super::super::is_true"
    )]
    pub active: bool,
    /// A thin volume in LVM's metadata that its pool never recorded (a creation cut short by a
    /// power cut): it cannot be activated, as on real LVM.
    #[serde(default, skip_serializing_if = "super::super::is_false")]
    pub unknown_to_pool: bool,
    /// Activating it fails with ENODATA on another device's table load (its pool's): lvm's
    /// message is the one of a thin device unknown to its pool, the device is not this LV's.
    #[serde(default, skip_serializing_if = "super::super::is_false")]
    pub enodata_elsewhere: bool,
    /// A thin pool's metadata LV (lvm's own estimate when absent) and its usage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_percent: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_size: Option<u64>,
    /// lv_attr's health, as lvm would report it (set by tests: a failed pool, ...).
    #[serde(default, skip_serializing_if = "super::super::is_ok")]
    pub health: super::super::attr::Health,
    #[serde(default, skip_serializing_if = "super::super::is_false")]
    pub skip_activation: bool,
    /// A thin pool that zeroes new blocks (lvm's default; `false`: made with `-Zn`).
    #[serde(
        default = "super::super::yes",
        skip_serializing_if = "super::super::is_true"
    )]
    pub zero: bool,
    /// lvm's `lv_uuid`: given to every LV the simulator creates; one written without it (a
    /// test's state) has one made from its name ([`uuid_of`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uuid: String,
    /// What a test wrote into it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<SimData>,
}

impl SimLv {
    /// An active, healthy, untagged LV with no usage.
    pub fn new(kind: LvKind, size: u64) -> SimLv {
        SimLv {
            kind,
            size,
            pool: None,
            origin: None,
            tags: vec![],
            data_percent: None,
            active: true,
            unknown_to_pool: false,
            enodata_elsewhere: false,
            metadata_size: None,
            metadata_percent: None,
            chunk_size: None,
            health: Default::default(),
            skip_activation: false,
            zero: true,
            uuid: String::new(),
            data: vec![],
        }
    }

    /// Its UUID as lvm reports it: as created, or made from its name ([`uuid_of`]).
    pub fn uuid_of(&self, name: &str) -> String {
        match self.uuid.is_empty() {
            true => uuid_of(name),
            false => self.uuid.clone(),
        }
    }
}

impl SimLv {
    /// A COW snapshot of `origin` with a copy-on-write store of `size` bytes (`lvcreate -s -L`,
    /// another tool's: untagged), active as lvm leaves it.
    pub fn cow_snapshot(origin: &str, size: u64) -> SimLv {
        SimLv {
            origin: Some(origin.to_string()),
            ..SimLv::new(LvKind::CowSnapshot, size)
        }
    }
}

/// A UUID in lvm's format made from `seed` (the same seed, the same UUID).
pub fn uuid_of(seed: &str) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    // FNV-1a, stirred once per character
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut out = String::with_capacity(38);
    for i in 0..32 {
        if [6, 10, 14, 18, 22, 26].contains(&i) {
            out.push('-');
        }
        h = (h ^ (h >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        out.push(CHARS[(h >> 40) as usize % CHARS.len()] as char);
    }
    out
}

impl SimVg {
    pub fn new(size: u64) -> Self {
        SimVg {
            size: Bytes(size).round_down(DEFAULT_EXTENT).0,
            extent_size: DEFAULT_EXTENT,
            lvs: BTreeMap::new(),
            mda_size: None,
            tags: vec![],
            freed: vec![],
            clears: vec![],
            created: 0,
            in_flight: vec![],
        }
    }

    /// The UUID of a new LV named `name` in the VG `vg` (one more LV created).
    pub(super) fn new_uuid(&mut self, vg: &str, name: &str) -> String {
        self.created += 1;
        uuid_of(&format!("{vg}/{name}#{}", self.created))
    }

    /// A pool's metadata LV: as created, or lvm's own estimate for a pool of `data`.
    pub(in crate::lvm::sim) fn metadata_of(&self, l: &SimLv) -> u64 {
        l.metadata_size
            .unwrap_or_else(|| super::super::sizing::lvm_metadata(l.size, self.extent_size))
    }

    /// lvm's spare metadata LV (`lvol0_pmspare`): as large as the largest pool metadata.
    pub(in crate::lvm::sim) fn spare(&self) -> u64 {
        self.lvs
            .values()
            .filter(|l| l.kind == LvKind::ThinPool)
            .map(|l| self.metadata_of(l))
            .max()
            .unwrap_or(0)
    }

    pub(in crate::lvm::sim) fn used(&self) -> u64 {
        let lvs: u64 = self
            .lvs
            .values()
            .map(|l| match l.kind {
                LvKind::ThinPool => l.size + self.metadata_of(l),
                LvKind::Thin => 0,
                _ => l.size,
            })
            .sum();
        lvs + self.spare()
    }

    /// The VG's metadata area: a simulated VG can be given one (`mda_size`), and each LV's
    /// text then takes [`MDA_PER_LV`] of it.
    pub(super) fn mda_free(&self) -> Option<u64> {
        // lvm writes new text only while it fits half the area (the old copy stays)
        self.mda_size.map(|m| {
            let max = (m.saturating_sub(512) / 2).saturating_sub(512);
            max.saturating_sub(MDA_BASE + self.lvs.len() as u64 * MDA_PER_LV)
        })
    }

    pub fn free(&self) -> u64 {
        self.size.saturating_sub(self.used())
    }

    /// What `lvm fullreport` would show; an LV name lvm would refuse is an error.
    pub fn observed(&self, name: &str) -> Result<Observed, String> {
        let mut lvs = Vec::with_capacity(self.lvs.len());
        for (n, l) in &self.lvs {
            let lv_name = LvName::new(n).map_err(|e| e.to_string())?;
            let uuid = LvUuid::new(&l.uuid_of(n)).map_err(|e| e.to_string())?;
            lvs.push((lv_name, uuid, l));
        }
        Ok(Observed {
            pvs: vec![],
            vg: VgInfo {
                name: name.to_string(),
                size: self.size,
                free: self.free(),
                extent_size: self.extent_size,
                mda_free: self.mda_free(),
                mda_size: self.mda_size,
                tags: self.tags.clone(),
            },
            lvs: lvs
                .into_iter()
                .map(|(n, uuid, l)| LvInfo {
                    name: n,
                    uuid,
                    kind: l.kind,
                    size: l.size,
                    pool: l.pool.clone(),
                    origin: l.origin.clone(),
                    tags: l.tags.clone(),
                    // (lvm prints a COW snapshot's use of its store there too)
                    data_percent: match l.kind {
                        LvKind::ThinPool | LvKind::Thin | LvKind::CowSnapshot => {
                            Some(l.data_percent.unwrap_or(0.0))
                        }
                        _ => None,
                    },
                    metadata_percent: (l.kind == LvKind::ThinPool)
                        .then(|| l.metadata_percent.unwrap_or(1.0)),
                    metadata_size: (l.kind == LvKind::ThinPool).then(|| self.metadata_of(l)),
                    chunk_size: (l.kind == LvKind::ThinPool)
                        .then(|| l.chunk_size.unwrap_or(super::super::sizing::CHUNK)),
                    active: l.active,
                    zeroes: l.kind == LvKind::ThinPool && l.zero,
                    health: l.health,
                    skip_activation: l.skip_activation,
                    device: None,
                })
                .collect(),
        })
    }
}
