//! What the engine concludes about a flow, and why.
//!
//! Everything here is `Copy` and fixed-size: a [`Verdict`] is computed on demand
//! from the flow state (nothing is stored twice) and handed to a front end,
//! which only formats it.

use crate::stats::Encoding;

/// A protocol the engine recognized from the bytes (never from the port).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Protocol {
    /// TLS, SSLv3 to 1.3 (also a mid-stream pickup of TLS records).
    Tls = 1,
    /// SSH-2 (banner, then binary packets).
    Ssh = 2,
    /// QUIC (long-header Initial/Handshake packets).
    Quic = 3,
    /// DTLS 1.0–1.3.
    Dtls = 4,
    /// WireGuard.
    WireGuard = 5,
    /// IKEv1 / IKEv2 (ISAKMP), with or without the NAT-T marker.
    Ike = 6,
    /// OpenVPN in TLS mode (UDP, or TCP with its length prefix).
    OpenVpn = 7,
    /// HTTP/1.x.
    Http = 8,
    /// SMTP.
    Smtp = 9,
    /// FTP control.
    Ftp = 10,
    /// POP3.
    Pop3 = 11,
    /// IMAP.
    Imap = 12,
    /// DNS.
    Dns = 13,
    /// RTP/RTCP media (SRTP keys come from elsewhere: DTLS-SRTP or signaling).
    Rtp = 14,
    /// STUN/TURN.
    Stun = 15,
    /// SIP.
    Sip = 16,
    /// RTSP.
    Rtsp = 17,
    /// BitTorrent peer wire.
    BitTorrent = 18,
    /// Kerberos (its tickets are symmetric ciphertext, keyed by the KDC).
    Kerberos = 19,
    /// LDAP / CLDAP (BER messages).
    Ldap = 20,
    /// SMB over NetBIOS session service or direct TCP.
    Smb = 21,
    /// PostgreSQL wire protocol.
    Postgres = 22,
    /// MySQL wire protocol.
    Mysql = 23,
    /// RDP (TPKT/X.224), which may upgrade to TLS.
    Rdp = 24,
    /// Zabbix agent/server protocol (`ZBXD` header).
    Zabbix = 25,
    /// GTP-U user-plane tunnel (what it carries is judged by hosts that
    /// decapsulate it).
    Gtp = 26,
}

impl Protocol {
    /// Every protocol, in code order.
    pub const ALL: [Protocol; 26] = [
        Protocol::Tls,
        Protocol::Ssh,
        Protocol::Quic,
        Protocol::Dtls,
        Protocol::WireGuard,
        Protocol::Ike,
        Protocol::OpenVpn,
        Protocol::Http,
        Protocol::Smtp,
        Protocol::Ftp,
        Protocol::Pop3,
        Protocol::Imap,
        Protocol::Dns,
        Protocol::Rtp,
        Protocol::Stun,
        Protocol::Sip,
        Protocol::Rtsp,
        Protocol::BitTorrent,
        Protocol::Kerberos,
        Protocol::Ldap,
        Protocol::Smb,
        Protocol::Postgres,
        Protocol::Mysql,
        Protocol::Rdp,
        Protocol::Zabbix,
        Protocol::Gtp,
    ];

    /// Lower-case name used in logs (`"tls"`, `"ssh"` …).
    pub const fn name(self) -> &'static str {
        match self {
            Protocol::Tls => "tls",
            Protocol::Ssh => "ssh",
            Protocol::Quic => "quic",
            Protocol::Dtls => "dtls",
            Protocol::WireGuard => "wireguard",
            Protocol::Ike => "ike",
            Protocol::OpenVpn => "openvpn",
            Protocol::Http => "http",
            Protocol::Smtp => "smtp",
            Protocol::Ftp => "ftp",
            Protocol::Pop3 => "pop3",
            Protocol::Imap => "imap",
            Protocol::Dns => "dns",
            Protocol::Rtp => "rtp",
            Protocol::Stun => "stun",
            Protocol::Sip => "sip",
            Protocol::Rtsp => "rtsp",
            Protocol::BitTorrent => "bittorrent",
            Protocol::Kerberos => "kerberos",
            Protocol::Ldap => "ldap",
            Protocol::Smb => "smb",
            Protocol::Postgres => "postgres",
            Protocol::Mysql => "mysql",
            Protocol::Rdp => "rdp",
            Protocol::Zabbix => "zabbix",
            Protocol::Gtp => "gtp",
        }
    }

    /// The protocol with code `code`, if any.
    pub fn from_code(code: u8) -> Option<Protocol> {
        Protocol::ALL.iter().copied().find(|p| *p as u8 == code)
    }

    /// Whether this protocol performs a key exchange the engine can observe.
    pub const fn has_key_exchange(self) -> bool {
        matches!(
            self,
            Protocol::Tls
                | Protocol::Ssh
                | Protocol::Quic
                | Protocol::Dtls
                | Protocol::WireGuard
                | Protocol::Ike
                | Protocol::OpenVpn
        )
    }
}

