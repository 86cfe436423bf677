//! What the engine concludes about a flow, and why.
//!
//! Everything here is `Copy` and fixed-size: a [`Verdict`] is computed on demand
//! from the flow state (nothing is stored twice) and handed to a front end,
//! which only formats it.

use crate::codes::code_enum;
use crate::stats::Encoding;

pub use crate::proto::Protocol;

code_enum! {
    /// What the payload looks like.
    pub enum Content {
        /// Nothing inspected yet, or binary that is neither text nor
        /// high-entropy.
        Unknown = 0 => "unknown",
        /// Mostly printable text, or framed by a cleartext protocol.
        Plaintext = 1 => "plaintext",
        /// High entropy explained by a compressed or media format.
        Compressed = 2 => "compressed",
        /// High entropy with no format to explain it, or inside a
        /// key-exchange protocol.
        Encrypted = 3 => "encrypted",
    }
}

code_enum! {
    /// One anomaly. Codes are bit positions in [`AlertSet`] and part of the
    /// ABI; names are those of logs, rules and flowbits.
    pub enum Alert {
        /// High-entropy payload and no key exchange ever seen (T1573.001).
        SymmetricOnly = 0 => "symmetric_only",
        /// TLS or QUIC on a port not profiled for it (T1573.002). DTLS is
        /// not held to the profile: WebRTC runs it on ephemeral ports.
        TlsUnexpectedPort = 1 => "tls_unexpected_port",
        /// Encrypted-looking payload on a port profiled for cleartext, that
        /// no cleartext protocol there carries (T1573).
        EncryptedOnPlaintextPort = 2 => "encrypted_on_plaintext_port",
        /// A key exchange started and did not complete within the timeout,
        /// or before the flow ended (T1573.002).
        HandshakeIncomplete = 3 => "handshake_incomplete",
        /// A key-exchange protocol whose framing broke (T1573.002).
        HandshakeMalformed = 4 => "handshake_malformed",
        /// TLS key exchange by RSA: no forward secrecy (T1573.002).
        RsaKeyExchange = 5 => "rsa_key_exchange",
        /// Client-heavy byte ratio above the volume threshold (T1573).
        TrafficAsymmetry = 6 => "traffic_asymmetry",
        /// SSH on a port not profiled for it (T1573.002, T1571).
        SshUnexpectedPort = 7 => "ssh_unexpected_port",
        /// DNS names or TXT/NULL records that carry encoded ciphertext
        /// (T1071.004, T1573.001).
        DnsEncodedPayload = 8 => "dns_encoded_payload",
    }
}

impl Alert {
    /// The ATT&CK technique the alert speaks for.
    pub const fn technique(self) -> &'static str {
        match self {
            Alert::SymmetricOnly => "T1573.001",
            Alert::TlsUnexpectedPort
            | Alert::SshUnexpectedPort
            | Alert::HandshakeIncomplete
            | Alert::HandshakeMalformed
            | Alert::RsaKeyExchange => "T1573.002",
            Alert::EncryptedOnPlaintextPort | Alert::TrafficAsymmetry => "T1573",
            Alert::DnsEncodedPayload => "T1071.004",
        }
    }

    /// This alert's bit in an [`AlertSet`].
    pub const fn bit(self) -> u32 {
        1 << self as u8
    }
}

/// A set of alerts as a bit mask (bit n = `Alert` with value n).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AlertSet(pub u32);

impl AlertSet {
    /// No alerts.
    pub const EMPTY: AlertSet = AlertSet(0);

    /// Whether `alert` is in the set.
    pub const fn contains(self, alert: Alert) -> bool {
        self.0 & alert.bit() != 0
    }

