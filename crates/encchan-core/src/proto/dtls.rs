//! DTLS 1.0 – 1.3 records (RFC 6347 §4.1, RFC 9147 §4).
//!
//! Plaintext records carry content type, version 0xfeff/0xfefd/0xfefc, epoch,
//! sequence number and length; epoch-0 handshake records expose the message
//! type. DTLS 1.3 ciphertext uses the unified header (`001CSLEE`).
//!
//! Uniformly random bytes pass as a plaintext record with probability
//! 6/256 (content type) · 2⁻⁸ (0xfe) · 3/256 (version) · ~2⁻⁸ (a record
//! length that fits a 200-byte datagram) ≈ 2⁻³⁰. The unified header is
//! 3 bits and 2 flags and a length equal to the rest of the datagram:
//! 1/32 · 2⁻¹⁶ = 2⁻²¹, too loose to name a key-exchange protocol on its
//! own (one such datagram would name the flow DTLS, whose framing without
//! a hello exempts the flow's ciphertext): it only shows keyed framing on
//! a flow already known to be DTLS, whose handshake was plaintext records.

use super::{be16, Ctx, Datagram, Facts, Judgement};
use crate::verdict::Protocol;

const HANDSHAKE: u8 = 22;

/// The datagram recognizer: [`classify`], with DTLS 1.3's unified header
/// only on a flow already known to be DTLS.
pub(crate) fn recognize(d: &[u8], ctx: &mut Ctx<'_>) -> Judgement {
    match classify(d) {
        Some(g) if g.facts & Facts::HELLO == 0 && unified_header(d) => {
            Judgement::of((ctx.known == Some(Protocol::Dtls)).then_some(g))
        }
        g => Judgement::of(g),
    }
}

/// DTLS 1.3's unified header: fixed bits 001, no connection ID, and a
/// length.
fn unified_header(d: &[u8]) -> bool {
    d.first()
        .is_some_and(|&b0| b0 & 0xe0 == 0x20 && b0 & 0x10 == 0 && b0 & 0x04 != 0)
}

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
    if unified_header(d) {
        let seq_len = if b0 & 0x08 != 0 { 2 } else { 1 };
        let len = be16(d, 1 + seq_len)? as usize;
        if len > 0 && 3 + seq_len + len == d.len() {
            return Some(Datagram::new(Protocol::Dtls, Facts::FRAMING | Facts::KEYED));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::testing::Packet;
    use crate::proto::DatagramMemory;

    // ndpi/pcap/dtls.pcap #0: a DTLS 1.0 record (epoch 0) carrying a
    // ClientHello, 155 bytes.
    const CLIENT_HELLO: &[u8] = &[
        0x16, 0xfe, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x8e, 0x01, 0x00,
        0x00, 0x82, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x82, 0xfe, 0xfd,
    ];
    // No capture has DTLS 1.3: RFC 9147 §4's unified header with a 16-bit
    // sequence number and a length (0x2c, seq 0x0001, 100 bytes).
    const UNIFIED: &[u8] = &[0x2c, 0x00, 0x01, 0x00, 0x64];

    fn judge(d: &[u8], known: Option<Protocol>) -> Judgement {
        let (mut own, other) = (DatagramMemory::default(), DatagramMemory::default());
        let mut ctx = Ctx {
            known,
            first: true,
            own: &mut own,
            other: &other,
        };
        recognize(d, &mut ctx)
    }

    #[test]
    fn a_client_hello_from_the_captures_is_a_hello() {
        let hello = Datagram::new(Protocol::Dtls, Facts::HELLO | Facts::FRAMING);
        assert_eq!(
            judge(Packet::new(CLIENT_HELLO, 155).bytes(), None),
            Judgement::Yes(hello)
        );
        // A record length past the datagram.
        assert_eq!(
            judge(Packet::new(CLIENT_HELLO, 154).bytes(), None),
            Judgement::No
        );
    }

    #[test]
    fn the_unified_header_only_goes_on_with_a_dtls_flow() {
        let keyed = Datagram::new(Protocol::Dtls, Facts::FRAMING | Facts::KEYED);
        let d = Packet::new(UNIFIED, 105);
        assert_eq!(judge(d.bytes(), None), Judgement::No);
        assert_eq!(
            judge(d.bytes(), Some(Protocol::Dtls)),
            Judgement::Yes(keyed)
        );
        assert_eq!(
            judge(Packet::new(UNIFIED, 106).bytes(), Some(Protocol::Dtls)),
            Judgement::No
        );
    }
}
