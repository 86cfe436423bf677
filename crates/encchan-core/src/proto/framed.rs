//! Binary protocols made of length-framed messages: enterprise protocols
//! whose payloads are partly ciphertext or compressed (Kerberos tickets,
//! sealed LDAP, SMB3 transforms, Zabbix compression) or that upgrade to TLS
//! mid-stream (LDAP, PostgreSQL, MySQL, RDP); DNS over TCP; BitTorrent's
//! peer wire; Nano's node protocol. Their messages are the carrier's own:
//! explained.
//!
//! One walker serves them all ([`FrameWalker`]): at each message boundary it
//! reads the header byte by byte and asks the protocol's [`check`] whether
//! the bytes so far can start a message and, once they say, how long it
//! is; then it skips the message by arithmetic. A first byte that cannot
//! start a message hands the rest over to the sniffer (the TLS after an
//! upgrade is recognized there; anything else means the framing broke); a
//! header that goes wrong later breaks the framing. Each check's docs say
//! how often random bytes pass it.

use super::{be16, be32, Datagram, Facts, Step, Unknown, Walk, Walker};
use crate::verdict::{MalformReason, Protocol};

/// A BER length at `at`: returns (length, bytes used by the length field).
fn ber_len(d: &[u8], at: usize) -> Option<(usize, usize)> {
    let b = *d.get(at)?;
    match b {
        0..=0x7f => Some((b as usize, 1)),
        0x81 => Some((*d.get(at + 1)? as usize, 2)),
        0x82 => Some((be16(d, at + 1)? as usize, 3)),
        0x84 => Some((be32(d, at + 1)? as usize, 5)),
        _ => None,
    }
}

/// Kerberos message: APPLICATION tag 10–14 or 30 (AS-REQ … KRB-ERROR),
/// constructed, with a BER length, then a SEQUENCE.
fn kerberos_message(d: &[u8], total: usize) -> bool {
    let Some(&tag) = d.first() else { return false };
    if !matches!(tag, 0x6a..=0x6e | 0x7e) {
        return false;
    }
    match ber_len(d, 1) {
        Some((len, used)) => 1 + used + len == total && d.get(1 + used) == Some(&0x30),
        None => false,
    }
}

/// LDAP message: SEQUENCE, BER length, INTEGER message id.
fn ldap_message(d: &[u8], total: Option<usize>) -> bool {
    if d.first() != Some(&0x30) {
        return false;
    }
    match ber_len(d, 1) {
        Some((len, used)) => {
            d.get(1 + used) == Some(&0x02)
                && matches!(d.get(2 + used), Some(1..=4))
                && total.is_none_or(|t| 1 + used + len == t)
                && len >= 5
        }
        None => false,
    }
}

/// The first message of a stream of `protocol`, as its probe accepts it.
fn opens(p: &[u8], protocol: Protocol) -> bool {
    match protocol {
        // Kerberos over TCP: 4-byte record mark (high bit clear), then a
        // message.
        Protocol::Kerberos => be32(p, 0).is_some_and(|mark| {
            mark < 0x8000_0000 && mark > 16 && kerberos_message(&p[4..], mark as usize)
        }),
        Protocol::Ldap => ldap_message(p, None),
        // NetBIOS session message (or direct TCP 445) + SMB1/2/3 signature.
        Protocol::Smb => {
            p.len() >= 8 && p[0] == 0 && matches!(&p[4..8], b"\xffSMB" | b"\xfeSMB" | b"\xfdSMB")
        }
        Protocol::Postgres => postgres_opens(p),
        Protocol::Mysql => mysql_opens(p),
        // TPKT version 3, then an X.224 connection request/confirm.
        Protocol::Rdp => {
            p.len() >= 7
                && p[0] == 3
                && p[1] == 0
                && matches!(p[5], 0xe0 | 0xd0)
                && be16(p, 2).is_some_and(|len| len >= 11)
        }
        Protocol::Zabbix => p.starts_with(b"ZBXD") && p.get(4).is_some_and(|f| f & 0xf8 == 0),
        Protocol::Dns => dns_over_tcp(p),
        Protocol::BitTorrent => p.starts_with(b"\x13BitTorrent protocol"),
        Protocol::Nano => matches!(nano(p), Frame::Len(_)),
        _ => false,
    }
}

