//! Builds a large mixed capture from real ones, for the macro benchmarks.
//!
//! ```text
//! mkcapture --out big.pcap --size-mib 1024 [--seed 1] [--symmetric-share 0.015] INPUT...
//! mkcapture --out flood.pcap --flood 1000000
//! ```
//!
//! INPUTs are capture files or directories (searched recursively). Every
//! TCP/UDP flow of them becomes a template; the output replays templates
//! over and over, each replica with its own client address (10.0.0.0/8 or
//! fd00::/16), server addresses and ports kept, so flows stay distinct and
//! port profiles stay meaningful. Headers are rewritten in place (sequence
//! and acknowledgment numbers untouched, so reassembly behaves as in the
//! original) and checksums recomputed; every frame is written as Ethernet.
//!
//! The mix leans on what sensors mostly see: templates to ports 443, 80,
//! 8080, 8443 and 53 weigh four times the others; templates from the
//! labeled corpus's symmetric-only captures (`symmetric_only` in
//! `tests/corpus/labels.csv` next to an input) make `--symmetric-share` of
//! the flows. Replicas start spread over 60-second windows of 50 000 flows;
//! gaps inside a template are capped at one second and a template at 200
//! packets, so windows stay short and memory bounded.
//!
//! `--flood N` writes N concurrent TCP flows (handshake, 64 bytes of data
//! and its acknowledgment each, never closed) instead: the flow-table scale
//! test.

use encchan_cli::pcap;
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const MAX_PACKETS_PER_TEMPLATE: usize = 200;
const MAX_GAP_US: u64 = 1_000_000;
const WINDOW_FLOWS: usize = 50_000;
const WINDOW_US: u64 = 60_000_000;

/// One packet of a template: its IP bytes and where its L4 header starts.
struct TPacket {
    rel_us: u64,
    from_client: bool,
    ip: Vec<u8>,
    l4: usize,
}

struct Template {
    packets: Vec<TPacket>,
    weight: u32,
    symmetric: bool,
}

/// xorshift64*: reproducible without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The IP bytes of a frame and the L4 offset in them, for plain TCP/UDP
/// over IPv4/IPv6 (no fragments, no tunnels, no IPv6 extension headers).
fn ip_of(linktype: i32, frame: &[u8]) -> Option<(&[u8], usize, u8)> {
    let mut at = match linktype {
        1 => 14,
        0 | 108 => 4,
        101 | 12 | 14 | 228 | 229 => 0,
        113 => 16,
        276 => 20,
        _ => return None,
    };
    if linktype == 1 {
        let mut ethertype = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
        while ethertype == 0x8100 || ethertype == 0x88a8 {
            ethertype = u16::from_be_bytes([*frame.get(at + 2)?, *frame.get(at + 3)?]);
            at += 4;
        }
        if ethertype != 0x0800 && ethertype != 0x86dd {
            return None;
        }
    }
    let ip = frame.get(at..)?;
    match ip.first()? >> 4 {
        4 => {
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            let frag = u16::from_be_bytes([*ip.get(6)?, *ip.get(7)?]);
            let proto = *ip.get(9)?;
            if ihl < 20 || frag & 0x3fff != 0 || !(proto == 6 || proto == 17) || ip.len() < ihl + 8
            {
                return None;
            }
            Some((ip, ihl, proto))
        }
        6 => {
            let proto = *ip.get(6)?;
            if !(proto == 6 || proto == 17) || ip.len() < 48 {
                return None;
            }
            Some((ip, 40, proto))
        }
        _ => None,
    }
}

fn endpoints(ip: &[u8], l4: usize) -> (IpAddr, u16, IpAddr, u16) {
    let (src, dst) = if ip[0] >> 4 == 4 {
        let s: [u8; 4] = ip[12..16].try_into().unwrap();
        let d: [u8; 4] = ip[16..20].try_into().unwrap();
        (IpAddr::from(s), IpAddr::from(d))
    } else {
        let s: [u8; 16] = ip[8..24].try_into().unwrap();
        let d: [u8; 16] = ip[24..40].try_into().unwrap();
        (IpAddr::from(s), IpAddr::from(d))
    };
    let sp = u16::from_be_bytes([ip[l4], ip[l4 + 1]]);
    let dp = u16::from_be_bytes([ip[l4 + 2], ip[l4 + 3]]);
    (src, sp, dst, dp)
}

fn captures(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<_> = fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for p in entries {
            captures(&p, out);
        }
    } else if matches!(
        path.extension().and_then(|x| x.to_str()),
        Some("pcap" | "pcapng" | "trace")
    ) {
        out.push(path.to_path_buf());
    }
}

