//! `encchan report`: one self-contained HTML page about a run — a summary,
//! the flagged flows with their evidence in sentences, the scatter of every
//! flow's entropy against its bytes, a timeline of alerts, and per listed
//! flow a histogram of its bytes. Inline SVG and CSS; no script, nothing
//! fetched. Every string from a capture is escaped ([`html`]).
//!
//! Large inputs: every flow is one point (24 bytes) for the scatter, which
//! bins a class of flows above [`svg::SCATTER_DOTS`]; flagged flows are
//! described in full up to `max_listed` (the first ones to end) and
//! counted past it; the timeline counts into bins.

mod explain;
mod html;
mod page;
mod svg;
mod time;

pub use html::escape;

use crate::analyze::{Records, Summary};
use crate::flows::{ByteCounts, FlowRecord};
use crate::output;
use encchan_core::{Alert, Config};
use serde_json::Value;
use std::io;
use svg::{Mark, Point};

/// A flagged flow described in full.
struct Listed {
    /// The NDJSON record: the page speaks the contract's names.
    record: Value,
    /// Byte counts by the record's sides (client first).
    counts: Option<ByteCounts>,
}

/// Gathers what the page shows while the run goes on.
pub struct Collector {
    max_listed: usize,
    threshold: f32,
    points: Vec<Point>,
    /// Flows with no entropy on either side (too few measured bytes).
    unmeasured: u64,
    marks: Vec<Mark>,
    listed: Vec<Listed>,
    flagged: u64,
    payload_bytes: u64,
}

impl Collector {
    pub fn new(cfg: &Config, max_listed: usize) -> Collector {
        Collector {
            max_listed,
            threshold: cfg.entropy_threshold,
            points: Vec::new(),
            unmeasured: 0,
            marks: Vec::new(),
            listed: Vec::new(),
            flagged: 0,
            payload_bytes: 0,
        }
    }

    /// The page, with what the run's summary counted.
    pub fn render(&self, summary: &Summary, files: &[String]) -> String {
        page::render(self, summary, files)
    }
}

/// The record's sides' byte counts: the host keeps them by its own sides,
/// which the engine may have swapped (as the NDJSON record does).
fn by_record_sides(r: &FlowRecord) -> Option<ByteCounts> {
    let counts = r.byte_counts.as_deref()?.clone();
    Some(if r.verdict.roles_swapped {
        ByteCounts {
            counts: [counts.counts[1], counts.counts[0]],
            total: [counts.total[1], counts.total[0]],
        }
    } else {
        counts
    })
}

impl Records for Collector {
    fn record(&mut self, r: &FlowRecord, cfg: &Config, pcap: &str) -> io::Result<()> {
        let v = &r.verdict;
        let flagged = !v.alerts.is_empty();
        self.payload_bytes += v.dirs[0].bytes + v.dirs[1].bytes;
        let listed = flagged && self.listed.len() < self.max_listed;
        let anchor = listed.then_some(self.listed.len());
        // The side with the higher entropy speaks for the flow.
        let side = v
            .dirs
            .iter()
            .filter_map(|d| d.entropy.map(|e| (e, d.bytes)))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        match side {
            Some((entropy, bytes)) => self.points.push(Point {
                bytes,
                entropy,
                flagged,
                anchor,
            }),
            None => self.unmeasured += 1,
        }
        if flagged {
            self.flagged += 1;
            // When the flow's payload began (as its record says), else its
            // first packet.
            let first_us = if v.dirs[0].bytes + v.dirs[1].bytes > 0 {
                v.first_ts_us
            } else {
                r.first_ts_us
            };
            for a in v.alerts.iter() {
                self.marks.push(Mark {
                    first_us,
                    alert: a as usize,
                });
            }
        }
        if listed {
            self.listed.push(Listed {
                record: output::record(r, cfg, pcap),
                counts: by_record_sides(r),
            });
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn wants_byte_counts(&self) -> bool {
        true
    }
}

/// The alert names, indexed like [`Alert::ALL`].
fn alert_names() -> Vec<&'static str> {
    Alert::ALL.iter().map(|a| a.name()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{Segment, Tcp};
    use crate::flows::{Limits, Table};
    use std::net::{IpAddr, Ipv4Addr};

    fn tcp<'a>(from: u8, to: u8, flags: &str, seq: u32, payload: &'a [u8]) -> Segment<'a> {
        let ip = |n| IpAddr::V4(Ipv4Addr::new(10, 0, 0, n));
        let port = |n| if n == 1 { 40000 } else { 3128 };
        Segment {
            src: ip(from),
            dst: ip(to),
            sport: port(from),
            dport: port(to),
            tcp: Some(Tcp {
                seq,
                ack_seq: 0,
                syn: flags.contains('S'),
                ack: flags.contains('A'),
                fin: false,
                rst: false,
            }),
            payload,
            missing: 0,
        }
    }

    /// A proxy asked to CONNECT to a "host" that is markup, then ciphertext
    /// without a handshake: the page shows the host, escaped.
    #[test]
    fn strings_from_the_capture_are_escaped() {
        let cfg = Config::default();
        let mut collector = Collector::new(&cfg, 10);
        let mut table = Table::new(cfg.clone(), Limits::default());
        table.keep_byte_counts(collector.wants_byte_counts());
        let connect = b"CONNECT <script>alert(1)</script>:443 HTTP/1.1\r\n\r\n";
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let noise: Vec<u8> = (0..2048)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let mut out = Vec::new();
        let mut emit = |r| out.push(r);
        table.packet(&tcp(1, 2, "S", 100, b""), 1, 0, &mut emit);
        table.packet(&tcp(2, 1, "SA", 900, b""), 2, 0, &mut emit);
        table.packet(&tcp(1, 2, "A", 101, connect), 3, 0, &mut emit);
        let ok = b"HTTP/1.1 200 Connection established\r\n\r\n";
        table.packet(&tcp(2, 1, "A", 901, ok), 4, 0, &mut emit);
        let seq = 101 + connect.len() as u32;
        table.packet(&tcp(1, 2, "A", seq, &noise), 5, 0, &mut emit);
        table.finish_all(&mut emit);
        let hostile_file = "\"><img src=x onerror=alert(2)>.pcap";
        for r in &out {
            collector.record(r, &cfg, hostile_file).unwrap();
        }
        assert_eq!(collector.flagged, 1, "the tunnel's ciphertext is flagged");
        let summary = Summary {
            flows: 1,
            flows_with_alerts: 1,
            ..Summary::default()
        };
        let page = collector.render(&summary, &[hostile_file.to_owned()]);
        assert!(page.contains("&lt;script&gt;alert(1)"), "the host is shown");
        assert!(
            page.contains("&quot;&gt;&lt;img src=x"),
            "the file name is shown"
        );
        assert!(!page.contains("<script") && !page.contains("<img"));
    }
}
