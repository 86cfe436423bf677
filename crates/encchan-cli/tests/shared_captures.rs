//! Every real capture in ../shared/captures through `encchan analyze`:
//!
//! * nDPI's regression captures come with nDPI's own per-flow verdicts
//!   (`result/*.out`). No flow that nDPI identifies as a standard protocol
//!   with a visible key exchange or in cleartext (TLS, SSH, QUIC, DNS, HTTP,
//!   mail, directory, database, VPN, VoIP signaling …) may be called
//!   `symmetric_only`; the flows that are flagged are listed.
//! * Zeek's captures have no per-flow oracle: flows to the well-known ports
//!   of those protocols must not be flagged.
//! * Nothing may crash, and every record must be valid JSON.

mod common;
use common::shared;

use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// nDPI protocol names (any dotted component) of standard protocols.
const KNOWN: &[&str] = &[
    "TLS",
    "SSH",
    "QUIC",
    "DNS",
    "HTTP",
    "DTLS",
    "SMTP",
    "SMTPS",
    "IMAP",
    "IMAPS",
    "POP3",
    "POP3S",
    "FTP_CONTROL",
    "MDNS",
    "LLMNR",
    "NTP",
    "DHCP",
    "DHCPV6",
    "SIP",
    "STUN",
    "Kerberos",
    "LDAP",
    "SMBv1",
    "SMBv23",
    "PostgreSQL",
    "MySQL",
    "RDP",
    "OpenVPN",
    "WireGuard",
    "IPSec",
    "Telnet",
    "SNMP",
    "Syslog",
    "NetBIOS",
    "SSDP",
    "RTP",
    "RTCP",
    "DoH_DoT",
    "HTTP_Proxy",
    "HTTP_Connect",
    "RTSP",
    "XMPP",
    "IRC",
    "NFS",
    "Radius",
    "TFTP",
];

/// Server ports of those protocols, for captures without an oracle.
const KNOWN_PORTS: &[u16] = &[
    20, 21, 22, 23, 25, 53, 67, 68, 80, 88, 110, 123, 137, 138, 139, 143, 161, 389, 443, 445, 465,
    500, 514, 587, 636, 853, 993, 995, 1194, 1812, 3306, 3389, 3478, 4500, 5060, 5061, 5353, 5355,
    5432, 8080, 8443, 51820,
];

fn captures(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("pcap" | "pcapng" | "cap" | "trace")
            ) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn analyze(path: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_encchan"))
        .arg("analyze")
        .arg(path)
        .output()
        .expect("run encchan");
    // 0, or 2 for the deliberately truncated/corrupt captures; never a crash.
    assert!(
        matches!(out.status.code(), Some(0 | 2)),
        "{}: {:?}",
        path.display(),
        out.status
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{}: bad JSON ({e})", path.display()))
        })
        .collect()
}

fn endpoint(e: &Value) -> String {
    let ip = e["ip"].as_str().unwrap_or_default();
    let port = e["port"].as_u64().unwrap_or_default();
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

/// nDPI's verdicts of one capture: flow key → protocol name.
fn ndpi_flows(out_file: &Path) -> HashMap<(String, String, String), String> {
    let text = std::fs::read_to_string(out_file).unwrap_or_default();
    let mut flows = HashMap::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let (Some(_), Some(proto), Some(a), Some(_), Some(b)) = (
            words.next(),
            words.next(),
            words.next(),
            words.next(),
            words.next(),
        ) else {
            continue;
        };
        if proto != "TCP" && proto != "UDP" {
            continue;
        }
        let Some(name) = line
            .split("[proto: ")
            .nth(1)
            .and_then(|s| s.split(']').next())
        else {
            continue;
        };
        let name = name.rsplit('/').next().unwrap_or(name).to_string();
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        flows.insert((proto.to_lowercase(), lo.to_string(), hi.to_string()), name);
    }
    flows
}

fn is_known(ndpi_name: &str) -> bool {
    ndpi_name.split('.').any(|part| KNOWN.contains(&part))
}

#[test]
fn ndpi_captures_known_protocols_are_never_symmetric_only() {
    let Some(shared) = shared("the shared-capture tests") else {
        return;
    };
    let mut flows = 0usize;
    let mut matched = 0usize;
    let mut flagged = Vec::new();
    let mut violations = Vec::new();
    for pcap in captures(&shared.join("ndpi/pcap")) {
        let name = pcap.file_name().unwrap().to_string_lossy().to_string();
        let oracle = ndpi_flows(&shared.join("ndpi/result").join(format!("{name}.out")));
        for r in analyze(&pcap) {
            flows += 1;
            let (a, b) = (endpoint(&r["client"]), endpoint(&r["server"]));
            let shown = format!("{a} -> {b}");
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            let key = (r["proto"].as_str().unwrap_or_default().to_string(), lo, hi);
            let ndpi = oracle.get(&key).cloned();
            matched += ndpi.is_some() as usize;
            let symmetric = r["alerts"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == "symmetric_only"));
            if symmetric {
                let label = ndpi.clone().unwrap_or_else(|| "?".into());
                flagged.push(format!("{name} {shown} nDPI={label}"));
                if ndpi.as_deref().is_some_and(is_known) {
                    violations.push(format!("{name} {shown} nDPI={label}: {r}"));
                }
            }
        }
    }
    eprintln!(
        "nDPI captures: {flows} flows, {matched} matched to nDPI's verdicts, {} symmetric_only:",
        flagged.len()
    );
    for f in &flagged {
        eprintln!("  {f}");
    }
    assert!(
        flows > 1000 && matched * 2 > flows,
        "flows {flows}, matched {matched}"
    );
    assert!(
        violations.is_empty(),
        "known protocols flagged symmetric_only:\n{}",
        violations.join("\n")
    );
}

#[test]
fn zeek_captures_known_ports_are_never_symmetric_only() {
    let Some(shared) = shared("the shared-capture tests") else {
        return;
    };
    let mut flows = 0usize;
    let mut violations = Vec::new();
    for pcap in captures(&shared.join("zeek")) {
        for r in analyze(&pcap) {
            flows += 1;
            let port = r["server"]["port"].as_u64().unwrap_or_default() as u16;
            let symmetric = r["alerts"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == "symmetric_only"));
            if symmetric && KNOWN_PORTS.contains(&port) {
                violations.push(format!("{}: {r}", pcap.display()));
            }
        }
    }
    eprintln!("Zeek captures: {flows} flows");
    assert!(flows > 300, "flows {flows}");
    assert!(
        violations.is_empty(),
        "flows on known ports flagged symmetric_only:\n{}",
        violations.join("\n")
    );
}
