//! QUIC long-header packets (RFC 9000 §17.2, RFC 9369 for v2) and Google QUIC's
//! version-tagged public header.
//!
//! The Initial's payload is protected with keys derived from public values, so
//! the TLS handshake inside is not read here: the long header's structure,
//! a known version and sane connection-ID lengths identify the exchange, and a
//! long header from the other side answers it.

use super::{be32, Datagram, Facts};
use crate::verdict::Protocol;

fn known_version(v: u32) -> bool {
    v == 1                                // QUIC v1
        || v == 0x6b33_43cf               // QUIC v2
        || v & 0xffff_ff00 == 0xff00_0000 // IETF drafts
        || v & 0x0f0f_0f0f == 0x0a0a_0a0a // reserved greasing versions
        || v & 0xffff_0000 == 0x5130_0000 // Google "Q0xx"
        || v & 0xffff_0000 == 0x5430_0000 // Google "T0xx"
        || v == 0x709a_50c4 // mvfst
        || v & 0xffff_ff00 == 0xfaceb000 // mvfst experiments
}

pub(crate) fn classify(d: &[u8]) -> Option<Datagram> {
    let b0 = *d.first()?;
    if b0 & 0x80 != 0 {
        // IETF long header: form bit, (fixed bit), type, version, DCID, SCID.
        let version = be32(d, 1)?;
        if version == 0 {
            // Version negotiation: framing, not a hello.
            return Some(Datagram::new(Protocol::Quic, Facts::FRAMING));
        }
        // The fixed bit (0x40) is not checked: peers may grease it
        // (RFC 9287), and servers in the wild do.
        if !known_version(version) {
            return None;
        }
        let dcid_len = *d.get(5)? as usize;
        if dcid_len > 20 {
            return None;
        }
        let scid_len = *d.get(6 + dcid_len)? as usize;
        if scid_len > 20 || d.len() < 7 + dcid_len + scid_len + 4 {
            return None;
        }
        return Some(Datagram::new(Protocol::Quic, Facts::HELLO | Facts::FRAMING));
    }
    // Google QUIC (Q043 and older) public header: flags with the version bit,
    // 8-byte connection ID, then "Q0xx".
    if b0 & 0x01 != 0 && b0 & 0x08 != 0 && b0 & 0x80 == 0 {
        let v = d.get(9..13)?;
        if v[0] == b'Q' && v[1..].iter().all(u8::is_ascii_digit) {
            return Some(Datagram::new(Protocol::Quic, Facts::HELLO | Facts::FRAMING));
        }
    }
    None
}

/// What a direction remembers: how many datagrams in a row had QUIC's
/// short-header shape (form bit clear, fixed bit set), `u8::MAX` once one
/// did not. A quarter of random first bytes look like that, so only a run
/// on both sides counts ([`short_header_session`]), and only on a port
/// profiled for QUIC (the alert rules check that).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Memory {
    short_run: u8,
}

impl Memory {
    pub(crate) const fn new() -> Self {
        Memory { short_run: 0 }
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
mod tests {
    use super::*;

    #[test]
    fn initial_is_recognized() {
        let mut d = [0u8; 1200];
        d[0] = 0xc3;
        d[1..5].copy_from_slice(&1u32.to_be_bytes());
        d[5] = 8;
        d[14] = 0;
        assert_eq!(classify(&d).map(|g| g.protocol), Some(Protocol::Quic));
        d[5] = 21;
        assert_eq!(classify(&d), None);
        d[5] = 8;
        d[1..5].copy_from_slice(&0x1234_5678u32.to_be_bytes());
        assert_eq!(classify(&d), None);
    }
}
