//! HTTP/1.x messages (RFC 9112) and the protocols that share their syntax:
//! RTSP (RFC 7826, with its `$`-interleaved binary frames) and SIP over TCP
//! (RFC 3261); and HTTP/2 frames in cleartext (RFC 9113: after the
//! prior-knowledge preface, or a server's first SETTINGS frame after an
//! `h2c` upgrade).
//!
//! The walker reads start lines and header lines byte by byte (printable
//! text, `obs-text` and tabs; any other control byte breaks the framing),
//! takes `Content-Length`, `Transfer-Encoding: chunked`, `Content-Encoding`,
//! `Content-Type` and `Upgrade` from the headers, and follows bodies by
//! arithmetic: several messages on one keep-alive connection, requests and
//! responses. Heads are the carrier's own and explained (cookies and tokens
//! in headers are not bodies).
//!
//! # Bodies: what is judged
//!
//! Most C2 speaks HTTP and encrypts what the messages carry, so each HTTP
//! body is judged on its own, as content the carrier delivers: its first
//! 32 bytes are held until they say whether they open a known compressed or
//! media format (`format::detect`); if they do, the body is explained, else
//! it is measured, held bytes first, and a body of ciphertext (raw, or
//! base64/base32/hex of it) raises `symmetric_only` with `carrier: "http"`
//! and the message in the evidence. What legitimately carries encrypted or
//! compressed bytes over plain HTTP, and what the walker does with it:
//!
//! | body | judged? | why |
//! |---|---|---|
//! | `Content-Encoding: br`, `deflate`, `compress` | explained | no magic number to check the claim by |
//! | `Content-Encoding: gzip` / `zstd`, a type `format` knows (PNG, JPEG, GIF, WebP, MP4, WebM, PDF, zip, gzip, xz, zstd, 7z) | first bytes checked | a claim that can be checked is: a C2 that labels ciphertext `image/png` is measured |
//! | other media and archive types (`video/*`, `audio/*`, fonts, `multipart/*`, packages, installers: [`EXPLAINED_TYPES`]) | explained | HLS AES-128 segments, DRM licences, game and update chunks, form uploads of compressed files |
//! | a response of 1 MiB or more, or a `206 Partial Content` slice | explained | a download (an installer, an update piece), not a beacon's exchange |
//! | anything else, requests and responses | measured | ciphertext sent by a client in a request body is rare in legitimate traffic; small encrypted bodies exchanged in a beacon rhythm are C2's shape |
//!
//! Measured on traffic it was not tuned on: of the 156 HTTP and WebSocket
//! flows in `../shared/captures` (87 with a body measured) none alerts, nor
//! any of the 22 benign carrier flows of the corpus (uploads of gzip, zip,
//! xz and JPEG files, package downloads, JSON chat, TLS through proxies);
//! every one of the 13 carrier C2 flows does. Judging every body (no
//! trusted type, no download rule) would cost 2 false positives there: a
//! Windows Update `206` slice and a multipart upload of compressed files.
//! What this leaves open is in the README's evasion table: a C2 that
//! declares an unchecked media type, uploads ciphertext as a multipart
//! form file, or answers with `206` or bodies of 1 MiB is not flagged.
//!
//! # Hand-overs
//!
//! What follows the framing, it hands over as an inner stream, sniffed
//! afresh:
//! * after a `CONNECT` request, a request with `Upgrade`, or a `101`
//!   response: the tunnel or the upgraded protocol (an unrecognized one is
//!   measured); a `CONNECT` names the tunnel's destination;
//! * after an upgrade to `websocket`: the WebSocket walker;
//! * after a response with no length that is not chunked (a body until the
//!   connection closes — also what a proxy's `200` to a CONNECT looks like):
//!   a recognized protocol there is the tunnel; otherwise the body is judged
//!   by its first bytes like any other.
//!
//! Bytes where a message should start but none does break the framing and
//! are measured: an HTTP request line in front of ciphertext explains the
//! request line, not the ciphertext.

use super::websocket::WebSocketWalker;
use super::{Datagram, Facts, Next, Step, Unknown, Walk, Walker};
use crate::format;
use crate::verdict::{Destination, MalformReason, Message, Protocol};

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

/// Whether `b` stops a run of line bytes: a newline, or a byte no line
/// holds (`HttpWalker::text`).
#[inline]
fn ends_run(b: u8) -> bool {
    b == b'\n' || !HttpWalker::text(b)
}

