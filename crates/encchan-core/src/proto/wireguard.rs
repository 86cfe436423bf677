//! WireGuard messages (whitepaper §5.4): a type byte, three zero bytes, and a
//! fixed length per type; transport data is 16-byte aligned.

use super::{Datagram, Facts};
use crate::verdict::Protocol;

pub(crate) fn classify(d: &[u8]) -> Option<Datagram> {
    if d.len() < 32 || d[1..4] != [0, 0, 0] {
        return None;
    }
    let facts = match (d[0], d.len()) {
        (1, 148) | (2, 92) => Facts::HELLO | Facts::FRAMING,
        (3, 64) => Facts::FRAMING,
        (4, n) if n >= 32 && (n - 16) % 16 == 0 => Facts::FRAMING | Facts::KEYED,
        _ => return None,
    };
    Some(Datagram::new(Protocol::WireGuard, facts))
}
