//! Reading an option as oslo.config reads it for cinder: the file's value (or the option's
//! default), `$name` / `${name}` substituted with other options' values (`$$` and `\$` are a
//! literal `$`), then converted by the option's type; a reference to an option that is not
//! registered is an error. Only the options cinder registers that ember reads are known
//! (`OPTIONS`), plus `host` and `state_path` with cinder's defaults.
//!
//! A backend's option is read as cinder's `BackendGroupConfiguration` reads it: the backend's
//! own section (whose defaults are none), then `[backend_defaults]` (cinder's defaults).
//! `$name` in a backend's section names the option in that section (empty when it is unset
//! there) or, when it is not a backend option, in `[DEFAULT]`; `$group.name` names it in
//! `[group]` (only `backend_defaults` and the backend's own section).

use super::ini::{Entry, Ini, Origin};
use super::oslo;
use crate::problem::Problem;

/// An option's type, as cinder registers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Str,
    Int,
    Bool,
    List,
    Host,
    /// `max_over_subscription_ratio`: a string that matches cinder's regex.
    Ratio,
    /// `lvm_type`: one of cinder's choices.
    LvmType,
    /// `volume_clear`: one of cinder's choices.
    VolumeClear,
    /// `PortOpt`: an integer from 0 to 65535.
    Port,
    /// A `StrOpt` with `choices`: one of them.
    Choice(&'static [&'static str]),
}

/// `target_helper`'s choices (cinder/volume/driver.py).
pub(super) const TARGET_HELPERS: &[&str] = &[
    "tgtadm",
    "lioadm",
    "scstadmin",
    "iscsictl",
    "nvmet",
    "spdk-nvmeof",
    "fake",
];
/// `target_protocol`'s choices.
pub(super) const TARGET_PROTOCOLS: &[&str] = &["iscsi", "iser", "nvmet_rdma", "nvmet_tcp"];

/// Options registered with a `deprecated_name` in the same group: (name, deprecated name).
/// oslo.config reads the deprecated name when the name is not set.
pub(super) const DEPRECATED_NAMES: &[(&str, &str)] = &[(
    "target_secondary_ip_addresses",
    "iscsi_secondary_ip_addresses",
)];

/// Where an option is registered: `[DEFAULT]`, or every backend's group and `[backend_defaults]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Default,
    Backend,
}

