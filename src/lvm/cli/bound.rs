//! Writes bound to the LV a plan saw ([`LvRef`]): an LV removed and made again under the same
//! name since the read is never touched.
//!
//! `lvremove` and `lvchange` take a selection beside the LV's name: lvm processes `VG/NAME`
//! only if its UUID is the planned one (`--select lv_uuid=...`), in the same command. An LV
//! that does not match is skipped, and lvm still exits 0 (measured on lvm2 2.03.16): so what
//! it processed is read from what it says, its log in the lvm shell (`lastlog`: a `status`
//! entry for the LV's UUID) or its message on stdout as a process of its own (lvm prints
//! processed LVs only: `Logical volume "NAME" successfully removed.`, `Logical volume VG/NAME
//! changed.`; `log/silent` is overridden so that it does). A selection that matched nothing is
//! [`LvmError::NotPlanned`].
//!
//! `lvextend` takes no selection (`lvextend: unrecognized option '--select'`, lvm2 2.03.16), so
//! its LV's UUID is read by name right before it (`lvs -o lv_uuid VG/NAME`, in the same lvm
//! shell when there is one): the window is that of one command, not of the pass.

use super::{LvmCli, Mode, s};
use crate::lvm::{LvRef, LvmError};
use crate::names::{LvName, LvUuid, VgName};

/// What lvm says of an LV it processed, as a process of its own.
#[derive(Debug, Clone, Copy)]
pub(super) enum Done {
    Removed,
    Changed,
}

impl Done {
    fn said(self, stdout: &str, vg: &VgName, lv: &LvName) -> bool {
        let line = match self {
            Done::Removed => format!("Logical volume \"{lv}\" successfully removed"),
            Done::Changed => format!("Logical volume {vg}/{lv} changed"),
        };
        stdout.lines().any(|l| {
            l.trim()
                .strip_prefix(line.as_str())
                .is_some_and(|rest| rest.is_empty() || rest == ".")
        })
    }
}

impl LvmCli {
    /// Runs `args` (an `lvremove` or `lvchange` and its options, without the LV) on `lv` alone,
    /// selected by lvm by its name and its UUID.
    pub(super) fn run_bound(
        &self,
        mut args: Vec<String>,
        vg: &VgName,
        lv: &LvRef,
        done: Done,
    ) -> Result<(), LvmError> {
        args.extend([
            s("--config"),
            s("log/silent=0"),
            s("--select"),
            format!("lv_uuid={}", lv.uuid),
            s("--"),
            Self::lv_path(vg, &lv.name),
        ]);
        let out = match self.run_logged(Mode::Write, &args, true) {
            Ok(out) => out,
            Err(e) if no_such_lv(&e, vg, &lv.name) => {
                return Err(LvmError::not_planned(
                    vg,
                    lv,
                    Some("no LV of that name now".into()),
                ));
            }
            Err(e) => return Err(e),
        };
        let processed = match &out.log {
            Some(log) => processed_in_log(log, &lv.uuid),
            None => done.said(&out.stdout, vg, &lv.name),
        };
        if processed {
            Ok(())
        } else {
            Err(LvmError::not_planned(vg, lv, None))
        }
    }

    /// The UUID of `VG/NAME` now must be `lv`'s: what a command that takes no selection
    /// (`lvextend`) is bound by, right before it.
    pub(super) fn check_uuid(&self, vg: &VgName, lv: &LvRef) -> Result<(), LvmError> {
        let args = vec![
            s("lvs"),
            s("--reportformat"),
            s("json"),
            s("-o"),
            s("lv_uuid"),
            s("--"),
            Self::lv_path(vg, &lv.name),
        ];
        let out = match self.run(Mode::Read, &args) {
            Ok(out) => out,
            Err(e) if no_such_lv(&e, vg, &lv.name) => {
                return Err(LvmError::not_planned(
                    vg,
                    lv,
                    Some("no LV of that name now".into()),
                ));
            }
            Err(e) => return Err(e),
        };
        let uuids = uuids_in_report(&out.stdout);
        match uuids.as_slice() {
            [u] if u == lv.uuid.as_str() => Ok(()),
            [u] => Err(LvmError::not_planned(vg, lv, Some(format!("now uuid {u}")))),
            _ => Err(LvmError::Report {
                command: self.describe(&args),
                detail: crate::lvm::report::ReportError::Field {
                    field: "lv_uuid",
                    value: uuids.join(","),
                    what: "the one UUID of one LV",
                },
            }),
        }
    }
}

/// lvm's answer to a command naming an LV that does not exist.
fn no_such_lv(e: &LvmError, vg: &VgName, lv: &LvName) -> bool {
    matches!(e, LvmError::Failed { stderr, .. }
        if stderr.contains(&format!("Failed to find logical volume \"{vg}/{lv}\"")))
}

#[derive(serde::Deserialize)]
struct Log {
    #[serde(default)]
    log: Vec<Entry>,
}

#[derive(serde::Deserialize)]
struct Entry {
    #[serde(default)]
    log_type: String,
    #[serde(default)]
    log_object_type: String,
    #[serde(default)]
    log_object_id: String,
    #[serde(default)]
    log_message: String,
}

/// Whether a command's whole log (`lastlog` in the lvm shell) has the LV of this UUID processed
/// with success.
pub(super) fn processed_in_log(log: &str, uuid: &LvUuid) -> bool {
    serde_json::from_str::<Log>(log).is_ok_and(|l| {
        l.log.iter().any(|e| {
            e.log_type == "status"
                && e.log_object_type == "lv"
                && e.log_object_id == uuid.as_str()
                && e.log_message == "success"
        })
    })
}

/// The `lv_uuid` of every row of an `lvs --reportformat json` report.
pub(super) fn uuids_in_report(json: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    v["report"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["lv"].as_array())
        .flatten()
        .filter_map(|row| row["lv_uuid"].as_str().map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests;
