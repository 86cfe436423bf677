//! RTMP over TCP (Adobe's Real-Time Messaging Protocol specification, plain
//! RTMP: not RTMPE, RTMPT or RTMPS).
//!
//! Each side opens with a version byte (C0/S0: `0x03`) and a 1536-byte C1/S1:
//! a 4-byte time, a 4-byte field that is zero in the handshake the
//! specification describes and a Flash Player or server version in the
//! "complex" (digest) handshake Flash uses (`09 00 7c 02`, FMS's
//! `01 00 05 04` …), then 1528 arbitrary bytes, usually random. Once it has
//! the other side's C1/S1, each side sends a 1536-byte C2/S2 (an echo of the
//! other's, or random bytes and a digest), then the chunk stream: a basic
//! header (the format in the top 2 bits, the chunk stream id), a message
//! header (timestamp, length, type id, message stream id), the message.
//! A client opens with the AMF0 command `connect` (type `0x14`, on message
//! stream 0); a server with protocol-control messages (types 1–6:
//! window acknowledgement size, set peer bandwidth …) and then the answer
//! to `connect`.
//!
//! # What the walker explains
//!
//! [`RtmpWalker`] explains the handshake, C0+C1+C2 or S0+S1+S2 (3073 bytes:
//! random by design, nothing to measure), then checks the first message
//! header at offset 3073 ([`first_message`]): a chunk of format 0 on chunk
//! stream 2–63, message stream 0, a protocol-control message of its exact
//! length on chunk stream 2, or a command (AMF0, or AMF3's `0x11`) whose
//! body starts with an AMF0 string of 1–32 letters, digits or `_` that fits
//! the message. If it holds, the stream is RTMP: everything after is
//! explained as RTMP's own content (audio and video, AMF commands and
//! metadata): like a body of a trusted HTTP media type, it is not measured.
//! If it does not, the framing breaks at the first byte that fails and the
//! rest of the stream is measured (RTMP has no key exchange: a break raises
//! no `handshake_malformed`).
//!
//! # What random bytes pass
//!
//! The probe sees the first 64 bytes: `0x03` (2⁻⁸), then bytes 5–8 zero or
//! one of [`VERSIONS`] (9 values of 2³²): uniformly random bytes pass with
//! probability 9 · 2⁻⁴⁰ ≈ 2⁻³⁷. (The two sides could be checked against
//! each other only at offset 1537, where a C2 may echo S1's time and a S2
//! C1's: a probe sees one side's first 64 bytes, and the complex handshake
//! echoes nothing.) The first message check passes random bytes with
//! probability below 62/256 (format and chunk stream) · 8/256 (type) ·
//! 2⁻³² (message stream 0) ≈ 2⁻⁴⁹.
//!
//! # What a false probe costs
//!
//! A stream that fakes the opening (`0x03`, four zero bytes) gets 3073
//! bytes explained, unmeasured, and the first message header's bytes up to
//! the one that fails it (at most [`FIRST`], 52: a byte in 4 passes the
//! first check), before the framing breaks; what follows is measured. Faking the first message as well
//! buys the rest of the stream, as a trusted media type does over HTTP (the
//! README's evasion table says so).

use super::{Facts, Step, Walk, Walker};
use crate::verdict::MalformReason;

/// C0/S0 and C1/S1, then C2/S2: where the chunk stream starts.
pub(crate) const HANDSHAKE: usize = 1 + 1536 + 1536;

/// The version byte, C0/S0.
const VERSION: u8 = 3;

/// The versions C1/S1 carry in bytes 4–7 in the complex handshake, as
/// captures and public implementations show them: Flash Player 9.0.124.2
/// (rtmp.pcap's clients), 10.0.45.2, 128.0.7.2 (librtmp's and SRS's
/// clients), nginx-rtmp's client and servers (`0c 00 0d 0e`, `0d 0e 0a 0d`,
/// `0a 00 00 00`), FMS as rtmp.pcap's servers send it (`01 00 05 04`) and
/// as other servers do (`04 05 00 01`).
pub(crate) const VERSIONS: [[u8; 4]; 8] = [
    [0x09, 0x00, 0x7c, 0x02],
    [0x0a, 0x00, 0x2d, 0x02],
    [0x80, 0x00, 0x07, 0x02],
    [0x0c, 0x00, 0x0d, 0x0e],
    [0x0d, 0x0e, 0x0a, 0x0d],
    [0x0a, 0x00, 0x00, 0x00],
    [0x01, 0x00, 0x05, 0x04],
    [0x04, 0x05, 0x00, 0x01],
];