/// Capture file names the labeled corpus calls symmetric-only.
fn symmetric_names(inputs: &[PathBuf]) -> Vec<String> {
    let mut names = Vec::new();
    for input in inputs {
        for dir in [input.as_path(), input.parent().unwrap_or(input)] {
            let Ok(text) = fs::read_to_string(dir.join("labels.csv")) else {
                continue;
            };
            for line in text.lines().skip(1) {
                let cols: Vec<&str> = line.split(',').collect();
                if cols.len() > 3 && cols[3] == "symmetric_only" {
                    names.push(cols[0].to_string());
                }
            }
        }
    }
    names
}

fn load_templates(inputs: &[PathBuf]) -> Vec<Template> {
    let symmetric = symmetric_names(inputs);
    let mut files = Vec::new();
    for i in inputs {
        captures(i, &mut files);
    }
    let mut templates = Vec::new();
    for file in &files {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        let is_symmetric = symmetric.contains(&name);
        let mut flows: HashMap<(IpAddr, u16, IpAddr, u16, u8), usize> = HashMap::new();
        let mut local: Vec<(Template, (IpAddr, u16), u64, u64)> = Vec::new();
        let _ = pcap::read(file, |p| {
            let Some((ip, l4, proto)) = ip_of(p.linktype.0, p.data) else {
                return;
            };
            let (src, sp, dst, dp) = endpoints(ip, l4);
            let fwd = (src, sp, dst, dp, proto);
            let rev = (dst, dp, src, sp, proto);
            let idx = match (flows.get(&fwd), flows.get(&rev)) {
                (Some(&i), _) | (_, Some(&i)) => i,
                _ => {
                    let port_weight = if matches!(dp, 443 | 80 | 8080 | 8443 | 53) {
                        4
                    } else {
                        1
                    };
                    local.push((
                        Template {
                            packets: Vec::new(),
                            weight: port_weight,
                            symmetric: is_symmetric,
                        },
                        (src, sp),
                        p.ts_us,
                        0,
                    ));
                    flows.insert(fwd, local.len() - 1);
                    local.len() - 1
                }
            };
            let (t, client, last_ts, rel) = &mut local[idx];
            if t.packets.len() >= MAX_PACKETS_PER_TEMPLATE {
                return;
            }
            // Gaps capped, reordering kept as simultaneity.
            *rel += p.ts_us.saturating_sub(*last_ts).min(MAX_GAP_US);
            *last_ts = p.ts_us.max(*last_ts);
            t.packets.push(TPacket {
                rel_us: *rel,
                from_client: (src, sp) == *client,
                ip: ip.to_vec(),
                l4,
            });
        });
        templates.extend(local.into_iter().map(|(t, ..)| t));
    }
    templates
}

