//! The `--json` documents: one per command (`check`, `plan`, `apply`, `status`), each naming
//! its format and version and described by a JSON Schema generated from these types
//! (`schemas/*.schema.json`, shipped in `/usr/share/ember/schemas/`; a test keeps the files
//! equal to what the types say). A document has the same shape whatever happened: every
//! backend entry has every field, and a command that cannot start still prints its document,
//! with `ok: false`, `error` and `problems`.
//!
//! Versioning: a field added keeps `format_version`; a field removed, renamed or given another
//! type or meaning makes a new one.

use schemars::JsonSchema;
use serde::Serialize;

use crate::problem::Problem;

mod apply;
mod check;
mod plan;
mod status;

pub use apply::{ApplyDoc, BackendApply};
pub use check::CheckDoc;
pub use plan::{BackendPlan, PlanDoc};
pub use status::StatusDoc;

/// The version of every document's format, `format_version`.
pub const FORMAT_VERSION: u32 = 1;

/// Prints a document on standard output.
pub fn print<T: Serialize>(doc: &T) {
    match serde_json::to_string_pretty(doc) {
        Ok(s) => crate::outln!("{s}"),
        Err(e) => crate::errln!("ember: cannot render JSON: {e}"),
    }
}

/// Why a command did nothing at all: its message and the problems behind it.
#[derive(Debug, Default)]
pub struct Failure {
    pub error: String,
    pub problems: Vec<Problem>,
}

/// Every schema, by the file it is kept in.
pub fn schemas() -> Vec<(&'static str, serde_json::Value)> {
    let gen_ = || {
        schemars::generate::SchemaSettings::draft2020_12()
            .for_serialize()
            .into_generator()
    };
    vec![
        (
            "check.schema.json",
            gen_().into_root_schema_for::<CheckDoc>().to_value(),
        ),
        (
            "plan.schema.json",
            gen_().into_root_schema_for::<PlanDoc>().to_value(),
        ),
        (
            "apply.schema.json",
            gen_().into_root_schema_for::<ApplyDoc>().to_value(),
        ),
        (
            "status.schema.json",
            gen_().into_root_schema_for::<StatusDoc>().to_value(),
        ),
    ]
}

/// A backend's state in a document: the words of `ember status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Nothing to do (plan), or nothing left to do (apply).
    Converged,
    /// Changes are planned (plan), or still to do (apply: a pass that was cut short).
    Pending,
    /// Part of the desired state is refused: it is not reached, whatever is applied.
    Blocked,
    /// The backend could not be read or written.
    Error,
    /// The backend's part of the desired state is invalid (its `problems`): nothing is done.
    Rejected,
}

#[cfg(test)]
mod tests;
