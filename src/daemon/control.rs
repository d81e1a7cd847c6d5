//! The control socket's server (`/run/ember/control.sock`, mode 0600): one JSON request per
//! connection, one JSON response ([`crate::control`] has the protocol and the client). Serves
//! `ember status`, `ember reconcile` and `ember reload`.
//!
//! Only root, the daemon's own user, or members of `[ember] control_group` may use it (checked
//! with SO_PEERCRED), and members only for what lifts no safety ([`Request::for_root_alone`]:
//! status and a pass, not a confirmation of deletions nor a reload). The group reaches the
//! socket because the daemon gives it `run_dir` (0750, see `super::instance`) and the socket
//! (0660). Requests are limited to 64 KiB and 5 s; every client has its own task, so a slow or
//! hostile one cannot block the daemon, nor can one that waits for a pass (`ember reconcile
//! --wait`: the supervisor keeps its reply and answers when the pass ends).

use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};

pub use crate::control::{MAX_REQUEST, Request, Response};

const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
const DRAIN_LIMIT: u64 = 1 << 20;
/// Connections members of `[ember] control_group` may hold at once: one waiting for a pass
/// holds its file descriptor until the pass ends, so without a bound a member could exhaust
/// the daemon's (root's own connections are not counted).
pub const MAX_MEMBER_CONNECTIONS: usize = 32;

pub type Call = (Request, oneshot::Sender<Response>);

/// Who may talk to the daemon.
#[derive(Debug, Clone)]
pub struct Access {
    pub group: Option<nix::unistd::Gid>,
}

/// Who a peer is, as far as the control socket goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Peer {
    /// Root, or the daemon's own user: anything.
    Root,
    /// A member of `[ember] control_group`: what [`Request::for_root_alone`] leaves.
    Member,
}

impl Access {
    fn peer(&self, cred: &tokio::net::unix::UCred) -> Option<Peer> {
        let uid = cred.uid();
        if uid == 0 || uid == nix::unistd::geteuid().as_raw() {
            return Some(Peer::Root);
        }
        let g = self.group?;
        if cred.gid() == g.as_raw() {
            return Some(Peer::Member);
        }
        // supplementary groups of the peer process
        let member = cred
            .pid()
            .and_then(|pid| std::fs::read_to_string(format!("/proc/{pid}/status")).ok())
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("Groups:"))
                    .map(|l| l.to_string())
            })
            .is_some_and(|l| {
                l.split_whitespace()
                    .skip(1)
                    .any(|x| x == g.as_raw().to_string())
            });
        member.then_some(Peer::Member)
    }
}

/// The answer to a request `peer` may not make, if so.
fn refused(peer: Peer, req: &Request) -> Option<Response> {
    let what = req.for_root_alone().filter(|_| peer != Peer::Root)?;
    Some(Response::error(format!(
        "permission denied: {what} is for root alone; members of [ember] control_group may ask for status and for a pass"
    )))
}

