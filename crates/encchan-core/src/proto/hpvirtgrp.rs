//! What nDPI names HP Virtual Machine Group Management (`HP_VIRTGRP`; its
//! capture runs to TCP port 5223 of a cloud provider): messages of a type
//! byte and a 16-bit big-endian length that counts the whole message.
//!
//! The exchange opens with two fixed-size messages: the client's `16 00 84
//! 00` and a 128-byte block (an RSA-1024 ciphertext's size: a session key
//! wrapped for the server), the server's answer `17 00 34 00` and 48 bytes
//! (a 16-byte session id that the server's later messages repeat, and 32
//! bytes). Both are hellos; the messages after them (type `30` in the
//! capture) carry ciphertext under the wrapped key, explained.
//!
//! What random bytes pass: a first message needs 4 fixed bytes (2⁻³² per
//! direction); other sizes of the opening messages are not recognized.

use super::app::{AppWalker, Header};
use super::{Facts, Walker};
use crate::verdict::Protocol;

/// The client's key message and the server's answer: their first 4 bytes
/// (type, length, a zero byte).
const CLIENT_HELLO: [u8; 4] = [0x16, 0x00, 0x84, 0x00];
const SERVER_HELLO: [u8; 4] = [0x17, 0x00, 0x34, 0x00];

/// The message header read so far (`state`: 0 before the first message).
pub(crate) fn header(h: &[u8], state: &mut u8) -> Header {
    if h.is_empty() {
        return Header::More;
    }
    if *state == 0 {
        let hello = [CLIENT_HELLO, SERVER_HELLO]
            .into_iter()
            .find(|m| m.starts_with(h));
        return match hello {
            None => Header::Bad,
            Some(_) if h.len() < 4 => Header::More,
            Some(m) => {
                *state = 1;
                Header::Message {
                    len: u16::from_be_bytes([m[1], m[2]]) as u32,
                    facts: Facts::HELLO,
                    measure: false,
                }
            }
        };
    }
    // Later messages: any type, a length that covers at least the header.
    match h.len() {
        1 | 2 => Header::More,
        _ => match u16::from_be_bytes([h[1], h[2]]) {
            len if len > 3 => Header::Message {
                len: len as u32,
                facts: Facts::KEYED,
                measure: false,
            },
            _ => Header::Bad,
        },
    }
}

/// The stream probe: a window that opens with either first message.
pub(crate) fn probe(w: &[u8], _complete: bool) -> Option<Walker> {
    (w.starts_with(&CLIENT_HELLO) || w.starts_with(&SERVER_HELLO))
        .then(|| AppWalker::new(Protocol::HpVirtGrp).into())
}

#[cfg(test)]
mod tests {
    use super::super::app::tests::walk_app;
    use super::super::Next;
    use super::*;

    #[test]
    fn both_openings_are_hellos_and_later_messages_are_walked() {
        let mut client = [0x61u8; 132 + 35];
        client[..4].copy_from_slice(&CLIENT_HELLO);
        client[132..135].copy_from_slice(&[0x30, 0x00, 0x23]);
        let mut server = [0x62u8; 52 + 35];
        server[..4].copy_from_slice(&SERVER_HELLO);
        server[52..55].copy_from_slice(&[0x30, 0x00, 0x23]);
        for side in [&client[..], &server[..]] {
            assert!(probe(&side[..side.len().min(64)], false).is_some());
            let (end, next, measured, facts) = walk_app(Protocol::HpVirtGrp, side);
            assert_eq!(
                (end, next, measured),
                (side.len() as u64, Next::Continue, 0)
            );
            assert!(facts.has(Facts::HELLO) && facts.has(Facts::KEYED));
        }
    }

    #[test]
    fn other_openings_are_not_recognized() {
        assert!(probe(b"\x16\x00\x85\x00", false).is_none());
        assert!(probe(b"\x16\x03\x01\x00\x84", false).is_none());
        assert!(probe(b"\x17\x00\x34\x01", false).is_none());
    }
}
