//! DNS (RFC 1035 §4.1) over UDP, also mDNS and LLMNR: a sane header and a
//! question section whose names parse.
//!
//! Uniformly random bytes pass with probability 5/16 (opcode) · 2⁻¹³ (1 to
//! 8 questions) · ~1/4 (a first name that parses: mostly a compression
//! pointer, else the root or printable labels) · 5 · 2⁻¹⁵ (a known class)
//! ≈ 2⁻²⁹; an answer-only response (mDNS) with 5/16 · 2⁻¹⁶ (no question) ·
//! 1/2 (the response bit) · the same for its first record ≈ 2⁻³³.

use super::{be16, Datagram, Facts};
use crate::verdict::{Destination, Protocol};

pub(crate) fn classify(d: &[u8]) -> Option<Datagram> {
    let flags = be16(d, 2)?;
    let qdcount = be16(d, 4)?;
    let ancount = be16(d, 6)?;
    let opcode = (flags >> 11) & 0xf;
    if !matches!(opcode, 0 | 1 | 2 | 4 | 5) || qdcount > 8 {
        return None;
    }
    if qdcount == 0 {
        // mDNS announcements have answers only; accept when the first answer
        // parses.
        if ancount == 0 || flags & 0x8000 == 0 {
            return None;
        }
    }
    let mut at = 12;
    let records = if qdcount > 0 { qdcount } else { 1 };
    for _ in 0..records {
        at = skip_name(d, at)?;
        let class = be16(d, at + 2)? & 0x7fff;
        if !matches!(class, 1 | 3 | 4 | 254 | 255) {
            return None;
        }
        at += 4;
    }
    Some(Datagram::new(Protocol::Dns, Facts::FRAMING))
}

/// Skips a domain name at `at`, returning the offset after it.
fn skip_name(d: &[u8], mut at: usize) -> Option<usize> {
    let mut total = 0usize;
    loop {
        let len = *d.get(at)? as usize;
        match len {
            0 => return Some(at + 1),
            1..=63 => {
                let label = d.get(at + 1..at + 1 + len)?;
                // Hostnames and service labels are printable.
                if !label.iter().all(|&b| (0x21..0x7f).contains(&b)) {
                    return None;
                }
                total += len + 1;
                if total > 255 {
                    return None;
                }
                at += 1 + len;
            }
            // A compression pointer ends the name.
            0xc0..=0xff => {
                d.get(at + 1)?;
                return Some(at + 2);
            }
            _ => return None,
        }
    }
}

/// Labels shorter than this are words of a name (`www`, `mail`, `api`), not
/// an encoded payload: the payload tools put 30–63 characters in a label.
pub(crate) const PAYLOAD_LABEL: usize = 10;

/// A part of a DNS message that may carry an encoded payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    /// A question name's label (offset, length): lower-case letters are
    /// measured upper-cased, as names are case-insensitive and base32 is
    /// written in either case.
    Label(usize, usize),
    /// TXT character-string or NULL record data (offset, length), measured
    /// as it is.
    Data(usize, usize),
    /// The zone the labels were sent to (offset of its first label in the
    /// message): the name's last two labels.
    Zone(usize),
}

