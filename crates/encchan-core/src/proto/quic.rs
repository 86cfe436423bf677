//! QUIC long headers (RFC 8999 invariants, RFC 9000 §17.2, RFC 9369 for
//! v2) and Google QUIC: the public header of Q043 and older, Q046's own
//! long header, and the IETF-style long header of Q050 and T05x.
//!
//! Everything after the header is protected (Google QUIC's cleartext CHLO
//! aside), so the header's structure is what identifies the exchange:
//!
//! * **Opening** a connection takes a client Initial: the long form and the
//!   fixed bit (0x40) set, a known version, a Destination Connection ID of
//!   8 to 20 bytes (RFC 9000 §7.2), a Source Connection ID of at most 20,
//!   a token and a Length that fit the datagram, and a datagram of at least
//!   1200 bytes (§14.1). Google QUIC's openers are held to the same size;
//!   Q046 to its fixed nibble byte (`0x50`: an 8-byte DCID, no SCID) and
//!   its 4-byte packet number, Q043 and older to their public flags and a
//!   `Q0dd` version.
//! * **Answering** or **going on** with a connection one side opened: any
//!   long header of a known version whose connection IDs and Length fit,
//!   with or without the fixed bit. RFC 9287 lets a peer that received
//!   `grease_quic_bit` clear it, and servers do from their first Initial
//!   (quic-v2.pcapng: `0x94`; quic_0RTT.pcap: `0x81`); a client may clear
//!   it in a first Initial only with a token from an earlier connection,
//!   which no capture shows, so the opener keeps it.
//! * **Version negotiation** (version 0) only answers the other side's
//!   long header: it echoes that header's connection IDs swapped (§17.2.1),
//!   and lists a whole, non-empty number of non-zero versions without the
//!   one offered (§6.1).
//!
//! Uniformly random bytes pass as an opener with probability about
//! 1/4 (form and fixed bits) · 1/4 (Initial) · 2⁻¹⁶ (version: the
//! 2¹⁶ reserved `0x?a?a?a?a` versions dominate the ~2¹⁶ + 600 known
//! ones) · 13/256 (DCID 8–20) · 21/256 (SCID) · ~2⁻⁴ (a token length and
//! a Length in range) ≈ 2⁻³¹, and only if the datagram has 1200 bytes; a
//! Q046 opener with 2⁻³² (version) · 2⁻⁸ (nibble byte) · 1/16 (flags);
//! a Q043-style one with 1/8 (flags) · 2⁻⁸ · (10/256)³ ≈ 2⁻²⁵. A version
//! negotiation needs a QUIC header on the other side first.

use super::{be32, Ctx, Datagram, Facts, Judgement};
use crate::verdict::Protocol;

/// QUIC v2 (RFC 9369).
const V2: u32 = 0x6b33_43cf;
/// Google QUIC's version with its own long header.
const Q046: u32 = u32::from_be_bytes(*b"Q046");
/// The longest connection ID v1 and v2 allow (RFC 9000 §17.2).
const MAX_CID: usize = 20;
/// A client's first Destination Connection ID is at least this long
/// (RFC 9000 §7.2).
const MIN_CLIENT_DCID: usize = 8;
/// A client's Initial travels in datagrams of at least this size
/// (RFC 9000 §14.1).
const MIN_CLIENT_INITIAL: usize = 1200;
/// A protected packet's Length covers the 4 bytes before the
/// header-protection sample and its 16 bytes (RFC 9001 §5.4.2).
const MIN_PROTECTED: u64 = 4 + 16;

/// How a version lays out its long header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// RFC 9000's, with v1's type codes: v1, the IETF drafts, Meta's
    /// mvfst, Google's Q047+ and T04x/T05x, and the reserved versions
    /// clients send to force a negotiation (RFC 9000 §15).
    V1,
    /// RFC 9000's, with v2's type codes (RFC 9369 §3.2).
    V2,
    /// Google's Q046: both connection-ID lengths as nibbles in one byte,
    /// no token, no Length.
    Q046,
}