/// What the payload looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Content {
    /// Nothing inspected yet, or binary that is neither text nor high-entropy.
    Unknown = 0,
    /// Mostly printable text, or framed by a cleartext protocol.
    Plaintext = 1,
    /// High entropy explained by a compressed or media format.
    Compressed = 2,
    /// High entropy with no format to explain it, or inside a key-exchange
    /// protocol.
    Encrypted = 3,
}

impl Content {
    /// Lower-case name used in logs.
    pub const fn name(self) -> &'static str {
        match self {
            Content::Unknown => "unknown",
            Content::Plaintext => "plaintext",
            Content::Compressed => "compressed",
            Content::Encrypted => "encrypted",
        }
    }
}

/// One anomaly. Values are bit positions in [`AlertSet`] and part of the ABI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Alert {
    /// High-entropy payload and no key exchange ever seen (T1573.001).
    SymmetricOnly = 0,
    /// TLS (or DTLS/QUIC) on a port not profiled for it (T1573.002).
    TlsUnexpectedPort = 1,
    /// Encrypted-looking payload on a port profiled for cleartext (T1573).
    EncryptedOnPlaintextPort = 2,
    /// A key exchange started and did not complete within the timeout, or
    /// before the flow ended (T1573.002).
    HandshakeIncomplete = 3,
    /// A key-exchange protocol whose framing broke (T1573.002).
    HandshakeMalformed = 4,
    /// TLS key exchange by RSA: no forward secrecy (T1573.002).
    RsaKeyExchange = 5,
    /// Client-heavy byte ratio above the volume threshold (T1573).
    TrafficAsymmetry = 6,
}

impl Alert {
    /// Every alert, in bit order.
    pub const ALL: [Alert; 7] = [
        Alert::SymmetricOnly,
        Alert::TlsUnexpectedPort,
        Alert::EncryptedOnPlaintextPort,
        Alert::HandshakeIncomplete,
        Alert::HandshakeMalformed,
        Alert::RsaKeyExchange,
        Alert::TrafficAsymmetry,
    ];

    /// The name used in logs, rules and flowbits.
    pub const fn name(self) -> &'static str {
        match self {
            Alert::SymmetricOnly => "symmetric_only",
            Alert::TlsUnexpectedPort => "tls_unexpected_port",
            Alert::EncryptedOnPlaintextPort => "encrypted_on_plaintext_port",
            Alert::HandshakeIncomplete => "handshake_incomplete",
            Alert::HandshakeMalformed => "handshake_malformed",
            Alert::RsaKeyExchange => "rsa_key_exchange",
            Alert::TrafficAsymmetry => "traffic_asymmetry",
        }
    }

    /// The alert named `name`.
    pub fn from_name(name: &str) -> Option<Alert> {
        Alert::ALL.iter().copied().find(|a| a.name() == name)
    }

    /// The ATT&CK technique the alert speaks for.
    pub const fn technique(self) -> &'static str {
        match self {
            Alert::SymmetricOnly => "T1573.001",
            Alert::TlsUnexpectedPort
            | Alert::HandshakeIncomplete
            | Alert::HandshakeMalformed
            | Alert::RsaKeyExchange => "T1573.002",
            Alert::EncryptedOnPlaintextPort | Alert::TrafficAsymmetry => "T1573",
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

/// A file, compression or media format recognized at the start of a payload,
/// or a known container of symmetric ciphertext.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Format {
    Gzip = 1,
    Zlib = 2,
    Xz = 3,
    Zstd = 4,
    Bzip2 = 5,
    Zip = 6,
    SevenZip = 7,
    Png = 8,
    Jpeg = 9,
    Gif = 10,
    Webp = 11,
    Pdf = 12,
    Mp4 = 13,
    Webm = 14,
    /// `openssl enc` output: `Salted__` + 8-byte salt, then ciphertext.
    OpensslSalted = 64,
    /// OpenPGP symmetrically encrypted data (SKESK packet first).
    OpenPgpSymmetric = 65,
}

impl Format {
    /// Lower-case name used in logs.
    pub const fn name(self) -> &'static str {
        match self {
            Format::Gzip => "gzip",
            Format::Zlib => "zlib",
            Format::Xz => "xz",
            Format::Zstd => "zstd",
            Format::Bzip2 => "bzip2",
            Format::Zip => "zip",
            Format::SevenZip => "7z",
            Format::Png => "png",
            Format::Jpeg => "jpeg",
            Format::Gif => "gif",
            Format::Webp => "webp",
            Format::Pdf => "pdf",
            Format::Mp4 => "mp4",
            Format::Webm => "webm",
            Format::OpensslSalted => "openssl_salted",
            Format::OpenPgpSymmetric => "openpgp_symmetric",
        }
    }

    /// Whether the format holds symmetric ciphertext (as opposed to
    /// compressed or media data, which explains high entropy innocently).
    pub const fn is_ciphertext(self) -> bool {
        matches!(self, Format::OpensslSalted | Format::OpenPgpSymmetric)
    }

    pub(crate) fn from_code(code: u8) -> Option<Format> {
        use Format::*;
        [
            Gzip,
            Zlib,
            Xz,
            Zstd,
            Bzip2,
            Zip,
            SevenZip,
            Png,
            Jpeg,
            Gif,
            Webp,
            Pdf,
            Mp4,
            Webm,
            OpensslSalted,
            OpenPgpSymmetric,
        ]
        .into_iter()
        .find(|f| *f as u8 == code)
    }
}