/// Whether a sniff window opens an RTMP handshake (C0+C1 or S0+S1).
pub(crate) fn opens(w: &[u8]) -> bool {
    match w.get(..9) {
        Some(h) => {
            let field = [h[5], h[6], h[7], h[8]];
            h[0] == VERSION && (field == [0; 4] || VERSIONS.contains(&field))
        }
        None => false,
    }
}

/// The stream probe.
pub(crate) fn probe(w: &[u8], _complete: bool) -> Option<Walker> {
    opens(w).then(|| RtmpWalker::new().into())
}

/// What [`first_message`] says of the bytes read so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Check {
    /// Fine so far; more bytes are needed.
    More,
    /// The first message header holds: the stream is RTMP.
    Holds,
    /// These bytes cannot start RTMP's chunk stream.
    Bad,
}

/// The most bytes [`first_message`] reads: a 12-byte header, an extended
/// timestamp (4), AMF3's format byte (1), an AMF0 string marker and length
/// (3) and a name of up to 32 bytes.
pub(crate) const FIRST: usize = 12 + 4 + 1 + 3 + 32;

/// Judges the first bytes `h` of the chunk stream (`h` grows by a byte per
/// call): every field present is checked, so that a fault is found at the
/// byte that shows it.
pub(crate) fn first_message(h: &[u8]) -> Check {
    use Check::{Bad, Holds, More};
    let Some(&b0) = h.first() else { return More };
    // Format 0 (a chunk stream's first chunk carries the full header),
    // chunk stream 2–63 (the one-byte form; 2 is protocol control).
    let csid = b0 & 0x3f;
    if b0 >> 6 != 0 || csid < 2 {
        return Bad;
    }
    let Some(&kind) = h.get(7) else { return More };
    let len = u32::from_be_bytes([0, h[4], h[5], h[6]]);
    let control = match kind {
        1..=6 => true,
        0x11 | 0x14 => false,
        _ => return Bad,
    };
    if control {
        let fits = match kind {
            4 => (6..=10).contains(&len),
            6 => len == 5,
            _ => len == 4,
        };
        if csid != 2 || !fits {
            return Bad;
        }
    }
    // Message stream 0: protocol control and NetConnection commands.
    if h.iter().skip(8).take(4).any(|&b| b != 0) {
        return Bad;
    }
    let extended = h[1..4] == [0xff; 3];
    let body = 12 + if extended { 4 } else { 0 };
    if h.len() < body {
        return More;
    }
    if control {
        return Holds;
    }
    // A command: AMF3's carries a format byte 0 first; then the command
    // name, an AMF0 string.
    let (amf3, at) = if kind == 0x11 {
        (1, body + 1)
    } else {
        (0, body)
    };
    if amf3 == 1 && h.get(body).is_some_and(|&b| b != 0) {
        return Bad;
    }
    match h.get(at) {
        None => return More,
        Some(&0x02) => {}
        Some(_) => return Bad,
    }
    let Some(hi) = h.get(at + 1) else { return More };
    if *hi != 0 {
        return Bad;
    }
    let Some(&n) = h.get(at + 2) else { return More };
    let n = n as usize;
    if !(1..=32).contains(&n) || (amf3 + 3 + n) as u32 > len {
        return Bad;
    }
    let name = &h[(at + 3).min(h.len())..];
    if name
        .iter()
        .take(n)
        .any(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
    {
        return Bad;
    }
    if name.len() < n {
        return More;
    }
    Holds
}

/// Walks one direction of RTMP: the handshake, explained; the first message
/// header, checked; then, once it held, the rest, explained. 56 bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RtmpWalker {
    /// Bytes of the layer read, up to the end of the first message check.
    pos: u16,
    /// The first message header held: the rest is RTMP's own content.
    confirmed: bool,
    /// The first bytes of the chunk stream, as far as they were checked.
    head: [u8; FIRST],
}
const _: () = assert!(core::mem::size_of::<RtmpWalker>() <= 56);

