//! DNS (RFC 1035 §4.1) over UDP, also mDNS and LLMNR: a sane header and a
//! question section whose names parse.

use super::{be16, Datagram, Facts};
use crate::verdict::Protocol;

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
