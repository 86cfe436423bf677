//! Protocol recognizers and walkers: one module per protocol (or family of
//! protocols that share a syntax), and [`TABLE`], the one place that lists
//! them.
//!
//! # The walker interface
//!
//! A TCP direction is read in *layers*. A layer starts with a **sniff
//! window** ([`SNIFF`] bytes, at whatever stream offset the layer starts):
//! each [`Row::stream`] probe of the table, in order, looks at the window and
//! may return a [`Walker`] positioned at the layer's first byte. The walker
//! is then fed the stream, in order and in chunks of any size, and answers
//! each call with a [`Step`] that covers a prefix of what it was given:
//!
//! * **explain** `n` bytes: the protocol accounts for them (its framing, or
//!   content it carries and vouches for); the statistics skip them;
//! * **measure** `n` bytes: bytes the protocol does not account for (TLS
//!   records that never opened with a hello); the statistics measure them;
//! * **hand off** after `n` bytes: the protocol is done with the stream and
//!   what follows is an *inner stream*, sniffed afresh (an HTTP CONNECT
//!   tunnel, a WebSocket after its upgrade, TLS after STARTTLS);
//! * **broken** `(reason, at, resume)`: the framing broke at `at`; the rest
//!   of the layer, from `resume`, is measured.
//!
//! Steps depend only on the bytes, never on how they were chunked, so
//! neither do the verdicts. A cleartext protocol explains its own framing
//! and nothing after it: bytes that do not continue the protocol break it,
//! and are measured like any unexplained bytes.
//!
//! UDP datagrams are judged one by one: [`Row::datagram`] recognizers say
//! which protocol a datagram belongs to and what it shows ([`Facts`]); a
//! recognized datagram is explained once its protocol is known (after this
//! side's hello, for protocols with a key exchange). A few recognizers need
//! memory across datagrams ([`DatagramMemory`]).
//!
//! Recognizers never allocate and never look at the port.
//!
//! # Applications
//!
//! Some rows are *applications*: a program's own protocol, recognized by a
//! handshake or a magic of its own (AliCloud's agent, Spotify's access
//! point, WhatsApp, MTProto, DNSCrypt, RakNet …). Their names go into
//! `symmetric_only`'s evidence (`application`), so that rules and scripts
//! can speak of them by name. What a name buys depends on what the bytes
//! show:
//!
//! * an application whose handshake carries a key exchange (a public key, a
//!   key wrapped for the server, answered by the other side) is a
//!   key-exchange protocol like TLS: its hello on both sides explains the
//!   ciphertext, and `key_exchange_complete` says so;
//! * an application recognized by a fixed magic alone shows no key
//!   exchange: naming it explains nothing. What it carries is measured as
//!   if it were not recognized, and no exemption follows, so a magic copied
//!   onto C2 buys only the name in the evidence.

pub(crate) mod alicloud;
pub(crate) mod app;
pub(crate) mod codm;
pub(crate) mod dht;
pub(crate) mod dns;
pub(crate) mod dnscrypt;
pub(crate) mod dtls;
pub(crate) mod epicgames;
pub(crate) mod framed;
pub(crate) mod hpvirtgrp;
pub(crate) mod http;
pub(crate) mod ike;
pub(crate) mod imo;
pub(crate) mod lines;
pub(crate) mod mtproto;
pub(crate) mod openvpn;
pub(crate) mod quic;
pub(crate) mod raknet;
pub(crate) mod rtmp;
pub(crate) mod rtp;
pub(crate) mod socks;
pub(crate) mod spotify;
pub(crate) mod ssh;
pub(crate) mod stun;
pub(crate) mod tencent;
pub mod tls;
pub(crate) mod websocket;
pub(crate) mod whatsapp;
pub(crate) mod wildrift;
pub(crate) mod wireguard;

use crate::codes::code_enum;
use crate::config::PortClass;
use crate::verdict::MalformReason;

/// Bytes a layer's sniff window holds: enough for a 64-byte MTProto init or a
/// long `HTTP/1.1 200 Connection established` line, and for every probe.
pub const SNIFF: usize = 64;
const _: () = assert!(SNIFF >= crate::format::PREFIX && SNIFF >= 64);

/// A walker's framing error: the reason, the stream offset of the fault
/// (what the evidence reports), and the offset just past the byte that
/// revealed it (where measuring resumes: a fixed point of the stream, so
/// the measured bytes do not depend on how it was chunked).
pub(crate) type Broken = (MalformReason, u64, u64);

/// What one direction's innermost layer has shown of its protocol.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Facts(u8);

