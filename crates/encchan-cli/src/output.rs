//! Formatting flow records: the NDJSON contract (other tools consume it: the
//! names are fixed) and a table for people. Formatting only: every judgement
//! comes from the engine's verdict.

use crate::flows::FlowRecord;
use encchan_core::{Alert, Config, DirReport, Direction, FlowStart};
use serde_json::{json, Map, Value};
use std::io::{self, Write};

fn seconds(us: u64) -> Value {
    // Microsecond precision, as a JSON number.
    json!((us as f64 / 1e6 * 1e6).round() / 1e6)
}

fn round3(x: f32) -> f64 {
    (x as f64 * 1000.0).round() / 1000.0
}

fn hex16(v: u16) -> String {
    format!("0x{v:04x}")
}

fn entropy_evidence(r: &FlowRecord, cfg: &Config, dir: Direction) -> Map<String, Value> {
    let d: &DirReport = r.verdict.dir(dir);
    let mut m = Map::new();
    m.insert("direction".into(), json!(dir.sender()));
    m.insert("entropy".into(), json!(d.entropy.map(round3)));
    m.insert("threshold".into(), json!(round3(cfg.entropy_threshold)));
    m.insert("collisions".into(), json!(d.collisions));
    m.insert(
        "collisions_expected".into(),
        json!(round3(d.collisions_expected)),
    );
    m.insert("block_shannon".into(), json!(round3(d.block_shannon)));
    m.insert(
        "block_shannon_random".into(),
        json!(round3(d.block_shannon_random)),
    );
    m.insert(
        "printable_fraction".into(),
        json!(round3(d.printable_fraction)),
    );
    m.insert(
        "longest_printable_run".into(),
        json!(d.longest_printable_run),
    );
    m.insert("mean_popcount".into(), json!(round3(d.mean_popcount)));
    m.insert("encoding".into(), json!(d.encoding.name()));
    m.insert("uniform_blocks".into(), json!(d.uniform_blocks));
    m.insert("full_blocks".into(), json!(d.full_blocks));
    m.insert("bytes_inspected".into(), json!(d.inspected));
    m.insert("offsets".into(), json!([0, d.inspected]));
    m.insert("format".into(), json!(d.format.map(|f| f.name())));
    m.insert(
        "framing_without_handshake".into(),
        json!(r.verdict.evidence.framing_without_handshake),
    );
    m
}

/// The `evidence` object: one entry per raised alert.
fn evidence(r: &FlowRecord, cfg: &Config) -> Value {
    let v = &r.verdict;
    let e = &v.evidence;
    let mut out = Map::new();
    for alert in v.alerts.iter() {
        let item = match alert {
            Alert::SymmetricOnly => Value::Object(entropy_evidence(
                r,
                cfg,
                e.high_entropy_direction.unwrap_or(Direction::ToServer),
            )),
            Alert::EncryptedOnPlaintextPort => {
                let mut m = match e.high_entropy_direction {
                    Some(d) => entropy_evidence(r, cfg, d),
                    None => Map::new(),
                };
                m.insert("server_port".into(), json!(e.server_port));
                Value::Object(m)
            }
            Alert::TlsUnexpectedPort => {
                json!({ "server_port": e.server_port, "protocol": v.protocol.map(|p| p.name()) })
            }
            Alert::HandshakeIncomplete | Alert::HandshakeMalformed => match e.handshake {
                Some(h) => json!({
                    "protocol": h.protocol.name(),
                    "direction": h.direction.sender(),
                    "offset": h.offset,
                    "reason": h.reason.map(|r| r.name()),
                    "elapsed_us": h.elapsed_us,
                }),
                None => json!({}),
            },
            Alert::RsaKeyExchange => {
                json!({ "cipher_suite": e.cipher_suite.map(hex16), "tls_version": v.tls_version.map(hex16) })
            }
            Alert::TrafficAsymmetry => json!({
                "ratio": e.asymmetry_ratio.map(round3),
                "threshold": round3(cfg.asymmetry_ratio),
                "client_bytes": v.dirs[0].bytes,
                "server_bytes": v.dirs[1].bytes,
            }),
        };
        out.insert(alert.name().into(), item);
    }
    Value::Object(out)
}

