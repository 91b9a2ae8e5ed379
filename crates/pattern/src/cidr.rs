//! IPv4 and IPv6 addresses and CIDR blocks for ISSUBSET / ISSUPERSET. It owns parsing
//! and containment; nothing else.

use std::net::IpAddr;
use std::str::FromStr;

/// An address block: an address and a prefix length (a plain address is a full-length
/// block). Host bits are kept as written; containment masks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNet {
    /// The address bits, IPv4 in the low 32 bits.
    pub bits: u128,
    /// Prefix length.
    pub prefix: u8,
    /// True for IPv6.
    pub v6: bool,
}

impl IpNet {
    /// Parses `a.b.c.d`, `a.b.c.d/n`, an IPv6 address, or `addr/n` for IPv6.
    pub fn parse(s: &str) -> Option<IpNet> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                (a, Some(p.parse::<u8>().ok()?))
            }
            Some(_) => return None,
            None => (s, None),
        };
        let (bits, v6) = match IpAddr::from_str(addr).ok()? {
            IpAddr::V4(a) => (u128::from(u32::from(a)), false),
            IpAddr::V6(a) => (u128::from(a), true),
        };
        let max = if v6 { 128 } else { 32 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(IpNet { bits, prefix, v6 })
    }

    fn width(&self) -> u32 {
        if self.v6 {
            128
        } else {
            32
        }
    }

    /// The address bits with host bits cleared, left-aligned in 128 bits (for tries).
    pub fn network_key(&self) -> u128 {
        let aligned = self.bits << (128 - self.width());
        if self.prefix == 0 {
            0
        } else {
            aligned & (u128::MAX << (128 - u32::from(self.prefix)))
        }
    }

    /// True when every address of `self` lies inside `outer` (same family only).
    pub fn is_subset_of(&self, outer: &IpNet) -> bool {
        self.v6 == outer.v6
            && outer.prefix <= self.prefix
            && IpNet {
                prefix: outer.prefix,
                ..*self
            }
            .network_key()
                == outer.network_key()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containment_masks_host_bits() {
        let ip = IpNet::parse("11.22.41.123").unwrap();
        let net = IpNet::parse("11.22.33.44/20").unwrap();
        assert!(ip.is_subset_of(&net));
        assert!(!IpNet::parse("11.22.123.41").unwrap().is_subset_of(&net));
        assert!(!net.is_subset_of(&IpNet::parse("11.22.33.44/29").unwrap()));
        let v6 = IpNet::parse("2001:db8:dead:beef::1").unwrap();
        assert!(
            v6.is_subset_of(&IpNet::parse("2001:0db8:dead:beef:0000:0000:0000:0000/64").unwrap())
        );
        assert!(!v6.is_subset_of(&net));
        assert_eq!(IpNet::parse("1.2.3.4/33"), None);
        assert_eq!(IpNet::parse("hello"), None);
    }
}
