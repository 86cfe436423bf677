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
