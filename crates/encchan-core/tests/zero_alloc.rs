//! Proves that the engine allocates nothing on the per-packet path: every
//! capture under `tests/` and `../shared/captures` is decoded first (which may
//! allocate), then every payload goes through `Flow::feed`, and every flow
//! through `finish` and `verdict`, while a counting global allocator is armed
//! for this thread. The count must be zero.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use encchan_core::{Config, Direction, Flow, FlowStart, Transport};
use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use pcap_parser::{create_reader, Linktype, PcapBlockOwned, PcapError};

struct Counting;

// Per thread, so that tests running in parallel do not count each other.
thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    let _ = ARMED.try_with(|armed| {
        if armed.get() {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
    });
}

fn allocations() -> u64 {
    ALLOCATIONS.with(|n| n.get())
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

struct Packet {
    flow: usize,
    dir: Direction,
    ts_us: u64,
    payload: Vec<u8>,
}

fn captures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut out = Vec::new();
    let mut stack = vec![root.join("tests"), root.join("../shared/captures")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("pcap" | "pcapng" | "cap")
            ) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

type Key = (Vec<u8>, u16, Vec<u8>, u16, bool);

/// Decodes `path` into payload-carrying packets, assigning flows (the first
/// sender of a flow is its client).
fn decode(
    path: &Path,
    flows: &mut Vec<Flow>,
    index: &mut HashMap<Key, usize>,
    packets: &mut Vec<Packet>,
) {
    let Ok(file) = std::fs::File::open(path) else {
        return;
    };
    let Ok(mut reader) = create_reader(1 << 20, file) else {
        return;
    };
    let mut linktypes: Vec<Linktype> = Vec::new();
    let mut legacy = Linktype::ETHERNET;
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                let (linktype, data, ts_us) = match block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        legacy = h.network;
                        (None, &[][..], 0)
                    }
                    PcapBlockOwned::Legacy(b) => (
                        Some(legacy),
                        b.data,
                        b.ts_sec as u64 * 1_000_000 + b.ts_usec as u64,
                    ),
                    PcapBlockOwned::NG(pcap_parser::Block::InterfaceDescription(idb)) => {
                        linktypes.push(idb.linktype);
                        (None, &[][..], 0)
                    }
                    PcapBlockOwned::NG(pcap_parser::Block::EnhancedPacket(epb)) => {
                        let lt = linktypes.get(epb.if_id as usize).copied();
                        (
                            lt,
                            epb.data,
                            ((epb.ts_high as u64) << 32 | epb.ts_low as u64),
                        )
                    }
                    _ => (None, &[][..], 0),
                };
                if let Some(lt) = linktype {
                    add_packet(lt, data, ts_us, flows, index, packets);
                }
                reader.consume(offset);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => {
                if reader.refill().is_err() {
                    break;
                }
            }
            Err(_) => break,
        }
    }
}

fn add_packet(
    linktype: Linktype,
    data: &[u8],
    ts_us: u64,
    flows: &mut Vec<Flow>,
    index: &mut HashMap<Key, usize>,
    packets: &mut Vec<Packet>,
) {
    let sliced = match linktype {
        Linktype::ETHERNET => SlicedPacket::from_ethernet(data),
        Linktype::LINUX_SLL => SlicedPacket::from_linux_sll(data),
        Linktype::NULL | Linktype::LOOP if data.len() > 4 => SlicedPacket::from_ip(&data[4..]),
        Linktype::RAW | Linktype::IPV4 | Linktype::IPV6 => SlicedPacket::from_ip(data),
        Linktype(12) | Linktype(14) => SlicedPacket::from_ip(data),
        _ => return,
    };
    let Ok(p) = sliced else { return };
    let (src, dst) = match &p.net {
        Some(NetSlice::Ipv4(v4)) => (
            v4.header().source().to_vec(),
            v4.header().destination().to_vec(),
        ),
        Some(NetSlice::Ipv6(v6)) => (
            v6.header().source().to_vec(),
            v6.header().destination().to_vec(),
        ),
        _ => return,
    };
    let (tcp, sport, dport, payload) = match &p.transport {
        Some(TransportSlice::Tcp(t)) => (true, t.source_port(), t.destination_port(), t.payload()),
        Some(TransportSlice::Udp(u)) => (false, u.source_port(), u.destination_port(), u.payload()),
        _ => return,
    };
    let forward: Key = (src.clone(), sport, dst.clone(), dport, tcp);
    let backward: Key = (dst, dport, src, sport, tcp);
    let (flow, dir) = if let Some(&f) = index.get(&forward) {
        (f, Direction::ToServer)
    } else if let Some(&f) = index.get(&backward) {
        (f, Direction::ToClient)
    } else {
        let transport = if tcp { Transport::Tcp } else { Transport::Udp };
        flows.push(Flow::new(
            transport,
            sport,
            dport,
            FlowStart::Observed,
            ts_us,
        ));
        index.insert(forward, flows.len() - 1);
        (flows.len() - 1, Direction::ToServer)
    };
    if !payload.is_empty() {
        packets.push(Packet {
            flow,
            dir,
            ts_us,
            payload: payload.to_vec(),
        });
    }
}

#[test]
fn engine_allocates_nothing_on_real_captures() {
    let files = captures();
    if files.is_empty() {
        eprintln!("SKIP engine_allocates_nothing_on_real_captures: no captures under tests/ or ../shared/captures");
        return;
    }
    let cfg = Config::default();
    let mut flows = Vec::new();
    let mut index = HashMap::new();
    let mut packets = Vec::new();
    for f in &files {
        index.clear();
        decode(f, &mut flows, &mut index, &mut packets);
    }
    let mut verdicts_with_alerts = 0usize;
    let mut bytes = 0u64;

    ARMED.with(|a| a.set(true));
    for p in &packets {
        flows[p.flow].feed(&cfg, p.dir, &p.payload, p.ts_us);
        bytes += p.payload.len() as u64;
    }
    for f in flows.iter_mut() {
        f.finish(&cfg, u64::MAX / 2);
        if !f.verdict(&cfg).alerts.is_empty() {
            verdicts_with_alerts += 1;
        }
    }
    ARMED.with(|a| a.set(false));

    let allocations = allocations();
    eprintln!(
        "{} captures, {} flows, {} payload packets, {} bytes, {} flows with alerts, {} allocations",
        files.len(),
        flows.len(),
        packets.len(),
        bytes,
        verdicts_with_alerts,
        allocations
    );
    assert!(
        packets.len() > 1000,
        "too few packets decoded: {}",
        packets.len()
    );
    assert_eq!(
        allocations, 0,
        "the engine allocated on the per-packet path"
    );
}

#[test]
fn the_counter_counts() {
    // Guard against a counter that cannot fail.
    let before = allocations();
    ARMED.with(|a| a.set(true));
    let v = std::hint::black_box(vec![1u8; 64]);
    ARMED.with(|a| a.set(false));
    drop(v);
    assert!(allocations() > before);
}
