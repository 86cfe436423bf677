//! Formatting flow records: the NDJSON contract (other tools consume it: the
//! names are fixed) and a table for people. Formatting only: every judgement
//! comes from the engine's verdict.

use crate::flows::{Endpoint, FlowRecord};
use encchan_core::report::{self, Sink};
use encchan_core::{Config, DirReport, FlowStart};
use serde_json::{json, Map, Value};
use std::io::{self, Write};
use std::net::IpAddr;

/// Seconds with microsecond precision, as a JSON number (an f64 holds
/// microseconds since the epoch exactly for the next 280 years).
fn seconds(us: u64) -> Value {
    json!(us as f64 / 1e6)
}

/// The engine's serializer ([`encchan_core::report`]) writing into
/// serde_json values: a stack of open objects and arrays.
struct JsonValues {
    stack: Vec<(Option<String>, Value)>,
}

impl JsonValues {
    fn new(top: Map<String, Value>) -> Self {
        JsonValues {
            stack: vec![(None, Value::Object(top))],
        }
    }

    fn put(&mut self, key: Option<&str>, v: Value) {
        match self.stack.last_mut().map(|(_, top)| top) {
            Some(Value::Object(m)) => {
                m.insert(key.unwrap_or_default().to_owned(), v);
            }
            Some(Value::Array(a)) => a.push(v),
            _ => {}
        }
    }

    fn into_map(mut self) -> Map<String, Value> {
        match self.stack.pop() {
            Some((_, Value::Object(m))) => m,
            _ => Map::new(),
        }
    }
}

impl Sink for JsonValues {
    fn open_object(&mut self, key: Option<&str>) {
        self.stack
            .push((key.map(str::to_owned), Value::Object(Map::new())));
    }

    fn open_array(&mut self, key: Option<&str>) {
        self.stack
            .push((key.map(str::to_owned), Value::Array(Vec::new())));
    }

    fn close(&mut self) {
        if self.stack.len() > 1 {
            if let Some((key, v)) = self.stack.pop() {
                self.put(key.as_deref(), v);
            }
        }
    }

    fn value(&mut self, key: Option<&str>, value: report::Value<'_>) {
        let v = match value {
            report::Value::Str(s) => json!(s),
            report::Value::Uint(n) => json!(n),
            report::Value::Float(x) => json!(x),
            report::Value::Bool(b) => json!(b),
            report::Value::Null => Value::Null,
        };
        self.put(key, v);
    }
}

/// One NDJSON record: what the host knows of the flow (addresses, packets,
/// how it ended), then the engine's verdict as its serializer writes it.
pub fn record(r: &FlowRecord, cfg: &Config, pcap: &str) -> Value {
    let v = &r.verdict;
    let (first, last) = if v.dirs[0].bytes + v.dirs[1].bytes > 0 {
        (v.first_ts_us, v.last_ts_us)
    } else {
        (r.first_ts_us, r.last_ts_us)
    };
    // The engine may have taken the first sender for the server (the start
    // was not seen): its client is then the other side.
    let (c, s) = if v.roles_swapped { (1, 0) } else { (0, 1) };
    let ends = [r.client, r.server];
    let host = json!({
        "proto": if r.tcp { "tcp" } else { "udp" },
        "client": { "ip": ends[c].0.to_string(), "port": ends[c].1 },
        "server": { "ip": ends[s].0.to_string(), "port": ends[s].1 },
        "first_ts": seconds(first),
        "last_ts": seconds(last),
        "pcap": pcap,
        "packets": { "client": r.packets[c], "server": r.packets[s] },
        "gap_bytes": { "client": r.gap_bytes[c], "server": r.gap_bytes[s] },
        "midstream": r.start == FlowStart::Midstream,
        "end": r.end.name(),
    });
    let Value::Object(host) = host else {
        unreachable!("a JSON object literal")
    };
    let mut out = JsonValues::new(host);
    report::write_verdict(v, cfg, &mut out);
    Value::Object(out.into_map())
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
        endpoint(if v.roles_swapped {
            &r.server
        } else {
            &r.client
        }),
        endpoint(if v.roles_swapped {
            &r.client
        } else {
            &r.server
        }),
        // A carrier and what it carried: "http/tls".
        match (v.carrier, v.protocol) {
            (Some(c), p) => format!("{c}/{}", p.map_or("-", |p| p.name())),
            (None, p) => p.map_or("-", |p| p.name()).to_string(),
        },
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
