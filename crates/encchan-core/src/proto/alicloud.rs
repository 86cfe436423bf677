//! AliCloud's agent protocol (nDPI's `AliCloud`, seen on TCP port 8999 to
//! Alibaba's cloud): frames of a 4-byte magic `ce fa be ba`, a 32-bit
//! little-endian body length, and the body.
//!
//! Each side's first frame is its half of a key exchange: the client's is a
//! 128-byte block, the size of an RSA-1024 ciphertext (a session key
//! wrapped for the server's public key: in the 15 flows of nDPI's capture
//! its first byte is never above `0xaa`, as encryption under a modulus
//! whose top byte is about that gives, where random blocks would pass with
//! 0.2 %), and the server answers it in the same framing. Both first frames
//! are hellos; the frames after them carry ciphertext under the wrapped
//! key, explained.
//!
//! What random bytes pass: the magic (2⁻³²) and a first length under
//! 64 KiB (2⁻¹⁶): 2⁻⁴⁸ per direction. Every later frame must start with the
//! magic too, or the framing breaks.

use super::app::{walk_window, AppWalker, Header};
use super::{Facts, Walker};
use crate::verdict::Protocol;

const MAGIC: [u8; 4] = [0xce, 0xfa, 0xbe, 0xba];

/// The longest first frame body accepted (the key block and its answer are
/// short).
const FIRST_MAX: u32 = 0xffff;

/// The frame header read so far (`state`: 0 before the first frame).
pub(crate) fn header(h: &[u8], state: &mut u8) -> Header {
    if h.len() <= MAGIC.len() {
        return if MAGIC.starts_with(h) {
            Header::More
        } else {
            Header::Bad
        };
    }
    let Some(len) = h.get(4..8) else {
        return Header::More;
    };
    let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]);
    let first = *state == 0;
    if len == 0 || (first && len > FIRST_MAX) || len > u32::MAX - 8 {
        return Header::Bad;
    }
    *state = 1;
    Header::Message {
        len: 8 + len,
        facts: if first { Facts::HELLO } else { Facts::KEYED },
        measure: false,
    }
}

/// The stream probe: a first frame header, and the frames after it as far
/// as the window goes.
pub(crate) fn probe(w: &[u8], _complete: bool) -> Option<Walker> {
    let len = u32::from_le_bytes(w.get(4..8)?.try_into().ok()?);
    (w.starts_with(&MAGIC)
        && (1..=FIRST_MAX).contains(&len)
        && walk_window(Protocol::AliCloud, w).is_some())
    .then(|| AppWalker::new(Protocol::AliCloud).into())
}

#[cfg(test)]
mod tests {
    use super::super::app::tests::walk_app;
    use super::super::Next;
    use super::*;
    use crate::verdict::MalformReason;

    fn frame(body: &[u8]) -> [u8; 8] {
        let mut h = [0u8; 8];
        h[..4].copy_from_slice(&MAGIC);
        h[4..].copy_from_slice(&(body.len() as u32).to_le_bytes());
        h
    }

    #[test]
    fn frames_are_walked_and_the_first_is_a_hello() {
        let key_block = [0x5au8; 128];
        let data = [0x33u8; 208];
        let stream = [&frame(&key_block)[..], &key_block, &frame(&data), &data].concat();
        assert!(probe(&stream[..64], false).is_some());
        let (end, next, measured, facts) = walk_app(Protocol::AliCloud, &stream);
        assert_eq!(
            (end, next, measured),
            (stream.len() as u64, Next::Continue, 0)
        );
        assert!(facts.has(Facts::HELLO) && facts.has(Facts::KEYED));
        // A frame without the magic breaks the framing where it starts.
        let broken = [&stream[..], b"\xce\xfa\x00\x00"].concat();
        let at = stream.len() as u64 + 2;
        let (end, next, _, _) = walk_app(Protocol::AliCloud, &broken);
        assert_eq!(
            (end, next),
            (at + 1, Next::Broken(MalformReason::BadMessage, at))
        );
    }

    #[test]
    fn random_bytes_and_other_magics_are_not_alicloud() {
        assert!(probe(b"\xce\xfa\xbe\xba\x00\x00\x01\x00", false).is_none());
        assert!(probe(b"\xba\xbe\xfa\xce\x80\x00\x00\x00", false).is_none());
        assert!(probe(b"\xce\xfa\xbe", true).is_none());
        // A second frame inside the window without the magic.
        let mut w = [0u8; 64];
        w[..8].copy_from_slice(&frame(&[0; 16]));
        assert!(probe(&w, false).is_none());
        w[24..32].copy_from_slice(&frame(&[0; 32]));
        assert!(probe(&w, false).is_some());
    }
}