impl Facts {
    pub const EMPTY: Facts = Facts(0);
    /// This side sent its half of a key exchange (ClientHello/ServerHello,
    /// SSH KEXINIT, QUIC/DTLS/WireGuard/IKE/OpenVPN handshake packets).
    pub const HELLO: u8 = 1;
    /// This side switched to protected traffic (TLS ChangeCipherSpec or
    /// application data, SSH NEWKEYS, WireGuard transport …).
    pub const KEYED: u8 = 2;
    /// The protocol's framing was seen (possibly without any hello: a
    /// mid-stream pickup).
    pub const FRAMING: u8 = 4;
    /// A fatal TLS alert before the exchange completed.
    pub const FATAL_ALERT: u8 = 8;

    #[inline]
    pub fn set(&mut self, bits: u8) {
        self.0 |= bits;
    }

    #[inline]
    pub fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }

    pub fn bits(self) -> u8 {
        self.0
    }
}

/// What follows the bytes a [`Step`] covers.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Next {
    /// The walker goes on.
    Continue,
    /// The walker is done: an inner stream starts, sniffed afresh. `unknown`
    /// says what the bytes are when no probe recognizes them.
    Inner(Unknown),
    /// The framing broke at this stream offset; the rest is measured.
    Broken(MalformReason, u64),
    /// The walker is done: an inner stream of a protocol the carrier
    /// announced starts, read by this walker (WebSocket after an HTTP
    /// upgrade to it).
    Switch(Protocol, Walker),
}

// Steps compare by what they say (a switch by its protocol), for tests and
// the driver's checks.
impl PartialEq for Next {
    fn eq(&self, other: &Next) -> bool {
        match (self, other) {
            (Next::Continue, Next::Continue) => true,
            (Next::Inner(a), Next::Inner(b)) => a == b,
            (Next::Broken(r, a), Next::Broken(s, b)) => r == s && a == b,
            (Next::Switch(p, _), Next::Switch(q, _)) => p == q,
            _ => false,
        }
    }
}

impl Eq for Next {}

/// What an inner stream that no probe recognizes is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unknown {
    /// Bytes the carrier announced as a tunnel (CONNECT, an Upgrade): measured.
    Measure,
    /// Content a carrier delivers until the stream ends and does not
    /// explain (an HTTP body without a length or a declared type):
    /// measured, unless it starts with a recognized compression or media
    /// format.
    Content,
    /// Content the carrier delivers until the stream ends (an HTTP body
    /// without a length): explained with the carrier.
    Explain,
    /// The carrier did not announce anything: its framing broke there.
    Broken(MalformReason),
}

/// A walker's answer: the next `len` bytes are measured or not, then `next`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Step {
    pub len: usize,
    pub measure: bool,
    /// The walker held bytes (these `len` among them, explained until now)
    /// until it could judge them: measure them now ([`Walker::pending`]).
    pub release: bool,
    /// Measured bytes are XORed with this key, repeating, first (a
    /// WebSocket client's masking key): zero for all but those.
    pub xor: [u8; 4],
    pub next: Next,
}

impl Step {
    /// The protocol accounts for the next `n` bytes.
    pub const fn explain(n: usize) -> Step {
        Step {
            len: n,
            measure: false,
            release: false,
            xor: [0; 4],
            next: Next::Continue,
        }
    }

    /// The next `n` bytes end what the walker held; measure all of it.
    pub const fn release(n: usize) -> Step {
        Step {
            len: n,
            measure: false,
            release: true,
            xor: [0; 4],
            next: Next::Continue,
        }
    }

    /// The next `n` bytes are not the protocol's to explain.
    pub const fn measure(n: usize) -> Step {
        Step {
            len: n,
            measure: true,
            release: false,
            xor: [0; 4],
            next: Next::Continue,
        }
    }

    /// The next `n` bytes are measured once XORed with `key`.
    pub const fn measure_masked(n: usize, key: [u8; 4]) -> Step {
        Step {
            xor: key,
            ..Step::measure(n)
        }
    }

    /// `n` more explained bytes, then an inner stream.
    pub const fn hand_off(n: usize, unknown: Unknown) -> Step {
        Step {
            len: n,
            measure: false,
            release: false,
            xor: [0; 4],
            next: Next::Inner(unknown),
        }
    }

    /// The framing broke: the walker consumed the bytes up to `resume`
    /// (stream offset; `offset` is where its input started) with
    /// disposition `measure`.
    pub const fn broken(b: Broken, offset: u64, measure: bool) -> Step {
        let (reason, at, resume) = b;
        Step {
            len: (resume - offset) as usize,
            measure,
            release: false,
            xor: [0; 4],
            next: Next::Broken(reason, at),
        }
    }
}