/// The options cinder registers that ember reads (and what `$` may name), with cinder's
/// defaults (`None`: no default).
const OPTIONS: &[(&str, Scope, Kind, Option<&str>)] = &[
    ("host", Scope::Default, Kind::Host, None),
    (
        "state_path",
        Scope::Default,
        Kind::Str,
        Some("/var/lib/cinder"),
    ),
    ("enabled_backends", Scope::Default, Kind::List, None),
    (
        "volume_name_template",
        Scope::Default,
        Kind::Str,
        Some("volume-%s"),
    ),
    (
        "volume_driver",
        Scope::Backend,
        Kind::Str,
        Some(super::LVM_DRIVERS[0]),
    ),
    ("volume_backend_name", Scope::Backend, Kind::Str, None),
    ("backend_host", Scope::Backend, Kind::Str, None),
    (
        "max_over_subscription_ratio",
        Scope::Backend,
        Kind::Ratio,
        Some("20.0"),
    ),
    ("reserved_percentage", Scope::Backend, Kind::Int, Some("0")),
    (
        "volume_group",
        Scope::Backend,
        Kind::Str,
        Some("cinder-volumes"),
    ),
    ("lvm_type", Scope::Backend, Kind::LvmType, Some("auto")),
    (
        "lvm_conf_file",
        Scope::Backend,
        Kind::Str,
        Some("/etc/cinder/lvm.conf"),
    ),
    (
        "lvm_suppress_fd_warnings",
        Scope::Backend,
        Kind::Bool,
        Some("False"),
    ),
    (
        "volume_clear",
        Scope::Backend,
        Kind::VolumeClear,
        Some("zero"),
    ),
    ("volume_clear_size", Scope::Backend, Kind::Int, Some("0")),
    ("volume_clear_ionice", Scope::Backend, Kind::Str, None),
    // cinder/common/config.py: a HostAddressOpt whose default is oslo.utils' get_my_ipv4()
    ("my_ip", Scope::Default, Kind::Host, None),
    // the LVM driver's target (cinder/volume/driver.py, drivers/lvm.py)
    (
        "target_helper",
        Scope::Backend,
        Kind::Choice(TARGET_HELPERS),
        Some("tgtadm"),
    ),
    (
        "target_protocol",
        Scope::Backend,
        Kind::Choice(TARGET_PROTOCOLS),
        Some("iscsi"),
    ),
    (
        "target_prefix",
        Scope::Backend,
        Kind::Str,
        Some("iqn.2010-10.org.openstack:"),
    ),
    (
        "target_ip_address",
        Scope::Backend,
        Kind::Str,
        Some("$my_ip"),
    ),
    (
        "target_secondary_ip_addresses",
        Scope::Backend,
        Kind::List,
        Some(""),
    ),
    ("target_port", Scope::Backend, Kind::Port, Some("3260")),
    ("nvmet_port_id", Scope::Backend, Kind::Port, Some("1")),
    ("nvmet_ns_id", Scope::Backend, Kind::Int, Some("10")),
    (
        "nvmeof_conn_info_version",
        Scope::Backend,
        Kind::Int,
        Some("1"),
    ),
    (
        "lvm_share_target",
        Scope::Backend,
        Kind::Bool,
        Some("False"),
    ),
    (
        "report_discard_supported",
        Scope::Backend,
        Kind::Bool,
        Some("False"),
    ),
];

/// A value as its type made it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Typed {
    Str(String),
    Int(i64),
    Bool(bool),
    List(Vec<String>),
}

