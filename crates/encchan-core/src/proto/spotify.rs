//! Spotify's access-point protocol (TCP, port 4070 or 443), as librespot
//! documents it: a Diffie-Hellman exchange in protobuf messages, then
//! packets under the Shannon stream cipher keyed from it.
//!
//! | side | messages |
//! |---|---|
//! | client | `00 04` (version), a 32-bit length counting the whole message, `ClientHello` (build info …, `login_crypto_hello.diffie_hellman.gc`: its 96-byte public value); then a length and `ClientResponsePlaintext`; then ciphertext |
//! | server | a length, `APResponseMessage` (`challenge.login_crypto_challenge.diffie_hellman.gs`: its 96-byte public value, and a signature); then ciphertext |
//!
//! Each side's first message is its hello. After the plaintext messages
//! every byte is Shannon ciphertext (headers too): explained as the rest of
//! the stream.
//!
//! The probe reads the protobuf fields in the sniff window down to the
//! public value's header (`52 60`: field 10, 96 bytes). What random bytes
//! pass: the client needs `00 04`, a length, then field tags and lengths
//! that nest (< 2⁻⁴⁰); the server two zero bytes and four nested `52`
//! tags before `52 60` (< 2⁻⁵⁰).

use super::app::{AppWalker, Header};
use super::{be32, Facts, Walker};
use crate::verdict::Protocol;

// Walker states.
const START: u8 = 0;
const CLIENT_RESPONSE: u8 = 1;
const SEALED: u8 = 2;

/// A protobuf varint at `at` (at most 4 bytes here), and the offset after it.
fn varint(w: &[u8], at: usize) -> Option<(u32, usize)> {
    let mut v = 0u32;
    for k in 0..4 {
        let b = *w.get(at + k)?;
        v |= ((b & 0x7f) as u32) << (7 * k);
        if b & 0x80 == 0 {
            return Some((v, at + k + 1));
        }
    }
    None
}

/// The header of a length-delimited field 10 (`52 len`) at `at`: its
/// length and where its content starts.
fn field10(w: &[u8], at: usize) -> Option<(u32, usize)> {
    (*w.get(at)? == 0x52).then_some(())?;
    varint(w, at + 1)
}

/// The header of a DH public value: field 10, 96 bytes.
fn public_value(w: &[u8], at: usize) -> bool {
    w.get(at..at + 2) == Some(&[0x52, 0x60][..])
}

/// A client hello: its top-level fields (build info first; the varint
/// fields 20, 30 and 40; then field 50, the login crypto hello) down to
/// `diffie_hellman.gc`'s header.
fn client_hello(w: &[u8]) -> bool {
    let Some(len) = be32(w, 2) else { return false };
    if w.get(..2) != Some(&[0, 4][..]) || !(32..=4096).contains(&len) {
        return false;
    }
    let Some((info, mut at)) = field10(w, 6) else {
        return false;
    };
    at += info as usize;
    while let Some((tag, next)) = varint(w, at) {
        match tag {
            // fingerprints, cryptosuites, powschemes supported (varints)
            0xa0 | 0xf0 | 0x140 => match varint(w, next) {
                Some((_, after)) => at = after,
                None => return false,
            },
            // login_crypto_hello { diffie_hellman { gc … } }
            0x192 => {
                let Some((hello, inner)) = varint(w, next) else {
                    return false;
                };
                return match field10(w, inner) {
                    Some((dh, gc)) => dh < hello && public_value(w, gc),
                    None => false,
                };
            }
            _ => return false,
        }
    }
    false
}

/// A server's `APResponseMessage`: a length, then `challenge`,
/// `login_crypto_challenge` and `diffie_hellman` nested in one another
/// (field 10 each), then `gs`'s header.
fn server_hello(w: &[u8]) -> bool {
    let Some(len) = be32(w, 0) else { return false };
    if !(128..=8192).contains(&len) {
        return false;
    }
    let (mut outer, mut at) = (len - 4, 4);
    for _ in 0..3 {
        match field10(w, at) {
            Some((inner, next)) if inner < outer => (outer, at) = (inner, next),
            _ => return false,
        }
    }
    public_value(w, at)
}

