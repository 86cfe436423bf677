//! The command line's definition (clap derive). It lives in the library so
//! that the man page and the shell completions (`encchan generate`) are
//! generated from the very definition the binary parses with.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::sync::LazyLock;

/// `encchan --version`: the CLI's version and the engine's C ABI and
/// verdict-model versions, which sensors built against the engine report.
pub static VERSION: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{} (engine ABI {}, verdict model {})",
        env!("CARGO_PKG_VERSION"),
        encchan::ENCCHAN_ABI_VERSION,
        encchan_core::MODEL_VERSION
    )
});

#[derive(Parser)]
#[command(
    name = "encchan",
    version = VERSION.as_str(),
    about = "Find C2 hidden in encrypted channels (MITRE ATT&CK T1573)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Ndjson,
    Table,
}

/// What `analyze` and `report` share: the captures and how to read them.
#[derive(Args)]
pub struct RunArgs {
    /// TOML file with the engine's knobs (see README).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Seconds after which an idle UDP flow ends (0: never).
    #[arg(long, default_value_t = 60.0, value_parser = seconds)]
    pub udp_idle_timeout: f64,
    /// Seconds after which an idle TCP flow ends (0: never).
    #[arg(long, default_value_t = 300.0, value_parser = seconds)]
    pub tcp_idle_timeout: f64,
    /// Most flows tracked at once; the least recently active are ended
    /// first when full.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_flows: u64,
    /// Capture files (pcap or pcapng), read in order as one stream.
    #[arg(required = true)]
    pub pcaps: Vec<PathBuf>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Analyze pcap/pcapng captures: one record per flow.
    Analyze {
        /// Output format.
        #[arg(long, value_enum, default_value = "ndjson")]
        format: Format,
        /// Exit 1 when any flow raised an alert.
        #[arg(long)]
        fail_on_alert: bool,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Write one self-contained HTML page about captures: a summary, the
    /// flagged flows with their evidence, and charts (no scripts, nothing
    /// fetched).
    Report {
        /// The HTML file to write.
        #[arg(short, long)]
        output: PathBuf,
        /// Flagged flows described in full; the rest are counted.
        #[arg(long, default_value_t = 200)]
        max_listed: usize,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Print every knob of the engine with its default, as a `--config`
    /// file (with `--why`: the reason for each default).
    Knobs {
        /// Also print why each default is what it is.
        #[arg(long)]
        why: bool,
    },
    /// Generate the man page or shell completions (for packagers).
    #[command(hide = true)]
    Generate {
        #[command(subcommand)]
        what: Generate,
    },
}

#[derive(Subcommand)]
pub enum Generate {
    /// The man page encchan(1) on stdout, or with DIR one page per
    /// subcommand written there (encchan.1, encchan-analyze.1 …).
    Man { dir: Option<PathBuf> },
    /// Completions for a shell, on stdout.
    Completions { shell: clap_complete::Shell },
}

/// A non-negative, finite number of seconds.
fn seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("`{s}` is not a number of seconds (>= 0)")),
    }
}
