//! HTTP/1.x messages (RFC 9112) and the protocols that share their syntax:
//! RTSP (RFC 7826, with its `$`-interleaved binary frames) and SIP over TCP
//! (RFC 3261); and HTTP/2 frames in cleartext (RFC 9113: after the
//! prior-knowledge preface, or a server's first SETTINGS frame after an
//! `h2c` upgrade).
//!
//! The walker reads start lines and header lines byte by byte (printable
//! text, `obs-text` and tabs; any other control byte breaks the framing),
//! takes `Content-Length`, `Transfer-Encoding: chunked` and `Upgrade` from
//! the headers, and skips bodies by arithmetic: several messages on one
//! keep-alive connection, requests and responses. Message heads and bodies
//! are the carrier's own and explained.
//!
//! What follows the framing, it hands over as an inner stream, sniffed
//! afresh:
//! * after a `CONNECT` request, a request with `Upgrade`, or a `101`
//!   response: the tunnel or the upgraded protocol (an unrecognized one is
//!   measured);
//! * after a response with no length that is not chunked (a body until the
//!   connection closes — also what a proxy's `200` to a CONNECT looks like):
//!   a recognized protocol there is the tunnel; otherwise the body is the
//!   carrier's.
//!
//! Bytes where a message should start but none does break the framing and
//! are measured: an HTTP request line in front of ciphertext explains the
//! request line, not the ciphertext.

use super::websocket::WebSocketWalker;
use super::{Datagram, Facts, Next, Step, Unknown, Walk, Walker};
use crate::verdict::{MalformReason, Protocol};

/// Longest start or header line, and longest head, accepted.
const MAX_LINE: u32 = 64 * 1024;
const MAX_HEAD: u32 = 256 * 1024;

/// The HTTP/2 connection preface (RFC 9113 §3.4).
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

const HTTP_METHODS: &[&[u8]] = &[
    b"GET",
    b"POST",
    b"HEAD",
    b"PUT",
    b"DELETE",
    b"OPTIONS",
    b"CONNECT",
    b"PATCH",
    b"TRACE",
    b"PROPFIND",
];
const RTSP_METHODS: &[&[u8]] = &[
    b"DESCRIBE",
    b"SETUP",
    b"PLAY",
    b"PAUSE",
    b"TEARDOWN",
    b"ANNOUNCE",
    b"RECORD",
    b"GET_PARAMETER",
    b"SET_PARAMETER",
    b"OPTIONS",
];
const SIP_METHODS: &[&[u8]] = &[
    b"INVITE",
    b"REGISTER",
    b"ACK",
    b"BYE",
    b"CANCEL",
    b"NOTIFY",
    b"SUBSCRIBE",
    b"MESSAGE",
    b"INFO",
    b"OPTIONS",
    b"PRACK",
    b"UPDATE",
    b"REFER",
    b"PUBLISH",
];

fn first_line(w: &[u8]) -> &[u8] {
    match w.iter().position(|&b| b == b'\n') {
        Some(end) => &w[..end],
        None => w,
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|x| x.eq_ignore_ascii_case(needle))
}

/// The protocol whose message `w` starts with, from the start line: a
/// status line's version, or a request's method with the version at the
/// line's end or the target's scheme (SIP's OPTIONS is not HTTP's).
pub(crate) fn message_protocol(w: &[u8]) -> Option<Protocol> {
    for (version, p) in [
        (&b"HTTP/1."[..], Protocol::Http),
        (b"RTSP/1.0", Protocol::Rtsp),
        (b"SIP/2.0", Protocol::Sip),
    ] {
        if w.starts_with(version) {
            return Some(p);
        }
    }
    if w.starts_with(b"PRI * HTTP/2.0") {
        return Some(Protocol::Http);
    }
    let line = first_line(w);
    let space = line.iter().position(|&b| b == b' ')?;
    let (method, rest) = (&line[..space], &line[space + 1..]);
    if rest.is_empty() {
        return None;
    }
    let named = |list: &[&[u8]]| list.contains(&method);
    let rtsp = contains(rest, b" RTSP/1.0") || rest.starts_with(b"rtsp:");
    let sip =
        contains(rest, b" SIP/2.0") || rest.starts_with(b"sip:") || rest.starts_with(b"sips:");
    if named(RTSP_METHODS) && rtsp {
        Some(Protocol::Rtsp)
    } else if named(SIP_METHODS) && sip {
        Some(Protocol::Sip)
    } else if named(HTTP_METHODS) {
        Some(Protocol::Http)
    } else {
        // SSDP over UDP speaks HTTP's syntax.
        (line.starts_with(b"M-SEARCH * HTTP/1.1") || line.starts_with(b"NOTIFY * HTTP/1.1"))
            .then_some(Protocol::Http)
    }
}

