//! The `encchan` binary: dispatch, the config file, output setup and exit
//! codes around [`encchan_cli::analyze::run`]. The arguments are defined in
//! [`encchan_cli::args`].
//!
//! Exit codes: 0 ok; 1 with `analyze --fail-on-alert` when a flow raised an
//! alert; 2 usage error or unreadable input (a missing file stops before
//! any output; a truncated or corrupt one is reported after the records of
//! every flow read).

use clap::Parser;
use encchan_cli::analyze::{self, Options, Records, Summary};
use encchan_cli::args::{Cli, Command, Format, Generate, RunArgs};
use encchan_cli::flows::Limits;
use encchan_cli::output::{colour_wanted, Writer};
use encchan_cli::report::Collector;
use encchan_cli::{config_file, generate};
use std::io::{BufWriter, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Instant;

/// Inputs larger than this get a progress bar (on a terminal).
const PROGRESS_MIN_BYTES: u64 = 64 << 20;

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Knobs { why } => {
            print!("{}", config_file::defaults());
            if why {
                println!();
                for k in encchan_core::KNOBS.iter() {
                    println!("# {}: {}", k.name, k.why);
                }
            }
            ExitCode::SUCCESS
        }
        Command::Generate { what } => generate_files(what),
        Command::Analyze {
            format,
            fail_on_alert,
            run,
        } => {
            let Some(opts) = options(run) else {
                return ExitCode::from(2);
            };
            let stdout = BufWriter::new(std::io::stdout().lock());
            let mut writer = match format {
                Format::Ndjson => Writer::ndjson(stdout),
                Format::Table => {
                    let colour = colour_wanted(
                        std::io::stdout().is_terminal(),
                        std::env::var_os("NO_COLOR").as_deref(),
                    );
                    Writer::table(stdout, colour)
                }
            };
            let Some(summary) = run_and_summarize(&opts, &mut writer) else {
                return ExitCode::from(2);
            };
            exit_code(&summary, fail_on_alert)
        }
        Command::Report {
            output,
            max_listed,
            run,
        } => {
            let Some(opts) = options(run) else {
                return ExitCode::from(2);
            };
            let mut collector = Collector::new(&opts.config, max_listed);
            let Some(summary) = run_and_summarize(&opts, &mut collector) else {
                return ExitCode::from(2);
            };
            let files: Vec<String> = opts.files.iter().map(|p| p.display().to_string()).collect();
            let page = collector.render(&summary, &files);
            if let Err(e) = std::fs::write(&output, page) {
                eprintln!("encchan: {}: {e}", output.display());
                return ExitCode::from(2);
            }
            exit_code(&summary, false)
        }
    }
}

fn generate_files(what: Generate) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    let result = match what {
        Generate::Man { dir: None } => generate::man_page(&mut stdout),
        Generate::Man { dir: Some(dir) } => generate::man_pages(&dir),
        Generate::Completions { shell } => {
            generate::completions(shell, &mut stdout);
            Ok(())
        }
    };
    match result.and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("encchan: {e}");
            ExitCode::from(2)
        }
    }
}

/// The run's options, or `None` after saying why on stderr.
fn options(run: RunArgs) -> Option<Options> {
    let config = match run.config {
        None => encchan_core::Config::default(),
        Some(path) => match std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|t| config_file::parse(&t))
        {
            Ok(c) => c,
            Err(e) => {
                eprintln!("encchan: {}: {e}", path.display());
                return None;
            }
        },
    };
    for p in &run.pcaps {
        match std::fs::metadata(p) {
            Err(e) => {
                eprintln!("encchan: {}: {e}", p.display());
                return None;
            }
            Ok(m) if m.is_dir() => {
                eprintln!("encchan: {}: is a directory, not a capture", p.display());
                return None;
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
    let total: u64 = run
        .pcaps
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    Some(Options {
        files: run.pcaps,
        config,
        limits: Limits {
            tcp_idle_us: micros(run.tcp_idle_timeout),
            udp_idle_us: micros(run.udp_idle_timeout),
            max_flows: usize::try_from(run.max_flows).unwrap_or(usize::MAX),
        },
        progress: std::io::stderr().is_terminal() && total > PROGRESS_MIN_BYTES,
    })
}

/// Runs, then reports unreadable files and the summary line on stderr;
/// `None` when the output could not be written.
fn run_and_summarize(opts: &Options, out: &mut impl Records) -> Option<Summary> {
    let started = Instant::now();
    let summary = match analyze::run(opts, out) {
        Ok(s) => s,
        // A closed pipe (`| head`) is a reader that has seen enough.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            eprintln!("encchan: writing output: {e}");
            return None;
        }
    };
    for e in &summary.errors {
        eprintln!("encchan: {e}");
    }
    eprintln!("{}", summary.line(started.elapsed()));
    Some(summary)
}

fn exit_code(summary: &Summary, fail_on_alert: bool) -> ExitCode {
    if !summary.errors.is_empty() {
        ExitCode::from(2)
    } else if fail_on_alert && summary.flows_with_alerts > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