/// Why a key-exchange protocol's framing was judged broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MalformReason {
    /// A TLS/DTLS record header with an unknown content type.
    BadRecordType = 1,
    /// A record header with an impossible version.
    BadRecordVersion = 2,
    /// A record longer than the protocol allows.
    RecordTooLong = 3,
    /// A handshake message whose length overruns what carries it, or a hello
    /// whose fields do not fit.
    BadHandshake = 4,
    /// An SSH binary packet with an impossible length or padding.
    BadSshPacket = 5,
    /// An SSH banner line that never ended or held binary.
    BadSshBanner = 6,
    /// A fatal TLS alert during the handshake.
    FatalAlert = 7,
}

impl MalformReason {
    /// Lower-case name used in logs.
    pub const fn name(self) -> &'static str {
        match self {
            MalformReason::BadRecordType => "bad_record_type",
            MalformReason::BadRecordVersion => "bad_record_version",
            MalformReason::RecordTooLong => "record_too_long",
            MalformReason::BadHandshake => "bad_handshake",
            MalformReason::BadSshPacket => "bad_ssh_packet",
            MalformReason::BadSshBanner => "bad_ssh_banner",
            MalformReason::FatalAlert => "fatal_alert",
        }
    }
}

/// Byte statistics of one direction, as far as it was inspected.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DirReport {
    /// Payload bytes seen (all of them, also after the verdict). Packet and
    /// gap counts are the host's to keep: it sees every packet.
    pub bytes: u64,
    /// Bytes that went through the statistics (≤ `inspect_budget`): the
    /// inspection window less what a recognized protocol explained.
    pub inspected: u32,
    /// Collision-entropy estimate in bits per byte, or `None` below
    /// `min_payload` (see [`crate::stats`]).
    pub entropy: Option<f32>,
    /// Mean Shannon entropy of the 64-byte blocks, and what uniformly random
    /// blocks of the same lengths give on average.
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
    /// A recognized protocol explained bytes of this direction, and the
    /// statistics skipped them (`Config::measure_known_protocols`).
    pub explained: bool,
    /// Stream offset the measured bytes of a TCP direction start at: 0, or
    /// where a walker found an explained stream's framing broken.
    pub measured_from: u64,
    /// The format recognized at the start of the payload, if any.
    pub format: Option<Format>,
    /// Stream offset at which this direction's inspection ended, if it did.
    pub decided_after: Option<u64>,
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
    /// Set for `handshake_malformed`.
    pub reason: Option<MalformReason>,
    /// Microseconds from the first handshake byte to the verdict
    /// (incomplete).
    pub elapsed_us: u64,
}

/// Evidence for the alerts, one slot per alert kind; a slot is `Some` exactly
/// when its alert is raised.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Evidence {
    /// `symmetric_only` and `encrypted_on_plaintext_port`: the direction whose
    /// statistics crossed the threshold (its figures are in the
    /// [`DirReport`]), and the byte range `[0, end)` of that stream they cover.
    pub high_entropy_direction: Option<Direction>,
    /// `symmetric_only` because TLS-looking records ran with no handshake on
    /// a flow whose start was seen.
    pub framing_without_handshake: bool,
    /// `tls_unexpected_port` / `encrypted_on_plaintext_port`: the server port.
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
    /// The recognized protocol, if any.
    pub protocol: Option<Protocol>,
    /// What the payload looks like.
    pub content: Content,
    /// Anomalies raised.
    pub alerts: AlertSet,
    /// Why each alert was raised.
    pub evidence: Evidence,
    /// Per direction, indexed by [`Direction`] (0 = client, 1 = server).
    pub dirs: [DirReport; 2],
    /// A key exchange was seen to complete.
    pub key_exchange_complete: bool,
    /// TLS: negotiated version (0x0304 for 1.3) and cipher suite, if seen.
    pub tls_version: Option<u16>,
    pub tls_cipher_suite: Option<u16>,
    /// The engine has stopped inspecting payload: hosts may stop feeding
    /// bytes (and only account for them with [`crate::Flow::account`]).
    pub decided: bool,
    /// Timestamps (microseconds) of the first and last payload seen.
    pub first_ts_us: u64,
    pub last_ts_us: u64,
}

impl Verdict {
    /// The report for direction `dir`.
    pub fn dir(&self, dir: Direction) -> &DirReport {
        &self.dirs[dir.index()]
    }
}
