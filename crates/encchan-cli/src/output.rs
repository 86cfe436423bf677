//! Formatting flow records: the NDJSON contract (other tools consume it: the
//! names are fixed) and a table for people. Formatting only: every judgement
//! comes from the engine's verdict.

use crate::flows::{Endpoint, FlowRecord};
use encchan_core::{Alert, Config, DirReport, Direction, FlowStart};
use serde_json::{json, Map, Value};
use std::io::{self, Write};
use std::net::IpAddr;

/// Seconds with microsecond precision, as a JSON number (an f64 holds
/// microseconds since the epoch exactly for the next 280 years).
fn seconds(us: u64) -> Value {
    json!(us as f64 / 1e6)
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
    m.insert("binary_bytes".into(), json!(d.binary_bytes));
    m.insert("binary_entropy".into(), json!(round3(d.binary_entropy)));
    // The pooled test missed it; the binary bytes alone caught it.
    m.insert(
        "printable_cover".into(),
        json!(!d.high_entropy && d.binary_high_entropy),
    );
    m.insert("bytes_inspected".into(), json!(d.inspected));
    m.insert(
        "offsets".into(),
        json!([d.measured_from, d.measured_from + d.inspected as u64]),
    );
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
        "end": r.end.name(),
        "decided": v.decided,
    })
}

/// Writes records as NDJSON or as an aligned table.
pub enum Writer<W: Write> {
    Ndjson(W),
    Table(Table<W>),
}

impl<W: Write> Writer<W> {
    pub fn ndjson(out: W) -> Writer<W> {
        Writer::Ndjson(out)
    }

    pub fn table(out: W) -> Writer<W> {
        Writer::Table(Table {
            out,
            rows: Vec::new(),
            widths: None,
        })
    }

    pub fn write(&mut self, r: &FlowRecord, cfg: &Config, pcap: &str) -> io::Result<()> {
        match self {
            Writer::Ndjson(out) => writeln!(out, "{}", record(r, cfg, pcap)),
            Writer::Table(t) => t.write(table_row(r)),
        }
    }

    /// Writes what is buffered and flushes.
    pub fn flush(&mut self) -> io::Result<()> {
        match self {
            Writer::Ndjson(out) => out.flush(),
            Writer::Table(t) => {
                t.settle()?;
                t.out.flush()
            }
        }
    }
}

const COLUMNS: [&str; 8] = [
    "proto",
    "client",
    "server",
    "protocol",
    "content",
    "alerts",
    "bytes c/s",
    "entropy c/s",
];

/// Rows buffered before the column widths are fixed; later rows are printed
/// at once with those widths (longer cells push the line).
const TABLE_BUFFER: usize = 10_000;

/// The table for people: column widths from the first rows.
pub struct Table<W: Write> {
    out: W,
    rows: Vec<[String; 8]>,
    widths: Option<[usize; 8]>,
}

impl<W: Write> Table<W> {
    fn write(&mut self, row: [String; 8]) -> io::Result<()> {
        match self.widths {
            Some(w) => self.line(&row, &w),
            None => {
                self.rows.push(row);
                if self.rows.len() >= TABLE_BUFFER {
                    self.settle()?;
                }
                Ok(())
            }
        }
    }

    /// Fixes the widths and prints the header and the buffered rows.
    fn settle(&mut self) -> io::Result<()> {
        if self.widths.is_some() {
            return Ok(());
        }
        let mut w = COLUMNS.map(str::len);
        for row in &self.rows {
            for (width, cell) in w.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        self.widths = Some(w);
        self.line(&COLUMNS.map(String::from), &w)?;
        for row in std::mem::take(&mut self.rows) {
            self.line(&row, &w)?;
        }
        Ok(())
    }

    fn line(&mut self, row: &[String; 8], w: &[usize; 8]) -> io::Result<()> {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(w).enumerate() {
            let pad = width.saturating_sub(cell.chars().count());
            // Numbers right-aligned, text left-aligned; no trailing blanks.
            if i >= 6 {
                line.extend(std::iter::repeat_n(' ', pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                if i + 1 < row.len() {
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            if i + 1 < row.len() {
                line.push_str("  ");
            }
        }
        writeln!(self.out, "{}", line.trim_end())
    }
}

fn endpoint(e: &Endpoint) -> String {
    match e.0 {
        IpAddr::V6(ip) => format!("[{ip}]:{}", e.1),
        IpAddr::V4(ip) => format!("{ip}:{}", e.1),
    }
}

fn table_row(r: &FlowRecord) -> [String; 8] {
    let v = &r.verdict;
    let ent = |d: &DirReport| d.entropy.map_or("-".to_string(), |e| format!("{e:.2}"));
    let alerts: Vec<&str> = v.alerts.iter().map(|a| a.name()).collect();
    [
        if r.tcp { "tcp" } else { "udp" }.to_string(),
        endpoint(&r.client),
        endpoint(&r.server),
        v.protocol.map_or("-", |p| p.name()).to_string(),
        v.content.name().to_string(),
        if alerts.is_empty() {
            "-".to_string()
        } else {
            alerts.join(",")
        },
        format!("{}/{}", v.dirs[0].bytes, v.dirs[1].bytes),
        format!("{}/{}", ent(&v.dirs[0]), ent(&v.dirs[1])),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_keep_microseconds() {
        assert_eq!(
            seconds(1_700_000_000_123_456).to_string(),
            "1700000000.123456"
        );
        assert_eq!(seconds(0).to_string(), "0.0");
        assert_eq!(seconds(1).to_string(), "1e-6");
    }

    #[test]
    fn table_aligns_columns() {
        let mut t = Table {
            out: Vec::new(),
            rows: Vec::new(),
            widths: None,
        };
        let row = |client: &str, bytes: &str| {
            [
                "tcp",
                client,
                "10.0.0.2:443",
                "tls",
                "encrypted",
                "-",
                bytes,
                "7.90/7.95",
            ]
            .map(String::from)
        };
        t.write(row("10.0.0.1:40000", "1/2")).unwrap();
        t.write(row("[2001:db8::1]:40000", "12345/67890")).unwrap();
        t.settle().unwrap();
        let text = String::from_utf8(t.out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("proto  client "));
        // Every column starts at the same place on every line.
        let at = |l: &str, needle: &str| l.find(needle).unwrap();
        assert_eq!(at(lines[1], "10.0.0.2"), at(lines[2], "10.0.0.2"));
        assert_eq!(at(lines[0], "server"), at(lines[1], "10.0.0.2"));
        assert_eq!(lines[1].len(), lines[2].len());
    }
}