/// A streaming walker for one direction of one protocol. `walk` is given the
/// next bytes of the stream (`data`, whose first byte is at stream offset
/// `offset`) and returns a step covering at least one of them.
pub(crate) trait Walk {
    fn walk(&mut self, data: &[u8], offset: u64, facts: &mut Facts) -> Step;
}

/// Declares [`Walker`], an enum with one variant per walker type, and its
/// dispatch: one row per type.
macro_rules! walkers {
    ($( $(#[$m:meta])* $variant:ident($ty:ty), )+) => {
        /// Every stream walker, by value: the state a direction keeps.
        #[derive(Clone, Copy, Debug)]
        pub(crate) enum Walker {
            $( $(#[$m])* $variant($ty), )+
        }

        impl Walk for Walker {
            #[inline]
            fn walk(&mut self, data: &[u8], offset: u64, facts: &mut Facts) -> Step {
                match self {
                    $( Walker::$variant(w) => w.walk(data, offset, facts), )+
                }
            }
        }

        $(
            impl From<$ty> for Walker {
                fn from(w: $ty) -> Walker {
                    Walker::$variant(w)
                }
            }
        )+

        // Walkers live inside a direction's state beside the sniff window;
        // none may be bigger than the window.
        $( const _: () = assert!(core::mem::size_of::<$ty>() <= SNIFF); )+
    };
}

walkers! {
    Tls(tls::TlsWalker),
    Ssh(ssh::SshWalker),
    OpenVpnTcp(openvpn::TcpWalker),
    Http(http::HttpWalker),
    Lines(lines::LineWalker),
    Frames(framed::FrameWalker),
    WebSocket(websocket::WebSocketWalker),
    Socks(socks::SocksWalker),
    App(app::AppWalker),
    Rtmp(rtmp::RtmpWalker),
}

impl Walker {
    /// Bytes the walker held until it could judge them, and the stream
    /// offset of the first (see [`Step::release`]).
    pub fn pending(&self) -> (&[u8], u64) {
        match self {
            Walker::Http(w) => w.pending(),
            Walker::WebSocket(w) => w.pending(),
            _ => (&[], 0),
        }
    }

    /// Where a proxy carrier was asked to connect, once it knows.
    pub fn destination(&self) -> Option<crate::verdict::Destination> {
        match self {
            Walker::Http(w) => w.destination(),
            Walker::Socks(w) => w.destination(),
            _ => None,
        }
    }

    /// What the walker found that a verdict reports, kept when it stops.
    pub fn kept(&self) -> Kept {
        match self {
            Walker::Tls(w) => Kept {
                negotiated: w.negotiated().unwrap_or_default(),
                message: 0,
            },
            Walker::Http(w) => Kept {
                negotiated: tls::Negotiated::default(),
                message: w.measured_message_code(),
            },
            _ => Kept::default(),
        }
    }
}

/// Test driver: walks `stream` through `w` in chunks of `step`, as the lane
/// would, calling `each` with every step and the bytes it covered; returns
/// the stream offset where the walker stopped (or the stream ended) and how.
#[cfg(test)]
pub(crate) fn walk_chunked<W: Walk>(
    w: &mut W,
    stream: &[u8],
    step: usize,
    mut each: impl FnMut(&W, &Step, &[u8]),
) -> (u64, Next) {
    let mut facts = Facts::EMPTY;
    let mut off = 0usize;
    for chunk in stream.chunks(step) {
        let mut i = 0;
        while i < chunk.len() {
            let s = w.walk(&chunk[i..], (off + i) as u64, &mut facts);
            each(w, &s, &chunk[i..i + s.len]);
            i += s.len;
            if s.next != Next::Continue {
                return ((off + i) as u64, s.next);
            }
        }
        off += chunk.len();
    }
    (off as u64, Next::Continue)
}

/// Test helpers for the datagram recognizers.
#[cfg(test)]
pub(crate) mod testing {
    use super::{Ctx, DatagramMemory, DatagramProbe, Judgement};

    /// A datagram of `len` bytes (at most 2048) that starts with `head`, a
    /// real packet's first bytes; the rest, ciphertext in the capture, is
    /// filled with pseudo-random bytes.
    pub(crate) struct Packet {
        buf: [u8; 2048],
        len: usize,
    }

    impl Packet {
        pub(crate) fn new(head: &[u8], len: usize) -> Packet {
            let mut buf = [0u8; 2048];
            let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ len as u64;
            for b in buf.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = (x >> 32) as u8;
            }
            buf[..head.len()].copy_from_slice(head);
            Packet { buf, len }
        }

        pub(crate) fn bytes(&self) -> &[u8] {
            &self.buf[..self.len]
        }
    }

    /// Two directions of a UDP flow, each with its memory, as the flow
    /// keeps them.
    #[derive(Default)]
    pub(crate) struct Sides {
        pub mem: [DatagramMemory; 2],
        seen: [bool; 2],
    }

    impl Sides {
        /// Judges datagram `d` of side `i` (0: the client) with `probe`.
        pub(crate) fn judge(&mut self, probe: DatagramProbe, i: usize, d: &[u8]) -> Judgement {
            let other = self.mem[1 - i];
            let first = !self.seen[i];
            self.seen[i] = true;
            probe(
                d,
                &mut Ctx {
                    known: None,
                    first,
                    own: &mut self.mem[i],
                    other: &other,
                },
            )
        }
    }
}

/// What a walker found that a verdict reports, kept after it stops: the
/// TLS parameters a ServerHello negotiated, the carrier message whose
/// content was measured first. 6 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Kept {
    pub negotiated: tls::Negotiated,
    /// See [`http::message_of`].
    pub message: u16,
}

impl Kept {
    pub fn negotiated(&self) -> Option<tls::Negotiated> {
        (self.negotiated.version != 0).then_some(self.negotiated)
    }

    pub fn message(&self) -> Option<crate::verdict::Message> {
        http::message_of(self.message)
    }
}

/// A stream probe: looks at a layer's sniff window (`complete`: the stream
/// or its inspection ended, no more bytes will come) and returns a walker
/// positioned at the window's first byte.
pub(crate) type StreamProbe = fn(window: &[u8], complete: bool) -> Option<Walker>;

/// A datagram recognizer: whether `d` belongs to the row's protocol, and
/// what it shows.
pub(crate) type DatagramProbe = fn(d: &[u8], ctx: &mut Ctx<'_>) -> Judgement;

/// What a datagram recognizer may know besides the datagram.
pub(crate) struct Ctx<'a> {
    /// The flow's protocol, if named already.
    pub known: Option<Protocol>,
    /// This is the first datagram of its direction.
    pub first: bool,
    /// This direction's memory, and the other direction's.
    pub own: &'a mut DatagramMemory,
    pub other: &'a DatagramMemory,
}

/// A recognizer's answer for one datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Judgement {
    /// Not this protocol.
    No,
    /// This protocol.
    Yes(Datagram),
    /// Perhaps this protocol, which one datagram cannot tell: it is held
    /// (measured, judged by nothing else) until a later one confirms it.
    Held,
    /// This datagram confirms what this and the other direction held: the
    /// flow is this protocol, and both directions show the facts.
    Confirmed(Datagram),
}

impl Judgement {
    /// Lifts a stateless recognizer's answer.
    pub fn of(d: Option<Datagram>) -> Judgement {
        d.map_or(Judgement::No, Judgement::Yes)
    }
}

/// A recognizer's judgement of one datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Datagram {
    pub protocol: Protocol,
    /// `Facts` bits this datagram shows.
    pub facts: u8,
}

