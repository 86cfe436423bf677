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
