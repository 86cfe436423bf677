//! Binary protocols recognized by the framing of their first message:
//! enterprise protocols whose payloads are partly ciphertext or compressed
//! (Kerberos tickets, SMB3 transforms, Zabbix compression) or that upgrade
//! to TLS mid-stream (LDAP, PostgreSQL, MySQL, RDP). Their high entropy is
//! framed by a known protocol, not a covert channel of its own.

use super::{be16, be32, Datagram, Facts};
use crate::verdict::Protocol;

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

/// The protocol a TCP stream's first bytes (up to 32) frame, if any.
pub(crate) fn classify_stream(p: &[u8]) -> Option<Protocol> {
    // Kerberos over TCP: 4-byte record mark (high bit clear), then a message.
    if let Some(mark) = be32(p, 0) {
        if mark < 0x8000_0000 && mark > 16 && kerberos_message(&p[4..], mark as usize) {
            return Some(Protocol::Kerberos);
        }
    }
    if ldap_message(p, None) {
        return Some(Protocol::Ldap);
    }
    // SMB: NetBIOS session message (or direct TCP 445) + SMB1/2/3 signature.
    if p.len() >= 8 && p[0] == 0 && matches!(&p[4..8], b"\xffSMB" | b"\xfeSMB" | b"\xfdSMB") {
        return Some(Protocol::Smb);
    }
    // PostgreSQL: SSLRequest, GSSENCRequest, or a v3 startup message.
    if let (Some(len), Some(code)) = (be32(p, 0), be32(p, 4)) {
        if (len == 8 && matches!(code, 80877103 | 80877104))
            || (len < 10_000 && code == 0x0003_0000)
        {
            return Some(Protocol::Postgres);
        }
    }
    // MySQL server greeting: 3-byte LE length, sequence 0, protocol 10, a
    // printable version string.
    if p.len() >= 8 && p[3] == 0 && p[4] == 10 && p[5].is_ascii_digit() && p[6] == b'.' {
        return Some(Protocol::Mysql);
    }
    // RDP: TPKT version 3, then an X.224 connection request/confirm.
    if p.len() >= 7
        && p[0] == 3
        && p[1] == 0
        && matches!(p[5], 0xe0 | 0xd0)
        && be16(p, 2)? as usize >= 11
    {
        return Some(Protocol::Rdp);
    }
    if p.starts_with(b"ZBXD") && p.get(4).is_some_and(|f| f & 0xf8 == 0) {
        return Some(Protocol::Zabbix);
    }
    if dns_over_tcp(p) {
        return Some(Protocol::Dns);
    }
    None
}

/// DNS over TCP (RFC 1035 §4.2.2, RFC 7766): a 2-byte length, a sane
/// header, and a question name that parses as far as the prefix goes.
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
    // The prefix ended inside the name, every label so far valid.
    at > 15
}

/// GTP-U (3GPP TS 29.281): version 1, protocol type GTP, a known message
/// type, and a length that covers exactly the rest of the datagram.
fn gtp_u(d: &[u8]) -> bool {
    let (Some(&flags), Some(&msg), Some(len)) = (d.first(), d.get(1), be16(d, 2)) else {
        return false;
    };
    flags >> 5 == 1
        && flags & 0x10 != 0
        && matches!(msg, 1 | 2 | 26 | 31 | 254 | 255)
        && len as usize + 8 == d.len()
}

/// Kerberos, CLDAP and GTP-U over UDP.
pub(crate) fn classify_datagram(d: &[u8]) -> Option<Datagram> {
    if gtp_u(d) {
        return Some(Datagram::new(Protocol::Gtp, Facts::FRAMING));
    }
    if kerberos_message(d, d.len()) {
        return Some(Datagram::new(Protocol::Kerberos, Facts::FRAMING));
    }
    if ldap_message(d, Some(d.len())) {
        return Some(Datagram::new(Protocol::Ldap, Facts::FRAMING));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_first_messages() {
        // Kerberos AS-REQ over TCP: mark 0x0000011c, [APPLICATION 10] len 0x82 0x0118, SEQUENCE.
        let mut k = [0u8; 32];
        k[..9].copy_from_slice(&[0, 0, 1, 0x1c, 0x6a, 0x82, 0x01, 0x18, 0x30]);
        assert_eq!(classify_stream(&k), Some(Protocol::Kerberos));
        assert_eq!(
            classify_stream(b"\x00\x00\x00\x08\x04\xd2\x16\x2f"),
            Some(Protocol::Postgres)
        );
        assert_eq!(
            classify_stream(b"\x4a\x00\x00\x00\x0a8.0.32\x00"),
            Some(Protocol::Mysql)
        );
        assert_eq!(
            classify_stream(b"\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00"),
            Some(Protocol::Rdp)
        );
        assert_eq!(
            classify_stream(b"\x30\x0c\x02\x01\x01\x60\x07\x02\x01\x03\x04\x00\x80\x00"),
            Some(Protocol::Ldap)
        );
        assert_eq!(
            classify_stream(b"\x00\x00\x00\x45\xfeSMB@\x00"),
            Some(Protocol::Smb)
        );
        assert_eq!(classify_stream(b"random bytes here, not framed"), None);
        let dns = b"\x00\x1d\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01";
        assert_eq!(classify_stream(dns), Some(Protocol::Dns));
    }
}
