//! A worker's lvm for its life: one handle, so one lvm shell for all its passes and pool
//! checks (`LvmOptions::keep_shell`), and its memory of the volume group between them
//! ([`Recall`]: a pass with nothing new reads the VG's metadata headers, not lvm).
//! A reload that changes how lvm is run (cinder.conf's `lvm_conf_file`, ...) starts afresh.

use std::sync::{Arc, Mutex};

use crate::cli::Global;
use crate::config::{BackendConfig, EmberSettings};
use crate::lvm::recall::{Keeper, Recall, Remembering};
use crate::lvm::{LvmOptions, LvmRead, LvmWrite};

type Shared = Arc<Mutex<Box<dyn LvmWrite + Send>>>;

pub(super) struct WorkerLvm {
    opts: LvmOptions,
    writer: Shared,
    recall: Arc<Recall>,
}

/// The worker's lvm handle and memory, made (again) when how lvm is run changed.
pub(super) fn handle(
    slot: &mut Option<WorkerLvm>,
    g: &Global,
    backend: &BackendConfig,
    settings: &EmberSettings,
) -> (Shared, Arc<Recall>) {
    let mut opts = crate::inputs::lvm_options(backend, settings);
    opts.keep_shell = true;
    if slot.as_ref().is_some_and(|w| w.opts != opts) {
        *slot = None;
    }
    let w = slot.get_or_insert_with(|| WorkerLvm {
        writer: Arc::new(Mutex::new(g.lvm.writer(&opts))),
        recall: Arc::new(Recall::kept(Keeper::for_lvm(&g.lvm, &settings.run_dir))),
        opts,
    });
    (w.writer.clone(), w.recall.clone())
}

/// Closes the worker's lvm shell once it has nothing to do (an lvm shell holds tens of MiB:
/// it lives through a burst of passes and checks, not between them). On the blocking thread,
/// so that a pass that starts meanwhile waits for it.
pub(super) fn release_when_idle(slot: &Option<WorkerLvm>) {
    if let Some(w) = slot {
        let writer = w.writer.clone();
        tokio::task::spawn_blocking(move || {
            let guard = writer.lock().unwrap_or_else(|p| p.into_inner());
            guard.release();
        });
    }
}

/// Runs `f` with the worker's lvm, its memory in front, its shell open; also returns the lvm
/// processes opening the shell started (0 when it was open already).
pub(super) fn with<T>(
    writer: &Shared,
    recall: &Recall,
    f: impl FnOnce(&dyn LvmWrite) -> T,
) -> (T, u64) {
    // (a pass that panicked left nothing half-done in the handle: its state is lvm's)
    let guard = writer.lock().unwrap_or_else(|p| p.into_inner());
    let lvm = Remembering {
        lvm: guard.as_ref(),
        recall,
    };
    let calls = lvm.calls();
    lvm.begin_batch();
    let started = lvm.calls() - calls;
    (f(&lvm), started)
}