/// Binds the socket (mode 0600, or 0660 with a control group) and serves it forever.
pub fn bind(path: &Path, access: &Access) -> std::io::Result<tokio::net::UnixListener> {
    use std::os::unix::fs::PermissionsExt;
    // the single-instance lock is held: a socket file here is a stale one
    let _ = std::fs::remove_file(path);
    let listener = tokio::net::UnixListener::bind(path)?;
    let mode = if access.group.is_some() { 0o660 } else { 0o600 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    if let Some(g) = access.group {
        nix::unistd::chown(path, None, Some(g)).map_err(std::io::Error::from)?;
    }
    Ok(listener)
}

/// Reads one request and answers it (the daemon's answer, or why not).
async fn answer(
    peer: Peer,
    limited: &mut BufReader<tokio::io::Take<tokio::net::unix::OwnedReadHalf>>,
    calls: &mpsc::Sender<Call>,
) -> Response {
    let mut line = String::new();
    // a slow client gets CLIENT_TIMEOUT to send its request; the answer may take longer
    // (a reload answers once new workers have converged)
    let read = tokio::time::timeout(CLIENT_TIMEOUT, limited.read_line(&mut line))
        .await
        .unwrap_or_else(|_| {
            Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "timed out",
            ))
        });
    let req = match read {
        Ok(_) if !line.ends_with('\n') && line.len() as u64 >= MAX_REQUEST => {
            return Response::error("request too large");
        }
        Ok(_) => match serde_json::from_str::<Request>(line.trim()) {
            Err(e) => return Response::error(format!("malformed request: {e}")),
            Ok(req) => req,
        },
        Err(e) => return Response::error(format!("cannot read the request: {e}")),
    };
    if let Some(r) = refused(peer, &req) {
        return r;
    }
    // a waited pass is answered by the supervisor at the time it names; this is a backstop
    let limit = req.answer_timeout();
    let (tx, rx) = oneshot::channel();
    if calls.send((req, tx)).await.is_err() {
        return Response::error("the daemon is shutting down");
    }
    // a caller that goes away drops its request: the supervisor forgets a reply nobody reads
    tokio::select! {
        answer = tokio::time::timeout(limit, rx) => match answer {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Response::error("the daemon is shutting down"),
            Err(_) => Response::error(format!("no answer within {} s", limit.as_secs())),
        },
        () = gone(limited) => Response::error("the caller went away"),
    }
}

/// Returns once the client has closed its side (or sent more than a request may hold): what it
/// sends after its request is read and dropped.
async fn gone(limited: &mut BufReader<tokio::io::Take<tokio::net::unix::OwnedReadHalf>>) {
    let mut buf = [0u8; 512];
    while let Ok(n) = limited.read(&mut buf).await {
        if n == 0 {
            return;
        }
    }
}

pub async fn serve(listener: tokio::net::UnixListener, access: Access, calls: mpsc::Sender<Call>) {
    let members = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_MEMBER_CONNECTIONS));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // out of file descriptors, most likely: wait rather than spin
                tracing::warn!("control socket: cannot accept a connection: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let access = access.clone();
        let calls = calls.clone();
        let members = members.clone();
        tokio::spawn(async move {
            client(stream, access, calls, members).await;
        });
    }
}

async fn client(
    stream: tokio::net::UnixStream,
    access: Access,
    calls: mpsc::Sender<Call>,
    members: std::sync::Arc<tokio::sync::Semaphore>,
) {
    let peer = stream.peer_cred().ok().and_then(|c| access.peer(&c));
    let (rd, mut wr) = stream.into_split();
    let mut limited = BufReader::new(rd.take(MAX_REQUEST));
    // held until this connection ends
    let permit = match peer {
        Some(Peer::Member) => Some(members.try_acquire_owned()),
        _ => None,
    };
    let response = match (peer, permit) {
        (None, _) => Response::error(
            "permission denied: the control socket is for root (or [ember] control_group)",
        ),
        (Some(_), Some(Err(_))) => Response::error(format!(
            "busy: members of [ember] control_group hold {MAX_MEMBER_CONNECTIONS} connections already; try again later"
        )),
        (Some(peer), _) => answer(peer, &mut limited, &calls).await,
    };
    let mut s = serde_json::to_string(&response).unwrap_or_else(|_| "{\"ok\":false}".into());
    s.push('\n');
    let _ = tokio::time::timeout(CLIENT_TIMEOUT, wr.write_all(s.as_bytes())).await;
    let _ = wr.shutdown().await;
    // read (a bounded amount of) what the client still sends, so that closing does not reset the
    // connection before it has read the answer; the caller's timeout bounds the time
    let mut rest = limited.into_inner().into_inner().take(DRAIN_LIMIT);
    let _ = tokio::time::timeout(
        CLIENT_TIMEOUT,
        tokio::io::copy(&mut rest, &mut tokio::io::sink()),
    )
    .await;
}
