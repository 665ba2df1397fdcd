//! Which IP addresses count as public: the one deny-list of non-public ranges that every
//! outbound request to a destination chosen by outsiders is checked against, on the URL's
//! literal and on every address a host name resolves to.
//!
//! The ranges are IANA's special-purpose registries (RFC 6890 and its updates) plus the
//! deprecated ones that still route somewhere internal on some networks (site-local,
//! IPv4-compatible IPv6, 6to4). For IPv6 everything outside global unicast `2000::/3` is
//! refused as well, so an address range IANA has not allocated yet cannot slip through.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Non-public IPv4 ranges: (network, prefix length, what it is).
const V4_RANGES: &[(Ipv4Addr, u8, &str)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8, "\"this network\" 0.0.0.0/8"),
    (Ipv4Addr::new(10, 0, 0, 0), 8, "private 10.0.0.0/8"),
    (
        Ipv4Addr::new(100, 64, 0, 0),
        10,
        "shared (carrier-grade NAT) 100.64.0.0/10",
    ),
    (Ipv4Addr::new(127, 0, 0, 0), 8, "loopback 127.0.0.0/8"),
    (
        Ipv4Addr::new(169, 254, 0, 0),
        16,
        "link-local 169.254.0.0/16",
    ),
    (Ipv4Addr::new(172, 16, 0, 0), 12, "private 172.16.0.0/12"),
    (
        Ipv4Addr::new(192, 0, 0, 0),
        24,
        "IETF protocol assignments 192.0.0.0/24",
    ),
    (
        Ipv4Addr::new(192, 0, 2, 0),
        24,
        "documentation 192.0.2.0/24",
    ),
    (
        Ipv4Addr::new(192, 88, 99, 0),
        24,
        "6to4 relay 192.88.99.0/24",
    ),
    (Ipv4Addr::new(192, 168, 0, 0), 16, "private 192.168.0.0/16"),
    (
        Ipv4Addr::new(198, 18, 0, 0),
        15,
        "benchmarking 198.18.0.0/15",
    ),
    (
        Ipv4Addr::new(198, 51, 100, 0),
        24,
        "documentation 198.51.100.0/24",
    ),
    (
        Ipv4Addr::new(203, 0, 113, 0),
        24,
        "documentation 203.0.113.0/24",
    ),
    (Ipv4Addr::new(224, 0, 0, 0), 4, "multicast 224.0.0.0/4"),
    (
        Ipv4Addr::new(255, 255, 255, 255),
        32,
        "broadcast 255.255.255.255",
    ),
    (Ipv4Addr::new(240, 0, 0, 0), 4, "reserved 240.0.0.0/4"),
];

/// Non-public IPv6 ranges (IPv4-mapped `::ffff:0:0/96` is judged by its IPv4 address
/// before these are looked at).
const V6_RANGES: &[(Ipv6Addr, u8, &str)] = &[
    (Ipv6Addr::UNSPECIFIED, 128, "unspecified ::"),
    (Ipv6Addr::LOCALHOST, 128, "loopback ::1"),
    (Ipv6Addr::UNSPECIFIED, 96, "IPv4-compatible ::/96"),
    (
        Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0),
        96,
        "NAT64 64:ff9b::/96",
    ),
    (
        Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0),
        48,
        "local NAT64 64:ff9b:1::/48",
    ),
    (
        Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0),
        64,
        "discard-only 100::/64",
    ),
    (
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
        32,
        "documentation 2001:db8::/32",
    ),
    (
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        23,
        "IETF protocol assignments 2001::/23 (Teredo, benchmarking, ORCHID, …)",
    ),
    // 6to4 tunnels a public IPv4 address at best, through relays that RFC 7526 deprecated;
    // no receiver needs it, and refusing the whole range spares judging the embedded
    // address.
    (
        Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0),
        16,
        "6to4 2002::/16",
    ),
    (
        Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
        20,
        "documentation 3fff::/20",
    ),
    (
        Ipv6Addr::new(0x5f00, 0, 0, 0, 0, 0, 0, 0),
        16,
        "segment routing 5f00::/16",
    ),
    (
        Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0),
        7,
        "unique local fc00::/7",
    ),
    (
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0),
        10,
        "link-local fe80::/10",
    ),
    (
        Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0),
        10,
        "site-local fec0::/10",
    ),
    (
        Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0),
        8,
        "multicast ff00::/8",
    ),
];

