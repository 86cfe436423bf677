//! WhatsApp's chat protocol (TCP, ports 443 and 5222; as the open
//! implementations whatsmeow and Baileys document it): a prologue, then
//! frames of a 24-bit big-endian length, the first of each side a Noise
//! `XX`/`IK` handshake message (`Noise_XX_25519_AESGCM_SHA256`) in a
//! protobuf `HandshakeMessage`.
//!
//! | side | bytes |
//! |---|---|
//! | client | [`ED 00 01`, a 24-bit length, edge-routing data], `WA` and two version bytes, then a frame with `clientHello` (field 2) whose `ephemeral` (field 1) is a 32-byte X25519 public key: `12 len 0a 20 …`; then `clientFinish` and ciphertext frames |
//! | server | a frame with `serverHello` (field 3): `1a len 0a 20` and its 32-byte ephemeral key, then its encrypted static key (`12 30`: 48 bytes) and payload; then ciphertext frames |
//!
//! Each side's hello frame carries an ephemeral public key: a key exchange,
//! its hello. The frames after it carry AES-GCM ciphertext, explained.
//!
//! What random bytes pass: a client needs the 4-byte `ED 00 01` or `WA`
//! prologue (2⁻³² or about 2⁻²⁸), then a hello frame whose lengths nest
//! exactly; a server a zero byte, `1a`, a field length that fills the frame
//! exactly, `0a 20`, and `12 30` 32 bytes later (< 2⁻⁴⁸).

use super::app::{walk_window, AppWalker, Header};
use super::{Facts, Walker};
use crate::verdict::Protocol;

// Walker states.
const START: u8 = 0;
const CONN_HEADER: u8 = 1;
const CLIENT_HELLO: u8 = 2;
const FRAMES: u8 = 3;

const ROUTING: [u8; 4] = *b"ED\x00\x01";

/// A frame's 24-bit length.
fn frame_len(h: &[u8]) -> u32 {
    u32::from_be_bytes([0, h[0], h[1], h[2]])
}

/// The hello frame header read so far: a 24-bit length, `tag` (the
/// `HandshakeMessage` field), a varint length that fills the frame exactly
/// (it holds that field alone), `0a 20` (a 32-byte ephemeral key).
fn hello(h: &[u8], tag: u8) -> Header {
    // The length's first byte: hellos are short.
    if h[0] != 0 {
        return Header::Bad;
    }
    let Some(&t) = h.get(3) else {
        return Header::More;
    };
    if t != tag {
        return Header::Bad;
    }
    let (field, next) = match (h.get(4), h.get(5)) {
        (None, _) => return Header::More,
        (Some(&b), _) if b < 0x80 => (b as u32, 5),
        (Some(_), None) => return Header::More,
        (Some(&b), Some(&c)) if c < 0x80 => ((b & 0x7f) as u32 | (c as u32) << 7, 6),
        _ => return Header::Bad,
    };
    let len = frame_len(h);
    if field < 34 || 1 + (next as u32 - 4) + field != len {
        return Header::Bad;
    }
    match h.get(next..) {
        Some([]) | Some([0x0a]) => Header::More,
        Some([0x0a, 0x20, ..]) => Header::Message {
            len: 3 + len,
            facts: Facts::HELLO,
            measure: false,
        },
        _ => Header::Bad,
    }
}

/// The header read so far (`state`: see the constants).
pub(crate) fn header(h: &[u8], state: &mut u8) -> Header {
    let Some(&first) = h.first() else {
        return Header::More;
    };
    match *state {
        START if first == b'E' => {
            if h.len() <= ROUTING.len() {
                return if ROUTING.starts_with(h) {
                    Header::More
                } else {
                    Header::Bad
                };
            }
            if h.len() < 7 {
                return Header::More;
            }
            match frame_len(&h[4..]) {
                0 | 1025.. => Header::Bad,
                routing => {
                    *state = CONN_HEADER;
                    Header::Message {
                        len: 7 + routing,
                        facts: 0,
                        measure: false,
                    }
                }
            }
        }
        START | CONN_HEADER if first == b'W' || *state == CONN_HEADER => match h {
            [b'W'] | [b'W', b'A'] | [b'W', b'A', 5 | 6] => Header::More,
            [b'W', b'A', 5 | 6, 1..=32] => {
                *state = CLIENT_HELLO;
                Header::Message {
                    len: 4,
                    facts: 0,
                    measure: false,
                }
            }
            _ => Header::Bad,
        },
        START | CLIENT_HELLO => {
            let tag = if *state == START { 0x1a } else { 0x12 };
            let m = hello(h, tag);
            if matches!(m, Header::Message { .. }) {
                *state = FRAMES;
            }
            m
        }
        _ if h.len() < 3 => Header::More,
        _ => match frame_len(h) {
            0 => Header::Bad,
            len => Header::Message {
                len: 3 + len,
                facts: Facts::KEYED,
                measure: false,
            },
        },
    }
}

