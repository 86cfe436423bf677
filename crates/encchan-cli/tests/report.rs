//! `encchan report` end to end: the page of many flows stays bounded and
//! says what it left out; its flagged flows are `analyze`'s.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn encchan(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_encchan"))
        .args(args)
        .output()
        .expect("run encchan")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("encchan-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A pcap (raw IPv4) of `flows` UDP flows of one datagram each: every
/// tenth carries 600 pseudo-random bytes to port 4444, the others a line
/// of text to port 9999.
fn many_flows_pcap(path: &Path, flows: u32) {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&101u32.to_le_bytes());
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..flows {
        let payload: Vec<u8> = if i % 10 == 0 {
            (0..600)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect()
        } else {
            format!("status report {i}: all quiet on this host, nothing to say\n").into_bytes()
        };
        let dport: u16 = if i % 10 == 0 { 4444 } else { 9999 };
        let len = 28 + payload.len();
        let mut ip = vec![
            0x45,
            0,
            (len >> 8) as u8,
            len as u8,
            0,
            0,
            0x40,
            0,
            64,
            17,
            0,
            0,
        ];
        ip.extend_from_slice(&[10, (i >> 16) as u8, (i >> 8) as u8, i as u8]);
        ip.extend_from_slice(&[192, 0, 2, 1]);
        ip.extend_from_slice(&40000u16.to_be_bytes());
        ip.extend_from_slice(&dport.to_be_bytes());
        ip.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        ip.extend_from_slice(&[0, 0]);
        ip.extend_from_slice(&payload);
        out.extend_from_slice(&(1_700_000_000 + i / 100).to_le_bytes());
        out.extend_from_slice(&(i % 100 * 1000).to_le_bytes());
        out.extend_from_slice(&(ip.len() as u32).to_le_bytes());
        out.extend_from_slice(&(ip.len() as u32).to_le_bytes());
        out.extend_from_slice(&ip);
    }
    std::fs::write(path, out).unwrap();
}

fn flagged_in_analyze(pcap: &str) -> usize {
    let out = encchan(&["analyze", pcap]);
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| !r["alerts"].as_array().unwrap().is_empty())
        .count()
}

#[test]
fn thousands_of_flows_stay_readable() {
    let pcap = tmp("many.pcap");
    let flows = 5000;
    many_flows_pcap(&pcap, flows);
    let pcap = pcap.to_str().unwrap();
    let flagged = flagged_in_analyze(pcap);
    assert!(flagged >= 400, "the noisy flows are flagged: {flagged}");
    let html = tmp("many.html");
    let listed = 50;
    let out = encchan(&[
        "report",
        "--max-listed",
        &listed.to_string(),
        "-o",
        html.to_str().unwrap(),
        pcap,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert_eq!(page.matches("<article class=\"flow\"").count(), listed);
    let more = format!("{} more are counted", flagged - listed);
    assert!(page.contains(&more), "says how many it left out ({more})");
    // The clean flows are over the dot limit: binned; the flagged are dots.
    let scatter = &page[page.find("<svg id=\"scatter\"").unwrap()..];
    let scatter = &scatter[..scatter.find("</svg>").unwrap()];
    assert_eq!(scatter.matches("<circle").count(), flagged);
    assert!(scatter.contains("<rect x") && scatter.contains("flows</title>"));
    assert!(page.len() < 2 << 20, "{} bytes", page.len());
}

#[test]
fn the_corpus_report_lists_analyzes_flagged_flows() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/pcaps");
    let mut pcaps: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .filter(|p| p.ends_with(".pcap"))
        .collect();
    pcaps.sort();
    let html = tmp("corpus.html");
    let mut args = vec!["report", "-o", html.to_str().unwrap()];
    args.extend(pcaps.iter().map(String::as_str));
    assert_eq!(encchan(&args).status.code(), Some(0));
    let page = std::fs::read_to_string(&html).unwrap();
    let mut args = vec!["analyze"];
    args.extend(pcaps.iter().map(String::as_str));
    let out = encchan(&args);
    let mut flagged = 0;
    for r in String::from_utf8_lossy(&out.stdout).lines() {
        let r: Value = serde_json::from_str(r).unwrap();
        let alerts: Vec<&str> = r["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        if alerts.is_empty() {
            continue;
        }
        flagged += 1;
        let key = format!(
            "data-flow=\"{} {} {} {} {}\" data-alerts=\"{}\"",
            r["proto"].as_str().unwrap(),
            r["client"]["ip"].as_str().unwrap(),
            r["client"]["port"],
            r["server"]["ip"].as_str().unwrap(),
            r["server"]["port"],
            alerts.join(" ")
        );
        assert!(page.contains(&key), "{key}");
    }
    assert!(flagged > 0);
    assert_eq!(page.matches("<article class=\"flow\"").count(), flagged);
    assert!(!page.contains("<script") && !page.contains("src=\"http"));
}