/// The message header read so far (`state`: see the constants).
pub(crate) fn header(h: &[u8], state: &mut u8) -> Header {
    let length = |at| be32(h, at).unwrap_or(0);
    match (*state, h.len()) {
        (SEALED, 0) => Header::Rest {
            facts: Facts::KEYED,
            measure: false,
        },
        (_, 0) => Header::More,
        // The first byte of a length or of the version: zero.
        (START, 1) | (CLIENT_RESPONSE, 1) if h[0] == 0 => Header::More,
        // `00 04` and a length: the client; a 32-bit length: the server.
        (START, 2..=6) if h[1] == 4 || h[1] == 0 && h.len() < 5 => Header::More,
        (START, 7) if h[1] == 4 && h[6] == 0x52 && (32..=4096).contains(&length(2)) => {
            *state = CLIENT_RESPONSE;
            Header::Message {
                len: length(2),
                facts: Facts::HELLO,
                measure: false,
            }
        }
        (START, 5) if h[1] == 0 && h[4] == 0x52 && (128..=8192).contains(&length(0)) => {
            *state = SEALED;
            Header::Message {
                len: length(0),
                facts: Facts::HELLO,
                measure: false,
            }
        }
        (CLIENT_RESPONSE, 2..=4) => Header::More,
        (CLIENT_RESPONSE, 5) if h[4] == 0x52 && (8..=4096).contains(&length(0)) => {
            *state = SEALED;
            Header::Message {
                len: length(0),
                facts: 0,
                measure: false,
            }
        }
        _ => Header::Bad,
    }
}

/// The stream probe: either side's first message.
pub(crate) fn probe(w: &[u8], _complete: bool) -> Option<Walker> {
    (client_hello(w) || server_hello(w)).then(|| AppWalker::new(Protocol::Spotify).into())
}

#[cfg(test)]
mod tests {
    use super::super::app::tests::walk_app;
    use super::super::Next;
    use super::*;

    /// A client hello as librespot builds it: build info, the supported
    /// lists, the DH hello with a 96-byte gc, a nonce, padding.
    fn client_hello_bytes() -> [u8; 137] {
        let mut m = [0x11u8; 137];
        let head: &[u8] = &[
            0x00, 0x04, 0x00, 0x00, 0x00, 137, // version, length
            0x52, 0x06, 0x08, 0x00, 0x10, 0x00, 0x28, 0x01, // build_info
            0xa0, 0x01, 0x00, 0xf0, 0x01, 0x00, 0xc0, 0x02, 0x00, // lists
            0x92, 0x03, 0x65, 0x52, 0x63, 0x52, 0x60, // login_crypto_hello.dh.gc
        ];
        m[..head.len()].copy_from_slice(head);
        m
    }

    fn server_hello_bytes() -> [u8; 160] {
        let mut m = [0x22u8; 160];
        let head: &[u8] = &[
            0x00, 0x00, 0x00, 160, 0x52, 0x80, 0x01, 0x52, 0x7d, 0x52, 0x7a, 0x52, 0x60,
        ];
        m[..head.len()].copy_from_slice(head);
        m
    }

    #[test]
    fn both_hellos_are_recognized_and_the_rest_is_explained() {
        let hello = client_hello_bytes();
        assert!(client_hello(&hello[..64]));
        let response = [0x00, 0x00, 0x00, 0x0a, 0x52, 0x06, 0x52, 0x04, 0x52, 0x02];
        let client = [&hello[..], &response, &[0xa5u8; 300]].concat();
        let (end, next, measured, facts) = walk_app(Protocol::Spotify, &client);
        assert_eq!(
            (end, next, measured),
            (client.len() as u64, Next::Continue, 0)
        );
        assert!(facts.has(Facts::HELLO) && facts.has(Facts::KEYED));

        let hello = server_hello_bytes();
        assert!(server_hello(&hello[..64]));
        let server = [&hello[..], &[0x5au8; 300]].concat();
        let (_, next, measured, facts) = walk_app(Protocol::Spotify, &server);
        assert_eq!((next, measured), (Next::Continue, 0));
        assert!(facts.has(Facts::HELLO) && facts.has(Facts::KEYED));
    }

    #[test]
    fn near_misses_are_not_spotify() {
        let mut hello = client_hello_bytes();
        hello[29] = 0x61; // gc of 97 bytes
        assert!(!client_hello(&hello[..64]));
        let mut hello = server_hello_bytes();
        hello[10] = 0x7e; // an inner message longer than its outer one
        assert!(!server_hello(&hello[..64]));
        assert!(probe(&[0u8; 64], false).is_none());
    }
}
