//! TLS (SSLv3 – 1.3, and the SSLv2-compatible ClientHello) as a byte-exact
//! streaming walker.
//!
//! It keeps the 5-byte record header and the 4-byte handshake header between
//! chunks, and reads only the hello fields the verdict needs: the ServerHello's
//! version (legacy or `supported_versions`) and cipher suite. Record and
//! message bodies are skipped by arithmetic, so after the handshake the cost is
//! one header per record. A record that breaks the framing rules stops the
//! walker and is reported with its stream offset.
//!
//! A stream that opens with a hello is explained by it; TLS records that
//! open with anything else are walked (their framing is evidence) but
//! measured: records with no handshake are a costume.

use super::{Broken, Facts, Step, Unknown, Walk, Walker};
use crate::verdict::MalformReason;

const CHANGE_CIPHER_SPEC: u8 = 20;
const ALERT: u8 = 21;
const HANDSHAKE: u8 = 22;
const APPLICATION_DATA: u8 = 23;
const HEARTBEAT: u8 = 24;
/// Internal: the body of an SSLv2-format hello, skipped whole.
const SSLV2_HELLO: u8 = 0xff;
/// Internal: an SSLv2 record after the hellos (CLIENT-MASTER-KEY, then
/// encrypted records), skipped whole.
const SSLV2_RECORD: u8 = 0xfe;
/// SSLv2 SERVER-HELLO message type.
const SSLV2_SERVER_HELLO: u8 = 4;

const CLIENT_HELLO: u8 = 1;
const SERVER_HELLO: u8 = 2;

/// TLSCiphertext may carry 2^14 + 2048 bytes (RFC 5246 §6.2.3).
const MAX_RECORD: u16 = 16384 + 2048;

/// The shortest hello bodies: version + random + session-id length, and for a
/// ServerHello also the cipher suite and compression method.
const MIN_CLIENT_HELLO: u32 = 2 + 32 + 1 + 2 + 2 + 1 + 1;
const MIN_SERVER_HELLO: u32 = 2 + 32 + 1 + 2 + 1;

const SUPPORTED_VERSIONS: u16 = 0x002b;

/// Whether `b` starts like a TLS record: a known content type, version 3.x
/// with x ≤ 4.
pub(crate) fn starts_record(b: &[u8]) -> bool {
    b.len() >= 3 && (CHANGE_CIPHER_SPEC..=HEARTBEAT).contains(&b[0]) && b[1] == 3 && b[2] <= 4
}

/// Whether `b` starts an SSLv2-format ClientHello (2-byte header with the
/// high bit set, message type 1, version 2.0 or 3.x). Returns its total
/// length.
pub(crate) fn sslv2_client_hello(b: &[u8]) -> Option<u16> {
    if b.len() < 5 || b[0] & 0x80 == 0 || b[2] != CLIENT_HELLO {
        return None;
    }
    let version_ok = (b[3] == 0 && b[4] == 2) || (b[3] == 3 && b[4] <= 3);
    let len = (((b[0] & 0x7f) as u16) << 8) | b[1] as u16;
    (version_ok && len >= 9).then_some(len + 2)
}

/// Whether `b` starts an SSLv2 SERVER-HELLO (2-byte header with the high
/// bit set, message type 4, an X.509 certificate, version 2.0): the answer
/// to an SSLv2 ClientHello that no TLS server gives. Returns its total
/// length.
pub(crate) fn sslv2_server_hello(b: &[u8]) -> Option<u16> {
    if b.len() < 7 || b[0] & 0x80 == 0 || b[2] != SSLV2_SERVER_HELLO {
        return None;
    }
    let len = (((b[0] & 0x7f) as u16) << 8) | b[1] as u16;
    (b[3] <= 1 && b[4] == 1 && b[5] == 0 && b[6] == 2 && len >= 11).then_some(len + 2)
}

/// Whether `b` starts a handshake record whose first message is a
/// ClientHello or a ServerHello: the opening that explains a TLS stream.
pub(crate) fn starts_hello(b: &[u8]) -> bool {
    starts_record(b)
        && b[0] == HANDSHAKE
        && matches!(b.get(5), Some(&(CLIENT_HELLO | SERVER_HELLO)))
}

