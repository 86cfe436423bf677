//! One direction of a flow: its byte statistics and the layers its stream
//! is read in (see [`crate::proto`] for the walker interface).
//!
//! A TCP direction starts by sniffing its outer layer. A walker that hands
//! the stream over starts an inner layer, sniffed afresh at the offset
//! where it begins; there is at most one inner layer (an inner walker that
//! hands over again replaces it). The statistics see only the bytes a
//! step measures, in stream order, so they stay chunking-invariant.

use crate::config::Config;
use crate::format;
use crate::proto::{self, DatagramMemory, Facts, Kept, Next, Unknown, Walk, Walker, SNIFF};
use crate::sequential;
use crate::stats::ByteStats;
use crate::verdict::{Destination, Format, MalformReason, Protocol, Span};

/// A layer's first bytes, waiting until the probes can judge them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sniff {
    window: [u8; SNIFF],
    len: u8,
    /// What the bytes are if no probe recognizes them.
    unknown: Unknown,
}

impl Sniff {
    const fn new(unknown: Unknown) -> Self {
        Sniff {
            window: [0; SNIFF],
            len: 0,
            unknown,
        }
    }
}

/// What reads a direction's current layer.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Stage {
    /// The layer's first bytes are being collected.
    Sniff(Sniff),
    /// A protocol's walker reads the layer.
    Walk(Walker),
    /// Nothing walks the rest of the layer: it is measured or explained as
    /// a whole. What the last walker read that a verdict reports (the TLS
    /// parameters, a carrier's measured message) is kept.
    Rest {
        measure: bool,
        broke: Option<(MalformReason, u32)>,
        kept: Kept,
    },
    /// UDP: datagrams are judged one by one.
    Datagrams(DatagramMemory),
}

// Lane flags.
/// The stream has lost bytes: offsets after this are not stream offsets.
const GAP: u8 = 1;
/// Inspection ended (the stream reached the inspection budget).
const DONE: u8 = 2;
/// A recognized protocol explained bytes, which the statistics skipped.
const EXPLAINED: u8 = 4;
/// The current layer is an inner stream.
const INNER: u8 = 8;
/// The sequential test decided the measured bytes are ciphertext
/// ([`crate::sequential`]): latched, as the alert it makes final is.
const CIPHERTEXT: u8 = 16;
/// UDP: the flow asks the sequential test about this datagram (see
/// `Flow::feed_datagram`).
const ASK_DATAGRAM: u8 = 64;
/// The sequential test asks no more: the bytes may answer a key exchange
/// the other side opened.
const ANSWER: u8 = 32;
/// The engine's client side (its naming of a layer wins over the
/// server's: [`Notes::set`]).
const CLIENT: u8 = 128;

/// Offsets are kept in 16 bits: inspection ends within the budget (≤ 64
/// KiB), and nothing after it is walked or measured, so every inspected
/// byte's offset is below 65536. A span is kept as its first and last
/// byte; last < first means none.
const NO_SPAN: [u16; 2] = [1, 0];

/// One direction. 164 bytes: statistics 72, the stage (the sniff window or
/// a walker) 68, the payload count 8, the measured spans 8, where the
/// current layer starts 2, facts, format, flags and the current layer's
/// protocol 4.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lane {
    /// Payload bytes seen, after inspection too (two halves of a u64, so
    /// that the lane aligns to 4 and packs tight).
    bytes: [u32; 2],
    pub stats: ByteStats,
    pub stage: Stage,
    /// The measured spans of the outer and the inner layer: first and last
    /// byte.
    spans: [[u16; 2]; 2],
    /// The stream offset where the current layer starts (saturating).
    layer_start: u16,
    pub facts: Facts,
    /// `Format` code recognized at the start of the innermost stream, 0 if
    /// none.
    pub format: u8,
    flags: u8,
    /// The protocol this direction's current layer was recognized as (its
    /// flow's name for the layer may come from the other direction).
    protocol: u8,
}

