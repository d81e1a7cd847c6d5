//! The live iSCSI sessions of a target: LIO shows each ACL's session, if one is logged in, in
//! the ACL's `info` attribute (`lio_target_nacl_info_show` in the kernel's
//! iscsi_target_configfs.c): "No active iSCSI Session for Initiator Endpoint: <name>" without
//! one; else `InitiatorName:`, `Session State: TARG_SESS_STATE_LOGGED_IN`, and a line
//! `   Address <ip> TCP  StatSN: ...` per connection. Readable by anyone, no secret in it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::TARGET;

/// One host's session on a target.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Session {
    /// The initiator (the ACL's name).
    pub host: String,
    /// The session's state as LIO names it (`LOGGED_IN`, `FAILED`, ...).
    pub state: String,
    /// The address each of its connections comes from.
    pub addresses: Vec<String>,
}

/// The session an ACL's `info` text shows, if any.
///
/// The initiator chooses its alias (`InitiatorAlias:`, printed before the rest), so the text
/// is read as hostile: the state is the last `Session State:` line's (the kernel's comes
/// after the alias), made of `A-Z` and `_` only; addresses are read only after the last
/// `[iSCSI Connections]` header and only when they parse as IP addresses.
pub fn parse_info(host: &str, text: &str) -> Option<Session> {
    if text.trim_start().starts_with("No active iSCSI Session") {
        return None;
    }
    let mut state = None;
    let mut addresses = vec![];
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("Session State:") {
            let s = rest.trim();
            let s = s.strip_prefix("TARG_SESS_STATE_").unwrap_or(s);
            state = (!s.is_empty() && s.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'))
                .then(|| s.to_string());
        } else if line.contains("[iSCSI Connections]") {
            addresses.clear();
        } else if let Some(rest) = line.strip_prefix("Address ")
            && let Some(a) = rest.split_whitespace().next()
            && let Ok(ip) = a.parse::<std::net::IpAddr>()
        {
            addresses.push(ip.to_string());
        }
    }
    Some(Session {
        host: host.to_string(),
        state: state?,
        addresses,
    })
}

/// The sessions on TPG 1 of target `iqn` under the configfs root `root`, one per ACL that has
/// one, in the ACLs' order; an ACL whose `info` cannot be read has none.
pub fn sessions(root: &Path, iqn: &str) -> Vec<Session> {
    let acls = root
        .join(TARGET)
        .join("iscsi")
        .join(iqn)
        .join("tpgt_1/acls");
    let Ok(dir) = std::fs::read_dir(&acls) else {
        return vec![];
    };
    let mut names: Vec<String> = dir
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
        .iter()
        .filter_map(|h| {
            let text = std::fs::read_to_string(acls.join(h).join("info")).ok()?;
            parse_info(h, &text)
        })
        .collect()
}

#[cfg(test)]
mod tests;
