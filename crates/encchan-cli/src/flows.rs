//! The flow table: which packets belong together, who the client is, TCP
//! reassembly per direction, timeouts and eviction.
//!
//! Flows live in a slab (`Vec` of slots with a free list) indexed by a
//! `HashMap` from the canonical 5-tuple. Each slot holds the engine's state
//! inline (`encchan_core::Flow`, a fixed 256 bytes) next to the reassembly
//! state, so memory is flows × a fixed size plus the bounded out-of-order
//! buffers.
//!
//! Client: for TCP the sender of a SYN without ACK; failing that the
//! receiver of a SYN-ACK; failing that the sender of the first packet with
//! payload. For UDP the sender of the first datagram. A flow is `Observed`
//! when its start was seen (the SYN, or any UDP datagram), else `Midstream`.
//!
//! A flow ends on RST, on FIN from both sides, when idle longer than its
//! timeout, when evicted to make room, or at the end of the input. Once the
//! engine has finished inspecting a direction, that direction's payload is
//! no longer reassembled or fed: new bytes are only counted
//! ([`Flow::account`]).

use crate::decode::Segment;
use crate::reassembly::{Event, Reassembler};
use encchan_core::{Config, Direction, Flow, FlowStart, Transport, Verdict};
use std::collections::HashMap;
use std::net::IpAddr;

pub type Endpoint = (IpAddr, u16);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    lo: Endpoint,
    hi: Endpoint,
    tcp: bool,
}

impl Key {
    fn new(a: Endpoint, b: Endpoint, tcp: bool) -> Key {
        if a <= b {
            Key { lo: a, hi: b, tcp }
        } else {
            Key { lo: b, hi: a, tcp }
        }
    }
}

/// A finished flow, ready to print.
#[derive(Debug)]
pub struct FlowRecord {
    pub tcp: bool,
    pub client: Endpoint,
    pub server: Endpoint,
    pub verdict: Verdict,
    pub packets: [u64; 2],
    pub gap_bytes: [u64; 2],
    /// Timestamps of the first and last packet (with or without payload).
    pub first_ts_us: u64,
    pub last_ts_us: u64,
    pub start: FlowStart,
    /// Index of the capture file the flow started in.
    pub file: usize,
    /// Why the flow ended.
    pub end: End,
    /// When the first alert was published, if one was.
    pub decided: Option<Decided>,
    /// The byte values of each direction's inspection window, when the
    /// table keeps them ([`Table::keep_byte_counts`]).
    pub byte_counts: Option<Box<ByteCounts>>,
}

/// How often each byte value occurred in the first `inspect_budget` bytes
/// the host fed the engine per direction (client first, as the host saw
/// the sides): the engine's inspection window, including the bytes a
/// protocol explained, which its statistics leave out. The engine keeps no
/// histogram; this one is the CLI's, for the report's pictures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ByteCounts {
    pub counts: [[u32; 256]; 2],
    pub total: [u32; 2],
}

impl ByteCounts {
    fn new() -> Box<ByteCounts> {
        Box::new(ByteCounts {
            counts: [[0; 256]; 2],
            total: [0; 2],
        })
    }

    /// Counts what of `bytes` still fits in direction `d`'s window.
    fn add(&mut self, d: usize, bytes: &[u8], window: u32) {
        let room = window.saturating_sub(self.total[d]) as usize;
        let take = &bytes[..bytes.len().min(room)];
        for &b in take {
            self.counts[d][b as usize] += 1;
        }
        self.total[d] += take.len() as u32;
    }
}

/// How much of a flow the engine had seen when it published its first
/// alert (an alert final while the flow went on, see `Verdict::publish`),
/// per direction as the host saw them (client first).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Decided {
    /// Payload bytes fed to the engine.
    pub bytes: [u64; 2],
    /// Payloads fed (UDP datagrams; TCP segments as reassembly delivered
    /// them in order).
    pub payloads: [u64; 2],
    /// The alert was only published when the flow ended.
    pub at_end: bool,
    /// The direction whose bytes the published alert judged, if it names
    /// one (the engine's sides).
    pub direction: Option<Direction>,
}

/// What the host fed the engine, and when it first published an alert.
#[derive(Clone, Debug, Default)]
struct Progress {
    fed: Decided,
    decided: Option<Decided>,
    /// Whether to keep byte counts, allocated at the first payload (a flow
    /// without payload costs nothing).
    keep_byte_counts: bool,
    byte_counts: Option<Box<ByteCounts>>,
}

