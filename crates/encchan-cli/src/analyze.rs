//! `encchan analyze`: read captures, track flows, print verdicts.

use crate::decode::{self, Skip};
use crate::flows::{FlowRecord, Limits, Table};
use crate::output::Writer;
use crate::pcap;
use encchan_core::{Alert, Config};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// What a run saw, for the summary line and the exit code.
#[derive(Debug, Default)]
pub struct Summary {
    pub files: usize,
    pub packets: u64,
    pub flows: u64,
    pub flows_with_alerts: u64,
    pub per_alert: [u64; 7],
    pub skipped_link: u64,
    pub skipped_not_ip: u64,
    pub skipped_fragments: u64,
    pub skipped_other_transport: u64,
    /// Files that could not be read to their end, with the reason.
    pub errors: Vec<String>,
    pub evicted: u64,
}

/// Options of one run.
pub struct Options {
    pub files: Vec<PathBuf>,
    pub config: Config,
    pub limits: Limits,
    pub progress: bool,
}

/// Analyzes `opts.files` in order as one traffic stream, writing records to
/// `out` as flows end.
pub fn run<W: Write>(opts: &Options, out: &mut Writer<W>) -> std::io::Result<Summary> {
    let mut summary = Summary {
        files: opts.files.len(),
        ..Summary::default()
    };
    let mut table = Table::new(opts.config.clone(), opts.limits);
    let names: Vec<String> = opts.files.iter().map(|p| p.display().to_string()).collect();
    let cfg = opts.config.clone();
    let mut write_error: Option<std::io::Error> = None;
    let mut emit = |r: FlowRecord, summary: &mut Summary| {
        summary.flows += 1;
        if !r.verdict.alerts.is_empty() {
            summary.flows_with_alerts += 1;
        }
        for a in r.verdict.alerts.iter() {
            summary.per_alert[a as usize] += 1;
        }
        if write_error.is_none() {
            if let Err(e) = out.write(&r, &cfg, &names[r.file]) {
                write_error = Some(e);
            }
        }
    };
    let total_bytes: u64 = opts
        .files
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let bar = opts.progress.then(|| {
        let bar = indicatif::ProgressBar::new(total_bytes);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    for (file_index, path) in opts.files.iter().enumerate() {
        let mut pending = Vec::new();
        let result = pcap::read(path, |p| {
            summary.packets += 1;
            match decode::decode(p.linktype, p.data) {
                Ok(seg) => table.packet(&seg, p.ts_us, file_index, &mut |r| pending.push(r)),
                Err(Skip::LinkType) => summary.skipped_link += 1,
                Err(Skip::NotIp) => summary.skipped_not_ip += 1,
                Err(Skip::Fragment) => summary.skipped_fragments += 1,
                Err(Skip::OtherTransport) => summary.skipped_other_transport += 1,
            }
            if pending.len() >= 1024 {
                for r in pending.drain(..) {
                    emit(r, &mut summary);
                }
            }
        });
        for r in pending.drain(..) {
            emit(r, &mut summary);
        }
        if let Some(bar) = &bar {
            bar.inc(std::fs::metadata(path).map(|m| m.len()).unwrap_or(0));
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
    if let Some(e) = write_error {
        return Err(e);
    }
    out.flush()?;
    Ok(summary)
}

impl Summary {
    /// The summary line.
    pub fn line(&self, elapsed: Instant) -> String {
        let alerts: Vec<String> = Alert::ALL
            .iter()
            .filter(|a| self.per_alert[**a as usize] > 0)
            .map(|a| format!("{}={}", a.name(), self.per_alert[*a as usize]))
            .collect();
        format!(
            "encchan: {} file(s), {} packets, {} flows, {} with alerts ({}), skipped: {} fragments, {} non-IP, {} other transport, {} unknown link type; {} evicted; {:.2}s",
            self.files,
            self.packets,
            self.flows,
            self.flows_with_alerts,
            if alerts.is_empty() { "none".into() } else { alerts.join(" ") },
            self.skipped_fragments,
            self.skipped_not_ip,
            self.skipped_other_transport,
            self.skipped_link,
            self.evicted,
            elapsed.elapsed().as_secs_f64()
        )
    }
}