/// PostgreSQL: a client's SSLRequest, GSSENCRequest or v3 startup message;
/// or a server's first message: an authentication request, or the one-byte
/// answer to SSLRequest followed by TLS or by an authentication request.
fn postgres_opens(p: &[u8]) -> bool {
    if let (Some(len), Some(code)) = (be32(p, 0), be32(p, 4)) {
        if (len == 8 && matches!(code, 80877103 | 80877104))
            || (len < 10_000 && code == 0x0003_0000)
        {
            return true;
        }
    }
    let auth = |m: &[u8]| {
        m.first() == Some(&b'R')
            && be32(m, 1).is_some_and(|len| (8..=2048).contains(&len))
            && be32(m, 5).is_some_and(|code| matches!(code, 0 | 2 | 3 | 5 | 7..=12))
    };
    match p.first() {
        Some(b'S') => p.get(1..3) == Some(&[0x16, 0x03][..]),
        Some(b'N') => auth(&p[1..]),
        _ => auth(p),
    }
}

/// MySQL: a server greeting (3-byte length, sequence 0, protocol 10, a
/// version string), or a client's first packet (sequence 1, with the
/// CLIENT_PROTOCOL_41 capability).
fn mysql_opens(p: &[u8]) -> bool {
    if p.len() >= 8 && p[3] == 0 && p[4] == 10 && p[5].is_ascii_digit() && p[6] == b'.' {
        return true;
    }
    let len = u32::from_le_bytes([
        p.first().copied().unwrap_or(0),
        *p.get(1).unwrap_or(&0),
        *p.get(2).unwrap_or(&0),
        0,
    ]);
    p.len() >= 8 && p[3] == 1 && (32..4096).contains(&len) && p[5] & 0x02 != 0
}

/// DNS over TCP (RFC 1035 §4.2.2, RFC 7766): a 2-byte length, a sane
/// header, and a question name that parses as far as the window goes.
fn dns_over_tcp(p: &[u8]) -> bool {
    let (Some(len), Some(flags), Some(qd)) = (be16(p, 0), be16(p, 4), be16(p, 6)) else {
        return false;
    };
    let opcode = (flags >> 11) & 0xf;
    if len < 17 || !matches!(opcode, 0 | 1 | 2 | 4 | 5) || !(1..=4).contains(&qd) {
        return false;
    }
    let mut at = 14;
    while let Some(&label) = p.get(at) {
        if label == 0 {
            return true;
        }
        if label > 63 {
            return false;
        }
        let end = (at + 1 + label as usize).min(p.len());
        if !p[at + 1..end].iter().all(|&b| (0x21..0x7f).contains(&b)) {
            return false;
        }
        at += 1 + label as usize;
    }
    // The window ended inside the name, every label so far valid.
    at > 15
}

/// The stream probe for `protocol`.
pub(crate) fn probe(w: &[u8], _complete: bool, protocol: Protocol) -> Option<Walker> {
    opens(w, protocol).then(|| FrameWalker::new(protocol).into())
}

/// GTP-U (3GPP TS 29.281): version 1, protocol type GTP, a known message
/// type, and a length that covers exactly the rest of the datagram.
///
/// Uniformly random bytes pass with probability 1/8 (version 1) · 1/2
/// (protocol type GTP) · 6/256 (message type) · 2⁻¹⁶ (a length equal to
/// the rest of the datagram) ≈ 2⁻²⁵.
pub(crate) fn gtp_u(d: &[u8]) -> Option<Datagram> {
    let (&flags, &msg, len) = (d.first()?, d.get(1)?, be16(d, 2)?);
    (flags >> 5 == 1
        && flags & 0x10 != 0
        && matches!(msg, 1 | 2 | 26 | 31 | 254 | 255)
        && len as usize + 8 == d.len())
    .then_some(Datagram::new(Protocol::Gtp, Facts::FRAMING))
}

/// Kerberos over UDP: one message, exactly the datagram. Uniformly random
/// bytes pass with probability 6/256 (tag) · 2⁻⁸ (SEQUENCE) times that of
/// a BER length equal to the rest: 2⁻⁸ at up to 129 bytes, 2⁻¹⁶ (the
/// `0x81` form) up to 257, 2⁻²⁴ beyond: ≈ 2⁻²¹ for short datagrams, 2⁻²⁹
/// for typical ones.
pub(crate) fn kerberos_datagram(d: &[u8]) -> Option<Datagram> {
    kerberos_message(d, d.len()).then_some(Datagram::new(Protocol::Kerberos, Facts::FRAMING))
}

