//! Where a backend's option got its value, for the messages that send an operator to the line
//! to fix; kept out of every comparison of configurations.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A value that takes no part in comparisons: any two are equal.
///
/// For what a configuration says about itself rather than about what ember does, such as the
/// line an option is on. A configuration is compared on reload to decide which workers restart
/// (`daemon::reload::diff`) and, on disk, whether an edit changed anything
/// (`supervisor::confwatch`): a comment inserted above `volume_group` moves its line and must
/// do neither. It is still carried wherever the configuration goes (serialized to the workers).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NotCompared<T>(pub T);

impl<T> PartialEq for NotCompared<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// Where cinder-volume's value of one backend option comes from, as oslo.config and cinder's
/// `BackendGroupConfiguration` find it: the backend's own section when it sets the option,
/// else `[backend_defaults]`, else cinder's default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "from")]
pub enum Setting {
    /// Not known (a configuration sent by an older ember).
    #[default]
    Unknown,
    /// The line that gives the value, and its section (the backend's or `backend_defaults`).
    Line {
        file: PathBuf,
        line: usize,
        section: String,
    },
    /// Set nowhere: cinder's default applies. `file`: the file that has the backend's section
    /// (or the last one read), where to set it.
    Default { file: PathBuf },
}

impl Setting {
    /// Where `opt` of `backend` comes from, with its value, for a message: `volume_group = foo
    /// (/etc/cinder/cinder.conf:12)`, or the default that applies and where to set it instead.
    pub fn describe(&self, backend: &str, opt: &str, value: &str) -> String {
        match self {
            Setting::Unknown => format!("cinder.conf's {opt} of [{backend}]"),
            Setting::Line {
                file,
                line,
                section,
            } if section == backend => {
                format!("{opt} = {value} ({}:{line})", file.display())
            }
            Setting::Line {
                file,
                line,
                section,
            } => format!(
                "{opt} = {value} ({}:{line}) in [{section}], which [{backend}] does not override",
                file.display()
            ),
            Setting::Default { file } => format!(
                "neither [{backend}] nor [backend_defaults] sets {opt}, so cinder's default {value} applies: set {opt} in [{backend}] of {}",
                file.display()
            ),
        }
    }
}

#[cfg(test)]
mod tests;
