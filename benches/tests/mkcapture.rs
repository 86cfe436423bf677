//! mkcapture on small outputs: every frame decodes, checksums hold,
//! replicas are distinct flows, the flood has exactly its flows, and
//! `encchan analyze` reads the result.

use encchan_cli::{decode, pcap};
use std::collections::HashSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs mkcapture; returns the number of flows it says it started.
fn mkcapture(args: &[&str], out: &Path) -> usize {
    let run = Command::new(env!("CARGO_BIN_EXE_mkcapture"))
        .arg("--out")
        .arg(out)
        .args(args)
        .output()
        .expect("run mkcapture");
    let said = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{said}");
    let line = said.lines().last().unwrap_or_default();
    let flows = line
        .split(", ")
        .find_map(|part| part.strip_suffix(" flows started"))
        .unwrap_or_else(|| panic!("no flow count in {line:?}"));
    flows.parse().expect("a flow count")
}

fn ipv4_header_ok(frame: &[u8]) -> bool {
    if frame[12..14] != [0x08, 0x00] {
        return true;
    }
    let ip = &frame[14..];
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let mut s = 0u32;
    for c in ip[..ihl].chunks(2) {
        s += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    s == 0xffff
}

type FlowKey = (IpAddr, u16, IpAddr, u16);

fn read(path: &Path) -> (usize, HashSet<FlowKey>) {
    let (mut packets, mut flows) = (0usize, HashSet::new());
    pcap::read(path, |p| {
        packets += 1;
        assert!(ipv4_header_ok(p.data), "bad IPv4 header checksum");
        let seg = decode::decode(p.linktype, p.data).expect("every frame decodes");
        let (a, b) = ((seg.src, seg.sport), (seg.dst, seg.dport));
        let (lo, hi) = if a < b { (a, b) } else { (b, a) };
        flows.insert((lo.0, lo.1, hi.0, hi.1));
    })
    .expect("readable capture");
    (packets, flows)
}

#[test]
fn mixed_capture_is_valid_and_replicas_are_distinct() {
    let dir = std::env::temp_dir().join(format!("mkcapture-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("mixed.pcap");
    let corpus = root().join("tests/corpus/pcaps");
    let started = mkcapture(
        &[
            "--size-mib",
            "2",
            "--symmetric-share",
            "0.2",
            corpus.to_str().unwrap(),
        ],
        &out,
    );
    let size = std::fs::metadata(&out).unwrap().len();
    assert!((2 << 20..(2 << 20) + 70_000).contains(&size), "size {size}");
    let (packets, flows) = read(&out);
    assert!(packets > 1000, "{packets} packets");
    // 21 corpus captures hold ~40 flows; replicas multiply them.
    assert!(flows.len() > 100, "{} distinct flows", flows.len());
    // The count it reports is the flows in the file, not the replicas it
    // scheduled past the size cut.
    assert_eq!(started, flows.len());
    // Client addresses are rewritten into 10/8 or fd00::/16.
    assert!(flows
        .iter()
        .all(|(a, _, b, _)| [a, b].iter().any(|ip| match ip {
            IpAddr::V4(v) => v.octets()[0] == 10,
            IpAddr::V6(v) => v.octets()[0] == 0xfd,
        })));
    // The engine judges the symmetric-only replicas as such.
    let opts = encchan_cli::analyze::Options {
        files: vec![out.clone()],
        config: Default::default(),
        limits: Default::default(),
        progress: false,
    };
    let mut writer = encchan_cli::output::Writer::ndjson(Vec::new());
    let summary = encchan_cli::analyze::run(&opts, &mut writer).unwrap();
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    assert!(
        summary.per_alert[0] > 0,
        "no symmetric_only flow: {summary:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn flood_has_exactly_its_flows() {
    let dir = std::env::temp_dir().join(format!("mkcapture-flood-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("flood.pcap");
    assert_eq!(mkcapture(&["--flood", "25000"], &out), 25_000);
    let (packets, flows) = read(&out);
    assert_eq!(packets, 4 * 25_000);
    assert_eq!(flows.len(), 25_000);
    let _ = std::fs::remove_dir_all(&dir);
}
