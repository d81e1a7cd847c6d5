//! Whose table load failed with ENODATA, and ember's record of creations under way.
//!
//! lvm's message for a thin device its pool does not have names only a device number
//! (measured, lvm2 2.03.16: `device-mapper: reload ioctl on  (253:6) failed: No data
//! available`), and activating a thin volume may load its pool's tables too. `lvchange -v` says
//! which device each number is (`Loading table for vg--half-half (253:6).`): the failure is the
//! volume's own only when the number that failed is its own device's.

use super::{LvmCli, Mode, s};
use crate::lvm::LvmError;
use crate::lvm::clear::dm_name;
use crate::names::{LvName, VgName};

/// The `(major:minor)` in a line, if it has one.
fn devno(line: &str) -> Option<&str> {
    let open = line.find('(')?;
    let close = line[open..].find(')')? + open;
    let inner = &line[open + 1..close];
    let (a, b) = inner.split_once(':')?;
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|c| c.is_ascii_digit());
    (digits(a) && digits(b)).then_some(inner)
}

/// Whether `lvchange -v`'s messages show the table load of the device named `dm` refused with
/// ENODATA.
pub(super) fn own_table_refused(stderr: &str, dm: &str) -> bool {
    let loading = format!("Loading table for {dm} (");
    let own: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with(&loading))
        .filter_map(devno)
        .collect();
    stderr
        .lines()
        .map(str::trim)
        .filter(|l| l.contains("reload ioctl on") && l.ends_with(crate::lvm::UNKNOWN_TO_POOL))
        .filter_map(devno)
        .any(|d| own.contains(&d))
}

impl LvmCli {
    /// [`crate::lvm::LvmWrite::own_device_unknown_to_pool`]: `lvchange -v --activate y`, as a
    /// process of its own (its messages are on its stderr).
    pub(super) fn activate_telling_tables(
        &self,
        vg: &VgName,
        lv: &LvName,
    ) -> Result<bool, LvmError> {
        let args = vec![
            s("lvchange"),
            s("-v"),
            s("--activate"),
            s("y"),
            s("--ignoreactivationskip"),
            s("--"),
            Self::lv_path(vg, lv),
        ];
        match self.run_once(Mode::Write, &args) {
            Ok(_) => Ok(false),
            Err(LvmError::Failed { stderr, .. })
                if own_table_refused(&stderr, &dm_name(vg, lv)) =>
            {
                Ok(true)
            }
            Err(e) => Err(e),
        }
    }

    /// The record of creations under way, when there is a state directory.
    pub(super) fn read_in_flight(&self, vg: &VgName) -> Vec<LvName> {
        let Some(r) = &self.in_flight else {
            return vec![];
        };
        r.read(vg).unwrap_or_else(|e| {
            tracing::warn!(vg = %vg, "the record of creations under way cannot be read ({e}): no volume of {vg} is made again empty");
            vec![]
        })
    }
}

#[cfg(test)]
mod tests;
