//! The names that become configfs directory names and reach an initiator: validated before
//! any use, as [`crate::names`] validates LV names (the desired state's `export: { hosts }`
//! and the export module both use them). A configfs name cannot hold `/`, and the
//! kernel limits both kinds to 223 bytes (iSCSI: RFC 3720 §3.2.6.1; NVMe: `NVMF_NQN_SIZE`).

use std::fmt;
use std::net::IpAddr;

/// The longest IQN or NQN the kernel takes (bytes).
pub const MAX_NAME_LEN: usize = 223;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportNameError {
    #[error("{kind} {name:?} is longer than {MAX_NAME_LEN} characters")]
    TooLong { kind: &'static str, name: String },
    #[error("{kind} {name:?} does not start with {prefixes}")]
    Prefix {
        kind: &'static str,
        name: String,
        prefixes: &'static str,
    },
    #[error("{kind} {name:?} contains {ch:?}: only {allowed} are allowed")]
    BadChar {
        kind: &'static str,
        name: String,
        ch: char,
        allowed: &'static str,
    },
}

fn check(
    kind: &'static str,
    name: &str,
    prefixes: &'static [&'static str],
    shown: &'static str,
    ok: fn(char) -> bool,
    allowed: &'static str,
) -> Result<(), ExportNameError> {
    if name.len() > MAX_NAME_LEN {
        return Err(ExportNameError::TooLong {
            kind,
            name: name.to_string(),
        });
    }
    let rest = prefixes
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .filter(|r| !r.is_empty())
        .ok_or_else(|| ExportNameError::Prefix {
            kind,
            name: name.to_string(),
            prefixes: shown,
        })?;
    if let Some(ch) = rest.chars().find(|c| !ok(*c)) {
        return Err(ExportNameError::BadChar {
            kind,
            name: name.to_string(),
            ch,
            allowed,
        });
    }
    Ok(())
}

/// An iSCSI name: `iqn.`, `eui.` or `naa.` and then letters, digits, `.`, `-`, `:` (RFC 3722's
/// characters; upper case is kept as written: LIO compares initiator names as given, cinder
/// case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Iqn(String);

impl Iqn {
    pub fn parse(name: &str) -> Result<Self, ExportNameError> {
        check(
            "iSCSI name",
            name,
            &["iqn.", "eui.", "naa."],
            "iqn., eui. or naa.",
            |c| c.is_ascii_alphanumeric() || ".-:".contains(c),
            "letters, digits, '.', '-' and ':'",
        )?;
        Ok(Iqn(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An NVMe qualified name: `nqn.` and then printable ASCII without `/` or spaces. Looser than
/// the NVMe specification's `nqn.yyyy-mm.<domain>:...` because cinder's own subsystem names
/// (`nqn.` + `target_prefix` + `-` + volume id) are not of that form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Nqn(String);

impl Nqn {
    pub fn parse(name: &str) -> Result<Self, ExportNameError> {
        check(
            "NVMe qualified name",
            name,
            &["nqn."],
            "nqn.",
            |c| c.is_ascii_graphic() && c != '/',
            "printable characters other than '/'",
        )?;
        Ok(Nqn(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Iqn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Nqn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An address and port a target listens on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Portal {
    pub ip: IpAddr,
    pub port: u16,
}

impl Portal {
    /// LIO's network portal directory name: `ip:port`, an IPv6 address in brackets.
    pub fn lio_name(&self) -> String {
        self.to_string()
    }

    /// Whether a target's network portal `np` (LIO's `ip:port`, `[ip6]:port`; nvmet's address
    /// and service) accepts connections made to this portal: the same one, or the same port on
    /// every address of its family (`0.0.0.0:3260`, `[::0]:3260`, which cinder's rtstool binds
    /// when given no address).
    pub fn served_by(&self, np: &str) -> bool {
        let Some((host, port)) = np.rsplit_once(':') else {
            return false;
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        match (host.parse::<IpAddr>(), port.parse::<u16>()) {
            (Ok(ip), Ok(port)) if port == self.port => {
                ip == self.ip || ip.is_unspecified() && ip.is_ipv4() == self.ip.is_ipv4()
            }
            _ => false,
        }
    }
}

impl fmt::Display for Portal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ip {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.port),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.port),
        }
    }
}

#[cfg(test)]
mod tests;
