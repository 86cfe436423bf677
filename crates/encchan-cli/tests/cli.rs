//! The `encchan` binary end to end: the NDJSON contract, exit codes, bad
//! input, link types, on real captures from ../shared/captures.

mod common;
use common::shared;

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn encchan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_encchan"))
        .args(args)
        .output()
        .expect("run encchan")
}

fn records(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

const CONTRACT: &[&str] = &[
    "proto",
    "client",
    "server",
    "protocol",
    "content",
    "alerts",
    "evidence",
    "bytes",
    "entropy",
    "decided_after_bytes",
    "inspection_ended_at",
    "first_ts",
    "last_ts",
];

fn check_contract(r: &Value) {
    for key in CONTRACT {
        assert!(r.get(key).is_some(), "missing {key} in {r}");
    }
    for side in ["client", "server"] {
        assert!(
            r["client"]["ip"].is_string() && r[side]["port"].is_u64(),
            "{r}"
        );
        assert!(r["bytes"][side].is_u64());
        assert!(r["entropy"][side].is_f64() || r["entropy"][side].is_null());
        assert!(
            r["inspection_ended_at"][side].is_u64() || r["inspection_ended_at"][side].is_null()
        );
    }
    // An alert says when it was first published; no alert, no moment.
    let alerted = !r["alerts"].as_array().unwrap().is_empty();
    assert_eq!(r["decided_after_bytes"].is_object(), alerted, "{r}");
    assert_eq!(r["decided_at_end"].is_boolean(), alerted, "{r}");
    if alerted {
        for side in ["client", "server"] {
            let at = r["decided_after_bytes"][side].as_u64().unwrap();
            assert!(at <= r["bytes"][side].as_u64().unwrap(), "{r}");
        }
    }
    assert!(matches!(r["proto"].as_str(), Some("tcp" | "udp")));
    assert!(r["first_ts"].as_f64().unwrap() <= r["last_ts"].as_f64().unwrap());
    // Every alert has its evidence, and nothing else does.
    let alerts: Vec<&str> = r["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let evidence = r["evidence"].as_object().unwrap();
    assert_eq!(evidence.len(), alerts.len(), "{r}");
    for a in alerts {
        assert!(evidence.contains_key(a), "{r}");
    }
}

#[test]
fn tls_ssh_dns_records_follow_the_contract() {
    let Some(shared) = shared("CLI tests on real captures") else {
        return;
    };
    let files = [
        "ndpi/pcap/tls_verylong_certificate.pcap",
        "ndpi/pcap/ssh.pcap",
        "ndpi/pcap/dns.pcap",
    ];
    let paths: Vec<String> = files
        .iter()
        .map(|f| shared.join(f).display().to_string())
        .collect();
    let mut args = vec!["analyze"];
    args.extend(paths.iter().map(String::as_str));
    let out = encchan(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recs = records(&out);
    assert!(recs.len() >= 3);
    recs.iter().for_each(check_contract);
    let by_protocol = |p: &str| recs.iter().filter(|r| r["protocol"] == p).count();
    assert!(by_protocol("tls") >= 1 && by_protocol("ssh") >= 1 && by_protocol("dns") >= 1);
    let tls = recs.iter().find(|r| r["protocol"] == "tls").unwrap();
    assert_eq!(tls["tls"]["cipher_suite"], "0xc02f");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("flows"),
        "summary line on stderr"
    );
}

#[test]
fn shadowsocks_is_symmetric_only_and_fail_on_alert_exits_1() {
    let Some(shared) = shared("CLI tests on real captures") else {
        return;
    };
    let path = shared.join("ndpi/pcap/shadowsocks.pcap");
    let out = encchan(&["analyze", "--fail-on-alert", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let recs = records(&out);
    let ss = recs
        .iter()
        .find(|r| r["server"]["port"] == 8388)
        .expect("the shadowsocks flow");
    assert_eq!(ss["alerts"], serde_json::json!(["symmetric_only"]));
    let ev = &ss["evidence"]["symmetric_only"];
    assert!(
        ev["entropy"].as_f64().unwrap() > 7.5 && ev["bytes_inspected"].as_u64().unwrap() > 0,
        "{ev}"
    );
}

#[test]
fn truncated_capture_reports_file_and_offset_and_keeps_flows() {
    let Some(shared) = shared("CLI tests on real captures") else {
        return;
    };
    let src = std::fs::read(shared.join("ndpi/pcap/ssh.pcap")).unwrap();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let cut = dir.join("truncated.pcap");
    // Cut in the middle of a late packet.
    std::fs::write(&cut, &src[..src.len() * 3 / 4 + 7]).unwrap();
    let out = encchan(&["analyze", cut.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("truncated.pcap") && stderr.contains("offset"),
        "{stderr}"
    );
    let recs = records(&out);
    assert!(!recs.is_empty(), "flows read before the cut are reported");
    assert!(recs.iter().any(|r| r["protocol"] == "ssh"));
}

#[test]
fn garbage_and_missing_files_exit_2_without_panic() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let garbage = dir.join("garbage.pcap");
    std::fs::write(&garbage, b"this is not a capture at all, just text").unwrap();
    let out = encchan(&["analyze", garbage.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("garbage.pcap"));
    let out = encchan(&["analyze", "/nonexistent/capture.pcap"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/capture.pcap"));
    let out = encchan(&["analyze"]);
    assert_eq!(out.status.code(), Some(2), "usage error");
    let out = encchan(&["analyze", "--format", "xml", "x.pcap"]);
    assert_eq!(out.status.code(), Some(2), "usage error");
}

/// Each link type and file format, with a protocol one of its flows must
/// be recognized as (so that the payload really got through the decoder).
const LINK_CASES: &[(&str, &str, &str)] = &[
    // (capture, what it exercises, expected protocol)
    ("zeek/http-vlan-0.pcap", "Ethernet 802.1Q", "http"),
    ("zeek/http-qinq-0.pcap", "Ethernet QinQ", "http"),
    ("zeek/erspan.pcap", "GRE/ERSPAN tunnel", ""),
    ("ndpi/pcap/discord_mid_flow.pcap", "PPPoE", ""),
    ("ndpi/pcap/dns2tcp_tunnel.pcap", "Linux SLL", "tls"),
    ("ndpi/pcap/quic-v2.pcapng", "pcapng, Linux SLL", "quic"),
    ("ndpi/pcap/rdp.pcap", "BSD NULL", "rdp"),
    ("ndpi/pcap/openwire.pcapng", "pcapng, BSD NULL", ""),
    ("ndpi/pcap/hls.pcapng", "pcapng, raw IP (101)", "http"),
    (
        "zeek/http/261/variant-02-cl_uint64max.pcap",
        "raw IPv4 (228)",
        "http",
    ),
    ("zeek/ppp/quic-interop-retry.pcap", "PPP", "quic"),
    (
        "ndpi/pcap/BGP_Cisco_hdlc_slarp.pcap",
        "Cisco HDLC framing under PPP",
        "",
    ),
    ("zeek/dns-inverse-query.pcap", "FDDI", "dns"),
    ("zeek/nflog-http.pcap", "NFLOG", "http"),
    (
        "ndpi/pcap/someip_sd_sample.pcap",
        "PPI, nanosecond pcap",
        "",
    ),
    (
        "zeek/http/get-to-ssh-server.pcap",
        "nanosecond pcap",
        "http",
    ),
    ("ndpi/pcap/nfsv3.pcap", "big-endian pcap", ""),
    ("ndpi/pcap/anydesk.pcapng", "pcapng, Ethernet", ""),
];

#[test]
fn link_types_and_pcapng() {
    let Some(shared) = shared("CLI tests on real captures") else {
        return;
    };
    for (case, what, protocol) in LINK_CASES {
        let path = shared.join(case);
        assert!(path.exists(), "{case} is missing from the shared captures");
        let out = encchan(&["analyze", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{case} ({what}): {stderr}");
        let recs = records(&out);
        recs.iter().for_each(check_contract);
        assert!(!recs.is_empty(), "{case} ({what}): no flows decoded");
        assert!(
            stderr.contains("unknown_linktype_skipped=0"),
            "{case} ({what}): {stderr}"
        );
        if !protocol.is_empty() {
            // The protocol itself, or the carrier of what it upgraded to
            // (RDP's TLS).
            assert!(
                recs.iter()
                    .any(|r| r["protocol"] == *protocol || r["carrier"] == *protocol),
                "{case} ({what}): no {protocol} flow"
            );
        }
    }
}

/// Offsets of the record boundaries of a little-endian microsecond pcap.
fn pcap_boundaries(bytes: &[u8]) -> Vec<usize> {
    let mut at = 24;
    let mut out = Vec::new();
    while at + 16 <= bytes.len() {
        out.push(at);
        let caplen = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + caplen;
    }
    out
}

#[test]
fn truncated_capture_offset_is_the_broken_record() {
    let Some(shared) = shared("CLI tests on real captures") else {
        return;
    };
    let src = std::fs::read(shared.join("zeek/ssh/sshguess.pcap")).unwrap();
    assert_eq!(&src[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "little-endian pcap");
    let starts = pcap_boundaries(&src);
    let broken = starts[starts.len() / 2];
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let cut = dir.join("cut-mid-record.pcap");
    std::fs::write(&cut, &src[..broken + 20]).unwrap();
    let out = encchan(&["analyze", cut.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "cut-mid-record.pcap: at byte offset {broken}: truncated"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("packets={}", starts.len() / 2)),
        "{stderr}"
    );
    // The records come first, then the error; the summary is printed too.
    assert!(!records(&out).is_empty());
}

#[test]
fn truncated_pcapng_and_errors_in_one_of_several_files() {
    let Some(shared) = shared("CLI tests on real captures") else {
        return;
    };
    let good = shared.join("ndpi/pcap/quic-v2.pcapng");
    let src = std::fs::read(&good).unwrap();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let cut = dir.join("cut.pcapng");
    std::fs::write(&cut, &src[..src.len() - 10]).unwrap();
    let dns = shared.join("ndpi/pcap/dns.pcap");
    let out = encchan(&["analyze", cut.to_str().unwrap(), dns.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cut.pcapng: at byte offset") && stderr.contains("truncated"),
        "{stderr}"
    );
    // The file after the broken one is still read.
    let recs = records(&out);
    assert!(recs.iter().any(|r| r["protocol"] == "quic"));
    assert!(recs.iter().any(|r| r["protocol"] == "dns"));
    assert!(recs.iter().all(|r| r["pcap"].is_string()));
}

#[test]
fn flow_table_options() {
    let Some(shared) = shared("CLI tests on real captures") else {
        return;
    };
    let path = shared.join("ndpi/pcap/dns.pcap");
    let p = path.to_str().unwrap();
    let all = records(&encchan(&["analyze", p]));
    // One flow at a time: every flow is still reported, some evicted.
    let out = encchan(&["analyze", "--max-flows", "1", p]);
    assert_eq!(out.status.code(), Some(0));
    let one = records(&out);
    assert!(one.len() >= all.len(), "{} < {}", one.len(), all.len());
    for bad in [
        &["--max-flows", "0"][..],
        &["--udp-idle-timeout", "-1"],
        &["--tcp-idle-timeout", "soon"],
        &["--udp-idle-timeout", "NaN"],
    ] {
        let mut args = vec!["analyze"];
        args.extend_from_slice(bad);
        args.push(p);
        let out = encchan(&args);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(out.stdout.is_empty());
    }
    let out = encchan(&[
        "analyze",
        "--udp-idle-timeout",
        "0.5",
        "--tcp-idle-timeout",
        "0",
        p,
    ]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn table_format_and_config_file() {
    let Some(shared) = shared("CLI tests on real captures") else {
        return;
    };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let cfg = dir.join("strict.toml");
    std::fs::write(
        &cfg,
        "entropy_threshold = 7.9\n[ports]\nplaintext = [8388]\n",
    )
    .unwrap();
    let path = shared.join("ndpi/pcap/shadowsocks.pcap");
    let out = encchan(&[
        "analyze",
        "--format",
        "table",
        "--config",
        cfg.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().next().unwrap().starts_with("proto"));
    assert!(text.contains("encrypted_on_plaintext_port"), "{text}");
    std::fs::write(&cfg, "entropy_threshold = 12\n").unwrap();
    let out = encchan(&[
        "analyze",
        "--config",
        cfg.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("entropy_threshold"));
}
