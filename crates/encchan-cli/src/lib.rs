//! The `encchan` command line: captures in, one verdict per flow out. It
//! moves bytes into the engine (`encchan-core`) and verdicts out; every
//! judgement is the engine's.

pub mod analyze;
pub mod args;
pub mod config_file;
pub mod decode;
pub mod flows;
pub mod generate;
pub mod output;
pub mod pcap;
pub mod reassembly;
pub mod report;