/// Feeds `bytes` of `dir` to `flow` and notes when an alert is first
/// published: the engine reports news, and the verdict then has a final
/// alert.
fn feed(
    flow: &mut Flow,
    progress: &mut Progress,
    cfg: &Config,
    dir: Direction,
    bytes: &[u8],
    ts_us: u64,
) {
    let fed = flow.feed(cfg, dir, bytes, ts_us);
    let d = dir as usize;
    if progress.keep_byte_counts {
        let counts = progress.byte_counts.get_or_insert_with(ByteCounts::new);
        counts.add(d, bytes, cfg.inspect_budget);
    }
    progress.fed.bytes[d] += bytes.len() as u64;
    progress.fed.payloads[d] += 1;
    if fed.news && progress.decided.is_none() {
        let v = flow.verdict(cfg);
        if !v.publish().is_empty() {
            progress.decided = Some(Decided {
                direction: v.evidence.high_entropy_direction,
                ..progress.fed
            });
        }
    }
}

/// Why a flow ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// FIN from both sides.
    Fin,
    Rst,
    /// Idle longer than the timeout.
    Idle,
    /// A new connection reused the 5-tuple (a new SYN).
    Reused,
    /// Ended early to make room at the flow limit.
    Evicted,
    /// End of the input.
    Input,
}

impl End {
    pub fn name(self) -> &'static str {
        match self {
            End::Fin => "fin",
            End::Rst => "rst",
            End::Idle => "idle",
            End::Reused => "reused",
            End::Evicted => "evicted",
            End::Input => "end_of_input",
        }
    }
}

struct Slot {
    key: Key,
    client: Endpoint,
    server: Endpoint,
    start: FlowStart,
    flow: Flow,
    reassembly: [Reassembler; 2],
    /// Per direction: reassembly stopped because the engine finished
    /// inspecting that direction; its bytes are only counted.
    counting: [bool; 2],
    /// The client's SYN sequence number, when seen.
    client_isn: Option<u32>,
    /// Any payload seen (either direction).
    payload_seen: bool,
    packets: [u64; 2],
    gap_bytes: [u64; 2],
    fin: [bool; 2],
    /// Per direction: the other side's highest acknowledgment of it, when
    /// seen (what was sent, captured or not).
    acked: [Option<u32>; 2],
    first_ts_us: u64,
    last_ts_us: u64,
    file: usize,
    progress: Progress,
}

/// Limits of the table.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub tcp_idle_us: u64,
    pub udp_idle_us: u64,
    pub max_flows: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            tcp_idle_us: 300_000_000,
            udp_idle_us: 60_000_000,
            max_flows: 1_000_000,
        }
    }
}

/// Counters for the summary line.
#[derive(Clone, Copy, Debug, Default)]
pub struct TableStats {
    pub flows: u64,
    pub evicted: u64,
    pub expired: u64,
    /// TCP packets without payload that belong to no open flow.
    pub stray_tcp: u64,
}

pub struct Table {
    cfg: Config,
    limits: Limits,
    index: HashMap<Key, usize>,
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    now_us: u64,
    last_sweep_us: u64,
    packets_since_sweep: u64,
    keep_byte_counts: bool,
    pub stats: TableStats,
}

impl Table {
    pub fn new(cfg: Config, limits: Limits) -> Table {
        Table {
            cfg,
            limits,
            index: HashMap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            now_us: 0,
            last_sweep_us: 0,
            packets_since_sweep: 0,
            keep_byte_counts: false,
            stats: TableStats::default(),
        }
    }

