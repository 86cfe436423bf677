//! OpenVPN in TLS mode (control-channel opcodes, OpenVPN's `ssl_pkt.h`):
//! the hard-reset packets open the key exchange, P_DATA packets carry
//! traffic. Over TCP every packet has a 2-byte length prefix.
//!
//! Over UDP an opcode byte says little (3 in 256 random datagrams start
//! like a hard reset, and so does a static-key tunnel whose session prefix
//! happens to), so a reset is read whole. After the opcode and the 8-byte
//! session id comes one of three layouts ([`Layout`]): the plain control
//! header (the ACK array, then the message packet-id); the same behind a
//! `tls-auth` HMAC (16 to 64 bytes) and a replay packet-id and time; or a
//! `tls-crypt` replay packet-id and time before a 32-byte tag and
//! ciphertext. A client reset acknowledges nothing and is message 0; a
//! server reset acknowledges the client's message 0 and names the
//! client's session id; the replay packet-id of a reset is small and its
//! time a plausible Unix time.
//!
//! A side whose *first* datagram is such a reset is a candidate (held: not
//! yet OpenVPN). The protocol is named when
//!
//! * both sides are candidates of one layout, a client reset and a server
//!   reset with distinct session ids, and (in the clear layouts) the
//!   server's reset acknowledges the client's session id; or
//! * a candidate's later P_CONTROL_V1, with its session id and layout,
//!   carries a TLS handshake record (a capture of one side only).
//!
//! A static-key tunnel (no handshake on the wire) passes neither: its
//! datagrams acknowledge no session and carry no TLS record.
//!
//! Uniformly random bytes: a first datagram is a candidate (held, named
//! nothing yet) with probability 3/256 (opcode and key id) times 2⁻⁴⁰ (a
//! plain client reset's five zero bytes), or 2⁻²⁴ (a replay packet-id in
//! 1..=255; 2⁻⁸ for a `tls-crypt-v2` client's) · 1/5 (a time from 2012 to
//! 2038) for each keyed layout: 2⁻¹⁷ at most, for `0x50`. Two random
//! first datagrams pair with far less (2⁻³² for the acknowledged session
//! id; 2⁻²⁸ for the server's `tls-crypt` fields after the client's 2⁻¹⁷),
//! and a random later datagram repeats the session id (2⁻³²) and a TLS
//! record header (2⁻²⁴).

use super::{be16, be32, Broken, Ctx, Datagram, Facts, Judgement, Step, Walk};
use crate::verdict::{MalformReason, Protocol};

const P_CONTROL_HARD_RESET_CLIENT_V2: u8 = 7;
const P_CONTROL_HARD_RESET_SERVER_V2: u8 = 8;
const P_CONTROL_HARD_RESET_CLIENT_V3: u8 = 10;

/// Judges one OpenVPN packet (without the TCP length prefix). Only the
/// hard resets are distinctive enough to start recognition; later packets
/// are judged by [`packet_facts`] once the protocol is known.
pub(crate) fn classify(d: &[u8]) -> Option<Datagram> {
    let opcode = *d.first()? >> 3;
    let key_id = d[0] & 7;
    // opcode, session id (8), then an HMAC/tls-crypt block or the packet-id
    // array: a reset is at least 14 bytes and carries key id 0.
    if key_id != 0 || d.len() < 14 || d.len() > 1600 {
        return None;
    }
    match opcode {
        P_CONTROL_HARD_RESET_CLIENT_V2
        | P_CONTROL_HARD_RESET_CLIENT_V3
        | P_CONTROL_HARD_RESET_SERVER_V2 => Some(Datagram::new(
            Protocol::OpenVpn,
            Facts::HELLO | Facts::FRAMING,
        )),
        _ => None,
    }
}

/// Where a UDP control packet keeps its control header, after the opcode
/// and the session id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// The ACK array and the message packet-id follow the session id.
    Plain,
    /// A `tls-auth` HMAC of this many bytes, a replay packet-id and time,
    /// then the plain control header.
    Auth(u8),
    /// A `tls-crypt` replay packet-id and time, a 32-byte tag, then the
    /// control header encrypted.
    Crypt,
}