/// The stream probe: an SSLv2-format hello, or a TLS record.
pub(crate) fn probe(w: &[u8], _complete: bool) -> Option<Walker> {
    if let Some(total) = sslv2_client_hello(w).or_else(|| sslv2_server_hello(w)) {
        return Some(TlsWalker::after_sslv2_hello(total).into());
    }
    starts_record(w).then(|| {
        let mut walker = TlsWalker::new();
        walker.measure = !starts_hello(w);
        walker.into()
    })
}

/// Whether `b` starts a TLS handshake: a handshake record holding a
/// ClientHello (or an SSLv2-format ClientHello).
pub fn looks_like_tls(b: &[u8]) -> bool {
    (starts_record(b) && b[0] == HANDSHAKE && b.get(5) == Some(&CLIENT_HELLO))
        || sslv2_client_hello(b).is_some()
}

/// Where the hello parser stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Hello {
    /// Not in a hello we read (other messages are skipped).
    Skip,
    ClientVersion,
    ServerVersion,
    ServerRandom,
    ServerSessionIdLen,
    ServerSessionId,
    ServerCipher,
    ServerCompression,
    ServerExtensionsLen,
    ServerExtensionType,
    ServerExtensionLen,
    ServerExtensionBody,
    ServerSupportedVersion,
    Done,
}

/// Negotiated parameters, filled from the ServerHello.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Negotiated {
    pub version: u16,
    pub cipher_suite: u16,
}

impl Negotiated {
    pub const NONE: Negotiated = Negotiated {
        version: 0,
        cipher_suite: 0,
    };
}

/// Streaming TLS walker for one direction. 28 bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TlsWalker {
    /// What the ServerHello negotiated (zero until read).
    neg: Negotiated,
    /// The stream did not open with a hello: its bytes are measured.
    measure: bool,
    /// The stream opened with an SSLv2 hello, whose facts are set on the
    /// first walk.
    sslv2_hello: bool,
    /// An alert record came after the keys were in use: a close_notify, as
    /// far as can be told. If no record follows, the session ended and the
    /// carrier took its stream back (FTP's CCC, RFC 4217).
    closed: bool,
    /// Record header bytes read of the current record (0–5); each is checked
    /// as it arrives, so no header buffer is kept.
    header_len: u8,
    record_type: u8,
    record_left: u16,
    /// Handshake header bytes read of the current message (0–4).
    hs_header_len: u8,
    hs_type: u8,
    hello: Hello,
    /// ChangeCipherSpec seen: later handshake records are encrypted.
    encrypted: bool,
    hs_left: u32,
    /// Bytes still wanted for the current field (read), or to skip.
    want: u16,
    acc: u16,
    /// Type of the ServerHello extension whose length is being read.
    ext_type: u16,
    /// The next body byte is an alert's level.
    alert_level_next: bool,
    /// The stream opened with an SSLv2 hello: records whose first byte has
    /// the high bit set are SSLv2's, with a 2-byte header.
    sslv2: bool,
    /// The ServerHello being read is not the stream's first: it is checked,
    /// but what the first one negotiated stands.
    later_hello: bool,
}

impl TlsWalker {
    pub(crate) const fn new() -> Self {
        TlsWalker {
            neg: Negotiated {
                version: 0,
                cipher_suite: 0,
            },
            measure: false,
            sslv2_hello: false,
            closed: false,
            header_len: 0,
            record_type: 0,
            record_left: 0,
            hs_header_len: 0,
            hs_type: 0,
            hello: Hello::Skip,
            encrypted: false,
            hs_left: 0,
            want: 0,
            acc: 0,
            ext_type: 0,
            alert_level_next: false,
            sslv2: false,
            later_hello: false,
        }
    }

    /// A walker positioned inside an SSLv2-format hello (a ClientHello, or
    /// SSLv2's SERVER-HELLO) of `total` bytes (header included), which it
    /// skips whole. TLS records or SSLv2 records may follow.
    pub(crate) fn after_sslv2_hello(total: u16) -> Self {
        TlsWalker {
            header_len: 5,
            record_type: SSLV2_HELLO,
            record_left: total,
            sslv2: true,
            sslv2_hello: true,
            ..TlsWalker::new()
        }
    }

    /// What the ServerHello negotiated, once read.
    pub(crate) fn negotiated(&self) -> Option<Negotiated> {
        (self.neg.version != 0).then_some(self.neg)
    }