impl Typed {
    /// As `string.Template` puts it into another value (`str()` of the Python value).
    fn template_text(&self) -> String {
        match self {
            Typed::Str(s) => s.clone(),
            Typed::Int(n) => n.to_string(),
            Typed::Bool(true) => "True".into(),
            Typed::Bool(false) => "False".into(),
            Typed::List(v) => format!(
                "[{}]",
                v.iter()
                    .map(|s| format!("'{s}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// A value read: what it became, and the file and line it came from (none for a default).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Read {
    pub value: Option<Typed>,
    pub origin: Option<Origin>,
}

/// oslo's recursion has no guard (a cycle is Python's RecursionError); ember stops here.
const MAX_DEPTH: usize = 32;

pub(super) struct Reader<'a> {
    pub ini: &'a Ini,
    pub hostname: String,
    /// `my_ip`'s default, found when first needed ([`super::myip::my_ipv4`]).
    pub my_ip: std::cell::OnceCell<String>,
}

fn option(name: &str) -> Option<(Scope, Kind, Option<&'static str>)> {
    OPTIONS
        .iter()
        .find(|o| o.0 == name)
        .map(|o| (o.1, o.2, o.3))
}

/// cinder's default of an option ember reads (`None`: it has none, or ember does not read it).
pub(super) fn default_of(name: &str) -> Option<&'static str> {
    option(name).and_then(|o| o.2)
}

/// The group a value is read in: `[DEFAULT]`, `[backend_defaults]`, or a backend's section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Group<'b> {
    Default,
    Shared,
    Backend(&'b str),
}

impl Group<'_> {
    fn section(&self) -> &str {
        match self {
            Group::Default => "DEFAULT",
            Group::Shared => "backend_defaults",
            Group::Backend(b) => b,
        }
    }
}

impl Reader<'_> {
    /// `opt` in `group`, as oslo's `ConfigOpts._get` returns it (no fallback between groups).
    pub fn get(&self, group: Group, opt: &str) -> Result<Read, Problem> {
        self.get_at(group, opt, 0)
    }

    fn get_at(&self, group: Group, opt: &str, depth: usize) -> Result<Read, Problem> {
        let Some((scope, kind, default)) = option(opt) else {
            return Err(Problem::error(
                None,
                None,
                format!("no such option {opt} in group [{}]", group.section()),
            ));
        };
        let default = match (group, scope) {
            (Group::Backend(_), _) => None,
            (_, _) if opt == "host" => Some(self.hostname.clone()),
            (_, _) if opt == "my_ip" => Some(self.my_ip.get_or_init(super::myip::my_ipv4).clone()),
            _ => default.map(str::to_string),
        };
        let entry: Option<&Entry> = self.ini.get(group.section(), opt).or_else(|| {
            let old = DEPRECATED_NAMES.iter().find(|d| d.0 == opt)?.1;
            self.ini.get(group.section(), old)
        });
        // the system's host name is used as it is (oslo would refuse a machine named, say,
        // "(none)", as a QEMU guest without one is; only what cinder.conf says is checked)
        if opt == "host" && entry.is_none() {
            return Ok(Read {
                value: Some(Typed::Str(self.hostname.clone())),
                origin: None,
            });
        }
        let origin = entry.map(|e| e.origin.clone());
        let raw = entry.map(|e| e.value.clone()).or(default);
        let Some(raw) = raw else {
            return Ok(Read {
                value: None,
                origin,
            });
        };
        let at = |msg: String| match &origin {
            Some(o) => Problem::error(Some(o.file.clone()), Some(o.line), msg),
            None => Problem::error(None, None, msg),
        };
        let text = self
            .substitute(&raw, group, depth)
            .map_err(|m| at(format!("{opt} = {raw:?}: {m}")))?;
        let value = convert(kind, &text).map_err(|m| at(format!("{opt} = {text:?}: {m}")))?;
        Ok(Read { value, origin })
    }

    /// A backend's option as cinder's BackendGroupConfiguration reads it: its own section, else
    /// `[backend_defaults]`.
    pub fn backend(&self, backend: &str, opt: &str) -> Result<Read, Problem> {
        let own = self.get(Group::Backend(backend), opt)?;
        if own.value.is_some() {
            return Ok(own);
        }
        self.get(Group::Shared, opt)
    }

    /// `string.Template.safe_substitute` with oslo's lookup of each name.
    fn substitute(&self, value: &str, group: Group, depth: usize) -> Result<String, String> {
        if !value.contains('$') {
            return Ok(value.to_string());
        }
        if depth >= MAX_DEPTH {
            return Err("the substitution refers back to itself".into());
        }
        let value = value.replace("\\$", "$$");
        let b = value.as_bytes();
        let mut out = String::new();
        let mut i = 0;
        while i < b.len() {
            let Some(rel) = value[i..].find('$') else {
                out.push_str(&value[i..]);
                break;
            };
            out.push_str(&value[i..i + rel]);
            i += rel + 1;
            match template_name(&value[i..]) {
                Name::Escaped => {
                    out.push('$');
                    i += 1;
                }
                Name::Named(name, len) => {
                    out.push_str(&self.lookup(name, group, depth)?);
                    i += len;
                }
                Name::Invalid => out.push('$'),
            }
        }
        Ok(out)
    }

    /// The value `$name` stands for, read in `group` (oslo's `StrSubWrapper.__getitem__`).
    fn lookup(&self, name: &str, group: Group, depth: usize) -> Result<String, String> {
        let (g, opt) = match name.split_once('.') {
            None => (group, name),
            Some((g, opt)) => {
                let g = if g == "backend_defaults" {
                    Group::Shared
                } else if matches!(group, Group::Backend(b) if b == g) {
                    group
                } else {
                    // [DEFAULT] is no group oslo can name this way (NoSuchGroupError)
                    return Err(format!("no such group [{g}] for ${{{name}}}"));
                };
                (g, opt)
            }
        };
        let registered_here = match option(opt) {
            // cinder/cmd/volume.py registers backend_host in [DEFAULT] and each backend's group,
            // not in [backend_defaults]
            Some(_) if opt == "backend_host" => g != Group::Shared,
            Some((Scope::Backend, _, _)) => g != Group::Default,
            Some((Scope::Default, _, _)) => g == Group::Default,
            None => false,
        };
        let (g, opt) = if registered_here {
            (g, opt)
        } else {
            // not an option of that group: the whole name, in [DEFAULT]
            match option(name) {
                Some((Scope::Default, _, _)) => (Group::Default, name),
                Some(_) if name == "backend_host" => (Group::Default, name),
                _ => {
                    return Err(format!(
                        "no such option {name} (in ${{{name}}}): a reference to an unknown option is an error in cinder-volume"
                    ));
                }
            }
        };
        let r = self.get_at(g, opt, depth + 1).map_err(|p| p.message)?;
        Ok(r.value.map(|v| v.template_text()).unwrap_or_default())
    }
}

enum Name<'a> {
    /// `$$`
    Escaped,
    /// `$name` or `${name}`: the name and how many bytes after the `$` it took.
    Named(&'a str, usize),
    /// A `$` that starts no name: kept as it is.
    Invalid,
}

/// What follows a `$`, as Python's `string.Template` (oslo's idpattern `[_a-z][._a-z0-9]*`,
/// case-insensitive) reads it.
fn template_name(rest: &str) -> Name<'_> {
    let id_len = |s: &str| {
        let b = s.as_bytes();
        if b.is_empty() || !(b[0] == b'_' || b[0].is_ascii_alphabetic()) {
            return 0;
        }
        1 + b[1..]
            .iter()
            .take_while(|c| **c == b'_' || **c == b'.' || c.is_ascii_alphanumeric())
            .count()
    };
    if rest.starts_with('$') {
        return Name::Escaped;
    }
    if let Some(inner) = rest.strip_prefix('{') {
        let n = id_len(inner);
        if n > 0 && inner.as_bytes().get(n) == Some(&b'}') {
            return Name::Named(&inner[..n], n + 2);
        }
        return Name::Invalid;
    }
    match id_len(rest) {
        0 => Name::Invalid,
        n => Name::Named(&rest[..n], n),
    }
}

