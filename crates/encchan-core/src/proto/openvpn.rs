//! OpenVPN in TLS mode (control-channel opcodes, OpenVPN's `ssl_pkt.h`):
//! the hard-reset packets open the key exchange, P_DATA packets carry
//! traffic. Over TCP every packet has a 2-byte length prefix.

use super::{be16, Datagram, Facts};
use crate::verdict::Protocol;

const P_CONTROL_HARD_RESET_CLIENT_V2: u8 = 7;
const P_CONTROL_HARD_RESET_SERVER_V2: u8 = 8;
const P_CONTROL_HARD_RESET_CLIENT_V3: u8 = 10;

/// Judges one OpenVPN packet (without the TCP length prefix). Only the
/// hard resets are distinctive enough to start recognition; later packets
/// are judged by the flow once the protocol is known.
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
pub(crate) fn session_id_prefix(d: &[u8]) -> Option<u32> {
    let opcode = *d.first()? >> 3;
    if !matches!(opcode, 1..=5 | 7 | 8 | 10 | 11) || d.len() < 14 {
        return None;
    }
    let sid = u32::from_be_bytes([d[1], d[2], d[3], d[4]]);
    (sid != 0).then_some(sid)
}

/// Whether two first-datagram opcodes are a client reset and a server reset.
pub(crate) fn resets_pair(a: u8, b: u8) -> bool {
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

/// Whether `b` starts OpenVPN over TCP: a length prefix that fits a reset.
pub(crate) fn starts_tcp(b: &[u8]) -> bool {
    match be16(b, 0) {
        Some(len) if (14..=1600).contains(&len) => classify(&b[2..]).is_some(),
        _ => false,
    }
}

/// Walks OpenVPN-over-TCP packets: `u16 length` then the packet. 6 bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OpenVpnTcpWalker {
    len_bytes: u8,
    len_hi: u8,
    /// Bytes of the current packet still to skip; 0 with `len_bytes == 2`
    /// means the opcode byte is next.
    left: u16,
}

impl OpenVpnTcpWalker {
    pub(crate) const fn new() -> Self {
        OpenVpnTcpWalker {
            len_bytes: 0,
            len_hi: 0,
            left: 0,
        }
    }

    /// On a framing error returns the index in `data` of the bad byte.
    pub(crate) fn feed(&mut self, data: &[u8], facts: &mut Facts) -> Result<(), usize> {
        let mut i = 0;
        while i < data.len() {
            if self.len_bytes < 2 {
                if self.len_bytes == 0 {
                    self.len_hi = data[i];
                } else {
                    self.left = u16::from_be_bytes([self.len_hi, data[i]]);
                    if self.left == 0 {
                        return Err(i);
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
                    return Err(i);
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
        Ok(())
    }
}