impl Datagram {
    pub const fn new(protocol: Protocol, facts: u8) -> Self {
        Datagram { protocol, facts }
    }
}

/// What a direction of a UDP flow remembers between datagrams, for the
/// recognizers that cannot judge one datagram alone.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DatagramMemory {
    pub rtp: rtp::Memory,
    pub quic: quic::Memory,
    pub openvpn: openvpn::Memory,
    pub dnscrypt: dnscrypt::Memory,
    pub epicgames: epicgames::Memory,
    pub repeats: Repeats,
}
const _: () = assert!(core::mem::size_of::<DatagramMemory>() <= SNIFF);

impl DatagramMemory {
    /// This direction holds a datagram that may open `protocol` (see
    /// [`Judgement::Held`]).
    pub fn held(&self, protocol: Protocol) -> bool {
        match protocol {
            Protocol::OpenVpn => self.openvpn.candidate(),
            Protocol::DnsCrypt => self.dnscrypt.candidate(),
            _ => false,
        }
    }
}

/// How often a datagram repeats the one before (by [`signature`]): fresh
/// ciphertext never repeats, announcements do.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Repeats {
    /// Datagrams counted (up to 255), and how many equalled the one before.
    datagrams: u8,
    repeats: u8,
    last_signature: u8,
}

impl Repeats {
    pub(crate) const fn new() -> Self {
        Repeats {
            datagrams: 0,
            repeats: 0,
            last_signature: 0,
        }
    }
}

impl Repeats {
    /// Counts datagram `d`.
    pub fn count(&mut self, d: &[u8]) {
        if self.datagrams == u8::MAX {
            return;
        }
        let sig = signature(d);
        if self.datagrams > 0 && sig == self.last_signature {
            self.repeats += 1;
        }
        self.datagrams += 1;
        self.last_signature = sig;
    }

    /// Datagrams counted (up to 255).
    pub fn datagrams(&self) -> u8 {
        self.datagrams
    }