/// CLDAP: one LDAP message, exactly the datagram. Uniformly random bytes
/// pass with probability 2⁻⁸ (SEQUENCE) · 2⁻⁸ (INTEGER) · 4/256 (its
/// length) times a BER length equal to the rest (2⁻⁸ to 2⁻²⁴, as for
/// Kerberos): ≈ 2⁻³⁰ at best.
pub(crate) fn ldap_datagram(d: &[u8]) -> Option<Datagram> {
    ldap_message(d, Some(d.len())).then_some(Datagram::new(Protocol::Ldap, Facts::FRAMING))
}

/// What a protocol's check says of a message header read so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Frame {
    /// Fine so far; more header bytes are needed.
    More,
    /// A message of this many bytes, header included.
    Len(u32),
    /// A message of this many bytes, after which the protocol upgrades:
    /// an inner stream follows (PostgreSQL's SSLRequest and its answer,
    /// MySQL's SSL request).
    Upgrade(u32),
    /// The header bytes so far start a TLS record, not a message: the
    /// upgrade happened without a message that said so.
    Tls,
    /// These bytes cannot start a message.
    Bad,
}

/// The longest header any check reads.
const HEADER: usize = 12;

/// Judges the header bytes `h` of a message of `protocol` (`h` grows by a
/// byte per call). `state` is the protocol's own memory (0 at a stream's
/// start).
fn check(protocol: Protocol, h: &[u8], state: &mut u8) -> Frame {
    match protocol {
        Protocol::Kerberos => kerberos(h),
        Protocol::Ldap => ldap(h),
        Protocol::Smb => smb(h),
        Protocol::Postgres => postgres(h, state),
        Protocol::Mysql => mysql(h, state),
        Protocol::Rdp => rdp(h),
        Protocol::Zabbix => zabbix(h),
        Protocol::Dns => dns(h),
        Protocol::BitTorrent => bittorrent(h, state),
        Protocol::Nano => nano(h),
        _ => Frame::Bad,
    }
}

/// A 4-byte record mark (high bit clear, under 1 MiB), then a message tag.
/// Random bytes pass with 2^-12 · 6/256.
fn kerberos(h: &[u8]) -> Frame {
    match h.len() {
        1..=3 => more_if(h[0] == 0 && h.get(1).is_none_or(|&b| b < 0x10)),
        4 => Frame::More,
        _ => {
            let mark = be32(h, 0).unwrap_or(0);
            if mark > 16 && matches!(h[4], 0x6a..=0x6e | 0x7e) {
                Frame::Len(4 + mark)
            } else {
                Frame::Bad
            }
        }
    }
}

/// An LDAP message (SEQUENCE, BER length, INTEGER message id), or a SASL
/// security-layer buffer (4-byte length under 16 MiB: sealed LDAP, as
/// Active Directory signs and seals it). Random bytes pass with ~2/256.
fn ldap(h: &[u8]) -> Frame {
    match h[0] {
        0x30 => {
            let Some((len, used)) = ber_len(h, 1) else {
                return more_if(h.len() < 6 && matches!(h.get(1), None | Some(0..=0x84)));
            };
            match h.get(1 + used) {
                None => Frame::More,
                Some(0x02) if len >= 5 => Frame::Len((1 + used + len) as u32),
                Some(_) => Frame::Bad,
            }
        }
        0x00 => match be32(h, 0) {
            None => Frame::More,
            Some(len) if len > 0 => Frame::Len(4 + len),
            Some(_) => Frame::Bad,
        },
        _ => Frame::Bad,
    }
}

/// A NetBIOS session header (message, request, answers, keep-alive) with a
/// 24-bit length; a session message carries an SMB1/2/3 header (or a
/// transform or compression header). Random bytes pass with ~6/256 · 2^-24.
fn smb(h: &[u8]) -> Frame {
    if !matches!(h[0], 0x00 | 0x81..=0x85) {
        return Frame::Bad;
    }
    let Some(b) = h.get(1..4) else {
        return Frame::More;
    };
    let len = u32::from_be_bytes([0, b[0], b[1], b[2]]);
    if h[0] != 0 || len == 0 {
        return Frame::Len(4 + len);
    }
    if len < 4 {
        return Frame::Bad;
    }
    match h.get(4..8) {
        None if h.len() > 4 && h[4] != 0xff && !(0xfc..=0xfe).contains(&h[4]) => Frame::Bad,
        None => Frame::More,
        Some(b"\xffSMB" | b"\xfeSMB" | b"\xfdSMB" | b"\xfcSMB") => Frame::Len(4 + len),
        Some(_) => Frame::Bad,
    }
}

