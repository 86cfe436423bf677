//! No input may crash the analyzer: real captures with bytes flipped, cut
//! at every kind of place, or run through a tiny flow table go through the
//! whole pipeline (reader, decoder, flow table, reassembly, engine, output)
//! in-process, and every record must still be valid JSON.

mod common;
use common::shared;

use encchan_cli::analyze::{self, Options};
use encchan_cli::flows::Limits;
use encchan_cli::output::Writer;
use std::path::{Path, PathBuf};

/// Runs the analyzer on `file`; returns the number of records and errors.
fn run(file: &Path, limits: Limits) -> (usize, usize) {
    let opts = Options {
        files: vec![file.to_path_buf()],
        config: encchan_core::Config::default(),
        limits,
        progress: false,
    };
    let mut writer = Writer::ndjson(Vec::new());
    let summary = analyze::run(&opts, &mut writer).expect("writing to memory");
    let Writer::Ndjson(out) = writer else {
        unreachable!()
    };
    let text = String::from_utf8(out).expect("UTF-8 output");
    let mut n = 0;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("valid JSON");
        assert!(v["proto"].is_string());
        n += 1;
    }
    assert_eq!(n as u64, summary.flows);
    (n, summary.errors.len())
}

/// xorshift64*: deterministic mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const CAPTURES: &[&str] = &[
    "ndpi/pcap/tls_verylong_certificate.pcap",
    "ndpi/pcap/ssh.pcap",
    "ndpi/pcap/quic-v2.pcapng",
    "ndpi/pcap/rdp.pcap",
    "zeek/http-qinq-0.pcap",
    "zeek/tunnels/gtp/gtp_ext_header.pcap",
];

#[test]
fn flipped_bytes_never_crash() {
    let Some(shared) = shared("robustness tests") else {
        return;
    };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("mutated");
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (k, case) in CAPTURES.iter().enumerate() {
        let original = std::fs::read(shared.join(case)).unwrap();
        let path = dir.join(format!("m{k}.cap"));
        for round in 0..40 {
            let mut bytes = original.clone();
            // Past the file header, mostly; sometimes anywhere.
            let from = if round % 8 == 0 { 0 } else { 24 };
            for _ in 0..1 + rng.below(16) {
                let at = from + rng.below(bytes.len().saturating_sub(from));
                if let Some(b) = bytes.get_mut(at) {
                    *b = match rng.below(4) {
                        0 => 0,
                        1 => 0xff,
                        _ => rng.next() as u8,
                    };
                }
            }
            std::fs::write(&path, &bytes).unwrap();
            run(&path, Limits::default());
        }
    }
}

#[test]
fn cut_anywhere_never_crashes() {
    let Some(shared) = shared("robustness tests") else {
        return;
    };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cut");
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Rng(42);
    for (k, case) in CAPTURES.iter().enumerate() {
        let original = std::fs::read(shared.join(case)).unwrap();
        let (whole, _) = run(&shared.join(case), Limits::default());
        let path = dir.join(format!("c{k}.cap"));
        for _ in 0..20 {
            let n = rng.below(original.len());
            std::fs::write(&path, &original[..n]).unwrap();
            let (flows, errors) = run(&path, Limits::default());
            assert!(flows <= whole + 1, "{case} cut at {n}: {flows} > {whole}");
            assert!(errors <= 1);
        }
    }
}

#[test]
fn tiny_flow_table_and_timeouts() {
    let Some(shared) = shared("robustness tests") else {
        return;
    };
    for case in CAPTURES {
        let path = shared.join(case);
        let (normal, _) = run(&path, Limits::default());
        let tiny = Limits {
            tcp_idle_us: 1,
            udp_idle_us: 1,
            max_flows: 1,
        };
        let (split, _) = run(&path, tiny);
        assert!(split >= normal, "{case}: {split} < {normal}");
    }
}
