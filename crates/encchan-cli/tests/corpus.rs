//! The labeled corpus (tests/corpus, recorded on loopback with real programs
//! by tests/corpus/record.sh): per class, every symmetric-only flow is
//! flagged, no benign flow is, and the TLS anomalies are alerted. The
//! carrier scenarios (labels-carriers.csv): every C2 flow inside HTTP,
//! WebSocket, a proxy or DNS raises its alert; the benign carriers raise
//! none at all.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

struct Label {
    pcap: String,
    transport: String,
    server_port: u64,
    class: String,
    expect_protocol: String,
    expect_alerts: Vec<String>,
}

fn labels(dir: &Path, file: &str) -> Vec<Label> {
    let text = std::fs::read_to_string(dir.join(file)).expect(file);
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.splitn(7, ',').collect();
            assert!(f.len() == 7, "bad label line: {l}");
            Label {
                pcap: f[0].into(),
                transport: f[1].into(),
                server_port: f[2].parse().expect("port"),
                class: f[3].into(),
                expect_protocol: f[4].into(),
                expect_alerts: f[5]
                    .split('|')
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect(),
            }
        })
        .collect()
}

fn analyze(pcap: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_encchan"))
        .arg("analyze")
        .arg(pcap)
        .output()
        .expect("run encchan");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}: {}",
        pcap.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect()
}

fn has_alert(r: &Value, name: &str) -> bool {
    r["alerts"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x == name))
}

/// Runs every labeled scenario of `file` and judges each of its flows with
/// `class_says` (what the label's class requires; the expected protocol is
/// checked here). Prints the per-class tally, fails on any miss, and
/// returns the tally (class → flows, correct).
fn judge_corpus(
    file: &str,
    class_says: impl Fn(&Label, &Value) -> Vec<String>,
) -> BTreeMap<String, (usize, usize)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus");
    let labels = labels(&dir, file);
    let mut tally: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for l in &labels {
        let flows: Vec<Value> = analyze(&dir.join("pcaps").join(&l.pcap))
            .into_iter()
            .filter(|r| r["proto"] == l.transport.as_str() && r["server"]["port"] == l.server_port)
            .collect();
        if flows.is_empty() {
            failures.push(format!(
                "{}: no {} flow to port {}",
                l.pcap, l.transport, l.server_port
            ));
            continue;
        }
        for r in &flows {
            let mut why = class_says(l, r);
            if !l.expect_protocol.is_empty() && r["protocol"] != l.expect_protocol.as_str() {
                why.push(format!(
                    "protocol {} instead of {}",
                    r["protocol"], l.expect_protocol
                ));
            }
            let entry = tally.entry(l.class.clone()).or_default();
            entry.0 += 1;
            if why.is_empty() {
                entry.1 += 1;
            } else {
                failures.push(format!("{}: {}: {r}", l.pcap, why.join(", ")));
            }
        }
    }
    eprintln!("{file}\n{:<20} {:>6} {:>8}", "class", "flows", "correct");
    for (class, (n, ok)) in &tally {
        eprintln!("{class:<20} {n:>6} {ok:>8}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    tally
}

/// The expected alerts a label lists that the flow did not raise.
fn missing(l: &Label, r: &Value) -> Vec<String> {
    l.expect_alerts
        .iter()
        .filter(|a| !has_alert(r, a))
        .map(|a| format!("missing {a}"))
        .collect()
}

#[test]
fn every_class_gets_its_verdict() {
    let tally = judge_corpus("labels.csv", |l, r| {
        let mut why = missing(l, r);
        let symmetric = has_alert(r, "symmetric_only");
        match l.class.as_str() {
            "symmetric_only" if !symmetric => why.push("not flagged symmetric_only".into()),
            c if c != "symmetric_only" && symmetric => {
                why.push("benign flow flagged symmetric_only".into())
            }
            _ => {}
        }
        why
    });
    assert!(
        tally.values().map(|t| t.0).sum::<usize>() >= 15,
        "corpus too small"
    );
    for class in [
        "benign_tls",
        "benign_ssh",
        "benign_plaintext",
        "benign_compressed",
        "symmetric_only",
        "tls_anomaly",
    ] {
        assert!(
            tally.contains_key(class),
            "no {class} scenario in the corpus"
        );
    }
}

#[test]
fn every_carrier_scenario_gets_its_verdict() {
    let tally = judge_corpus("labels-carriers.csv", |l, r| match l.class.as_str() {
        "carrier_c2" => {
            assert!(!l.expect_alerts.is_empty(), "{}: no expected alert", l.pcap);
            missing(l, r)
        }
        "benign_carrier" if r["alerts"].as_array().is_some_and(|a| !a.is_empty()) => {
            vec![format!("benign flow raised {}", r["alerts"])]
        }
        _ => vec![],
    });
    assert!(tally.contains_key("carrier_c2") && tally.contains_key("benign_carrier"));
}

#[test]
fn bundled_sample_has_both_kinds() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/sample.pcap");
    let recs = analyze(&sample);
    assert!(recs.iter().any(|r| has_alert(r, "symmetric_only")));
    assert!(recs
        .iter()
        .any(|r| r["protocol"] == "tls" && r["alerts"].as_array().is_some_and(|a| a.is_empty())));
}
