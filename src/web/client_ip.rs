//! Which address a request comes from, for rate limits and logs.
//!
//! The socket peer, unless that peer is one of `server.trusted_proxies`: then the
//! right-most `X-Forwarded-For` address that is not itself a trusted proxy. A client that
//! talks to roomgate directly cannot move itself to another address with the header.
//!
//! IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`, what a dual-stack socket reports for an
//! IPv4 peer) are read as the IPv4 address they carry, so that a proxy or a client is the
//! same whichever way it arrives. Throttles key clients by [`budget_key`].

use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::{IpNet, Ipv6Net};

/// The client address of `req`, or `None` when the peer is unknown (test requests).
pub fn client_ip(req: &HttpRequest, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip().to_canonical();
    if !is_trusted(peer, trusted) {
        return Some(peer);
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in forwarded.iter().rev() {
        match hop.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
            Ok(ip) if is_trusted(ip, trusted) => continue,
            Ok(ip) => return Some(ip),
            // Garbage in the chain: stop believing it, count it against the proxy.
            Err(_) => return Some(peer),
        }
    }
    Some(peer)
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&ip))
}

/// The key under which `ip`'s budgets (rate limits) are counted: an IPv4 address as it
/// is, an IPv6 address cut to its first `ipv6_prefix_len` bits. One IPv6 subscriber is
/// usually given a whole /64 and can send each request from a new address in it.
pub fn budget_key(ip: IpAddr, ipv6_prefix_len: u8) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => Ipv6Net::new(v6, ipv6_prefix_len)
            // Only a length over 128 fails, which the settings refuse at start-up.
            .map_or(IpAddr::V6(v6), |net| IpAddr::V6(net.network())),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn request(peer: &str, xff: Option<&str>) -> HttpRequest {
        let peer = std::net::SocketAddr::new(peer.parse().unwrap(), 1234);
        let mut r = TestRequest::default().peer_addr(peer);
        if let Some(v) = xff {
            r = r.insert_header(("x-forwarded-for", v));
        }
        r.to_http_request()
    }

    #[test]
    fn an_untrusted_peer_cannot_claim_another_address() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        let ip = client_ip(&request("203.0.113.9", Some("1.2.3.4")), &trusted);
        assert_eq!(ip, Some("203.0.113.9".parse().unwrap()));
    }

    #[test]
    fn a_trusted_proxy_passes_the_client_on() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        let ip = client_ip(
            &request("10.0.0.2", Some("1.2.3.4, 198.51.100.7, 10.0.0.5")),
            &trusted,
        );
        assert_eq!(ip, Some("198.51.100.7".parse().unwrap()));
    }

    #[test]
    fn ipv4_mapped_peers_and_hops_are_ipv4() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        let ip = client_ip(
            &request("::ffff:10.0.0.2", Some("::ffff:198.51.100.7")),
            &trusted,
        );
        assert_eq!(ip, Some("198.51.100.7".parse().unwrap()));
        let ip = client_ip(&request("::ffff:203.0.113.9", None), &trusted);
        assert_eq!(ip, Some("203.0.113.9".parse().unwrap()));
    }

    #[test]
    fn budgets_are_per_ipv6_prefix_and_per_ipv4_address() {
        let key = |ip: &str, len| budget_key(ip.parse().unwrap(), len).to_string();
        assert_eq!(
            key("2001:db8:1:2:aaaa:bbbb:cccc:dddd", 64),
            "2001:db8:1:2::"
        );
        assert_eq!(key("2001:db8:1:2::1", 64), key("2001:db8:1:2:ffff::9", 64));
        assert_ne!(key("2001:db8:1:2::1", 64), key("2001:db8:1:3::1", 64));
        assert_eq!(key("2001:db8:1:2::1", 48), "2001:db8:1::");
        assert_eq!(key("2001:db8::1", 128), "2001:db8::1");
        // A mapped address is IPv4: not cut to a prefix that would lump a /64's worth of
        // the IPv4 internet together.
        assert_eq!(key("::ffff:198.51.100.7", 64), "198.51.100.7");
        assert_eq!(key("198.51.100.7", 64), "198.51.100.7");
    }

    #[test]
    fn a_garbage_header_counts_against_the_proxy() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        let ip = client_ip(&request("10.0.0.2", Some("not-an-ip")), &trusted);
        assert_eq!(ip, Some("10.0.0.2".parse().unwrap()));
    }
}
