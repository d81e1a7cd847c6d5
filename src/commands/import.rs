//! `ember import`: what cinder-volume made, as a desired state that adopts it.

use super::{print_problems, selected};
use crate::cli::{EXIT_ERROR, EXIT_OK, Global};
use crate::config::{self, BackendConfig};
use crate::inputs;
use crate::problem::Problem;

/// `ember import`: a desired-state document adopting what cinder made, on standard output.
/// Reads cinder.conf and LVM only; needs no desired state.
pub fn import(g: &Global, only: Option<&str>) -> i32 {
    use crate::reconcile::exports;
    use crate::reconcile::import::{Exports, Source, document};
    if let Err(f) = super::needs_root(g, "import") {
        super::print_failure(&f);
        return EXIT_ERROR;
    }
    let loaded = config::load(&g.sources());
    print_problems(&loaded.problems);
    let cfg = match loaded.config {
        Some(c) if !loaded.problems.iter().any(Problem::is_error) => c,
        _ => {
            crate::errln!("ember: nothing imported: fix the errors above first");
            return EXIT_ERROR;
        }
    };
    let backends = match selected(&cfg, only) {
        Ok(b) => b,
        Err(e) => {
            crate::errln!("ember: {e}");
            return EXIT_ERROR;
        }
    };
    let mut seen = vec![];
    let mut targets = vec![];
    let mut failed = false;
    for b in &backends {
        let lvm = g.lvm.reader(&inputs::lvm_options(b, &cfg.ember));
        // the exports, read as the pass reads them (lioadm and nvmet backends only)
        targets.push(match exports::wanted(b) {
            true => Some(exports::read(b, &lvm.target_root()).map_err(|e| e.to_string())),
            false => None,
        });
        let read = crate::names::VgName::new(&b.volume_group)
            .map_err(|e| e.to_string())
            .and_then(|vg| lvm.observe(&vg).map_err(|e| e.to_string()));
        seen.push(match read {
            Ok(Some(o)) => Ok(o),
            Ok(None) => {
                crate::errln!(
                    "ember: backend {}: volume group {:?} not found: nothing imported for it",
                    b.name,
                    b.volume_group
                );
                failed = true;
                Err(format!("volume group {:?} not found", b.volume_group))
            }
            Err(e) => {
                crate::errln!("ember: backend {}: {e}", b.name);
                failed = true;
                Err(e)
            }
        });
    }
    let sources: Vec<(&BackendConfig, Source)> = backends
        .iter()
        .zip(&seen)
        .zip(&targets)
        .map(|((b, r), t)| {
            let e = match t {
                None => Exports::NotRead,
                Some(Ok(t)) => Exports::Read(t),
                Some(Err(e)) => Exports::Unreadable(e.clone()),
            };
            let s = match r {
                Ok(o) => Source::Observed(o, e),
                Err(e) => Source::Missing(e.clone()),
            };
            (*b, s)
        })
        .collect();
    let files: Vec<String> = cfg
        .config_files
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    let header = format!(
        "Written by `ember import` from {} and LVM: what cinder-volume made, to be adopted.\nReview it, install it as {}, then run `ember plan`: it shows only adoptions.\nAdopted volumes are ember's: `state: absent`, and `prune: true` if you add it, delete them.",
        files.join(", "),
        inputs::desired_path(g.desired_state.as_ref(), &cfg).display()
    );
    crate::out!("{}", document(&cfg.volume_name_template, &sources, &header));
    // (its output is a file to install: one cut short by a closed pipe is not a success)
    if failed || crate::out::stdout_closed() {
        EXIT_ERROR
    } else {
        EXIT_OK
    }
}