/// A server's first HTTP/2 frame after an `h2c` upgrade: SETTINGS on
/// stream 0, a multiple of 6 bytes.
fn h2_settings(w: &[u8]) -> bool {
    w.len() >= 9
        && w[3] == 4
        && w[4] & !1 == 0
        && w[5..9] == [0, 0, 0, 0]
        && u32::from_be_bytes([0, w[0], w[1], w[2]]) % 6 == 0
}

/// The stream probe for `protocol` (HTTP, RTSP or SIP).
pub(crate) fn probe(w: &[u8], _complete: bool, protocol: Protocol) -> Option<Walker> {
    if protocol == Protocol::Http && h2_settings(w) {
        return Some(HttpWalker::h2_frames().into());
    }
    (message_protocol(w)? == protocol).then(|| {
        if w.starts_with(b"PRI * HTTP/2.0") {
            HttpWalker::h2_preface()
        } else {
            HttpWalker::new(protocol)
        }
        .into()
    })
}

/// Text protocols over UDP: SIP, RTSP, SSDP (HTTP's syntax).
pub(crate) fn datagram(d: &[u8], protocol: Protocol) -> Option<Datagram> {
    (message_protocol(d)? == protocol).then_some(Datagram::new(protocol, Facts::FRAMING))
}

/// Where the walker stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Phase {
    /// Between messages: blank lines may precede the next start line.
    MessageStart,
    StartLine,
    HeaderLine,
    /// Content-Length body bytes, `left` to go.
    Body,
    ChunkSize,
    /// After the size digits: extensions and spaces up to the line end.
    ChunkExt,
    ChunkData,
    /// The CRLF after a chunk's data.
    ChunkEnd,
    /// Header lines after the last chunk.
    Trailer,
    /// RTSP's `$` frame: channel and length bytes, `left` counts them.
    InterleavedHeader,
    /// The HTTP/2 preface, `left` bytes of it to go.
    H2Preface,
    H2Header,
    H2Payload,
}

// Message flags.
const RESPONSE: u16 = 1;
const CONNECT: u16 = 2;
const UPGRADE: u16 = 4;
const CHUNKED: u16 = 8;
const LENGTH: u16 = 16;
/// The current header line had its colon.
const COLON: u16 = 32;
/// The start line had a space.
const SPACE: u16 = 64;

/// The current message's Upgrade header names websocket.
const WEBSOCKET: u16 = 128;

// Headers the walker reads, by the bit it tracks while matching a name.
const NAMES: [&[u8]; 3] = [b"content-length", b"transfer-encoding", b"upgrade"];
const H_LENGTH: u8 = 1;
const H_ENCODING: u8 = 2;
const H_UPGRADE: u8 = 4;

