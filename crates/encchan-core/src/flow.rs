//! Per-flow state.
//!
//! A [`Flow`] is a fixed-size, `Copy` value that lives wherever the host
//! keeps its connections: nothing is allocated, nothing points elsewhere,
//! and no call grows it. Hosts feed each direction's payload in stream order
//! (a reassembled TCP stream, or UDP datagrams) and read a [`Verdict`] when
//! [`Flow::feed`] reports news and when the flow ends; the verdict is
//! computed from the state ([`crate::detect`]), never stored beside it.
//!
//! # The state, byte by byte (384 bytes)
//!
//! | part | bytes | why |
//! |---|---|---|
//! | two [lanes](lane::Lane), one per direction | 2 × 164 | see below |
//! | first and last payload timestamps | 16 | time spans, the handshake timeout |
//! | handshake start (µs after the first payload) | 4 | the handshake timeout |
//! | client and server ports | 4 | the port profiles |
//! | protocol per layer | 2 | the outer stream's, and an inner stream's |
//! | a proxy's destination | 20 | port, address or host-name prefix: evidence, and the port an inner stream's protocol is judged by |
//! | the first TLS session's parameters | 4 | kept once its walker stops (the session ended, the stream goes on) |
//! | an outer layer's hello, DNS payload seen per direction, transport, start, flags | 5 | |
//! | padding to 8 | 1 | |
//!
//! A lane holds the byte statistics of what it measured (72), the stage that
//! reads its current layer (68: the 64-byte sniff window, or a walker beside
//! which it is never needed, or a UDP direction's datagram memory), its
//! payload count (8), the measured spans of both layers (8: 16-bit offsets,
//! as nothing past a 64 KiB budget is inspected), where its current layer
//! starts (2) and its facts, format, flags and the current layer's protocol
//! (4). The sniff window and the layers are what grew the state from 256
//! bytes: a window of its own at any stream offset is what lets an inner
//! stream (after a proxy's handshake, STARTTLS) be recognized.

mod lane;

use crate::config::Config;
use crate::detect;
use crate::proto::{self, dns, quic, rtp, Ctx, Facts, Judgement};
use crate::verdict::{Direction, Protocol, Verdict};
pub(crate) use lane::{Lane, Notes};

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

/// Flow flags.
pub(crate) const FINISHED: u8 = 1;
pub(crate) const INSPECTION_DONE: u8 = 2;
pub(crate) const HANDSHAKE_STARTED: u8 = 4;
/// The roles were decided ([`crate::roles`]), at the first payload or gap.
const ORIENTED: u8 = 8;
/// The host's client is the server: its directions are swapped.
const ROLES_SWAPPED: u8 = 16;
/// An endpoint is a group address (broadcast, multicast).
pub(crate) const GROUP: u8 = 32;

/// The engine's state for one flow (both directions). 384 bytes, `Copy`,
/// no pointers: keep it in any memory you own.
#[derive(Clone, Copy, Debug)]
pub struct Flow {
    pub(crate) lanes: [Lane; 2],
    pub(crate) first_ts_us: u64,
    pub(crate) last_ts_us: u64,
    /// Microseconds from `first_ts_us` to the first hello (saturating).
    pub(crate) handshake_start_us: u32,
    pub(crate) client_port: u16,
    pub(crate) server_port: u16,
    pub(crate) notes: Notes,
    pub(crate) transport: Transport,
    pub(crate) start: FlowStart,
    pub(crate) flags: u8,
}

// The per-flow budget is part of the design: the build fails if it grows
// past what the table above accounts for; 384 bytes is the ceiling.
const _: () = assert!(core::mem::size_of::<Flow>() == 384);
const _: () = assert!(core::mem::size_of::<Lane>() == 164);
const _: () = assert!(core::mem::size_of::<Flow>() <= 384);

