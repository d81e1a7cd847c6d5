//! For unit tests and the LVM simulator: configfs's rules on a plain directory, enough to check that the steps ember
//! plans are accepted in their order and that reading back gives what was written. A `mkdir`
//! makes its default groups (`create_dir_all`); a write makes the attribute; an `rmdir` is
//! refused while a link lies beneath or points into what it would remove (configfs's
//! -ENOTEMPTY and -EBUSY); a link to a path that does not exist is refused; nvmet's
//! `allowed_hosts/` takes no link while `attr_allow_any_host` is 1, and that takes no 1 while
//! a host is linked (-EINVAL both); LIO takes no portal on one address of a port while a
//! target listens on every address of it (`0.0.0.0:3260`: the bind fails, mkdir says EINVAL).

use std::fs;
use std::io::{Error, ErrorKind};
use std::path::{Path, PathBuf};

use super::Step;

pub fn apply(root: &Path, steps: &[Step]) -> Result<(), String> {
    for s in steps {
        perform(root, s).map_err(|e| format!("{s}: {e}"))?;
    }
    Ok(())
}

pub fn perform(root: &Path, step: &Step) -> std::io::Result<()> {
    match step {
        Step::Mkdir(p) => {
            if root.join(p).exists() {
                return Err(Error::new(ErrorKind::AlreadyExists, "exists"));
            }
            if port_taken(root, p) {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    "Invalid argument (the kernel: kernel_bind() failed: -98)",
                ));
            }
            fs::create_dir_all(root.join(p))
        }
        Step::Write(p, v) => {
            let path = root.join(p);
            if path.ends_with("attr_allow_any_host")
                && matches!(v, super::Value::Plain(x) if x.trim() == "1")
                && links_in(&path.with_file_name("allowed_hosts"))
            {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    "can't set allow_any_host when explicit hosts are set (EINVAL)",
                ));
            }
            let dir = path.parent().unwrap_or(root);
            // the object, or the object of a default group (`attrib/`, `auth/`, `wwn/`)
            if !dir.is_dir() && !dir.parent().is_some_and(Path::is_dir) {
                return Err(Error::new(ErrorKind::NotFound, "no such object"));
            }
            fs::create_dir_all(dir)?;
            let text = match v {
                super::Value::Plain(s) | super::Value::Secret(s) => s.clone(),
            };
            fs::write(path, text)
        }
        Step::Symlink { link, target } => {
            if !root.join(target).is_dir() {
                return Err(Error::new(ErrorKind::NotFound, "link target missing"));
            }
            let link = root.join(link);
            if let Some(dir) = link.parent() {
                // a default group (`allowed_hosts/`, `subsystems/`) of an existing object
                if !dir.is_dir() && dir.parent().is_some_and(Path::is_dir) {
                    fs::create_dir(dir)?;
                }
            }
            if any_host_open(&link) {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    "can't add hosts when allow_any_host is set (EINVAL)",
                ));
            }
            std::os::unix::fs::symlink(root.join(target), link)
        }
        Step::Unlink(p) => fs::remove_file(root.join(p)),
        // (a default group of an existing object, as `auth/`)
        Step::RootOnly(p) => {
            let dir = root.join(p);
            if !dir.is_dir() && !dir.parent().is_some_and(Path::is_dir) {
                return Err(Error::new(ErrorKind::NotFound, "no such object"));
            }
            fs::create_dir_all(&dir)?;
            fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))
        }
        Step::Rmdir(p) => {
            let dir = root.join(p);
            if has_link_beneath(&dir)? {
                return Err(Error::other("a link lies beneath (ENOTEMPTY)"));
            }
            if linked_into(root, &dir)? {
                return Err(Error::other("a link points into it (EBUSY)"));
            }
            fs::remove_dir_all(dir)
        }
    }
}

/// LIO's rule: a network portal `np/<ip>:<port>` on one IPv4 address cannot be made while a
/// target listens on `0.0.0.0:<port>` (its socket holds the port on every address).
fn port_taken(root: &Path, p: &Path) -> bool {
    let (Some(name), Some(dir)) = (p.file_name().and_then(|n| n.to_str()), p.parent()) else {
        return false;
    };
    let Some((ip, port)) = name.rsplit_once(':') else {
        return false;
    };
    if !dir.ends_with("np") || ip.starts_with('[') || ip == "0.0.0.0" {
        return false;
    }
    let wildcard = format!("0.0.0.0:{port}");
    let Ok(targets) = fs::read_dir(root.join("target/iscsi")) else {
        return false;
    };
    targets.flatten().any(|t| {
        fs::read_dir(t.path()).is_ok_and(|tpgs| {
            tpgs.flatten()
                .any(|g| g.path().join("np").join(&wildcard).is_dir())
        })
    })
}

/// nvmet's rule: a link under a subsystem's `allowed_hosts/` while its `attr_allow_any_host`
/// is 1 is refused.
fn any_host_open(link: &Path) -> bool {
    let Some(dir) = link.parent().filter(|d| d.ends_with("allowed_hosts")) else {
        return false;
    };
    dir.parent()
        .and_then(|sub| fs::read_to_string(sub.join("attr_allow_any_host")).ok())
        .is_some_and(|v| v.trim() == "1")
}

fn links_in(dir: &Path) -> bool {
    fs::read_dir(dir).is_ok_and(|mut d| d.any(|e| e.is_ok_and(|e| e.path().is_symlink())))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in fs::read_dir(dir)? {
        let e = e?;
        out.push(e.path());
        if e.file_type()?.is_dir() {
            walk(&e.path(), out)?;
        }
    }
    Ok(())
}

fn has_link_beneath(dir: &Path) -> std::io::Result<bool> {
    let mut all = Vec::new();
    walk(dir, &mut all)?;
    Ok(all.iter().any(|p| p.is_symlink()))
}

fn linked_into(root: &Path, dir: &Path) -> std::io::Result<bool> {
    let mut all = Vec::new();
    walk(root, &mut all)?;
    Ok(all
        .iter()
        .filter(|p| p.is_symlink())
        .filter_map(|p| fs::read_link(p).ok())
        .any(|t| t.starts_with(dir)))
}
