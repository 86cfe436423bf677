//! Epic Games' Unreal Engine game servers (nDPI's `EpicGames`): the
//! engine's stateless connection handshake over UDP. The client's request
//! is a bit-packed header whose first 32-bit word has bit 3 clear, then a
//! zeroed cookie and timestamps (bytes 10-34 all zero); the server answers
//! with the same word, bit 3 set, and a cookie the client echoes.
//!
//! The request alone (a run of zeros) is too common to name anything: a
//! direction's first datagram that may be one is remembered (its first
//! word), and the flow is named when the other side answers with that word,
//! bit 3 set.
//!
//! The handshake is a cookie exchange against spoofed addresses, not a key
//! exchange: the game's packets after it are under keys the matchmaking
//! service handed out elsewhere (or bit-packed game state), and nothing on
//! the wire exchanged them. The request names the application and explains
//! nothing: the flow's datagrams are measured, and `symmetric_only` names
//! `epicgames`.
//!
//! Uniformly random bytes pass as a request with probability 1/2 (the
//! bit) · 2⁻¹⁹² (24 zero bytes), and an answer then echoes 32 bits: 2⁻³².
//! A protocol that pads its first datagram with zeros passes as a request
//! and its answer with 2⁻³²; the row comes after every other datagram row.

use super::{be32, Ctx, Datagram, Facts, Judgement};
use crate::verdict::Protocol;

/// What a direction remembers: the first word of its first datagram, when
/// that was a handshake request.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Memory {
    word: u32,
    request: bool,
}

impl Memory {
    pub(crate) const fn new() -> Self {
        Memory {
            word: 0,
            request: false,
        }
    }
}

/// A handshake request: bit 3 of the first word clear, bytes 10-34 zero.
fn request(d: &[u8]) -> bool {
    d.len() >= 34 && d[3] & 0x08 == 0 && d[10..34].iter().all(|&b| b == 0)
}

/// The datagram recognizer (see the module docs).
pub(crate) fn recognize(d: &[u8], ctx: &mut Ctx<'_>) -> Judgement {
    if ctx.known.is_some() {
        return Judgement::No;
    }
    let other = ctx.other.epicgames;
    if other.request && d.len() > 4 && be32(d, 0) == Some(other.word | 0x08) {
        return Judgement::Confirmed(Datagram::new(Protocol::EpicGames, Facts::FRAMING));
    }
    if ctx.first && request(d) {
        ctx.own.epicgames = Memory {
            word: be32(d, 0).unwrap_or(0),
            request: true,
        };
    }
    Judgement::No
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::testing::Sides;

    #[test]
    fn the_handshake_request_from_the_captures() {
        // epicgames.pcapng: 192.168.12.156:37989 -> 18.157.15.184:15011,
        // the request (55 bytes; its last byte 0xe0) and the answer.
        let mut request = [0u8; 55];
        request[..10]
            .copy_from_slice(&[0xc7, 0x1a, 0x20, 0x00, 0x08, 0x98, 0x22, 0x65, 0x74, 0x04]);
        request[54] = 0xe0;
        assert!(super::request(&request));
        assert!(!super::request(&request[..33]));
        let answer = [
            0xc7, 0x1a, 0x20, 0x08, 0x08, 0x98, 0x22, 0x65, 0x74, 0x04, 0x00, 0x08, 0x00, 0x00,
            0x99, 0x94, 0xa9, 0xdd, 0x03, 0xd4, 0x74, 0x63, 0x88, 0xe1, 0x35, 0xb4, 0x78, 0x06,
            0x54, 0xea, 0x49, 0x13, 0x25, 0x05, 0xf9, 0x07, 0x53, 0x5f, 0x0b, 0xa9,
        ];
        // The request alone names nothing; the answer that echoes its word
        // does.
        let mut sides = Sides::default();
        assert_eq!(sides.judge(recognize, 0, &request), Judgement::No);
        assert!(matches!(
            sides.judge(recognize, 1, &answer),
            Judgement::Confirmed(d) if d.protocol == Protocol::EpicGames
        ));
        // An answer without the bit, or to another word; a request with
        // the bit set, or one byte of its cookie not zero: nothing.
        let mut other = answer;
        other[3] = 0x00;
        let mut sides = Sides::default();
        sides.judge(recognize, 0, &request);
        assert_eq!(sides.judge(recognize, 1, &other), Judgement::No);
        other[3] = 0x08;
        other[0] = 0x47;
        assert_eq!(sides.judge(recognize, 1, &other), Judgement::No);
        for (at, b) in [(3, 0x08), (20, 1)] {
            let mut r = request;
            r[at] = b;
            let mut sides = Sides::default();
            sides.judge(recognize, 0, &r);
            assert_eq!(sides.judge(recognize, 1, &answer), Judgement::No);
        }
    }
}
