//! What a reload does to the running workers: the difference between the backends running now
//! and the managed backends of the new configuration.

use std::collections::BTreeMap;

use crate::config::{BackendConfig, Config};

#[derive(Debug, Default, PartialEq)]
pub struct ReloadDiff {
    /// New backends: a worker each.
    pub added: Vec<BackendConfig>,
    /// Backends no longer managed: their workers stop (their volumes stay).
    pub removed: Vec<String>,
    /// Backends whose options changed: their workers stop and start with these.
    pub restarted: Vec<BackendConfig>,
    /// Unchanged backends: their workers get the new configuration and re-read the desired state.
    pub reloaded: Vec<String>,
}

/// `running`: each running worker's backend options.
pub fn diff(running: &BTreeMap<String, BackendConfig>, new: &Config) -> ReloadDiff {
    let wanted: BTreeMap<&str, &BackendConfig> = new
        .backends
        .iter()
        .filter(|b| b.managed)
        .map(|b| (b.name.as_str(), b))
        .collect();
    let mut d = ReloadDiff::default();
    for (name, cfg) in running {
        match wanted.get(name.as_str()) {
            None => d.removed.push(name.clone()),
            Some(b) if *b != cfg => d.restarted.push((*b).clone()),
            Some(_) => d.reloaded.push(name.clone()),
        }
    }
    d.added = wanted
        .into_iter()
        .filter(|(n, _)| !running.contains_key(*n))
        .map(|(_, b)| b.clone())
        .collect();
    d
}

impl ReloadDiff {
    pub fn message(&self) -> String {
        let names = |v: &[BackendConfig]| {
            v.iter()
                .map(|b| b.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "reloaded: added [{}], removed [{}], restarted [{}], reloaded [{}]",
            names(&self.added),
            self.removed.join(", "),
            names(&self.restarted),
            self.reloaded.join(", ")
        )
    }
}

#[cfg(test)]
mod tests;
