//! RTP/RTCP (RFC 3550 §5.1, §6.4). One datagram cannot tell RTP from noise
//! (a quarter of random first bytes have version 2), so RTP is confirmed by a
//! second datagram of the same direction with the same SSRC and a sequence
//! number a little ahead. SRTP keeps the header in the clear, so it is
//! recognized the same way; its keys come from DTLS-SRTP or signaling.

use super::{be16, Datagram, Facts};
use crate::verdict::Protocol;

/// RTP header fields needed for confirmation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct RtpHeader {
    ssrc: u32,
    seq: u16,
}

/// Parses an RTP (not RTCP) header.
fn header(d: &[u8]) -> Option<RtpHeader> {
    if d.len() < 12 || d[0] >> 6 != 2 {
        return None;
    }
    let payload_type = d[1] & 0x7f;
    // 72–76 collide with RTCP packet types 200–204 with the marker bit.
    if (72..=76).contains(&payload_type) {
        return None;
    }
    let csrc = (d[0] & 0x0f) as usize;
    if d.len() < 12 + 4 * csrc {
        return None;
    }
    Some(RtpHeader {
        seq: be16(d, 2)?,
        ssrc: u32::from_be_bytes([d[8], d[9], d[10], d[11]]),
    })
}

/// Whether `next` continues the stream `prev` started.
fn continues(prev: RtpHeader, next: RtpHeader) -> bool {
    prev.ssrc == next.ssrc && next.seq.wrapping_sub(prev.seq).wrapping_sub(1) < 64
}

/// What a direction remembers: the last RTP header seen, for confirmation
/// by the next one.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Memory {
    ssrc: u32,
    seq: u16,
    has: bool,
}

impl Memory {
    pub(crate) const fn new() -> Self {
        Memory {
            ssrc: 0,
            seq: 0,
            has: false,
        }
    }
}

/// What [`observe`] made of a datagram.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Observed {
    /// The datagram continues the RTP stream the last one started: the
    /// flow is RTP.
    pub names: bool,
    /// The flow is RTP and the datagram has an RTP header.
    pub framed: bool,
}

/// Runs for every datagram of a UDP flow (`known`: the flow's protocol so
/// far): one datagram cannot tell RTP from noise (a quarter of random first
/// bytes have version 2), two of one stream can. Random datagrams pass as a
/// pair with probability ~1/4 · 1/4 · 2^-32 (the SSRC) · 64/65536.
pub(crate) fn observe(d: &[u8], mem: &mut Memory, known: Option<Protocol>) -> Observed {
    let this = header(d);
    let names = match (mem.has, this, known) {
        (true, Some(next), None) => continues(
            RtpHeader {
                ssrc: mem.ssrc,
                seq: mem.seq,
            },
            next,
        ),
        _ => false,
    };
    if let Some(h) = this {
        (mem.ssrc, mem.seq, mem.has) = (h.ssrc, h.seq, true);
    }
    let rtp = names || known == Some(Protocol::Rtp);
    Observed {
        names,
        framed: rtp && this.is_some(),
    }
}

/// RTCP alone: a compound packet whose lengths add up, see [`is_rtcp`].
/// Uniformly random bytes pass with probability 1/4 (version) · 8/256
/// (packet type) · 2⁻¹⁶ (a length that ends at the datagram's end, for one
/// packet; each further packet multiplies by 1/4 · 8/256 again) ≈ 2⁻²³. A
/// direction's inspection reads its first 4 KiB, a few dozen datagrams:
/// a random flow is named RTP this way with ~2⁻¹⁸.
pub(crate) fn rtcp(d: &[u8]) -> Option<Datagram> {
    is_rtcp(d).then_some(Datagram::new(Protocol::Rtp, Facts::FRAMING))
}

/// Whether `d` is an RTCP compound packet: every packet version 2 with a
/// known type (SR, RR, SDES, BYE, APP, RTPFB, PSFB, XR), and the lengths add
/// up to the datagram exactly.
fn is_rtcp(d: &[u8]) -> bool {
    let mut at = 0;
    while at < d.len() {
        let (Some(&b0), Some(&pt), Some(words)) = (d.get(at), d.get(at + 1), be16(d, at + 2))
        else {
            return false;
        };
        if b0 >> 6 != 2 || !(200..=207).contains(&pt) {
            return false;
        }
        at += (words as usize + 1) * 4;
    }
    at == d.len() && !d.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    // ndpi/pcap/rtcp_multiple_pkts_in_the_same_datagram.pcap #0: a sender
    // report (13 words) and an SDES (15 words) in one 112-byte datagram;
    // the packets' headers at their offsets.
    const SR_HEAD: &[u8] = &[0x81, 0xc8, 0x00, 0x0c, 0x5d, 0x93, 0x15, 0x34];
    const SDES_HEAD: &[u8] = &[0x81, 0xca, 0x00, 0x0e, 0x5d, 0x93, 0x15, 0x34];

    #[test]
    fn a_compound_packet_from_the_captures() {
        let mut d = [0u8; 112];
        d[..8].copy_from_slice(SR_HEAD);
        d[52..60].copy_from_slice(SDES_HEAD);
        assert!(rtcp(&d).is_some());
        // Lengths that do not add up to the datagram.
        assert!(rtcp(&d[..111]).is_none());
        d[55] = 0x0d;
        assert!(rtcp(&d).is_none());
    }
}
