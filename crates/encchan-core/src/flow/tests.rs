use super::*;

fn xorshift_fill(seed: u64, out: &mut [u8]) {
    let mut x = seed | 1;
    for b in out.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = (x >> 24) as u8;
    }
}

fn run(transport: Transport, port: u16, chunks: &[(Direction, &[u8])], step: usize) -> Verdict {
    let cfg = Config::default();
    let mut flow = Flow::new(transport, 40000, port, FlowStart::Observed, 1_000_000);
    let mut ts = 1_000_000;
    for (dir, bytes) in chunks {
        for piece in bytes.chunks(step.max(1)) {
            ts += 10;
            flow.feed(&cfg, *dir, piece, ts);
        }
    }
    flow.finish(&cfg, ts + 10);
    flow.verdict(&cfg)
}

#[test]
fn ciphertext_without_handshake_is_symmetric_only() {
    let mut c = [0u8; 700];
    let mut s = [0u8; 3000];
    xorshift_fill(1, &mut c);
    xorshift_fill(2, &mut s);
    for step in [1, 13, 1460] {
        let v = run(
            Transport::Tcp,
            4444,
            &[(Direction::ToServer, &c), (Direction::ToClient, &s)],
            step,
        );
        assert!(
            v.alerts.contains(Alert::SymmetricOnly),
            "step {step}: {v:?}"
        );
        assert_eq!(v.content, Content::Encrypted);
        assert_eq!(v.protocol, None);
        assert_eq!(v.evidence.high_entropy_direction, Some(Direction::ToClient));
    }
}

#[test]
fn verdict_does_not_depend_on_chunking() {
    let mut data = [0u8; 5000];
    xorshift_fill(9, &mut data[300..]);
    data[..300].copy_from_slice(&[b'A'; 300]);
    let whole = run(Transport::Tcp, 9000, &[(Direction::ToServer, &data)], 5000);
    for step in [1, 2, 31, 32, 33, 999] {
        let v = run(Transport::Tcp, 9000, &[(Direction::ToServer, &data)], step);
        assert_eq!(v.alerts, whole.alerts);
        assert_eq!(v.dirs[0].entropy, whole.dirs[0].entropy);
        assert_eq!(v.dirs[0].collisions, whole.dirs[0].collisions);
    }
}

