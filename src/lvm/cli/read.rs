//! Reading through the lvm binary: the pass's `fullreport`, the pool check's `lvs`.

use super::{LvmCli, Mode, s};
use crate::lvm::{LvmError, LvmRead, Observed, report};
use crate::names::{LvName, VgName};
use std::sync::atomic::Ordering;

impl LvmRead for LvmCli {
    fn observe(&self, vg: &VgName) -> Result<Option<Observed>, LvmError> {
        let args: Vec<String> = vec![
            s("fullreport"),
            s("--reportformat"),
            s("json"),
            s("--units"),
            s("b"),
            s("--nosuffix"),
            s("--configreport"),
            s("vg"),
            s("-o"),
            s(report::VG_FIELDS),
            s("--configreport"),
            s("lv"),
            s("-o"),
            s(report::LV_FIELDS),
            s("--configreport"),
            s("pv"),
            s("-o"),
            s(report::PV_FIELDS),
            s("--configreport"),
            s("pvseg"),
            s("-o"),
            s("pvseg_start"),
            s("--configreport"),
            s("seg"),
            s("-o"),
            s(report::SEG_FIELDS),
            s("--"),
            s(vg.as_str()),
        ];
        match self.run(Mode::Read, &args) {
            Ok(out) => report::parse_fullreport(&out.stdout, vg.as_str())
                .map(Some)
                .map_err(|detail| LvmError::Report {
                    command: self.describe(&args),
                    detail,
                }),
            Err(LvmError::Failed { stderr, .. })
                if stderr.contains(&format!("Volume group \"{vg}\" not found")) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn observe_pool(&self, vg: &VgName, pool: &LvName) -> Result<Option<Observed>, LvmError> {
        let args: Vec<String> = vec![
            s("lvs"),
            s("--reportformat"),
            s("json"),
            s("--units"),
            s("b"),
            s("--nosuffix"),
            s("-o"),
            format!("{},{},chunk_size", report::VG_FIELDS, report::LV_FIELDS),
            s("--"),
            Self::lv_path(vg, pool),
        ];
        match self.run(Mode::Read, &args) {
            Ok(out) => report::parse_pool_row(&out.stdout, vg.as_str())
                .map(Some)
                .map_err(|detail| LvmError::Report {
                    command: self.describe(&args),
                    detail,
                }),
            // no VG, or no pool (yet): the check has nothing to watch
            Err(LvmError::Failed { stderr, .. })
                if stderr.contains(&format!("Volume group \"{vg}\" not found"))
                    || stderr.contains("Failed to find logical volume") =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    fn vg_names(&self) -> Result<Vec<String>, LvmError> {
        let args = [
            s("vgs"),
            s("--reportformat"),
            s("json"),
            s("-o"),
            s("vg_name"),
        ];
        let out = self.run(Mode::Read, &args)?;
        report::parse_vg_names(&out.stdout).map_err(|e| LvmError::Report {
            command: self.describe(&args),
            detail: e,
        })
    }

    fn pool_usage(
        &self,
        vg: &VgName,
        pool: &LvName,
    ) -> Option<Result<Option<crate::lvm::poolusage::PoolUsage>, String>> {
        Some(crate::lvm::poolusage::read(vg, pool))
    }

    fn stamp(&self, vg: &VgName, last: &Observed) -> Option<crate::lvm::stamp::Stamp> {
        // the first failure is a warning (a sandbox or a device that forbids it makes every pass
        // read in full: slower, never wrong), later ones are not repeated
        static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        crate::lvm::stamp::read(vg, &last.pvs, &self.stamped_files())
            .map_err(|e| {
                if WARNED.swap(true, Ordering::Relaxed) {
                    tracing::debug!(vg = %vg, "no stamp, reading in full: {e}");
                } else {
                    tracing::warn!(vg = %vg, "cannot tell without lvm whether the volume group changed ({e}): every pass reads it in full");
                }
            })
            .ok()
    }

    fn commands(&self) -> u64 {
        self.commands.load(Ordering::Relaxed)
    }

    fn device_events(&self) -> Option<u64> {
        std::fs::read_to_string("/sys/kernel/uevent_seqnum")
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}