    /// At least a quarter of several datagrams repeated the one before.
    pub fn repeating(&self) -> bool {
        self.datagrams >= 4 && self.repeats as u32 * 4 >= self.datagrams as u32
    }
}

/// A byte that tells datagrams apart: their length and the first and last
/// 8 bytes (nonces and MACs of ciphertext sit there), folded. One datagram
/// in 256 collides by chance, which the share in `repeating` absorbs.
fn signature(d: &[u8]) -> u8 {
    let word = |b: &[u8]| {
        let mut w = [0u8; 8];
        w[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(w)
    };
    let head = word(&d[..d.len().min(8)]);
    let tail = word(&d[d.len().saturating_sub(8)..]);
    let x = (head ^ tail.rotate_left(29) ^ d.len() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (x >> 56) as u8
}

/// One protocol: its code and name (the ABI's), and what the engine knows
/// about it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Row {
    pub protocol: Protocol,
    /// An application's own protocol (see the module docs): its name goes
    /// into `symmetric_only`'s evidence; without a key exchange, naming it
    /// explains nothing.
    pub application: bool,
    /// The protocol performs a key exchange the engine can observe: its
    /// framing explains ciphertext only once this side said hello.
    pub key_exchange: bool,
    /// The port profile where it is expected; elsewhere it raises the
    /// profile's unexpected-port alert.
    pub expected_on: Option<PortClass>,
    pub stream: Option<StreamProbe>,
    pub datagram: Option<DatagramProbe>,
}

/// Declares [`Protocol`] and [`TABLE`] from one list: adding a protocol is
/// its module and one row here.
macro_rules! protocol_table {
    ($(
        $(#[$m:meta])*
        $variant:ident = $code:literal => $name:literal {
            $(application: $app:literal,)?
            key_exchange: $kex:expr,
            expected_on: $ports:expr,
            stream: $stream:expr,
            datagram: $datagram:expr $(,)?
        }
    )+) => {
        code_enum! {
            /// A protocol the engine recognized from the bytes (never from
            /// the port).
            pub enum Protocol {
                $( $(#[$m])* $variant = $code => $name, )+
            }
        }

        /// Every protocol, in the order the probes run: the strictest checks
        /// first, so that a loose one never claims bytes a strict one would
        /// have recognized.
        pub(crate) static TABLE: [Row; Protocol::ALL.len()] = [
            $( Row {
                protocol: Protocol::$variant,
                application: false $(|| $app)?,
                key_exchange: $kex,
                expected_on: $ports,
                stream: $stream,
                datagram: $datagram,
            }, )+
        ];
    };
}

protocol_table! {
    /// DNSCrypt v2 over UDP: a client's query remembered, confirmed by the
    /// resolver's answer that echoes its nonce. First: its recognizer only
    /// remembers the client's first datagram, which any row may claim.
    DnsCrypt = 32 => "dnscrypt" {
        application: true,
        key_exchange: true, expected_on: None,
        stream: None, datagram: Some(dnscrypt::recognize),
    }
    /// RTMP (plain, over TCP): a handshake of random bytes, then a chunk
    /// stream whose first message header confirms it. Before OpenVPN, whose
    /// TCP probe (a length and an opcode: 2⁻¹²) takes some S0+S1 openings
    /// (`03 63 50` …) for a reset.
    Rtmp = 43 => "rtmp" {
        key_exchange: false, expected_on: None,
        stream: Some(rtmp::probe), datagram: None,
    }
    /// OpenVPN in TLS mode (UDP, or TCP with its length prefix).
    OpenVpn = 7 => "openvpn" {
        key_exchange: true, expected_on: None,
        stream: Some(openvpn::probe), datagram: Some(openvpn::recognize),
    }
    /// IKEv1 / IKEv2 (ISAKMP), with or without the NAT-T marker.
    Ike = 6 => "ike" {
        key_exchange: true, expected_on: None,
        stream: None, datagram: Some(|d, _| Judgement::of(ike::classify(d))),
    }
    /// WireGuard.
    WireGuard = 5 => "wireguard" {
        key_exchange: true, expected_on: None,
        stream: None, datagram: Some(|d, _| Judgement::of(wireguard::classify(d))),
    }
    /// STUN/TURN.
    Stun = 15 => "stun" {
        key_exchange: false, expected_on: None,
        stream: None, datagram: Some(|d, _| Judgement::of(stun::classify(d))),
    }
    /// DTLS 1.0–1.3. Not held to the TLS port profile: WebRTC runs it on
    /// ephemeral ports.
    Dtls = 4 => "dtls" {
        key_exchange: true, expected_on: None,
        stream: None, datagram: Some(dtls::recognize),
    }
    /// QUIC and Google QUIC (long headers: a client Initial opens, the
    /// other side's answer may negotiate the version).
    Quic = 3 => "quic" {
        key_exchange: true, expected_on: Some(PortClass::Tls),
        stream: None, datagram: Some(quic::recognize),
    }
    /// TLS, SSLv3 to 1.3 (also a mid-stream pickup of TLS records).
    Tls = 1 => "tls" {
        key_exchange: true, expected_on: Some(PortClass::Tls),
        stream: Some(tls::probe), datagram: None,
    }
    /// SSH-2 (banner, then binary packets).
    Ssh = 2 => "ssh" {
        key_exchange: true, expected_on: Some(PortClass::Ssh),
        stream: Some(ssh::probe), datagram: None,
    }
    /// DNS.
    Dns = 13 => "dns" {
        key_exchange: false, expected_on: None,
        stream: Some(|w, c| framed::probe(w, c, Protocol::Dns)),
        datagram: Some(|d, _| Judgement::of(dns::classify(d))),
    }
    /// GTP-U user-plane tunnel (what it carries is judged by hosts that
    /// decapsulate it).
    Gtp = 26 => "gtp" {
        key_exchange: false, expected_on: None,
        stream: None, datagram: Some(|d, _| Judgement::of(framed::gtp_u(d))),
    }
    /// Kerberos (its tickets are symmetric ciphertext, keyed by the KDC).
    Kerberos = 19 => "kerberos" {
        key_exchange: false, expected_on: None,
        stream: Some(|w, c| framed::probe(w, c, Protocol::Kerberos)),
        datagram: Some(|d, _| Judgement::of(framed::kerberos_datagram(d))),
    }
    /// LDAP / CLDAP (BER messages).
    Ldap = 20 => "ldap" {
        key_exchange: false, expected_on: None,
        stream: Some(|w, c| framed::probe(w, c, Protocol::Ldap)),
        datagram: Some(|d, _| Judgement::of(framed::ldap_datagram(d))),
    }
    /// HTTP/1.x (and HTTP/2 in cleartext).
    Http = 8 => "http" {
        key_exchange: false, expected_on: None,
        stream: Some(|w, c| http::probe(w, c, Protocol::Http)),
        datagram: Some(|d, _| Judgement::of(http::datagram(d, Protocol::Http))),
    }
    /// RTSP.
    Rtsp = 17 => "rtsp" {
        key_exchange: false, expected_on: None,
        stream: Some(|w, c| http::probe(w, c, Protocol::Rtsp)),
        datagram: Some(|d, _| Judgement::of(http::datagram(d, Protocol::Rtsp))),
    }
    /// SIP.
    Sip = 16 => "sip" {
        key_exchange: false, expected_on: None,
        stream: Some(|w, c| http::probe(w, c, Protocol::Sip)),
        datagram: Some(|d, _| Judgement::of(http::datagram(d, Protocol::Sip))),
    }
    /// SMTP.
    Smtp = 9 => "smtp" {
        key_exchange: false, expected_on: None,
        stream: Some(|w, c| lines::probe(w, c, Protocol::Smtp)), datagram: None,
    }
    /// FTP control.
    Ftp = 10 => "ftp" {
        key_exchange: false, expected_on: None,
        stream: Some(|w, c| lines::probe(w, c, Protocol::Ftp)), datagram: None,
    }
    /// POP3.
    Pop3 = 11 => "pop3" {
        key_exchange: false, expected_on: None,
        stream: Some(|w, c| lines::probe(w, c, Protocol::Pop3)), datagram: None,
    }
    /// IMAP.
    Imap = 12 => "imap" {
        key_exchange: false, expected_on: None,
        stream: Some(|w, c| lines::probe(w, c, Protocol::Imap)), datagram: None,
    }
    /// BitTorrent peer wire, and its DHT's KRPC datagrams.
    BitTorrent = 18 => "bittorrent" {
        key_exchange: false, expected_on: None,
        stream: Some(|w, c| framed::probe(w, c, Protocol::BitTorrent)),
        datagram: Some(|d, _| Judgement::of(dht::classify(d))),
    }
    /// Nano's node protocol: cleartext messages of hashes, keys and
    /// signatures, framed by their 8-byte headers.
    Nano = 40 => "nano" {
        key_exchange: false, expected_on: None,
        stream: Some(|w, c| framed::probe(w, c, Protocol::Nano)), datagram: None,
    }
    /// SMB over NetBIOS session service or direct TCP.
    Smb = 21 => "smb" {
        key_exchange: false, expected_on: None,
        stream: Some(|w, c| framed::probe(w, c, Protocol::Smb)), datagram: None,
    }
    /// PostgreSQL wire protocol.
    Postgres = 22 => "postgres" {
        key_exchange: false, expected_on: None,
        stream: Some(|w, c| framed::probe(w, c, Protocol::Postgres)), datagram: None,
    }
    /// MySQL wire protocol.
    Mysql = 23 => "mysql" {
        key_exchange: false, expected_on: None,
        stream: Some(|w, c| framed::probe(w, c, Protocol::Mysql)), datagram: None,
    }
    /// RDP (TPKT/X.224), which upgrades to TLS.
    Rdp = 24 => "rdp" {
        key_exchange: false, expected_on: None,
        stream: Some(|w, c| framed::probe(w, c, Protocol::Rdp)), datagram: None,
    }
    /// Zabbix agent/server protocol (`ZBXD` header).
    Zabbix = 25 => "zabbix" {
        key_exchange: false, expected_on: None,
        stream: Some(|w, c| framed::probe(w, c, Protocol::Zabbix)), datagram: None,
    }
    /// SOCKS4 and 4a proxy handshakes; the tunnel after them is an inner
    /// stream. After DNS over TCP, whose length prefix a SOCKS4 reply
    /// resembles.
    Socks4 = 28 => "socks4" {
        key_exchange: false, expected_on: None,
        stream: Some(|w, c| socks::probe(w, c, 4)), datagram: None,
    }
    /// SOCKS5 proxy handshakes (with username/password authentication).
    Socks5 = 29 => "socks5" {
        key_exchange: false, expected_on: None,
        stream: Some(|w, c| socks::probe(w, c, 5)), datagram: None,
    }
    /// WebSocket (RFC 6455), reached only through an HTTP upgrade to it.
    WebSocket = 27 => "websocket" {
        key_exchange: false, expected_on: None,
        stream: None, datagram: None,
    }
    /// AliCloud's agent protocol (`ce fa be ba` frames), whose first frames
    /// wrap a session key for the server and answer it.
    AliCloud = 30 => "alicloud" {
        application: true,
        key_exchange: true, expected_on: None,
        stream: Some(alicloud::probe), datagram: None,
    }
    /// What nDPI calls HP Virtual Machine Group Management: fixed-size
    /// first messages, a 128-byte key block answered by the server.
    HpVirtGrp = 31 => "hp_virtgrp" {
        application: true,
        key_exchange: true, expected_on: None,
        stream: Some(hpvirtgrp::probe), datagram: None,
    }
    /// Spotify's access-point protocol: a Diffie-Hellman hello each way,
    /// then Shannon-encrypted packets.
    Spotify = 33 => "spotify" {
        application: true,
        key_exchange: true, expected_on: None,
        stream: Some(spotify::probe), datagram: None,
    }
    /// WhatsApp's Noise handshake (after its `ED`/`WA` prologue).
    WhatsApp = 34 => "whatsapp" {
        application: true,
        key_exchange: true, expected_on: None,
        stream: Some(whatsapp::probe), datagram: None,
    }
    /// Tencent games: a header magic (named only), or length-framed zlib
    /// messages (compressed content).
    TencentGames = 38 => "tencent_games" {
        application: true,
        key_exchange: false, expected_on: None,
        stream: Some(tencent::probe), datagram: None,
    }
    /// RakNet offline messages (its 16-byte magic): named only.
    RakNet = 36 => "raknet" {
        application: true,
        key_exchange: false, expected_on: None,
        stream: None, datagram: Some(|d, _| Judgement::of(raknet::classify(d))),
    }
    /// League of Legends: Wild Rift's fixed-size first datagrams: named only.
    LolWildRift = 37 => "lol_wild_rift" {
        application: true,
        key_exchange: false, expected_on: None,
        stream: None, datagram: Some(|d, _| Judgement::of(wildrift::classify(d))),
    }
    /// Call of Duty: Mobile's game state (its loadout names in the clear):
    /// named only.
    CodMobile = 39 => "cod_mobile" {
        application: true,
        key_exchange: false, expected_on: None,
        stream: None, datagram: Some(|d, _| Judgement::of(codm::classify(d))),
    }
    /// imo.im's calls: its server's keepalive, its client's media header:
    /// named only.
    Imo = 41 => "imo" {
        application: true,
        key_exchange: false, expected_on: None,
        stream: None, datagram: Some(|d, _| Judgement::of(imo::classify(d))),
    }
    /// Telegram's MTProto obfuscated transport: a 64-byte init carrying its
    /// own AES-256-CTR key. Last among the stream probes: it decrypts a
    /// block of any window nothing else claimed.
    MtProto = 35 => "mtproto" {
        application: true,
        key_exchange: true, expected_on: None,
        stream: Some(mtproto::probe), datagram: None,
    }
    /// RTP/RTCP media (SRTP keys come from elsewhere: DTLS-SRTP or
    /// signaling). RTP itself needs two datagrams ([`rtp::observe`]); RTCP
    /// compound packets are recognized alone.
    Rtp = 14 => "rtp" {
        key_exchange: false, expected_on: None,
        stream: None, datagram: Some(|d, _| Judgement::of(rtp::rtcp(d))),
    }
    /// Unreal Engine's handshake (Epic Games' servers): a request
    /// remembered, its word echoed by the answer: named only.
    /// Last: any protocol whose first datagram has a run of zeros comes
    /// before it.
    EpicGames = 42 => "epicgames" {
        application: true,
        key_exchange: false, expected_on: None,
        stream: None, datagram: Some(epicgames::recognize),
    }
}

/// Rows by protocol code.
static BY_CODE: [u8; 256] = {
    let mut t = [u8::MAX; 256];
    let mut i = 0;
    while i < TABLE.len() {
        let code = TABLE[i].protocol as usize;
        assert!(t[code] == u8::MAX, "two rows with one code");
        t[code] = i as u8;
        i += 1;
    }
    t
};

impl Protocol {
    /// This protocol's row of [`TABLE`].
    pub(crate) fn row(self) -> &'static Row {
        &TABLE[BY_CODE[self as usize] as usize]
    }

    /// Whether this protocol performs a key exchange the engine can observe.
    pub fn has_key_exchange(self) -> bool {
        self.row().key_exchange
    }

    /// Whether this is an application's own protocol (see the module docs),
    /// which `symmetric_only`'s evidence names.
    pub fn is_application(self) -> bool {
        self.row().application
    }

    /// An application recognized by its magic alone: naming it explains
    /// nothing (what it carries is measured, no exemption follows).
    pub(crate) fn names_only(self) -> bool {
        self.row().application && !self.row().key_exchange
    }

    /// The port profile where this protocol is expected, if it has one.
    pub fn expected_on(self) -> Option<PortClass> {
        self.row().expected_on
    }
}

/// Runs the stream probes over a sniff window: the first that recognizes it
/// names the layer's protocol and gives its walker.
pub(crate) fn sniff(window: &[u8], complete: bool) -> Option<(Protocol, Walker)> {
    TABLE.iter().find_map(|row| {
        let probe = row.stream?;
        probe(window, complete).map(|w| (row.protocol, w))
    })
}

/// Runs the datagram recognizers over `d`: the first answer other than
/// [`Judgement::No`].
pub(crate) fn recognize(d: &[u8], ctx: &mut Ctx<'_>) -> Judgement {
    for row in &TABLE {
        if let Some(probe) = row.datagram {
            let j = probe(d, ctx);
            if j != Judgement::No {
                return j;
            }
        }
    }
    Judgement::No
}

/// Reads a big-endian u16 at `at`, if present.
#[inline]
pub(crate) fn be16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*d.get(at)?, *d.get(at + 1)?]))
}