/// One NDJSON record.
pub fn record(r: &FlowRecord, cfg: &Config, pcap: &str) -> Value {
    let v = &r.verdict;
    let (first, last) = if v.dirs[0].bytes + v.dirs[1].bytes > 0 {
        (v.first_ts_us, v.last_ts_us)
    } else {
        (r.first_ts_us, r.last_ts_us)
    };
    let both = |f: &dyn Fn(&DirReport) -> Value| json!({ "client": f(&v.dirs[0]), "server": f(&v.dirs[1]) });
    json!({
        "proto": if r.tcp { "tcp" } else { "udp" },
        "client": { "ip": r.client.0.to_string(), "port": r.client.1 },
        "server": { "ip": r.server.0.to_string(), "port": r.server.1 },
        "protocol": v.protocol.map(|p| p.name()),
        "content": v.content.name(),
        "alerts": v.alerts.iter().map(|a| a.name()).collect::<Vec<_>>(),
        "evidence": evidence(r, cfg),
        "bytes": both(&|d| json!(d.bytes)),
        "entropy": both(&|d| json!(d.entropy.map(round3))),
        "decided_after_bytes": both(&|d| json!(d.decided_after)),
        "first_ts": seconds(first),
        "last_ts": seconds(last),
        "pcap": pcap,
        "packets": { "client": r.packets[0], "server": r.packets[1] },
        "gap_bytes": { "client": r.gap_bytes[0], "server": r.gap_bytes[1] },
        "format": both(&|d| json!(d.format.map(|f| f.name()))),
        "tls": { "version": v.tls_version.map(hex16), "cipher_suite": v.tls_cipher_suite.map(hex16) },
        "key_exchange_complete": v.key_exchange_complete,
        "midstream": r.start == FlowStart::Midstream,
        "decided": v.decided,
    })
}

/// Writes records as NDJSON or as an aligned table.
pub enum Writer<W: Write> {
    Ndjson(W),
    Table { out: W, header_done: bool },
}

impl<W: Write> Writer<W> {
    pub fn write(&mut self, r: &FlowRecord, cfg: &Config, pcap: &str) -> io::Result<()> {
        match self {
            Writer::Ndjson(out) => writeln!(out, "{}", record(r, cfg, pcap)),
            Writer::Table { out, header_done } => {
                if !*header_done {
                    *header_done = true;
                    writeln!(
                        out,
                        "{:<5} {:<45} {:<45} {:<10} {:<10} {:>10} {:>10} {:>5} {:>5}  alerts",
                        "proto",
                        "client",
                        "server",
                        "protocol",
                        "content",
                        "bytes_c",
                        "bytes_s",
                        "ent_c",
                        "ent_s"
                    )?;
                }
                let v = &r.verdict;
                let ent = |d: &DirReport| d.entropy.map_or("-".to_string(), |e| format!("{e:.2}"));
                let alerts: Vec<&str> = v.alerts.iter().map(|a| a.name()).collect();
                writeln!(
                    out,
                    "{:<5} {:<45} {:<45} {:<10} {:<10} {:>10} {:>10} {:>5} {:>5}  {}",
                    if r.tcp { "tcp" } else { "udp" },
                    format!("{}:{}", r.client.0, r.client.1),
                    format!("{}:{}", r.server.0, r.server.1),
                    v.protocol.map_or("-", |p| p.name()),
                    v.content.name(),
                    v.dirs[0].bytes,
                    v.dirs[1].bytes,
                    ent(&v.dirs[0]),
                    ent(&v.dirs[1]),
                    if alerts.is_empty() {
                        "-".to_string()
                    } else {
                        alerts.join(",")
                    }
                )
            }
        }
    }

    pub fn flush(&mut self) -> io::Result<()> {
        match self {
            Writer::Ndjson(out) | Writer::Table { out, .. } => out.flush(),
        }
    }
}