/// The parts of DNS message `d` that may carry an encoded payload, in
/// order: in a query, the question names' labels of at least
/// [`PAYLOAD_LABEL`] characters, except the last two (the zone a C2 owns
/// and answers for); in a response, the character-strings of TXT records
/// and the data of NULL records. Left out, as ordinary names carry random
/// tokens there: names whose first label starts with `_` (service names,
/// ACME challenges, DKIM and DMARC), `xn--` labels (internationalized
/// names), TXT records that open with `key=` (SPF, DKIM, site
/// verifications), DNSCrypt certificates, and DNSSEC, CNAME and every
/// other record type.
/// Nothing is measured unless the whole message parses.
pub(crate) fn payload_parts(d: &[u8], mut part: impl FnMut(Part)) {
    let (Some(flags), Some(qdcount), Some(ancount)) = (be16(d, 2), be16(d, 4), be16(d, 6)) else {
        return;
    };
    let response = flags & 0x8000 != 0;
    let mut at = 12;
    let mut service = false;
    for _ in 0..qdcount {
        let start = at;
        let Some(end) = skip_name(d, at) else {
            return;
        };
        service |= d.get(start + 1) == Some(&b'_');
        if !response && !service {
            question_labels(d, start, &mut part);
        }
        at = end + 4;
    }
    if !response || service {
        return;
    }
    for _ in 0..ancount {
        let Some(end) = skip_name(d, at) else {
            return;
        };
        let (Some(rtype), Some(rdlen)) = (be16(d, end), be16(d, end + 8)) else {
            return;
        };
        let rdata = end + 10;
        let Some(data) = d.get(rdata..rdata + rdlen as usize) else {
            return;
        };
        match rtype {
            16 if !key_value(data) && !dnscrypt_certificate(data) => {
                let mut s = 0;
                while let Some(&len) = data.get(s) {
                    let len = len as usize;
                    if s + 1 + len > data.len() {
                        return;
                    }
                    part(Part::Data(rdata + s + 1, len));
                    s += 1 + len;
                }
            }
            10 => part(Part::Data(rdata, rdlen as usize)),
            _ => {}
        }
        at = rdata + rdlen as usize;
    }
}

/// The name at `at` (uncompressed labels, as `question_labels` found
/// them), dotted, as a [`Destination`] on port 53.
pub(crate) fn zone(d: &[u8], mut at: usize) -> Destination {
    let mut text = [0u8; 64];
    let mut n = 0;
    while let Some(&len) = d.get(at) {
        let len = len as usize;
        let Some(label) = d
            .get(at + 1..at + 1 + len)
            .filter(|_| (1..=63).contains(&len))
        else {
            break;
        };
        if n > 0 && n < text.len() {
            text[n] = b'.';
            n += 1;
        }
        let take = label.len().min(text.len() - n);
        text[n..n + take].copy_from_slice(&label[..take]);
        n += take;
        at += 1 + len;
    }
    Destination::name(&text[..n], 53)
}

/// Whether a TXT record is a DNSCrypt resolver certificate (its magic,
/// `DNSC`, then an Ed25519 signature and a public key: random bytes that
/// say nothing of a payload).
fn dnscrypt_certificate(rdata: &[u8]) -> bool {
    rdata.get(1..5) == Some(b"DNSC")
}

/// Whether a TXT record's first character-string opens with `key=` (a word
/// of letters, digits, `-`, `_` or `.`, then `=`).
fn key_value(rdata: &[u8]) -> bool {
    let Some(&len) = rdata.first() else {
        return false;
    };
    let s = &rdata[1..(1 + len as usize).min(rdata.len())];
    let key = s
        .iter()
        .take_while(|&&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        .count();
    key > 0 && key <= 64 && s.get(key) == Some(&b'=')
}

/// The labels of the uncompressed question name at `at` (already checked
/// by `skip_name`): the long ones before the last two, then the zone.
fn question_labels(d: &[u8], at: usize, part: &mut impl FnMut(Part)) {
    let labels = |mut i: usize| {
        core::iter::from_fn(move || {
            let len = *d.get(i)? as usize;
            if len == 0 || len > 63 {
                return None;
            }
            let label = (i + 1, len);
            i += 1 + len;
            Some(label)
        })
    };
    let count = labels(at).count();
    if count < 3 {
        return;
    }
    let mut measured = false;
    for (k, (start, len)) in labels(at).enumerate() {
        if k == count - 2 {
            if measured {
                part(Part::Zone(start - 1));
            }
            break;
        }
        if len >= PAYLOAD_LABEL && !d[start..].starts_with(b"xn--") {
            part(Part::Label(start, len));
            measured = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_is_recognized() {
        let q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01";
        assert_eq!(classify(q).map(|g| g.protocol), Some(Protocol::Dns));
        let mut bad = *q;
        bad[12] = 0x50;
        assert_eq!(classify(&bad), None);
    }
}