/// What a call to [`Flow::feed`] changed, for hosts that publish verdicts
/// while the flow goes on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fed {
    /// Something the alert rules read changed (a protocol was named, a
    /// hello or a break seen, a direction's inspection ended): the host
    /// computes the verdict and publishes what [`Verdict::publish`] says.
    pub news: bool,
    /// The engine has stopped inspecting the flow.
    pub inspection_done: bool,
}

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
        let udp = matches!(transport, Transport::Udp);
        Flow {
            lanes: [Lane::new(udp).client(), Lane::new(udp)],
            first_ts_us: ts_us,
            last_ts_us: ts_us,
            handshake_start_us: 0,
            client_port,
            server_port,
            notes: Notes::new(),
            transport,
            start,
            flags: 0,
        }
    }

    /// The transport.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The client and server ports, once the roles are decided (see
    /// [`crate::roles`]): those given at creation, or the other way round.
    pub fn ports(&self) -> (u16, u16) {
        (self.client_port, self.server_port)
    }

    /// Whether the engine took the host's client for the server (see
    /// [`crate::roles`]). The verdict says it too.
    pub fn roles_swapped(&self) -> bool {
        self.flags & ROLES_SWAPPED != 0
    }

    /// Notes one of the flow's addresses (4 or 16 bytes, network order):
    /// a broadcast or multicast one makes the flow an announcement, not a
    /// channel ([`crate::roles::is_group_address`]). Hosts call it once,
    /// with the first packet's destination.
    pub fn note_address(&mut self, addr: &[u8]) {
        if crate::roles::is_group_address(addr) {
            self.flags |= GROUP;
        }
    }

    /// Either port is profiled for TLS and QUIC: a flow picked up late may
    /// have its sides swapped, so both count.
    pub(crate) fn on_tls_port(&self, cfg: &Config) -> bool {
        cfg.ports.tls.contains(self.server_port) || cfg.ports.tls.contains(self.client_port)
    }

    /// The engine's direction for a direction the host names.
    #[inline]
    fn engine_dir(&self, dir: Direction) -> Direction {
        if self.roles_swapped() {
            dir.reverse()
        } else {
            dir
        }
    }

    /// Decides the roles once, before the first payload or gap is taken:
    /// whatever was counted before moves with its side.
    fn orient(&mut self, cfg: &Config) {
        if self.flags & ORIENTED != 0 {
            return;
        }
        self.flags |= ORIENTED;
        let (c, s) = (self.client_port, self.server_port);
        if crate::roles::roles_reversed(cfg, self.transport, self.start, c, s) {
            self.lanes.swap(0, 1);
            self.client_port = s;
            self.server_port = c;
            self.flags |= ROLES_SWAPPED;
            self.lanes[0].set_client(true);
            self.lanes[1].set_client(false);
        }
    }

    /// Whether the engine has stopped inspecting payload (both directions
    /// used their inspection budget). Hosts may then stop delivering bytes
    /// and call [`Flow::account`] instead; feeding more changes nothing but
    /// the counters.
    #[inline]
    pub fn is_inspection_done(&self) -> bool {
        self.flags & INSPECTION_DONE != 0
    }

    /// Whether inspection of `dir` has ended: its further payload only
    /// counts, so a host may stop reassembling it (the flow as a whole may
    /// still wait for the other direction).
    #[inline]
    pub fn is_dir_inspection_done(&self, dir: Direction) -> bool {
        self.lanes[self.engine_dir(dir).index()].done()
    }

    /// Payload bytes of `dir` taken so far, fed or counted (gaps not
    /// included): the verdict's `bytes` of that side, without its cost.
    #[inline]
    pub fn dir_bytes(&self, dir: Direction) -> u64 {
        self.lanes[self.engine_dir(dir).index()].bytes()
    }

    /// Counts `len` payload bytes of `dir` without inspecting them.
    #[inline]
    pub fn account(&mut self, dir: Direction, len: u64, ts_us: u64) {
        self.touch(ts_us);
        self.lanes[self.engine_dir(dir).index()].count(len);
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

    /// What the alert rules read besides the statistics, packed: when it
    /// changes, the verdict may have.
    fn milestones(&self) -> u64 {
        let lane = |l: &Lane| {
            (l.facts.bits() as u64)
                | (l.done() as u64) << 8
                | (l.layer() as u64) << 9
                | (l.broke().is_some() as u64) << 10
                | (l.decided_ciphertext() as u64) << 12
        };
        // A DNS payload latched is news (bits 11 and 27, one per lane).
        let dns = self.notes.dns_payload as u64;
        lane(&self.lanes[0])
            | lane(&self.lanes[1]) << 16
            | (dns & 1) << 11
            | (dns >> 1) << 27
            | (self.notes.codes()[0] as u64) << 32
            | (self.notes.codes()[1] as u64) << 40
            | (self.notes.destination.port as u64) << 48
    }

    /// Feeds the next payload of `dir`: the next in-order bytes of a TCP
    /// stream, or one whole UDP datagram.
    pub fn feed(&mut self, cfg: &Config, dir: Direction, payload: &[u8], ts_us: u64) -> Fed {
        self.orient(cfg);
        let i = self.engine_dir(dir).index();
        let offset = self.lanes[i].bytes();
        self.account(dir, payload.len() as u64, ts_us);
        if payload.is_empty() || self.is_inspection_done() || self.lanes[i].done() {
            return self.fed(false);
        }
        let before = self.milestones();
        // The inspection window is the stream's first `inspect_budget`
        // bytes, whether or not the statistics measure them.
        let window_left = (cfg.inspect_budget as u64).saturating_sub(offset) as usize;
        let inspected = &payload[..payload.len().min(window_left)];
        match self.transport {
            Transport::Tcp => self.lanes[i].feed_stream(cfg, inspected, offset, &mut self.notes),
            Transport::Udp => self.feed_datagram(cfg, i, payload, inspected, offset),
        }
        if offset + payload.len() as u64 >= cfg.inspect_budget as u64 {
            self.lanes[i].finish_inspection(cfg, &mut self.notes);
        }
        self.note_handshake(ts_us);
        if self.lanes[0].done() && self.lanes[1].done() {
            self.flags |= INSPECTION_DONE;
        }
        let news = self.milestones() != before;
        self.fed(news)
    }

    fn fed(&self, news: bool) -> Fed {
        Fed {
            news,
            inspection_done: self.is_inspection_done(),
        }
    }

    /// UDP: judge one datagram (whole), measure its inspected part unless
    /// its protocol explains it: it matched the flow's protocol, of which
    /// this side has said hello when the protocol has a key exchange
    /// (framing without a hello stays measured, as a costume would), and
    /// which is more than an application's magic.
    fn feed_datagram(&mut self, cfg: &Config, i: usize, d: &[u8], inspected: &[u8], offset: u64) {
        let known = self.notes.get(0);
        let mut own = self.lanes[i].memory();
        let other = self.lanes[1 - i].memory();
        let first = self.lanes[i].bytes() == d.len() as u64;
        let judged = proto::recognize(
            d,
            &mut Ctx {
                known,
                first,
                own: &mut own,
                other: &other,
            },
        );
        let facts = match judged {
            Judgement::Held => {
                self.lanes[i].set_memory(own);
                self.lanes[i].take_datagram(cfg, inspected, offset, false);
                return;
            }
            Judgement::Confirmed(g) => {
                self.lanes[i].set_memory(own);
                self.notes.set(0, g.protocol, i == 0);
                for lane in &mut self.lanes {
                    if lane.memory().held(g.protocol) {
                        lane.facts.set(g.facts);
                    }
                }
                self.lanes[i].take_datagram(cfg, inspected, offset, false);
                return;
            }
            Judgement::Yes(g) if known.is_none() => {
                self.notes.set(0, g.protocol, i == 0);
                g.facts
            }
            Judgement::Yes(g) if known == Some(g.protocol) => g.facts,
            _ => 0,
        };
        let tls_port = self.on_tls_port(cfg);
        let lane = &mut self.lanes[i];
        lane.facts.set(facts);
        let mut framed = facts != 0;
        // What one datagram cannot tell: RTP needs two of one stream, QUIC's
        // short headers a run of them, repeats the one before.
        let seen = rtp::observe(d, &mut own.rtp, self.notes.get(0));
        if seen.names {
            self.notes.set(0, Protocol::Rtp, i == 0);
        }
        if self.notes.get(0) == Some(Protocol::Rtp) {
            lane.facts.set(Facts::FRAMING);
            framed |= seen.framed;
        }
        quic::observe(d, &mut own.quic);
        own.repeats.count(d);
        lane.set_memory(own);
        // An application named by its magic alone explains nothing.
        let explains = framed
            && self.notes.get(0).is_some_and(|p| {
                !p.names_only() && (!p.has_key_exchange() || lane.facts.has(Facts::HELLO))
            });
        // The sequential test asks about a datagram conversation that no
        // recognizer named by this side's third datagram and the other
        // side's first (RTP needs two of a stream; an answer may name STUN
        // or DTLS), and that does not repeat itself (announcements); not
        // on a port profiled for TLS, where QUIC picked up after its
        // handshake shows nothing but short headers.
        let conversation = !tls_port
            && self.notes.get(0).is_none()
            && own.repeats.datagrams() >= 3
            && other.repeats.datagrams() >= 1
            && !own.repeats.repeating();
        if conversation && !explains {
            lane.take_datagram_asking(cfg, inspected, offset);
        } else {
            lane.take_datagram(cfg, inspected, offset, explains);
        }
        if explains && self.notes.get(0) == Some(Protocol::Dns) {
            // What DNS carries in its names and records is measured on its
            // own (`dns_encoded_payload`).
            let notes = &mut self.notes;
            let mut carried = false;
            dns::payload_parts(inspected, |part| match part {
                dns::Part::Label(at, len) => {
                    carried = true;
                    lane.take_payload(cfg, &inspected[at..at + len], offset + at as u64, true)
                }
                dns::Part::Data(at, len) => {
                    carried = true;
                    lane.take_payload(cfg, &inspected[at..at + len], offset + at as u64, false)
                }
                dns::Part::Zone(at) if !notes.destination.is_some() => {
                    notes.destination = dns::zone(inspected, at);
                }
                dns::Part::Zone(_) => {}
            });
            // Latch what this message left: the alert is final at once.
            if carried && self.notes.dns_payload & (1 << i) == 0 {
                let s = self.lanes[i].stats.summary(cfg.entropy_threshold);
                if detect::looks_like_ciphertext(self, cfg, i, &s) {
                    self.notes.dns_payload |= 1 << i;
                }
            }
        }
    }

    /// Reports that `len` bytes of `dir`'s stream are missing (a TCP gap).
    /// Walkers cannot resynchronize and stop; statistics go on.
    pub fn gap(&mut self, cfg: &Config, dir: Direction, len: u64, ts_us: u64) {
        self.orient(cfg);
        self.touch(ts_us);
        if len > 0 && self.transport == Transport::Tcp {
            let i = self.engine_dir(dir).index();
            self.lanes[i].gap(cfg, &mut self.notes);
            self.note_handshake(ts_us);
        }
    }

    /// The flow has ended: settle what was waiting for more bytes.
    pub fn finish(&mut self, cfg: &Config, ts_us: u64) {
        self.touch(ts_us);
        self.settle(cfg);
        self.flags |= FINISHED;
    }

    /// A hello seen for the first time starts the handshake clock at
    /// `ts_us` (for a hello that waited in a short stream's sniff window
    /// until the flow settled, that is when it was judged).
    fn note_handshake(&mut self, ts_us: u64) {
        let hello = self.any_fact(Facts::HELLO) || self.notes.hello;
        if self.flags & HANDSHAKE_STARTED == 0 && hello {
            self.flags |= HANDSHAKE_STARTED;
            self.handshake_start_us =
                ts_us.saturating_sub(self.first_ts_us).min(u32::MAX as u64) as u32;
        }
    }

    pub(crate) fn any_fact(&self, bit: u8) -> bool {
        self.lanes[0].facts.has(bit) || self.lanes[1].facts.has(bit)
    }

    /// Runs what was waiting for more bytes (short streams) as if the
    /// streams ended now.
    fn settle(&mut self, cfg: &Config) {
        for lane in &mut self.lanes {
            lane.settle(cfg, &mut self.notes);
        }
        self.note_handshake(self.last_ts_us);
    }

    /// The verdict as of now: final alerts are those no further byte or time
    /// can take back. Cheap enough to call when [`Flow::feed`] reports news.
    pub fn verdict(&self, cfg: &Config) -> Verdict {
        let mut f = *self;
        f.settle(cfg);
        detect::conclude(&f, cfg)
    }

    /// The verdict the flow would have if it ended now (at `ts_us`), without
    /// ending it: what a host publishes on a closing packet, while packets
    /// can still carry it to rules.
    pub fn verdict_at_end(&self, cfg: &Config, ts_us: u64) -> Verdict {
        let mut f = *self;
        f.finish(cfg, ts_us);
        detect::conclude(&f, cfg)
    }

    /// TLS parameters a ServerHello negotiated: the first session's, once
    /// its walker stopped; else the server's side, else the client's.
    pub(crate) fn negotiated(&self) -> Option<proto::tls::Negotiated> {
        let first = self.notes.negotiated;
        if first.version != 0 {
            return Some(first);
        }
        [&self.lanes[1], &self.lanes[0]]
            .into_iter()
            .find_map(|l| l.kept().negotiated())
    }
}

#[cfg(test)]
mod tests;