// PostgreSQL states: a lane's first message may be untyped (client) or an
// SSL answer (server); later ones are typed, except the startup message a
// client sends after an SSLRequest was refused.
const PG_START: u8 = 0;
const PG_TYPED: u8 = 1;

/// PostgreSQL: untyped startup-phase messages, the one-byte answers to an
/// SSLRequest, then typed messages (a type letter, a 4-byte length).
/// Random bytes pass a typed header with ~40/256 · 1/4.
fn postgres(h: &[u8], state: &mut u8) -> Frame {
    if *state == PG_START {
        if h[0] == 0 {
            // Untyped: length, then a request code or protocol version.
            let (Some(len), Some(code)) = (be32(h, 0), be32(h, 4)) else {
                return Frame::More;
            };
            return match (len, code) {
                (8, 80877103 | 80877104) => Frame::Upgrade(8),
                (16, 80877102) => Frame::Len(16),
                (9..=9999, 0x0003_0000) => {
                    *state = PG_TYPED;
                    Frame::Len(len)
                }
                _ => Frame::Bad,
            };
        }
        match h[0] {
            b'S' | b'G' => return Frame::Upgrade(1),
            b'N' => {
                *state = PG_TYPED;
                return Frame::Len(1);
            }
            _ => *state = PG_TYPED,
        }
    }
    const TYPES: &[u8] = b"123ABCDEFGHIKNPQRSTVWXZcdfnpstv";
    if !TYPES.contains(&h[0]) {
        return Frame::Bad;
    }
    match be32(h, 1) {
        None => more_if(h.len() < 2 || h[1] < 0x40),
        Some(len) if (4..0x4000_0000).contains(&len) => Frame::Len(1 + len),
        Some(_) => Frame::Bad,
    }
}

/// MySQL packets: a 3-byte little-endian length and a sequence number that
/// restarts at 0 with each command and counts up within it (so a lane's
/// next one is 0, or one or two past its last). Random bytes pass with
/// ~3/256. A client's SSL request (32 bytes, CLIENT_SSL) upgrades.
fn mysql(h: &[u8], state: &mut u8) -> Frame {
    if h.len() < 3 {
        return Frame::More;
    }
    if h[0] == 0x16 && h[1] == 0x03 && h[2] <= 0x04 {
        return Frame::Tls;
    }
    if h.len() < 4 {
        return Frame::More;
    }
    let len = u32::from_le_bytes([h[0], h[1], h[2], 0]);
    let seq = h[3];
    // `state` is the last sequence number plus one (0: none yet).
    let ok = len > 0
        && (*state == 0 && seq <= 1
            || *state != 0 && (seq == 0 || seq == *state || seq == state.wrapping_add(1)));
    if !ok {
        return Frame::Bad;
    }
    if len == 32 && seq == 1 {
        // A client's SSL request, or a short handshake response.
        let Some(caps) = h.get(4..8) else {
            return Frame::More;
        };
        if u32::from_le_bytes([caps[0], caps[1], caps[2], caps[3]]) & 0x800 != 0 {
            return Frame::Upgrade(4 + len);
        }
    }
    *state = seq.wrapping_add(1).max(1);
    Frame::Len(4 + len)
}

/// TPKT (version 3, reserved 0, a 16-bit length of at least 7). RDP's
/// security upgrade (TLS, CredSSP) follows the X.224 exchange. Random bytes
/// pass with 2^-16.
fn rdp(h: &[u8]) -> Frame {
    match h.len() {
        1 => more_if(h[0] == 3),
        2 | 3 => more_if(h[1] == 0),
        _ => match be16(h, 2) {
            Some(len) if len >= 7 => Frame::Len(len as u32),
            _ => Frame::Bad,
        },
    }
}

/// `ZBXD`, flags (protocol, compression, large packet), a little-endian
/// data length and reserved length (4 bytes each, 8 with the large flag).
fn zabbix(h: &[u8]) -> Frame {
    if h.len() <= 4 {
        return more_if(b"ZBXD".starts_with(h));
    }
    let flags = h[4];
    if flags & 0xf8 != 0 {
        return Frame::Bad;
    }
    let large = flags & 0x04 != 0;
    if h.len() < 9 {
        return Frame::More;
    }
    let data = u32::from_le_bytes([h[5], h[6], h[7], h[8]]);
    // Large packets' 8-byte lengths: the high half must be 0 here (< 4 GiB).
    if large {
        match h.get(9..13) {
            None => return Frame::More,
            Some([0, 0, 0, 0]) => return Frame::Len(21u32.saturating_add(data)),
            Some(_) => return Frame::Bad,
        }
    }
    Frame::Len(13u32.saturating_add(data))
}