    /// Keep each flow's [`ByteCounts`] (2 KiB per open flow with payload)
    /// and hand them over in its record.
    pub fn keep_byte_counts(&mut self, keep: bool) {
        self.keep_byte_counts = keep;
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Flows currently open.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Takes one decoded segment; flows that end go to `emit`.
    pub fn packet(
        &mut self,
        seg: &Segment<'_>,
        ts_us: u64,
        file: usize,
        emit: &mut impl FnMut(FlowRecord),
    ) {
        self.now_us = self.now_us.max(ts_us);
        self.maybe_sweep(emit);
        let src = (seg.src, seg.sport);
        let dst = (seg.dst, seg.dport);
        let tcp = seg.tcp;
        let key = Key::new(src, dst, tcp.is_some());
        let has_payload = !seg.payload.is_empty() || seg.missing > 0;
        let mut existing = self.index.get(&key).copied();
        if let Some(i) = existing {
            if let Some(reason) = self.slots[i]
                .as_ref()
                .and_then(|s| self.stale(s, seg, ts_us))
            {
                self.close(i, reason, emit);
                existing = None;
            }
        }
        let i = match existing {
            Some(i) => i,
            // A TCP packet with neither SYN nor payload (the last ACKs of a
            // flow already closed, a lone RST) does not open a flow.
            None if tcp.is_some_and(|t| !t.syn) && !has_payload => {
                self.stats.stray_tcp += 1;
                return;
            }
            None => {
                if self.index.len() >= self.limits.max_flows {
                    self.make_room(emit);
                }
                self.open(key, seg, ts_us, file)
            }
        };
        let Some(slot) = self.slots.get_mut(i).and_then(Option::as_mut) else {
            return;
        };
        let dir = if src == slot.client {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        let d = dir as usize;
        slot.packets[d] += 1;
        slot.first_ts_us = slot.first_ts_us.min(ts_us);
        slot.last_ts_us = slot.last_ts_us.max(ts_us);
        let cfg = &self.cfg;
        let mut end = None;
        match tcp {
            Some(t) => {
                if t.syn {
                    slot.reassembly[d].set_isn_unless_acknowledged(t.seq, slot.acked[d]);
                    if dir == Direction::ToServer && !t.ack && slot.client_isn.is_none() {
                        slot.client_isn = Some(t.seq);
                        if slot.start == FlowStart::Midstream && !slot.payload_seen {
                            // The SYN came after the SYN-ACK in the capture:
                            // the start was observed after all.
                            slot.start = FlowStart::Observed;
                            slot.flow = new_flow(
                                Transport::Tcp,
                                slot.client,
                                slot.server,
                                FlowStart::Observed,
                                slot.first_ts_us,
                            );
                        }
                    }
                }
                slot.payload_seen |= has_payload;
                if has_payload {
                    // Data in a SYN (TCP Fast Open) starts after the sequence
                    // number the SYN consumes.
                    let seq = if t.syn { t.seq.wrapping_add(1) } else { t.seq };
                    slot.tcp_payload(cfg, dir, seq, seg.payload, seg.missing, ts_us);
                }
                // The other side's bytes this packet acknowledges (not on
                // an RST, whose numbers need not be acknowledgments).
                if t.ack && !t.rst {
                    let acked = &mut slot.acked[1 - d];
                    let ahead = acked.is_none_or(|a| (t.ack_seq.wrapping_sub(a) as i32) > 0);
                    if ahead {
                        *acked = Some(t.ack_seq);
                    }
                }
                slot.fin[d] |= t.fin;
                if t.rst {
                    end = Some(End::Rst);
                } else if slot.fin[0] && slot.fin[1] {
                    end = Some(End::Fin);
                }
            }
            None if seg.missing > 0 || slot.flow.is_inspection_done() => {
                // A datagram cut by the snap length is counted, not judged:
                // its parser would see a broken datagram.
                let len = seg.payload.len() as u64 + seg.missing;
                slot.flow.account(dir, len, ts_us);
            }
            None if !seg.payload.is_empty() => {
                feed(
                    &mut slot.flow,
                    &mut slot.progress,
                    cfg,
                    dir,
                    seg.payload,
                    ts_us,
                );
            }
            None => {}
        }
        if let Some(end) = end {
            self.close(i, end, emit);
        }
    }

    /// Whether an open flow must end before `seg` (which would start a new
    /// one): idle past its timeout, or a new SYN on the same 5-tuple.
    fn stale(&self, slot: &Slot, seg: &Segment<'_>, ts_us: u64) -> Option<End> {
        if ts_us.saturating_sub(slot.last_ts_us) > self.idle_limit(slot.key.tcp) {
            return Some(End::Idle);
        }
        match seg.tcp {
            Some(t) if t.syn && !t.ack => {
                let from_client = (seg.src, seg.sport) == slot.client;
                // The client's SYN again (a retransmission), or its first SYN
                // seen late (captures are not always in order: the SYN-ACK
                // may come first) continue the flow; any other SYN starts a
                // new connection on the same 5-tuple.
                let retransmitted = from_client && slot.client_isn == Some(t.seq);
                let late = from_client
                    && slot.client_isn.is_none()
                    && !slot.payload_seen
                    && slot.fin == [false, false];
                (!retransmitted && !late).then_some(End::Reused)
            }
            _ => None,
        }
    }

    fn open(&mut self, key: Key, seg: &Segment<'_>, ts_us: u64, file: usize) -> usize {
        let src = (seg.src, seg.sport);
        let dst = (seg.dst, seg.dport);
        let (client, server, start) = match seg.tcp {
            Some(t) if t.syn && !t.ack => (src, dst, FlowStart::Observed),
            // The SYN itself was missed, and with it any data it carried
            // (TCP Fast Open sends the ClientHello in the SYN).
            Some(t) if t.syn && t.ack => (dst, src, FlowStart::Midstream),
            Some(_) => (src, dst, FlowStart::Midstream),
            None => (src, dst, FlowStart::Observed),
        };
        let transport = if seg.tcp.is_some() {
            Transport::Tcp
        } else {
            Transport::Udp
        };
        let slot = Slot {
            key,
            client,
            server,
            start,
            flow: new_flow(transport, client, server, start, ts_us),
            reassembly: Default::default(),
            counting: [false; 2],
            client_isn: None,
            payload_seen: false,
            packets: [0; 2],
            gap_bytes: [0; 2],
            fin: [false; 2],
            acked: [None; 2],
            first_ts_us: ts_us,
            last_ts_us: ts_us,
            file,
            progress: Progress {
                keep_byte_counts: self.keep_byte_counts,
                ..Progress::default()
            },
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(slot);
                i
            }
            None => {
                self.slots.push(Some(slot));
                self.slots.len() - 1
            }
        };
        self.index.insert(key, i);
        self.stats.flows += 1;
        i
    }

    fn close(&mut self, i: usize, end: End, emit: &mut impl FnMut(FlowRecord)) {
        let Some(mut slot) = self.slots.get_mut(i).and_then(Option::take) else {
            return;
        };
        self.index.remove(&slot.key);
        self.free.push(i);
        let cfg = &self.cfg;
        let ts = slot.last_ts_us;
        for dir in [Direction::ToServer, Direction::ToClient] {
            if !slot.counting[dir as usize] {
                let Slot {
                    flow,
                    reassembly,
                    gap_bytes,
                    progress,
                    ..
                } = &mut slot;
                reassembly[dir as usize].flush(&mut |e| match e {
                    Event::Data(bytes) => {
                        feed(flow, progress, cfg, dir, bytes, ts);
                    }
                    Event::Gap(n) => {
                        gap_bytes[dir as usize] += n;
                        flow.gap(cfg, dir, n, ts);
                    }
                });
                // Bytes the other side acknowledged that the capture lacks
                // at the end of this direction are a gap, as Zeek infers
                // it: a completion may be in them (a FIN takes one number).
                let d = dir as usize;
                let missing = slot.acked[d].map_or(0, |ack| {
                    let beyond = slot.reassembly[d].acknowledged_beyond(ack);
                    beyond.saturating_sub(u64::from(slot.fin[d]))
                });
                if missing > 0 {
                    slot.gap_bytes[d] += missing;
                    slot.flow.gap(cfg, dir, missing, ts);
                }
            }
        }
        slot.flow.finish(cfg, ts);
        let verdict = slot.flow.verdict(cfg);
        let at_end = Decided {
            at_end: true,
            direction: verdict.evidence.high_entropy_direction,
            ..slot.progress.fed
        };
        let decided = slot
            .progress
            .decided
            .or((!verdict.alerts.is_empty()).then_some(at_end));
        let byte_counts = slot.progress.byte_counts.take();
        emit(FlowRecord {
            tcp: slot.key.tcp,
            client: slot.client,
            server: slot.server,
            verdict,
            decided,
            packets: slot.packets,
            gap_bytes: slot.gap_bytes,
            first_ts_us: slot.first_ts_us,
            last_ts_us: slot.last_ts_us,
            start: slot.start,
            file: slot.file,
            end,
            byte_counts,
        });
    }

    fn idle_limit(&self, tcp: bool) -> u64 {
        if tcp {
            self.limits.tcp_idle_us
        } else {
            self.limits.udp_idle_us
        }
    }

    /// Sweeps idle flows now and then: after at least a second of capture
    /// time and enough packets that the scan costs O(1) per packet.
    fn maybe_sweep(&mut self, emit: &mut impl FnMut(FlowRecord)) {
        self.packets_since_sweep += 1;
        let enough = (self.index.len() as u64 / 4).max(4096);
        if self.packets_since_sweep >= enough
            && self.now_us.saturating_sub(self.last_sweep_us) >= 1_000_000
        {
            self.expire(emit);
        }
    }

    /// Ends flows idle longer than their timeout.
    fn expire(&mut self, emit: &mut impl FnMut(FlowRecord)) {
        self.packets_since_sweep = 0;
        self.last_sweep_us = self.now_us;
        let now = self.now_us;
        let idle: Vec<usize> = (0..self.slots.len())
            .filter(|&i| {
                self.slots[i]
                    .as_ref()
                    .is_some_and(|s| now.saturating_sub(s.last_ts_us) > self.idle_limit(s.key.tcp))
            })
            .collect();
        self.stats.expired += idle.len() as u64;
        for i in idle {
            self.close(i, End::Idle, emit);
        }
    }

    /// At the flow limit: expire idle flows, else end the least recently
    /// active 1/64 of them (amortizing the scan).
    fn make_room(&mut self, emit: &mut impl FnMut(FlowRecord)) {
        self.expire(emit);
        if self.index.len() < self.limits.max_flows {
            return;
        }
        let mut by_age: Vec<(u64, usize)> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (s.last_ts_us, i)))
            .collect();
        let n = (by_age.len() / 64).max(1).min(by_age.len());
        if n == 0 {
            return;
        }
        by_age.select_nth_unstable(n - 1);
        by_age.truncate(n);
        by_age.sort_unstable();
        for &(_, i) in &by_age {
            self.close(i, End::Evicted, emit);
        }
        self.stats.evicted += n as u64;
    }

    /// Ends every open flow, oldest first.
    pub fn finish_all(&mut self, emit: &mut impl FnMut(FlowRecord)) {
        let mut open: Vec<(u64, usize)> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (s.first_ts_us, i)))
            .collect();
        open.sort_unstable();
        for (_, i) in open {
            self.close(i, End::Input, emit);
        }
    }
}