/// Reads a big-endian u32 at `at`, if present.
#[inline]
pub(crate) fn be32(d: &[u8], at: usize) -> Option<u32> {
    let b = d.get(at..at + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every recognizer's docs give the probability that random bytes
    /// pass it, 2⁻²¹ at most: many random datagrams of ordinary sizes, each
    /// the first of a fresh flow, are named by no row (OpenVPN may hold a
    /// `tls-crypt-v2`-like one, with 2⁻¹⁷: held is no name).
    #[test]
    fn random_datagrams_are_named_by_no_row() {
        let mut x = 0x0123_4567_89ab_cdefu64;
        let mut d = [0u8; 1400];
        for k in 0..100_000usize {
            let len = [20, 32, 48, 64, 92, 128, 148, 200, 576, 1200, 1350][k % 11];
            for b in d[..len].iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = (x >> 32) as u8;
            }
            let mut sides = testing::Sides::default();
            let j = sides.judge(recognize, 0, &d[..len]);
            assert!(
                matches!(j, Judgement::No | Judgement::Held),
                "{j:?} {:x?}",
                &d[..len.min(32)]
            );
        }
    }

    #[test]
    fn every_protocol_has_exactly_one_row() {
        for p in Protocol::ALL {
            assert_eq!(p.row().protocol, p);
            assert_eq!(Protocol::from_code(p.code()), Some(p));
            assert_eq!(Protocol::from_name(p.name()), Some(p));
        }
        // Every row is reached by a probe, except what a carrier switches
        // to by name.
        for r in &TABLE {
            let switched_to = r.protocol == Protocol::WebSocket;
            assert!(
                r.stream.is_some() || r.datagram.is_some() || switched_to,
                "{:?}: a row nothing can reach",
                r.protocol
            );
        }
    }
}