/// The HMAC sizes `tls-auth` uses: MD5, SHA-1, SHA-256, SHA-384, SHA-512.
const HMAC_SIZES: [u8; 5] = [16, 20, 32, 48, 64];
/// Opcode, session id.
const SESSION_END: usize = 1 + 8;
/// Replay packet-id and time.
const REPLAY: usize = 4 + 4;
/// `tls-crypt`'s tag.
const CRYPT_TAG: usize = 32;
/// 2012-01-01: a reset's time is no earlier (and before 2038).
const PLAUSIBLE_TIME: core::ops::Range<u32> = 0x4eff_7600..0x8000_0000;

impl Layout {
    /// The layout's code in [`Memory`] (0: none).
    fn code(self) -> u8 {
        match self {
            Layout::Plain => 1,
            Layout::Auth(h) => h,
            Layout::Crypt => 2,
        }
    }

    /// Where the plain control header starts (the clear layouts).
    fn control_at(self) -> Option<usize> {
        match self {
            Layout::Plain => Some(SESSION_END),
            Layout::Auth(h) => Some(SESSION_END + h as usize + REPLAY),
            Layout::Crypt => None,
        }
    }
}

/// A replay packet-id and time a reset may carry at `at`: a small packet
/// id and a plausible time. A `tls-crypt-v2` client's reset (`v3`) has
/// high bits set in its packet id (openvpn-tlscrypt.pcap: `0x0a010001`):
/// only its low 16 bits count there.
fn replay_fields(d: &[u8], at: usize, v3: bool) -> bool {
    let counted = if v3 { 0xffff } else { u32::MAX };
    match (be32(d, at), be32(d, at + 4)) {
        (Some(id), Some(time)) => {
            (1..=255).contains(&(id & counted)) && PLAUSIBLE_TIME.contains(&time)
        }
        _ => false,
    }
}

/// The control header of a hard reset at `at`: a client's acknowledges
/// nothing, a server's acknowledges message 0 of a session; both are
/// message 0. Returns the acknowledged session id's first 4 bytes (0 for
/// a client).
fn reset_control(d: &[u8], at: usize, server: bool) -> Option<u32> {
    if server {
        let acked = d.get(at..at + 1 + 4 + 8 + 4)?;
        let sid = be32(acked, 5)?;
        (acked[0] == 1 && acked[1..5] == [0; 4] && acked[13..] == [0; 4] && sid != 0).then_some(sid)
    } else {
        let control = d.get(at..at + 1 + 4)?;
        (control == [0; 5]).then_some(0)
    }
}

/// A hard reset read whole: its opcode, layout, session id and (a server's,
/// in the clear layouts) the session id it acknowledges, by their first
/// 4 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Reset {
    opcode: u8,
    layout: Layout,
    sid: u32,
    acked: u32,
}

fn reset(d: &[u8]) -> Option<Reset> {
    classify(d)?;
    let opcode = d[0] >> 3;
    let sid = be32(d, 1).filter(|&s| s != 0)?;
    let server = opcode == P_CONTROL_HARD_RESET_SERVER_V2;
    let clear = core::iter::once(Layout::Plain).chain(HMAC_SIZES.iter().map(|&h| Layout::Auth(h)));
    for layout in clear {
        let at = layout.control_at()?;
        if let Layout::Auth(h) = layout {
            if !replay_fields(d, SESSION_END + h as usize, false) {
                continue;
            }
        }
        if let Some(acked) = reset_control(d, at, server) {
            return Some(Reset {
                opcode,
                layout,
                sid,
                acked,
            });
        }
    }
    // tls-crypt: the control header is encrypted; its encrypted ACK array
    // and message packet-id follow the tag.
    let v3 = opcode == P_CONTROL_HARD_RESET_CLIENT_V3;
    let crypt =
        replay_fields(d, SESSION_END, v3) && d.len() >= SESSION_END + REPLAY + CRYPT_TAG + 5;
    crypt.then_some(Reset {
        opcode,
        layout: Layout::Crypt,
        sid,
        acked: 0,
    })
}