/// Streaming HTTP/RTSP/SIP walker for one direction. 44 bytes.
///
/// Lengths are kept in 32 bits, saturating: a walker only ever sees the
/// inspection window (at most 64 KiB), so a longer body is simply the rest
/// of it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HttpWalker {
    /// Body, chunk or frame bytes still to skip; Content-Length being read.
    left: u32,
    length: u32,
    /// Bytes of the current line and of the current head.
    line: u32,
    head: u32,
    flags: u16,
    /// The status code being read (responses).
    status: u16,
    /// The first bytes of the start line (to tell a response and CONNECT).
    start: [u8; 8],
    phase: Phase,
    protocol: Protocol,
    /// Header-name matching: bytes matched, and which names still match.
    name_len: u8,
    candidates: u8,
    /// The header whose value is being read (`H_*`), and how much of
    /// "chunked" (Transfer-Encoding) or "websocket" (Upgrade) it has
    /// matched.
    value: u8,
    chunked_match: u8,
    /// HTTP/2 frame header bytes read.
    h2_len: u8,
    h2: [u8; 9],
}
const _: () = assert!(core::mem::size_of::<HttpWalker>() == 44);

impl HttpWalker {
    pub(crate) const fn new(protocol: Protocol) -> Self {
        HttpWalker {
            left: 0,
            length: 0,
            line: 0,
            head: 0,
            flags: 0,
            status: 0,
            start: [0; 8],
            phase: Phase::MessageStart,
            protocol,
            name_len: 0,
            candidates: 0,
            value: 0,
            chunked_match: 0,
            h2_len: 0,
            h2: [0; 9],
        }
    }

    const fn h2_preface() -> Self {
        let mut w = HttpWalker::new(Protocol::Http);
        w.phase = Phase::H2Preface;
        w.left = H2_PREFACE.len() as u32;
        w
    }

    const fn h2_frames() -> Self {
        let mut w = HttpWalker::new(Protocol::Http);
        w.phase = Phase::H2Header;
        w
    }

    /// Text bytes of a start, header or chunk line: visible ASCII, space,
    /// tab, CR and `obs-text`.
    #[inline]
    fn text(b: u8) -> bool {
        b >= 0x20 && b != 0x7f || b == b'\t' || b == b'\r'
    }

    /// One byte of a line; `Err` when it cannot be part of one.
    #[inline]
    fn line_byte(&mut self, b: u8) -> Result<(), ()> {
        self.line += 1;
        self.head = self.head.saturating_add(1);
        if !Self::text(b) || self.line > MAX_LINE || self.head > MAX_HEAD {
            return Err(());
        }
        Ok(())
    }

    fn start_byte(&mut self, b: u8) {
        if (self.line as usize) <= self.start.len() {
            self.start[self.line as usize - 1] = b;
        }
        if b == b' ' && self.flags & SPACE == 0 {
            self.flags |= SPACE;
            let version = &self.start[..(self.line as usize - 1).min(8)];
            if version.starts_with(b"HTTP/")
                || version.starts_with(b"RTSP/")
                || version.starts_with(b"SIP/")
            {
                self.flags |= RESPONSE;
            } else if version == b"CONNECT" {
                self.flags |= CONNECT;
            }
            return;
        }
        // The status code: the digits right after a response's first space.
        if self.flags & (RESPONSE | SPACE) == RESPONSE | SPACE && self.status < 1000 {
            if b.is_ascii_digit() {
                self.status = self.status * 10 + (b - b'0') as u16;
            } else {
                self.status += 1000; // done reading it
            }
        }
    }

