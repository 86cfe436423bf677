//! DTLS 1.0 – 1.3 records (RFC 6347 §4.1, RFC 9147 §4).
//!
//! Plaintext records carry content type, version 0xfeff/0xfefd/0xfefc, epoch,
//! sequence number and length; epoch-0 handshake records expose the message
//! type. DTLS 1.3 ciphertext uses the unified header (`001CSLEE`).

use super::{be16, Datagram, Facts};
use crate::verdict::Protocol;

const HANDSHAKE: u8 = 22;

pub(crate) fn classify(d: &[u8]) -> Option<Datagram> {
    let b0 = *d.first()?;
    if (20..=25).contains(&b0) {
        if d.len() < 13 || d[1] != 0xfe || !matches!(d[2], 0xff | 0xfd | 0xfc) {
            return None;
        }
        let len = be16(d, 11)? as usize;
        if len == 0 || 13 + len > d.len() {
            return None;
        }
        let epoch = be16(d, 3)?;
        let mut facts = Facts::FRAMING;
        if b0 == HANDSHAKE && epoch == 0 {
            // ClientHello, ServerHello or HelloVerifyRequest.
            if matches!(d[13], 1..=3) {
                facts |= Facts::HELLO;
            }
        } else if epoch > 0 || b0 == 20 || b0 == 23 {
            facts |= Facts::KEYED;
        }
        return Some(Datagram::new(Protocol::Dtls, facts));
    }
    // DTLS 1.3 unified header: fixed bits 001, connection-ID, sequence-number
    // size and length-present flags, 2 epoch bits; demand the length.
    if b0 & 0xe0 == 0x20 && b0 & 0x10 == 0 && b0 & 0x04 != 0 {
        let seq_len = if b0 & 0x08 != 0 { 2 } else { 1 };
        let len = be16(d, 1 + seq_len)? as usize;
        if len > 0 && 3 + seq_len + len == d.len() {
            return Some(Datagram::new(Protocol::Dtls, Facts::FRAMING | Facts::KEYED));
        }
    }
    None
}
