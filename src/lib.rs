//! ember: declarative LVM for OpenStack-style block-storage hosts.
//!
//! Data flows one way: [`config`] (cinder.conf) and [`desired`] (the YAML desired state) →
//! [`lvm`] observation → [`reconcile::plan`] (pure) → [`reconcile::apply`].

pub mod cli;
pub mod commands;
pub mod config;
pub mod control;
pub mod daemon;
pub mod desired;
pub mod export;
pub mod inputs;
pub mod logging;
pub mod lvm;
pub mod metrics;
pub mod names;
pub mod out;
pub mod paint;
pub mod problem;
pub mod reconcile;
pub mod size;
pub mod status;
#[cfg(test)]
mod testkit;
pub mod trust;