#[test]
fn text_and_compressed_are_not_flagged() {
    let text = b"USER anonymous\r\nPASS guest\r\nLIST\r\nRETR readme.txt\r\nQUIT\r\n";
    let v = run(Transport::Tcp, 2121, &[(Direction::ToServer, text)], 7);
    assert!(v.alerts.is_empty(), "{v:?}");
    // A gzip member (real header, fixed-Huffman block) followed by bytes.
    let mut gz = [0u8; 2000];
    xorshift_fill(3, &mut gz);
    // `printf 'hello hello hello\n' | gzip -c -n`: a whole member.
    gz[..29].copy_from_slice(&[
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9,
        0x57, 0xc8, 0x40, 0x90, 0x5c, 0x00, 0x3b, 0x7c, 0x8a, 0xdf, 0x12, 0x00, 0x00, 0x00,
    ]);
    let v = run(Transport::Tcp, 9001, &[(Direction::ToClient, &gz)], 100);
    assert_eq!(v.dirs[1].format, Some(Format::Gzip));
    assert!(!v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
    assert_eq!(v.content, Content::Compressed);
}

#[test]
fn openssl_salted_is_symmetric_even_when_short() {
    let mut m = [0u8; 48];
    xorshift_fill(4, &mut m);
    m[..8].copy_from_slice(b"Salted__");
    let v = run(Transport::Tcp, 8081, &[(Direction::ToServer, &m)], 48);
    assert!(v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
    assert_eq!(v.dirs[0].format, Some(Format::OpensslSalted));
}

#[test]
fn midstream_tcp_is_not_called_symmetric() {
    let cfg = Config::default();
    let mut d = [0u8; 2000];
    xorshift_fill(5, &mut d);
    let mut flow = Flow::new(Transport::Tcp, 40000, 22, FlowStart::Midstream, 0);
    flow.feed(&cfg, Direction::ToClient, &d, 1);
    flow.finish(&cfg, 2);
    let v = flow.verdict(&cfg);
    assert!(!v.alerts.contains(Alert::SymmetricOnly));
    assert_eq!(v.content, Content::Encrypted);
}

#[test]
fn fake_tls_prefix_then_random_is_flagged_not_tls() {
    // A plausible ClientHello record header + message header, then noise.
    let mut c = [0u8; 1500];
    xorshift_fill(6, &mut c);
    c[..9].copy_from_slice(&[22, 3, 1, 0x02, 0x00, 1, 0, 0x01, 0xfc]);
    let mut s = [0u8; 1500];
    xorshift_fill(7, &mut s);
    let v = run(
        Transport::Tcp,
        443,
        &[(Direction::ToServer, &c), (Direction::ToClient, &s)],
        200,
    );
    assert_eq!(v.protocol, None, "{v:?}");
    assert!(v.alerts.contains(Alert::SymmetricOnly));
    assert!(v.alerts.contains(Alert::HandshakeMalformed));
}

#[test]
fn early_verdict_stops_inspection_but_keeps_counting() {
    let cfg = Config::default();
    let mut d = [0u8; 1460];
    xorshift_fill(8, &mut d);
    let mut flow = Flow::new(Transport::Udp, 5000, 6000, FlowStart::Observed, 0);
    for k in 0..10 {
        flow.feed(&cfg, Direction::ToServer, &d, k);
        flow.feed(&cfg, Direction::ToClient, &d, k);
    }
    assert!(flow.is_decided());
    let before = flow.verdict(&cfg);
    let snapshot = flow;
    let late = b"plain text now plain text now plain text now";
    flow.feed(&cfg, Direction::ToServer, late, 20);
    let after = flow.verdict(&cfg);
    assert_eq!(
        after.dirs[0].bytes,
        before.dirs[0].bytes + late.len() as u64
    );
    assert_eq!(after.dirs[0].entropy, before.dirs[0].entropy);
    assert_eq!(after.alerts, before.alerts);
    assert_eq!(before.dirs[0].decided_after, Some(4096));
    assert_eq!(core::mem::size_of_val(&snapshot), Flow::SIZE);
}

#[test]
fn client_heavy_volume_is_asymmetric() {
    let cfg = Config::default();
    let mut flow = Flow::new(Transport::Tcp, 40000, 443, FlowStart::Observed, 0);
    flow.account(Direction::ToServer, 5 << 20, 1);
    flow.account(Direction::ToClient, 100_000, 2);
    let v = flow.verdict(&cfg);
    assert!(v.alerts.contains(Alert::TrafficAsymmetry));
    assert!(v.evidence.asymmetry_ratio.unwrap() > 50.0);
}

fn assert_chunking_invariant(client: &[u8], server: &[u8]) {
    let whole = run_both(client, server, usize::MAX >> 1);
    for step in 1..=64 {
        assert_eq!(run_both(client, server, step), whole, "step {step}");
    }
}

fn run_both(client: &[u8], server: &[u8], step: usize) -> Verdict {
    let cfg = Config::default();
    let mut flow = Flow::new(Transport::Tcp, 40000, 4444, FlowStart::Observed, 0);
    for piece in client.chunks(step) {
        flow.feed(&cfg, Direction::ToServer, piece, 1);
    }
    for piece in server.chunks(step) {
        flow.feed(&cfg, Direction::ToClient, piece, 2);
    }
    flow.finish(&cfg, 3);
    flow.verdict(&cfg)
}

/// Found by the chunking_invariance fuzz target: the OpenVPN-over-TCP walker
/// reported the chunk's offset instead of the bad byte's.
#[test]
fn fuzz_regression_openvpn_error_offset() {
    let client = [
        0x00, 0x25, 0x50, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x44, 0x46, 0x2d, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0x17, 0x17, 0x00, 0x00, 0x00, 0x27, 0xff, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x28,
    ];
    assert_chunking_invariant(&client, &[]);
}

/// A minimal valid ClientHello record offering TLS_AES_128_GCM_SHA256.
fn client_hello() -> [u8; 52] {
    let mut r = [0u8; 52];
    r[..5].copy_from_slice(&[22, 3, 1, 0, 47]);
    r[5..9].copy_from_slice(&[1, 0, 0, 43]);
    r[9..11].copy_from_slice(&[3, 3]);
    // random (32) stays zero, session id length 0
    r[43] = 0;
    r[44..48].copy_from_slice(&[0, 2, 0x13, 0x01]);
    r[48..50].copy_from_slice(&[1, 0]);
    r[50..52].copy_from_slice(&[0, 0]);
    r
}

#[test]
fn hello_answered_with_ciphertext_is_symmetric_only() {
    let mut s = [0u8; 2000];
    xorshift_fill(21, &mut s);
    let v = run(
        Transport::Tcp,
        443,
        &[
            (Direction::ToServer, &client_hello()),
            (Direction::ToClient, &s),
        ],
        300,
    );
    assert!(v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
    assert_eq!(v.evidence.high_entropy_direction, Some(Direction::ToClient));
    assert!(!v.evidence.framing_without_handshake);
}

#[test]
fn unanswered_hello_is_incomplete_not_symmetric() {
    let v = run(
        Transport::Tcp,
        443,
        &[(Direction::ToServer, &client_hello())],
        7,
    );
    assert_eq!(v.protocol, Some(Protocol::Tls));
    assert!(v.alerts.contains(Alert::HandshakeIncomplete), "{v:?}");
    assert!(!v.alerts.contains(Alert::SymmetricOnly));
}

#[test]
fn handshake_cut_by_a_gap_is_not_called_incomplete() {
    // The host stopped delivering the stream (e.g. Suricata ending
    // reassembly after the key exchange): the completion may be in the gap.
    let cfg = Config::default();
    let mut flow = Flow::new(Transport::Tcp, 40000, 443, FlowStart::Observed, 1_000_000);
    flow.feed(&cfg, Direction::ToServer, &client_hello(), 1_000_010);
    flow.gap(&cfg, Direction::ToServer, 1, 1_000_020);
    flow.gap(&cfg, Direction::ToClient, 1, 1_000_020);
    flow.finish(&cfg, 1_000_030);
    let v = flow.verdict(&cfg);
    assert_eq!(v.protocol, Some(Protocol::Tls));
    assert!(!v.alerts.contains(Alert::HandshakeIncomplete), "{v:?}");
}

#[test]
fn tls_records_without_any_hello_are_framing_without_handshake() {
    let mut c = [0u8; 1500];
    xorshift_fill(22, &mut c);
    // Three application-data records of 495 bytes each.
    for k in 0..3 {
        c[k * 500..k * 500 + 5].copy_from_slice(&[23, 3, 3, 0x01, 0xef]);
    }
    let v = run(Transport::Tcp, 443, &[(Direction::ToServer, &c)], 64);
    assert_eq!(v.protocol, Some(Protocol::Tls));
    assert!(v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
    assert!(v.evidence.framing_without_handshake);
}