/// The non-public range `ip` falls in, named; `None` for a public, globally routable
/// address. This is the only place that decides.
pub fn non_public_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            V4_RANGES
                .iter()
                .find(|(net, len, _)| prefix_matches_v4(bits, u32::from(*net), *len))
                .map(|(_, _, name)| *name)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return non_public_range(IpAddr::V4(v4));
            }
            let bits = u128::from(v6);
            if let Some((_, _, name)) = V6_RANGES
                .iter()
                .find(|(net, len, _)| prefix_matches_v6(bits, u128::from(*net), *len))
            {
                return Some(name);
            }
            // Only 2000::/3 is allocated for global unicast.
            (v6.segments()[0] & 0xe000 != 0x2000).then_some("outside global unicast 2000::/3")
        }
    }
}

/// Whether the public internet can reach `ip` (see [`non_public_range`]).
pub fn is_public(ip: IpAddr) -> bool {
    non_public_range(ip).is_none()
}

fn prefix_matches_v4(bits: u32, net: u32, len: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    bits & mask == net & mask
}

fn prefix_matches_v6(bits: u128, net: u128, len: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    bits & mask == net & mask
}

#[cfg(test)]
mod tests {
    use super::{is_public, non_public_range};
    use std::net::IpAddr;

    fn ip(text: &str) -> IpAddr {
        text.parse()
            .unwrap_or_else(|_| panic!("{text} is not an address"))
    }

