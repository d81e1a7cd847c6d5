//! The desired state: a YAML file saying, per backend, the thin pool and the volumes wanted.
//!
//! ```yaml
//! backends:
//!   lvm-1:
//!     thin_pool: { size: 90% }   # % of the VG or absolute; grows, never shrinks
//!     prune: false               # delete ember-owned volumes not listed (default false)
//!     volumes:
//!       volume-1: { size: 10G }
//!       scratch: { state: absent }
//! ```
//! Everything is checked before anything reaches LVM; every error names file, line and column.

mod check;
mod collect;
mod devices;
mod export;
mod locate;
mod pool;
mod snapshot;
mod strict;
mod tree;
mod unique_map;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::names::LvName;
use crate::problem::Problem;
use crate::size::Bytes;
pub use devices::{VgDesired, is_kernel_name};
pub use export::ExportDesired;
use locate::key_line;
pub use pool::{Autoextend, PoolDesired};
pub use snapshot::{SnapshotDesired, Source};
pub use unique_map::UniqueMap;

/// Larger files are refused before parsing: a desired state this big is a mistake or an attack.
pub const MAX_FILE_BYTES: u64 = 4 << 20;
// (20 000 volumes take about 1.4 MB.)

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(from = "RawBackend")]
pub struct BackendDesired {
    /// `volume_group: { devices: [...] }`: the VG made from these devices (created from blank
    /// ones, extended, never reduced). `None`: the VG must exist, as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_group: Option<VgDesired>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thin_pool: Option<PoolDesired>,
    #[serde(default)]
    pub prune: bool,
    /// A declared volume whose LV exists without ember's tag (cinder made it) is adopted: it
    /// gets ember's tags and is this backend's from then on.
    #[serde(default)]
    pub adopt: bool,
    #[serde(default)]
    pub volumes: UniqueMap<LvName, VolumeDesired>,
    /// Thin snapshots of the backend's volumes, named `_snapshot-<id>` as cinder names them.
    #[serde(default, skip_serializing_if = "UniqueMap::is_empty")]
    pub snapshots: UniqueMap<LvName, SnapshotDesired>,
    /// The file has a `snapshots:` key: only then may a prune delete every snapshot.
    #[serde(skip)]
    pub snapshots_listed: bool,
    /// The file has a `volumes:` key (possibly `{}`). Only then may a prune delete every
    /// volume of the backend: a missing list is not a statement that there are none.
    #[serde(skip)]
    pub volumes_listed: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBackend {
    #[serde(default)]
    volume_group: Option<VgDesired>,
    #[serde(default)]
    thin_pool: Option<PoolDesired>,
    #[serde(default)]
    prune: bool,
    #[serde(default)]
    adopt: bool,
    #[serde(default, deserialize_with = "not_null")]
    volumes: Option<UniqueMap<LvName, VolumeDesired>>,
    #[serde(default, deserialize_with = "snapshots_not_null")]
    snapshots: Option<UniqueMap<LvName, SnapshotDesired>>,
}

impl From<RawBackend> for BackendDesired {
    fn from(r: RawBackend) -> Self {
        BackendDesired {
            volume_group: r.volume_group,
            thin_pool: r.thin_pool,
            prune: r.prune,
            adopt: r.adopt,
            volumes_listed: r.volumes.is_some(),
            volumes: r.volumes.unwrap_or_default(),
            snapshots_listed: r.snapshots.is_some(),
            snapshots: r.snapshots.unwrap_or_default(),
        }
    }
}

const NULL_VOLUMES: &str = "`volumes:` has no value (YAML null, as when every volume line is commented out); write `volumes: {}` to declare no volumes";

/// `volumes:` with no value (YAML null, as when every volume line is commented out) is an
/// error, not an empty list: with `prune: true` it would delete every volume.
fn not_null<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<UniqueMap<LvName, VolumeDesired>>, D::Error> {
    match Option::<UniqueMap<LvName, VolumeDesired>>::deserialize(d)? {
        Some(m) => Ok(Some(m)),
        None => Err(serde::de::Error::custom(NULL_VOLUMES)),
    }
}

const NULL_SNAPSHOTS: &str = "`snapshots:` has no value (YAML null, as when every snapshot line is commented out); write `snapshots: {}` to declare no snapshots";

/// `snapshots:` with no value is an error, as `volumes:` with none is.
fn snapshots_not_null<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<UniqueMap<LvName, SnapshotDesired>>, D::Error> {
    match Option::<UniqueMap<LvName, SnapshotDesired>>::deserialize(d)? {
        Some(m) => Ok(Some(m)),
        None => Err(serde::de::Error::custom(NULL_SNAPSHOTS)),
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum VolumeState {
    #[default]
    Present,
    Absent,
}

/// One declared volume: present with a size (and, for a new one, what it is made from; and
/// the hosts it is exported to), or absent (deleted if it is the backend's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawVolume", into = "RawVolume")]
pub enum VolumeDesired {
    Present {
        size: Bytes,
        source: Option<Source>,
        /// `export: { hosts: [...] }`; `None`: not exported.
        export: Option<ExportDesired>,
    },
    Absent,
}

impl VolumeDesired {
    pub fn state(&self) -> VolumeState {
        match self {
            VolumeDesired::Present { .. } => VolumeState::Present,
            VolumeDesired::Absent => VolumeState::Absent,
        }
    }
    /// The declared size of a present volume.
    pub fn size(&self) -> Option<Bytes> {
        match self {
            VolumeDesired::Present { size, .. } => Some(*size),
            VolumeDesired::Absent => None,
        }
    }
    /// The declared export of a present volume.
    pub fn export(&self) -> Option<&ExportDesired> {
        match self {
            VolumeDesired::Present { export, .. } => export.as_ref(),
            VolumeDesired::Absent => None,
        }
    }
}

/// A volume as the file spells it (`state: absent` may carry a size, which means nothing).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVolume {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    size: Option<Bytes>,
    #[serde(default)]
    state: VolumeState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source: Option<Source>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "export_not_null"
    )]
    export: Option<ExportDesired>,
}