    /// Walks `data`, whose first byte is at stream offset `offset`.
    /// On a framing error returns the reason and the offset of the bad byte;
    /// the walker must not be fed again.
    fn feed(&mut self, data: &[u8], offset: u64, facts: &mut Facts) -> Result<(), Broken> {
        if self.sslv2_hello {
            self.sslv2_hello = false;
            facts.set(Facts::HELLO | Facts::FRAMING);
        }
        let mut neg = self.neg;
        let r = self.records(data, offset, facts, &mut neg);
        self.neg = neg;
        r
    }

    fn records(
        &mut self,
        data: &[u8],
        offset: u64,
        facts: &mut Facts,
        neg: &mut Negotiated,
    ) -> Result<(), Broken> {
        let mut i = 0;
        while i < data.len() {
            if self.header_len < 5 {
                self.header_byte(data[i], offset + i as u64, facts)?;
                i += 1;
                continue;
            }
            let take = (self.record_left as usize).min(data.len() - i);
            let body = &data[i..i + take];
            let body_offset = offset + i as u64;
            match self.record_type {
                HANDSHAKE if !self.encrypted => self.handshake(body, body_offset, facts, neg)?,
                ALERT if self.alert_level_next && take > 0 => {
                    self.alert_level_next = false;
                    if body[0] == 2 && !self.encrypted {
                        facts.set(Facts::FATAL_ALERT);
                    }
                }
                _ => {}
            }
            i += take;
            self.record_left -= take as u16;
            if self.record_left == 0 {
                self.end_record(offset + i as u64)?;
            }
        }
        Ok(())
    }

    /// One record-header byte at stream offset `at`.
    fn header_byte(&mut self, b: u8, at: u64, facts: &mut Facts) -> Result<(), Broken> {
        if self.record_type == SSLV2_RECORD && self.header_len > 0 {
            return self.sslv2_header_byte(b, at, facts);
        }
        match self.header_len {
            // SSLv2 records: a 2-byte header (high bit set), or a 3-byte
            // one (two bits clear; its third byte counts padding).
            0 if self.sslv2 && b & 0x80 != 0 => {
                self.record_type = SSLV2_RECORD;
                self.record_left = ((b & 0x7f) as u16) << 8;
                self.header_len = 1;
                return Ok(());
            }
            0 if self.sslv2 && b < 0x40 && !(CHANGE_CIPHER_SPEC..=HEARTBEAT).contains(&b) => {
                self.record_type = SSLV2_RECORD;
                self.record_left = ((b & 0x3f) as u16) << 8;
                self.header_len = 2;
                return Ok(());
            }
            0 if !(CHANGE_CIPHER_SPEC..=HEARTBEAT).contains(&b) => {
                return Err((MalformReason::BadRecordType, at, at + 1))
            }
            0 => self.record_type = b,
            1 if b != 3 => return Err((MalformReason::BadRecordVersion, at, at + 1)),
            2 if b > 4 => return Err((MalformReason::BadRecordVersion, at, at + 1)),
            3 => self.record_left = (b as u16) << 8,
            4 => {
                self.record_left |= b as u16;
                let len = self.record_left;
                if len > MAX_RECORD || (len == 0 && self.record_type != APPLICATION_DATA) {
                    return Err((MalformReason::RecordTooLong, at - 1, at + 1));
                }
                self.start_record(facts);
            }
            _ => {}
        }
        self.header_len += 1;
        if self.header_len == 5 && self.record_left == 0 {
            self.header_len = 0;
        }
        Ok(())
    }

    /// The rest of an SSLv2 record header: `header_len` 1 and 2 wait for the
    /// length's low byte (of a 2- and a 3-byte header), 3 for the padding
    /// count.
    fn sslv2_header_byte(&mut self, b: u8, at: u64, facts: &mut Facts) -> Result<(), Broken> {
        if self.header_len < 3 {
            self.record_left |= b as u16;
            if self.record_left == 0 {
                return Err((MalformReason::RecordTooLong, at, at + 1));
            }
            if self.header_len == 2 {
                self.header_len = 3;
                return Ok(());
            }
        }
        self.start_record(facts);
        self.header_len = 5;
        Ok(())
    }

