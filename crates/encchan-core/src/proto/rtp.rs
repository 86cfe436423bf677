//! RTP/RTCP (RFC 3550 §5.1, §6.4). One datagram cannot tell RTP from noise
//! (a quarter of random first bytes have version 2), so RTP is confirmed by a
//! second datagram of the same direction with the same SSRC and a sequence
//! number a little ahead. SRTP keeps the header in the clear, so it is
//! recognized the same way; its keys come from DTLS-SRTP or signaling.

use super::be16;

/// RTP header fields needed for confirmation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RtpHeader {
    pub ssrc: u32,
    pub seq: u16,
}

/// Parses an RTP (not RTCP) header.
pub(crate) fn header(d: &[u8]) -> Option<RtpHeader> {
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
pub(crate) fn continues(prev: RtpHeader, next: RtpHeader) -> bool {
    prev.ssrc == next.ssrc && next.seq.wrapping_sub(prev.seq).wrapping_sub(1) < 64
}

/// Whether `d` is an RTCP compound packet: every packet version 2 with a
/// known type (SR, RR, SDES, BYE, APP, RTPFB, PSFB, XR), and the lengths add
/// up to the datagram exactly.
pub(crate) fn is_rtcp(d: &[u8]) -> bool {
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