    /// Every listed range by its first and last address, and what it must be called.
    #[test]
    fn every_non_public_range_is_refused_from_its_first_to_its_last_address() {
        let cases = [
            ("0.0.0.0", "0.255.255.255", "0.0.0.0/8"),
            ("10.0.0.0", "10.255.255.255", "10.0.0.0/8"),
            ("100.64.0.0", "100.127.255.255", "100.64.0.0/10"),
            ("127.0.0.0", "127.255.255.255", "127.0.0.0/8"),
            ("169.254.0.0", "169.254.255.255", "169.254.0.0/16"),
            ("172.16.0.0", "172.31.255.255", "172.16.0.0/12"),
            ("192.0.0.0", "192.0.0.255", "192.0.0.0/24"),
            ("192.0.2.0", "192.0.2.255", "192.0.2.0/24"),
            ("192.88.99.0", "192.88.99.255", "192.88.99.0/24"),
            ("192.168.0.0", "192.168.255.255", "192.168.0.0/16"),
            ("198.18.0.0", "198.19.255.255", "198.18.0.0/15"),
            ("198.51.100.0", "198.51.100.255", "198.51.100.0/24"),
            ("203.0.113.0", "203.0.113.255", "203.0.113.0/24"),
            ("224.0.0.0", "239.255.255.255", "224.0.0.0/4"),
            ("240.0.0.0", "255.255.255.254", "240.0.0.0/4"),
            ("255.255.255.255", "255.255.255.255", "255.255.255.255"),
            ("::", "::", "unspecified"),
            ("::1", "::1", "loopback ::1"),
            ("::2", "::ffff:ffff", "::/96"),
            ("::ffff:0.0.0.0", "::ffff:0.255.255.255", "0.0.0.0/8"),
            ("::ffff:127.0.0.0", "::ffff:127.255.255.255", "127.0.0.0/8"),
            ("::ffff:10.0.0.0", "::ffff:10.255.255.255", "10.0.0.0/8"),
            (
                "::ffff:198.18.0.0",
                "::ffff:198.19.255.255",
                "198.18.0.0/15",
            ),
            ("64:ff9b::", "64:ff9b::ffff:ffff", "64:ff9b::/96"),
            (
                "64:ff9b:1::",
                "64:ff9b:1:ffff:ffff:ffff:ffff:ffff",
                "64:ff9b:1::/48",
            ),
            ("100::", "100::ffff:ffff:ffff:ffff", "100::/64"),
            (
                "2001::",
                "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff",
                "2001::/23",
            ),
            ("2001:0:4136:e378::1", "2001:0:ffff::1", "2001::/23"), // Teredo
            ("2001:2::", "2001:2:0:ffff:ffff:ffff:ffff:ffff", "2001::/23"), // benchmarking
            (
                "2001:10::",
                "2001:2f:ffff:ffff:ffff:ffff:ffff:ffff",
                "2001::/23",
            ), // ORCHID(v2)
            (
                "2001:db8::",
                "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
                "2001:db8::/32",
            ),
            (
                "2002::",
                "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                "2002::/16",
            ),
            ("2002:c0a8:101::1", "2002:808:808::1", "2002::/16"), // 6to4 of 192.168.1.1, 8.8.8.8
            (
                "3fff::",
                "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff",
                "3fff::/20",
            ),
            (
                "5f00::",
                "5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                "5f00::/16",
            ),
            (
                "fc00::",
                "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                "fc00::/7",
            ),
            (
                "fe80::",
                "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                "fe80::/10",
            ),
            (
                "fec0::",
                "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                "fec0::/10",
            ),
            (
                "ff00::",
                "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                "ff00::/8",
            ),
            // Not allocated for global unicast (IPv4-translated, unassigned space).
            ("::ffff:0:0:0", "1fff::1", "2000::/3"),
            ("4000::", "e000::1", "2000::/3"),
        ];
        for (first, last, range) in cases {
            for address in [first, last] {
                let found = non_public_range(ip(address));
                assert!(
                    found.is_some_and(|name| name.contains(range)),
                    "{address}: expected {range}, got {found:?}"
                );
            }
        }
    }

    /// The addresses just outside each range (and well-known public ones) are public:
    /// the ranges are no wider than they should be.
    #[test]
    fn addresses_next_to_the_ranges_are_public() {
        for address in [
            "1.0.0.0",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "169.255.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "191.255.255.255",
            "192.0.1.0",
            "192.0.3.0",
            "192.88.98.255",
            "192.88.100.0",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "198.51.99.255",
            "198.51.101.0",
            "203.0.112.255",
            "203.0.114.0",
            "223.255.255.255",
            "8.8.8.8",
            "1.1.1.1",
            "::ffff:8.8.8.8",
            "::ffff:1.1.1.1",
            "2000::",
            "2001:200::",
            "2001:4860:4860::8888",
            "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff",
            "2001:db9::",
            "2003::",
            "2606:4700:4700::1111",
            "2a00:1450:4001::1",
            "3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "3fff:1000::",
        ] {
            assert!(
                is_public(ip(address)),
                "{address} refused as {:?}",
                non_public_range(ip(address))
            );
        }
    }

    /// The addresses of the security review (V6 and its attack table rows 39 and 41), as
    /// addresses; their URL spellings are checked by `parse_subscriber_url`'s tests.
    #[test]
    fn the_reviews_addresses_are_refused() {
        for address in [
            "127.0.0.1",
            "0.0.0.0",
            "0.0.0.1",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:7f00:1",
            "0:0:0:0:0:ffff:127.0.0.1",
            "::",
            "169.254.169.254",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "fd00::1",
            "64:ff9b::7f00:1",
            "::127.0.0.1",
            "fec0::1",
            "198.18.0.1",
        ] {
            assert!(!is_public(ip(address)), "{address} counted as public");
        }
    }
}
