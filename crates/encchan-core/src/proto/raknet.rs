//! RakNet (the offline messages of its connection handshake, as nDPI and
//! Wireshark recognize them): the 16-byte "offline message" magic, after
//! the message id (byte 1), after a ping's time (9) or a pong's time and
//! GUID (17), or after a 31-byte relay header and the id (32: Roblox's
//! game servers, which also renumber the ids).
//!
//! The magic names the application, nothing more: RakNet's own security
//! (a server key in the first reply) is not what these flows use, and what
//! follows the handshake is ciphertext under keys no message on the wire
//! exchanged. The datagrams after the handshake are measured, and
//! `symmetric_only` names `raknet`. What random bytes pass: 2⁻¹²⁸.

use super::{Datagram, Facts};
use crate::verdict::Protocol;

const MAGIC: [u8; 16] = [
    0x00, 0xff, 0xff, 0x00, 0xfe, 0xfe, 0xfe, 0xfe, 0xfd, 0xfd, 0xfd, 0xfd, 0x12, 0x34, 0x56, 0x78,
];

pub(crate) fn classify(d: &[u8]) -> Option<Datagram> {
    [1, 9, 17, 32]
        .into_iter()
        .any(|at| d.get(at..at + MAGIC.len()) == Some(&MAGIC[..]))
        .then_some(Datagram::new(Protocol::RakNet, Facts::FRAMING))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_magic_is_found_where_raknet_puts_it() {
        let mut ocr1 = [0u8; 64];
        ocr1[0] = 0x05;
        ocr1[1..17].copy_from_slice(&MAGIC);
        assert!(classify(&ocr1).is_some());
        let mut relayed = [0u8; 64];
        relayed[32..48].copy_from_slice(&MAGIC);
        assert!(classify(&relayed).is_some());
        assert!(classify(&[0u8; 64]).is_none());
        assert!(classify(&ocr1[..16]).is_none());
    }
}