/// Length of the run of line bytes `s` starts with: up to its first
/// newline or byte no line holds. Eight bytes at a time: a word with no
/// control byte and no DEL is all line bytes (SWAR: a byte below 0x20
/// borrows into its top bit, DEL is a zero byte of `x ^ 0x7f…`); a word
/// with one (a tab, a CR, the line's end) is read byte by byte. Header
/// values and targets are most of a head's bytes.
fn line_run(s: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const TOPS: u64 = 0x8080_8080_8080_8080;
    let mut at = 0;
    while let Some(word) = s.get(at..at + 8) {
        let x = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
        let del = x ^ (ONES * 0x7f);
        let control = (x.wrapping_sub(ONES * 0x20) & !x | del.wrapping_sub(ONES) & !del) & TOPS;
        if control != 0 {
            if let Some(i) = word.iter().position(|&b| ends_run(b)) {
                return at + i;
            }
        }
        at += 8;
    }
    at + s[at..]
        .iter()
        .position(|&b| ends_run(b))
        .unwrap_or(s.len() - at)
}

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
    // Every method and version starts with a capital letter: most bytes
    // that are no message (ciphertext, binary protocols) stop here, as the
    // three rows of the table and every datagram of an unrecognized flow
    // ask.
    if !w.first().is_some_and(u8::is_ascii_uppercase) {
        return None;
    }
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
    // The version scans the whole line: only for a method of the protocol
    // (a datagram of an unknown flow that starts with a capital letter and
    // has no newline is one line of up to 1,500 bytes).
    let rtsp = || contains(rest, b" RTSP/1.0") || rest.starts_with(b"rtsp:");
    let sip =
        || contains(rest, b" SIP/2.0") || rest.starts_with(b"sip:") || rest.starts_with(b"sips:");
    if named(RTSP_METHODS) && rtsp() {
        Some(Protocol::Rtsp)
    } else if named(SIP_METHODS) && sip() {
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

/// Text protocols over UDP: SIP, RTSP, SSDP (HTTP's syntax). Uniformly
/// random bytes pass with probability about 2⁻³² (the loosest start: a
/// three-letter method such as `GET` or `PUT` and a space, then anything
/// on the line); versions and SIP's methods with their URI schemes need
/// more bytes.
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
    /// A body ended with its held bytes released: they stay readable
    /// (`pending`) until the next call begins the next message.
    BodyEnd,
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

/// What the current body is, as far as the walker can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Body {
    /// Its headers or its first bytes explain it (a declared compression,
    /// a media or archive type, a download, a recognized format).
    Explained,
    /// Its first bytes are held until they say whether it is a known format.
    Holding,
    /// Content nothing explains: measured.
    Measured,
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
/// Content-Encoding names a compression.
const COMPRESSED: u16 = 256;
/// The CONNECT target's host has ended (the port follows).
const TARGET_PORT: u16 = 512;
/// The start line's target is being read (after the method's space).
const TARGET: u16 = 1024;

// Headers the walker reads, by the bit it tracks while matching a name.
const NAMES: [&[u8]; 5] = [
    b"content-length",
    b"transfer-encoding",
    b"upgrade",
    b"content-encoding",
    b"content-type",
];
const H_LENGTH: u8 = 1;
const H_ENCODING: u8 = 2;
const H_UPGRADE: u8 = 4;
const H_COMPRESSION: u8 = 8;
const H_TYPE: u8 = 16;

/// Where in `buf` things sit while a head is read: the start line's first
/// bytes (to tell a response or a CONNECT), then the CONNECT target's host
/// or the Content-Type value.
const START: usize = 8;
const CAPTURE: usize = 8;

/// A response body this long or longer is a download (an installer, a media
/// file, a package), not the beacon-sized exchange of a C2 channel: its
/// first bytes are not judged. See the module docs of `detect`.
pub(crate) const DOWNLOAD: u32 = 1 << 20;

/// Content-Type prefixes (lower case) whose bodies are compressed or media
/// data by their nature.
const EXPLAINED_TYPES: &[&[u8]] = &[
    b"image/",
    b"video/",
    b"audio/",
    b"font/",
    b"model/",
    b"multipart/",
    b"application/zip",
    b"application/gzip",
    b"application/x-gzip",
    b"application/x-xz",
    b"application/x-bzip",
    b"application/zstd",
    b"application/x-zstd",
    b"application/x-7z",
    b"application/x-rar",
    b"application/pdf",
    b"application/wasm",
    b"application/java-archiv",
    b"application/vnd.android",
    b"application/x-debian-pa",
    b"application/vnd.debian.",
    b"application/x-rpm",
    b"application/x-apple-dis",
    b"application/vnd.ms-cab-",
    b"application/x-msdownload",
    b"application/x-iso9660",
    b"application/ogg",
    b"application/dns-message",
];

/// Content-Encoding values that compress and whose output has no magic
/// number to check a body against: the header is taken at its word. (gzip
/// and zstd output starts with one: those bodies are held and their first
/// bytes checked like any other, so a C2 that claims `gzip` over ciphertext
/// is measured.)
const UNCHECKED_COMPRESSIONS: &[&[u8]] = &[b"deflate", b"br", b"compress"];

/// Content-Type prefixes (lower case) of formats `format::detect` knows by
/// their first bytes: the claim is checked, not trusted (the body is held
/// and judged like one without a type).
const CHECKED_TYPES: &[&[u8]] = &[
    b"image/png",
    b"image/jpeg",
    b"image/gif",
    b"image/webp",
    b"video/mp4",
    b"video/webm",
    b"application/pdf",
    b"application/zip",
    b"application/gzip",
    b"application/x-gzip",
    b"application/x-xz",
    b"application/zstd",
    b"application/x-zstd",
    b"application/x-7z",
];

/// Streaming HTTP/RTSP/SIP walker for one direction. 60 bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HttpWalker {
    /// Body, chunk or frame bytes still to skip; while a head is read, the
    /// Content-Length (or a CONNECT target's port). Saturating: a walker
    /// only ever sees the inspection window (at most 64 KiB), so a longer
    /// body is simply the rest of it.
    left: u32,
    /// Where the first measured body started, for the evidence.
    measured_at: u32,
    /// Bytes of the current line and of the current head (saturating).
    line: u16,
    head: u16,
    flags: u16,
    /// The status code being read (responses); for requests, the method's
    /// index in `HTTP_METHODS` plus 1000.
    status: u16,
    /// The first measured body's message: a status, or a method (+1000).
    measured_message: u16,
    phase: Phase,
    body: Body,
    protocol: Protocol,
    /// Header-name matching: bytes matched, and which names still match.
    name_len: u8,
    candidates: u8,
    /// The header whose value is being read (`H_*`), and how much of a
    /// keyword ("chunked", "websocket", a compression) it has matched.
    value: u8,
    matched: u8,
    /// Bytes used in `buf`: the captured value or target, the held body
    /// prefix, or an HTTP/2 frame header.
    used: u8,
    /// The current line's first byte (a blank line, a folded header).
    first: u8,
    buf: [u8; 32],
}
const _: () = assert!(core::mem::size_of::<HttpWalker>() == 60);

