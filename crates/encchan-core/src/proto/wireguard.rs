//! WireGuard messages (whitepaper §5.4): a type byte, three reserved bytes
//! that are zero, and a fixed length per type: handshake initiation (1,
//! 148 bytes), response (2, 92), cookie reply (3, 64), transport data (4:
//! 16 header bytes and a 16-byte tag around a payload padded to 16 bytes,
//! so at least 32 bytes and a multiple of 16).
//!
//! **Reserved bytes that are not zero** are not WireGuard. Protocols
//! derived from it (AmneziaWG and others like it) put other values in the
//! first four bytes, or pad and shift its messages, to stay out of reach
//! of exactly this check: their handshake is not WireGuard's on the wire,
//! so the engine does not vouch for it. Such a flow is named by no row
//! (QUIC's opener needs a 1200-byte Initial with a whole long header, see
//! [`super::quic`]) and its ciphertext is measured like any unexplained
//! bytes: `symmetric_only`, as for any tunnel whose key exchange is not on
//! the wire in a form the engine knows.
//!
//! Uniformly random bytes pass with probability 4/256 (type) · 2⁻²⁴
//! (reserved bytes) ≈ 2⁻³⁰, for a transport length that is a multiple of
//! 16 (1/16 of random lengths), and only at 148, 92 or 64 bytes for the
//! other types.

use super::{Datagram, Facts};
use crate::verdict::Protocol;

/// The message types, with their fixed sizes.
const INITIATION: (u8, usize) = (1, 148);
const RESPONSE: (u8, usize) = (2, 92);
const COOKIE_REPLY: (u8, usize) = (3, 64);
const TRANSPORT: u8 = 4;
/// Transport data: type, reserved, receiver index, counter, then the AEAD
/// tag of an empty keepalive at least.
const MIN_TRANSPORT: usize = 16 + 16;

pub(crate) fn classify(d: &[u8]) -> Option<Datagram> {
    if d.len() < MIN_TRANSPORT || d[1..4] != [0, 0, 0] {
        return None;
    }
    let facts = match (d[0], d.len()) {
        INITIATION | RESPONSE => Facts::HELLO | Facts::FRAMING,
        COOKIE_REPLY => Facts::FRAMING,
        (TRANSPORT, n) if n % 16 == 0 => Facts::FRAMING | Facts::KEYED,
        _ => return None,
    };
    Some(Datagram::new(Protocol::WireGuard, facts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::testing::Packet;

    // ndpi/pcap/wireguard.pcap #0 (initiation), #1 (response), #2
    // (transport data); protonvpn.pcap's 32-byte keepalive. The sender and
    // receiver indexes follow the type; the rest is filler.
    const INITIATION_HEAD: &[u8] = &[0x01, 0, 0, 0, 0xd8, 0x37, 0xd0, 0x30];
    const RESPONSE_HEAD: &[u8] = &[
        0x02, 0, 0, 0, 0x06, 0xf4, 0x7d, 0xab, 0xd8, 0x37, 0xd0, 0x30,
    ];
    const TRANSPORT_HEAD: &[u8] = &[
        0x04, 0, 0, 0, 0x06, 0xf4, 0x7d, 0xab, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    const KEEPALIVE_HEAD: &[u8] = &[
        0x04, 0, 0, 0, 0x5a, 0x80, 0xd2, 0x4e, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    // No capture has one: the whitepaper's layout (receiver index, 24-byte
    // nonce, 32-byte encrypted cookie).
    const COOKIE_REPLY_HEAD: &[u8] = &[0x03, 0, 0, 0, 0xd8, 0x37, 0xd0, 0x30];

    fn facts(head: &[u8], len: usize) -> Option<u8> {
        classify(Packet::new(head, len).bytes()).map(|g| g.facts)
    }

    #[test]
    fn messages_from_the_captures() {
        let hello = Some(Facts::HELLO | Facts::FRAMING);
        let keyed = Some(Facts::FRAMING | Facts::KEYED);
        assert_eq!(facts(INITIATION_HEAD, 148), hello);
        assert_eq!(facts(RESPONSE_HEAD, 92), hello);
        assert_eq!(facts(COOKIE_REPLY_HEAD, 64), Some(Facts::FRAMING));
        assert_eq!(facts(TRANSPORT_HEAD, 128), keyed);
        assert_eq!(facts(KEEPALIVE_HEAD, 32), keyed);
    }

    #[test]
    fn each_type_has_its_length() {
        assert_eq!(facts(INITIATION_HEAD, 147), None);
        assert_eq!(facts(INITIATION_HEAD, 164), None);
        assert_eq!(facts(RESPONSE_HEAD, 148), None);
        assert_eq!(facts(COOKIE_REPLY_HEAD, 80), None);
        assert_eq!(facts(TRANSPORT_HEAD, 16), None);
        assert_eq!(facts(TRANSPORT_HEAD, 129), None);
        assert_eq!(facts(&[0x05, 0, 0, 0], 128), None);
    }

    /// A derived protocol that keeps the layout and sets the reserved
    /// bytes, or moves the type into the high bit: no row names it.
    #[test]
    fn reserved_bytes_that_are_not_zero_are_not_wireguard_nor_anything() {
        use crate::proto::testing::Sides;
        for head in [
            &[0x01, 0x00, 0x00, 0x01][..],
            &[0x01, 0x9c, 0x3e, 0x71],
            &[0x04, 0x00, 0x80, 0x00],
            &[0x81, 0x51, 0x30, 0x34],
            &[0xc4, 0x00, 0x00, 0x00],
        ] {
            for len in [148, 92, 64, 128, 1280] {
                let p = Packet::new(head, len);
                assert_eq!(classify(p.bytes()), None, "{head:x?} {len}");
                let mut sides = Sides::default();
                let all = sides.judge(crate::proto::recognize, 0, p.bytes());
                assert_eq!(all, crate::proto::Judgement::No, "{head:x?} {len}");
            }
        }
    }
}