/// A 2-byte length and a DNS header: a known opcode, at most four
/// questions (zone-transfer answers may have none). Random bytes pass with
/// ~5/16 · 5/65536.
fn dns(h: &[u8]) -> Frame {
    // Length, id, flags, question count: each judged as soon as it is read.
    let Some(len) = be16(h, 0) else {
        return Frame::More;
    };
    if len < 12 {
        return Frame::Bad;
    }
    let Some(flags) = be16(h, 4) else {
        return Frame::More;
    };
    if !matches!((flags >> 11) & 0xf, 0 | 1 | 2 | 4 | 5) {
        return Frame::Bad;
    }
    match be16(h, 6) {
        None => Frame::More,
        Some(qd) if qd <= 4 => Frame::Len(2 + len as u32),
        Some(_) => Frame::Bad,
    }
}

/// The 68-byte handshake, then messages: a 4-byte length (a keep-alive is
/// 0; a piece is 16 KiB and some) and a message id. Random bytes pass with
/// 2^-11 · 21/256.
fn bittorrent(h: &[u8], state: &mut u8) -> Frame {
    if *state == 0 {
        if h[0] != 19 {
            return Frame::Bad;
        }
        *state = 1;
        return Frame::Len(68);
    }
    let Some(len) = be32(h, 0) else {
        return more_if(h[0] == 0);
    };
    if len == 0 {
        return Frame::Len(4);
    }
    match h.get(4) {
        _ if len > 2 << 20 => Frame::Bad,
        None => Frame::More,
        Some(&id) if id <= 20 => Frame::Len(4 + len),
        Some(_) => Frame::Bad,
    }
}

/// Nano's node protocol (TCP 7075; the message layouts of the Nano node's
/// documentation): an 8-byte header (`R`, the network `A` dev, `B` beta,
/// `C` live or `X` test, the highest, used and lowest protocol versions, a
/// message type, 16-bit little-endian extensions) and a body whose length
/// the type and extensions give. A cleartext protocol: its bodies are
/// hashes, public keys, signatures and cookies, high in entropy and no
/// ciphertext. Read here are the messages whose length the header alone
/// gives: `node_id_handshake` (a 32-byte cookie if bit 0, a response if
/// bit 1: the node's key and a signature, 96 bytes, or with bit 2 also a
/// salt and the genesis hash, 160), `keepalive` (8 peers of 18 bytes),
/// `telemetry_req` (no body) and `telemetry_ack` (the size in bits 0-9).
/// Any other type breaks the framing: what follows is measured.
///
/// Random bytes pass a header with probability 2⁻⁸ (`R`) · 2⁻⁶ (the
/// network) · (48/256)³ (versions `10`-`3f`) · 1/6 (in order) · 4/256 (the
/// type), and then the extensions' unused bits must be clear: < 2⁻³⁰.
fn nano(h: &[u8]) -> Frame {
    let version = |b: u8| (0x10..=0x3f).contains(&b);
    for (k, &b) in h.iter().enumerate().take(6) {
        let ok = match k {
            0 => b == b'R',
            1 => matches!(b, b'A' | b'B' | b'C' | b'X'),
            2 => version(b),
            3 => version(b) && b <= h[2],
            4 => version(b) && b <= h[3],
            _ => matches!(b, 0x02 | 0x0a | 0x0c | 0x0d),
        };
        if !ok {
            return Frame::Bad;
        }
    }
    let Some(ext) = h.get(6..8).map(|e| u16::from_le_bytes([e[0], e[1]])) else {
        return Frame::More;
    };
    let body = match h[5] {
        0x02 if ext == 0 => 144,
        0x0a if ext & !7 == 0 && ext & 3 != 0 => {
            let query = if ext & 1 != 0 { 32 } else { 0 };
            let response = match (ext & 2 != 0, ext & 4 != 0) {
                (false, _) => 0,
                (true, false) => 96,
                (true, true) => 160,
            };
            query + response
        }
        0x0c if ext == 0 => 0,
        0x0d if ext & !0x3ff == 0 => u32::from(ext),
        _ => return Frame::Bad,
    };
    Frame::Len(8 + body)
}

