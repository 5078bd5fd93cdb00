//! The client's address behind a reverse proxy. Behind Umbrel's app_proxy,
//! Caddy or nginx every connection comes from the proxy, so the per-address
//! sign-in limit would count every visitor as one (one stranger's guesses
//! would lock everyone out) and the audit log would name only the proxy.
//! `X-Forwarded-For` is believed only when the connection comes from an
//! address the operator listed in `http.trusted_proxies`; anyone else could
//! write any address into it.

use std::net::IpAddr;

/// Addresses or networks (`10.21.0.0/16`) whose `X-Forwarded-For` is
/// believed. Empty: the header is ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

/// The client address [`TrustedProxies::client`] decided for a request,
/// put in its extensions by the `Authenticate` middleware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl TrustedProxies {
    /// Reads a comma-separated list of IP addresses and CIDR networks.
    pub fn parse(text: &str) -> Result<TrustedProxies, String> {
        let mut networks = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let bad = || format!("{item:?} is not an IP address or a network such as 10.21.0.0/16");
            let (addr, prefix) = match item.split_once('/') {
                Some((addr, bits)) => (addr, Some(bits.parse::<u8>().map_err(|_| bad())?)),
                None => (item, None),
            };
            let addr: IpAddr = addr.parse().map_err(|_| bad())?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let prefix = prefix.unwrap_or(max);
            if prefix > max {
                return Err(bad());
            }
            networks.push((addr, prefix));
        }
        Ok(TrustedProxies(networks))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0
            .iter()
            .any(|(net, prefix)| within(ip, canonical(*net), *prefix))
    }

    /// Who the request is from: the peer itself, unless the peer is a
    /// trusted proxy; then the nearest address in `X-Forwarded-For` (read
    /// from the right, where each proxy appends) that is not one of ours.
    /// A hop that does not read as an address ends the walk at the last
    /// trusted one, since what lies left of it was written by the client.
    pub fn client<'a>(&self, peer: IpAddr, forwarded_for: impl Iterator<Item = &'a str>) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = forwarded_for
            .flat_map(|h| h.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = hop_address(hop) else { break };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

/// `1.2.3.4`, `1.2.3.4:5678`, `::1` or `[::1]:5678`.
fn hop_address(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok());
    }
    hop.rsplit_once(':').and_then(|(ip, _)| ip.parse().ok())
}

/// An IPv4 address as IPv6 (`::ffff:1.2.3.4`) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn within(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::TrustedProxies;
    use std::net::IpAddr;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    #[test]
    fn the_header_is_believed_only_from_a_trusted_peer() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("10.21.0.5"), ["203.0.113.9"].into_iter()),
            ip("10.21.0.5")
        );
        let umbrel = TrustedProxies::parse("10.21.0.0/16").expect("parse");
        assert_eq!(
            umbrel.client(ip("10.21.0.5"), ["203.0.113.9"].into_iter()),
            ip("203.0.113.9")
        );
        // A stranger connecting directly cannot choose their address.
        assert_eq!(
            umbrel.client(ip("198.51.100.7"), ["203.0.113.9"].into_iter()),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn the_nearest_untrusted_hop_is_the_client_and_forged_hops_are_ignored() {
        let proxies = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8").expect("parse");
        // The client wrote "1.1.1.1" itself; the proxies appended the rest.
        let hops = ["1.1.1.1, 203.0.113.9", "10.0.0.2"];
        assert_eq!(
            proxies.client(ip("127.0.0.1"), hops.into_iter()),
            ip("203.0.113.9")
        );
        assert_eq!(
            proxies.client(ip("127.0.0.1"), ["garbage, 10.0.0.3"].into_iter()),
            ip("10.0.0.3")
        );
        assert_eq!(
            proxies.client(ip("127.0.0.1"), std::iter::empty()),
            ip("127.0.0.1")
        );
        assert_eq!(
            proxies.client(ip("127.0.0.1"), ["[2001:db8::1]:443"].into_iter()),
            ip("2001:db8::1")
        );
        assert_eq!(
            proxies.client(ip("::ffff:10.1.2.3"), ["192.0.2.1:80"].into_iter()),
            ip("192.0.2.1")
        );
    }

    #[test]
    fn a_list_that_does_not_read_is_refused() {
        for bad in ["10.0.0.0/33", "localhost", "10.0.0.0/x", "::1/129"] {
            assert!(TrustedProxies::parse(bad).is_err(), "{bad}");
        }
        assert!(TrustedProxies::parse("").expect("empty").is_empty());
        assert!(TrustedProxies::parse(" ::1 , fd00::/8 ").is_ok());
    }
}