/// The value as the option's type makes it.
pub(super) fn convert(kind: Kind, text: &str) -> Result<Option<Typed>, String> {
    Ok(Some(match kind {
        Kind::Str => Typed::Str(text.to_string()),
        Kind::Int => match oslo::int(text)? {
            Some(n) => Typed::Int(n),
            None => return Ok(None),
        },
        Kind::Bool => Typed::Bool(oslo::boolean(text)?),
        Kind::List => Typed::List(oslo::list(text)),
        Kind::Host => Typed::Str(oslo::host_address(text)?),
        Kind::Ratio if oslo::is_ratio(text) => Typed::Str(text.to_string()),
        Kind::Ratio => {
            return Err(
                "must be auto or a number (cinder's regex ^(auto|\\d*\\.\\d+|\\d+)$: no sign, exponent or spaces)"
                    .into(),
            );
        }
        Kind::LvmType if ["default", "thin", "auto"].contains(&text) => {
            Typed::Str(text.to_string())
        }
        Kind::LvmType => return Err("must be one of default, thin, auto".into()),
        Kind::VolumeClear if ["none", "zero"].contains(&text) => Typed::Str(text.to_string()),
        Kind::VolumeClear if text == "shred" => {
            return Err("must be none or zero: cinder removed shred in Ocata (use zero)".into());
        }
        Kind::VolumeClear => return Err("must be none or zero".into()),
        Kind::Port => match oslo::int(text)? {
            Some(n) if (0..=65535).contains(&n) => Typed::Int(n),
            Some(_) => return Err("must be a port number from 0 to 65535".into()),
            None => return Ok(None),
        },
        Kind::Choice(choices) if choices.contains(&text) => Typed::Str(text.to_string()),
        Kind::Choice(choices) => return Err(format!("must be one of {}", choices.join(", "))),
    }))
}

#[cfg(test)]
mod tests;