    fn header_byte(&mut self, b: u8) {
        if self.flags & COLON == 0 {
            if b == b':' {
                self.flags |= COLON;
                self.value = 0;
                for (k, name) in NAMES.iter().enumerate() {
                    if self.candidates & (1 << k) != 0 && name.len() == self.name_len as usize {
                        self.value = 1 << k;
                    }
                }
                if self.value == H_LENGTH {
                    self.flags |= LENGTH;
                    self.length = 0;
                }
                if self.value == H_UPGRADE {
                    self.flags |= UPGRADE;
                }
                self.chunked_match = 0;
                return;
            }
            let lower = b.to_ascii_lowercase();
            let at = self.name_len as usize;
            for (k, name) in NAMES.iter().enumerate() {
                if name.get(at) != Some(&lower) {
                    self.candidates &= !(1 << k);
                }
            }
            self.name_len = self.name_len.saturating_add(1);
            return;
        }
        match self.value {
            H_LENGTH if b.is_ascii_digit() => {
                self.length = self
                    .length
                    .saturating_mul(10)
                    .saturating_add((b - b'0') as u32)
            }
            H_UPGRADE => {
                // Whether the value holds "websocket" (any case).
                let lower = b.to_ascii_lowercase();
                self.chunked_match =
                    if b"websocket".get(self.chunked_match as usize) == Some(&lower) {
                        self.chunked_match + 1
                    } else if lower == b'w' {
                        1
                    } else {
                        0
                    };
                if self.chunked_match as usize == b"websocket".len() {
                    self.flags |= WEBSOCKET;
                    self.chunked_match = 0;
                }
            }
            H_ENCODING => {
                // Whether the value ends with "chunked" (spaces and CR aside).
                let lower = b.to_ascii_lowercase();
                if lower == b' ' || lower == b'\t' || lower == b'\r' {
                    return;
                }
                self.chunked_match = if b"chunked".get(self.chunked_match as usize) == Some(&lower)
                {
                    self.chunked_match + 1
                } else if lower == b'c' {
                    1
                } else {
                    0
                };
            }
            _ => {}
        }
    }

    fn begin_line(&mut self) {
        self.line = 0;
        self.name_len = 0;
        self.candidates = (1 << NAMES.len()) - 1;
        self.flags &= !COLON;
        if self.value == H_ENCODING {
            if self.chunked_match as usize == b"chunked".len() {
                self.flags |= CHUNKED;
            } else {
                // A later coding after chunked: the length is unknown.
                self.flags &= !CHUNKED;
            }
        }
        self.value = 0;
    }

    fn begin_message(&mut self) {
        self.phase = Phase::MessageStart;
        self.flags = 0;
        self.status = 0;
        self.head = 0;
        self.start = [0; 8];
        self.begin_line();
    }

    /// The head ended: what comes next.
    fn end_head(&mut self) -> AfterHead {
        let f = self.flags;
        let response = f & RESPONSE != 0;
        let status = self.status % 1000;
        let text_protocol = self.protocol != Protocol::Http;
        let upgraded = if response {
            status == 101
        } else {
            f & (CONNECT | UPGRADE) != 0
        };
        if upgraded && f & WEBSOCKET != 0 {
            // The client's frames are masked, the server's not.
            return AfterHead::WebSocket(!response);
        }
        if upgraded {
            return AfterHead::Inner(Unknown::Measure);
        }
        if f & CHUNKED != 0 {
            self.phase = Phase::ChunkSize;
            self.left = 0;
            self.line = 0;
            return AfterHead::Walk;
        }
        let no_body = response && (matches!(status, 100..=199 | 204 | 304));
        if f & LENGTH != 0 && !no_body {
            self.left = self.length;
            if self.left > 0 {
                self.phase = Phase::Body;
                return AfterHead::Walk;
            }
        } else if response && !no_body && !text_protocol {
            // A body until the connection closes.
            return AfterHead::Inner(Unknown::Explain);
        }
        self.begin_message();
        AfterHead::Walk
    }

    fn h2_frame_ok(h: &[u8; 9]) -> bool {
        let len = u32::from_be_bytes([0, h[0], h[1], h[2]]);
        let kind = h[3];
        let fixed = match kind {
            2 => len == 5,     // PRIORITY
            3 | 8 => len == 4, // RST_STREAM, WINDOW_UPDATE
            4 => len % 6 == 0, // SETTINGS
            6 => len == 8,     // PING
            _ => true,
        };
        // Types up to PRIORITY_UPDATE (0x10); the reserved bit clear.
        kind <= 0x10 && h[5] & 0x80 == 0 && fixed
    }
}

/// What the walker does after a head ends.
enum AfterHead {
    /// Go on with this walker (a body, or the next message).
    Walk,
    /// Hand the rest over as an inner stream.
    Inner(Unknown),
    /// The rest is WebSocket frames (masked: the client's).
    WebSocket(bool),
}