impl HttpWalker {
    pub(crate) const fn new(protocol: Protocol) -> Self {
        HttpWalker {
            left: 0,
            measured_at: 0,
            line: 0,
            head: 0,
            flags: 0,
            status: 0,
            measured_message: 0,
            phase: Phase::MessageStart,
            body: Body::Explained,
            protocol,
            name_len: 0,
            candidates: 0,
            value: 0,
            matched: 0,
            used: 0,
            first: 0,
            buf: [0; 32],
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

    /// The body bytes held until their format is known, and the stream
    /// offset of the first: what a release measures.
    pub(crate) fn pending(&self) -> (&[u8], u64) {
        (&self.buf[..self.used as usize], self.measured_at as u64)
    }

    /// The message whose body was measured first, as a code (see
    /// [`message_of`]).
    pub(crate) fn measured_message_code(&self) -> u16 {
        self.measured_message
    }

    /// Where a CONNECT asked the proxy to connect.
    pub(crate) fn destination(&self) -> Option<Destination> {
        if self.flags & CONNECT == 0 {
            return None;
        }
        let host = &self.buf[CAPTURE..CAPTURE + (self.used as usize).min(32 - CAPTURE)];
        let port = u16::try_from(self.left).ok()?;
        Some(host_destination(host, port))
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
        self.line = self.line.saturating_add(1);
        self.head = self.head.saturating_add(1);
        if !Self::text(b) || self.line as u32 > MAX_LINE || self.head as u32 > MAX_HEAD {
            return Err(());
        }
        Ok(())
    }

    /// The value of a header the walker does not read (or a trailer's, or
    /// the rest of a start line: `rest_of_line_unread`):
    /// only whether each byte can be part of a line counts, so the bytes up
    /// to the line's end (or the first that cannot be) are taken in one
    /// scan, with what `line_byte` would count for each. Most head bytes
    /// are such values (User-Agent, Cookie …): one byte at a time they were
    /// most of the walker's cost.
    fn skip_value(&mut self, rest: &[u8]) -> usize {
        let room = (MAX_LINE - (self.line as u32).min(MAX_LINE))
            .min(MAX_HEAD - (self.head as u32).min(MAX_HEAD)) as usize;
        let n = line_run(&rest[..rest.len().min(room)]);
        // `line_byte`'s saturating counts, n steps at once; the line's
        // first byte is set (a colon or the start line's first bytes came
        // before).
        self.line = self.line.saturating_add(n.min(u16::MAX as usize) as u16);
        self.head = self.head.saturating_add(n.min(u16::MAX as usize) as u16);
        n
    }

    fn capture(&mut self, b: u8) {
        let at = CAPTURE + self.used as usize;
        if at < self.buf.len() {
            self.buf[at] = b;
            self.used += 1;
        }
    }

    fn start_byte(&mut self, b: u8) {
        let n = self.line as usize;
        if n <= START {
            self.buf[n - 1] = b;
        }
        if self.flags & SPACE == 0 {
            if b == b' ' {
                self.flags |= SPACE | TARGET;
                let first = &self.buf[..(n - 1).min(START)];
                if first.starts_with(b"HTTP/")
                    || first.starts_with(b"RTSP/")
                    || first.starts_with(b"SIP/")
                {
                    self.flags = (self.flags | RESPONSE) & !TARGET;
                } else {
                    if first == b"CONNECT" {
                        self.flags |= CONNECT;
                    }
                    if let Some(i) = HTTP_METHODS.iter().position(|m| *m == first) {
                        self.status = 1000 + i as u16;
                    }
                }
            }
            return;
        }
        if self.flags & RESPONSE != 0 {
            // The status code: the digits right after a response's space.
            if self.status < 1000 {
                if b.is_ascii_digit() {
                    self.status = self.status * 10 + (b - b'0') as u16;
                } else {
                    self.status += 1000; // done reading it
                }
            }
            return;
        }
        // A CONNECT's target, host:port: the host's first bytes, and the
        // digits after its last colon (the port).
        if self.flags & (CONNECT | TARGET) == CONNECT | TARGET {
            match b {
                b' ' => self.flags &= !TARGET,
                b':' => {
                    self.flags |= TARGET_PORT;
                    self.left = 0;
                }
                b'0'..=b'9' if self.flags & TARGET_PORT != 0 => {
                    self.left = self
                        .left
                        .saturating_mul(10)
                        .saturating_add((b - b'0') as u32)
                }
                _ if self.flags & TARGET_PORT == 0 => self.capture(b),
                // An IPv6 literal's colons: the host goes on.
                _ => {
                    self.flags &= !TARGET_PORT;
                    self.capture(b);
                }
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
                match self.value {
                    H_LENGTH => {
                        self.flags |= LENGTH;
                        self.left = 0;
                    }
                    H_UPGRADE => self.flags |= UPGRADE,
                    H_TYPE if self.flags & CONNECT == 0 => self.used = 0,
                    _ => {}
                }
                self.matched = 0;
                return;
            }
            let lower = b.to_ascii_lowercase();
            let at = self.name_len as usize;
            // Most names (Host, User-Agent, Accept …) leave no candidate
            // after their first bytes.
            let left = if self.candidates == 0 {
                &[][..]
            } else {
                &NAMES[..]
            };
            for (k, name) in left.iter().enumerate() {
                if name.get(at) != Some(&lower) {
                    self.candidates &= !(1 << k);
                }
            }
            self.name_len = self.name_len.saturating_add(1);
            return;
        }
        let lower = b.to_ascii_lowercase();
        let value = self.value;
        match value {
            H_LENGTH if b.is_ascii_digit() => {
                self.left = self
                    .left
                    .saturating_mul(10)
                    .saturating_add((b - b'0') as u32)
            }
            H_UPGRADE if self.keyword(lower, b"websocket") => self.flags |= WEBSOCKET,
            // Whether the value ends with "chunked" (spaces and CR aside).
            H_ENCODING if !matches!(lower, b' ' | b'\t' | b'\r') => {
                self.step_keyword(lower, b"chunked")
            }
            H_COMPRESSION => {
                // Any coding that compresses (the list is short: match each
                // by its first letters, whole words).
                if matches!(lower, b',' | b' ' | b'\t' | b'\r') {
                    self.matched = 0;
                } else if (self.matched as usize) < START {
                    // The start line's bytes are done with: the word goes
                    // there.
                    self.buf[self.matched as usize] = lower;
                    self.matched += 1;
                    let word = &self.buf[..self.matched as usize];
                    if UNCHECKED_COMPRESSIONS.contains(&word) {
                        self.flags |= COMPRESSED;
                    }
                }
            }
            H_TYPE
                if self.flags & CONNECT == 0
                    && !(self.used == 0 && matches!(lower, b' ' | b'\t')) =>
            {
                self.capture(lower)
            }
            _ => {}
        }
    }

    /// Advances a keyword match by one byte; whether the keyword matched.
    fn keyword(&mut self, lower: u8, word: &[u8]) -> bool {
        self.step_keyword(lower, word);
        if self.matched as usize == word.len() {
            self.matched = 0;
            return true;
        }
        false
    }

    fn step_keyword(&mut self, lower: u8, word: &[u8]) {
        self.matched = if word.get(self.matched as usize) == Some(&lower) {
            self.matched + 1
        } else if word.first() == Some(&lower) {
            1
        } else {
            0
        };
    }

    fn begin_line(&mut self) {
        self.line = 0;
        self.name_len = 0;
        self.candidates = (1 << NAMES.len()) - 1;
        self.flags &= !COLON;
        if self.value == H_ENCODING {
            if self.matched as usize == b"chunked".len() {
                self.flags |= CHUNKED;
            } else {
                // A later coding after chunked: the length is unknown.
                self.flags &= !CHUNKED;
            }
        }
        if self.value == H_COMPRESSION {
            self.matched = 0;
        }
        self.value = 0;
    }

    fn begin_message(&mut self) {
        self.phase = Phase::MessageStart;
        self.flags = 0;
        self.status = 0;
        self.head = 0;
        self.used = 0;
        self.buf = [0; 32];
        self.begin_line();
    }

    /// How the body after this head is judged (see `detect`'s docs for the
    /// decision and its cost).
    fn judge_body(&self, length: Option<u32>) -> Body {
        let f = self.flags;
        let ctype = &self.buf[CAPTURE..CAPTURE + self.used as usize];
        let checked = CHECKED_TYPES.iter().any(|t| ctype.starts_with(t));
        let declared =
            f & COMPRESSED != 0 || !checked && EXPLAINED_TYPES.iter().any(|t| ctype.starts_with(t));
        // A response of a download's size, or a slice of one (206 Partial
        // Content: a range of a larger file).
        let download = f & RESPONSE != 0
            && (self.status % 1000 == 206 || length.is_some_and(|l| l >= DOWNLOAD));
        if self.protocol != Protocol::Http || declared || download {
            Body::Explained
        } else {
            Body::Holding
        }
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
        let no_body = response && (matches!(status, 100..=199 | 204 | 304));
        if f & CHUNKED != 0 && !no_body {
            self.body = self.judge_body(None);
            self.start_body(Phase::ChunkSize);
            self.left = 0;
            self.line = 0;
            return AfterHead::Walk;
        }
        if f & LENGTH != 0 && !no_body {
            let length = self.left;
            if length > 0 {
                self.body = self.judge_body(Some(length));
                self.start_body(Phase::Body);
                return AfterHead::Walk;
            }
        } else if response && !no_body && !text_protocol {
            // A body until the connection closes (or a proxy's tunnel).
            return AfterHead::Inner(match self.judge_body(None) {
                Body::Explained => Unknown::Explain,
                _ => Unknown::Content,
            });
        }
        self.begin_message();
        AfterHead::Walk
    }

    fn start_body(&mut self, phase: Phase) {
        self.phase = phase;
        self.used = 0;
    }

    /// Body bytes `data` (at stream offset `offset`): skipped, measured, or
    /// held while the body's format is unknown. Returns how many bytes it
    /// took and whether the held bytes were released for measuring.
    fn body_bytes(&mut self, data: &[u8], offset: u64) -> BodyStep {
        let take = (self.left as usize).min(data.len());
        match self.body {
            Body::Explained => BodyStep::Explain(take),
            Body::Measured => BodyStep::Measure(take),
            Body::Holding => {
                if self.used == 0 {
                    self.measured_at = offset.min(u32::MAX as u64) as u32;
                }
                let room = self.buf.len() - self.used as usize;
                let hold = take.min(room);
                let at = self.used as usize;
                self.buf[at..at + hold].copy_from_slice(&data[..hold]);
                self.used += hold as u8;
                let body_ends = hold as u32 == self.left && self.phase == Phase::Body;
                if (self.used as usize) < self.buf.len() && !body_ends {
                    return BodyStep::Explain(hold);
                }
                // The prefix is complete (or the body ends): judge it.
                if self.judge_held() {
                    BodyStep::Release(hold)
                } else {
                    BodyStep::Explain(hold)
                }
            }
        }
    }

    /// Judges the held body prefix: a recognized compression or media
    /// format explains the body; anything else is measured, held bytes
    /// first (returns true: release them).
    fn judge_held(&mut self) -> bool {
        let innocent =
            format::detect(&self.buf[..self.used as usize]).is_some_and(|f| !f.is_ciphertext());
        if innocent {
            self.body = Body::Explained;
            self.used = 0;
            return false;
        }
        self.body = Body::Measured;
        if self.measured_message == 0 {
            self.measured_message = self.status;
        }
        true
    }

    fn h2_frame_ok(h: &[u8]) -> bool {
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

    /// Whether the rest of the current line is read for nothing but its
    /// bytes and length (`skip_value` takes it in one scan): the value of a
    /// header the walker does not read, or a start line past its method or
    /// status and first bytes (a request's target, a response's reason;
    /// CONNECT's target is read).
    #[inline]
    fn rest_of_line_unread(&self) -> bool {
        match self.phase {
            Phase::StartLine => {
                self.flags & SPACE != 0
                    && self.line as usize >= START
                    && if self.flags & RESPONSE != 0 {
                        self.status >= 1000
                    } else {
                        self.flags & CONNECT == 0
                    }
            }
            _ => self.flags & COLON != 0 && self.value == 0,
        }
    }

    /// The line so far is a lone CR (a blank line ending CRLF).
    fn lone_cr(&self) -> bool {
        self.line == 1 && self.first == b'\r'
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

/// What `body_bytes` did with body bytes.
enum BodyStep {
    Explain(usize),
    Measure(usize),
    /// These bytes completed the held prefix: measure it (and them).
    Release(usize),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Disposition {
    Explain,
    Measure,
    Release,
}

/// A message code: 0 none, a response's status, or a request's method as
/// its index in `HTTP_METHODS` plus 1000.
pub(crate) fn message_of(code: u16) -> Option<Message> {
    match code {
        0 => None,
        m @ 1000.. => HTTP_METHODS
            .get((m - 1000) as usize)
            .map(|m| Message::Request(core::str::from_utf8(m).unwrap_or(""))),
        status => Some(Message::Response(status)),
    }
}

/// Where an address or host name and a port point.
fn host_destination(host: &[u8], port: u16) -> Destination {
    let host = host
        .strip_prefix(b"[")
        .map_or(host, |h| h.strip_suffix(b"]").unwrap_or(h));
    let mut quad = [0u8; 4];
    let mut parts = 0;
    let dotted = host.split(|&b| b == b'.').all(|p| {
        let v = core::str::from_utf8(p)
            .ok()
            .and_then(|t| t.parse::<u8>().ok());
        match v {
            Some(v) if parts < 4 => {
                quad[parts] = v;
                parts += 1;
                true
            }
            _ => false,
        }
    });
    if dotted && parts == 4 {
        Destination::ipv4(quad, port)
    } else {
        Destination::name(host, port)
    }
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
                Phase::Body | Phase::ChunkData => {
                    // Bytes of another disposition than the explained ones
                    // before them in this call end the step first.
                    if i > 0 && self.body != Body::Explained {
                        return Step::explain(i);
                    }
                    let (took, kind) = match self.body_bytes(&data[i..], offset + i as u64) {
                        BodyStep::Explain(n) => (n, Disposition::Explain),
                        BodyStep::Measure(n) => (n, Disposition::Measure),
                        BodyStep::Release(n) => (n, Disposition::Release),
                    };
                    self.left -= took as u32;
                    if self.left == 0 {
                        if self.phase == Phase::Body && kind == Disposition::Release {
                            // The held bytes are read after this step:
                            // the next message begins with the next call.
                            self.phase = Phase::BodyEnd;
                        } else if self.phase == Phase::Body {
                            self.begin_message();
                        } else {
                            self.phase = Phase::ChunkEnd;
                        }
                    }
                    match kind {
                        Disposition::Explain => i += took,
                        Disposition::Measure => return Step::measure(took),
                        Disposition::Release => return Step::release(took),
                    }
                    continue;
                }
                Phase::BodyEnd => {
                    self.begin_message();
                    continue;
                }
                Phase::H2Payload => {
                    let take = (self.left as usize).min(data.len() - i);
                    i += take;
                    self.left -= take as u32;
                    if self.left == 0 {
                        self.phase = Phase::H2Header;
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
                        self.used = 0;
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
                    if self.rest_of_line_unread() {
                        let run = self.skip_value(&data[i..]);
                        if run > 0 {
                            i += run;
                            continue;
                        }
                    }
                    i += 1;
                    if b == b'\n' {
                        let blank = self.line == 0 || self.lone_cr();
                        let phase = self.phase;
                        let folded = matches!(self.first, b' ' | b'\t');
                        let malformed = match phase {
                            Phase::StartLine => self.flags & SPACE == 0,
                            // A header line needs its colon (or is folded).
                            _ => !blank && self.flags & COLON == 0 && !folded,
                        };
                        if malformed {
                            return bad(i - 1);
                        }
                        self.begin_line();
                        match phase {
                            Phase::StartLine => {
                                self.phase = Phase::HeaderLine;
                                self.flags &= !TARGET;
                            }
                            Phase::Trailer if blank => self.begin_message(),
                            Phase::HeaderLine if blank => match self.end_head() {
                                AfterHead::Walk => {}
                                AfterHead::Inner(unknown) => return Step::hand_off(i, unknown),
                                AfterHead::WebSocket(masked) => {
                                    return Step {
                                        next: Next::Switch(
                                            Protocol::WebSocket,
                                            WebSocketWalker::walker(masked),
                                        ),
                                        ..Step::explain(i)
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
                    if self.line == 1 {
                        self.first = b;
                    }
                    match self.phase {
                        Phase::StartLine => self.start_byte(b),
                        Phase::HeaderLine => self.header_byte(b),
                        _ => {
                            if b == b':' {
                                self.flags |= COLON;
                            }
                        }
                    }
                }
                Phase::ChunkSize | Phase::ChunkExt => {
                    i += 1;
                    if b == b'\n' {
                        if self.line == 0 {
                            return bad(i - 1); // no size digits
                        }
                        self.begin_line();
                        if self.left > 0 {
                            self.phase = Phase::ChunkData;
                            continue;
                        }
                        self.phase = Phase::Trailer;
                        // The last chunk: a body shorter than the held
                        // prefix is judged now.
                        if self.body == Body::Holding && self.used > 0 && self.judge_held() {
                            return Step::release(i);
                        }
                        continue;
                    }
                    if self.line_byte(b).is_err() {
                        return bad(i - 1);
                    }
                    if self.phase == Phase::ChunkSize {
                        match (b as char).to_digit(16) {
                            // 16 hex digits at most (saturating at 4 GiB).
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
                        self.buf[1 - self.left as usize] = b;
                    }
                    if self.left == 0 {
                        self.left = u16::from_be_bytes([self.buf[0], self.buf[1]]) as u32;
                        self.body = Body::Explained;
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
                    self.buf[self.used as usize] = b;
                    self.used += 1;
                    i += 1;
                    if self.used == 9 {
                        self.used = 0;
                        if !Self::h2_frame_ok(&self.buf[..9]) {
                            return bad(i - 1);
                        }
                        self.left = u32::from_be_bytes([0, self.buf[0], self.buf[1], self.buf[2]]);
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

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::{format, vec, vec::Vec};

    /// Walks `stream` in chunks of `step`: where the walker stopped (or the
    /// stream ended), and the step that stopped it.
    fn walk(w: &mut HttpWalker, stream: &[u8], step: usize) -> (u64, Option<Step>) {
        let mut last = None;
        let (at, next) = super::super::walk_chunked(w, stream, step, |_, s, _| last = Some(*s));
        (at, last.filter(|_| next != Next::Continue))
    }

    /// The bytes a walk over `stream` in chunks of `step` measures, in the
    /// order the lane would (held bytes when they are released).
    fn measured(stream: &[u8], step: usize) -> Vec<u8> {
        let mut w = HttpWalker::new(Protocol::Http);
        let mut out = Vec::new();
        let (_, next) = super::super::walk_chunked(&mut w, stream, step, |w, s, bytes| {
            if s.measure {
                out.extend_from_slice(bytes);
            }
            if s.release {
                out.extend_from_slice(w.pending().0);
            }
        });
        assert_eq!(next, Next::Continue);
        out
    }

    fn noise(n: usize) -> Vec<u8> {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    fn response(headers: &str, body: &[u8]) -> Vec<u8> {
        let mut m = format!(
            "HTTP/1.1 200 OK\r\n{headers}Content-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        m.extend_from_slice(body);
        m
    }

    #[test]
    fn bodies_are_judged_one_by_one() {
        let random = noise(200);
        // gzip of 30 repeats of a sentence, as Python writes it.
        let gzip = [
            0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x2b, 0xc9, 0x48, 0x55,
            0x28, 0x2c, 0xcd, 0x4c, 0xce, 0x56, 0x48, 0x2a, 0xca, 0x2f, 0xcf, 0x53, 0x48, 0xcb,
            0xaf, 0x50, 0xc8, 0x2a, 0xcd, 0x2d, 0x28, 0x56, 0xc8, 0x2f, 0x4b, 0x2d, 0x52, 0x28,
            0x01, 0x4a, 0xe7, 0x24, 0x56, 0x55, 0x2a, 0xa4, 0xe4, 0xa7, 0xeb, 0x81, 0x79, 0xa3,
            0x8a, 0x47, 0x15, 0x8f, 0x2a, 0x1e, 0x55, 0x3c, 0xaa, 0x18, 0x49, 0x31, 0x00, 0x9e,
            0x51, 0xcb, 0x0c, 0x46, 0x05, 0x00, 0x00,
        ];
        // A PNG signature and IHDR: 64 × 64, 8-bit RGBA.
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x40\0\0\0\x40\x08\x06\0\0\0".to_vec();
        png.extend_from_slice(&random[29..]);
        // (headers, body, whether it is measured)
        let cases: [(&str, &[u8], bool); 9] = [
            ("Content-Type: application/octet-stream\r\n", &random, true),
            ("Content-Encoding: gzip\r\n", &gzip, false),
            // A claim that can be checked and is false: measured.
            ("Content-Encoding: gzip\r\n", &random, true),
            ("Content-Type: image/png\r\n", &random, true),
            ("Content-Type: image/png\r\n", &png, false),
            // Claims with no magic number to check are taken at their word.
            ("Content-Encoding: br\r\n", &random, false),
            ("Content-Type: video/mp2t\r\n", &random, false),
            // Shorter than the held prefix: judged when it ends.
            ("", &random[..10], true),
            ("", b"a short text body, nothing else", true),
        ];
        for (headers, body, expect) in cases {
            let mut stream = response(headers, body);
            // A second message on the connection is judged afresh.
            stream.extend(response("", b"ok"));
            for step in [1, 5, 33, stream.len()] {
                let got = measured(&stream, step);
                let mut want = if expect { body.to_vec() } else { vec![] };
                want.extend_from_slice(b"ok");
                assert_eq!(got, want, "{headers:?} step {step}");
            }
        }
        // A slice of a larger file (206), and a download-sized body: only
        // their first bytes are in the window, and they are not judged.
        let partial = b"HTTP/1.1 206 Partial Content\r\nContent-Length: 200\r\n\r\n";
        let mut stream = partial.to_vec();
        stream.extend_from_slice(&random);
        assert_eq!(measured(&stream, 7), b"");
        let mut stream = b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n".to_vec();
        stream.extend_from_slice(&random);
        assert_eq!(measured(&stream, 7), b"");
        // A request body of the same size is judged: uploads are not
        // downloads.
        let mut stream = b"POST /u HTTP/1.1\r\nContent-Length: 1048576\r\n\r\n".to_vec();
        stream.extend_from_slice(&random);
        assert_eq!(measured(&stream, 7), random);
    }

    #[test]
    fn chunked_bodies_measure_their_data_not_their_sizes() {
        let random = noise(300);
        let mut stream = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for part in random.chunks(100) {
            stream.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
            stream.extend_from_slice(part);
            stream.extend_from_slice(b"\r\n");
        }
        stream.extend_from_slice(b"0\r\n\r\n");
        for step in [1, 4, 64, stream.len()] {
            assert_eq!(measured(&stream, step), random, "step {step}");
        }
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
    fn line_runs_end_where_the_bytewise_scan_ends() {
        // Every byte value at every position of words and tails, in text
        // of every length up to three words, against the byte-wise scan.
        let bytewise = |s: &[u8]| s.iter().position(|&b| ends_run(b)).unwrap_or(s.len());
        let text = b"Mozilla/5.0 (X11; Linux)";
        for len in 0..=text.len() {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut s = text[..len].to_vec();
                    s[at] = b;
                    assert_eq!(line_run(&s), bytewise(&s), "{s:?}");
                }
            }
            assert_eq!(line_run(&text[..len]), len);
        }
        let noise = noise(4096);
        for start in 0..64 {
            assert_eq!(line_run(&noise[start..]), bytewise(&noise[start..]));
        }
    }

    #[test]
    fn start_lines_are_read_to_their_end_in_one_scan() {
        // A long target and a long reason phrase walk as any other line,
        // whatever the chunks.
        let target = "/a".repeat(700);
        let stream = format!(
            "GET {target}?q=1 HTTP/1.1\r\nHost: x\r\n\r\nHTTP/1.1 404 Not Found here {target}\r\nContent-Length: 0\r\n\r\n"
        );
        for step in [1, 5, 9, stream.len()] {
            let mut w = HttpWalker::new(Protocol::Http);
            assert_eq!(
                walk(&mut w, stream.as_bytes(), step),
                (stream.len() as u64, None)
            );
            assert_eq!(w.phase, Phase::MessageStart);
        }
        // A control byte in the target, or the status's reason, breaks
        // the message right there.
        for (line, at) in [
            (&b"GET /abcdefgh\x01ij HTTP/1.1\r\n"[..], 13),
            (&b"HTTP/1.1 200 OKAY-OK\x00\r\n"[..], 20),
        ] {
            for step in [1, 4, line.len()] {
                let mut w = HttpWalker::new(Protocol::Http);
                let (_, s) = walk(&mut w, line, step);
                assert_eq!(
                    s.map(|s| s.next),
                    Some(Next::Broken(MalformReason::BadMessage, at)),
                    "{line:?} step {step}"
                );
            }
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
        let cases: [(&[u8], Unknown); 6] = [
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
                Unknown::Content,
            ),
            (
                b"HTTP/1.0 200 OK\r\nContent-Type: audio/mpeg\r\n\r\n",
                Unknown::Explain,
            ),
            // A type whose format has a magic number is checked, not
            // trusted: the content is judged.
            (
                b"HTTP/1.0 200 OK\r\nContent-Type: image/png\r\n\r\n",
                Unknown::Content,
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
