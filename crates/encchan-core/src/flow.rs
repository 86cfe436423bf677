//! Per-flow state and the verdict.
//!
//! A [`Flow`] is a fixed-size, `Copy` value (256 bytes) that lives wherever
//! the host keeps its connections: nothing is allocated, nothing points
//! elsewhere, and no call grows it. Hosts feed each direction's payload in
//! stream order (a reassembled TCP stream, or UDP datagrams) and read a
//! [`Verdict`] when they like; the verdict is computed from the state, never
//! stored beside it.

use crate::config::Config;
use crate::format;
use crate::proto::openvpn::{self, OpenVpnTcpWalker};
use crate::proto::rtp::{self, RtpHeader};
use crate::proto::ssh::{self, SshWalker};
use crate::proto::tls::{self, Negotiated, TlsWalker};
use crate::proto::{self as protocols, framed, plaintext, Facts};
use crate::stats::{ByteStats, Encoding};
use crate::verdict::{
    Alert, AlertSet, Content, DirReport, Direction, Evidence, Format, HandshakeEvidence,
    MalformReason, Protocol, Verdict,
};

/// The transport a flow runs over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Transport {
    /// A byte stream: feed it reassembled, in order.
    Tcp = 0,
    /// Datagrams: feed each one whole.
    Udp = 1,
}

/// Whether the host saw the flow begin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum FlowStart {
    /// The start was seen (TCP SYN; for UDP, the first datagram).
    Observed = 0,
    /// The flow was picked up in the middle: a key exchange may have happened
    /// before, so missing one proves nothing and `symmetric_only` is not
    /// raised on TCP.
    Midstream = 1,
}

/// What a direction's protocol walker is doing.
#[derive(Clone, Copy, Debug)]
enum Parser {
    /// Waiting for the first bytes (they wait in the statistics' block
    /// buffer) to decide what the stream is.
    Sniff,
    Tls(TlsWalker),
    Ssh(SshWalker),
    OpenVpnTcp(OpenVpnTcpWalker),
    /// Datagrams, judged one by one with a little memory.
    Datagrams(DatagramState),
    /// Nothing (more) to walk: a cleartext protocol, nothing recognized, a
    /// walker that finished or failed, or a gap.
    Idle,
}

/// What a direction remembers between datagrams. 16 bytes.
#[derive(Clone, Copy, Debug, Default)]
struct DatagramState {
    /// The last RTP header seen (for confirmation by the next one).
    rtp_ssrc: u32,
    rtp_seq: u16,
    has_rtp: bool,
    /// Datagrams in a row with QUIC's short-header shape (`u8::MAX`: broken).
    short_run: u8,
    /// First 4 bytes of the OpenVPN session id of a first-datagram reset
    /// (0: none), and that reset's opcode.
    openvpn_sid: u32,
    openvpn_opcode: u8,
    /// Datagrams judged (up to 255), and how many of them were the same
    /// datagram as the one before (by `signature`): fresh ciphertext never
    /// repeats, announcements do.
    datagrams: u8,
    repeats: u8,
    last_signature: u8,
}

impl DatagramState {
    fn rtp(&self) -> Option<RtpHeader> {
        self.has_rtp.then_some(RtpHeader {
            ssrc: self.rtp_ssrc,
            seq: self.rtp_seq,
        })
    }