impl Lane {
    pub const fn new(udp: bool) -> Self {
        Lane {
            bytes: [0, 0],
            stats: ByteStats::new(),
            stage: if udp {
                Stage::Datagrams(DatagramMemory {
                    rtp: proto::rtp::Memory::new(),
                    quic: proto::quic::Memory::new(),
                    openvpn: proto::openvpn::Memory::new(),
                    dnscrypt: proto::dnscrypt::Memory::new(),
                    epicgames: proto::epicgames::Memory::new(),
                    repeats: proto::Repeats::new(),
                })
            } else {
                Stage::Sniff(Sniff::new(Unknown::Measure))
            },
            spans: [NO_SPAN; 2],
            layer_start: 0,
            facts: Facts::EMPTY,
            format: 0,
            flags: 0,
            protocol: 0,
        }
    }

    #[inline]
    pub fn bytes(&self) -> u64 {
        (self.bytes[1] as u64) << 32 | self.bytes[0] as u64
    }

    #[inline]
    pub fn count(&mut self, len: u64) {
        let b = self.bytes().saturating_add(len);
        self.bytes = [b as u32, (b >> 32) as u32];
    }

    pub fn done(&self) -> bool {
        self.flags & DONE != 0
    }

    pub fn gap_seen(&self) -> bool {
        self.flags & GAP != 0
    }

    pub fn explained(&self) -> bool {
        self.flags & EXPLAINED != 0
    }

    /// The lane as the engine's client side ([`Notes::set`]).
    pub const fn client(mut self) -> Self {
        self.flags |= CLIENT;
        self
    }

    /// This lane is the engine's client side ([`Notes::set`]).
    pub fn set_client(&mut self, client: bool) {
        if client {
            self.flags |= CLIENT;
        } else {
            self.flags &= !CLIENT;
        }
    }

    /// The layer the direction reads now: 0 outer, 1 inner.
    pub fn layer(&self) -> usize {
        (self.flags & INNER != 0) as usize
    }

    /// Whether the sequential test decided this direction's measured bytes
    /// are ciphertext ([`crate::sequential`]).
    pub fn decided_ciphertext(&self) -> bool {
        self.flags & CIPHERTEXT != 0
    }

    /// Whether the sequential test still asks about the bytes measured
    /// next: over TCP, with no verdict of its own yet, no gap (what follows
    /// one is no stream's opening), and bytes no hello or key-exchange
    /// protocol can still account for.
    fn tests_sequentially(&self) -> bool {
        self.flags & (CIPHERTEXT | ANSWER | GAP) == 0
            && (!matches!(self.stage, Stage::Datagrams(_)) || self.flags & ASK_DATAGRAM != 0)
            && !self.facts.has(Facts::HELLO)
            && !Protocol::from_code(self.protocol).is_some_and(|p| p.has_key_exchange())
            && Format::from_code(self.format).is_none_or(|f| f.is_ciphertext())
    }

    /// The flow's protocol for this direction's current layer is `p` (the
    /// other side may have named it): bytes that may be a key exchange's
    /// answer (QUIC's, MTProto's: one hello, and anything back completes
    /// it) are not asked of the sequential test.
    /// Only a protocol the other side named counts: this side's own naming
    /// of its layer (a hello it sent) is no answer, and must not depend on
    /// whether it was named in an earlier feed or this one.
    pub fn note_flow_protocol(&mut self, p: Option<Protocol>) {
        let own = Protocol::from_code(self.protocol);
        if p.is_some_and(|p| p.has_key_exchange() && own != Some(p)) {
            self.flags |= ANSWER;
        }
    }

    /// The statistics take `data`; the sequential test looks at every
    /// [`sequential::STEP`] measured bytes while it asks.
    fn measure(&mut self, cfg: &Config, mut data: &[u8]) {
        while !data.is_empty() && cfg.early_verdict_error > 0.0 && self.tests_sequentially() {
            let step = sequential::STEP;
            let to_look = (step - self.stats.len() % step) as usize;
            let (now, rest) = data.split_at(to_look.min(data.len()));
            self.stats.update(cfg.kernel, now);
            data = rest;
            if self.stats.len() % step == 0
                && sequential::decides(cfg, &self.stats.summary(cfg.entropy_threshold))
            {
                self.flags |= CIPHERTEXT;
            }
        }
        self.stats.update(cfg.kernel, data);
    }