/// Whether a client reset and a server reset answer each other.
fn resets_pair(a: &Memory, b: &Memory) -> bool {
    let client = |o| o == P_CONTROL_HARD_RESET_CLIENT_V2 || o == P_CONTROL_HARD_RESET_CLIENT_V3;
    let (client, server) = match (client(a.opcode), client(b.opcode)) {
        (true, false) if b.opcode == P_CONTROL_HARD_RESET_SERVER_V2 => (a, b),
        (false, true) if a.opcode == P_CONTROL_HARD_RESET_SERVER_V2 => (b, a),
        _ => return false,
    };
    let acknowledged = server.layout == Layout::Crypt.code() || server.acked == client.sid;
    client.layout == server.layout && client.sid != server.sid && acknowledged
}

/// A later control packet of a candidate that shows the TLS handshake it
/// carries: P_CONTROL_V1 with the candidate's session id and clear layout,
/// whose message opens with a TLS handshake record.
fn carries_tls(d: &[u8], own: &Memory) -> bool {
    const P_CONTROL_V1: u8 = 4;
    let Some(layout) = own.layout() else {
        return false;
    };
    let (Some(&b0), Some(at)) = (d.first(), layout.control_at()) else {
        return false;
    };
    if b0 >> 3 != P_CONTROL_V1 || be32(d, 1) != Some(own.sid) {
        return false;
    }
    let Some(&acks) = d.get(at) else {
        return false;
    };
    // The ACK array (packet-ids, then the peer's session id), the
    // message packet-id, then the message.
    let acks = acks as usize;
    let peer = if acks > 0 { 8 } else { 0 };
    let message = at + 1 + 4 * acks + peer + 4;
    matches!(d.get(message..message + 3), Some([0x16, 0x03, 0..=4]))
}

/// Facts of a packet of a flow already known to be OpenVPN.
pub(crate) fn packet_facts(d: &[u8]) -> u8 {
    match d.first().map(|b| b >> 3) {
        Some(
            P_CONTROL_HARD_RESET_CLIENT_V2
            | P_CONTROL_HARD_RESET_SERVER_V2
            | P_CONTROL_HARD_RESET_CLIENT_V3,
        ) => Facts::HELLO | Facts::FRAMING,
        // P_DATA_V1 / P_DATA_V2
        Some(6 | 9) => Facts::FRAMING | Facts::KEYED,
        Some(1..=5 | 11) => Facts::FRAMING,
        _ => 0,
    }
}

/// What a UDP direction remembers of its first-datagram reset: the first
/// 4 bytes of its session id (0: none, not a candidate), of the session id
/// it acknowledges (a server's, in the clear layouts), its opcode and its
/// layout's code.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Memory {
    sid: u32,
    acked: u32,
    opcode: u8,
    layout: u8,
}
const _: () = assert!(core::mem::size_of::<Memory>() == 12);

impl Memory {
    pub(crate) const fn new() -> Self {
        Memory {
            sid: 0,
            acked: 0,
            opcode: 0,
            layout: 0,
        }
    }

    /// This direction's first datagram was a reset (it is a candidate).
    pub fn candidate(&self) -> bool {
        self.sid != 0
    }

    fn layout(&self) -> Option<Layout> {
        match self.layout {
            0 => None,
            1 => Some(Layout::Plain),
            2 => Some(Layout::Crypt),
            h => Some(Layout::Auth(h)),
        }
    }
}

/// The datagram recognizer (see the module docs).
pub(crate) fn recognize(d: &[u8], ctx: &mut Ctx<'_>) -> Judgement {
    match ctx.known {
        Some(Protocol::OpenVpn) => {
            return Judgement::Yes(Datagram::new(Protocol::OpenVpn, packet_facts(d)))
        }
        Some(_) => return Judgement::No,
        None => {}
    }
    let hello = Datagram::new(Protocol::OpenVpn, Facts::HELLO | Facts::FRAMING);
    if !ctx.first {
        return if ctx.own.openvpn.candidate() && carries_tls(d, &ctx.own.openvpn) {
            Judgement::Confirmed(hello)
        } else {
            Judgement::No
        };
    }
    // A DNS message whose ID happens to start with a reset's opcode byte
    // (0x38, 0x40, 0x50 …) parses as DNS, which a reset's random session
    // id almost never does (< 2⁻²⁰): it is not held.
    let Some(r) = reset(d).filter(|_| super::dns::classify(d).is_none()) else {
        return Judgement::No;
    };
    let own = &mut ctx.own.openvpn;
    *own = Memory {
        sid: r.sid,
        acked: r.acked,
        opcode: r.opcode,
        layout: r.layout.code(),
    };
    if ctx.other.openvpn.candidate() && resets_pair(own, &ctx.other.openvpn) {
        Judgement::Confirmed(hello)
    } else {
        Judgement::Held
    }
}