fn layout(v: u32) -> Option<Layout> {
    let [a, b, c, d] = v.to_be_bytes();
    // Google's versions are text: "Q046", "Q050", "T051".
    let google = matches!(a, b'Q' | b'T') && b == b'0' && c.is_ascii_digit() && d.is_ascii_digit();
    match v {
        Q046 => Some(Layout::Q046),
        V2 => Some(Layout::V2),
        // Q047 on moved to the invariant long header.
        _ if google => ((c - b'0') * 10 + (d - b'0') >= 47).then_some(Layout::V1),
        1 => Some(Layout::V1),
        _ if v & 0xffff_ff00 == 0xff00_0000 => Some(Layout::V1), // IETF drafts
        _ if v & 0x0f0f_0f0f == 0x0a0a_0a0a => Some(Layout::V1), // reserved, forcing negotiation
        _ if v & 0xffff_ff00 == 0xface_b000 || v == 0x709a_50c4 => Some(Layout::V1), // mvfst
        _ => None,
    }
}

/// A long-header packet type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Initial,
    ZeroRtt,
    Handshake,
    Retry,
}

impl Kind {
    fn of(b0: u8, layout: Layout) -> Kind {
        let code = (b0 >> 4) & 3;
        // v2 rotates the codes by one (RFC 9369 §3.2).
        let code = if layout == Layout::V2 {
            (code + 3) & 3
        } else {
            code
        };
        match code {
            0 => Kind::Initial,
            1 => Kind::ZeroRtt,
            2 => Kind::Handshake,
            _ => Kind::Retry,
        }
    }
}

/// What a long header that fits its datagram says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LongHeader {
    kind: Kind,
    dcid: usize,
    scid: usize,
}

/// Reads a variable-length integer (RFC 9000 §16) at `at`: its value and
/// its size.
fn varint(d: &[u8], at: usize) -> Option<(u64, usize)> {
    let first = *d.get(at)?;
    let size = 1usize << (first >> 6);
    let bytes = d.get(at..at + size)?;
    let value = bytes[1..]
        .iter()
        .fold((first & 0x3f) as u64, |v, &b| v << 8 | b as u64);
    Some((value, size))
}

/// A long header of `version` (not 0) whose fields fit the datagram.
fn long_header(d: &[u8], version: u32) -> Option<LongHeader> {
    let layout = layout(version)?;
    let b0 = *d.first()?;
    let kind = Kind::of(b0, layout);
    if layout == Layout::Q046 {
        // One 8-byte connection ID, the client's as DCID, the server's as
        // SCID; the fixed bit and a 4-byte packet number; then a 12-byte
        // message hash at least.
        let (dcid, scid) = match *d.get(5)? {
            0x50 => (8, 0),
            0x05 => (0, 8),
            _ => return None,
        };
        let fits = b0 & 0x43 == 0x43 && d.len() >= 6 + 8 + 4 + 12;
        return fits.then_some(LongHeader { kind, dcid, scid });
    }
    let dcid = *d.get(5)? as usize;
    if dcid > MAX_CID {
        return None;
    }
    let scid = *d.get(6 + dcid)? as usize;
    if scid > MAX_CID {
        return None;
    }
    let mut at = 7 + dcid + scid;
    let fits = match kind {
        // A non-empty token and a 16-byte integrity tag (RFC 9000 §17.2.5).
        Kind::Retry => d.len() > at + 16,
        Kind::Initial => {
            let (token, n) = varint(d, at)?;
            at = at
                .checked_add(n)?
                .checked_add(usize::try_from(token).ok()?)?;
            protected_fits(d, at)
        }
        Kind::ZeroRtt | Kind::Handshake => protected_fits(d, at),
    };
    fits.then_some(LongHeader { kind, dcid, scid })
}

/// The Length at `at` covers a protected packet that fits the datagram
/// (packets after it may share the datagram, RFC 9000 §12.2).
fn protected_fits(d: &[u8], at: usize) -> bool {
    let Some((len, n)) = varint(d, at) else {
        return false;
    };
    len >= MIN_PROTECTED && len <= (d.len() - at - n) as u64
}

/// Google QUIC's public header with a version (Q043 and older): flags with
/// the version (0x01) and 8-byte connection-ID (0x08) bits, no reset bit
/// (0x02) and the two high bits clear, the connection ID, then `Q0dd`.
fn gquic_public_version(d: &[u8]) -> Option<u32> {
    let b0 = *d.first()?;
    if b0 & 0xc0 != 0 || b0 & 0x0b != 0x09 {
        return None;
    }
    let v = d.get(9..13)?;
    let text = v[0] == b'Q' && v[1] == b'0' && v[2..].iter().all(u8::is_ascii_digit);
    text.then(|| u32::from_be_bytes([v[0], v[1], v[2], v[3]]))
}