fn more_if(ok: bool) -> Frame {
    if ok {
        Frame::More
    } else {
        Frame::Bad
    }
}

/// Streaming walker of length-framed messages for one direction. 20 bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FrameWalker {
    /// Bytes of the current message still to skip.
    left: u32,
    protocol: Protocol,
    /// The protocol's own memory (see [`check`]).
    state: u8,
    /// Header bytes read of the next message.
    header_len: u8,
    /// The message being skipped upgrades the stream when it ends.
    upgrade: bool,
    header: [u8; HEADER],
}
const _: () = assert!(core::mem::size_of::<FrameWalker>() == 20);

impl FrameWalker {
    pub(crate) const fn new(protocol: Protocol) -> Self {
        FrameWalker {
            left: 0,
            protocol,
            state: 0,
            header_len: 0,
            upgrade: false,
            header: [0; HEADER],
        }
    }

    /// The header bytes held when a message's header turned out to be a
    /// TLS record: the inner stream starts with them.
    pub(crate) fn held(&self) -> &[u8] {
        &self.header[..self.header_len as usize]
    }
}

impl Walk for FrameWalker {
    fn walk(&mut self, data: &[u8], offset: u64, _facts: &mut Facts) -> Step {
        let mut i = 0;
        while i < data.len() {
            if self.left > 0 {
                let take = (self.left as usize).min(data.len() - i);
                i += take;
                self.left -= take as u32;
                if self.left == 0 && self.upgrade {
                    return Step::hand_off(i, Unknown::Broken(MalformReason::BadMessage));
                }
                continue;
            }
            let n = self.header_len as usize;
            self.header[n] = data[i];
            self.header_len += 1;
            let verdict = check(self.protocol, &self.header[..=n], &mut self.state);
            let frame = match verdict {
                Frame::More if n + 1 < HEADER => {
                    i += 1;
                    continue;
                }
                Frame::Len(len) | Frame::Upgrade(len) if len as usize > n => len,
                // The first byte cannot start a message: not this
                // protocol any more (the TLS after an upgrade, or the
                // framing broke).
                Frame::Bad if n == 0 => {
                    self.header_len = 0;
                    return Step::hand_off(i, Unknown::Broken(MalformReason::BadMessage));
                }
                // A TLS record where a message should be: the header bytes
                // read so far are the inner stream's first (see `held`).
                Frame::Tls => {
                    return Step::hand_off(i + 1, Unknown::Broken(MalformReason::BadMessage))
                }
                _ => {
                    let at = offset + i as u64;
                    return Step::broken((MalformReason::BadMessage, at, at + 1), offset, false);
                }
            };
            i += 1;
            self.left = frame - self.header_len as u32;
            self.header_len = 0;
            self.upgrade = matches!(verdict, Frame::Upgrade(_));
            if self.left == 0 && self.upgrade {
                return Step::hand_off(i, Unknown::Broken(MalformReason::BadMessage));
            }
        }
        Step::explain(data.len())
    }
}