    /// Counts datagram `d`, and whether it repeats the one before.
    fn count(&mut self, d: &[u8]) {
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

    /// At least a quarter of several datagrams repeated the one before.
    fn repeating(&self) -> bool {
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

/// One direction. 112 bytes.
#[derive(Clone, Copy, Debug)]
struct DirState {
    /// Payload bytes seen, after the verdict too.
    bytes: u64,
    stats: ByteStats,
    parser: Parser,
    facts: Facts,
    /// `Format` code recognized at the stream start, 0 if none.
    format: u8,
    flags: u8,
    /// How far past the reported fault the walker saw the framing break
    /// (see [`DirState::resume_at`]).
    resume_lag: u8,
}

/// The stream has lost bytes: offsets after this are not stream offsets.
const DIR_GAP: u8 = 1;
/// Format detection ran (or cannot run any more).
const DIR_FORMAT_DONE: u8 = 2;
/// Inspection ended (the stream reached the inspection budget).
const DIR_DECIDED: u8 = 4;
/// A recognized protocol explained bytes of this direction, which the
/// statistics skipped (see `Config::measure_known_protocols`).
const DIR_EXPLAINED: u8 = 8;

impl DirState {
    const fn new(transport: Transport) -> Self {
        DirState {
            bytes: 0,
            stats: ByteStats::new(),
            parser: match transport {
                Transport::Tcp => Parser::Sniff,
                Transport::Udp => Parser::Datagrams(DatagramState {
                    rtp_ssrc: 0,
                    rtp_seq: 0,
                    has_rtp: false,
                    short_run: 0,
                    openvpn_sid: 0,
                    openvpn_opcode: 0,
                    datagrams: 0,
                    repeats: 0,
                    last_signature: 0,
                }),
            },
            facts: Facts::EMPTY,
            format: 0,
            flags: 0,
            resume_lag: 0,
        }
    }

    /// Where an explained stream whose framing broke is measured again:
    /// just past the byte that revealed the break.
    fn resume_at(&self) -> Option<u64> {
        let (_, at) = self.facts.malformed()?;
        Some(at + self.resume_lag as u64)
    }

    fn decided(&self) -> bool {
        self.flags & DIR_DECIDED != 0
    }

    fn decide(&mut self) {
        self.flags |= DIR_DECIDED;
    }
}

/// Flow flags.
const FLOW_FINISHED: u8 = 1;
const FLOW_DECIDED: u8 = 2;
const FLOW_HANDSHAKE_STARTED: u8 = 4;

/// The engine's state for one flow (both directions). 256 bytes, `Copy`,
/// no pointers: keep it in any memory you own.
#[derive(Clone, Copy, Debug)]
pub struct Flow {
    dirs: [DirState; 2],
    first_ts_us: u64,
    last_ts_us: u64,
    /// Microseconds from `first_ts_us` to the first hello (saturating).
    handshake_start_us: u32,
    client_port: u16,
    server_port: u16,
    tls_version: u16,
    tls_cipher_suite: u16,
    transport: Transport,
    start: FlowStart,
    /// `Protocol` code, 0 if none.
    protocol: u8,
    flags: u8,
}

// The per-flow budget is part of the design: the build fails if it grows.
const _: () = assert!(core::mem::size_of::<Flow>() <= 256);

impl Flow {
    /// Size of the per-flow state in bytes.
    pub const SIZE: usize = core::mem::size_of::<Flow>();

    /// A flow from `client_port` to `server_port` that started at `ts_us`
    /// (microseconds; any epoch, as long as the host keeps to it).
    pub const fn new(
        transport: Transport,
        client_port: u16,
        server_port: u16,
        start: FlowStart,
        ts_us: u64,
    ) -> Flow {
        Flow {
            dirs: [DirState::new(transport), DirState::new(transport)],
            first_ts_us: ts_us,
            last_ts_us: ts_us,
            handshake_start_us: 0,
            client_port,
            server_port,
            tls_version: 0,
            tls_cipher_suite: 0,
            transport,
            start,
            protocol: 0,
            flags: 0,
        }
    }

    /// The transport.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The client and server ports given at creation.
    pub fn ports(&self) -> (u16, u16) {
        (self.client_port, self.server_port)
    }

    /// Whether the engine has stopped inspecting payload. Hosts may then stop
    /// delivering bytes and call [`Flow::account`] instead; feeding more
    /// changes nothing but the counters.
    #[inline]
    pub fn is_decided(&self) -> bool {
        self.flags & FLOW_DECIDED != 0
    }

    /// Whether inspection of `dir` has ended: its further payload only
    /// counts, so a host may stop reassembling it (the flow as a whole may
    /// still wait for the other direction).
    #[inline]
    pub fn is_dir_decided(&self, dir: Direction) -> bool {
        self.dirs[dir.index()].decided()
    }

    /// Counts `len` payload bytes of `dir` without inspecting them.
    #[inline]
    pub fn account(&mut self, dir: Direction, len: u64, ts_us: u64) {
        self.touch(ts_us);
        let d = &mut self.dirs[dir.index()];
        d.bytes = d.bytes.saturating_add(len);
    }

    fn touch(&mut self, ts_us: u64) {
        // Captures are not always in time order; keep the range.
        if ts_us < self.first_ts_us {
            self.first_ts_us = ts_us;
        }
        if ts_us > self.last_ts_us {
            self.last_ts_us = ts_us;
        }
    }

    /// Feeds the next payload of `dir`: the next in-order bytes of a TCP
    /// stream, or one whole UDP datagram.
    pub fn feed(&mut self, cfg: &Config, dir: Direction, payload: &[u8], ts_us: u64) {
        let i = dir.index();
        let offset = self.dirs[i].bytes;
        self.account(dir, payload.len() as u64, ts_us);
        if payload.is_empty() || self.is_decided() || self.dirs[i].decided() {
            return;
        }
        // The inspection window is the stream's first `inspect_budget`
        // bytes, whether or not the statistics measure them.
        let window_left = (cfg.inspect_budget as u64).saturating_sub(offset) as usize;
        let inspected = &payload[..payload.len().min(window_left)];
        let had_hello = self.any_fact(Facts::HELLO);
        self.detect_format(dir, inspected);
        let measure_from = match self.transport {
            Transport::Tcp => self.walk_stream(cfg, dir, inspected, offset),
            // A datagram's header is at its start: judge the whole datagram
            // even when only part of it fits the budget.
            Transport::Udp => self.walk_datagram(cfg, dir, payload).then_some(0),
        };
        let d = &mut self.dirs[i];
        if let Some(from) = measure_from {
            d.stats.update(&inspected[from.min(inspected.len())..]);
        }
        if offset + payload.len() as u64 >= cfg.inspect_budget as u64 {
            d.decide();
        }
        if !had_hello && self.any_fact(Facts::HELLO) {
            self.flags |= FLOW_HANDSHAKE_STARTED;
            self.handshake_start_us =
                ts_us.saturating_sub(self.first_ts_us).min(u32::MAX as u64) as u32;
        }
        self.update_decided();
    }

    /// Reports that `len` bytes of `dir`'s stream are missing (a TCP gap).
    /// Walkers cannot resynchronize and stop; statistics go on.
    pub fn gap(&mut self, _cfg: &Config, dir: Direction, len: u64, ts_us: u64) {
        self.touch(ts_us);
        if len == 0 {
            return;
        }
        let d = &mut self.dirs[dir.index()];
        d.flags |= DIR_GAP | DIR_FORMAT_DONE;
        d.parser = Parser::Idle;
    }

    /// The flow has ended: settle what was waiting for more bytes.
    pub fn finish(&mut self, _cfg: &Config, ts_us: u64) {
        self.touch(ts_us);
        self.settle();
        self.flags |= FLOW_FINISHED;
    }

    fn any_fact(&self, bit: u8) -> bool {
        self.dirs[0].facts.has(bit) || self.dirs[1].facts.has(bit)
    }

    fn set_protocol(&mut self, p: Protocol) {
        // The first recognition names the flow; an FTP client's commands
        // correct a "220" greeting taken for SMTP.
        if self.protocol == 0 || (p == Protocol::Ftp && self.protocol == Protocol::Smtp as u8) {
            self.protocol = p as u8;
        }
    }

    fn protocol(&self) -> Option<Protocol> {
        Protocol::from_code(self.protocol)
    }

    /// The first bytes of `dir`'s stream, when they are all still in the
    /// statistics' block buffer, followed by `data`.
    fn prefix<'a>(
        &self,
        dir: Direction,
        data: &[u8],
        out: &'a mut [u8; format::PREFIX],
    ) -> Option<&'a [u8]> {
        let d = &self.dirs[dir.index()];
        if d.flags & (DIR_GAP | DIR_EXPLAINED) != 0 || d.stats.len() as usize >= format::PREFIX {
            return None;
        }
        let held = d.stats.pending();
        let n = held.len();
        out[..n].copy_from_slice(held);
        let take = data.len().min(format::PREFIX - n);
        out[n..n + take].copy_from_slice(&data[..take]);
        Some(&out[..n + take])
    }

    fn detect_format(&mut self, dir: Direction, data: &[u8]) {
        if self.dirs[dir.index()].flags & DIR_FORMAT_DONE != 0 {
            return;
        }
        let mut buf = [0u8; format::PREFIX];
        let Some(prefix) = self.prefix(dir, data, &mut buf) else {
            self.dirs[dir.index()].flags |= DIR_FORMAT_DONE;
            return;
        };
        if prefix.len() == format::PREFIX {
            let f = format::detect(prefix).map_or(0, |f| f as u8);
            let d = &mut self.dirs[dir.index()];
            d.format = f;
            d.flags |= DIR_FORMAT_DONE;
        }
    }

    /// TCP: sniff the stream's first bytes, then walk the protocol found.
    /// Returns where in `data` the statistics measure from, or `None` when
    /// a recognized protocol explains all of it.
    fn walk_stream(
        &mut self,
        cfg: &Config,
        dir: Direction,
        data: &[u8],
        offset: u64,
    ) -> Option<usize> {
        let i = dir.index();
        if let Parser::Sniff = self.dirs[i].parser {
            let mut buf = [0u8; format::PREFIX];
            let Some(prefix) = self.prefix(dir, data, &mut buf) else {
                self.dirs[i].parser = Parser::Idle;
                return Some(0);
            };
            if prefix.len() < format::PREFIX {
                return Some(0); // wait for more (held in the statistics)
            }
            let explained = self.start_walker(dir, data);
            // Explanations start at the prefix's end, a fixed stream offset,
            // so the measured bytes do not depend on the chunking; a
            // framing seen broken inside the prefix explains nothing.
            let resume = self.dirs[i].resume_at();
            let broken_early = resume.is_some_and(|at| at <= format::PREFIX as u64);
            if !explained || broken_early || cfg.measure_known_protocols {
                return Some(0);
            }
            let d = &mut self.dirs[i];
            d.flags |= DIR_EXPLAINED;
            // The prefix held in the statistics is the protocol's opening.
            d.stats = ByteStats::new();
            return resume.map(|at| at.saturating_sub(offset) as usize);
        }
        let broke = self.walk(dir, data, offset);
        let d = &self.dirs[i];
        if d.flags & DIR_EXPLAINED == 0 {
            return Some(0);
        }
        // An explained stream whose framing broke is measured again from
        // the break: in this chunk, or all of it when it broke before.
        match (broke, d.resume_at()) {
            (Some(at), _) => Some(at.saturating_sub(offset) as usize),
            (None, Some(_)) => Some(0),
            (None, None) => None,
        }
    }

    /// Decides the walker from the stream prefix, then walks everything
    /// held so far plus `data` from offset 0. Returns whether the prefix
    /// opens a recognized protocol the way it explains its bytes: a TLS
    /// hello, an SSH banner, OpenVPN's framing or a cleartext protocol.
    /// (TLS records that open with anything but a hello stay measured:
    /// records with no handshake are a costume.)
    fn start_walker(&mut self, dir: Direction, data: &[u8]) -> bool {
        let i = dir.index();
        let mut buf = [0u8; format::PREFIX];
        let Some(prefix) = self.prefix(dir, data, &mut buf) else {
            return false;
        };
        let prefix: &[u8] = prefix;
        let mut facts = self.dirs[i].facts;
        let sslv2_hello =
            tls::sslv2_client_hello(prefix).or_else(|| tls::sslv2_server_hello(prefix));
        let (parser, protocol, explains) = if let Some(total) = sslv2_hello {
            (
                Parser::Tls(TlsWalker::after_sslv2_hello(total, &mut facts)),
                Some(Protocol::Tls),
                true,
            )
        } else if tls::starts_record(prefix) {
            (
                Parser::Tls(TlsWalker::new()),
                Some(Protocol::Tls),
                tls::starts_hello(prefix),
            )
        } else if ssh::starts_banner(prefix) {
            (Parser::Ssh(SshWalker::new()), Some(Protocol::Ssh), true)
        } else if openvpn::starts_tcp(prefix) {
            (
                Parser::OpenVpnTcp(OpenVpnTcpWalker::new()),
                Some(Protocol::OpenVpn),
                true,
            )
        } else {
            let p = plaintext::classify_prefix(prefix).or_else(|| framed::classify_stream(prefix));
            (Parser::Idle, p, p.is_some())
        };
        self.dirs[i].facts = facts;
        self.dirs[i].parser = parser;
        if let Some(p) = protocol {
            self.set_protocol(p);
        }
        // Replay the held bytes, then the new ones, from stream offset 0.
        let held_len = self.dirs[i].stats.pending().len();
        let mut held = [0u8; format::PREFIX];
        held[..held_len].copy_from_slice(self.dirs[i].stats.pending());
        self.walk(dir, &held[..held_len], 0);
        self.walk(dir, data, held_len as u64);
        explains
    }

    /// Walks `data` (at stream offset `offset`) with the direction's walker.
    /// When the framing breaks, returns the offset measuring resumes at.
    fn walk(&mut self, dir: Direction, data: &[u8], offset: u64) -> Option<u64> {
        let i = dir.index();
        let d = &mut self.dirs[i];
        let result = match &mut d.parser {
            Parser::Tls(w) => {
                let mut neg = Negotiated {
                    version: self.tls_version,
                    cipher_suite: self.tls_cipher_suite,
                };
                let r = w.feed(data, offset, &mut d.facts, &mut neg);
                self.tls_version = neg.version;
                self.tls_cipher_suite = neg.cipher_suite;
                r
            }
            Parser::Ssh(w) => w.feed(data, offset, &mut d.facts),
            Parser::OpenVpnTcp(w) => w.feed(data, &mut d.facts).map_err(|i| {
                let at = offset + i as u64;
                (MalformReason::BadHandshake, at, at + 1)
            }),
            Parser::Sniff | Parser::Datagrams(..) | Parser::Idle => Ok(()),
        };
        let (reason, at, next) = result.err()?;
        d.facts.set_malformed(reason, at);
        d.resume_lag = next.saturating_sub(at).min(u8::MAX as u64) as u8;
        d.parser = Parser::Idle;
        Some(next)
    }

    /// UDP: judge one datagram. Returns whether the statistics measure it:
    /// not when it matched the flow's protocol, of which this side has said
    /// hello when the protocol has a key exchange (framing without a hello
    /// stays measured, as a costume would).
    fn walk_datagram(&mut self, cfg: &Config, dir: Direction, d: &[u8]) -> bool {
        let i = dir.index();
        let known = self.protocol();
        // OpenVPN's hard resets are only an opcode byte and a length: 3 in
        // 256 random datagrams (and many QUIC short headers) would pass. So
        // a side's *first* datagram must be a reset, which makes it a
        // candidate; the protocol is named once both sides are candidates,
        // or once the same side's next control packet repeats its session
        // id. Candidates carry no facts until then.
        let first_datagram = self.dirs[i].bytes == d.len() as u64;
        if known.is_none() {
            if let Parser::Datagrams(mut state) = self.dirs[i].parser {
                let this_sid = openvpn::session_id_prefix(d);
                let confirmed = if first_datagram && openvpn::classify(d).is_some() {
                    state.openvpn_sid = this_sid.unwrap_or(0);
                    state.openvpn_opcode = d[0] >> 3;
                    self.dirs[i].parser = Parser::Datagrams(state);
                    // A client reset answered by a server reset, each side
                    // with its own random session id. (An RPC reply echoes
                    // the request's XID, so NFS would pass a weaker test.)
                    matches!(self.dirs[1 - i].parser, Parser::Datagrams(s)
                        if s.openvpn_sid != 0
                            && s.openvpn_sid != state.openvpn_sid
                            && openvpn::resets_pair(s.openvpn_opcode, state.openvpn_opcode))
                } else {
                    state.openvpn_sid != 0 && this_sid == Some(state.openvpn_sid)
                };
                if confirmed && state.openvpn_sid != 0 {
                    self.set_protocol(Protocol::OpenVpn);
                    for dir in &mut self.dirs {
                        if matches!(dir.parser, Parser::Datagrams(s) if s.openvpn_sid != 0) {
                            dir.facts.set(Facts::HELLO | Facts::FRAMING);
                        }
                    }
                    return true;
                }
                if first_datagram && state.openvpn_sid != 0 {
                    return true;
                }
            }
        }
        let facts = match (known, protocols::classify_datagram(d)) {
            (None, Some(g)) => {
                self.set_protocol(g.protocol);
                g.facts
            }
            (Some(p), Some(g)) if g.protocol == p => g.facts,
            (Some(Protocol::OpenVpn), _) => openvpn::packet_facts(d),
            _ => 0,
        };
        self.dirs[i].facts.set(facts);
        let mut framed = facts != 0;
        // RTP needs two datagrams of one stream to be believed.
        if let Parser::Datagrams(mut state) = self.dirs[i].parser {
            let last = state.rtp();
            let short_run = state.short_run;
            let header = rtp::header(d);
            if let (Some(prev), Some(next), None) = (last, header, self.protocol()) {
                if rtp::continues(prev, next) {
                    self.set_protocol(Protocol::Rtp);
                }
            }
            if self.protocol() == Some(Protocol::Rtp) {
                self.dirs[i].facts.set(Facts::FRAMING);
                framed |= header.is_some();
            }
            // QUIC 1-RTT packets: form bit clear, fixed bit set. A quarter of
            // random first bytes look like that, so only a run counts, and
            // only on a port profiled for QUIC (see `conclude`).
            let short_run = match d.first() {
                Some(b) if b & 0xc0 == 0x40 && short_run != u8::MAX => {
                    short_run.saturating_add(1).min(254)
                }
                Some(b) if b & 0x80 != 0 && short_run != u8::MAX => short_run,
                _ => u8::MAX,
            };
            if let Some(h) = header {
                (state.rtp_ssrc, state.rtp_seq, state.has_rtp) = (h.ssrc, h.seq, true);
            }
            state.short_run = short_run;
            state.count(d);
            self.dirs[i].parser = Parser::Datagrams(state);
        }
        let explains = framed
            && !cfg.measure_known_protocols
            && self
                .protocol()
                .is_some_and(|p| !p.has_key_exchange() || self.dirs[i].facts.has(Facts::HELLO));
        if explains {
            self.dirs[i].flags |= DIR_EXPLAINED;
        }
        !explains
    }

    /// Runs what was waiting for more bytes (short streams) as if the stream
    /// ended now.
    fn settle(&mut self) {
        for dir in [Direction::ToServer, Direction::ToClient] {
            let i = dir.index();
            if self.dirs[i].stats.is_empty() {
                continue;
            }
            if let Parser::Sniff = self.dirs[i].parser {
                self.start_walker(dir, &[]);
            }
            if self.dirs[i].flags & DIR_FORMAT_DONE == 0 {
                let mut buf = [0u8; format::PREFIX];
                if let Some(p) = self.prefix(dir, &[], &mut buf) {
                    let f = format::detect(p).map_or(0, |f| f as u8);
                    self.dirs[i].format = f;
                }
                self.dirs[i].flags |= DIR_FORMAT_DONE;
            }
        }
    }

    /// A UDP flow to a port profiled for QUIC whose datagrams, both ways,
    /// kept QUIC's short-header shape: a QUIC connection picked up after its
    /// handshake.
    fn quic_short_headers(&self, cfg: &Config) -> bool {
        let run = |d: &DirState| match d.parser {
            Parser::Datagrams(s) => (2..u8::MAX).contains(&s.short_run),
            _ => false,
        };
        // Either port: a flow picked up late may have its sides swapped.
        self.transport == Transport::Udp
            && (cfg.ports.tls.contains(self.server_port)
                || cfg.ports.tls.contains(self.client_port))
            && run(&self.dirs[0])
            && run(&self.dirs[1])
    }

    fn key_exchange_observed(&self) -> bool {
        let hello = |i: usize| self.dirs[i].facts.has(Facts::HELLO);
        match self.protocol() {
            // QUIC protects everything after the Initial: one side's long
            // header of a known version and an answer from the other side
            // (short headers, or Google QUIC without the version) are all
            // there is to see.
            Some(Protocol::Quic) => {
                (hello(0) || hello(1)) && self.dirs[0].bytes > 0 && self.dirs[1].bytes > 0
            }
            _ => hello(0) && hello(1),
        }
    }

    fn key_exchange_complete(&self) -> bool {
        if !self.key_exchange_observed() {
            return false;
        }
        match self.protocol() {
            // Stream protocols: both sides switched to protected records.
            Some(Protocol::Tls | Protocol::Ssh) => {
                self.dirs[0].facts.has(Facts::KEYED) && self.dirs[1].facts.has(Facts::KEYED)
            }
            _ => true,
        }
    }

    /// The flow is decided when both directions used their inspection
    /// budget. A completed key exchange does not end inspection early: the
    /// byte where it completes is known only per chunk, and stopping there
    /// would make the verdict depend on how the stream was cut.
    fn update_decided(&mut self) {
        if self.dirs[0].decided() && self.dirs[1].decided() {
            self.flags |= FLOW_DECIDED;
        }
    }

    /// The verdict as of now. Cheap enough to call per packet, but meant for
    /// when the flow is decided or ends.
    pub fn verdict(&self, cfg: &Config) -> Verdict {
        let mut f = *self;
        f.settle();
        f.conclude(cfg)
    }

    fn conclude(&self, cfg: &Config) -> Verdict {
        let summaries = [
            self.dirs[0].stats.summary(cfg.entropy_threshold),
            self.dirs[1].stats.summary(cfg.entropy_threshold),
        ];
        let malformed = [
            self.dirs[0].facts.malformed(),
            self.dirs[1].facts.malformed(),
        ];
        let kex_observed = self.key_exchange_observed();
        let kex_complete = self.key_exchange_complete();
        let raw_protocol = self
            .protocol()
            .or_else(|| self.quic_short_headers(cfg).then_some(Protocol::Quic));
        // Framing that broke before any key exchange was a costume, not the
        // protocol.
        let protocol = match raw_protocol {
            Some(p)
                if p.has_key_exchange()
                    && !kex_observed
                    && (malformed[0].is_some() || malformed[1].is_some()) =>
            {
                None
            }
            p => p,
        };

        let mut dirs = [DirReport::default(); 2];
        let mut unexplained = [false; 2];
        for i in 0..2 {
            let (d, s) = (&self.dirs[i], &summaries[i]);
            let fmt = Format::from_code(d.format);
            let enough = s.bytes >= cfg.min_payload;
            let innocent_format = fmt.is_some_and(|f| !f.is_ciphertext());
            let cipher_container = fmt.is_some_and(|f| f.is_ciphertext());
            // Ciphertext under printable cover counts too, unless the bytes
            // are an encoding, or datagrams that repeat (a discovery
            // protocol's random device id in a text announcement).
            let repeating = matches!(d.parser, Parser::Datagrams(g) if g.repeating());
            let covered = s.binary_high_entropy && s.encoding == Encoding::Raw && !repeating;
            unexplained[i] =
                enough && !innocent_format && (s.high_entropy || covered || cipher_container);
            dirs[i] = DirReport {
                bytes: d.bytes,
                inspected: s.bytes,
                entropy: enough.then_some(s.entropy),
                block_shannon: s.block_shannon,
                block_shannon_random: s.block_shannon_random,
                collisions: s.collisions,
                collisions_expected: s.collisions_expected,
                printable_fraction: s.printable_fraction,
                longest_printable_run: s.longest_printable_run,
                mean_popcount: s.mean_popcount,
                encoding: s.encoding,
                high_entropy: s.high_entropy && enough,
                full_blocks: s.full_blocks,
                uniform_blocks: s.uniform_blocks,
                binary_bytes: s.binary_bytes,
                binary_entropy: s.binary_entropy,
                binary_high_entropy: s.binary_high_entropy && enough,
                explained: d.flags & DIR_EXPLAINED != 0,
                measured_from: match (d.flags & DIR_EXPLAINED != 0, d.resume_at()) {
                    (true, Some(at)) if self.transport == Transport::Tcp => at,
                    _ => 0,
                },
                format: fmt,
                decided_after: d.decided().then_some(cfg.inspect_budget as u64),
            };
        }

        let mut alerts = AlertSet::EMPTY;
        let mut evidence = Evidence::default();
        let high_dir = match unexplained {
            [true, true] if summaries[1].bytes > summaries[0].bytes => Some(Direction::ToClient),
            [true, _] => Some(Direction::ToServer),
            [false, true] => Some(Direction::ToClient),
            [false, false] => None,
        };

        // symmetric_only: high entropy that no key exchange explains. A
        // key-exchange protocol explains it when the exchange was seen, when
        // it may have happened before the capture (a TCP pickup mid-stream;
        // UDP framing with no hello, as after WireGuard's or QUIC's
        // handshake), or when one side said hello and the other said
        // nothing at all (`handshake_incomplete` covers that). Records with
        // no hello on a flow whose start was seen, or a hello answered with
        // something else, are clothing on another channel.
        let started = self.flags & FLOW_HANDSHAKE_STARTED != 0;
        let one_sided = self.dirs[0].bytes == 0 || self.dirs[1].bytes == 0;
        let kex_explains = kex_observed
            || self.start == FlowStart::Midstream
            || (self.transport == Transport::Udp && !started)
            || (started && one_sided);
        let exempt = match protocol {
            Some(p) if p.has_key_exchange() => kex_explains,
            Some(_) => true, // a cleartext or media protocol frames it
            None => self.transport == Transport::Tcp && self.start == FlowStart::Midstream,
        };
        let framing_without_handshake =
            protocol.is_some_and(|p| p.has_key_exchange()) && !exempt && !started;
        if let (Some(d), false) = (high_dir, exempt) {
            alerts.insert(Alert::SymmetricOnly);
            evidence.high_entropy_direction = Some(d);
            evidence.framing_without_handshake = framing_without_handshake;
        }

        let kex_protocol = protocol.is_some_and(|p| p.has_key_exchange());
        let content = if kex_protocol || (high_dir.is_some() && protocol.is_none()) {
            Content::Encrypted
        } else if protocol.is_some() {
            Content::Plaintext
        } else if dirs
            .iter()
            .any(|d| d.format.is_some_and(|f| !f.is_ciphertext()))
        {
            Content::Compressed
        } else if summaries
            .iter()
            .all(|s| s.bytes == 0 || s.printable_fraction >= 0.9)
            && summaries.iter().any(|s| s.bytes > 0)
        {
            Content::Plaintext
        } else {
            Content::Unknown
        };

        if matches!(protocol, Some(Protocol::Tls | Protocol::Quic))
            && !cfg.ports.tls.contains(self.server_port)
        {
            alerts.insert(Alert::TlsUnexpectedPort);
            evidence.server_port = Some(self.server_port);
        }
        if content == Content::Encrypted && cfg.ports.plaintext.contains(self.server_port) {
            alerts.insert(Alert::EncryptedOnPlaintextPort);
            evidence.server_port = Some(self.server_port);
            if evidence.high_entropy_direction.is_none() {
                evidence.high_entropy_direction = high_dir;
            }
        }

        // Handshake anomalies.
        let malformed_dir = match malformed {
            [Some(m), _] => Some((Direction::ToServer, m)),
            [None, Some(m)] => Some((Direction::ToClient, m)),
            [None, None] => None,
        };
        if let (Some((dir, (reason, offset))), Some(p)) = (malformed_dir, raw_protocol) {
            alerts.insert(Alert::HandshakeMalformed);
            evidence.handshake = Some(HandshakeEvidence {
                protocol: p,
                direction: dir,
                offset,
                reason: Some(reason),
                elapsed_us: 0,
            });
        }
        let hs_start = self
            .first_ts_us
            .saturating_add(self.handshake_start_us as u64);
        let elapsed = self.last_ts_us.saturating_sub(hs_start);
        let timed_out = elapsed >= cfg.handshake_timeout_us;
        let finished = self.flags & FLOW_FINISHED != 0;
        // A side that used its whole inspection budget before switching to
        // protected records may have switched after it, and a side with a
        // gap (bytes the host never delivered) may have switched in it:
        // neither is evidence.
        let unseen_completion = |d: &DirState| {
            !d.facts.has(Facts::KEYED)
                && (d.bytes >= cfg.inspect_budget as u64 || d.flags & DIR_GAP != 0)
        };
        let could_see_completion = !self.dirs.iter().any(unseen_completion);
        if let (true, false, None, Some(p), true) = (
            started,
            kex_complete,
            malformed_dir,
            protocol,
            could_see_completion,
        ) {
            if finished || timed_out {
                let dir = if self.dirs[0].facts.has(Facts::HELLO) {
                    Direction::ToServer
                } else {
                    Direction::ToClient
                };
                let fatal = self.any_fact(Facts::FATAL_ALERT);
                alerts.insert(Alert::HandshakeIncomplete);
                evidence.handshake = Some(HandshakeEvidence {
                    protocol: p,
                    direction: dir,
                    offset: self.dirs[dir.index()].bytes,
                    reason: fatal.then_some(MalformReason::FatalAlert),
                    elapsed_us: elapsed,
                });
            }
        }

        let tls_version =
            (protocol == Some(Protocol::Tls) && self.tls_version != 0).then_some(self.tls_version);
        let tls_cipher_suite =
            (tls_version.is_some() && self.tls_cipher_suite != 0).then_some(self.tls_cipher_suite);
        if let (Some(v), Some(c)) = (tls_version, tls_cipher_suite) {
            if v < 0x0304 && rsa_key_exchange(c) {
                alerts.insert(Alert::RsaKeyExchange);
                evidence.cipher_suite = Some(c);
            }
        }

        let (client, server) = (self.dirs[0].bytes, self.dirs[1].bytes);
        let ratio = client as f32 / server.max(1) as f32;
        if client >= cfg.volume_threshold && ratio >= cfg.asymmetry_ratio {
            alerts.insert(Alert::TrafficAsymmetry);
            evidence.asymmetry_ratio = Some(ratio);
        }

        Verdict {
            protocol,
            content,
            alerts,
            evidence,
            dirs,
            key_exchange_complete: kex_complete,
            tls_version,
            tls_cipher_suite,
            decided: self.is_decided(),
            first_ts_us: self.first_ts_us,
            last_ts_us: self.last_ts_us,
        }
    }
}

/// Whether TLS cipher suite `id` uses RSA key transport (no forward secrecy),
/// per the IANA registry as tls-parser carries it.
fn rsa_key_exchange(id: u16) -> bool {
    use tls_parser::{TlsCipherKx, TlsCipherSuite};
    TlsCipherSuite::from_id(id).is_some_and(|c| c.kx == TlsCipherKx::Rsa)
}

#[cfg(test)]
mod tests;