    /// Where the framing broke, and the protocol whose framing it was.
    pub fn broke(&self) -> Option<(MalformReason, u64, Protocol)> {
        match self.stage {
            Stage::Rest {
                broke: Some((r, at)),
                ..
            } => Some((r, at as u64, Protocol::from_code(self.protocol)?)),
            _ => None,
        }
    }

    /// What the walker reading (or that read) the current layer found that
    /// a verdict reports.
    pub fn kept(&self) -> Kept {
        match &self.stage {
            Stage::Walk(w) => w.kept(),
            Stage::Rest { kept, .. } => *kept,
            _ => Kept::default(),
        }
    }

    pub fn spans(&self) -> [Option<Span>; 2] {
        self.spans.map(|[first, last]| {
            (last >= first).then_some(Span {
                start: first as u64,
                end: last as u64 + 1,
            })
        })
    }

    /// The statistics take `data` (at stream `offset`) when a step measures
    /// it, or when the configuration measures everything.
    fn apply(&mut self, cfg: &Config, data: &[u8], offset: u64, measure: bool) {
        if data.is_empty() {
            return;
        }
        if !measure && !cfg.measure_known_protocols {
            self.flags |= EXPLAINED;
            return;
        }
        self.measure(cfg, data);
        let span = &mut self.spans[self.layer()];
        let last = (offset + data.len() as u64 - 1).min(u16::MAX as u64) as u16;
        if span[1] < span[0] {
            span[0] = offset.min(u16::MAX as u64) as u16;
        }
        span[1] = last;
    }

    /// Measures `data` XORed with `key` repeating (a WebSocket client's
    /// masked payload), 256 bytes at a time through a stack buffer.
    fn apply_masked(&mut self, cfg: &Config, data: &[u8], offset: u64, key: [u8; 4]) {
        if key == [0; 4] {
            return self.apply(cfg, data, offset, true);
        }
        let mut buf = [0u8; 256];
        for (k, chunk) in data.chunks(buf.len()).enumerate() {
            for (j, (o, b)) in buf.iter_mut().zip(chunk).enumerate() {
                *o = b ^ key[j % 4];
            }
            let at = offset + (k * buf.len()) as u64;
            self.apply(cfg, &buf[..chunk.len()], at, true);
        }
    }

    /// Feeds the next in-order bytes of a TCP stream (`offset`: the stream
    /// offset of `data[0]`, all within the inspection window). `notes`
    /// holds the flow's protocol per layer.
    pub fn feed_stream(
        &mut self,
        cfg: &Config,
        mut data: &[u8],
        mut offset: u64,
        notes: &mut Notes,
    ) {
        while !data.is_empty() {
            if !matches!(self.stage, Stage::Sniff(_)) {
                // Asked before each step that may measure, at the layer the
                // bytes belong to (not at the feed's start, where a layer
                // still being sniffed may turn out not to exist): whether a
                // step sees the answer flag must not depend on where the
                // stream was cut.
                self.note_flow_protocol(notes.get(self.layer()));
            }
            let used = match &mut self.stage {
                Stage::Sniff(s) => {
                    let take = (SNIFF - s.len as usize).min(data.len());
                    let at = s.len as usize;
                    s.window[at..at + take].copy_from_slice(&data[..take]);
                    s.len += take as u8;
                    let full = s.len as usize == SNIFF;
                    if full {
                        self.decide(cfg, offset + take as u64, false, notes);
                    }
                    take
                }
                Stage::Walk(_) => self.walk(cfg, data, offset, notes),
                Stage::Rest { measure, .. } => {
                    let measure = *measure;
                    self.apply(cfg, data, offset, measure);
                    data.len()
                }
                Stage::Datagrams(_) => data.len(),
            };
            data = &data[used..];
            offset += used as u64;
        }
    }

