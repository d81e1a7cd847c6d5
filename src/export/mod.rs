//! The kernel's target configuration, in configfs: LIO's iSCSI targets
//! (`<root>/target`) and nvmet's NVMe-oF subsystems and ports (`<root>/nvmet`), where `<root>`
//! is `/sys/kernel/config` on a host and a scratch directory in the unit tests.
//!
//! Reading ([`lio::read`], [`nvmet::read`]) returns everything there is, whoever made it, with
//! names as the kernel shows them (another tool's names need not be valid for ember). Writing is
//! planned first: [`lio::create_steps`], [`nvmet::create_steps`] and their `remove_steps` turn a
//! validated export ([`names`]) and the observed state into a list of [`Step`]s in the order
//! the kernel requires (docs/decisions.md, "Exports: configfs written directly"), which
//! [`apply`] performs one by one. Plans are pure data, so their order is unit-tested on any
//! machine; configfs itself (a `mkdir` that makes attribute files, a symlink that maps a LUN)
//! only exists in the VM suite (tests/vm_exports.rs).
//!
//! Secrets (CHAP passwords) travel in [`Value::Secret`], whose `Debug` and `Display` never
//! show them; the reader reads an ACL's pair back into a [`lio::Chap`] (whose `Debug` hides the
//! password) only so that a target ember adopts (cinder's) keeps the credentials its hosts log
//! in with.

pub mod chap;
pub mod configfs;
pub mod connection;
pub mod identity;
pub mod lio;
/// The names of targets and hosts, validated: they live with the other names
/// ([`crate::names::target`]), since the desired state validates them too.
pub use crate::names::target as names;
pub mod nvmet;

pub use configfs::{ExportError, Step, Value, apply, apply_modelled};