    /// Adds `alert`.
    pub fn insert(&mut self, alert: Alert) {
        self.0 |= alert.bit();
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The alerts in both sets.
    pub const fn and(self, other: AlertSet) -> AlertSet {
        AlertSet(self.0 & other.0)
    }

    /// The alerts of this set that are not in `other`.
    pub const fn without(self, other: AlertSet) -> AlertSet {
        AlertSet(self.0 & !other.0)
    }

    /// The alerts in bit order.
    pub fn iter(self) -> impl Iterator<Item = Alert> {
        Alert::ALL.into_iter().filter(move |a| self.contains(*a))
    }
}

/// A flow direction. The client is the side that opened the flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Direction {
    /// Client to server.
    ToServer = 0,
    /// Server to client.
    ToClient = 1,
}

impl Direction {
    /// `"client"` for [`Direction::ToServer`] (bytes the client sent), else `"server"`.
    pub const fn sender(self) -> &'static str {
        match self {
            Direction::ToServer => "client",
            Direction::ToClient => "server",
        }
    }

    /// The other direction.
    pub const fn reverse(self) -> Direction {
        match self {
            Direction::ToServer => Direction::ToClient,
            Direction::ToClient => Direction::ToServer,
        }
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

code_enum! {
    /// A file, compression or media format recognized at the start of a
    /// payload, or a known container of symmetric ciphertext.
    pub enum Format {
        Gzip = 1 => "gzip",
        Zlib = 2 => "zlib",
        Xz = 3 => "xz",
        Zstd = 4 => "zstd",
        Bzip2 = 5 => "bzip2",
        Zip = 6 => "zip",
        SevenZip = 7 => "7z",
        Png = 8 => "png",
        Jpeg = 9 => "jpeg",
        Gif = 10 => "gif",
        Webp = 11 => "webp",
        Pdf = 12 => "pdf",
        Mp4 = 13 => "mp4",
        Webm = 14 => "webm",
        /// `openssl enc` output: `Salted__` + 8-byte salt, then ciphertext.
        OpensslSalted = 64 => "openssl_salted",
        /// OpenPGP symmetrically encrypted data (SKESK packet first).
        OpenPgpSymmetric = 65 => "openpgp_symmetric",
    }
}

impl Format {
    /// Whether the format holds symmetric ciphertext (as opposed to
    /// compressed or media data, which explains high entropy innocently).
    pub const fn is_ciphertext(self) -> bool {
        matches!(self, Format::OpensslSalted | Format::OpenPgpSymmetric)
    }
}

code_enum! {
    /// Why a protocol's framing was judged broken.
    pub enum MalformReason {
        /// A TLS/DTLS record header with an unknown content type.
        BadRecordType = 1 => "bad_record_type",
        /// A record header with an impossible version.
        BadRecordVersion = 2 => "bad_record_version",
        /// A record longer than the protocol allows.
        RecordTooLong = 3 => "record_too_long",
        /// A handshake message whose length overruns what carries it, or a
        /// hello whose fields do not fit.
        BadHandshake = 4 => "bad_handshake",
        /// An SSH binary packet with an impossible length or padding.
        BadSshPacket = 5 => "bad_ssh_packet",
        /// An SSH banner line that never ended or held binary.
        BadSshBanner = 6 => "bad_ssh_banner",
        /// A fatal TLS alert during the handshake.
        FatalAlert = 7 => "fatal_alert",
        /// A cleartext protocol's message (a line, a header, a frame) broke
        /// its syntax, or bytes came where a message should start.
        BadMessage = 8 => "bad_message",
    }
}

/// A range of stream offsets, `[start, end)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub start: u64,
    pub end: u64,
}

/// Where a proxy carrier (an HTTP CONNECT, SOCKS) was asked to connect:
/// the port, and the address or the first bytes of the host name. 20
/// bytes, kept in the flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Destination {
    pub port: u16,
    kind: u8,
    len: u8,
    bytes: [u8; 16],
}

/// The host part of a [`Destination`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host<'a> {
    Ipv4([u8; 4]),
    Ipv6([u8; 16]),
    /// A host name, or its first 16 bytes (`truncated`).
    Name {
        name: &'a str,
        truncated: bool,
    },
}

