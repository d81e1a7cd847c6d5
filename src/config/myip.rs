//! cinder's `my_ip` default: oslo.utils' `netutils.get_my_ipv4()`, the source address the
//! kernel would use for traffic to 192.0.2.0 (RFC 5737; nothing is sent), or `127.0.0.1` when
//! there is no route. oslo finds it by `connect()`ing a UDP socket and reading its name; the
//! unit's sandbox allows no AF_INET socket (`RestrictAddressFamilies=AF_UNIX AF_NETLINK`), so
//! ember asks the kernel the same question over rtnetlink (`ip route get 192.0.2.0`), whose
//! answer's preferred source is that address.

use std::net::Ipv4Addr;

/// The address oslo would probe the route to.
const PROBE: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 0);
/// oslo's answer without a route.
pub const LOCALHOST: &str = "127.0.0.1";

/// `get_my_ipv4()`: the source address of the route to 192.0.2.0, else 127.0.0.1.
pub fn my_ipv4() -> String {
    route_source(PROBE).map_or_else(|| LOCALHOST.to_string(), |a| a.to_string())
}

/// The kernel's preferred source address for a route to `dst` (RTM_GETROUTE's RTA_PREFSRC).
fn route_source(dst: Ipv4Addr) -> Option<Ipv4Addr> {
    // struct nlmsghdr (16) + struct rtmsg (12) + rtattr RTA_DST (4 + 4)
    const LEN: usize = 16 + 12 + 8;
    let mut req = [0u8; LEN];
    req[0..4].copy_from_slice(&(LEN as u32).to_ne_bytes());
    req[4..6].copy_from_slice(&libc::RTM_GETROUTE.to_ne_bytes());
    req[6..8].copy_from_slice(&(libc::NLM_F_REQUEST as u16).to_ne_bytes());
    req[8..12].copy_from_slice(&1u32.to_ne_bytes()); // sequence number
    req[16] = libc::AF_INET as u8; // rtm_family
    req[17] = 32; // rtm_dst_len
    req[28..30].copy_from_slice(&8u16.to_ne_bytes());
    req[30..32].copy_from_slice(&libc::RTA_DST.to_ne_bytes());
    req[32..36].copy_from_slice(&dst.octets());
    // SAFETY: plain socket calls on a descriptor this function owns and closes; the buffers
    // outlive the calls and their lengths are passed.
    unsafe {
        let fd = libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        );
        if fd < 0 {
            return None;
        }
        let mut answer = [0u8; 4096];
        let sent = libc::send(fd, req.as_ptr().cast(), LEN, 0);
        let got = if sent == LEN as isize {
            libc::recv(fd, answer.as_mut_ptr().cast(), answer.len(), 0)
        } else {
            -1
        };
        libc::close(fd);
        let got = usize::try_from(got).ok()?;
        prefsrc(&answer[..got.min(answer.len())])
    }
}

/// RTA_PREFSRC of an RTM_NEWROUTE answer; `None` for an error answer (no route) or none.
fn prefsrc(msg: &[u8]) -> Option<Ipv4Addr> {
    let u16_at = |i: usize| Some(u16::from_ne_bytes(msg.get(i..i + 2)?.try_into().ok()?));
    if u16_at(4)? != libc::RTM_NEWROUTE {
        return None;
    }
    let mut i = 16 + 12;
    while i + 4 <= msg.len() {
        let len = usize::from(u16_at(i)?);
        if len < 4 {
            return None;
        }
        if u16_at(i + 2)? == libc::RTA_PREFSRC && len == 8 {
            let o: [u8; 4] = msg.get(i + 4..i + 8)?.try_into().ok()?;
            return Some(Ipv4Addr::from(o));
        }
        i += (len + 3) & !3;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_address_oslo_finds_with_a_udp_socket() {
        let udp = std::net::UdpSocket::bind("0.0.0.0:0")
            .and_then(|s| s.connect((PROBE, 80)).map(|_| s))
            .and_then(|s| s.local_addr())
            .map(|a| a.ip().to_string())
            .unwrap_or_else(|_| LOCALHOST.to_string());
        assert_eq!(my_ipv4(), udp);
    }

    #[test]
    fn loopback_routes_from_loopback() {
        // a route every Linux host has, whatever its network
        assert_eq!(route_source(Ipv4Addr::LOCALHOST), Some(Ipv4Addr::LOCALHOST));
    }
}