    fn start_record(&mut self, facts: &mut Facts) {
        facts.set(Facts::FRAMING);
        self.closed = false;
        match self.record_type {
            CHANGE_CIPHER_SPEC => {
                self.encrypted = true;
                facts.set(Facts::KEYED);
            }
            // SSLv2 after the hellos: the master key, then ciphertext.
            APPLICATION_DATA | SSLV2_RECORD => facts.set(Facts::KEYED),
            ALERT => {
                self.alert_level_next = true;
                self.closed = self.encrypted || facts.has(Facts::KEYED);
            }
            _ => {}
        }
    }

    fn end_record(&mut self, _at: u64) -> Result<(), Broken> {
        self.header_len = 0;
        self.alert_level_next = false;
        Ok(())
    }

    /// Walks handshake-message bytes (possibly several messages, possibly a
    /// piece of one).
    fn handshake(
        &mut self,
        mut body: &[u8],
        mut offset: u64,
        facts: &mut Facts,
        neg: &mut Negotiated,
    ) -> Result<(), Broken> {
        while !body.is_empty() {
            if self.hs_header_len < 4 {
                let b = body[0];
                if self.hs_header_len == 0 {
                    if !known_handshake_type(b) {
                        return Err((MalformReason::BadHandshake, offset, offset + 1));
                    }
                    self.hs_type = b;
                    self.hs_left = 0;
                } else {
                    self.hs_left = (self.hs_left << 8) | b as u32;
                }
                self.hs_header_len += 1;
                body = &body[1..];
                offset += 1;
                if self.hs_header_len == 4 {
                    self.later_hello = neg.version != 0;
                    self.start_message(offset, facts)?;
                }
                continue;
            }
            let take = (self.hs_left.min(body.len() as u32)) as usize;
            if self.hello != Hello::Skip && self.hello != Hello::Done {
                let mut scratch = Negotiated::NONE;
                let neg = if self.later_hello {
                    &mut scratch
                } else {
                    &mut *neg
                };
                self.hello_bytes(&body[..take], neg);
            }
            self.hs_left -= take as u32;
            body = &body[take..];
            offset += take as u64;
            if self.hs_left == 0 {
                self.end_message(offset)?;
            }
        }
        Ok(())
    }

    fn start_message(&mut self, at: u64, facts: &mut Facts) -> Result<(), Broken> {
        self.hello = match self.hs_type {
            CLIENT_HELLO => {
                if self.hs_left < MIN_CLIENT_HELLO {
                    return Err((MalformReason::BadHandshake, at - 3, at));
                }
                facts.set(Facts::HELLO);
                self.want = 2;
                Hello::ClientVersion
            }
            SERVER_HELLO => {
                if self.hs_left < MIN_SERVER_HELLO {
                    return Err((MalformReason::BadHandshake, at - 3, at));
                }
                facts.set(Facts::HELLO);
                self.want = 2;
                Hello::ServerVersion
            }
            _ => Hello::Skip,
        };
        self.acc = 0;
        if self.hs_left == 0 {
            self.end_message(at)?;
        }
        Ok(())
    }

    fn end_message(&mut self, at: u64) -> Result<(), Broken> {
        // A ServerHello must have got at least to its compression method;
        // extensions are optional (TLS ≤ 1.2).
        let truncated = matches!(
            self.hello,
            Hello::ServerVersion
                | Hello::ServerRandom
                | Hello::ServerSessionIdLen
                | Hello::ServerSessionId
                | Hello::ServerCipher
                | Hello::ServerCompression
        );
        // Inside an extension, or its header half read: the lengths lied.
        let ext_cut = matches!(
            self.hello,
            Hello::ServerExtensionLen | Hello::ServerExtensionBody | Hello::ServerSupportedVersion
        ) || (self.hello == Hello::ServerExtensionType && self.want == 1)
            || (self.hello == Hello::ServerExtensionsLen && self.want == 1);
        self.hs_header_len = 0;
        self.hello = Hello::Skip;
        if truncated || ext_cut {
            return Err((MalformReason::BadHandshake, at, at));
        }
        Ok(())
    }

