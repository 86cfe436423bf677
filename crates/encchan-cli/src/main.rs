//! The `encchan` binary: argument parsing, the config file, output setup and
//! exit codes around [`encchan_cli::analyze::run`].
//!
//! `encchan analyze [--format ndjson|table] [--config FILE] [--fail-on-alert]
//! [--udp-idle-timeout SECS] [--tcp-idle-timeout SECS] [--max-flows N] PCAP...`
//!
//! Exit codes: 0 ok; 1 with `--fail-on-alert` when a flow raised an alert;
//! 2 usage error or unreadable input (a missing file stops before any
//! output; a truncated or corrupt one is reported after the records of
//! every flow read).

use clap::{Parser, Subcommand, ValueEnum};
use encchan_cli::analyze::{self, Options};
use encchan_cli::config_file;
use encchan_cli::flows::Limits;
use encchan_cli::output::Writer;
use std::io::{BufWriter, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "encchan",
    version,
    about = "Find C2 hidden in encrypted channels (MITRE ATT&CK T1573)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Ndjson,
    Table,
}

#[derive(Subcommand)]
enum Command {
    /// Analyze pcap/pcapng captures: one record per flow.
    Analyze {
        /// Output format.
        #[arg(long, value_enum, default_value = "ndjson")]
        format: Format,
        /// TOML file with the engine's knobs (see README).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Exit 1 when any flow raised an alert.
        #[arg(long)]
        fail_on_alert: bool,
        /// Seconds after which an idle UDP flow ends (0: never).
        #[arg(long, default_value_t = 60.0, value_parser = seconds)]
        udp_idle_timeout: f64,
        /// Seconds after which an idle TCP flow ends (0: never).
        #[arg(long, default_value_t = 300.0, value_parser = seconds)]
        tcp_idle_timeout: f64,
        /// Most flows tracked at once; the least recently active are ended
        /// first when full.
        #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
        max_flows: u64,
        /// Capture files (pcap or pcapng), read in order as one stream.
        #[arg(required = true)]
        pcaps: Vec<PathBuf>,
    },
    /// Print every knob of the engine with its default, as a `--config`
    /// file (with `--why`: the reason for each default).
    Knobs {
        /// Also print why each default is what it is.
        #[arg(long)]
        why: bool,
    },
}

/// A non-negative, finite number of seconds.
fn seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("`{s}` is not a number of seconds (>= 0)")),
    }
}

/// Inputs larger than this get a progress bar (on a terminal).
const PROGRESS_MIN_BYTES: u64 = 64 << 20;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (format, config, fail_on_alert, udp_idle_timeout, tcp_idle_timeout, max_flows, pcaps) =
        match cli.command {
            Command::Knobs { why } => {
                print!("{}", config_file::defaults());
                if why {
                    println!();
                    for k in encchan_core::KNOBS.iter() {
                        println!("# {}: {}", k.name, k.why);
                    }
                }
                return ExitCode::SUCCESS;
            }
            Command::Analyze {
                format,
                config,
                fail_on_alert,
                udp_idle_timeout,
                tcp_idle_timeout,
                max_flows,
                pcaps,
            } => (
                format,
                config,
                fail_on_alert,
                udp_idle_timeout,
                tcp_idle_timeout,
                max_flows,
                pcaps,
            ),
        };
    let config = match config {
        None => encchan_core::Config::default(),
        Some(path) => match std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|t| config_file::parse(&t))
        {
            Ok(c) => c,
            Err(e) => {
                eprintln!("encchan: {}: {e}", path.display());
                return ExitCode::from(2);
            }
        },
    };
    for p in &pcaps {
        match std::fs::metadata(p) {
            Err(e) => {
                eprintln!("encchan: {}: {e}", p.display());
                return ExitCode::from(2);
            }
            Ok(m) if m.is_dir() => {
                eprintln!("encchan: {}: is a directory, not a capture", p.display());
                return ExitCode::from(2);
            }
            Ok(_) => {}
        }
    }
    let micros = |s: f64| {
        if s > 0.0 {
            // Saturates for absurdly large values.
            (s * 1e6) as u64
        } else {
            u64::MAX
        }
    };
    let total: u64 = pcaps
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let opts = Options {
        files: pcaps,
        config,
        limits: Limits {
            tcp_idle_us: micros(tcp_idle_timeout),
            udp_idle_us: micros(udp_idle_timeout),
            max_flows: usize::try_from(max_flows).unwrap_or(usize::MAX),
        },
        progress: std::io::stderr().is_terminal() && total > PROGRESS_MIN_BYTES,
    };
    let stdout = BufWriter::new(std::io::stdout().lock());
    let mut writer = match format {
        Format::Ndjson => Writer::ndjson(stdout),
        Format::Table => Writer::table(stdout),
    };
    let started = Instant::now();
    let summary = match analyze::run(&opts, &mut writer) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("encchan: writing output: {e}");
            return ExitCode::from(2);
        }
    };
    for e in &summary.errors {
        eprintln!("encchan: {e}");
    }
    eprintln!("{}", summary.line(started.elapsed()));
    if !summary.errors.is_empty() {
        ExitCode::from(2)
    } else if fail_on_alert && summary.flows_with_alerts > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
