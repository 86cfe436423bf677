extern crate std;

use super::*;
use crate::verdict::{Alert, Content, Format, Protocol};

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
    assert!(flow.is_inspection_done());
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
    assert_eq!(before.dirs[0].inspection_end, Some(4096));
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

/// A ClientHello followed by application-data records of random bytes, as
/// a TLS client sends after its handshake.
fn tls_client_stream() -> [u8; 2052] {
    let mut c = [0u8; 2052];
    xorshift_fill(23, &mut c[52..]);
    c[..52].copy_from_slice(&client_hello());
    for k in 0..4 {
        let at = 52 + k * 500;
        c[at..at + 5].copy_from_slice(&[23, 3, 3, 0x01, 0xef]);
    }
    c
}

#[test]
fn bytes_a_hello_explains_are_not_measured_unless_asked() {
    let c = tls_client_stream();
    let v = run(Transport::Tcp, 443, &[(Direction::ToServer, &c)], 100);
    let d = v.dirs[0];
    assert!(
        d.explained && d.inspected == 0 && d.entropy.is_none(),
        "{d:?}"
    );
    assert_eq!(d.bytes, c.len() as u64);
    // The same stream, measured.
    let cfg = Config {
        measure_known_protocols: true,
        ..Config::default()
    };
    let mut flow = Flow::new(Transport::Tcp, 40000, 443, FlowStart::Observed, 1_000_000);
    flow.feed(&cfg, Direction::ToServer, &c, 1_000_010);
    flow.finish(&cfg, 1_000_020);
    let m = flow.verdict(&cfg).dirs[0];
    assert!(!m.explained && m.inspected == c.len() as u32, "{m:?}");
    assert!(m.entropy.is_some() && m.uniform_blocks > 50, "{m:?}");
    // Either way the verdict's alerts are the same.
    assert_eq!(flow.verdict(&cfg).alerts, v.alerts);
    assert_chunking_invariant(&c, &[]);
}