const DEST_NONE: u8 = 0;
const DEST_V4: u8 = 1;
const DEST_V6: u8 = 2;
const DEST_NAME: u8 = 3;
const DEST_NAME_CUT: u8 = 4;

impl Destination {
    pub const NONE: Destination = Destination {
        port: 0,
        kind: DEST_NONE,
        len: 0,
        bytes: [0; 16],
    };

    pub fn ipv4(addr: [u8; 4], port: u16) -> Self {
        let mut bytes = [0; 16];
        bytes[..4].copy_from_slice(&addr);
        Destination {
            port,
            kind: DEST_V4,
            len: 4,
            bytes,
        }
    }

    pub fn ipv6(addr: [u8; 16], port: u16) -> Self {
        Destination {
            port,
            kind: DEST_V6,
            len: 16,
            bytes: addr,
        }
    }

    /// A host name (its printable ASCII prefix, up to 16 bytes) and port.
    pub fn name(name: &[u8], port: u16) -> Self {
        let mut bytes = [0; 16];
        let n = name
            .iter()
            .take(16)
            .take_while(|b| b.is_ascii_graphic())
            .count();
        bytes[..n].copy_from_slice(&name[..n]);
        Destination {
            port,
            kind: if n < name.len() {
                DEST_NAME_CUT
            } else {
                DEST_NAME
            },
            len: n as u8,
            bytes,
        }
    }

    /// Marks a host name as cut (the walker kept only its first bytes).
    pub(crate) fn truncate(&mut self) {
        if self.kind == DEST_NAME {
            self.kind = DEST_NAME_CUT;
        }
    }

    /// Whether a destination was noted.
    pub fn is_some(&self) -> bool {
        self.kind != DEST_NONE
    }

    /// The host, if a destination was noted.
    pub fn host(&self) -> Option<Host<'_>> {
        match self.kind {
            DEST_V4 => Some(Host::Ipv4([
                self.bytes[0],
                self.bytes[1],
                self.bytes[2],
                self.bytes[3],
            ])),
            DEST_V6 => Some(Host::Ipv6(self.bytes)),
            DEST_NAME | DEST_NAME_CUT => Some(Host::Name {
                name: core::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or(""),
                truncated: self.kind == DEST_NAME_CUT,
            }),
            _ => None,
        }
    }
}

impl core::fmt::Display for Host<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Host::Ipv4(a) => write!(f, "{}.{}.{}.{}", a[0], a[1], a[2], a[3]),
            Host::Ipv6(a) => {
                for (i, pair) in a.chunks(2).enumerate() {
                    if i > 0 {
                        f.write_str(":")?;
                    }
                    write!(f, "{:x}", u16::from_be_bytes([pair[0], pair[1]]))?;
                }
                Ok(())
            }
            Host::Name { name, truncated } => {
                f.write_str(name)?;
                if *truncated {
                    f.write_str("…")?;
                }
                Ok(())
            }
        }
    }
}

/// A carrier's message whose content was measured: an HTTP request (by its
/// method) or response (by its status).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message {
    Request(&'static str),
    Response(u16),
}

/// Where and why a protocol's framing broke in one direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Broke {
    /// The protocol whose framing broke.
    pub protocol: Protocol,
    pub reason: MalformReason,
    /// Stream offset of the fault.
    pub at: u64,
}