/// The stream probe: a length prefix that fits a reset, then a reset.
pub(crate) fn probe(w: &[u8], _complete: bool) -> Option<super::Walker> {
    match be16(w, 0) {
        Some(len) if (14..=1600).contains(&len) && classify(&w[2..]).is_some() => {
            Some(TcpWalker::new().into())
        }
        _ => None,
    }
}

/// Walks OpenVPN-over-TCP packets: `u16 length` then the packet. 6 bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TcpWalker {
    len_bytes: u8,
    len_hi: u8,
    /// Bytes of the current packet still to skip; 0 with `len_bytes == 2`
    /// means the opcode byte is next.
    left: u16,
}
const _: () = assert!(core::mem::size_of::<TcpWalker>() == 4);

impl TcpWalker {
    pub(crate) const fn new() -> Self {
        TcpWalker {
            len_bytes: 0,
            len_hi: 0,
            left: 0,
        }
    }
}

impl Walk for TcpWalker {
    fn walk(&mut self, data: &[u8], offset: u64, facts: &mut Facts) -> Step {
        let broken = |i: usize| -> Broken {
            let at = offset + i as u64;
            (MalformReason::BadHandshake, at, at + 1)
        };
        let mut i = 0;
        while i < data.len() {
            if self.len_bytes < 2 {
                if self.len_bytes == 0 {
                    self.len_hi = data[i];
                } else {
                    self.left = u16::from_be_bytes([self.len_hi, data[i]]);
                    if self.left == 0 {
                        return Step::broken(broken(i), offset, false);
                    }
                }
                self.len_bytes += 1;
                i += 1;
                continue;
            }
            if self.len_bytes == 2 {
                // The opcode byte.
                let f = packet_facts(&data[i..i + 1]);
                if f == 0 {
                    return Step::broken(broken(i), offset, false);
                }
                facts.set(f);
                self.len_bytes = 3;
            }
            let take = (self.left as usize).min(data.len() - i);
            i += take;
            self.left -= take as u16;
            if self.left == 0 {
                self.len_bytes = 0;
            }
        }
        Step::explain(data.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::testing::{Packet, Sides};

    // ndpi/pcap/openvpn.pcap, 3.111.166.78:51146 <-> 85.134.13.165:1194: the
    // plain layout; the server's reset acknowledges the client's session.
    const PLAIN_CLIENT_RESET: &[u8] = &[
        0x38, 0x39, 0xfd, 0xed, 0x2d, 0xaa, 0x10, 0xa4, 0x37, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];
    const PLAIN_SERVER_RESET: &[u8] = &[
        0x40, 0x94, 0x21, 0x91, 0x7d, 0xe7, 0x26, 0x77, 0x29, 0x01, 0x00, 0x00, 0x00, 0x00, 0x39,
        0xfd, 0xed, 0x2d, 0xaa, 0x10, 0xa4, 0x37, 0x00, 0x00, 0x00, 0x00,
    ];
    // openvpn.pcap, 192.168.43.12:41507 <-> 139.59.151.137:13680: tls-auth
    // with SHA-1 (a 20-byte HMAC, replay packet-id 1, time 0x57a1c15f).
    const AUTH_CLIENT_RESET: &[u8] = &[
        0x38, 0xb0, 0x2c, 0xcf, 0xf1, 0xb5, 0xf0, 0x17, 0x4f, 0xc0, 0x91, 0x66, 0x6e, 0x3b, 0x12,
        0x4b, 0xad, 0xa3, 0x91, 0x73, 0x31, 0x7b, 0x93, 0x97, 0x22, 0xd1, 0xfe, 0x63, 0xbe, 0x00,
        0x00, 0x00, 0x01, 0x57, 0xa1, 0xc1, 0x5f, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];
    const AUTH_SERVER_RESET: &[u8] = &[
        0x40, 0xf7, 0x7f, 0xc2, 0xef, 0xdb, 0xe2, 0x3f, 0x57, 0xde, 0xc4, 0xc8, 0xd5, 0x65, 0x4d,
        0x07, 0x23, 0xbf, 0x8c, 0x0b, 0xe5, 0x41, 0x38, 0x56, 0x32, 0x70, 0xcf, 0xae, 0x13, 0x00,
        0x00, 0x00, 0x01, 0x57, 0xa1, 0xc1, 0x5f, 0x01, 0x00, 0x00, 0x00, 0x00, 0xb0, 0x2c, 0xcf,
        0xf1, 0xb5, 0xf0, 0x17, 0x4f, 0x00, 0x00, 0x00, 0x00,
    ];
    // openvpn.pcap, 192.168.12.156:41133 <-> 107.161.86.131:443: tls-auth
    // with SHA-512 (64-byte HMAC).
    const AUTH512_CLIENT_RESET: &[u8] = &[
        0x38, 0x97, 0x53, 0x56, 0x89, 0x24, 0x84, 0x2f, 0x7b, 0xa6, 0x45, 0x1d, 0x00, 0xb2, 0x04,
        0x54, 0x2c, 0xec, 0x11, 0x83, 0xd2, 0x86, 0x57, 0x9c, 0x7a, 0x0d, 0x1b, 0x4e, 0x77, 0xc9,
        0x33, 0xbd, 0x1e, 0x44, 0xc7, 0x78, 0x04, 0x38, 0x35, 0x39, 0x9e, 0x46, 0xc1, 0x5b, 0x98,
        0x6f, 0x91, 0xd1, 0x88, 0x34, 0x67, 0xf2, 0x03, 0xc3, 0x79, 0xef, 0x84, 0x39, 0x43, 0xc9,
        0x91, 0xf4, 0xd7, 0xfa, 0x22, 0x09, 0x3a, 0x4b, 0xff, 0x93, 0x86, 0x4f, 0xb8, 0x00, 0x00,
        0x00, 0x01, 0x66, 0x9f, 0xcf, 0x31, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];
    const AUTH512_SERVER_RESET: &[u8] = &[
        0x40, 0x26, 0x12, 0x59, 0x3e, 0xe3, 0xbb, 0x27, 0x7a, 0xd1, 0xf1, 0x4a, 0xfd, 0x85, 0xcc,
        0x02, 0xbc, 0x7b, 0xd0, 0x61, 0x52, 0x54, 0xb1, 0xfd, 0xf8, 0x87, 0xe5, 0x9b, 0x39, 0x13,
        0xdd, 0x9e, 0x00, 0x9d, 0x4d, 0xaf, 0x87, 0x06, 0xf0, 0xef, 0xf2, 0x56, 0x43, 0x04, 0x04,
        0xee, 0xf1, 0x4c, 0xa2, 0x30, 0xb4, 0x5d, 0xb2, 0x61, 0x52, 0x32, 0x41, 0x4e, 0x84, 0x18,
        0x69, 0x4d, 0x40, 0xe7, 0x47, 0xad, 0xd4, 0x32, 0xca, 0xdf, 0xbe, 0xf6, 0x23, 0x00, 0x00,
        0x00, 0x01, 0x66, 0x9f, 0xcf, 0x32, 0x01, 0x00, 0x00, 0x00, 0x00, 0x97, 0x53, 0x56, 0x89,
        0x24, 0x84, 0x2f, 0x7b, 0x00, 0x00, 0x00, 0x00,
    ];
    // openvpn-tlscrypt.pcap: a tls-crypt-v2 client reset (V3, 353 bytes,
    // its head) and the server's reset (72 bytes, whole).
    const CRYPT_CLIENT_RESET: &[u8] = &[
        0x50, 0xaa, 0xe0, 0x65, 0x12, 0x39, 0x2a, 0x3d, 0x71, 0x0a, 0x01, 0x00, 0x01, 0x62, 0x5a,
        0x9e, 0x97, 0x85, 0xea, 0xd7, 0x70, 0x0d, 0x5d, 0x18, 0xda, 0xc8, 0xf1, 0xeb, 0x9b, 0x31,
    ];
    const CRYPT_SERVER_RESET: &[u8] = &[
        0x40, 0x53, 0xc9, 0x6d, 0xd0, 0x83, 0x72, 0x4f, 0xd2, 0x00, 0x00, 0x00, 0x01, 0x62, 0x5a,
        0x9e, 0x97, 0x21, 0xea, 0x78, 0x3a, 0x85, 0x9f, 0x9c, 0x2d, 0x8e, 0xdd, 0x04, 0xf1, 0xe1,
        0xc9, 0xf7, 0x8f, 0x44, 0x93, 0xa6, 0x9d, 0xfa, 0xcd, 0x5c, 0xf0, 0xb0, 0xc1, 0x87, 0x3c,
        0xf1, 0xaa, 0x7d, 0x40, 0x00, 0x64, 0x9f, 0x91, 0xfd, 0x22, 0x7c, 0xf0, 0x2f, 0xe5, 0x25,
        0xf9, 0xaf, 0x94, 0xa9, 0x13, 0x32, 0x15, 0x9b, 0xb0, 0x9c, 0x8c, 0x26,
    ];
    // openvpn.pcap, 192.168.75.18:60201 -> 166.161.181.18:443, only the
    // client captured: its reset, then a P_CONTROL_V1 carrying the
    // ClientHello (head of 291 bytes).
    const LONE_CLIENT_RESET: &[u8] = &[
        0x38, 0x33, 0x48, 0x57, 0x70, 0x3d, 0x96, 0xdb, 0x39, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];
    const LONE_CLIENT_CONTROL: &[u8] = &[
        0x20, 0x33, 0x48, 0x57, 0x70, 0x3d, 0x96, 0xdb, 0x39, 0x00, 0x00, 0x00, 0x00, 0x01, 0x16,
        0x03, 0x01, 0x01, 0x10, 0x01, 0x00, 0x01, 0x0c, 0x03, 0x03,
    ];
    // openvpn.pcap, 69.197.143.179:443 -> 10.0.2.15:60201, only the server
    // captured: its reset, then a P_CONTROL_V1 (one ACK) carrying the
    // ServerHello (head of 1226 bytes).
    const LONE_SERVER_RESET: &[u8] = &[
        0x40, 0xd3, 0x1c, 0x3a, 0x69, 0x64, 0x60, 0x2f, 0xa0, 0x01, 0x00, 0x00, 0x00, 0x00, 0x33,
        0x48, 0x57, 0x70, 0x3d, 0x96, 0xdb, 0x39, 0x00, 0x00, 0x00, 0x00,
    ];
    const LONE_SERVER_CONTROL: &[u8] = &[
        0x20, 0xd3, 0x1c, 0x3a, 0x69, 0x64, 0x60, 0x2f, 0xa0, 0x01, 0x00, 0x00, 0x00, 0x01, 0x33,
        0x48, 0x57, 0x70, 0x3d, 0x96, 0xdb, 0x39, 0x00, 0x00, 0x00, 0x01, 0x16, 0x03, 0x03, 0x00,
        0x7a, 0x02, 0x00, 0x00, 0x76, 0x03, 0x03,
    ];

    const CONFIRMED: Judgement = Judgement::Confirmed(Datagram::new(
        Protocol::OpenVpn,
        Facts::HELLO | Facts::FRAMING,
    ));

    /// Judges `packets` (side, head, length) in order on one flow.
    fn judge_all(packets: &[(usize, &[u8], usize)]) -> [Judgement; 4] {
        let mut sides = Sides::default();
        let mut out = [Judgement::No; 4];
        for (k, &(side, head, len)) in packets.iter().enumerate() {
            out[k] = sides.judge(recognize, side, Packet::new(head, len).bytes());
        }
        out
    }

    #[test]
    fn reset_pairs_from_the_captures() {
        for (client, server, client_len) in [
            (PLAIN_CLIENT_RESET, PLAIN_SERVER_RESET, 14),
            (AUTH_CLIENT_RESET, AUTH_SERVER_RESET, 42),
            (AUTH512_CLIENT_RESET, AUTH512_SERVER_RESET, 86),
            (CRYPT_CLIENT_RESET, CRYPT_SERVER_RESET, 353),
        ] {
            let j = judge_all(&[(0, client, client_len), (1, server, server.len())]);
            assert_eq!(j[..2], [Judgement::Held, CONFIRMED], "{client:x?}");
            // Either side may be captured first.
            let j = judge_all(&[(1, server, server.len()), (0, client, client_len)]);
            assert_eq!(j[..2], [Judgement::Held, CONFIRMED], "{client:x?}");
        }
    }

    #[test]
    fn one_side_is_confirmed_by_the_tls_record_its_control_packet_carries() {
        let j = judge_all(&[(0, LONE_CLIENT_RESET, 14), (0, LONE_CLIENT_CONTROL, 291)]);
        assert_eq!(j[..2], [Judgement::Held, CONFIRMED]);
        let j = judge_all(&[(1, LONE_SERVER_RESET, 26), (1, LONE_SERVER_CONTROL, 1226)]);
        assert_eq!(j[..2], [Judgement::Held, CONFIRMED]);
        // The same control packet without its TLS record, or under another
        // session id, confirms nothing.
        let mut control = [0u8; 25];
        control.copy_from_slice(LONE_CLIENT_CONTROL);
        control[14] = 0x17;
        let j = judge_all(&[(0, LONE_CLIENT_RESET, 14), (0, &control, 291)]);
        assert_eq!(j[..2], [Judgement::Held, Judgement::No]);
        control.copy_from_slice(LONE_CLIENT_CONTROL);
        control[4] ^= 1;
        let j = judge_all(&[(0, LONE_CLIENT_RESET, 14), (0, &control, 291)]);
        assert_eq!(j[..2], [Judgement::Held, Judgement::No]);
    }

    #[test]
    fn a_server_reset_that_acknowledges_another_session_does_not_pair() {
        let mut server = [0u8; 26];
        server.copy_from_slice(PLAIN_SERVER_RESET);
        server[15] ^= 0xff;
        let j = judge_all(&[(0, PLAIN_CLIENT_RESET, 14), (1, &server, 26)]);
        assert_eq!(j[..2], [Judgement::Held, Judgement::Held]);
        // Resets of different layouts do not pair either.
        let j = judge_all(&[(0, AUTH_CLIENT_RESET, 42), (1, PLAIN_SERVER_RESET, 26)]);
        assert_eq!(j[..2], [Judgement::Held, Judgement::Held]);
    }

    /// The third false positive: a point-to-point tunnel with
    /// static keys, no handshake on the wire, whose datagrams start with a
    /// per-side session prefix and a counter. Its prefixes happen to open
    /// with a reset's opcode bytes (0x38 and 0x40), and the counter's zero
    /// bytes make the client's first datagram read as a plain reset (held);
    /// the server's is no reset, as it acknowledges no session, and no
    /// later datagram carries a TLS record. It was called OpenVPN (two
    /// reset opcodes with distinct session ids); it is not.
    #[test]
    fn a_static_key_tunnel_is_not_openvpn() {
        let client = |k: u8| {
            [
                0x38, 0x5e, 0x11, 0xa0, 0x7c, 0x42, 0x9d, 0x03, 0, 0, 0, 0, 0, 0, 0, k,
            ]
        };
        let server = |k: u8| {
            [
                0x40, 0x8b, 0x2f, 0x66, 0x01, 0xd9, 0x3a, 0xe4, 0, 0, 0, 0, 0, 0, 0, k,
            ]
        };
        let j = judge_all(&[
            (0, &client(0), 200),
            (1, &server(0), 200),
            (0, &client(1), 200),
            (1, &server(1), 200),
        ]);
        assert_eq!(
            j,
            [Judgement::Held, Judgement::No, Judgement::No, Judgement::No]
        );
    }
}