/// The stream probe: a client's prologue (and its hello frame, as far as
/// the window goes), or a server's hello frame with its encrypted static
/// key's header 32 bytes after the ephemeral's.
pub(crate) fn probe(w: &[u8], _complete: bool) -> Option<Walker> {
    let walker = || Some(AppWalker::new(Protocol::WhatsApp).into());
    let facts = walk_window(Protocol::WhatsApp, w)?;
    if w.starts_with(&ROUTING) || w.starts_with(b"WA") {
        return walker();
    }
    // The server's hello: its key's header where a one- or two-byte field
    // length puts it.
    let key = if w.get(4).is_some_and(|&b| b < 0x80) {
        5
    } else {
        6
    };
    let static_key = w.get(key + 34..key + 36) == Some(&[0x12, 0x30][..]);
    (facts.has(Facts::HELLO) && static_key).then(walker)?
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::app::tests::walk_app;
    use super::super::Next;
    use super::*;

    /// A client's stream: routing prologue, `WA 06 03`, the hello frame,
    /// then a ciphertext frame.
    pub(crate) fn client() -> [u8; 7 + 6 + 4 + 39 + 3 + 40] {
        let mut s = [0x77u8; 99];
        s[..13].copy_from_slice(b"ED\x00\x01\x00\x00\x06routin");
        s[13..17].copy_from_slice(b"WA\x06\x03");
        s[17..24].copy_from_slice(&[0x00, 0x00, 0x24, 0x12, 0x22, 0x0a, 0x20]);
        s[56..59].copy_from_slice(&[0x00, 0x00, 0x28]);
        s
    }

    /// A server's hello: ephemeral key, encrypted static key, payload.
    pub(crate) fn server() -> [u8; 3 + 3 + 34 + 50 + 30] {
        let mut s = [0x55u8; 120];
        s[..8].copy_from_slice(&[0x00, 0x00, 0x75, 0x1a, 0x73, 0x0a, 0x20, 0x01]);
        s[39..41].copy_from_slice(&[0x12, 0x30]);
        s
    }

    #[test]
    fn both_hellos_carry_a_key_and_frames_follow() {
        let c = client();
        assert!(probe(&c[..64], false).is_some());
        let (end, next, measured, facts) = walk_app(Protocol::WhatsApp, &c);
        assert_eq!((end, next, measured), (c.len() as u64, Next::Continue, 0));
        assert!(facts.has(Facts::HELLO) && facts.has(Facts::KEYED));
        // Without the routing prologue.
        assert!(probe(&c[13..], false).is_some());
        assert!(walk_app(Protocol::WhatsApp, &c[13..]).3.has(Facts::HELLO));

        let s = server();
        assert!(probe(&s[..64], false).is_some());
        let (end, next, _, facts) = walk_app(Protocol::WhatsApp, &s);
        assert_eq!((end, next), (s.len() as u64, Next::Continue));
        assert!(facts.has(Facts::HELLO));
    }

    #[test]
    fn near_misses_are_not_whatsapp() {
        let mut c = client();
        c[19] = 0x25; // a frame longer than its hello
        assert!(probe(&c[..64], false).is_none());
        let mut s = server();
        s[39] = 0x13;
        assert!(probe(&s[..64], false).is_none());
        assert!(probe(b"WA\x07\x03", true).is_none());
        assert!(probe(b"EDIT / HTTP/1.1", true).is_none());
    }
}
