//! `encchan analyze`: the run itself, apart from argument parsing so that it
//! can be driven from tests: read captures in order, decode, track flows,
//! write a record whenever a flow ends, and count what was skipped.

use crate::decode::{self, Skip};
use crate::flows::{FlowRecord, Limits, Table};
use crate::output::Writer;
use crate::pcap;
use encchan_core::{Alert, Config};
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

/// What a run saw, for the summary line and the exit code.
#[derive(Debug, Default)]
pub struct Summary {
    pub files: usize,
    pub packets: u64,
    pub flows: u64,
    pub flows_with_alerts: u64,
    /// Flows per alert, indexed like `Alert::ALL`.
    pub per_alert: [u64; Alert::ALL.len()],
    pub skipped_link: u64,
    pub skipped_not_ip: u64,
    pub skipped_malformed: u64,
    pub skipped_fragments: u64,
    pub skipped_other_transport: u64,
    /// Packets cut by the snap length (kept, the cut counted as missing).
    pub snaplen_cut: u64,
    pub evicted: u64,
    pub expired: u64,
    /// Earliest and latest packet timestamps (µs), if any packet.
    pub span_us: Option<(u64, u64)>,
    /// Files that could not be read to their end, with the reason.
    pub errors: Vec<String>,
}

/// Options of one run.
pub struct Options {
    pub files: Vec<PathBuf>,
    pub config: Config,
    pub limits: Limits,
    /// Show a progress bar on stderr.
    pub progress: bool,
}

/// Where a run's records go as flows end: the NDJSON or table
/// [`Writer`], or the HTML report's collector.
pub trait Records {
    fn record(&mut self, r: &FlowRecord, cfg: &Config, pcap: &str) -> io::Result<()>;
    /// Writes what is buffered.
    fn flush(&mut self) -> io::Result<()>;
    /// Whether records should carry each direction's byte counts (the
    /// report draws them; they cost memory per open flow).
    fn wants_byte_counts(&self) -> bool {
        false
    }
}

impl<W: Write> Records for Writer<W> {
    fn record(&mut self, r: &FlowRecord, cfg: &Config, pcap: &str) -> io::Result<()> {
        self.write(r, cfg, pcap)
    }

    fn flush(&mut self) -> io::Result<()> {
        Writer::flush(self)
    }
}

/// Packets between two updates of the progress bar.
const PROGRESS_EVERY: u64 = 4096;

/// Analyzes `opts.files` in order as one traffic stream, writing records to
/// `out` as flows end. Unreadable files are reported in
/// [`Summary::errors`]; the `Err` is for failures to write the output.
pub fn run<R: Records>(opts: &Options, out: &mut R) -> io::Result<Summary> {
    let mut summary = Summary {
        files: opts.files.len(),
        ..Summary::default()
    };
    let mut table = Table::new(opts.config.clone(), opts.limits);
    table.keep_byte_counts(out.wants_byte_counts());
    let names: Vec<String> = opts.files.iter().map(|p| p.display().to_string()).collect();
    let cfg = opts.config.clone();
    let mut write_error: Option<std::io::Error> = None;
    let mut emit = |r: FlowRecord, summary: &mut Summary| {
        summary.flows += 1;
        if !r.verdict.alerts.is_empty() {
            summary.flows_with_alerts += 1;
        }
        for a in r.verdict.alerts.iter() {
            if let Some(n) = summary.per_alert.get_mut(a as usize) {
                *n += 1;
            }
        }
        if write_error.is_none() {
            let name = names.get(r.file).map_or("", String::as_str);
            if let Err(e) = out.record(&r, &cfg, name) {
                write_error = Some(e);
            }
        }
    };
    let sizes: Vec<u64> = opts
        .files
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .collect();
    let bar = opts.progress.then(|| {
        let bar = indicatif::ProgressBar::new(sizes.iter().sum());
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let mut done_bytes = 0u64;
    for (file_index, path) in opts.files.iter().enumerate() {
        if let Some(bar) = &bar {
            bar.set_message(path.display().to_string());
        }
        // Records of flows that end while reading wait here briefly: the
        // packet callback cannot borrow the writer.
        let mut pending = Vec::new();
        let result = pcap::read(path, |p| {
            summary.packets += 1;
            summary.span_us = Some(match summary.span_us {
                None => (p.ts_us, p.ts_us),
                Some((a, b)) => (a.min(p.ts_us), b.max(p.ts_us)),
            });
            match decode::decode(p.linktype, p.data) {
                Ok(seg) => {
                    if seg.missing > 0 {
                        summary.snaplen_cut += 1;
                    }
                    table.packet(&seg, p.ts_us, file_index, &mut |r| pending.push(r))
                }
                Err(Skip::LinkType) => summary.skipped_link += 1,
                Err(Skip::NotIp) => summary.skipped_not_ip += 1,
                Err(Skip::Malformed) => summary.skipped_malformed += 1,
                Err(Skip::Fragment) => summary.skipped_fragments += 1,
                Err(Skip::OtherTransport) => summary.skipped_other_transport += 1,
            }
            if pending.len() >= 1024 {
                for r in pending.drain(..) {
                    emit(r, &mut summary);
                }
            }
            if summary.packets % PROGRESS_EVERY == 0 {
                if let Some(bar) = &bar {
                    bar.set_position(done_bytes + p.offset);
                }
            }
        });
        for r in pending.drain(..) {
            emit(r, &mut summary);
        }
        done_bytes += sizes.get(file_index).copied().unwrap_or(0);
        if let Some(bar) = &bar {
            bar.set_position(done_bytes);
        }
        if let Err(e) = result {
            summary.errors.push(format!("{}: {e}", path.display()));
        }
    }
    let mut rest = Vec::new();
    table.finish_all(&mut |r| rest.push(r));
    for r in rest {
        emit(r, &mut summary);
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    summary.evicted = table.stats.evicted;
    summary.expired = table.stats.expired;
    if let Some(e) = write_error {
        return Err(e);
    }
    out.flush()?;
    Ok(summary)
}

impl Summary {
    /// The summary line (stderr), `name=value` pairs after `encchan:`.
    pub fn line(&self, elapsed: Duration) -> String {
        let alerts: Vec<String> = Alert::ALL
            .iter()
            .zip(self.per_alert)
            .filter(|(_, n)| *n > 0)
            .map(|(a, n)| format!("{}={n}", a.name()))
            .collect();
        let capture_s = self
            .span_us
            .map_or(0.0, |(a, b)| b.saturating_sub(a) as f64 / 1e6);
        format!(
            "encchan: files={} packets={} flows={} flows_with_alerts={} [{}] \
             ip_fragments_skipped={} non_ip_skipped={} malformed_skipped={} \
             other_transport_skipped={} unknown_linktype_skipped={} snaplen_cut={} \
             idle_expired={} evicted={} capture_duration={:.3}s elapsed={:.3}s",
            self.files,
            self.packets,
            self.flows,
            self.flows_with_alerts,
            alerts.join(" "),
            self.skipped_fragments,
            self.skipped_not_ip,
            self.skipped_malformed,
            self.skipped_other_transport,
            self.skipped_link,
            self.snaplen_cut,
            self.expired,
            self.evicted,
            capture_s,
            elapsed.as_secs_f64()
        )
    }
}
