//! Which address a request comes from, for rate limits and logs.
//!
//! The socket peer, unless that peer is one of `server.trusted_proxies`: then the
//! right-most `X-Forwarded-For` address that is not itself a trusted proxy. A client that
//! talks to roomgate directly cannot move itself to another address with the header.

use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;

/// The client address of `req`, or `None` when the peer is unknown (test requests).
pub fn client_ip(req: &HttpRequest, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
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
        match hop.parse::<IpAddr>() {
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

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn request(peer: &str, xff: Option<&str>) -> HttpRequest {
        let mut r = TestRequest::default().peer_addr(format!("{peer}:1234").parse().unwrap());
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
    fn a_garbage_header_counts_against_the_proxy() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        let ip = client_ip(&request("10.0.0.2", Some("not-an-ip")), &trusted);
        assert_eq!(ip, Some("10.0.0.2".parse().unwrap()));
    }
}