const NULL_EXPORT: &str = "`export:` has no value (YAML null, as when its lines are commented out); write `export: { hosts: [...] }`, or `export: { hosts: [] }` for exported to nobody";

/// `export:` with no value is an error, not "not exported": a host list commented out must
/// not read as a statement about the volume's hosts.
fn export_not_null<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<ExportDesired>, D::Error> {
    match Option::<ExportDesired>::deserialize(d)? {
        Some(e) => Ok(Some(e)),
        None => Err(serde::de::Error::custom(NULL_EXPORT)),
    }
}

impl TryFrom<RawVolume> for VolumeDesired {
    type Error = String;
    fn try_from(r: RawVolume) -> Result<Self, String> {
        if let Some(source) = &r.source {
            source.check()?;
        }
        match (r.state, r.size) {
            (VolumeState::Present, Some(size)) => Ok(VolumeDesired::Present {
                size,
                source: r.source,
                export: r.export,
            }),
            (VolumeState::Present, None) => {
                Err("a present volume needs a size (e.g. size: 10G)".into())
            }
            (VolumeState::Absent, _) if r.export.is_some() => Err(
                "a volume with state: absent cannot be exported: remove its export: (a volume still exported to hosts is not deleted until they are removed)".into(),
            ),
            (VolumeState::Absent, _) => Ok(VolumeDesired::Absent),
        }
    }
}

impl From<VolumeDesired> for RawVolume {
    fn from(v: VolumeDesired) -> Self {
        let state = v.state();
        match v {
            VolumeDesired::Present {
                size,
                source,
                export,
            } => RawVolume {
                size: Some(size),
                state,
                source,
                export,
            },
            VolumeDesired::Absent => RawVolume {
                size: None,
                state,
                source: None,
                export: None,
            },
        }
    }
}

/// A validated desired state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesiredState {
    pub path: PathBuf,
    pub backends: BTreeMap<String, BackendDesired>,
    /// What the file held when it was read: a pass that would delete checks, just before it
    /// writes, that the file still holds exactly this ([`Digest::of_file`]).
    #[serde(skip)]
    pub digest: Digest,
    /// What is wrong but changes nothing by itself (a backend that is not enabled: ignored).
    #[serde(skip)]
    pub warnings: Vec<Problem>,
    /// Backends whose part of the file is invalid, and why: each keeps its last good state
    /// (or, at start, does nothing); the others are in `backends`.
    #[serde(skip)]
    pub rejected: BTreeMap<String, Vec<Problem>>,
}

/// A fingerprint of the desired-state file's bytes (SipHash, within one process).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Digest(u64);

impl Digest {
    pub fn of(bytes: &[u8]) -> Digest {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut h);
        Digest(h.finish())
    }
    /// The file's digest now; `None` when it cannot be read.
    pub fn of_file(path: &Path) -> Option<Digest> {
        std::fs::read(path).ok().map(|b| Digest::of(&b))
    }
}

impl DesiredState {
    pub fn backend(&self, name: &str) -> Option<&BackendDesired> {
        self.backends.get(name)
    }
}