/// Byte statistics of one direction, as far as it was inspected.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DirReport {
    /// Payload bytes seen (all of them, also after inspection ended).
    /// Packet and gap counts are the host's to keep: it sees every packet.
    pub bytes: u64,
    /// Bytes that went through the statistics (≤ `inspect_budget`): the
    /// inspection window less what a recognized protocol explained.
    pub inspected: u32,
    /// Collision-entropy estimate in bits per byte, or `None` below
    /// `min_payload` (see [`crate::stats`]).
    pub entropy: Option<f32>,
    /// Mean Shannon entropy of a sample of the 32-byte blocks (every 8th
    /// full block from the stream's start, and the partial block at the
    /// end), and what uniformly random blocks of the same lengths give on
    /// average. Evidence only.
    pub block_shannon: f32,
    pub block_shannon_random: f32,
    /// Byte pairs within blocks that were equal, and the number uniformly
    /// random data would give on average.
    pub collisions: u32,
    pub collisions_expected: f32,
    /// Share of printable ASCII (and tab, CR, LF) bytes.
    pub printable_fraction: f32,
    /// Longest run of printable bytes.
    pub longest_printable_run: u32,
    /// Mean number of set bits per byte (4.0 for random data).
    pub mean_popcount: f32,
    /// The alphabet the bytes are drawn from, when they are an encoding.
    pub encoding: Encoding,
    /// Entropy reaches the threshold for its alphabet.
    pub high_entropy: bool,
    /// Full 32-byte blocks inspected, and those that look uniform alone.
    pub full_blocks: u32,
    pub uniform_blocks: u32,
    /// Bytes outside printable ASCII, their collision entropy (at most
    /// log2 158 ≈ 7.3), and whether they alone pass the collision test:
    /// ciphertext under printable padding or interleaved text (see
    /// [`crate::stats`]).
    pub binary_bytes: u32,
    pub binary_entropy: f32,
    pub binary_high_entropy: bool,
    /// Only the binary bytes passed: ciphertext under printable cover.
    pub printable_cover: bool,
    /// A recognized protocol explained bytes of this direction, and the
    /// statistics skipped them (`Config::measure_known_protocols`).
    pub explained: bool,
    /// The stream offsets the measured bytes span: of the outer stream, and
    /// of an inner stream a carrier handed over (see [`crate::proto`]).
    /// Explained bytes may lie between a span's ends.
    pub spans: [Option<Span>; 2],
    /// Where a protocol's framing broke, after which bytes were measured.
    pub broke: Option<Broke>,
    /// The carrier's message whose content was measured first (an HTTP
    /// body's request or response).
    pub message: Option<Message>,
    /// The format recognized at the start of the (innermost) stream, if any.
    pub format: Option<Format>,
    /// Stream offset at which this direction's inspection ended, if it did.
    pub inspection_end: Option<u64>,
}

impl DirReport {
    /// Where measuring started, if anything was measured.
    pub fn measured_from(&self) -> Option<u64> {
        self.spans.iter().flatten().map(|s| s.start).next()
    }
}

/// Evidence for a handshake alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandshakeEvidence {
    /// The key-exchange protocol.
    pub protocol: Protocol,
    /// Which side's stream it concerns.
    pub direction: Direction,
    /// Stream offset of the fault (malformed) or of the last handshake byte
    /// seen (incomplete).
    pub offset: u64,
    /// Set for `handshake_malformed`, and for `handshake_incomplete` ended
    /// by a fatal alert.
    pub reason: Option<MalformReason>,
    /// Microseconds from the first handshake byte to the verdict
    /// (incomplete).
    pub elapsed_us: u64,
}

/// Evidence for the alerts. Each alert's evidence is a set of these slots
/// (see [`crate::report`] for which); a slot is `Some` when an alert that
/// reads it is raised.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Evidence {
    /// `symmetric_only` and `encrypted_on_plaintext_port`: the direction whose
    /// measured bytes crossed the threshold (its figures are in the
    /// [`DirReport`]).
    pub high_entropy_direction: Option<Direction>,
    /// `symmetric_only` because TLS-looking records ran with no handshake on
    /// a flow whose start was seen.
    pub framing_without_handshake: bool,
    /// The port alerts: the server port.
    pub server_port: Option<u16>,
    /// `handshake_incomplete` or `handshake_malformed`.
    pub handshake: Option<HandshakeEvidence>,
    /// `rsa_key_exchange`: the negotiated cipher suite.
    pub cipher_suite: Option<u16>,
    /// `traffic_asymmetry`: client bytes / server bytes.
    pub asymmetry_ratio: Option<f32>,
}