impl RtmpWalker {
    pub(crate) const fn new() -> Self {
        RtmpWalker {
            pos: 0,
            confirmed: false,
            head: [0; FIRST],
        }
    }
}

impl Walk for RtmpWalker {
    fn walk(&mut self, data: &[u8], offset: u64, facts: &mut Facts) -> Step {
        if self.confirmed {
            return Step::explain(data.len());
        }
        let pos = self.pos as usize;
        if pos < HANDSHAKE {
            let take = (HANDSHAKE - pos).min(data.len());
            self.pos += take as u16;
            return Step::explain(take);
        }
        for (i, &b) in data.iter().enumerate() {
            let n = self.pos as usize - HANDSHAKE;
            self.head[n] = b;
            self.pos += 1;
            match first_message(&self.head[..=n]) {
                Check::More if n + 1 < FIRST => {}
                Check::Holds => {
                    self.confirmed = true;
                    facts.set(Facts::FRAMING);
                    return Step::explain(i + 1);
                }
                _ => {
                    let at = offset + i as u64;
                    return Step::broken((MalformReason::BadMessage, at, at + 1), offset, false);
                }
            }
        }
        Step::explain(data.len())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    extern crate std;
    use super::super::{walk_chunked, Next};
    use super::*;
    use std::vec::Vec;

    /// rtmp.pcap, 10.140.80.204:49757 → 203.205.224.48:1935 (GTP-U): C0 and
    /// C1's first bytes (time 0, Flash Player 9.0.124.2).
    const C1_COMPLEX: [u8; 24] = [
        0x03, 0x00, 0x00, 0x00, 0x00, 0x09, 0x00, 0x7c, 0x02, 0xf7, 0x78, 0x55, 0x1e, 0xce, 0xab,
        0x8e, 0x1e, 0x36, 0x2f, 0x07, 0xc5, 0x86, 0x8a, 0x70,
    ];
    /// Its server: S0 and S1's first bytes (a Unix time, `01 00 05 04`).
    const S1_COMPLEX: [u8; 24] = [
        0x03, 0x63, 0x50, 0x5f, 0xdd, 0x01, 0x00, 0x05, 0x04, 0x11, 0xd2, 0xfd, 0x76, 0xef, 0x49,
        0x65, 0xda, 0x29, 0xe7, 0xde, 0x0f, 0x48, 0x9b, 0xba,
    ];
    /// rtmp.pcap, 192.168.43.1:1177 → 192.168.43.128:1935: C0 and C1's
    /// first bytes (the zero field).
    const C1_SIMPLE: [u8; 24] = [
        0x03, 0x00, 0x07, 0xaa, 0x57, 0x00, 0x00, 0x00, 0x00, 0xc4, 0xff, 0x95, 0xff, 0x1a, 0xff,
        0xe3, 0xff, 0xc0, 0x00, 0xc1, 0x00, 0x36, 0x00, 0xaf,
    ];
    /// Its server's S0 and S1.
    const S1_SIMPLE: [u8; 24] = [
        0x03, 0x3d, 0xd5, 0xb7, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x76, 0x00, 0xef, 0x00,
        0x3c, 0x00, 0x6d, 0x00, 0xd2, 0x00, 0xfb, 0x00, 0xb8,
    ];
    /// The first chunk of 10.140.80.204's client at offset 3073: `connect`.
    pub(crate) const CONNECT: [u8; 24] = [
        0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0xd4, 0x14, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x07,
        b'c', b'o', b'n', b'n', b'e', b'c', b't', 0x00, 0x3f,
    ];
    /// The first chunks of its server at offset 3073: window
    /// acknowledgement size, set peer bandwidth.
    pub(crate) const CONTROL: [u8; 33] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4c, 0x4b,
        0x40, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4c,
        0x4b, 0x40, 0x02,
    ];

