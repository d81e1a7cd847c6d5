//! The metrics file: what `ember status --json` shows, as Prometheus series for node_exporter's
//! textfile collector (`[ember] metrics_file`). Rendered from the daemon's status, so the two
//! never disagree; written atomically ([`file::write`]).

pub mod exposition;
pub mod file;

use exposition::{Exposition, Kind};

use crate::status::{BackendStatus, DaemonStatus, WorkerState};

const G: Kind = Kind::Gauge;
const C: Kind = Kind::Counter;

/// The whole file for `status`.
pub fn render(status: &DaemonStatus) -> String {
    let mut e = Exposition::default();
    e.add(
        "ember_info",
        "ember's version (always 1).",
        G,
        &[("version", env!("CARGO_PKG_VERSION"))],
        1.0,
    );
    for b in &status.backends {
        backend(&mut e, b);
    }
    e.render()
}

fn backend(e: &mut Exposition, b: &BackendStatus) {
    let be = [("backend", b.name.as_str())];
    e.add(
        "ember_backend_converged",
        "1 when the backend's last pass left it as the desired state says, else 0.",
        G,
        &be,
        f64::from(u8::from(b.state == WorkerState::Converged)),
    );
    passes(e, b);
    capacity(e, b);
    pool(e, b);
    exports(e, b);
}

/// ember's exports, their hosts and (iSCSI) live sessions, by transport.
fn exports(e: &mut Exposition, b: &BackendStatus) {
    let Some(x) = &b.exports else {
        return;
    };
    let labels = [
        ("backend", b.name.as_str()),
        ("transport", x.transport.label()),
    ];
    e.add(
        "ember_exported_volumes",
        "Volumes ember exports (iSCSI targets, NVMe subsystems), as the last pass found them.",
        G,
        &labels,
        x.volumes.len() as f64,
    );
    e.add(
        "ember_export_hosts",
        "Hosts allowed on ember's exports (iSCSI ACLs, NVMe allowed hosts), summed over the volumes.",
        G,
        &labels,
        x.hosts() as f64,
    );
    if let Some(n) = x.sessions() {
        e.add(
            "ember_export_sessions",
            "Live iSCSI sessions on ember's exports as the last pass ended (nvmet shows none: absent for NVMe/TCP).",
            G,
            &labels,
            n as f64,
        );
    }
}

fn passes(e: &mut Exposition, b: &BackendStatus) {
    let be = [("backend", b.name.as_str())];
    if let Some(p) = &b.last_pass {
        for (reason, n) in &p.refusal_kinds {
            e.add(
                "ember_backend_refusals",
                "What the desired state asks for and ember refuses, in the last pass, by reason.",
                G,
                &[("backend", &b.name), ("reason", reason)],
                *n as f64,
            );
        }
        e.add(
            "ember_last_pass_timestamp_seconds",
            "When the backend's last pass ended (Unix time).",
            G,
            &be,
            p.finished_at as f64,
        );
        e.add(
            "ember_pass_duration_seconds",
            "How long the backend's last pass took.",
            G,
            &be,
            p.duration_ms as f64 / 1000.0,
        );
    }
    if let Some(t) = b.counters.last_success_at {
        e.add(
            "ember_last_success_timestamp_seconds",
            "When the backend's last pass without an error or a failed action ended (Unix time).",
            G,
            &be,
            t as f64,
        );
    }
    let c = &b.counters;
    for (result, n) in [
        ("converged", c.converged),
        ("pending", c.pending),
        ("blocked", c.blocked),
        ("error", c.error),
    ] {
        e.add(
            "ember_passes_total",
            "Passes since the daemon started, by result.",
            C,
            &[("backend", &b.name), ("result", result)],
            n as f64,
        );
    }
    e.add(
        "ember_lvm_commands_total",
        "lvm commands the backend's passes ran since the daemon started.",
        C,
        &be,
        c.lvm_commands as f64,
    );
    let (done, total) = match (&b.progress, &b.last_pass) {
        (Some(p), _) => (p.done, p.total),
        (None, Some(p)) => {
            let n = p.done.len() + p.failed.len();
            (n, n)
        }
        (None, None) => (0, 0),
    };
    e.add(
        "ember_pass_actions_done",
        "Actions finished of the pass under way (or of the last pass).",
        G,
        &be,
        done as f64,
    );
    e.add(
        "ember_pass_actions_planned",
        "Actions planned in the pass under way (or in the last pass).",
        G,
        &be,
        total as f64,
    );
}

