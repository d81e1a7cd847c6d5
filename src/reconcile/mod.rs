//! Observe → plan → apply for one backend.

pub mod apply;
pub mod plan;
pub mod render;

pub use apply::{apply, Outcome};
pub use plan::{plan, Action, Plan, Policy, Refusal, RefusalKind};