/// Nano's node handshake from nDPI's nano.pcapng (TCP 7075): the client's
/// query (a cookie), the server's query and v2 response (cookie, node key,
/// salt, genesis hash, signature).
#[cfg(test)]
pub(crate) mod nano_handshake {
    pub(crate) const CLIENT: [u8; 40] = [
        0x52, 0x43, 0x14, 0x14, 0x12, 0x0a, 0x05, 0x00, 0xf0, 0x26, 0x9f, 0x5e, 0x01, 0x10, 0xda,
        0x0f, 0xfa, 0x6f, 0xb7, 0x0e, 0x5c, 0x70, 0xc4, 0x6e, 0xc3, 0xbd, 0x3d, 0xe3, 0x7c, 0xc6,
        0x6a, 0xc1, 0x39, 0x5f, 0xdd, 0xe1, 0x01, 0xf3, 0x55, 0x44,
    ];
    pub(crate) const SERVER: [u8; 200] = [
        0x52, 0x43, 0x14, 0x14, 0x12, 0x0a, 0x07, 0x00, 0xd7, 0x3f, 0xab, 0x56, 0x64, 0xf5, 0xce,
        0x71, 0x16, 0x5f, 0x19, 0x70, 0x8a, 0xaa, 0x74, 0xce, 0x95, 0x4c, 0xc0, 0x5c, 0xb5, 0xbc,
        0x0a, 0x47, 0xbd, 0x71, 0xd3, 0x31, 0x56, 0xb0, 0xc4, 0x96, 0x6e, 0x04, 0x8d, 0x22, 0x75,
        0x2f, 0xcd, 0x94, 0x7d, 0x0d, 0xeb, 0x11, 0x7b, 0xed, 0x5b, 0xbd, 0x6a, 0xfe, 0x74, 0x3e,
        0x80, 0x9e, 0x6a, 0xd6, 0xdf, 0x1e, 0x70, 0xa8, 0x77, 0x89, 0xf6, 0x07, 0xfa, 0xe1, 0x79,
        0x11, 0x66, 0x21, 0x36, 0xdc, 0xe0, 0x8c, 0x0a, 0x39, 0x65, 0x65, 0x03, 0xb0, 0x0c, 0x71,
        0x8b, 0x38, 0xe2, 0x7d, 0xe2, 0x63, 0xa3, 0xb3, 0xb6, 0xac, 0x66, 0x5f, 0x57, 0xdd, 0x99,
        0x1c, 0xf1, 0x90, 0x09, 0x4c, 0x00, 0xf0, 0xb6, 0x8e, 0x2e, 0x5f, 0x75, 0xf6, 0xbe, 0xe9,
        0x5a, 0x2e, 0x0b, 0xd9, 0x3c, 0xea, 0xa4, 0xa6, 0x73, 0x4d, 0xb9, 0xf1, 0x9b, 0x72, 0x89,
        0x48, 0xd8, 0xa5, 0x15, 0x75, 0x31, 0x74, 0x09, 0xfb, 0x13, 0xd3, 0x0b, 0xd0, 0x05, 0x30,
        0x16, 0xef, 0xde, 0x5d, 0x9d, 0xfd, 0x8b, 0x78, 0xdc, 0xee, 0xa7, 0xe0, 0x9b, 0xec, 0xcc,
        0xf7, 0x8c, 0x35, 0x11, 0xe7, 0x33, 0x4e, 0xd7, 0x69, 0xee, 0xf8, 0x26, 0xe7, 0xcf, 0xa3,
        0x24, 0x63, 0x9e, 0x6c, 0x8f, 0x14, 0x1f, 0xb0, 0x65, 0xb1, 0xd4, 0x3a, 0xe7, 0xd9, 0xea,
        0x4f, 0xf9, 0x92, 0xfa, 0x03,
    ];
}

#[cfg(test)]
mod tests {
    use super::super::Next;
    use super::*;

    // zeek/tunnels/gtp/gtp4_udp_2152_inside.pcap #0: a G-PDU's header
    // (938 bytes: 8 of header, 930 of an IPv4 packet).
    const G_PDU: &[u8] = &[0x30, 0xff, 0x03, 0xa2, 0x00, 0x00, 0x33, 0x18, 0x45, 0x00];

    #[test]
    fn a_gtp_u_packet_from_the_captures() {
        let mut d = [0u8; 938];
        d[..G_PDU.len()].copy_from_slice(G_PDU);
        assert!(gtp_u(&d).is_some());
        assert!(gtp_u(&d[..937]).is_none());
        d[0] = 0x50; // version 2: GTP-C, not the user plane
        assert!(gtp_u(&d).is_none());
    }

    #[test]
    fn nano_messages_by_their_headers() {
        use super::nano_handshake::{CLIENT, SERVER};
        assert!(opens(&CLIENT, Protocol::Nano));
        assert!(opens(&SERVER, Protocol::Nano));
        assert_eq!(nano(&CLIENT), Frame::Len(40));
        assert_eq!(nano(&SERVER), Frame::Len(200));
        // A v1 response (no salt, no genesis hash), a keepalive, a
        // telemetry request.
        assert_eq!(nano(b"RC\x14\x14\x12\x0a\x03\x00"), Frame::Len(8 + 32 + 96));
        assert_eq!(nano(b"RC\x14\x14\x12\x02\x00\x00"), Frame::Len(152));
        assert_eq!(nano(b"RC\x14\x14\x12\x0c\x00\x00"), Frame::Len(8));
        // Incomplete headers wait; versions out of order, an unknown
        // network, a handshake with neither query nor response, unused
        // extension bits, types not read here: not Nano.
        assert_eq!(nano(b"RC\x14"), Frame::More);
        for bad in [
            &b"RC\x12\x14\x12\x0a\x05\x00"[..],
            b"RZ\x14\x14\x12\x0a\x05\x00",
            b"RC\x14\x14\x12\x0a\x04\x00",
            b"RC\x14\x14\x12\x0a\x05\x01",
            b"RC\x14\x14\x12\x03\x00\x06",
        ] {
            assert_eq!(nano(bad), Frame::Bad, "{bad:x?}");
        }
    }