    /// Runs the walker over `data` for one step; returns the bytes used.
    fn walk(&mut self, cfg: &Config, data: &[u8], offset: u64, notes: &mut Notes) -> usize {
        let Stage::Walk(mut walker) = self.stage else {
            return 0;
        };
        let step = walker.walk(data, offset, &mut self.facts);
        debug_assert!(step.len <= data.len());
        debug_assert!(step.len > 0 || step.next != Next::Continue);
        let len = step.len.min(data.len());
        self.stage = Stage::Walk(walker);
        if step.measure && !cfg.measure_known_protocols {
            self.apply_masked(cfg, &data[..len], offset, step.xor);
        } else if step.measure {
            // Measuring everything, every byte is measured as it is on the
            // wire (masked or not), whatever the walker judged of it.
            self.apply(cfg, &data[..len], offset, true);
        } else {
            self.apply(cfg, &data[..len], offset, false);
        }
        if step.release && !cfg.measure_known_protocols {
            // Bytes held until the walker could judge them (these among
            // them), measured now, in stream order. (Measuring everything,
            // they were measured as they passed.)
            let (held, at) = walker.pending();
            self.apply(cfg, held, at, true);
        }
        let end = offset + len as u64;
        match step.next {
            Next::Continue => {}
            Next::Broken(reason, at) => self.break_at(reason, at, Some(walker)),
            Next::Inner(unknown) => {
                if let Some(d) = walker.destination() {
                    notes.destination = d;
                }
                notes.keep(walker.kept());
                // A walker that read a TLS record's first bytes where a
                // message should be gives them back: the inner stream
                // starts with them.
                let held: &[u8] = match &walker {
                    Walker::Frames(f) => f.held(),
                    _ => &[],
                };
                let start = end - held.len() as u64;
                if start <= self.layer_start as u64 {
                    // Handed over where the layer began: the probe took
                    // bytes the walker does not. Sniffing them again would
                    // find the same walker; the framing is broken instead.
                    self.break_at(MalformReason::BadMessage, start, Some(walker));
                    return len;
                }
                let mut sniff = Sniff::new(unknown);
                sniff.window[..held.len()].copy_from_slice(held);
                sniff.len = held.len() as u8;
                self.stage = Stage::Sniff(sniff);
                self.enter_inner(start, notes);
            }
            Next::Switch(protocol, inner) => {
                notes.keep(walker.kept());
                self.enter_inner(end, notes);
                self.start_layer(protocol, inner, notes);
            }
        }
        len
    }

    /// A carrier handed its stream over at `start`. The inner stream's
    /// facts are its own; a handover inside it (a TLS session that ended)
    /// keeps what it showed.
    fn enter_inner(&mut self, start: u64, notes: &mut Notes) {
        if self.flags & INNER == 0 {
            // The outer layer's hello started the flow's handshake, even
            // when it ends within the same feed.
            notes.hello |= self.facts.has(Facts::HELLO);
            self.facts = Facts::EMPTY;
        }
        self.flags |= INNER;
        self.layer_start = start.min(u16::MAX as u64) as u16;
    }

    /// The current layer is `protocol`, read by `walker`.
    fn start_layer(&mut self, protocol: Protocol, walker: Walker, notes: &mut Notes) {
        notes.set(self.layer(), protocol, self.flags & CLIENT != 0);
        self.protocol = protocol as u8;
        self.stage = Stage::Walk(walker);
    }

    /// The current layer's framing broke at `at`: the rest is measured.
    fn break_at(&mut self, reason: MalformReason, at: u64, walker: Option<Walker>) {
        self.stage = Stage::Rest {
            measure: true,
            broke: Some((reason, at.min(u32::MAX as u64) as u32)),
            kept: walker.map(|w| w.kept()).unwrap_or_default(),
        };
    }