fn capacity(e: &mut Exposition, b: &BackendStatus) {
    let Some(c) = &b.capacity else {
        return;
    };
    let vg = [
        ("backend", b.name.as_str()),
        ("vg", b.volume_group.as_str()),
    ];
    e.add(
        "ember_volume_group_size_bytes",
        "The volume group's size.",
        G,
        &vg,
        c.vg_size as f64,
    );
    e.add(
        "ember_volume_group_free_bytes",
        "The volume group's free space.",
        G,
        &vg,
        c.vg_free as f64,
    );
    e.add(
        "ember_provisioned_bytes",
        "What the backend's LVs provision, as cinder counts it (thin: every LV but the pool, snapshots with their virtual size).",
        G,
        &vg,
        c.provisioned as f64,
    );
    e.add(
        "ember_provisioned_limit_bytes",
        "What may be provisioned: max_over_subscription_ratio x pool size x (1 - reserved_percentage/100); thick: the VG less its reserve.",
        G,
        &vg,
        c.total as f64 * c.max_over_subscription_ratio * (1.0 - c.reserved_percentage as f64 / 100.0),
    );
    for (family, help, all, owned) in [
        (
            "ember_volumes",
            "Volumes in the volume group (not the pool, not snapshots), by owner.",
            c.volumes,
            c.owned_volumes,
        ),
        (
            "ember_snapshots",
            "Thin snapshots (_snapshot-...) in the volume group, by owner.",
            c.snapshots,
            c.owned_snapshots,
        ),
    ] {
        for (owner, n) in [("ember", owned), ("other", all.saturating_sub(owned))] {
            e.add(
                family,
                help,
                G,
                &[
                    ("backend", &b.name),
                    ("vg", &b.volume_group),
                    ("owner", owner),
                ],
                n as f64,
            );
        }
    }
}

fn pool(e: &mut Exposition, b: &BackendStatus) {
    let Some(p) = &b.pool else {
        return;
    };
    let l = [
        ("backend", b.name.as_str()),
        ("vg", b.volume_group.as_str()),
        ("pool", p.name.as_str()),
    ];
    e.add(
        "ember_thin_pool_size_bytes",
        "The thin pool's data size.",
        G,
        &l,
        p.size as f64,
    );
    if let Some(d) = p.data_percent {
        e.add(
            "ember_thin_pool_data_usage_ratio",
            "The share of the thin pool's data in use (0 to 1).",
            G,
            &l,
            d / 100.0,
        );
    }
    if let Some(m) = p.metadata_size {
        e.add(
            "ember_thin_pool_metadata_size_bytes",
            "The thin pool's metadata size (lvm keeps a spare of the same size).",
            G,
            &l,
            m as f64,
        );
    }
    if let Some(m) = p.metadata_percent {
        e.add(
            "ember_thin_pool_metadata_usage_ratio",
            "The share of the thin pool's metadata in use (0 to 1).",
            G,
            &l,
            m / 100.0,
        );
    }
    if let Some(a) = &p.autoextend {
        e.add(
            "ember_thin_pool_autoextend_max_bytes",
            "autoextend's cap on the thin pool's data size.",
            G,
            &l,
            a.max_bytes as f64,
        );
        e.add(
            "ember_thin_pool_autoextend_threshold_ratio",
            "The usage (0 to 1) at which autoextend grows the thin pool.",
            G,
            &l,
            a.threshold_percent / 100.0,
        );
    }
    e.add(
        "ember_thin_pool_can_grow",
        "0 when the thin pool cannot grow any more (at its autoextend cap, or no room in the volume group), else 1.",
        G,
        &l,
        f64::from(u8::from(p.cannot_grow.is_none())),
    );
    e.add(
        "ember_thin_pool_read_timestamp_seconds",
        "When the thin pool's figures were read (Unix time).",
        G,
        &l,
        p.read_at as f64,
    );
}

#[cfg(test)]
mod tests;