impl Walk for HttpWalker {
    fn walk(&mut self, data: &[u8], offset: u64, _facts: &mut Facts) -> Step {
        let bad = |i: usize| {
            let at = offset + i as u64;
            Step::broken((MalformReason::BadMessage, at, at), offset, false)
        };
        let mut i = 0;
        while i < data.len() {
            let b = data[i];
            match self.phase {
                Phase::Body | Phase::ChunkData | Phase::H2Payload => {
                    let take = (self.left as usize).min(data.len() - i);
                    i += take;
                    self.left -= take as u32;
                    if self.left == 0 {
                        match self.phase {
                            Phase::Body => self.begin_message(),
                            Phase::ChunkData => self.phase = Phase::ChunkEnd,
                            _ => self.phase = Phase::H2Header,
                        }
                    }
                    continue;
                }
                Phase::MessageStart => {
                    if b == b'\r' || b == b'\n' {
                        // Blank lines between messages.
                        i += 1;
                        continue;
                    }
                    if b == b'$' && self.protocol == Protocol::Rtsp {
                        self.phase = Phase::InterleavedHeader;
                        self.left = 3;
                        self.length = 0;
                        i += 1;
                        continue;
                    }
                    // A start line opens with a method or a version: a letter.
                    if !b.is_ascii_alphabetic() {
                        return bad(i);
                    }
                    self.phase = Phase::StartLine;
                    continue; // the same byte, as the line's first
                }
                Phase::StartLine | Phase::HeaderLine | Phase::Trailer => {
                    i += 1;
                    if b == b'\n' {
                        let blank = self.line == 0 || (self.line == 1 && self.start_or_cr());
                        let phase = self.phase;
                        let malformed = match phase {
                            Phase::StartLine => self.flags & SPACE == 0,
                            // A header line needs its colon (or is folded).
                            _ => !blank && self.flags & COLON == 0 && !self.folded(),
                        };
                        if malformed {
                            return bad(i - 1);
                        }
                        self.begin_line();
                        match phase {
                            Phase::StartLine => self.phase = Phase::HeaderLine,
                            Phase::Trailer if blank => self.begin_message(),
                            Phase::HeaderLine if blank => match self.end_head() {
                                AfterHead::Walk => {}
                                AfterHead::Inner(unknown) => return Step::hand_off(i, unknown),
                                AfterHead::WebSocket(masked) => {
                                    return Step {
                                        len: i,
                                        measure: false,
                                        next: Next::Switch(
                                            Protocol::WebSocket,
                                            WebSocketWalker::walker(masked),
                                        ),
                                    }
                                }
                            },
                            _ => {}
                        }
                        continue;
                    }
                    if self.line_byte(b).is_err() {
                        return bad(i - 1);
                    }
                    match self.phase {
                        Phase::StartLine => self.start_byte(b),
                        Phase::HeaderLine => {
                            if self.line == 1 {
                                self.start[0] = b;
                            }
                            self.header_byte(b)
                        }
                        _ => {
                            if self.line == 1 {
                                self.start[0] = b;
                            }
                            if b == b':' {
                                self.flags |= COLON;
                            }
                        }
                    }
                }
                Phase::ChunkSize | Phase::ChunkExt => {
                    i += 1;
                    if b == b'\n' {
                        if self.line == 0
                            || (self.phase == Phase::ChunkSize
                                && self.line == 1
                                && self.start[0] == b'\r')
                        {
                            return bad(i - 1); // no size digits
                        }
                        self.begin_line();
                        if self.left == 0 {
                            self.phase = Phase::Trailer;
                        } else {
                            self.phase = Phase::ChunkData;
                        }
                        continue;
                    }
                    if self.line_byte(b).is_err() {
                        return bad(i - 1);
                    }
                    if self.line == 1 {
                        self.start[0] = b;
                    }
                    if self.phase == Phase::ChunkSize {
                        match (b as char).to_digit(16) {
                            // 16 hex digits at most: a u64.
                            Some(d) if self.line <= 16 => {
                                self.left = if self.left >> 28 != 0 {
                                    u32::MAX
                                } else {
                                    (self.left << 4) | d
                                }
                            }
                            _ if self.line > 1 && matches!(b, b';' | b' ' | b'\t' | b'\r') => {
                                self.phase = Phase::ChunkExt
                            }
                            _ => return bad(i - 1),
                        }
                    }
                }
                Phase::ChunkEnd => {
                    i += 1;
                    match b {
                        b'\r' => {}
                        b'\n' => {
                            self.phase = Phase::ChunkSize;
                            self.left = 0;
                            self.begin_line();
                        }
                        _ => return bad(i - 1),
                    }
                }
                Phase::InterleavedHeader => {
                    // Channel, then a 16-bit length.
                    i += 1;
                    self.left -= 1;
                    if self.left < 2 {
                        self.length = (self.length << 8) | b as u32;
                    }
                    if self.left == 0 {
                        self.left = self.length;
                        self.phase = if self.left == 0 {
                            Phase::MessageStart
                        } else {
                            Phase::Body
                        };
                    }
                }
                Phase::H2Preface => {
                    let at = H2_PREFACE.len() - self.left as usize;
                    if b != H2_PREFACE[at] {
                        return bad(i);
                    }
                    i += 1;
                    self.left -= 1;
                    if self.left == 0 {
                        self.phase = Phase::H2Header;
                    }
                }
                Phase::H2Header => {
                    self.h2[self.h2_len as usize] = b;
                    self.h2_len += 1;
                    i += 1;
                    if self.h2_len == 9 {
                        self.h2_len = 0;
                        if !Self::h2_frame_ok(&self.h2) {
                            return bad(i - 1);
                        }
                        self.left = u32::from_be_bytes([0, self.h2[0], self.h2[1], self.h2[2]]);
                        if self.left > 0 {
                            self.phase = Phase::H2Payload;
                        }
                    }
                }
            }
        }
        Step::explain(data.len())
    }
}