    /// The sniff window is full, or no more bytes will come (`complete`):
    /// name the layer's protocol and walk the window, or settle what the
    /// bytes are. `end` is the stream offset just past the window.
    fn decide(&mut self, cfg: &Config, end: u64, complete: bool, notes: &mut Notes) {
        let Stage::Sniff(s) = self.stage else {
            return;
        };
        let window = &s.window[..s.len as usize];
        let start = end - window.len() as u64;
        self.layer_start = start.min(u16::MAX as u64) as u16;
        if let Some((protocol, walker)) = proto::sniff(window, complete) {
            if self.layer() == 1 && protocol as u8 == self.protocol {
                // The carrier itself goes on (an upgrade was refused: the
                // next request, a startup message after a refused SSL
                // request): no inner stream.
                self.flags &= !INNER;
            }
            self.start_layer(protocol, walker, notes);
            // The window's bytes are the walker's first.
            self.feed_stream(cfg, window, start, notes);
            return;
        }
        match s.unknown {
            Unknown::Measure => {
                self.format = format::detect(&window[..window.len().min(format::PREFIX)])
                    .map_or(0, |f| f as u8);
                if self.layer() == 1 {
                    self.protocol = 0;
                }
                self.stage = Stage::Rest {
                    measure: true,
                    broke: None,
                    kept: Kept::default(),
                };
            }
            // Not an inner stream after all: the carrier's content, judged
            // by its first bytes, or explained with the carrier, or its
            // framing broke where the stream was handed over.
            Unknown::Content => {
                self.flags &= !INNER;
                let prefix = &window[..window.len().min(format::PREFIX)];
                let innocent = format::detect(prefix).is_some_and(|f| !f.is_ciphertext());
                self.stage = Stage::Rest {
                    measure: !innocent,
                    broke: None,
                    kept: Kept::default(),
                };
            }
            Unknown::Explain => {
                self.flags &= !INNER;
                self.stage = Stage::Rest {
                    measure: false,
                    broke: None,
                    kept: Kept::default(),
                };
            }
            Unknown::Broken(reason) => {
                self.flags &= !INNER;
                self.break_at(reason, start, None);
            }
        }
        let window = s.window;
        let n = s.len as usize;
        self.feed_stream(cfg, &window[..n], start, notes);
    }

    /// Runs what waits for more bytes as if the stream ended here.
    pub fn settle(&mut self, cfg: &Config, notes: &mut Notes) {
        // Judging a window may hand over to an inner stream, whose window
        // then holds the rest (fewer bytes each time: a hand-over consumes
        // at least one).
        while let Stage::Sniff(s) = self.stage {
            if s.len == 0 {
                // Handed over, and nothing came: there is no inner stream.
                self.flags &= !INNER;
                return;
            }
            let end = self.inspected_end(cfg);
            self.decide(cfg, end, true, notes);
        }
    }

    /// The stream offset just past the last inspected byte.
    fn inspected_end(&self, cfg: &Config) -> u64 {
        self.bytes().min(cfg.inspect_budget as u64)
    }

    /// Inspection of this direction ended: settle it.
    pub fn finish_inspection(&mut self, cfg: &Config, notes: &mut Notes) {
        self.settle(cfg, notes);
        self.flags |= DONE;
    }

    /// `len` bytes of the stream are missing: walkers cannot resynchronize.
    /// Bytes waiting in a sniff window are judged as the layer's whole
    /// start; a walker's layer keeps its disposition (explained if it
    /// explained anything).
    pub fn gap(&mut self, cfg: &Config, notes: &mut Notes) {
        // What the window holds is all the layer will show of its start.
        self.settle(cfg, notes);
        self.flags |= GAP;
        match self.stage {
            // Nothing came before the gap: what follows is no stream start.
            Stage::Sniff(_) => {
                self.stage = Stage::Rest {
                    measure: true,
                    broke: None,
                    kept: Kept::default(),
                }
            }
            Stage::Walk(w) => {
                self.stage = Stage::Rest {
                    measure: !self.explained(),
                    broke: None,
                    kept: w.kept(),
                }
            }
            Stage::Rest { .. } | Stage::Datagrams(_) => {}
        }
    }

    /// The datagram memory of a UDP direction.
    pub fn memory(&self) -> DatagramMemory {
        match self.stage {
            Stage::Datagrams(m) => m,
            _ => DatagramMemory::default(),
        }
    }

    pub fn set_memory(&mut self, m: DatagramMemory) {
        if let Stage::Datagrams(old) = &mut self.stage {
            *old = m;
        }
    }

    /// A datagram's inspected bytes (`offset`: the payload bytes of the
    /// direction before it): measured unless explained.
    pub fn take_datagram(&mut self, cfg: &Config, inspected: &[u8], offset: u64, explained: bool) {
        self.apply(cfg, inspected, offset, !explained);
    }