    fn fill(seed: u64, out: &mut [u8]) {
        let mut x = seed | 1;
        for b in out.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = (x >> 24) as u8;
        }
    }

    /// A side's stream: `opening` (C0 and C1's first bytes), the rest of the
    /// handshake random, `chunks` at offset 3073, then `tail` random bytes.
    pub(crate) fn side(opening: &[u8], chunks: &[u8], tail: usize, seed: u64) -> Vec<u8> {
        let mut s = std::vec![0u8; HANDSHAKE + chunks.len() + tail];
        fill(seed, &mut s);
        s[..opening.len()].copy_from_slice(opening);
        s[HANDSHAKE..HANDSHAKE + chunks.len()].copy_from_slice(chunks);
        s
    }

    #[test]
    fn the_captures_openings_pass_the_probe() {
        for o in [C1_COMPLEX, S1_COMPLEX, C1_SIMPLE, S1_SIMPLE] {
            assert!(opens(&o), "{o:x?}");
        }
        // The version byte alone is not enough, nor a version not listed.
        let mut o = C1_COMPLEX;
        o[6] = 0x01;
        assert!(!opens(&o));
        o = C1_SIMPLE;
        o[0] = 0x06;
        assert!(!opens(&o));
        assert!(!opens(&C1_SIMPLE[..8]));
    }

    #[test]
    fn random_windows_do_not_pass_the_probe() {
        let mut w = [0u8; 64];
        for k in 0..200_000u64 {
            fill(k + 1, &mut w);
            w[0] = VERSION;
            assert!(!opens(&w), "{w:x?}");
        }
    }

    #[test]
    fn the_captures_first_messages_hold() {
        for first in [&CONNECT[..], &CONTROL[..]] {
            let mut verdict = Check::More;
            for n in 1..=first.len() {
                verdict = first_message(&first[..n]);
                if verdict != Check::More {
                    break;
                }
            }
            assert_eq!(verdict, Check::Holds, "{first:x?}");
        }
        // 192.168.43.1's connect: timestamp 1, length 0xe1.
        let mut c = CONNECT;
        c[3] = 0x01;
        c[6] = 0xe1;
        assert_eq!(first_message(&c), Check::Holds);
    }

    /// Walks `stream` in chunks of several sizes, requiring one outcome:
    /// where the walker stopped and how, the bytes it measured or explained.
    fn walk_all(stream: &[u8]) -> (u64, Next, usize) {
        let mut first = None;
        for step in [1, 2, 3, 7, 64, 1460, stream.len()] {
            let mut w = RtmpWalker::new();
            let mut explained = 0;
            let (end, next) = walk_chunked(&mut w, stream, step, |_, s, _| {
                assert!(s.len > 0 || s.next != Next::Continue);
                explained += if s.measure { 0 } else { s.len };
            });
            let got = (end, next, explained);
            match first {
                None => first = Some(got),
                Some(f) => assert_eq!(f, got, "in chunks of {step}"),
            }
        }
        first.unwrap()
    }

    #[test]
    fn a_session_is_explained_whole() {
        for (opening, chunks) in [(&C1_COMPLEX, &CONNECT[..]), (&S1_COMPLEX, &CONTROL[..])] {
            let s = side(opening, chunks, 2000, 5);
            assert_eq!(walk_all(&s), (s.len() as u64, Next::Continue, s.len()));
        }
    }

    #[test]
    fn random_bytes_after_the_handshake_break_the_framing() {
        let s = side(&C1_SIMPLE, &[0xc3, 0x12], 2000, 6);
        let (end, next, explained) = walk_all(&s);
        let at = HANDSHAKE as u64;
        assert_eq!(next, Next::Broken(MalformReason::BadMessage, at));
        assert_eq!((end, explained), (at + 1, HANDSHAKE + 1));
        // A command whose name is not a name breaks where it shows.
        let mut c = CONNECT;
        c[17] = 0x9f;
        let s = side(&C1_COMPLEX, &c, 100, 7);
        assert_eq!(
            walk_all(&s).1,
            Next::Broken(MalformReason::BadMessage, HANDSHAKE as u64 + 17)
        );
        // Control on a chunk stream other than 2, or of the wrong length.
        let mut c = CONTROL;
        c[0] = 0x03;
        assert_eq!(first_message(&c), Check::Bad);
        let mut c = CONTROL;
        c[6] = 0x05;
        assert_eq!(first_message(&c), Check::Bad);
    }

    #[test]
    fn the_first_message_check_decides_within_its_bytes() {
        let mut h = [0u8; FIRST];
        for k in 0..100_000u64 {
            fill(k + 11, &mut h);
            h[0] &= 0x3f;
            let mut decided = false;
            for n in 1..=FIRST {
                if first_message(&h[..n]) != Check::More {
                    decided = true;
                    break;
                }
            }
            assert!(decided, "{h:x?}");
        }
    }
}