impl HttpWalker {
    /// The line so far is a lone CR (a blank line ending CRLF).
    fn start_or_cr(&self) -> bool {
        self.start[0] == b'\r'
    }

    /// The current header line began with a space or tab: an obsolete
    /// continuation of the previous one.
    fn folded(&self) -> bool {
        matches!(self.start[0], b' ' | b'\t')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Walks `stream` in chunks of `step`, returning each step's kind and
    /// the stream offset it ended at.
    fn walk(w: &mut HttpWalker, stream: &[u8], step: usize) -> (u64, Option<Step>) {
        let mut facts = Facts::EMPTY;
        let mut off = 0usize;
        for chunk in stream.chunks(step) {
            let mut i = 0;
            while i < chunk.len() {
                let s = w.walk(&chunk[i..], (off + i) as u64, &mut facts);
                i += s.len;
                if s.next != Next::Continue {
                    return ((off + i) as u64, Some(s));
                }
            }
            off += chunk.len();
        }
        (off as u64, None)
    }

    #[test]
    fn keep_alive_messages_with_bodies_are_explained() {
        let stream = b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello\
GET /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n4;x=y\r\nabcd\r\n0\r\nT: 1\r\n\r\n\
GET /c HTTP/1.1\r\n\r\n";
        for step in [1, 3, 7, stream.len()] {
            let mut w = HttpWalker::new(Protocol::Http);
            assert_eq!(
                walk(&mut w, stream, step),
                (stream.len() as u64, None),
                "step {step}"
            );
            assert_eq!(w.phase, Phase::MessageStart);
        }
    }

    #[test]
    fn random_after_a_head_breaks_where_a_message_should_start() {
        let mut stream = b"GET / HTTP/1.1\r\nHost: example\r\nAccept: */*\r\n\r\n".to_vec();
        assert_eq!(stream.len(), 46);
        stream.extend_from_slice(&[0x8f, 0x01, 0x22, 0x33]);
        let mut w = HttpWalker::new(Protocol::Http);
        let (_, s) = walk(&mut w, &stream, 5);
        assert_eq!(
            s.map(|s| s.next),
            Some(Next::Broken(MalformReason::BadMessage, 46))
        );
        // Headers cut short by binary break inside the line.
        let mut w = HttpWalker::new(Protocol::Http);
        let (_, s) = walk(&mut w, b"GET / HTTP/1.1\r\nHost: ex\x01ample\r\n", 4);
        assert_eq!(
            s.map(|s| s.next),
            Some(Next::Broken(MalformReason::BadMessage, 24))
        );
    }

    #[test]
    fn connect_upgrade_and_close_delimited_bodies_hand_over() {
        let cases: [(&[u8], Unknown); 4] = [
            (
                b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
                Unknown::Measure,
            ),
            (
                b"GET /x HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
                Unknown::Measure,
            ),
            (
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: TLS/1.2\r\n\r\n",
                Unknown::Measure,
            ),
            (
                b"HTTP/1.1 200 Connection established\r\n\r\n",
                Unknown::Explain,
            ),
        ];
        for (head, unknown) in cases {
            for step in [1, 9, head.len()] {
                let mut w = HttpWalker::new(Protocol::Http);
                let mut stream = head.to_vec();
                stream.extend_from_slice(b"\x16\x03\x01");
                let (at, s) = walk(&mut w, &stream, step);
                assert_eq!(at, head.len() as u64, "{:?}", core::str::from_utf8(head));
                assert_eq!(s.map(|s| s.next), Some(Next::Inner(unknown)));
            }
        }
        // 204 and 304 responses have no body; a 200 with a length has one.
        let stream = b"HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
        let mut w = HttpWalker::new(Protocol::Http);
        assert_eq!(walk(&mut w, stream, 4), (stream.len() as u64, None));
    }

    #[test]
    fn start_lines_name_http_rtsp_and_sip() {
        assert_eq!(
            message_protocol(b"GET / HTTP/1.1\r\n"),
            Some(Protocol::Http)
        );
        assert_eq!(
            message_protocol(b"OPTIONS sip:a@b SIP/2.0\r\n"),
            Some(Protocol::Sip)
        );
        assert_eq!(
            message_protocol(b"OPTIONS rtsp://h/s RTSP/1.0\r\n"),
            Some(Protocol::Rtsp)
        );
        assert_eq!(
            message_protocol(b"OPTIONS * HTTP/1.1\r\n"),
            Some(Protocol::Http)
        );
        assert_eq!(message_protocol(b"SIP/2.0 200 OK\r\n"), Some(Protocol::Sip));
        assert_eq!(
            message_protocol(b"M-SEARCH * HTTP/1.1\r\n"),
            Some(Protocol::Http)
        );
        assert_eq!(message_protocol(b"GETX / HTTP/1.1\r\n"), None);
        assert_eq!(message_protocol(b"INVITE nobody\r\n"), None);
    }

    #[test]
    fn rtsp_interleaved_frames_and_h2_frames() {
        let mut stream = b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n$\x00\x00\x04abcd".to_vec();
        stream.extend_from_slice(b"$\x01\x00\x00");
        let mut w = HttpWalker::new(Protocol::Rtsp);
        assert_eq!(walk(&mut w, &stream, 3), (stream.len() as u64, None));

        let mut h2 = H2_PREFACE.to_vec();
        h2.extend_from_slice(&[0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100]);
        h2.extend_from_slice(&[0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
        let mut w = HttpWalker::h2_preface();
        assert_eq!(walk(&mut w, &h2, 5), (h2.len() as u64, None));
        h2.extend_from_slice(&[0, 0, 9, 6, 0, 0, 0, 0, 0]); // PING of 9 bytes
        let mut w = HttpWalker::h2_preface();
        assert!(matches!(
            walk(&mut w, &h2, 5).1.map(|s| s.next),
            Some(Next::Broken(..))
        ));
    }
}
