//! Protocol recognizers: one module per protocol, each small and zero-copy.
//!
//! Stream protocols (TLS, SSH, OpenVPN over TCP) are walked by byte-exact state
//! machines that keep only a few header bytes between chunks, so records split
//! across segments and several records per segment are the same to them, and
//! record bodies are skipped by arithmetic. Datagram protocols are judged one
//! datagram at a time by pure functions.
//!
//! Recognizers never allocate and never look at the port.

pub(crate) mod dns;
pub(crate) mod dtls;
pub(crate) mod framed;
pub(crate) mod ike;
pub(crate) mod openvpn;
pub(crate) mod plaintext;
pub(crate) mod quic;
pub(crate) mod rtp;
pub(crate) mod ssh;
pub(crate) mod stun;
pub mod tls;
pub(crate) mod wireguard;

use crate::verdict::{MalformReason, Protocol};

/// A walker's framing error: the reason, the stream offset of the fault
/// (what the evidence reports), and the offset just past the byte that
/// revealed it (where measuring resumes: a fixed point of the stream, so
/// the measured bytes do not depend on how it was chunked).
pub(crate) type Broken = (MalformReason, u64, u64);

/// What one direction has shown of its protocol. 8 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Facts {
    bits: u8,
    malform_reason: u8,
    /// Stream offset of the malformation (saturated to u32).
    malform_at: u32,
}

impl Facts {
    pub const EMPTY: Facts = Facts {
        bits: 0,
        malform_reason: 0,
        malform_at: 0,
    };
    /// This side sent its half of a key exchange (ClientHello/ServerHello,
    /// SSH KEXINIT, QUIC/DTLS/WireGuard/IKE/OpenVPN handshake packets).
    pub const HELLO: u8 = 1;
    /// This side switched to protected traffic (TLS ChangeCipherSpec or
    /// application data, SSH NEWKEYS, WireGuard transport …).
    pub const KEYED: u8 = 2;
    /// The protocol's framing was seen (possibly without any hello: a
    /// mid-stream pickup).
    pub const FRAMING: u8 = 4;
    /// A fatal TLS alert before the exchange completed.
    pub const FATAL_ALERT: u8 = 8;

    #[inline]
    pub fn set(&mut self, bit: u8) {
        self.bits |= bit;
    }

    #[inline]
    pub fn has(&self, bit: u8) -> bool {
        self.bits & bit != 0
    }

    pub fn set_malformed(&mut self, reason: MalformReason, at: u64) {
        if self.malform_reason == 0 {
            self.malform_reason = reason as u8;
            self.malform_at = at.min(u32::MAX as u64) as u32;
        }
    }

    pub fn malformed(&self) -> Option<(MalformReason, u64)> {
        let reason = match self.malform_reason {
            1 => MalformReason::BadRecordType,
            2 => MalformReason::BadRecordVersion,
            3 => MalformReason::RecordTooLong,
            4 => MalformReason::BadHandshake,
            5 => MalformReason::BadSshPacket,
            6 => MalformReason::BadSshBanner,
            7 => MalformReason::FatalAlert,
            _ => return None,
        };
        Some((reason, self.malform_at as u64))
    }
}

/// A recognizer's judgement of one datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Datagram {
    pub protocol: Protocol,
    /// `Facts` bits this datagram shows.
    pub facts: u8,
}

impl Datagram {
    pub const fn new(protocol: Protocol, facts: u8) -> Self {
        Datagram { protocol, facts }
    }
}

/// Judges one UDP datagram by the protocols that frame their first bytes
/// strictly enough to tell apart. RTP and OpenVPN are left to the flow: one
/// datagram is not enough to believe them.
pub(crate) fn classify_datagram(d: &[u8]) -> Option<Datagram> {
    // Order: the strictest checks first, so a loose one never claims a
    // datagram a strict one would have recognized.
    ike::classify(d)
        .or_else(|| wireguard::classify(d))
        .or_else(|| stun::classify(d))
        .or_else(|| dtls::classify(d))
        .or_else(|| quic::classify(d))
        .or_else(|| dns::classify(d))
        .or_else(|| framed::classify_datagram(d))
        .or_else(|| plaintext::classify_datagram(d))
        .or_else(|| rtp::is_rtcp(d).then_some(Datagram::new(Protocol::Rtp, Facts::FRAMING)))
}

/// Reads a big-endian u16 at `at`, if present.
#[inline]
pub(crate) fn be16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*d.get(at)?, *d.get(at + 1)?]))
}

/// Reads a big-endian u32 at `at`, if present.
#[inline]
pub(crate) fn be32(d: &[u8], at: usize) -> Option<u32> {
    let b = d.get(at..at + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}
