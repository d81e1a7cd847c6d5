//! Test doubles of LVM that change one or two of its methods and hand the rest on.
//!
//! A double implements [`Forward`]: it names the handle it wraps ([`Forward::inner`]) and
//! overrides only the methods it cares about; every other method goes to the inner handle.
//! [`LvmRead`] and [`LvmWrite`] come with it. Implement it by its path
//! (`impl crate::testkit::Forward for ...`), without importing it, so that a call such as
//! `double.observe(..)` still means [`LvmRead`]'s.
//!
//! Forwarded: every method an LVM handle has of its own. Not forwarded: the ones [`LvmRead`] and
//! [`LvmWrite`] derive from others (`observe_pool`, `commands`, `create_volume`,
//! `create_thin_inactive`, `activate`), so that they reach the double's own overrides.
//!
//! A double that wraps nothing (every write it does not override must not happen) wraps
//! [`Refuse`].

use crate::lvm::clear::ClearTarget;
use crate::lvm::poolusage::PoolUsage;
use crate::lvm::stamp::Stamp;
use crate::lvm::{LvRef, LvmError, LvmRead, LvmWrite, Observed, PoolCreate};
use crate::names::{LvName, Tag, VgName};
use crate::size::Bytes;
use std::sync::atomic::AtomicBool;

/// [`Forward`], its [`LvmRead`] and [`LvmWrite`], and [`Refuse`], from one list of the methods
/// handed on: those each LVM handle must have (`own`), then those the traits provide.
macro_rules! forwarding {
    (
        $(
            $tr:ident {
                own { $(fn $o:ident(&self $(, $oa:ident: $ot:ty)*) -> $or:ty;)* }
                provided { $(fn $p:ident(&self $(, $pa:ident: $pt:ty)*) $(-> $pr:ty)?;)* }
            }
        )*
    ) => {
        /// A test double: the handle it wraps, and what it does otherwise (see the module).
        #[allow(clippy::type_complexity)]
        pub trait Forward {
            /// The handle every method not overridden goes to.
            fn inner(&self) -> &dyn LvmWrite;
            $(
                $(fn $o(&self $(, $oa: $ot)*) -> $or {
                    self.inner().$o($($oa),*)
                })*
                $(fn $p(&self $(, $pa: $pt)*) $(-> $pr)? {
                    self.inner().$p($($pa),*)
                })*
            )*
        }

        $(
            impl<T: Forward> $tr for T {
                $(fn $o(&self $(, $oa: $ot)*) -> $or {
                    Forward::$o(self $(, $oa)*)
                })*
                $(fn $p(&self $(, $pa: $pt)*) $(-> $pr)? {
                    Forward::$p(self $(, $pa)*)
                })*
            }

            impl $tr for Refuse {
                $(fn $o(&self $(, $oa: $ot)*) -> $or {
                    let _ = ($($oa,)*);
                    unreachable!("the test double does not do this")
                })*
            }
        )*
    };
}

forwarding! {
    LvmRead {
        own {
            fn observe(&self, vg: &VgName) -> Result<Option<Observed>, LvmError>;
            fn calls(&self) -> u64;
        }
        provided {
            fn vg_names(&self) -> Result<Vec<String>, LvmError>;
            fn stamp(&self, vg: &VgName, last: &Observed) -> Option<Stamp>;
            fn device_events(&self) -> Option<u64>;
            fn pool_usage(
                &self, vg: &VgName, pool: &LvName
            ) -> Option<Result<Option<PoolUsage>, String>>;
            fn target_root(&self) -> crate::lvm::TargetRoot;
        }
    }
    LvmWrite {
        own {
            fn create_thin_pool(
                &self, vg: &VgName, pool: &LvName, spec: &PoolCreate, tags: &[Tag]
            ) -> Result<(), LvmError>;
            fn extend_pool_metadata(&self, vg: &VgName, pool: &LvRef, size: Bytes)
                -> Result<(), LvmError>;
            fn create_lv(
                &self, vg: &VgName, name: &LvName, size: Bytes, pool: Option<&LvName>, active: bool,
                tags: &[Tag]
            ) -> Result<(), LvmError>;
            fn create_snapshot(
                &self, vg: &VgName, origin: &LvName, name: &LvName, skip_activation: bool,
                tags: &[Tag]
            ) -> Result<(), LvmError>;
            fn change_tags(
                &self, vg: &VgName, lv: &LvRef, add: &[Tag], remove: &[Tag]
            ) -> Result<(), LvmError>;
            fn tag_vg(&self, vg: &VgName, add: &Tag) -> Result<(), LvmError>;
            fn extend(&self, vg: &VgName, lv: &LvRef, size: Bytes) -> Result<(), LvmError>;
            fn extend_new(&self, vg: &VgName, lv: &LvName, size: Bytes) -> Result<(), LvmError>;
            fn remove(&self, vg: &VgName, lv: &LvRef) -> Result<(), LvmError>;
            fn clear(
                &self, vg: &VgName, target: &ClearTarget, stop: &AtomicBool,
                ready: &dyn Fn() -> Result<(), LvmError>, progress: &dyn Fn(u64)
            ) -> Result<(), LvmError>;
            fn activate_many(&self, vg: &VgName, lvs: &[LvName]) -> Result<(), LvmError>;
        }
        provided {
            fn begin_batch(&self);
            fn end_batch(&self);
            fn release(&self);
            fn own_device_unknown_to_pool(&self, vg: &VgName, lv: &LvName)
                -> Result<bool, LvmError>;
            fn in_flight(&self, vg: &VgName) -> Vec<LvName>;
            fn record_in_flight(&self, vg: &VgName, volumes: &[LvName]) -> Result<(), String>;
        }
    }
}

/// No LVM at all: what a [`Forward`] double wraps when nothing but what it overrides may be
/// called. Its reads and writes panic; what [`LvmRead`] and [`LvmWrite`] provide themselves
/// (no stamp, no device events, no record of creations, batches that do nothing) stays.
pub struct Refuse;
