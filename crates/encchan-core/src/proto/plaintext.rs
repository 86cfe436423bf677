//! Cleartext protocols recognized by their first bytes. High entropy inside
//! them (compressed bodies, base64 attachments, media) is content they frame,
//! not a covert channel of their own.

use super::{Datagram, Facts};
use crate::verdict::Protocol;

/// Prefixes that name a protocol from either side's first bytes.
const PREFIXES: &[(&[u8], Protocol)] = &[
    (b"GET ", Protocol::Http),
    (b"POST ", Protocol::Http),
    (b"HEAD ", Protocol::Http),
    (b"PUT ", Protocol::Http),
    (b"DELETE ", Protocol::Http),
    (b"OPTIONS ", Protocol::Http),
    (b"CONNECT ", Protocol::Http),
    (b"PATCH ", Protocol::Http),
    (b"TRACE ", Protocol::Http),
    (b"PROPFIND ", Protocol::Http),
    (b"HTTP/1.", Protocol::Http),
    (b"PRI * HTTP/2.0", Protocol::Http),
    (b"RTSP/1.0", Protocol::Rtsp),
    (b"DESCRIBE rtsp:", Protocol::Rtsp),
    (b"OPTIONS rtsp:", Protocol::Rtsp),
    (b"SIP/2.0", Protocol::Sip),
    (b"INVITE sip:", Protocol::Sip),
    (b"REGISTER sip:", Protocol::Sip),
    (b"OPTIONS sip:", Protocol::Sip),
    (b"NOTIFY sip:", Protocol::Sip),
    (b"EHLO ", Protocol::Smtp),
    (b"HELO ", Protocol::Smtp),
    (b"ehlo ", Protocol::Smtp),
    (b"helo ", Protocol::Smtp),
    (b"+OK", Protocol::Pop3),
    (b"* OK", Protocol::Imap),
    (b"* PREAUTH", Protocol::Imap),
    (b"USER ", Protocol::Ftp),
    (b"FEAT\r\n", Protocol::Ftp),
    (b"SYST\r\n", Protocol::Ftp),
    (b"\x13BitTorrent protocol", Protocol::BitTorrent),
];

/// The cleartext protocol `prefix` starts, if any. `220` greetings are SMTP
/// unless they say FTP; the client's first command settles it per flow.
pub(crate) fn classify_prefix(prefix: &[u8]) -> Option<Protocol> {
    for (p, proto) in PREFIXES {
        // A prefix longer than what we have cannot be judged yet; callers
        // pass at least 20 bytes or the whole stream.
        if prefix.len() >= p.len() && prefix.starts_with(p) {
            return Some(*proto);
        }
    }
    if prefix.len() >= 4 && (prefix.starts_with(b"220 ") || prefix.starts_with(b"220-")) {
        let says_ftp = prefix.windows(3).any(|w| w.eq_ignore_ascii_case(b"ftp"));
        return Some(if says_ftp {
            Protocol::Ftp
        } else {
            Protocol::Smtp
        });
    }
    None
}

/// Text protocols over UDP (SIP, SSDP-as-HTTP).
pub(crate) fn classify_datagram(d: &[u8]) -> Option<Datagram> {
    let proto = match classify_prefix(d) {
        Some(p @ (Protocol::Sip | Protocol::Http | Protocol::Rtsp)) => p,
        _ if d.starts_with(b"M-SEARCH ") || d.starts_with(b"NOTIFY * HTTP/1.1") => Protocol::Http,
        _ => return None,
    };
    Some(Datagram::new(proto, Facts::FRAMING))
}