    /// Reads hello fields from `data` (within the current message).
    fn hello_bytes(&mut self, mut data: &[u8], neg: &mut Negotiated) {
        while !data.is_empty() {
            match self.hello {
                Hello::Skip | Hello::Done => return,
                Hello::ServerRandom | Hello::ServerSessionId | Hello::ServerExtensionBody => {
                    let n = (self.want as usize).min(data.len());
                    data = &data[n..];
                    self.want -= n as u16;
                    if self.want == 0 {
                        self.advance(neg);
                    }
                }
                _ => {
                    self.acc = (self.acc << 8) | data[0] as u16;
                    data = &data[1..];
                    self.want -= 1;
                    if self.want == 0 {
                        self.advance(neg);
                    }
                }
            }
        }
    }

    /// A field is complete: act on it and set up the next one.
    fn advance(&mut self, neg: &mut Negotiated) {
        let value = self.acc;
        self.acc = 0;
        let (next, want) = match self.hello {
            Hello::ClientVersion => (Hello::Done, 0),
            Hello::ServerVersion => {
                neg.version = value;
                (Hello::ServerRandom, 32)
            }
            Hello::ServerRandom => (Hello::ServerSessionIdLen, 1),
            Hello::ServerSessionIdLen if value == 0 => (Hello::ServerCipher, 2),
            Hello::ServerSessionIdLen => (Hello::ServerSessionId, value),
            Hello::ServerSessionId => (Hello::ServerCipher, 2),
            Hello::ServerCipher => {
                neg.cipher_suite = value;
                (Hello::ServerCompression, 1)
            }
            Hello::ServerCompression => (Hello::ServerExtensionsLen, 2),
            Hello::ServerExtensionsLen => (Hello::ServerExtensionType, 2),
            Hello::ServerExtensionType => {
                self.ext_type = value;
                (Hello::ServerExtensionLen, 2)
            }
            Hello::ServerExtensionLen if self.ext_type == SUPPORTED_VERSIONS && value == 2 => {
                (Hello::ServerSupportedVersion, 2)
            }
            Hello::ServerExtensionLen if value == 0 => (Hello::ServerExtensionType, 2),
            Hello::ServerExtensionLen => (Hello::ServerExtensionBody, value),
            Hello::ServerExtensionBody => (Hello::ServerExtensionType, 2),
            Hello::ServerSupportedVersion => {
                neg.version = value;
                (Hello::ServerExtensionType, 2)
            }
            Hello::Skip | Hello::Done => (Hello::Done, 0),
        };
        self.hello = next;
        self.want = want;
    }
}

impl Walk for TlsWalker {
    fn walk(&mut self, data: &[u8], offset: u64, facts: &mut Facts) -> Step {
        match self.feed(data, offset, facts) {
            Ok(()) if self.measure => Step::measure(data.len()),
            Ok(()) => Step::explain(data.len()),
            // After the session's closing alert, bytes that are no record
            // are not TLS's: sniffed afresh, measured if nothing is there.
            Err((MalformReason::BadRecordType, at, _)) if self.closed => Step {
                // The records before it keep their disposition.
                measure: self.measure,
                ..Step::hand_off((at - offset) as usize, Unknown::Measure)
            },
            Err(b) => Step::broken(b, offset, self.measure),
        }
    }
}