impl Slot {
    /// One TCP segment's payload in direction `dir`.
    fn tcp_payload(
        &mut self,
        cfg: &Config,
        dir: Direction,
        seq: u32,
        data: &[u8],
        missing: u64,
        ts_us: u64,
    ) {
        let d = dir as usize;
        if self.counting[d] {
            let new = self.reassembly[d].count(seq, data.len() as u64 + missing);
            if new > 0 {
                self.flow.account(dir, new, ts_us);
            }
            return;
        }
        let Slot {
            flow,
            reassembly,
            gap_bytes,
            progress,
            ..
        } = self;
        reassembly[d].segment(seq, data, missing, &mut |e| match e {
            Event::Data(bytes) => {
                feed(flow, progress, cfg, dir, bytes, ts_us);
            }
            Event::Gap(n) => {
                gap_bytes[d] += n;
                flow.gap(cfg, dir, n, ts_us);
            }
        });
        // A direction whose inspection ended is no longer reassembled (a
        // download's server side stops costing once its budget is full,
        // even while the client side is still inspected); what was waiting
        // is counted.
        for dir in [Direction::ToServer, Direction::ToClient] {
            let k = dir as usize;
            if !self.counting[k] && self.flow.is_dir_inspection_done(dir) {
                self.counting[k] = true;
                let held = self.reassembly[k].stop();
                if held > 0 {
                    self.flow.account(dir, held, ts_us);
                }
            }
        }
    }
}