fn checksum_fold(mut sum: u64) -> u16 {
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn sum16(bytes: &[u8]) -> u64 {
    let mut s = 0u64;
    let mut chunks = bytes.chunks_exact(2);
    for c in &mut chunks {
        s += u64::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        s += u64::from(*last) << 8;
    }
    s
}

/// Rewrites the client address of a template packet for replica `r` and
/// fixes the checksums. Returns the frame (Ethernet + IP).
fn frame(p: &TPacket, r: u32, out: &mut Vec<u8>) {
    out.clear();
    let v4 = p.ip[0] >> 4 == 4;
    out.extend_from_slice(&[0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1]);
    out.extend_from_slice(if v4 { &[0x08, 0x00] } else { &[0x86, 0xdd] });
    let ip_at = out.len();
    out.extend_from_slice(&p.ip);
    let ip = &mut out[ip_at..];
    let client_at = match (v4, p.from_client) {
        (true, true) => 12,
        (true, false) => 16,
        (false, true) => 8,
        (false, false) => 24,
    };
    if v4 {
        ip[client_at..client_at + 4]
            .copy_from_slice(&(0x0a00_0000 | (r & 0x00ff_ffff)).to_be_bytes());
        ip[10] = 0;
        ip[11] = 0;
        let c = checksum_fold(sum16(&ip[..p.l4]));
        ip[10..12].copy_from_slice(&c.to_be_bytes());
    } else {
        let mut a = [0u8; 16];
        a[0] = 0xfd;
        a[12..].copy_from_slice(&r.to_be_bytes());
        ip[client_at..client_at + 16].copy_from_slice(&a);
    }
    // L4 checksum over the pseudo header, when the whole segment is there.
    let proto = if v4 { ip[9] } else { ip[6] };
    let l4_len = if v4 {
        usize::from(u16::from_be_bytes([ip[2], ip[3]])).saturating_sub(p.l4)
    } else {
        usize::from(u16::from_be_bytes([ip[4], ip[5]]))
    };
    let ck_at = p.l4 + if proto == 6 { 16 } else { 6 };
    if ip.len() < ck_at + 2 {
        return;
    }
    if l4_len == 0 || p.l4 + l4_len > ip.len() {
        // Cut by the snap length: no correct checksum is possible.
        if proto == 17 && v4 {
            ip[ck_at] = 0;
            ip[ck_at + 1] = 0;
        }
        return;
    }
    ip[ck_at] = 0;
    ip[ck_at + 1] = 0;
    let mut s = if v4 {
        sum16(&ip[12..20])
    } else {
        sum16(&ip[8..40])
    };
    s += u64::from(proto) + l4_len as u64;
    s += sum16(&ip[p.l4..p.l4 + l4_len]);
    let mut c = checksum_fold(s);
    if proto == 17 && c == 0 {
        c = 0xffff;
    }
    ip[ck_at..ck_at + 2].copy_from_slice(&c.to_be_bytes());
}

struct PcapOut {
    w: BufWriter<File>,
    bytes: u64,
    packets: u64,
}

impl PcapOut {
    fn create(path: &Path) -> std::io::Result<Self> {
        let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
        w.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
        w.write_all(&2u16.to_le_bytes())?;
        w.write_all(&4u16.to_le_bytes())?;
        w.write_all(&0i32.to_le_bytes())?;
        w.write_all(&0u32.to_le_bytes())?;
        w.write_all(&262_144u32.to_le_bytes())?;
        w.write_all(&1u32.to_le_bytes())?;
        Ok(Self {
            w,
            bytes: 24,
            packets: 0,
        })
    }
    fn packet(&mut self, ts_us: u64, data: &[u8]) -> std::io::Result<()> {
        self.w
            .write_all(&((ts_us / 1_000_000) as u32).to_le_bytes())?;
        self.w
            .write_all(&((ts_us % 1_000_000) as u32).to_le_bytes())?;
        self.w.write_all(&(data.len() as u32).to_le_bytes())?;
        self.w.write_all(&(data.len() as u32).to_le_bytes())?;
        self.w.write_all(data)?;
        self.bytes += 16 + data.len() as u64;
        self.packets += 1;
        Ok(())
    }
}

const T0_US: u64 = 1_767_225_600_000_000; // 2026-01-01

fn mixed(
    out: &mut PcapOut,
    templates: &[Template],
    size: u64,
    share: f64,
    seed: u64,
) -> std::io::Result<u64> {
    let mut rng = Rng(seed | 1);
    let symmetric: Vec<usize> = (0..templates.len())
        .filter(|&i| templates[i].symmetric)
        .collect();
    let others: Vec<usize> = (0..templates.len())
        .filter(|&i| !templates[i].symmetric)
        .collect();
    let mut cumulative = Vec::with_capacity(others.len());
    let mut total = 0u64;
    for &i in &others {
        total += u64::from(templates[i].weight);
        cumulative.push(total);
    }
    let mut replica = 0u32;
    // Flows whose first packet made it into the output: the last window is
    // cut where the size is reached, so most of its replicas never start.
    let mut started = 0u64;
    let mut window_start = T0_US;
    let mut buf = Vec::new();
    let mut events: Vec<(u64, u32, u32, u32)> = Vec::new(); // ts, template, packet, replica
    while out.bytes < size {
        events.clear();
        for _ in 0..WINDOW_FLOWS {
            let t = if !symmetric.is_empty() && (rng.below(1_000_000) as f64) < share * 1e6 {
                symmetric[rng.below(symmetric.len() as u64) as usize]
            } else {
                let x = rng.below(total);
                others[cumulative.partition_point(|&c| c <= x)]
            };
            let start = window_start + rng.below(WINDOW_US);
            for (k, p) in templates[t].packets.iter().enumerate() {
                events.push((start + p.rel_us, t as u32, k as u32, replica));
            }
            replica = replica.wrapping_add(1);
        }
        events.sort_unstable();
        for &(ts, t, k, r) in &events {
            frame(&templates[t as usize].packets[k as usize], r, &mut buf);
            out.packet(ts, &buf)?;
            started += u64::from(k == 0);
            if out.bytes >= size {
                break;
            }
        }
        window_start += WINDOW_US + MAX_GAP_US * MAX_PACKETS_PER_TEMPLATE as u64;
    }
    Ok(started)
}

/// N concurrent TCP flows: SYN, SYN-ACK, 64 bytes, their ACK; never closed.
fn flood(out: &mut PcapOut, n: u32) -> std::io::Result<()> {
    let mut rng = Rng(0x5eed);
    let mut ip = [0u8; 40 + 64];
    let mut buf = Vec::new();
    for i in 0..n {
        let ts = T0_US + u64::from(i) * 10;
        let isn_c = rng.next() as u32;
        let isn_s = rng.next() as u32;
        for (from_client, flags, seq, ack, data) in [
            (true, 0x02u8, isn_c, 0u32, 0usize),
            (false, 0x12, isn_s, isn_c.wrapping_add(1), 0),
            (true, 0x18, isn_c.wrapping_add(1), isn_s.wrapping_add(1), 64),
            // The server acknowledges the data (reassembly hands it on).
            (
                false,
                0x10,
                isn_s.wrapping_add(1),
                isn_c.wrapping_add(65),
                0,
            ),
        ] {
            let len = 40 + data;
            ip[..20].copy_from_slice(&[
                0x45,
                0,
                (len >> 8) as u8,
                len as u8,
                0,
                0,
                0x40,
                0,
                64,
                6,
                0,
                0,
                10,
                0,
                0,
                0,
                192,
                0,
                2,
                1,
            ]);
            let l4 = &mut ip[20..40];
            l4.fill(0);
            l4[0..2].copy_from_slice(&(40_000 + (i % 20_000) as u16).to_be_bytes());
            l4[2..4].copy_from_slice(&443u16.to_be_bytes());
            l4[4..8].copy_from_slice(&seq.to_be_bytes());
            l4[8..12].copy_from_slice(&ack.to_be_bytes());
            l4[12] = 0x50;
            l4[13] = flags;
            l4[14..16].copy_from_slice(&65_535u16.to_be_bytes());
            for b in &mut ip[40..40 + data] {
                *b = rng.next() as u8;
            }
            let mut p = TPacket {
                rel_us: 0,
                from_client: true,
                ip: ip[..len].to_vec(),
                l4: 20,
            };
            if !from_client {
                // Server to client: swap addresses and ports.
                let mut v = p.ip.clone();
                v[12..16].copy_from_slice(&p.ip[16..20]);
                v[16..20].copy_from_slice(&p.ip[12..16]);
                v[20..22].copy_from_slice(&p.ip[22..24]);
                v[22..24].copy_from_slice(&p.ip[20..22]);
                p.ip = v;
                p.from_client = false;
            }
            // Replica number = flow number (client 10.x.y.z, one per flow
            // beyond 20 000 ports).
            frame(&p, i / 20_000, &mut buf);
            out.packet(ts, &buf)?;
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut out_path, mut size_mib, mut seed, mut share, mut flood_n) =
        (None, 1024u64, 1u64, 0.015f64, None);
    let mut inputs = Vec::new();
    while let Some(a) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .unwrap_or_else(|| panic!("{name} needs a value"))
        };
        match a.as_str() {
            "--out" => out_path = Some(PathBuf::from(value("--out"))),
            "--size-mib" => size_mib = value("--size-mib").parse().expect("--size-mib: a number"),
            "--seed" => seed = value("--seed").parse().expect("--seed: a number"),
            "--symmetric-share" => {
                share = value("--symmetric-share")
                    .parse()
                    .expect("--symmetric-share: a fraction")
            }
            "--flood" => {
                flood_n = Some(value("--flood").parse::<u32>().expect("--flood: a number"))
            }
            _ => inputs.push(PathBuf::from(a)),
        }
    }
    let Some(out_path) = out_path else {
        eprintln!("usage: mkcapture --out FILE [--size-mib N] [--seed N] [--symmetric-share F] INPUT... | --flood N");
        return ExitCode::from(2);
    };
    let mut out = match PcapOut::create(&out_path) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("mkcapture: {}: {e}", out_path.display());
            return ExitCode::from(1);
        }
    };
    let result = if let Some(n) = flood_n {
        flood(&mut out, n).map(|()| u64::from(n))
    } else {
        let templates = load_templates(&inputs);
        if templates.is_empty() {
            eprintln!("mkcapture: no TCP/UDP flows in the inputs");
            return ExitCode::from(1);
        }
        let sym = templates.iter().filter(|t| t.symmetric).count();
        eprintln!(
            "mkcapture: {} template flows ({sym} symmetric-only)",
            templates.len()
        );
        mixed(&mut out, &templates, size_mib << 20, share, seed)
    };
    match result.and_then(|flows| out.w.flush().map(|()| flows)) {
        Ok(flows) => {
            eprintln!(
                "mkcapture: {}: {} packets, {} flows started, {:.1} MiB",
                out_path.display(),
                out.packets,
                flows,
                out.bytes as f64 / 1048576.0
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mkcapture: {}: {e}", out_path.display());
            ExitCode::from(1)
        }
    }
}