/// Parses and validates `text` (the content of `path`) against the configuration.
pub fn parse(path: &Path, text: &str, config: &Config) -> Result<DesiredState, Vec<Problem>> {
    let file = || Some(path.to_path_buf());
    if text.trim().is_empty()
        || text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Err(vec![Problem::error(
            file(),
            None,
            "the desired state is empty (an empty file changes nothing; to declare no volumes write `backends: {}`)",
        )]);
    }
    // an error inside one backend's part rejects that backend only; every error of the file
    // is found at once
    let (good, bad) = match strict::read(text, &|_| false) {
        Ok(all) => (
            all.into_iter().filter_map(|(n, b)| Some((n, b?))).collect(),
            BTreeMap::new(),
        ),
        Err(_) => collect::split(path, text)?,
    };
    let mut warnings = vec![];
    let mut rejected: BTreeMap<String, Vec<Problem>> = BTreeMap::new();
    let mut backends = BTreeMap::new();
    for (name, b) in good {
        let found = check::backend(path, text, config, &name, &b);
        warnings.extend(found.warnings);
        if !found.errors.is_empty() {
            rejected.insert(name, found.errors);
        } else if found.enabled {
            backends.insert(name, b);
        }
    }
    // a part with an error is rejected whole; what of it is valid is still checked, so that
    // its every error shows at once
    for (name, part) in bad {
        let mut all = part.problems;
        all.extend(check::backend(path, text, config, &name, &part.valid).errors);
        all.sort_by_key(|p| (p.line, p.column));
        rejected.insert(name, all);
    }
    let rejected = misplaced(rejected, config)?;
    // while a part of the file is rejected, no backend marks or prunes: what the file says is
    // in doubt
    if !rejected.is_empty() {
        for (name, b) in backends.iter_mut().filter(|(_, b)| b.prune) {
            b.prune = false;
            warnings.push(Problem::warning(
                file(),
                key_line(text, name),
                format!(
                    "backend {name:?}: prune is held while another backend's part of the file is rejected"
                ),
            ));
        }
    }
    Ok(DesiredState {
        path: path.to_path_buf(),
        backends,
        digest: Digest::of(text.as_bytes()),
        warnings,
        rejected,
    })
}

/// A broken key that is no enabled backend is most likely a line of another backend's that
/// lost its indentation (a volume): that backend would miss it, and prune it. The whole file is
/// rejected then, as before a backend could be rejected alone.
fn misplaced(
    mut rejected: BTreeMap<String, Vec<Problem>>,
    config: &Config,
) -> Result<BTreeMap<String, Vec<Problem>>, Vec<Problem>> {
    let Some(name) = rejected
        .keys()
        .find(|n| config.backend(n).is_none())
        .cloned()
    else {
        return Ok(rejected);
    };
    let mut all: Vec<Problem> = rejected.remove(&name).unwrap_or_default();
    for p in &mut all {
        p.message = format!(
            "{} ({name:?} is not a backend in enabled_backends: a line with the wrong indentation? nothing in the file is used)",
            p.message
        );
    }
    all.extend(rejected.into_values().flatten());
    Err(all)
}

/// What a desired-state file that does not exist means: nothing is managed until it does.
pub fn missing(path: &Path) -> Problem {
    Problem::warning(
        Some(path.to_path_buf()),
        None,
        format!(
            "no desired state ({} does not exist): ember manages nothing until it does",
            path.display()
        ),
    )
}

/// Whether the file is not there at all (as opposed to unreadable or invalid); a symlink to
/// nothing counts as not there.
pub fn is_missing(path: &Path) -> bool {
    matches!(std::fs::metadata(path), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
}

/// Reads `path` and parses it. A missing, unreadable, oversized, binary or invalid file is an
/// error: the caller keeps whatever state it had (a missing one: see [`is_missing`]).
pub fn load(path: &Path, config: &Config) -> Result<DesiredState, Vec<Problem>> {
    let one = |msg: String| vec![Problem::error(Some(path.to_path_buf()), None, msg)];
    let check = crate::trust::checks(config.allow_insecure_files);
    let read = crate::trust::read_input(path, MAX_FILE_BYTES, check).map_err(|e| match e {
        crate::trust::InputError::Untrusted(why) => {
            one(crate::trust::refusal("the desired state", &why.to_string()))
        }
        crate::trust::InputError::Io(e) => one(format!("cannot read the desired state: {e}")),
    })?;
    if read.bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(one(format!(
            "the desired state is {} bytes; more than {MAX_FILE_BYTES} is refused",
            read.size.max(read.bytes.len() as u64)
        )));
    }
    let bytes = read.bytes;
    if bytes.contains(&0) {
        return Err(one(
            "the desired state is a binary file (contains NUL bytes), not YAML".into(),
        ));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let line = e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        vec![Problem::error(
            Some(path.to_path_buf()),
            Some(line),
            "invalid UTF-8",
        )]
    })?;
    parse(path, &text, config)
}

#[cfg(test)]
mod tests;