/// Whether `d` is a version negotiation answering `offer`, the other
/// side's last long header (see the module docs).
fn version_negotiation(d: &[u8], offer: &Memory) -> bool {
    if offer.version == 0 {
        return false;
    }
    let (Some(&dcid), Some(&scid)) = (d.get(5), d.get(6 + offer.scid as usize)) else {
        return false;
    };
    if dcid != offer.scid || scid != offer.dcid {
        return false;
    }
    let Some(list) = d.get(7 + dcid as usize + scid as usize..) else {
        return false;
    };
    !list.is_empty()
        && list.len() % 4 == 0
        && list.chunks_exact(4).all(|v| {
            let v = u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
            v != 0 && v != offer.version
        })
}

/// The datagram recognizer (see the module docs).
pub(crate) fn recognize(d: &[u8], ctx: &mut Ctx<'_>) -> Judgement {
    let Some(&b0) = d.first() else {
        return Judgement::No;
    };
    let other = ctx.other.quic;
    let connected = ctx.own.quic.version != 0 || other.version != 0;
    let hello = Datagram::new(Protocol::Quic, Facts::HELLO | Facts::FRAMING);
    if b0 & 0x80 != 0 {
        let Some(version) = be32(d, 1) else {
            return Judgement::No;
        };
        if version == 0 {
            // Framing, not a hello.
            let vn = version_negotiation(d, &other);
            return Judgement::of(vn.then_some(Datagram::new(Protocol::Quic, Facts::FRAMING)));
        }
        let Some(h) = long_header(d, version) else {
            return Judgement::No;
        };
        let opens = h.kind == Kind::Initial
            && b0 & 0x40 != 0
            && d.len() >= MIN_CLIENT_INITIAL
            && (MIN_CLIENT_DCID..=MAX_CID).contains(&h.dcid);
        if !(opens || connected) {
            return Judgement::No;
        }
        ctx.own.quic.remember(version, h.dcid, h.scid);
        return Judgement::Yes(hello);
    }
    match gquic_public_version(d) {
        Some(version) if connected || d.len() >= MIN_CLIENT_INITIAL => {
            ctx.own.quic.remember(version, 8, 0);
            Judgement::Yes(hello)
        }
        _ => Judgement::No,
    }
}

/// What a direction remembers: its last long header read as QUIC (the
/// version, 0 for none, and its connection-ID lengths: a version
/// negotiation answers them), and how many datagrams in a row had QUIC's
/// short-header shape (form bit clear, fixed bit set), `u8::MAX` once one
/// did not. A quarter of random first bytes look like that, so only a run
/// on both sides counts ([`short_header_session`]), and only on a port
/// profiled for QUIC (the alert rules check that).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Memory {
    version: u32,
    dcid: u8,
    scid: u8,
    short_run: u8,
}
const _: () = assert!(core::mem::size_of::<Memory>() == 8);

impl Memory {
    pub(crate) const fn new() -> Self {
        Memory {
            version: 0,
            dcid: 0,
            scid: 0,
            short_run: 0,
        }
    }

    fn remember(&mut self, version: u32, dcid: usize, scid: usize) {
        // Both fit a byte: at most 20 (`MAX_CID`).
        (self.version, self.dcid, self.scid) = (version, dcid as u8, scid as u8);
    }
}

/// Runs for every datagram of a UDP flow.
pub(crate) fn observe(d: &[u8], mem: &mut Memory) {
    let run = mem.short_run;
    mem.short_run = match d.first() {
        Some(b) if b & 0xc0 == 0x40 && run != u8::MAX => run.saturating_add(1).min(254),
        // Long headers (the handshake) keep the run going.
        Some(b) if b & 0x80 != 0 && run != u8::MAX => run,
        _ => u8::MAX,
    };
}

/// Both directions kept QUIC's short-header shape for at least two
/// datagrams: a QUIC connection picked up after its handshake. Random
/// datagrams pass with probability ~(1/4)^4.
pub(crate) fn short_header_session(a: &Memory, b: &Memory) -> bool {
    let run = |m: &Memory| (2..u8::MAX).contains(&m.short_run);
    run(a) && run(b)
}

#[cfg(test)]
mod tests;
