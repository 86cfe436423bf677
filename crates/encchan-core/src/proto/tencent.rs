//! Tencent games (nDPI's `TencentGames`), two framings seen over TCP:
//!
//! * a header magic `42 15 f7 87`, a 16-bit command (`03 e9` a request,
//!   `03 ea` its answer) and two zero bytes, then a body with no structure
//!   the engine can read and no key exchange in sight. The magic names the
//!   application and explains its 8 bytes; the rest of the stream is
//!   measured (`symmetric_only` stays, with `tencent_games` in the
//!   evidence);
//! * messages of a 32-bit big-endian length and a zlib stream (RFC 1950:
//!   `78`, then a flag byte that makes the pair a multiple of 31, no preset
//!   dictionary). Their bodies are compressed, not ciphertext: explained,
//!   as a zlib stream at the start of a stream is by [`crate::format`].
//!
//! What random bytes pass: the magic 2⁻⁴⁸ (with the zero bytes); a zlib
//! message, a length under 64 KiB and the zlib header, about 2⁻²⁹, and
//! every message after it must hold a zlib stream too.

use super::app::{walk_window, AppWalker, Header};
use super::{be32, Walker};
use crate::verdict::Protocol;

const MAGIC: [u8; 4] = [0x42, 0x15, 0xf7, 0x87];

// Walker states.
const START: u8 = 0;
const SEALED: u8 = 1;
const ZLIB: u8 = 2;

/// A zlib header (RFC 1950 §2.2): deflate with a 32 KiB window, a check
/// that makes the pair a multiple of 31, no preset dictionary.
fn zlib(cmf: u8, flg: u8) -> bool {
    cmf == 0x78 && ((cmf as u16) << 8 | flg as u16) % 31 == 0 && flg & 0x20 == 0
}

/// A zlib message's header: a length (at most `max`), a zlib header.
fn zlib_message(h: &[u8], max: u32) -> Header {
    match h.len() {
        1 if h[0] == 0 => Header::More,
        2..=4 if h[1] == 0 || max > 0xffff => Header::More,
        5 if h[4] == 0x78 => Header::More,
        6 => match be32(h, 0) {
            Some(len) if (2..=max).contains(&len) && zlib(h[4], h[5]) => Header::Message {
                len: 4 + len,
                facts: 0,
                measure: false,
            },
            _ => Header::Bad,
        },
        _ => Header::Bad,
    }
}

/// The header read so far (`state`: see the constants).
pub(crate) fn header(h: &[u8], state: &mut u8) -> Header {
    match (*state, h.first()) {
        (SEALED, None) => Header::Rest {
            facts: 0,
            measure: true,
        },
        (_, None) => Header::More,
        (START, Some(&0x42)) => match h.len() {
            1..=4 if MAGIC.starts_with(h) => Header::More,
            5..=7 if h[..4] == MAGIC && h.iter().skip(6).all(|&b| b == 0) => Header::More,
            8 if h[..4] == MAGIC && h[6..8] == [0, 0] => {
                *state = SEALED;
                Header::Message {
                    len: 8,
                    facts: 0,
                    measure: false,
                }
            }
            _ => Header::Bad,
        },
        (START, _) => {
            let m = zlib_message(h, 0xffff);
            if matches!(m, Header::Message { .. }) {
                *state = ZLIB;
            }
            m
        }
        (ZLIB, _) => zlib_message(h, 1 << 24),
        _ => Header::Bad,
    }
}

/// The stream probe: the magic header, or zlib messages as far as the
/// window goes.
pub(crate) fn probe(w: &[u8], _complete: bool) -> Option<Walker> {
    let magic = w.starts_with(&MAGIC) && w.get(6..8) == Some(&[0, 0][..]);
    let zlib = w.len() >= 6 && w[0] == 0 && walk_window(Protocol::TencentGames, w).is_some();
    (magic || zlib).then(|| AppWalker::new(Protocol::TencentGames).into())
}

#[cfg(test)]
mod tests {
    use super::super::app::tests::walk_app;
    use super::super::Next;
    use super::*;

    #[test]
    fn the_magic_names_and_the_body_is_measured() {
        let s = [&MAGIC[..], &[0x03, 0xe9, 0, 0], &[0x9cu8; 100]].concat();
        assert!(probe(&s[..64], false).is_some());
        let (end, next, measured, _) = walk_app(Protocol::TencentGames, &s);
        assert_eq!((end, next, measured), (108, Next::Continue, 100));
    }

    #[test]
    fn zlib_messages_are_explained() {
        let m = |n: usize| {
            let len = (n as u32 + 2).to_be_bytes();
            [&len[..], &[0x78, 0x01], &[0x35u8; 128][..n]].concat()
        };
        let s = [m(70), m(30)].concat();
        assert!(probe(&s[..64], false).is_some());
        let (end, next, measured, _) = walk_app(Protocol::TencentGames, &s);
        assert_eq!((end, next, measured), (s.len() as u64, Next::Continue, 0));
        // A message without a zlib header breaks the framing.
        let bad = [&m(30)[..], &[0, 0, 0, 9, 0x78, 0x02]].concat();
        assert!(matches!(
            walk_app(Protocol::TencentGames, &bad).1,
            Next::Broken(..)
        ));
        assert!(probe(&bad[36..], false).is_none());
        assert!(probe(b"\x00\x00\x01\x00\x78\x9d", false).is_none());
    }
}
