//! The flow table: which packets belong together, who the client is, TCP
//! reassembly per direction, timeouts and eviction. The engine state of each
//! flow is stored inline (`encchan_core::Flow`, 256 bytes): memory is
//! flows × a fixed size.

use crate::decode::Segment;
use crate::reassembly::{Event, Reassembler};
use encchan_core::{Config, Direction, Flow, FlowStart, Transport, Verdict};
use std::collections::HashMap;
use std::net::IpAddr;

type Endpoint = (IpAddr, u16);

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
    pub first_ts_us: u64,
    pub last_ts_us: u64,
    pub start: FlowStart,
    /// Index of the capture file the flow started in.
    pub file: usize,
}

struct Slot {
    key: Key,
    client: Endpoint,
    server: Endpoint,
    start: FlowStart,
    flow: Flow,
    reassembly: [Reassembler; 2],
    packets: [u64; 2],
    gap_bytes: [u64; 2],
    fin: [bool; 2],
    first_ts_us: u64,
    last_ts_us: u64,
    file: usize,
}

/// Limits of the table.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub tcp_idle_us: u64,
    pub udp_idle_us: u64,
    pub max_flows: usize,
}

/// Counters for the summary line.
#[derive(Clone, Copy, Debug, Default)]
pub struct TableStats {
    pub flows: u64,
    pub evicted: u64,
    pub expired: u64,
}

pub struct Table {
    cfg: Config,
    limits: Limits,
    index: HashMap<Key, usize>,
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    packets_seen: u64,
    now_us: u64,
    pub stats: TableStats,
}

const SWEEP_EVERY: u64 = 1 << 16;

impl Table {
    pub fn new(cfg: Config, limits: Limits) -> Table {
        Table {
            cfg,
            limits,
            index: HashMap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            packets_seen: 0,
            now_us: 0,
            stats: TableStats::default(),
        }
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

    /// Takes one decoded segment; finished flows go to `emit`.
    pub fn packet(
        &mut self,
        seg: &Segment<'_>,
        ts_us: u64,
        file: usize,
        emit: &mut impl FnMut(FlowRecord),
    ) {
        self.now_us = self.now_us.max(ts_us);
        self.packets_seen += 1;
        if self.packets_seen % SWEEP_EVERY == 0 {
            self.expire(emit);
        }
        let src = (seg.src, seg.sport);
        let dst = (seg.dst, seg.dport);
        let key = Key::new(src, dst, seg.tcp.is_some());
        let slot_index = match self.index.get(&key) {
            Some(&i) => i,
            // A TCP packet with neither SYN nor payload (the last ACKs of a
            // flow already closed) does not open a flow.
            None if seg.tcp.is_some_and(|t| !t.syn) && seg.payload.is_empty() => return,
            None => {
                if self.index.len() >= self.limits.max_flows {
                    self.make_room(emit);
                }
                self.open(key, seg, ts_us, file)
            }
        };
        let Some(slot) = self.slots[slot_index].as_mut() else {
            return;
        };
        let dir = if src == slot.client {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        let d = dir as usize;
        slot.packets[d] += 1;
        slot.last_ts_us = slot.last_ts_us.max(ts_us);
        let cfg = &self.cfg;
        let mut close = false;
        match seg.tcp {
            Some(tcp) => {
                if tcp.syn {
                    slot.reassembly[d].set_isn(tcp.seq);
                }
                if !seg.payload.is_empty() {
                    if slot.flow.is_decided() {
                        // Early verdict: count, do not reassemble.
                        slot.flow.account(dir, seg.payload.len() as u64, ts_us);
                    } else {
                        let Slot {
                            flow,
                            reassembly,
                            gap_bytes,
                            ..
                        } = slot;
                        // Data in a SYN (TCP Fast Open) starts after the
                        // sequence number the SYN consumes.
                        let seq = if tcp.syn {
                            tcp.seq.wrapping_add(1)
                        } else {
                            tcp.seq
                        };
                        reassembly[d].segment(seq, seg.payload, &mut |e| match e {
                            Event::Data(bytes) => flow.feed(cfg, dir, bytes, ts_us),
                            Event::Gap(n) => {
                                gap_bytes[d] += n;
                                flow.gap(cfg, dir, n, ts_us);
                            }
                        });
                    }
                }
                slot.fin[d] |= tcp.fin;
                close = tcp.rst || (slot.fin[0] && slot.fin[1]);
            }
            None => slot.flow.feed(cfg, dir, seg.payload, ts_us),
        }
        if close {
            self.close(slot_index, emit);
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
            flow: Flow::new(transport, client.1, server.1, start, ts_us),
            reassembly: Default::default(),
            packets: [0; 2],
            gap_bytes: [0; 2],
            fin: [false; 2],
            first_ts_us: ts_us,
            last_ts_us: ts_us,
            file,
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

    fn close(&mut self, i: usize, emit: &mut impl FnMut(FlowRecord)) {
        let Some(mut slot) = self.slots[i].take() else {
            return;
        };
        self.index.remove(&slot.key);
        self.free.push(i);
        let cfg = &self.cfg;
        let ts = slot.last_ts_us;
        for d in [Direction::ToServer, Direction::ToClient] {
            let Slot {
                flow,
                reassembly,
                gap_bytes,
                ..
            } = &mut slot;
            reassembly[d as usize].flush(&mut |e| match e {
                Event::Data(bytes) => flow.feed(cfg, d, bytes, ts),
                Event::Gap(n) => {
                    gap_bytes[d as usize] += n;
                    flow.gap(cfg, d, n, ts);
                }
            });
        }
        slot.flow.finish(cfg, ts);
        emit(FlowRecord {
            tcp: slot.key.tcp,
            client: slot.client,
            server: slot.server,
            verdict: slot.flow.verdict(cfg),
            packets: slot.packets,
            gap_bytes: slot.gap_bytes,
            first_ts_us: slot.first_ts_us,
            last_ts_us: slot.last_ts_us,
            start: slot.start,
            file: slot.file,
        });
    }

    fn idle_limit(&self, tcp: bool) -> u64 {
        if tcp {
            self.limits.tcp_idle_us
        } else {
            self.limits.udp_idle_us
        }
    }

    /// Ends flows idle longer than their timeout.
    fn expire(&mut self, emit: &mut impl FnMut(FlowRecord)) {
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
            self.close(i, emit);
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
        let n = (by_age.len() / 64).max(1);
        by_age.select_nth_unstable(n - 1);
        for &(_, i) in &by_age[..n] {
            self.close(i, emit);
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
            self.close(i, emit);
        }
    }
}