/// Handshake message types of SSLv3 – TLS 1.3 and DTLS (IANA registry).
fn known_handshake_type(t: u8) -> bool {
    matches!(t, 0..=6 | 8 | 11..=17 | 20..=25 | 67 | 254)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TLS 1.2 ServerHello record choosing `cipher`, with extensions.
    fn server_hello(cipher: u16, tls13: bool, out: &mut [u8]) -> usize {
        let mut body = [0u8; 128];
        body[0..2].copy_from_slice(&[3, 3]);
        // random (32) zero, session id of 32
        body[34] = 32;
        let mut n = 35 + 32;
        body[n..n + 2].copy_from_slice(&cipher.to_be_bytes());
        n += 2;
        body[n] = 0; // compression
        n += 1;
        let ext_start = n + 2;
        let mut e = ext_start;
        // renegotiation_info (ff01), len 1, value 0
        body[e..e + 5].copy_from_slice(&[0xff, 0x01, 0x00, 0x01, 0x00]);
        e += 5;
        if tls13 {
            body[e..e + 6].copy_from_slice(&[0x00, 0x2b, 0x00, 0x02, 0x03, 0x04]);
            e += 6;
        }
        body[n..n + 2].copy_from_slice(&((e - ext_start) as u16).to_be_bytes());
        let hs_len = e;
        out[0..5].copy_from_slice(&[22, 3, 3, 0, 0]);
        out[3..5].copy_from_slice(&((hs_len + 4) as u16).to_be_bytes());
        out[5] = SERVER_HELLO;
        out[6..9].copy_from_slice(&(hs_len as u32).to_be_bytes()[1..]);
        out[9..9 + hs_len].copy_from_slice(&body[..hs_len]);
        9 + hs_len
    }

    fn walk(bytes: &[u8], step: usize) -> (Result<(), Broken>, Facts, Negotiated) {
        let mut w = TlsWalker::new();
        let mut facts = Facts::default();
        let mut off = 0;
        for chunk in bytes.chunks(step) {
            if let Err(e) = w.feed(chunk, off, &mut facts) {
                return (Err(e), facts, w.neg);
            }
            off += chunk.len() as u64;
        }
        (Ok(()), facts, w.neg)
    }

    #[test]
    fn server_hello_fields_any_chunking() {
        let mut buf = [0u8; 512];
        let mut n = server_hello(0xc02f, false, &mut buf);
        buf[n..n + 6].copy_from_slice(&[20, 3, 3, 0, 1, 1]);
        n += 6;
        buf[n..n + 5].copy_from_slice(&[23, 3, 3, 0, 40]);
        n += 45;
        for step in [1, 2, 5, 9, 77, n] {
            let (r, facts, neg) = walk(&buf[..n], step);
            assert_eq!(r, Ok(()));
            assert!(facts.has(Facts::HELLO) && facts.has(Facts::KEYED));
            assert_eq!(
                neg,
                Negotiated {
                    version: 0x0303,
                    cipher_suite: 0xc02f
                }
            );
        }
        let n = server_hello(0x1301, true, &mut buf);
        let (r, _, neg) = walk(&buf[..n], 3);
        assert_eq!(r, Ok(()));
        assert_eq!(
            neg,
            Negotiated {
                version: 0x0304,
                cipher_suite: 0x1301
            }
        );
    }

    #[test]
    fn random_after_a_record_is_malformed_with_offset() {
        let mut buf = [0x5au8; 64];
        buf[..5].copy_from_slice(&[23, 3, 3, 0, 4]);
        let (r, facts, _) = walk(&buf, 7);
        assert_eq!(r, Err((MalformReason::BadRecordType, 9, 10)));
        assert!(facts.has(Facts::FRAMING));
    }

    #[test]
    fn detects_client_hello_starts() {
        assert!(looks_like_tls(&[22, 3, 1, 0, 200, 1, 0, 0, 196, 3, 3]));
        assert!(!looks_like_tls(&[22, 3, 1, 0, 200, 2]));
        assert!(!looks_like_tls(b"GET / HTTP/1.1\r\n"));
        // SSLv2-format ClientHello offering 3.1.
        assert!(looks_like_tls(&[0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15]));
    }

    #[test]
    fn an_sslv2_session_is_walked_to_its_encrypted_records() {
        // SERVER-HELLO (x.509, version 2.0), then a 2-byte-header record and
        // a 3-byte-header one (with padding), as SSLv2 block ciphers send.
        let mut stream = [0u8; 64];
        stream[..13].copy_from_slice(&[0x80, 11, 4, 0, 1, 0, 2, 0, 1, 0, 3, 0, 16]);
        stream[13..17].copy_from_slice(&[0x80, 0x03, 0xaa, 0xbb]);
        stream[18..21].copy_from_slice(&[0x00, 0x05, 0x02]);
        let stream = &stream[..26];
        assert_eq!(sslv2_server_hello(stream), Some(13));
        for step in [1, 5, 26] {
            let mut facts = Facts::EMPTY;
            let mut w = TlsWalker::after_sslv2_hello(13);
            // The walker skips the hello from its first byte on.
            let mut off = 0;
            for chunk in stream.chunks(step) {
                w.feed(chunk, off as u64, &mut facts)
                    .unwrap_or_else(|e| panic!("step {step}: {e:?}"));
                off += chunk.len();
            }
            assert!(
                facts.has(Facts::HELLO) && facts.has(Facts::KEYED),
                "step {step}"
            );
        }
        // A TLS server's answer is no SSLv2 SERVER-HELLO.
        assert_eq!(sslv2_server_hello(&[22, 3, 3, 0, 60, 2, 0]), None);
    }
}