    #[test]
    fn recognizes_first_messages() {
        // Kerberos AS-REQ over TCP: mark 0x0000011c, [APPLICATION 10] len 0x82 0x0118, SEQUENCE.
        let mut k = [0u8; 32];
        k[..9].copy_from_slice(&[0, 0, 1, 0x1c, 0x6a, 0x82, 0x01, 0x18, 0x30]);
        assert!(opens(&k, Protocol::Kerberos));
        assert!(opens(
            b"\x00\x00\x00\x08\x04\xd2\x16\x2f",
            Protocol::Postgres
        ));
        assert!(opens(b"\x4a\x00\x00\x00\x0a8.0.32\x00", Protocol::Mysql));
        assert!(opens(
            b"\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00",
            Protocol::Rdp
        ));
        assert!(opens(
            b"\x30\x0c\x02\x01\x01\x60\x07\x02\x01\x03\x04\x00\x80\x00",
            Protocol::Ldap
        ));
        assert!(opens(b"\x00\x00\x00\x45\xfeSMB@\x00", Protocol::Smb));
        assert!(!opens(b"random bytes here, not framed", Protocol::Smb));
        let dns = b"\x00\x1d\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01";
        assert!(opens(dns, Protocol::Dns));
        assert!(opens(
            b"R\x00\x00\x00\x08\x00\x00\x00\x00",
            Protocol::Postgres
        ));
        assert!(opens(b"S\x16\x03\x01\x00\x50", Protocol::Postgres));
    }

    fn walk(protocol: Protocol, stream: &[u8], step: usize) -> (u64, Next) {
        let mut w = FrameWalker::new(protocol);
        super::super::walk_chunked(&mut w, stream, step, |_, _, _| {})
    }

    #[test]
    fn messages_are_walked_and_upgrades_hand_over() {
        // Two DNS messages over TCP, then random bytes.
        let msg = b"\x00\x1d\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01";
        let mut stream = [&msg[..], &msg[..]].concat();
        let end = stream.len() as u64;
        for step in [1, 3, 100] {
            assert_eq!(walk(Protocol::Dns, &stream, step), (end, Next::Continue));
        }
        // A length, an id, then flags with opcode 15.
        stream.extend_from_slice(&[0x9f, 0x01, 0x02, 0x03, 0x78, 0x00, 0x00]);
        for step in [1, 3, 100] {
            assert_eq!(
                walk(Protocol::Dns, &stream, step),
                (end + 6, Next::Broken(MalformReason::BadMessage, end + 5))
            );
        }
        // PostgreSQL: an SSLRequest, then TLS.
        let pg = b"\x00\x00\x00\x08\x04\xd2\x16\x2f\x16\x03\x01";
        for step in [1, 5, 100] {
            assert_eq!(
                walk(Protocol::Postgres, pg, step),
                (8, Next::Inner(Unknown::Broken(MalformReason::BadMessage)))
            );
        }
        // RDP: a connection confirm, then TLS at a message boundary.
        let rdp = b"\x03\x00\x00\x0b\x06\xd0\x00\x00\x12\x34\x00\x16\x03\x01";
        assert_eq!(
            walk(Protocol::Rdp, rdp, 2),
            (11, Next::Inner(Unknown::Broken(MalformReason::BadMessage)))
        );
        // MySQL: TLS where a packet should be, its header bytes held.
        let mut w = FrameWalker::new(Protocol::Mysql);
        let greeting = b"\x05\x00\x00\x00\x0a8.0\x00";
        let mut facts = Facts::EMPTY;
        let s = w.walk(greeting, 0, &mut facts);
        assert_eq!(s, Step::explain(greeting.len()));
        let s = w.walk(b"\x16\x03\x03\x00\x7a", 9, &mut facts);
        assert_eq!(
            s.next,
            Next::Inner(Unknown::Broken(MalformReason::BadMessage))
        );
        assert_eq!((s.len, w.held()), (3, &b"\x16\x03\x03"[..]));
    }
}
