//! imo.im's calls (nDPI's `IMO`): datagrams of a big-endian base-128
//! length (7 bits a byte, the high bit set on all but the last byte) that
//! counts the rest of the datagram, then a message type; the server's
//! datagrams start with a zero byte before the length. Two messages are
//! fixed enough to name the application:
//!
//! * the server's 11-byte keepalive: `00`, length 9, type `03`;
//! * the client's media datagrams: a two-byte length, then type `1a` and a
//!   zero byte.
//!
//! The messages after the type (`0d` with a 16-bit sequence number, `1a`
//! with a timestamp) carry ciphertext under keys the app's signaling
//! handed out, in another flow: no key exchange on the wire. The name
//! explains nothing: the datagrams are measured, and `symmetric_only` names
//! `imo`.
//!
//! Uniformly random bytes pass with probability 2⁻²⁴ at exactly 11 bytes
//! (the keepalive), or 2⁻¹⁴ (a two-byte length equal to the rest) · 2⁻¹⁶
//! (`1a 00`) = 2⁻³⁰ (a media datagram, 130 to 16,385 bytes).

use super::{Datagram, Facts};
use crate::verdict::Protocol;

pub(crate) fn classify(d: &[u8]) -> Option<Datagram> {
    let keepalive = d.len() == 11 && d.starts_with(&[0x00, 0x09, 0x03]);
    let media = match d {
        [hi, lo, 0x1a, 0x00, ..] if hi & 0x80 != 0 && lo & 0x80 == 0 => {
            usize::from(hi & 0x7f) << 7 | usize::from(*lo)
        }
        _ => 0,
    };
    (keepalive || (media >= 128 && media + 2 == d.len()))
        .then_some(Datagram::new(Protocol::Imo, Facts::FRAMING))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalive_and_media_from_the_captures() {
        // imo.pcap, 185.155.137.30:36535 -> 192.168.12.169:49207.
        let keepalive = [0x00, 0x09, 0x03, 0x21, 0x9a, 0x02, 0, 0, 0, 0, 0];
        assert!(classify(&keepalive).is_some());
        assert!(classify(&keepalive[..10]).is_none());
        // The client's 1224-byte media datagram: 0x89 0x46 is 1222.
        let mut media = [0x5au8; 1224];
        media[..4].copy_from_slice(&[0x89, 0x46, 0x1a, 0x00]);
        assert!(classify(&media).is_some());
        assert!(classify(&media[..1223]).is_none());
        // A one-byte length is too loose to name anything.
        let short = [0x08, 0x1a, 0x00, 0, 0, 0, 0, 0, 0, 0];
        assert!(classify(&short).is_none());
        media[2] = 0x0d;
        assert!(classify(&media).is_none());
    }
}