#[test]
fn a_hello_whose_framing_breaks_is_measured_from_the_break() {
    // A real ClientHello, then random bytes that are no TLS record.
    let mut c = [0u8; 3052];
    xorshift_fill(24, &mut c[52..]);
    c[..52].copy_from_slice(&client_hello());
    c[52] = 0x99; // no content type
    let mut s = [0u8; 3000];
    xorshift_fill(25, &mut s);
    let v = run_both(&c, &s, 200);
    let d = v.dirs[0];
    assert!(d.explained && d.measured_from() == Some(53), "{d:?}");
    assert_eq!(d.inspected as usize, c.len() - 53);
    assert!(d.high_entropy, "{d:?}");
    assert!(v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
    assert!(v.alerts.contains(Alert::HandshakeMalformed));
    assert_chunking_invariant(&c, &s);
    // A break in the hello's first bytes: what came before it is
    // explained, the rest measured.
    let mut early = c;
    early[20] = 0xff;
    early[5] = 1;
    early[3..5].copy_from_slice(&[0, 10]); // a hello too short for its fields
    let v = run_both(&early, &s, 200);
    assert!(
        v.dirs[0].measured_from().is_some_and(|m| m > 0),
        "{:?}",
        v.dirs[0]
    );
    assert_chunking_invariant(&early, &s);
}

#[test]
fn datagrams_of_a_recognized_protocol_are_not_measured() {
    // DNS queries: the protocol frames them, nothing to measure.
    let mut q = [0u8; 40];
    q[..12].copy_from_slice(&[0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    q[12..27].copy_from_slice(b"\x07example\x03com\x00\x00\x01");
    q[27..29].copy_from_slice(&[0, 1]);
    let cfg = Config::default();
    let mut flow = Flow::new(Transport::Udp, 40000, 53, FlowStart::Observed, 0);
    for k in 0..20u16 {
        q[..2].copy_from_slice(&k.to_be_bytes());
        flow.feed(&cfg, Direction::ToServer, &q[..30], k as u64);
    }
    let v = flow.verdict(&cfg);
    assert_eq!(v.protocol, Some(Protocol::Dns), "{v:?}");
    let d = v.dirs[0];
    assert!(d.explained && d.inspected < 30 * 2, "{d:?}");
}

/// Found by the chunking_invariance fuzz target: an explained SSH stream
/// whose packet framing broke was measured again from the reported fault
/// (the packet start) when fed whole, but from the chunk where the break
/// showed when fed byte by byte. Measuring resumes past the revealing byte.
#[test]
fn fuzz_regression_resume_after_the_byte_that_broke_the_framing() {
    let client = [];
    let server = [
        0x53, 0x53, 0x48, 0x2d, 0x66, 0x74, 0x2a, 0x2a, 0x2a, 0x2a, 0x2a, 0x2a, 0x2a, 0x2a, 0x2a,
        0x2a, 0x2a, 0x2a, 0x2a, 0x2a, 0x2a, 0x2a, 0x2a, 0x2a, 0x2a, 0x2a, 0x2a, 0x2a, 0x2a, 0x2a,
        0x2a, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b,
        0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b,
        0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b,
        0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x0a,
        0x00, 0x40, 0x7e, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x3b, 0x2a, 0xce, 0x2a,
        0x2a, 0x2a, 0x2a, 0x2a, 0x2a, 0x2a, 0x2a, 0x2a, 0x2a, 0x2a, 0x2a, 0x2a, 0x61, 0x5d, 0x61,
        0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x68, 0x61, 0x61, 0x61, 0x61, 0x61,
        0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61,
        0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61,
        0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61,
        0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61,
        0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61,
        0x61, 0x61, 0x61, 0x61, 0x61, 0x2a, 0x2a, 0x79, 0x70, 0x00, 0x00, 0x29, 0x00,
    ];
    assert_chunking_invariant(&client, &server);
}

#[test]
fn fuzz_regression_the_verdict_as_if_ended_is_the_verdict_at_the_end() {
    // A GSSENC request (an upgrade) with nothing after it, and a one-byte
    // answer: judging as if the flow ended must not change the flow.
    let cfg = Config::default();
    let mut flow = Flow::new(Transport::Tcp, 40000, 5432, FlowStart::Observed, 0);
    flow.feed(
        &cfg,
        Direction::ToServer,
        &[0, 0, 0, 8, 4, 0xd2, 0x16, 0x30],
        1_000_003,
    );
    let before = flow.verdict(&cfg);
    flow.feed(&cfg, Direction::ToClient, b"G", 2_000_006);
    let at_end = flow.verdict_at_end(&cfg, 2_000_006);
    flow.finish(&cfg, 2_000_006);
    assert_eq!(flow.verdict(&cfg), at_end);
    assert_eq!(
        before.carrier, None,
        "an upgrade nothing followed is no carrier"
    );
}

#[test]
fn fuzz_regression_records_without_a_hello_stay_measured_up_to_a_session_end() {
    // Application-data records with no hello (measured), an alert, then
    // text where the next record should be: the hand-over must not turn
    // the measured records of its last chunk into explained ones.
    let mut s = [0u8; 600];
    let mut n = 0;
    for k in 0..8 {
        s[n..n + 5].copy_from_slice(&[23, 3, 1, 0, 40]);
        xorshift_fill(70 + k, &mut s[n + 5..n + 45]);
        n += 45;
    }
    s[n..n + 5].copy_from_slice(&[21, 3, 1, 0, 24]);
    xorshift_fill(80, &mut s[n + 5..n + 29]);
    n += 29;
    s[n..n + 11].copy_from_slice(b"227 Entered");
    n += 11;
    assert_chunking_invariant(b"USER ftp\r\n", &s[..n]);
}

#[test]
fn ssh_off_its_profile_raises_ssh_unexpected_port() {
    // The ssh profile was read nowhere: SSH on 443 raised nothing.
    let mut c = [0u8; 600];
    let banner = b"SSH-2.0-OpenSSH_9.2p1\r\n";
    c[..banner.len()].copy_from_slice(banner);
    // A KEXINIT packet: length 572, padding 4, message 20.
    c[banner.len()..banner.len() + 6].copy_from_slice(&[0, 0, 2, 0x3c, 4, 20]);
    let n = banner.len() + 4 + 572;
    let on_443 = run(
        Transport::Tcp,
        443,
        &[
            (Direction::ToServer, &c[..n]),
            (Direction::ToClient, &c[..n]),
        ],
        100,
    );
    assert_eq!(on_443.protocol, Some(Protocol::Ssh));
    assert!(
        on_443.alerts.contains(Alert::SshUnexpectedPort),
        "{on_443:?}"
    );
    assert_eq!(on_443.evidence.server_port, Some(443));
    assert!(!on_443.alerts.contains(Alert::TlsUnexpectedPort));
    let on_22 = run(
        Transport::Tcp,
        22,
        &[
            (Direction::ToServer, &c[..n]),
            (Direction::ToClient, &c[..n]),
        ],
        100,
    );
    assert!(
        !on_22.alerts.contains(Alert::SshUnexpectedPort),
        "{on_22:?}"
    );
}

#[test]
fn dtls_on_an_ephemeral_port_is_not_tls_unexpected_port() {
    // WebRTC runs DTLS on ephemeral ports: only TLS and QUIC are held to
    // the TLS profile (the docs said DTLS too; the code never did).
    let mut hello = [0u8; 120];
    hello[..13].copy_from_slice(&[22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 107]);
    hello[13] = 1; // ClientHello
    let v = run(
        Transport::Udp,
        51234,
        &[(Direction::ToServer, &hello), (Direction::ToClient, &hello)],
        120,
    );
    assert_eq!(v.protocol, Some(Protocol::Dtls), "{v:?}");
    assert!(!v.alerts.contains(Alert::TlsUnexpectedPort), "{v:?}");
}

#[test]
fn hex_ciphertext_is_flagged_at_the_largest_budget() {
    // The class counters are 16-bit: at a 65536-byte budget the printable
    // count saturated one short, and hex-encoded ciphertext read as raw.
    let cfg = Config {
        inspect_budget: 65536,
        ..Config::default()
    };
    cfg.validate().unwrap();
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut raw = [0u8; 4096];
    let mut flow = Flow::new(Transport::Tcp, 40000, 4444, FlowStart::Observed, 0);
    let mut hex = [0u8; 8192];
    for k in 0..8u64 {
        xorshift_fill(100 + k, &mut raw);
        for (i, b) in raw.iter().enumerate() {
            hex[2 * i] = DIGITS[(b >> 4) as usize];
            hex[2 * i + 1] = DIGITS[(b & 15) as usize];
        }
        flow.feed(&cfg, Direction::ToServer, &hex, k + 1);
    }
    flow.finish(&cfg, 100);
    let v = flow.verdict(&cfg);
    assert_eq!(v.dirs[0].inspected, 65536);
    assert_eq!(v.dirs[0].encoding, crate::Encoding::Hex, "{:?}", v.dirs[0]);
    assert!(v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
}

/// Found by the flow_feed fuzz target: FTP's AUTH TLS, a TLS 1.2 session
/// with RSA key transport, its closing alert, then FTP again. The session's
/// walker handed the stream over at the alert and its parameters went with
/// it: `rsa_key_exchange`, once final, was taken back.
#[test]
fn fuzz_regression_the_first_sessions_parameters_outlive_its_walker() {
    let cfg = Config::default();
    // ServerHello choosing TLS_RSA_WITH_AES_128_CBC_SHA, ChangeCipherSpec,
    // an encrypted handshake record; later the closing alert and FTP again.
    let mut server = b"220 ftp\r\n234 go ahead\r\n".to_vec();
    server.extend_from_slice(&[22, 3, 3, 0, 42, 2, 0, 0, 38, 3, 3]);
    server.extend_from_slice(&[0; 32]);
    server.extend_from_slice(&[0, 0x00, 0x2f, 0]);
    server.extend_from_slice(&[20, 3, 3, 0, 1, 1]);
    server.extend_from_slice(&[22, 3, 3, 0, 40]);
    server.extend_from_slice(&[0x5a; 40]);
    let session = server.len();
    server.extend_from_slice(&[21, 3, 3, 0, 26]);
    server.extend_from_slice(&[0x3c; 26]);
    server.extend_from_slice(b"221 Goodbye\r\n");
    let mut client = b"AUTH TLS\r\n".to_vec();
    client.extend_from_slice(&client_hello());
    client.extend_from_slice(&[20, 3, 3, 0, 1, 1]);
    let mut flow = Flow::new(Transport::Tcp, 40000, 21, FlowStart::Observed, 0);
    flow.feed(&cfg, Direction::ToServer, &client, 1);
    flow.feed(&cfg, Direction::ToClient, &server[..session], 2);
    let published = flow.verdict(&cfg).final_alerts;
    assert!(published.contains(Alert::RsaKeyExchange), "{published:?}");
    flow.feed(&cfg, Direction::ToClient, &server[session..], 3);
    let v = flow.verdict(&cfg);
    assert!(
        v.alerts.contains(Alert::RsaKeyExchange),
        "taken back: {v:?}"
    );
    assert_eq!(v.tls_cipher_suite, Some(0x002f));
}

/// Found by the chunking_invariance fuzz target: with
/// `measure_known_protocols`, the first bytes of a WebSocket binary
/// payload, held while the tunnel check read them, were measured twice
/// when the check ended in a later chunk (once as they passed, once when
/// released), and unmasked in one chunking but not in another.
#[test]
fn fuzz_regression_held_websocket_bytes_are_measured_once() {
    let cfg = Config {
        measure_known_protocols: true,
        ..Config::default()
    };
    let mut client =
        b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n".to_vec();
    client.extend_from_slice(&[0x82, 0x80 | 40, 0x11, 0x22, 0x33, 0x44]);
    let mut payload = [0u8; 40];
    xorshift_fill(90, &mut payload);
    client.extend_from_slice(&payload);
    let server = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
    let run = |step: usize| {
        let mut flow = Flow::new(Transport::Tcp, 40000, 8080, FlowStart::Observed, 0);
        for piece in client.chunks(step) {
            flow.feed(&cfg, Direction::ToServer, piece, 1);
        }
        flow.feed(&cfg, Direction::ToClient, server, 2);
        flow.finish(&cfg, 3);
        flow.verdict(&cfg)
    };
    let whole = run(usize::MAX >> 1);
    assert_eq!(whole.dirs[0].inspected as usize, client.len());
    for step in 1..=16 {
        assert_eq!(run(step), whole, "step {step}");
    }
}

/// Found by the flow_feed fuzz target: a second plaintext ServerHello in the
/// same stream replaced what the first negotiated, and took back a final
/// `rsa_key_exchange`.
#[test]
fn fuzz_regression_a_later_server_hello_does_not_replace_the_first() {
    let hello = |suite: u16| {
        let mut r = [22, 3, 3, 0, 42, 2, 0, 0, 38, 3, 3].to_vec();
        r.extend_from_slice(&[0; 32]);
        r.extend_from_slice(&[0]);
        r.extend_from_slice(&suite.to_be_bytes());
        r.push(0);
        r
    };
    let mut server = hello(0x002f);
    server.extend(hello(0xc02f));
    let v = run(
        Transport::Tcp,
        443,
        &[
            (Direction::ToServer, &client_hello()),
            (Direction::ToClient, &server),
        ],
        7,
    );
    assert_eq!(v.tls_cipher_suite, Some(0x002f), "{v:?}");
    assert!(v.alerts.contains(Alert::RsaKeyExchange));
}

/// Found by the chunking_invariance fuzz target: a TLS session that said
/// hello and closed within one feed left no trace of its handshake when
/// its carrier took the stream back, so whether the flow's handshake had
/// started depended on how the stream was cut.
#[test]
fn fuzz_regression_a_hello_handed_over_in_one_feed_starts_the_handshake() {
    let mut client = client_hello().to_vec();
    client.extend_from_slice(&[20, 3, 1, 0, 1, 1]);
    client.extend_from_slice(&[21, 3, 1, 0, 10]);
    client.extend_from_slice(&[0x42; 10]);
    client
        .extend_from_slice(b"+OK POP server ready\r\n+OK Capability list follows\r\nTOP\r\n.\r\n");
    let mut server = [0u8; 180];
    xorshift_fill(91, &mut server);
    assert_chunking_invariant(&client, &server);
}

/// A DNS query whose labels carry base32 ciphertext: `dns_encoded_payload`
/// is final after that one message (a UDP flow ends by a timeout, with no
/// packet left for a sensor's rule), and reported as news.
#[test]
fn an_encoded_dns_query_is_final_at_once() {
    let cfg = Config::default();
    let mut q = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0].to_vec();
    let mut raw = [0u8; 40];
    xorshift_fill(92, &mut raw);
    const B32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    for part in raw.chunks(20) {
        q.push(32);
        q.extend(
            part.iter()
                .take(16)
                .flat_map(|b| [B32[(b & 31) as usize], B32[(b >> 3) as usize]]),
        );
    }
    for label in [&b"c2"[..], b"example", b"test"] {
        q.push(label.len() as u8);
        q.extend_from_slice(label);
    }
    q.extend_from_slice(&[0, 0, 16, 0, 1]);
    let mut flow = Flow::new(Transport::Udp, 40000, 53, FlowStart::Observed, 0);
    let fed = flow.feed(&cfg, Direction::ToServer, &q, 1);
    let v = flow.verdict(&cfg);
    assert!(fed.news);
    assert_eq!(v.protocol, Some(Protocol::Dns));
    assert!(v.final_alerts.contains(Alert::DnsEncodedPayload), "{v:?}");
    assert_eq!(v.dirs[0].encoding, crate::stats::Encoding::Base32);
    let zone = v.destination.unwrap();
    assert_eq!(
        zone.host(),
        Some(crate::verdict::Host::Name {
            name: "example.test",
            truncated: false
        })
    );
    // An ordinary query on another flow: nothing.
    let mut flow = Flow::new(Transport::Udp, 40001, 53, FlowStart::Observed, 0);
    flow.feed(
        &cfg,
        Direction::ToServer,
        b"\x12\x35\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x0dexamplestores\x03com\x00\x00\x01\x00\x01",
        1,
    );
    assert!(flow.verdict(&cfg).alerts.is_empty());
}

/// Found by the flow_feed fuzz target: a client whose SSH banner broke
/// (`handshake_malformed`, final) and a server that then opened an inner
/// stream of its own (bytes that read as a SOCKS4 request): the flow's
/// innermost protocol became the server's, and the break was forgotten.
#[test]
fn fuzz_regression_a_break_stays_when_the_other_side_goes_elsewhere() {
    let cfg = Config::default();
    let mut flow = Flow::new(Transport::Tcp, 40000, 1433, FlowStart::Observed, 0);
    flow.feed(
        &cfg,
        Direction::ToServer,
        b"SSH-\x00\x00\x01\x00C\x00O\x00",
        1,
    );
    let before = flow.verdict(&cfg);
    assert!(
        before.final_alerts.contains(Alert::HandshakeMalformed),
        "{before:?}"
    );
    flow.feed(
        &cfg,
        Direction::ToClient,
        b"\x04\x01\x0f\x00\x00\x00\x00\x52\x00A\x00NSAC",
        2,
    );
    let after = flow.verdict(&cfg);
    assert!(
        after.alerts.contains(Alert::HandshakeMalformed),
        "{after:?}"
    );
    assert_eq!(
        after.evidence.handshake.map(|h| h.protocol),
        Some(Protocol::Ssh)
    );
}

/// `symmetric_only`'s evidence as JSON text.
fn symmetric_only_evidence(v: &Verdict) -> std::string::String {
    let mut sink = crate::report::JsonText::new(std::string::String::new());
    crate::report::write_evidence(v, &Config::default(), Alert::SymmetricOnly, &mut sink);
    sink.into_inner()
}

#[test]
fn an_application_named_by_its_magic_is_still_symmetric_only() {
    // Tencent's header magic, then ciphertext: named, measured, flagged,
    // as the same ciphertext is without the magic.
    let mut c = [0u8; 900];
    xorshift_fill(21, &mut c[8..]);
    c[..8].copy_from_slice(&[0x42, 0x15, 0xf7, 0x87, 0x03, 0xe9, 0, 0]);
    let mut s = [0u8; 1500];
    xorshift_fill(22, &mut s);
    for step in [1, 7, 1460] {
        let v = run_both(&c, &s, step);
        assert_eq!(v.protocol, Some(Protocol::TencentGames));
        assert!(v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
        assert!(!v.key_exchange_complete);
        assert_eq!(v.carried_by(Direction::ToClient), None);
        let e = symmetric_only_evidence(&v);
        assert!(e.contains("\"application\":\"tencent_games\""), "{e}");
    }
    let unnamed = run_both(&c[8..], &s, 1460);
    assert_eq!(unnamed.protocol, None);
    assert!(!symmetric_only_evidence(&unnamed).contains("application"));
}

#[test]
fn a_udp_application_magic_exempts_nothing() {
    // A RakNet offline message, then ciphertext datagrams both ways.
    let mut ocr1 = [0u8; 60];
    ocr1[0] = 0x05;
    ocr1[1..17].copy_from_slice(&[
        0x00, 0xff, 0xff, 0x00, 0xfe, 0xfe, 0xfe, 0xfe, 0xfd, 0xfd, 0xfd, 0xfd, 0x12, 0x34, 0x56,
        0x78,
    ]);
    let mut data = [[0u8; 300]; 6];
    for (k, d) in data.iter_mut().enumerate() {
        xorshift_fill(30 + k as u64, d);
    }
    let cfg = Config::default();
    let mut flow = Flow::new(Transport::Udp, 40000, 19132, FlowStart::Observed, 0);
    flow.feed(&cfg, Direction::ToServer, &ocr1, 1);
    for (k, d) in data.iter().enumerate() {
        let dir = [Direction::ToServer, Direction::ToClient][k % 2];
        flow.feed(&cfg, dir, d, 2 + k as u64);
    }
    flow.finish(&cfg, 10);
    let v = flow.verdict(&cfg);
    assert_eq!(v.protocol, Some(Protocol::RakNet));
    assert!(v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
    assert!(symmetric_only_evidence(&v).contains("\"application\":\"raknet\""));
}

#[test]
fn an_mtproto_init_answered_by_the_server_is_a_key_exchange() {
    let init = crate::proto::mtproto::tests::init(77, [0xee; 4]);
    let mut c = [0u8; 1200];
    c[..64].copy_from_slice(&init);
    xorshift_fill(23, &mut c[64..]);
    let mut s = [0u8; 2000];
    xorshift_fill(24, &mut s);
    assert_chunking_invariant(&c, &s);
    let v = run_both(&c, &s, 100);
    assert_eq!(v.protocol, Some(Protocol::MtProto));
    assert!(v.alerts.is_empty(), "{v:?}");
    assert!(v.key_exchange_complete);
    // Unanswered, the init is a hello that nothing completed.
    let v = run_both(&c, &[], 100);
    assert!(v.alerts.contains(Alert::HandshakeIncomplete), "{v:?}");
    assert!(!v.alerts.contains(Alert::SymmetricOnly));
}

#[test]
fn whatsapp_noise_hellos_both_ways_complete_the_exchange() {
    let (hello, answer) = (
        crate::proto::whatsapp::tests::client(),
        crate::proto::whatsapp::tests::server(),
    );
    // Each side's hello, then ciphertext frames of 400 bytes.
    let frames = |seed: u64, out: &mut [u8]| {
        for (k, f) in out.chunks_mut(403).enumerate() {
            xorshift_fill(seed + k as u64, f);
            f[..3].copy_from_slice(&[0, 0x01, 0x90]);
        }
    };
    let mut c = [0u8; 99 + 403 * 4];
    c[..99].copy_from_slice(&hello);
    frames(40, &mut c[99..]);
    let mut s = [0u8; 120 + 403 * 6];
    s[..120].copy_from_slice(&answer);
    frames(50, &mut s[120..]);
    assert_chunking_invariant(&c, &s);
    let v = run_both(&c, &s, 1460);
    assert_eq!(v.protocol, Some(Protocol::WhatsApp));
    assert!(v.alerts.is_empty(), "{v:?}");
    assert!(v.key_exchange_complete);
    // The same frames with no hello on the server's side: a hello answered
    // with something else is no key exchange.
    let v = run_both(&c, &s[120..], 1460);
    assert!(v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
    assert!(symmetric_only_evidence(&v).contains("\"application\":\"whatsapp\""));
}

#[test]
fn a_dht_exchange_is_bittorrent_and_random_bytes_of_its_sizes_are_not() {
    use crate::proto::dht::tests::{ANSWER, QUERY};
    let v = run(
        Transport::Udp,
        5001,
        &[(Direction::ToServer, QUERY), (Direction::ToClient, ANSWER)],
        usize::MAX >> 1,
    );
    assert_eq!(v.protocol, Some(Protocol::BitTorrent), "{v:?}");
    assert!(v.alerts.is_empty(), "{v:?}");
    // The same sizes of random bytes: what the KRPC parse explained.
    let (mut q, mut a) = ([0u8; 98], [0u8; 272]);
    xorshift_fill(61, &mut q);
    xorshift_fill(62, &mut a);
    let v = run(
        Transport::Udp,
        5001,
        &[(Direction::ToServer, &q), (Direction::ToClient, &a)],
        usize::MAX >> 1,
    );
    assert_eq!(v.protocol, None, "{v:?}");
    assert!(v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
}

/// A TLS session picked up mid-stream, the server's records first: the side
/// on port 443 is the server, so no `tls_unexpected_port` on the client's
/// ephemeral port; the host's directions still land on the right sides.
#[test]
fn a_midstream_flow_first_seen_from_the_server_is_turned_round() {
    let cfg = Config::default();
    let mut records = [0u8; 1200];
    for (k, r) in records.chunks_mut(120).enumerate() {
        r[..5].copy_from_slice(&[23, 3, 3, 0, 115]);
        xorshift_fill(100 + k as u64, &mut r[5..]);
    }
    // The host took the first sender (443) for the client.
    let mut flow = Flow::new(Transport::Tcp, 443, 51234, FlowStart::Midstream, 0);
    flow.feed(&cfg, Direction::ToServer, &records, 1);
    flow.feed(&cfg, Direction::ToClient, &records[..240], 2);
    flow.finish(&cfg, 3);
    let v = flow.verdict(&cfg);
    assert!(v.roles_swapped && flow.roles_swapped());
    assert_eq!(flow.ports(), (51234, 443));
    assert_eq!(v.protocol, Some(Protocol::Tls));
    assert!(!v.alerts.contains(Alert::TlsUnexpectedPort), "{v:?}");
    // What the host called the client (443) sent is the engine's server side.
    assert_eq!((v.dirs[0].bytes, v.dirs[1].bytes), (240, 1200));
    // With the SYN seen, the roles stand whatever the ports.
    let mut flow = Flow::new(Transport::Tcp, 443, 51234, FlowStart::Observed, 0);
    flow.feed(&cfg, Direction::ToServer, &records, 1);
    assert!(!flow.verdict(&cfg).roles_swapped);
}

/// A UDP flow of `count` datagrams of `len` bytes each way, alternating,
/// to `port`: `shape` writes datagram `k` of side `side` (0: the client)
/// over random bytes.
fn udp_tunnel(port: u16, len: usize, count: u32, shape: impl Fn(usize, u32, &mut [u8])) -> Verdict {
    let cfg = Config::default();
    let mut flow = Flow::new(Transport::Udp, 40000, port, FlowStart::Observed, 0);
    let mut d = [0u8; 1500];
    for k in 0..count {
        for side in 0..2 {
            let d = &mut d[..len];
            let seed = ((k as u64) << 1 | side as u64) + 1;
            xorshift_fill(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15), d);
            shape(side, k, d);
            let dir = [Direction::ToServer, Direction::ToClient][side];
            flow.feed(&cfg, dir, d, 10 * k as u64 + side as u64);
        }
    }
    flow.finish(&cfg, 10 * count as u64);
    flow.verdict(&cfg)
}

/// The first false positive: a pre-shared-key tunnel whose header
/// is a flags byte with the high bit set and a 32-bit sequence number that
/// starts at zero looked like QUIC version negotiation, and was called
/// QUIC on an unexpected port. Nothing answers a long header here: it is
/// ciphertext without a key exchange.
#[test]
fn a_psk_tunnel_starting_like_version_negotiation_is_symmetric_only() {
    let v = udp_tunnel(9000, 200, 6, |_, k, d| {
        d[0] = 0x83;
        d[1..5].copy_from_slice(&k.to_be_bytes());
    });
    assert_eq!(v.protocol, None, "{v:?}");
    assert!(v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
    assert!(!v.alerts.contains(Alert::TlsUnexpectedPort), "{v:?}");
}

/// The second false positive: a WireGuard-derived VPN whose
/// reserved header bytes are not zero (its message types moved into the
/// first four bytes, AmneziaWG-style). It is neither WireGuard nor QUIC:
/// its handshake is not one the engine knows, and its ciphertext is
/// measured.
#[test]
fn a_wireguard_derivative_with_reserved_bytes_set_is_symmetric_only() {
    // Initiation and response, then transport data, each with its own
    // magic in place of type and reserved bytes.
    let v = udp_tunnel(51820, 148, 1, |side, _, d| {
        d[..4].copy_from_slice(&[[0x81, 0x51, 0x30, 0x34], [0x02, 0x9c, 0x3e, 0x71]][side]);
    });
    assert_eq!(v.protocol, None, "{v:?}");
    // Full-size transport datagrams (the 16-byte headers weigh little).
    // The client's magic and receiver index read "Q046" and a DCID length
    // of 8, which a long-header check without Q046's nibble byte took for
    // Google QUIC.
    let v = udp_tunnel(51820, 1024, 4, |side, k, d| {
        let magic = [[0xc1, 0x51, 0x30, 0x34], [0x04, 0x00, 0x80, 0x00]][side];
        d[..4].copy_from_slice(&magic);
        d[4..8].copy_from_slice(&[0x36, 0x08, 0xd2, 0x4e]);
        d[8..16].copy_from_slice(&(k as u64).to_le_bytes());
    });
    assert_eq!(v.protocol, None, "{v:?}");
    assert!(v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
}

/// The third false positive, through the flow: a static-key
/// point-to-point tunnel whose per-side session prefixes open with reset
/// opcode bytes, and whose counters start at zero. No reset pair, no TLS
/// record: ciphertext without a key exchange.
#[test]
fn a_static_key_tunnel_is_symmetric_only_not_openvpn() {
    let v = udp_tunnel(1194, 1024, 4, |side, k, d| {
        let prefix = [
            [0x38, 0x5e, 0x11, 0xa0, 0x7c, 0x42, 0x9d, 0x03],
            [0x40, 0x8b, 0x2f, 0x66, 0x01, 0xd9, 0x3a, 0xe4],
        ][side];
        d[..8].copy_from_slice(&prefix);
        d[8..16].copy_from_slice(&(k as u64).to_be_bytes());
    });
    assert_eq!(v.protocol, None, "{v:?}");
    assert!(v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
}

/// The finding: a Google QUIC Q046 session to UDP/443 (the
/// client's CHLO, the server's answer, from quic_q46.pcap; the rest
/// filler) was called `symmetric_only` when too short for the
/// short-header fallback. Q046's long header names it QUIC.
#[test]
fn a_google_quic_q046_session_is_quic_not_symmetric_only() {
    let client_head = [
        0xc3, 0x51, 0x30, 0x34, 0x36, 0x50, 0xea, 0xcf, 0xe6, 0xe7, 0x06, 0xdf, 0x27, 0x2d, 0x00,
        0x00, 0x00, 0x04,
    ];
    let server_head = [
        0xc3, 0x51, 0x30, 0x34, 0x36, 0x05, 0xea, 0xcf, 0xe6, 0xe7, 0x06, 0xdf, 0x27, 0x2d, 0x00,
        0x00, 0x00, 0x05,
    ];
    let v = udp_tunnel(443, 1350, 2, |side, k, d| {
        if k == 0 {
            d[..18].copy_from_slice(&[client_head, server_head][side]);
        } else {
            // Then short headers (Q046: fixed bit, form bit clear).
            d[0] = 0x40 | (d[0] & 0x3f);
        }
    });
    assert_eq!(v.protocol, Some(Protocol::Quic), "{v:?}");
    assert!(!v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
}

/// One full-size packet of ciphertext decides `symmetric_only` as it is
/// fed (the flow goes on: a sensor's rule sees the next packet), and the
/// decision stands when padding follows and dilutes the statistics; however
/// the stream is chunked, the same bytes decide it.
#[test]
fn one_packet_of_ciphertext_decides_symmetric_only_at_once_and_for_good() {
    let cfg = Config::default();
    let mut packet = [0u8; 1460];
    xorshift_fill(77, &mut packet);
    let padding = [0u8; 3000];
    for step in [1460, 1, 63, 64, 65, 500] {
        let mut flow = Flow::new(Transport::Tcp, 40000, 4444, FlowStart::Observed, 0);
        let mut news = false;
        for piece in packet.chunks(step) {
            news |= flow.feed(&cfg, Direction::ToServer, piece, 1).news;
        }
        let v = flow.verdict(&cfg);
        assert!(news, "step {step}");
        assert!(
            v.publish().contains(Alert::SymmetricOnly),
            "step {step}: {v:?}"
        );
        flow.feed(&cfg, Direction::ToServer, &padding, 2);
        flow.finish(&cfg, 3);
        let v = flow.verdict(&cfg);
        assert!(
            v.alerts.contains(Alert::SymmetricOnly),
            "step {step}: {v:?}"
        );
        assert!(!v.dirs[0].high_entropy, "diluted: {v:?}");
    }
    // Without early verdicts the diluted flow is judged as a whole.
    let off = Config {
        early_verdict_error: 0.0,
        ..Config::default()
    };
    let mut flow = Flow::new(Transport::Tcp, 40000, 4444, FlowStart::Observed, 0);
    flow.feed(&off, Direction::ToServer, &packet, 1);
    assert!(flow.verdict(&off).publish().is_empty());
    flow.feed(&off, Direction::ToServer, &padding, 2);
    flow.finish(&off, 3);
    assert!(!flow.verdict(&off).alerts.contains(Alert::SymmetricOnly));
}

/// Picked up mid-stream, or after a hello, opening bytes decide nothing
/// early: a key exchange may have happened before, or is happening.
#[test]
fn midstream_and_hello_flows_are_not_decided_early() {
    let cfg = Config::default();
    let mut packet = [0u8; 1460];
    xorshift_fill(78, &mut packet);
    let mut flow = Flow::new(Transport::Tcp, 40000, 4444, FlowStart::Midstream, 0);
    flow.feed(&cfg, Direction::ToServer, &packet, 1);
    assert!(flow.verdict(&cfg).publish().is_empty());
    let mut flow = Flow::new(Transport::Udp, 40000, 4444, FlowStart::Observed, 0);
    flow.feed(&cfg, Direction::ToServer, &packet, 1);
    assert!(flow.verdict(&cfg).publish().is_empty());
}

#[test]
fn a_nano_node_handshake_is_nano_and_random_bytes_of_its_sizes_are_not() {
    use crate::proto::framed::nano_handshake::{CLIENT, SERVER};
    assert_chunking_invariant(&CLIENT, &SERVER);
    let v = run_both(&CLIENT, &SERVER, 1460);
    assert_eq!(v.protocol, Some(Protocol::Nano), "{v:?}");
    assert!(v.alerts.is_empty(), "{v:?}");
    // The same sizes of random bytes: what the framing explained.
    let (mut c, mut s) = ([0u8; 40], [0u8; 200]);
    xorshift_fill(71, &mut c);
    xorshift_fill(72, &mut s);
    let v = run_both(&c, &s, 1460);
    assert_eq!(v.protocol, None, "{v:?}");
    assert!(v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
    // Ciphertext after the handshake breaks the framing (no message type
    // read here starts it) and is measured.
    let mut after = [0u8; 200 + 1200];
    after[..200].copy_from_slice(&SERVER);
    xorshift_fill(73, &mut after[200..]);
    after[200] = b'R';
    let v = run_both(&CLIENT, &after, 1460);
    assert!(v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
}

/// The flow_feed fuzz target's checks over one of its inputs: a control
/// byte (transport, start), the server port, then chunks (a control byte:
/// direction, feed or gap, time step; a length; the bytes). Final alerts
/// are never taken back, and the verdict as if ended is the one at the end.
fn replay_flow_feed(data: &[u8]) {
    let cfg = Config::default();
    let transport = [Transport::Tcp, Transport::Udp][(data[0] & 1) as usize];
    let start = [FlowStart::Observed, FlowStart::Midstream][(data[0] >> 1 & 1) as usize];
    let port = u16::from_be_bytes([data[1], data[2]]);
    let mut flow = Flow::new(transport, 40000, port, start, 0);
    let (mut rest, mut ts) = (&data[3..], 0u64);
    while rest.len() >= 3 {
        let ctl = rest[0];
        let len = (u16::from_be_bytes([rest[1], rest[2]]) as usize).min(rest.len() - 3);
        let (chunk, next) = rest[3..].split_at(len);
        rest = next;
        let dir = [Direction::ToServer, Direction::ToClient][(ctl & 1) as usize];
        ts = ts.wrapping_add((ctl >> 2) as u64 * 1_000_003);
        let published = flow.verdict(&cfg).final_alerts;
        if ctl & 2 == 0 {
            flow.feed(&cfg, dir, chunk, ts);
        } else {
            flow.gap(&cfg, dir, len as u64, ts);
        }
        let now = flow.verdict(&cfg);
        assert_eq!(now.alerts.and(published), published, "taken back: {now:?}");
    }
    let published = flow.verdict(&cfg).final_alerts;
    let at_end = flow.verdict_at_end(&cfg, ts);
    flow.finish(&cfg, ts);
    let v = flow.verdict(&cfg);
    assert_eq!(
        v, at_end,
        "the verdict as if ended is the verdict at the end"
    );
    assert_eq!(v.final_alerts, v.alerts, "at the end every alert is final");
    assert_eq!(
        v.alerts.and(published),
        published,
        "taken back at the end: {v:?}"
    );
}

/// Fuzz finding: ciphertext in an HTTP POST body on port 80 decided
/// `symmetric_only` early; `encrypted_on_plaintext_port` was made final by
/// the same decision while the carrier's framing was broken, and taken
/// back when the stream was sniffed afresh. It is no longer decided early.
#[test]
fn fuzz_encrypted_on_plaintext_port_is_not_decided_early() {
    replay_flow_feed(include_bytes!(
        "../../../../tests/data/fuzz/flow_feed-plaintext-port-after-carrier-break.bin"
    ));
}

/// Fuzz finding: a side's own TLS records (no hello) named the flow's
/// protocol, and the next feed took that for the other side's key exchange
/// and stopped the sequential test: fed byte by byte, the inner stream
/// after the session's end was not decided; fed whole, it was.
#[test]
fn fuzz_a_sides_own_naming_is_no_key_exchange_answer() {
    let data = include_bytes!("../../../../tests/data/fuzz/chunking-own-hello-is-no-answer.bin");
    let cfg = Config {
        measure_known_protocols: true,
        ..Config::default()
    };
    let client = &data[3..];
    let run = |step: usize| {
        let mut flow = Flow::new(Transport::Tcp, 40000, 4444, FlowStart::Observed, 0);
        for piece in client.chunks(step) {
            flow.feed(&cfg, Direction::ToServer, piece, 1);
        }
        flow.finish(&cfg, 3);
        flow.verdict(&cfg)
    };
    assert_eq!(run(1), run(client.len()));
}

/// An RTMP session as rtmp.pcap's 10.140.80.204 has it (the openings and
/// first chunks of both sides, the rest pseudo-random: the handshake's
/// random bytes, then media): `rtmp`, no alert, nothing measured.
#[test]
fn an_rtmp_session_is_rtmp_with_no_alert() {
    use crate::proto::rtmp::tests::{side, CONNECT, CONTROL};
    let c1 = [0x03, 0x00, 0x00, 0x00, 0x00, 0x09, 0x00, 0x7c, 0x02];
    let s1 = [0x03, 0x63, 0x50, 0x5f, 0xdd, 0x01, 0x00, 0x05, 0x04];
    let c = side(&c1, &CONNECT, 3000, 41);
    let s = side(&s1, &CONTROL, 3000, 42);
    for step in [1, 7, 1460] {
        let v = run_both(&c, &s, step);
        assert_eq!(v.protocol, Some(Protocol::Rtmp), "{v:?}");
        assert!(v.alerts.is_empty(), "{v:?}");
        assert_eq!(v.dirs.map(|d| d.inspected), [0, 0]);
    }
    assert_chunking_invariant(&c[..3200], &s[..3200]);
}

/// A faked RTMP opening (`0x03`, four zero bytes) in front of random
/// bytes: the handshake's 3073 bytes are explained, then the first message
/// check breaks the framing and the rest is measured: flagged, as the same
/// bytes are without the opening, with no `handshake_malformed` (RTMP has
/// no key exchange).
#[test]
fn random_bytes_after_a_faked_rtmp_opening_are_measured_after_the_break() {
    let mut c = [0u8; 8000];
    xorshift_fill(43, &mut c);
    c[0] = 0x03;
    c[5..9].copy_from_slice(&[0; 4]);
    let mut s = [0u8; 600];
    xorshift_fill(44, &mut s);
    for step in [1, 13, 1460] {
        let v = run_both(&c, &s, step);
        assert_eq!(v.protocol, Some(Protocol::Rtmp), "{v:?}");
        assert!(v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
        assert!(!v.alerts.contains(Alert::HandshakeMalformed));
        let d = &v.dirs[0];
        assert_eq!(d.spans[0].map(|s| s.start), Some(3074));
        assert_eq!(d.broke.map(|b| b.at), Some(3073));
    }
    assert_chunking_invariant(&c[..3600], &s);
}

/// Fuzz finding: a server lane whose MySQL framing breaks at byte 36, after
/// a client that went on into TLS. Cut in 8-byte steps, a feed began while
/// the lane sniffed a would-be inner layer; the flow's TLS there set the
/// answer flag, and the sequential test stopped. Fed whole, the layer was
/// settled as broken MySQL before anything was measured, and the test went
/// on and latched ciphertext. The flag is now asked at the layer each
/// measured step belongs to.
#[test]
fn fuzz_the_answer_flag_is_asked_at_the_measured_layer() {
    let data = include_bytes!(
        "../../../../tests/data/fuzz/chunking-answer-flag-at-the-measured-layer.bin"
    );
    let split = u16::from_be_bytes([data[1], data[2]]) as usize;
    let (client, server) = data[3..].split_at(split);
    let whole = run_both(client, server, data.len());
    for step in [1, 8, 64, 1460] {
        assert_eq!(run_both(client, server, step), whole, "step {step}");
    }
}

/// OpenVPN's framing over TCP in front of a stream keyed by other means: a
/// plain hard reset (openvpn.pcap's), then P_DATA packets of random bytes
/// with no TLS handshake in between. The framing breaks at the first
/// P_DATA and the rest is measured: symmetric_only, with the broken
/// handshake (no protocol named), where it used to be explained as
/// OpenVPN.
#[test]
fn openvpn_framing_without_its_tls_handshake_is_measured() {
    let mut client =
        std::vec![0x00, 0x0e, 0x38, 0x50, 0x7a, 0x28, 0xa7, 0x82, 0x75, 0x78, 0x8d, 0, 0, 0, 0, 0,];
    let mut server = std::vec::Vec::new();
    for (k, side) in [&mut client, &mut server].into_iter().enumerate() {
        for n in 0..3 {
            let mut body = [0u8; 1200];
            xorshift_fill(0x0bad + 10 * k as u64 + n, &mut body);
            side.extend_from_slice(&1201u16.to_be_bytes());
            side.push(0x48);
            side.extend_from_slice(&body);
        }
    }
    let v = run_both(&client, &server, 1460);
    let broke = v.dirs[0].broke.map(|b| b.protocol);
    assert_eq!(broke, Some(Protocol::OpenVpn), "{v:?}");
    assert!(v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
    assert!(v.alerts.contains(Alert::HandshakeMalformed), "{v:?}");
    assert_chunking_invariant(&client, &server);
}

/// Both sides speak at once and neither answers the other: a client's TLS
/// hello against a server's SMTP banner on port 465 (smtps.pcapng of nDPI's
/// captures). A host may deliver either side first (Suricata gives both at
/// the flow's end, the server's first); the flow is named TLS, its
/// handshake incomplete, either way.
#[test]
fn the_protocol_name_does_not_depend_on_which_side_is_fed_first() {
    let banner = b"220-mail.example.com ESMTP Exim 4.96 Sat, 05 Dec 2026 07:00:00 +0000\r\n";
    let cfg = Config::default();
    let run = |server_first: bool| {
        let mut flow = Flow::new(Transport::Tcp, 37682, 465, FlowStart::Observed, 0);
        let sides = [
            (Direction::ToServer, &client_hello()[..]),
            (Direction::ToClient, &banner[..]),
        ];
        for k in 0..2 {
            let (dir, bytes) = sides[if server_first { 1 - k } else { k }];
            flow.feed(&cfg, dir, bytes, 1 + k as u64);
        }
        flow.finish(&cfg, 60_000_000);
        flow.verdict(&cfg)
    };
    let (client_first, server_first) = (run(false), run(true));
    assert_eq!(
        client_first.protocol,
        Some(Protocol::Tls),
        "{client_first:?}"
    );
    assert!(
        client_first.alerts.contains(Alert::HandshakeIncomplete),
        "{client_first:?}"
    );
    assert_eq!(client_first.protocol, server_first.protocol);
    assert_eq!(client_first.alerts, server_first.alerts);
}

/// Fuzz finding: TLS on an unprofiled port (a ServerHello, then the
/// server's framing broke; the client's records went on to a closing
/// alert), then the client's stream went on in the clear: the outer TLS
/// became the inner stream's carrier and the final `tls_unexpected_port`
/// was taken back. What ran on the port stays.
#[test]
fn fuzz_tls_on_an_unexpected_port_outlives_its_session() {
    replay_flow_feed(include_bytes!(
        "../../../../tests/data/fuzz/flow_feed-tls-port-after-session-closed.bin"
    ));
}

/// Fuzz finding: a TLS session with an RSA suite whose server closed it
/// and went on in the clear: TLS became the carrier of what followed, and
/// the final `rsa_key_exchange` (and the verdict's TLS parameters) were
/// dropped with it. What the session negotiated stays.
#[test]
fn fuzz_rsa_key_exchange_outlives_its_session() {
    replay_flow_feed(include_bytes!(
        "../../../../tests/data/fuzz/flow_feed-rsa-after-session-closed.bin"
    ));
}
