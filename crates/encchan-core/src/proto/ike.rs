//! IKEv1/IKEv2 (ISAKMP header, RFC 2408 §3.1, RFC 7296 §3.1), with the
//! 4-byte non-ESP marker used on UDP 4500 (RFC 3948).
//!
//! Uniformly random bytes pass with probability 2⁻³² (the 32-bit length
//! equals the datagram's) · 2/256 (major version 1 or 2) · ~6/256 (an
//! exchange type of that version) ≈ 2⁻⁴⁵.

use super::{be32, Datagram, Facts};
use crate::verdict::Protocol;

pub(crate) fn classify(d: &[u8]) -> Option<Datagram> {
    // NAT-T: a zero marker precedes IKE; otherwise the first 4 bytes are an
    // ESP SPI, which is never zero.
    let ike = if d.len() >= 4 && d[..4] == [0, 0, 0, 0] {
        &d[4..]
    } else {
        d
    };
    if ike.len() < 28 {
        return None;
    }
    let version = ike[17];
    let exchange = ike[18];
    let length = be32(ike, 24)? as usize;
    if length != ike.len() || ike[..8] == [0; 8] {
        return None;
    }
    let facts = match version {
        // IKEv2: IKE_SA_INIT is the key exchange; later exchanges are
        // encrypted (SK payload).
        0x20 => match exchange {
            34 => Facts::HELLO | Facts::FRAMING,
            35..=37 | 43 => Facts::FRAMING | Facts::KEYED,
            _ => return None,
        },
        // IKEv1: main/aggressive mode carry the exchange; quick mode and
        // informational are protected.
        0x10 => match exchange {
            1..=4 => Facts::HELLO | Facts::FRAMING,
            5 | 32 | 33 => Facts::FRAMING | Facts::KEYED,
            _ => return None,
        },
        _ => return None,
    };
    Some(Datagram::new(Protocol::Ike, facts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::testing::Packet;

    // ndpi/pcap/esp.pcapng #0 and #1: IKEv2 IKE_SA_INIT request and
    // response (their 28-byte headers; 358 bytes each).
    const SA_INIT_REQUEST: &[u8] = &[
        0x05, 0xac, 0x0f, 0x4d, 0x12, 0x20, 0x13, 0xf4, 0, 0, 0, 0, 0, 0, 0, 0, 0x21, 0x20, 0x22,
        0x08, 0, 0, 0, 0, 0, 0, 0x01, 0x66,
    ];
    const SA_INIT_RESPONSE: &[u8] = &[
        0x05, 0xac, 0x0f, 0x4d, 0x12, 0x20, 0x13, 0xf4, 0x5f, 0x46, 0xee, 0x70, 0xbc, 0x4c, 0x5d,
        0x0d, 0x21, 0x20, 0x22, 0x20, 0, 0, 0, 0, 0, 0, 0x01, 0x66,
    ];

    #[test]
    fn ike_sa_init_from_the_captures() {
        let hello = Some(Datagram::new(Protocol::Ike, Facts::HELLO | Facts::FRAMING));
        for head in [SA_INIT_REQUEST, SA_INIT_RESPONSE] {
            assert_eq!(classify(Packet::new(head, 358).bytes()), hello);
            // The header's length is the datagram's.
            assert_eq!(classify(Packet::new(head, 357).bytes()), None);
        }
        // Behind the NAT-T marker.
        let mut marked = [0u8; 32];
        marked[4..].copy_from_slice(SA_INIT_REQUEST);
        assert_eq!(classify(Packet::new(&marked, 362).bytes()), hello);
    }
}