/// The engine's conclusion about one flow.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Verdict {
    /// The recognized protocol of the innermost stream, if any.
    pub protocol: Option<Protocol>,
    /// The cleartext protocol that carried it, when a carrier handed its
    /// stream over (an HTTP CONNECT tunnel, STARTTLS …).
    pub carrier: Option<Protocol>,
    /// Where a proxy carrier was asked to connect, if one was.
    pub destination: Option<Destination>,
    /// The engine took the host's client for the server (the start was not
    /// seen; see [`crate::roles`]): `dirs[0]` is what the host's server
    /// sent.
    pub roles_swapped: bool,
    /// What the payload looks like.
    pub content: Content,
    /// Anomalies raised.
    pub alerts: AlertSet,
    /// The alerts that no further byte or time can take back: what a front
    /// end publishes while the flow goes on (see [`Verdict::publish`]).
    pub final_alerts: AlertSet,
    /// Why each alert was raised.
    pub evidence: Evidence,
    /// Per direction, indexed by [`Direction`] (0 = client, 1 = server).
    pub dirs: [DirReport; 2],
    /// A key exchange was seen to complete.
    pub key_exchange_complete: bool,
    /// TLS: negotiated version (0x0304 for 1.3) and cipher suite, if seen.
    pub tls_version: Option<u16>,
    pub tls_cipher_suite: Option<u16>,
    /// The engine has stopped inspecting payload (both directions used
    /// their budget): hosts may stop feeding bytes and only account for
    /// them with [`crate::Flow::account`].
    pub inspection_done: bool,
    /// The verdict is the flow's last: it ended (or is judged as if it had).
    pub ended: bool,
    /// Timestamps (microseconds) of the first and last payload seen.
    pub first_ts_us: u64,
    pub last_ts_us: u64,
}

impl Verdict {
    /// The report for direction `dir`.
    pub fn dir(&self, dir: Direction) -> &DirReport {
        &self.dirs[dir.index()]
    }

    /// The engine's one rule for when a front end publishes an alert (a
    /// flowbit, a rule match, a notice): once it is final. Hosts call this
    /// whenever `Flow::feed` reports news, and at the flow's end, where every
    /// alert is final.
    pub fn publish(&self) -> AlertSet {
        self.final_alerts
    }

    /// The cleartext protocol whose content direction `dir`'s measured
    /// bytes were (an HTTP body, a WebSocket message, a CONNECT or SOCKS
    /// tunnel), if they were carried inside framing that held.
    pub fn carried_by(&self, dir: Direction) -> Option<Protocol> {
        carried_by(self.protocol, self.carrier, self.dir(dir).broke.is_some())
    }
}

impl Verdict {
    /// The name the evidence gives [`Verdict::carried_by`]: the protocol's,
    /// except that a tunnel an HTTP proxy opened for a destination is
    /// `http_connect` (HTTP bodies are `http`).
    pub fn carrier_name(&self, dir: Direction) -> Option<&'static str> {
        let p = self.carried_by(dir)?;
        let tunnel = self.protocol.is_none_or(|q| q.has_key_exchange());
        Some(
            if p == Protocol::Http && tunnel && self.destination.is_some() {
                "http_connect"
            } else {
                p.name()
            },
        )
    }
}

/// What [`Verdict::carried_by`] says, from its parts: the innermost
/// protocol when it is a cleartext one other than an application (its
/// walker measured its content),
/// else the carrier that handed the stream over; nothing once the framing
/// broke (the bytes after a break are no one's content).
pub(crate) fn carried_by(
    protocol: Option<Protocol>,
    carrier: Option<Protocol>,
    broke: bool,
) -> Option<Protocol> {
    if broke {
        return None;
    }
    // An application's bytes are its own, not content a cleartext
    // protocol carries.
    protocol
        .filter(|p| !p.has_key_exchange() && !p.is_application())
        .or(carrier)
}
