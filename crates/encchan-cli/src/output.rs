//! Formatting flow records: the NDJSON contract (other tools consume it: the
//! names are fixed) and a table for people. Formatting only: every judgement
//! comes from the engine's verdict.

use crate::flows::{Endpoint, FlowRecord};
use encchan_core::report::{self, Sink};
use encchan_core::{Config, DirReport, Direction, FlowStart};
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
        // When the first alert was published: bytes and payloads fed by
        // then (null: no alert), and whether only at the flow's end.
        "decided_after_bytes": r.decided.map(|d| json!({ "client": d.bytes[c], "server": d.bytes[s] })),
        "decided_after_payloads": r.decided.map(|d| json!({ "client": d.payloads[c], "server": d.payloads[s] })),
        "decided_at_end": r.decided.map(|d| d.at_end),
        "decided_by": r.decided.and_then(|d| d.direction).map(|d| match d {
            Direction::ToServer => "client",
            Direction::ToClient => "server",
        }),
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

    /// The table; `colour`: alert names in red and clean flows dim (see
    /// [`colour_wanted`]).
    pub fn table(out: W, colour: bool) -> Writer<W> {
        Writer::Table(Table {
            out,
            rows: Vec::new(),
            widths: None,
            colour,
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

/// Whether the table is coloured: only on a terminal, and not when the
/// user set `NO_COLOR` to anything but the empty string (no-color.org).
pub fn colour_wanted(stdout_is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    stdout_is_terminal && no_color.is_none_or(|v| v.is_empty())
}

/// SGR sequences of the table's colours.
const RED: &str = "\x1b[1;31m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// The column of the alert names.
const ALERTS_COLUMN: usize = 5;

/// The table for people: column widths from the first rows.
pub struct Table<W: Write> {
    out: W,
    rows: Vec<[String; 8]>,
    widths: Option<[usize; 8]>,
    colour: bool,
}

impl<W: Write> Table<W> {
    fn write(&mut self, row: [String; 8]) -> io::Result<()> {
        match self.widths {
            Some(w) => self.row(&row, &w),
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
        let header = COLUMNS.map(String::from);
        let header = self.line(&header, &w, None);
        writeln!(self.out, "{header}")?;
        for row in std::mem::take(&mut self.rows) {
            self.row(&row, &w)?;
        }
        Ok(())
    }

    /// A flow's row; coloured, the alert names red and a clean flow dim.
    fn row(&mut self, row: &[String; 8], w: &[usize; 8]) -> io::Result<()> {
        let alerted = row[ALERTS_COLUMN] != "-";
        let red = (self.colour && alerted).then_some(ALERTS_COLUMN);
        let line = self.line(row, w, red);
        if self.colour && !alerted {
            writeln!(self.out, "{DIM}{line}{RESET}")
        } else {
            writeln!(self.out, "{line}")
        }
    }

    /// A line of padded cells, without trailing blanks; the cell in
    /// column `red` is painted red.
    fn line(&self, row: &[String; 8], w: &[usize; 8], red: Option<usize>) -> String {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(w).enumerate() {
            let pad = width.saturating_sub(cell.chars().count());
            let painted = if red == Some(i) {
                format!("{RED}{cell}{RESET}")
            } else {
                cell.clone()
            };
            // Numbers right-aligned, text left-aligned.
            if i >= 6 {
                line.extend(std::iter::repeat_n(' ', pad));
                line.push_str(&painted);
            } else {
                line.push_str(&painted);
                if i + 1 < row.len() {
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            if i + 1 < row.len() {
                line.push_str("  ");
            }
        }
        line.trim_end().to_owned()
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
            colour: false,
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

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        use std::ffi::OsStr;
        assert!(colour_wanted(true, None));
        assert!(colour_wanted(true, Some(OsStr::new(""))));
        assert!(!colour_wanted(true, Some(OsStr::new("1"))));
        assert!(!colour_wanted(false, None));
    }

    #[test]
    fn coloured_rows_paint_alerts_red_and_clean_flows_dim() {
        let mut t = Table {
            out: Vec::new(),
            rows: Vec::new(),
            widths: None,
            colour: true,
        };
        let row = |alerts: &str| {
            [
                "udp",
                "10.0.0.1:40000",
                "10.0.0.2:4444",
                "-",
                "encrypted",
                alerts,
                "900/0",
                "7.98/-",
            ]
            .map(String::from)
        };
        t.write(row("symmetric_only")).unwrap();
        t.write(row("-")).unwrap();
        t.settle().unwrap();
        let text = String::from_utf8(t.out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(!lines[0].contains('\x1b'), "the header is plain");
        assert!(lines[1].contains(&format!("{RED}symmetric_only{RESET}")));
        assert!(lines[2].starts_with(DIM) && lines[2].ends_with(RESET));
        // Without the escapes the columns are where the plain table has them.
        let plain = lines[1].replace(RED, "").replace(RESET, "");
        assert_eq!(plain.find("symmetric_only"), lines[0].find("alerts"));
    }
}