    /// As [`Lane::take_datagram`], asking the sequential test about the
    /// datagram's measured bytes.
    pub fn take_datagram_asking(&mut self, cfg: &Config, inspected: &[u8], offset: u64) {
        self.flags |= ASK_DATAGRAM;
        self.apply(cfg, inspected, offset, true);
        self.flags &= !ASK_DATAGRAM;
    }

    /// Measures a part of an explained datagram that may carry a payload
    /// (a DNS label, TXT data). `fold`: a label with no upper-case letter
    /// is measured upper-cased (names are case-insensitive: lower-case
    /// base32 is base32); a mixed-case one as it is.
    pub fn take_payload(&mut self, cfg: &Config, part: &[u8], offset: u64, fold: bool) {
        if !fold || part.len() > 64 || part.iter().any(u8::is_ascii_uppercase) {
            return self.apply(cfg, part, offset, true);
        }
        let mut buf = [0u8; 64];
        for (o, b) in buf.iter_mut().zip(part) {
            *o = b.to_ascii_uppercase();
        }
        self.apply(cfg, &buf[..part.len()], offset, true);
    }
}

/// What the lanes note for the whole flow: the protocol of each layer (as
/// codes, 0: none yet), and where a proxy carrier was asked to connect.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Notes {
    /// Per layer: the protocol's code, with [`BY_CLIENT`] when the client's
    /// side named it.
    protocols: [u8; 2],
    pub destination: Destination,
    /// The TLS parameters of the first session whose walker stopped (a
    /// session that ended, and the stream went on): what the verdict
    /// reports once the walker that read them is gone.
    pub negotiated: proto::tls::Negotiated,
    /// An outer layer said hello before it handed its stream over.
    pub hello: bool,
    /// Bit per direction: a DNS message left its payload looking like
    /// ciphertext (`dns_encoded_payload`, latched).
    pub dns_payload: u8,
}

/// In [`Notes`]' protocol codes (all below 128): the client named the
/// layer.
const BY_CLIENT: u8 = 128;
const _: () = {
    let mut i = 0;
    while i < Protocol::ALL.len() {
        assert!((Protocol::ALL[i] as u8) < BY_CLIENT);
        i += 1;
    }
};

impl Notes {
    pub const fn new() -> Self {
        Notes {
            protocols: [0, 0],
            destination: Destination::NONE,
            negotiated: proto::tls::Negotiated::NONE,
            hello: false,
            dns_payload: 0,
        }
    }

    /// The first recognition names a layer. Two corrections, each one way:
    /// an FTP client's commands rename a `220` greeting taken for SMTP, and
    /// a client's key-exchange protocol renames a server's protocol without
    /// one (a TLS hello against an SMTP banner on port 465, neither
    /// answered: a host may deliver the server's side first, and the name
    /// must not depend on it). Other disagreements keep the first name (a
    /// client's `USER` is FTP's and POP3's alike; an SSH banner answering
    /// an HTTP request does not make the flow SSH).
    pub fn set(&mut self, layer: usize, p: Protocol, client: bool) {
        let current = self.protocols[layer];
        let named = Protocol::from_code(current & !BY_CLIENT);
        let ftp_over_smtp = p == Protocol::Ftp && named == Some(Protocol::Smtp);
        let keyed_over_server = client
            && current & BY_CLIENT == 0
            && p.has_key_exchange()
            && named.is_some_and(|n| !n.has_key_exchange());
        if current == 0 || ftp_over_smtp || keyed_over_server {
            self.protocols[layer] = p as u8 | if client { BY_CLIENT } else { 0 };
        }
    }

    /// What a walker that stopped found, kept for the verdict (the first
    /// TLS session's parameters).
    pub fn keep(&mut self, kept: Kept) {
        if self.negotiated.version == 0 {
            self.negotiated = kept.negotiated;
        }
    }

    pub fn get(&self, layer: usize) -> Option<Protocol> {
        Protocol::from_code(self.protocols[layer] & !BY_CLIENT)
    }

    /// The codes, for change detection.
    pub fn codes(&self) -> [u8; 2] {
        self.protocols
    }
}
