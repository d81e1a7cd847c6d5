//! Why LIO refused one of an export's portals, in words an operator can act on.

use crate::export::lio;
use crate::export::names::Portal;

/// When `error` is the refusal of one of `portals` (the `mkdir` of its `np/` directory) and
/// another target listens on every address of that portal's port (`0.0.0.0:3260`, as
/// targetcli's default portal does): which target, and what to do. The kernel cannot then
/// listen on one address of the port (its bind fails; the `mkdir` says only "Invalid argument").
pub(super) fn wildcard_listener(
    error: &str,
    lio_now: &lio::State,
    portals: &[Portal],
) -> Option<String> {
    let refused = portals
        .iter()
        .filter(|p| !p.ip.is_unspecified())
        .find(|p| error.contains(&format!("/np/{}", p.lio_name())))?;
    lio_now.targets.iter().find_map(|t| {
        t.tpgs.iter().find_map(|g| {
            let np = g
                .portals
                .iter()
                .find(|np| **np != refused.lio_name() && refused.served_by(np))?;
            let ip = np.rsplit_once(':').map_or(np.as_str(), |(ip, _)| ip);
            Some(format!(
                "target {} listens on {np}, every address of port {}, so LIO cannot listen on {refused} alone: give that target portals on the addresses it should listen on instead (targetcli: /iscsi/{}/tpg{}/portals create <address> {}, then delete {ip} {})",
                t.iqn, refused.port, t.iqn, g.tag, refused.port, refused.port
            ))
        })
    })
}
