//! OpenVPN in TLS mode (control-channel opcodes, OpenVPN's `ssl_pkt.h`):
//! the hard-reset packets open the key exchange, P_DATA packets carry
//! traffic. Over TCP every packet has a 2-byte length prefix.
//!
//! Over UDP a hard reset is only an opcode byte and a length: 3 in 256
//! random datagrams (and many QUIC short headers) would pass. So a side's
//! *first* datagram must be a reset, which makes it a candidate (held: not
//! yet OpenVPN); the protocol is named once both sides are candidates with
//! distinct session ids and their resets pair up (client, server), or once
//! the same side's next control packet repeats its session id. A random
//! first datagram is a candidate with probability ~3/256; a pair of random
//! first datagrams passes with ~(3/256)² · 1/3, and a side's next random
//! datagram repeats a 4-byte session id with 2^-32.

use super::{be16, Broken, Ctx, Datagram, Facts, Judgement, Step, Walk};
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

/// The first 4 bytes of the session id of a control packet (hard resets,
/// P_CONTROL, P_ACK): the same for every control packet a side sends.
fn session_id_prefix(d: &[u8]) -> Option<u32> {
    let opcode = *d.first()? >> 3;
    if !matches!(opcode, 1..=5 | 7 | 8 | 10 | 11) || d.len() < 14 {
        return None;
    }
    let sid = u32::from_be_bytes([d[1], d[2], d[3], d[4]]);
    (sid != 0).then_some(sid)
}

/// Whether two first-datagram opcodes are a client reset and a server reset.
fn resets_pair(a: u8, b: u8) -> bool {
    let client = |o| o == P_CONTROL_HARD_RESET_CLIENT_V2 || o == P_CONTROL_HARD_RESET_CLIENT_V3;
    (client(a) && b == P_CONTROL_HARD_RESET_SERVER_V2)
        || (client(b) && a == P_CONTROL_HARD_RESET_SERVER_V2)
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

/// What a UDP direction remembers: the first 4 bytes of the session id of
/// its first-datagram reset (0: none) and that reset's opcode.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Memory {
    sid: u32,
    opcode: u8,
}

impl Memory {
    pub(crate) const fn new() -> Self {
        Memory { sid: 0, opcode: 0 }
    }
}

impl Memory {
    /// This direction's first datagram was a reset (it is a candidate).
    pub fn candidate(&self) -> bool {
        self.sid != 0
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
    let this_sid = session_id_prefix(d);
    let own = &mut ctx.own.openvpn;
    // A DNS message whose ID happens to start with a reset's opcode byte
    // (0x38, 0x40, 0x50 …) parses as DNS, which a reset's random session
    // id almost never does (< 2⁻²⁰): it is not held.
    let reset = classify(d).is_some() && super::dns::classify(d).is_none();
    let confirmed = if ctx.first && reset {
        own.sid = this_sid.unwrap_or(0);
        own.opcode = d[0] >> 3;
        // A client reset answered by a server reset, each side with its own
        // random session id. (An RPC reply echoes the request's XID, so NFS
        // would pass a weaker test.)
        let other = ctx.other.openvpn;
        other.sid != 0 && other.sid != own.sid && resets_pair(other.opcode, own.opcode)
    } else {
        own.sid != 0 && this_sid == Some(own.sid)
    };
    if confirmed && own.sid != 0 {
        Judgement::Confirmed(Datagram::new(
            Protocol::OpenVpn,
            Facts::HELLO | Facts::FRAMING,
        ))
    } else if ctx.first && own.sid != 0 {
        Judgement::Held
    } else {
        Judgement::No
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