/// The engine's state for a new flow, told the server's address (a
/// broadcast or multicast destination makes it an announcement).
fn new_flow(
    transport: Transport,
    client: (IpAddr, u16),
    server: (IpAddr, u16),
    start: FlowStart,
    ts_us: u64,
) -> Flow {
    let mut flow = Flow::new(transport, client.1, server.1, start, ts_us);
    match server.0 {
        IpAddr::V4(ip) => flow.note_address(&ip.octets()),
        IpAddr::V6(ip) => flow.note_address(&ip.octets()),
    }
    flow
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Tcp;
    use std::net::Ipv4Addr;

    const C: Endpoint = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 40000);
    const S: Endpoint = (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 443);

    fn flags(f: &str) -> (bool, bool, bool, bool) {
        (
            f.contains('S'),
            f.contains('A'),
            f.contains('F'),
            f.contains('R'),
        )
    }

    fn tcp<'a>(from: Endpoint, to: Endpoint, f: &str, seq: u32, payload: &'a [u8]) -> Segment<'a> {
        let (syn, ack, fin, rst) = flags(f);
        Segment {
            src: from.0,
            dst: to.0,
            sport: from.1,
            dport: to.1,
            tcp: Some(Tcp {
                seq,
                ack_seq: 0,
                syn,
                ack,
                fin,
                rst,
            }),
            payload,
            missing: 0,
        }
    }

    fn udp<'a>(from: Endpoint, to: Endpoint, payload: &'a [u8]) -> Segment<'a> {
        Segment {
            src: from.0,
            dst: to.0,
            sport: from.1,
            dport: to.1,
            tcp: None,
            payload,
            missing: 0,
        }
    }

    struct Run {
        table: Table,
        out: Vec<FlowRecord>,
    }

    impl Run {
        fn new(limits: Limits) -> Run {
            Run {
                table: Table::new(Config::default(), limits),
                out: Vec::new(),
            }
        }
        fn feed(&mut self, seg: Segment<'_>, ts: u64) {
            let out = &mut self.out;
            self.table.packet(&seg, ts, 0, &mut |r| out.push(r));
        }
        fn finish(mut self) -> Vec<FlowRecord> {
            let out = &mut self.out;
            self.table.finish_all(&mut |r| out.push(r));
            self.out
        }
    }

    fn handshake(run: &mut Run) {
        run.feed(tcp(C, S, "S", 100, b""), 1);
        run.feed(tcp(S, C, "SA", 900, b""), 2);
        run.feed(tcp(C, S, "A", 101, b""), 3);
    }

    #[test]
    fn syn_sender_is_the_client_and_fins_end_the_flow() {
        let mut run = Run::new(Limits::default());
        handshake(&mut run);
        run.feed(tcp(C, S, "A", 101, b"hello"), 4);
        run.feed(tcp(S, C, "A", 901, b"world!"), 5);
        run.feed(tcp(C, S, "FA", 106, b""), 6);
        assert!(run.out.is_empty());
        run.feed(tcp(S, C, "FA", 907, b""), 7);
        assert_eq!(run.out.len(), 1);
        let r = &run.out[0];
        assert_eq!((r.client, r.server, r.start), (C, S, FlowStart::Observed));
        assert_eq!(r.end, End::Fin);
        assert_eq!(r.verdict.dirs[0].bytes, 5);
        assert_eq!(r.verdict.dirs[1].bytes, 6);
        assert_eq!(r.packets, [4, 3]);
        assert_eq!((r.first_ts_us, r.last_ts_us), (1, 7));
        // The final ACK opens nothing.
        run.feed(tcp(C, S, "A", 107, b""), 8);
        assert!(run.table.is_empty());
        assert_eq!(run.finish().len(), 1);
    }

    #[test]
    fn syn_ack_first_makes_its_receiver_the_client() {
        let mut run = Run::new(Limits::default());
        run.feed(tcp(S, C, "SA", 900, b""), 1);
        run.feed(tcp(C, S, "A", 101, b"hi"), 2);
        let out = run.finish();
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].client, out[0].start), (C, FlowStart::Midstream));
        assert_eq!(out[0].verdict.dirs[0].bytes, 2);
    }

    #[test]
    fn syn_after_syn_ack_in_the_capture_is_the_same_flow() {
        let mut run = Run::new(Limits::default());
        run.feed(tcp(S, C, "SA", 900, b""), 2);
        run.feed(tcp(C, S, "S", 100, b""), 1);
        run.feed(tcp(C, S, "A", 101, b"hi"), 3);
        let out = run.finish();
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].client, out[0].start), (C, FlowStart::Observed));
        assert_eq!(out[0].first_ts_us, 1);
        assert_eq!(out[0].verdict.dirs[0].bytes, 2);
    }

    #[test]
    fn midstream_first_data_sender_is_the_client() {
        let mut run = Run::new(Limits::default());
        run.feed(tcp(S, C, "A", 5000, b""), 1); // stray ACK: no flow
        assert!(run.table.is_empty());
        run.feed(tcp(S, C, "A", 5000, b"data"), 2);
        run.feed(tcp(C, S, "A", 7000, b"more"), 3);
        let out = run.finish();
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].client, out[0].start), (S, FlowStart::Midstream));
        assert_eq!(out[0].end, End::Input);
    }

    #[test]
    fn rst_ends_the_flow_after_feeding_what_waits() {
        let mut run = Run::new(Limits::default());
        handshake(&mut run);
        run.feed(tcp(C, S, "A", 104, b"def"), 4); // waits behind a hole
        run.feed(tcp(C, S, "RA", 107, b""), 5);
        assert_eq!(run.out.len(), 1);
        let r = &run.out[0];
        assert_eq!(r.end, End::Rst);
        assert_eq!(r.gap_bytes, [3, 0]);
        assert_eq!(r.verdict.dirs[0].bytes, 3);
    }

    /// Bytes the server acknowledged that the capture lacks at the end of
    /// the client's stream are a gap (as Zeek infers it); an
    /// acknowledgment of the FIN is not.
    #[test]
    fn bytes_acknowledged_but_not_captured_are_a_gap() {
        let acking = |seq: u32, ack_seq: u32, f: &str| {
            let mut s = tcp(S, C, f, seq, b"");
            if let Some(t) = s.tcp.as_mut() {
                t.ack_seq = ack_seq;
            }
            s
        };
        let mut run = Run::new(Limits::default());
        handshake(&mut run);
        run.feed(tcp(C, S, "A", 101, b"hello"), 4);
        run.feed(acking(901, 113, "A"), 5); // 7 bytes after "hello" not captured
        run.feed(tcp(C, S, "FA", 113, b""), 6);
        run.feed(acking(901, 114, "FA"), 7);
        assert_eq!(run.out.len(), 1);
        assert_eq!(run.out[0].gap_bytes, [7, 0]);
        // All of it captured: the FIN's acknowledgment is no gap.
        let mut run = Run::new(Limits::default());
        handshake(&mut run);
        run.feed(tcp(C, S, "A", 101, b"hello"), 4);
        run.feed(tcp(C, S, "FA", 106, b""), 5);
        run.feed(acking(901, 107, "FA"), 6);
        assert_eq!(run.out[0].gap_bytes, [0, 0]);
    }

    #[test]
    fn reassembled_bytes_reach_the_engine_once() {
        let mut run = Run::new(Limits::default());
        handshake(&mut run);
        run.feed(tcp(C, S, "A", 104, b"def"), 4);
        run.feed(tcp(C, S, "A", 101, b"abc"), 5);
        run.feed(tcp(C, S, "A", 101, b"abc"), 6); // retransmission
        let out = run.finish();
        assert_eq!(out[0].verdict.dirs[0].bytes, 6);
        assert_eq!(out[0].gap_bytes, [0, 0]);
    }

    #[test]
    fn a_new_syn_on_the_same_tuple_starts_a_new_flow() {
        let mut run = Run::new(Limits::default());
        handshake(&mut run);
        run.feed(tcp(C, S, "S", 100, b""), 4); // retransmitted SYN: same flow
        assert!(run.out.is_empty());
        run.feed(tcp(C, S, "A", 101, b"one"), 5);
        run.feed(tcp(C, S, "S", 77_000, b""), 6);
        assert_eq!(run.out.len(), 1);
        assert_eq!(run.out[0].end, End::Reused);
        run.feed(tcp(C, S, "A", 77_001, b"two!"), 7);
        let out = run.finish();
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].verdict.dirs[0].bytes, 4);
        assert_eq!(out[1].start, FlowStart::Observed);
    }

    #[test]
    fn udp_first_sender_is_the_client_and_idle_flows_end() {
        let limits = Limits {
            udp_idle_us: 1_000_000,
            ..Limits::default()
        };
        let mut run = Run::new(limits);
        run.feed(udp(C, S, b"query"), 10);
        run.feed(udp(S, C, b"answer"), 20);
        // Same tuple after the idle timeout: a new flow.
        run.feed(udp(S, C, b"late"), 5_000_000);
        assert_eq!(run.out.len(), 1);
        let r = &run.out[0];
        assert_eq!(
            (r.client, r.start, r.end),
            (C, FlowStart::Observed, End::Idle)
        );
        assert_eq!(r.packets, [1, 1]);
        let out = run.finish();
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].client, S);
    }

    #[test]
    fn sweep_ends_idle_flows_while_reading() {
        let limits = Limits {
            udp_idle_us: 1_000_000,
            ..Limits::default()
        };
        let mut run = Run::new(limits);
        run.feed(udp(C, S, b"x"), 0);
        let other: Endpoint = (IpAddr::V4(Ipv4Addr::new(10, 9, 9, 9)), 53);
        for k in 0..5000u64 {
            run.feed(udp(other, S, b"y"), 2_000_000 + k);
        }
        assert_eq!(run.out.len(), 1, "the idle flow was swept");
        assert_eq!(run.out[0].end, End::Idle);
        assert_eq!(run.table.len(), 1);
    }

    #[test]
    fn flow_limit_evicts_the_least_recently_active() {
        let limits = Limits {
            max_flows: 3,
            ..Limits::default()
        };
        let mut run = Run::new(limits);
        for port in 1..=3u16 {
            run.feed(udp((C.0, port), S, b"x"), u64::from(port));
        }
        run.feed(udp((C.0, 1), S, b"x"), 10); // port 1 is active again
        run.feed(udp((C.0, 4), S, b"x"), 11);
        assert_eq!(run.out.len(), 1);
        assert_eq!(run.out[0].client.1, 2);
        assert_eq!(run.out[0].end, End::Evicted);
        assert_eq!(run.table.len(), 3);
        assert_eq!(run.table.stats.evicted, 1);
        assert_eq!(run.finish().len(), 4);
    }

    #[test]
    fn decided_flows_are_counted_not_reassembled() {
        let mut run = Run::new(Limits::default());
        handshake(&mut run);
        let budget = run.table.config().inspect_budget as usize;
        let noise: Vec<u8> = (0..budget * 2)
            .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_be_bytes()[0])
            .collect();
        let mut seq = 101u32;
        let mut server_seq = 901u32;
        for chunk in noise.chunks(1000) {
            run.feed(tcp(C, S, "A", seq, chunk), 4);
            run.feed(tcp(S, C, "A", server_seq, chunk), 4);
            seq = seq.wrapping_add(chunk.len() as u32);
            server_seq = server_seq.wrapping_add(chunk.len() as u32);
        }
        let i = run.table.index[&Key::new(C, S, true)];
        let slot = run.table.slots[i].as_ref().unwrap();
        assert!(slot.flow.is_inspection_done() && slot.counting == [true, true]);
        // A retransmission is not counted twice; new bytes are.
        run.feed(tcp(C, S, "A", 101, &noise[..1000]), 5);
        run.feed(tcp(C, S, "A", seq, b"tail"), 6);
        let out = run.finish();
        assert_eq!(out[0].verdict.dirs[0].bytes, noise.len() as u64 + 4);
    }

    #[test]
    fn a_direction_done_stops_reassembling_while_the_other_goes_on() {
        let mut run = Run::new(Limits::default());
        handshake(&mut run);
        let budget = run.table.config().inspect_budget as usize;
        let noise: Vec<u8> = (0..budget * 2)
            .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_be_bytes()[0])
            .collect();
        // The server sends a download; the client only a few bytes (no
        // protocol the engine would explain).
        run.feed(tcp(C, S, "A", 101, b"abc"), 3);
        let mut server_seq = 901u32;
        for chunk in noise.chunks(1000) {
            run.feed(tcp(S, C, "A", server_seq, chunk), 4);
            server_seq = server_seq.wrapping_add(chunk.len() as u32);
        }
        let i = run.table.index[&Key::new(C, S, true)];
        let slot = run.table.slots[i].as_ref().unwrap();
        assert!(!slot.flow.is_inspection_done());
        assert_eq!(slot.counting, [false, true]);
        // The client side is still inspected; the server side only counted.
        run.feed(tcp(C, S, "A", 104, b"defghijklmn"), 5);
        run.feed(tcp(S, C, "A", server_seq, b"tail"), 6);
        let out = run.finish();
        assert_eq!(out[0].verdict.dirs[0].inspected, 14);
        assert_eq!(out[0].verdict.dirs[1].bytes, noise.len() as u64 + 4);
        assert_eq!(out[0].verdict.dirs[1].inspected as usize, budget);
    }

    #[test]
    fn byte_counts_cover_each_directions_window_only_when_kept() {
        let mut run = Run::new(Limits::default());
        run.feed(udp(C, S, b"aab"), 1);
        assert!(run.finish()[0].byte_counts.is_none());
        let mut run = Run::new(Limits::default());
        run.table.keep_byte_counts(true);
        let budget = run.table.config().inspect_budget as usize;
        run.feed(udp(C, S, b"aab"), 1);
        run.feed(udp(S, C, &vec![7u8; budget + 100]), 2);
        let out = run.finish();
        let counts = out[0].byte_counts.as_ref().unwrap();
        assert_eq!(
            (
                counts.counts[0][b'a' as usize],
                counts.counts[0][b'b' as usize]
            ),
            (2, 1)
        );
        assert_eq!(counts.total, [3, budget as u32]);
        assert_eq!(counts.counts[1][7] as usize, budget);
    }

    #[test]
    fn snap_length_cut_datagrams_are_counted_only() {
        let mut run = Run::new(Limits::default());
        let mut seg = udp(C, S, b"abc");
        seg.missing = 10;
        run.feed(seg, 1);
        let out = run.finish();
        assert_eq!(out[0].verdict.dirs[0].bytes, 13);
        assert_eq!(out[0].verdict.dirs[0].inspected, 0);
    }
}
