//! STUN/TURN (RFC 8489 §5): two zero bits, a length that fits the datagram
//! in 4-byte units, and the magic cookie.
//!
//! Uniformly random bytes pass with probability 1/4 (the two bits) · 2⁻³²
//! (the cookie) · 2⁻¹⁶ (a length equal to the rest of the datagram) =
//! 2⁻⁵⁰. Classic STUN (RFC 3489, no cookie) is not recognized: its header
//! is a type, a length and 16 random bytes.

use super::{be16, be32, Datagram, Facts};
use crate::verdict::Protocol;

const MAGIC_COOKIE: u32 = 0x2112_a442;

pub(crate) fn classify(d: &[u8]) -> Option<Datagram> {
    if d.len() < 20 || d[0] & 0xc0 != 0 || be32(d, 4)? != MAGIC_COOKIE {
        return None;
    }
    let len = be16(d, 2)? as usize;
    (len % 4 == 0 && 20 + len == d.len()).then_some(Datagram::new(Protocol::Stun, Facts::FRAMING))
}

#[cfg(test)]
mod tests {
    use super::*;

    // ndpi/pcap/stun.pcap #0: a Binding Request, whole.
    const BINDING_REQUEST: &[u8] = &[
        0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 0x53, 0x48, 0x6b, 0x68, 0x46, 0x38, 0x6f,
        0x64, 0x77, 0x67, 0x79, 0x56,
    ];

    #[test]
    fn a_binding_request_from_the_captures() {
        assert!(classify(BINDING_REQUEST).is_some());
        let mut other = [0u8; 20];
        other.copy_from_slice(BINDING_REQUEST);
        other[7] ^= 1;
        assert_eq!(classify(&other), None, "the magic cookie");
        assert_eq!(classify(&BINDING_REQUEST[..19]), None);
    }
}
