//! Builds seed corpora for the fuzz targets from real captures, so the
//! fuzzers start from real TLS, SSH, QUIC, DNS, … bytes instead of nothing.
//!
//!   cargo run --release -p encchan-cli --example fuzz_seeds -- tests/corpus/pcaps ../shared/captures
//!
//! Writes fuzz/corpus/<target>/ (git-ignored): capture files themselves for
//! `pcap_reader`; per flow, its payloads in the `flow_feed` record format,
//! its two directions for `chunking_invariance`, the first bytes of each
//! direction for `format_detect`, and each TCP direction cut into segments
//! for `reassembly`.

use encchan_cli::{decode, pcap};
use std::collections::HashMap;
use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

type Key = (IpAddr, u16, IpAddr, u16, bool);

#[derive(Default)]
struct FlowBytes {
    server_port: u16,
    udp: bool,
    /// (direction, payload) in arrival order.
    payloads: Vec<(u8, Vec<u8>)>,
}

fn captures(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            captures(&p, out);
        } else if matches!(
            p.extension().and_then(|x| x.to_str()),
            Some("pcap" | "pcapng" | "trace")
        ) {
            out.push(p);
        }
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    if !bytes.is_empty() {
        let _ = fs::write(dir.join(name), bytes);
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    let targets = [
        "pcap_reader",
        "flow_feed",
        "chunking_invariance",
        "format_detect",
        "reassembly",
    ];
    for t in targets {
        fs::create_dir_all(root.join(t)).expect("corpus directory");
    }
    let mut files = Vec::new();
    for arg in std::env::args().skip(1) {
        captures(Path::new(&arg), &mut files);
    }
    files.sort();
    let (mut flows_written, mut files_read) = (0usize, 0usize);
    for (fi, path) in files.iter().enumerate() {
        let Ok(bytes) = fs::read(path) else { continue };
        if bytes.len() <= 256 * 1024 {
            write(&root.join("pcap_reader"), &format!("cap{fi}"), &bytes);
        }
        let mut flows: HashMap<Key, FlowBytes> = HashMap::new();
        let _ = pcap::read(path, |p| {
            let Ok(seg) = decode::decode(p.linktype, p.data) else {
                return;
            };
            if seg.payload.is_empty() {
                return;
            }
            let udp = seg.tcp.is_none();
            let fwd = (seg.src, seg.sport, seg.dst, seg.dport, udp);
            let rev = (seg.dst, seg.dport, seg.src, seg.sport, udp);
            let (key, dir) = if flows.contains_key(&rev) {
                (rev, 1)
            } else {
                (fwd, 0)
            };
            let f = flows.entry(key).or_insert_with(|| FlowBytes {
                server_port: seg.dport,
                udp,
                ..Default::default()
            });
            if f.payloads.len() < 64 {
                f.payloads
                    .push((dir, seg.payload[..seg.payload.len().min(8192)].to_vec()));
            }
        });
        files_read += 1;
        for (n, f) in flows.values().enumerate() {
            let name = format!("cap{fi}-flow{n}");
            // flow_feed: [transport|start][server port][ctl len payload]...
            let mut feed = vec![
                u8::from(f.udp),
                (f.server_port >> 8) as u8,
                f.server_port as u8,
            ];
            let mut dirs: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
            for (dir, p) in &f.payloads {
                let len = p.len().min(u16::MAX as usize);
                feed.push(*dir | 0b100);
                feed.extend_from_slice(&(len as u16).to_be_bytes());
                feed.extend_from_slice(&p[..len]);
                dirs[*dir as usize].extend_from_slice(p);
            }
            write(&root.join("flow_feed"), &name, &feed);
            for d in &mut dirs {
                d.truncate(4096);
            }
            // chunking_invariance: [step][client length][client][server]
            let mut chunk = vec![7, (dirs[0].len() >> 8) as u8, dirs[0].len() as u8];
            chunk.extend_from_slice(&dirs[0]);
            chunk.extend_from_slice(&dirs[1]);
            write(&root.join("chunking_invariance"), &name, &chunk);
            for (d, bytes) in dirs.iter().enumerate() {
                write(
                    &root.join("format_detect"),
                    &format!("{name}-{d}"),
                    &bytes[..bytes.len().min(512)],
                );
                if !f.udp && bytes.len() >= 24 {
                    // reassembly: a third plan (ISN, then segment controls), two thirds stream.
                    let stream = &bytes[..bytes.len().min(2048)];
                    let mut plan = vec![0x10, 0x20, 0x30, 0x40];
                    plan.extend((0..stream.len() / 2 - 4).map(|i| (i as u8).wrapping_mul(37)));
                    plan.extend_from_slice(stream);
                    write(&root.join("reassembly"), &format!("{name}-{d}"), &plan);
                }
            }
            flows_written += 1;
        }
    }
    eprintln!(
        "seeds: {files_read} captures, {flows_written} flows -> {}",
        root.display()
    );
}
