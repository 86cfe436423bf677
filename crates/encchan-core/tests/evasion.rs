//! Tricks a C2 author would try against an entropy-based detector, each
//! against the engine. Every test asserts the verdict the engine reaches;
//! the tricks it does not catch are listed in the README's evasion table,
//! not asserted here.

use encchan_core::{
    Alert, Config, Content, Direction, Encoding, Flow, FlowStart, Format, MalformReason, Protocol,
    Transport, Verdict,
};

fn random(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn tcp(port: u16, client: &[u8], server: &[u8], step: usize) -> Verdict {
    let cfg = Config::default();
    let mut f = Flow::new(Transport::Tcp, 40000, port, FlowStart::Observed, 0);
    let mut ts = 0;
    for c in client.chunks(step) {
        ts += 1000;
        f.feed(&cfg, Direction::ToServer, c, ts);
    }
    for c in server.chunks(step) {
        ts += 1000;
        f.feed(&cfg, Direction::ToClient, c, ts);
    }
    f.finish(&cfg, ts + 1);
    f.verdict(&cfg)
}

fn base64(src: &[u8]) -> Vec<u8> {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    for (i, c) in src.chunks_exact(3).enumerate() {
        let v = (c[0] as u32) << 16 | (c[1] as u32) << 8 | c[2] as u32;
        out.extend((0..4).map(|k| A[((v >> (18 - 6 * k)) & 63) as usize]));
        if i % 19 == 18 {
            out.extend_from_slice(b"\r\n"); // MIME line length
        }
    }
    out
}

#[test]
fn fake_tls_client_hello_then_random_records_is_flagged_not_tls() {
    let mut c = vec![22, 3, 1, 0x02, 0x00, 1, 0, 0x01, 0xfc];
    c.extend(random(1, 3000));
    let v = tcp(443, &c, &random(2, 3000), 500);
    assert!(v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
    assert!(v.alerts.contains(Alert::HandshakeMalformed));
    assert_ne!(v.protocol, Some(Protocol::Tls));
}

#[test]
fn fake_ssh_banner_then_random_is_flagged_not_ssh() {
    let mut c = b"SSH-2.0-OpenSSH_9.2p1\r\n".to_vec();
    c.extend(random(3, 2000));
    let mut s = b"SSH-2.0-OpenSSH_9.2p1\r\n".to_vec();
    s.extend(random(4, 2000));
    let v = tcp(22, &c, &s, 100);
    assert!(v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
    assert!(v.alerts.contains(Alert::HandshakeMalformed));
    assert_eq!(v.protocol, None);
}

#[test]
fn base64_and_hex_ciphertext_are_flagged_with_their_encoding() {
    let b64 = base64(&random(5, 1500));
    let v = tcp(8081, &b64, b"", 1460);
    assert!(v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
    assert_eq!(v.dirs[0].encoding, Encoding::Base64);
    let hex: Vec<u8> = random(6, 1200)
        .iter()
        .flat_map(|b| format!("{b:02x}").into_bytes())
        .collect();
    let v = tcp(8082, &hex, b"", 1460);
    assert!(v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
    assert_eq!(v.dirs[0].encoding, Encoding::Hex);
}

#[test]
fn base64_inside_a_recognized_protocol_is_not_flagged() {
    let mut mail =
        b"EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n\
Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            .to_vec();
    mail.extend(base64(&random(7, 3000)));
    let v = tcp(25, &mail, b"220 mx.example.org ESMTP\r\n250 OK\r\n", 700);
    assert_eq!(v.protocol, Some(Protocol::Smtp));
    assert!(!v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
    // Headers are not bodies: a long bearer token and a cookie, and a JSON
    // body whose one token sits among ordinary fields, stay clean.
    let mut token = base64(&random(8, 1500));
    token.retain(|&b| b != b'\r' && b != b'\n');
    let mut body = b"{\"user\":\"alice\",\"locale\":\"en-GB\",\"session\":\"".to_vec();
    body.extend_from_slice(&token[..160]);
    body.extend_from_slice(
        b"\",\"items\":[{\"name\":\"first item\",\"count\":1},{\"name\":\"second item\",\"count\":2}],\
\"note\":\"please deliver to the back door before noon, thanks\",\"flags\":[\"gift\",\"express\"]}",
    );
    let mut http = b"POST /api HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ".to_vec();
    http.extend_from_slice(&token);
    http.extend_from_slice(b"\r\nCookie: sid=");
    http.extend_from_slice(&token[..800]);
    http.extend_from_slice(
        format!(
            "\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    http.extend(body);
    let v = tcp(
        80,
        &http,
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        700,
    );
    assert!(v.alerts.is_empty(), "{v:?}");
    assert_eq!(v.protocol, Some(Protocol::Http));
}

#[test]
fn one_byte_segments_give_the_clean_verdict() {
    let c = random(9, 2500);
    let s = random(10, 2500);
    let clean = tcp(4444, &c, &s, 1460);
    let tiny = tcp(4444, &c, &s, 1);
    assert_eq!(
        clean,
        Verdict {
            first_ts_us: clean.first_ts_us,
            last_ts_us: clean.last_ts_us,
            ..tiny
        }
    );
    assert!(tiny.alerts.contains(Alert::SymmetricOnly));
}

#[test]
fn tiny_udp_datagrams_and_long_idle_gaps() {
    let cfg = Config::default();
    let mut f = Flow::new(Transport::Udp, 40000, 5353, FlowStart::Observed, 0);
    let data = random(11, 400);
    for (k, d) in data.chunks(8).enumerate() {
        // One 8-byte datagram an hour.
        f.feed(&cfg, Direction::ToServer, d, k as u64 * 3_600_000_000);
    }
    f.finish(&cfg, 1 << 50);
    let v = f.verdict(&cfg);
    assert!(v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
}

#[test]
fn compression_magic_before_random_bytes_is_flagged() {
    let mut gz = vec![0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3];
    gz.extend(random(12, 3000));
    let v = tcp(9001, &gz, b"", 1460);
    assert_eq!(
        v.dirs[0].format, None,
        "the deflate header must not validate"
    );
    assert!(v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
    let mut zst = vec![0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x00];
    zst.extend(random(13, 3000));
    zst[6] = 0x07; // reserved block type
    let v = tcp(9002, &zst, b"", 1460);
    assert_eq!(v.dirs[0].format, None);
    assert!(v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
}

#[test]
fn salted_and_openpgp_containers_are_named() {
    let mut salted = b"Salted__".to_vec();
    salted.extend(random(14, 1000));
    let v = tcp(4444, &salted, b"", 1460);
    assert_eq!(v.dirs[0].format, Some(Format::OpensslSalted));
    assert!(v.alerts.contains(Alert::SymmetricOnly));
    // gpg --symmetric: old-format SKESK, v4, AES-256, iterated+salted S2K.
    let mut pgp = vec![0x8c, 0x0d, 0x04, 0x09, 0x03, 0x08];
    pgp.extend(random(15, 1000));
    let v = tcp(4445, &pgp, b"", 1460);
    assert_eq!(v.dirs[0].format, Some(Format::OpenPgpSymmetric));
    assert!(v.alerts.contains(Alert::SymmetricOnly));
}

const PROSE: &[u8] = b"Nothing here is a protocol; it is a padding of ordinary \
English prose, the kind a C2 author puts in front of ciphertext so that the first bytes look \
printable and the stream's byte entropy drops under any fixed threshold. ";

fn prose(n: usize) -> Vec<u8> {
    PROSE.iter().copied().cycle().take(n).collect()
}

#[test]
fn printable_padding_in_front_of_ciphertext_is_flagged() {
    // From GFW-style prefixes (a few dozen printable bytes) to padding that
    // outweighs the ciphertext: the pooled estimate sinks, the binary bytes
    // still show the ciphertext.
    for (pad, cipher) in [(64, 3000), (600, 3400), (2000, 2000), (3000, 1000)] {
        let mut c = prose(pad);
        c.extend(random(20 + pad as u64, cipher));
        let v = tcp(8088, &c, b"", 1460);
        assert!(
            v.alerts.contains(Alert::SymmetricOnly),
            "pad {pad}, cipher {cipher}: {v:?}"
        );
        let d = v.dirs[0];
        assert!(d.binary_high_entropy, "pad {pad}: {d:?}");
        if pad >= 600 {
            assert!(
                !d.high_entropy,
                "pad {pad}: the pooled test alone would miss it"
            );
        }
    }
}

#[test]
fn ciphertext_interleaved_with_printable_runs_is_flagged() {
    for (text_run, cipher_run) in [(16, 16), (48, 16), (100, 30), (20, 64)] {
        let r = random(30 + text_run as u64, 4096);
        let (mut c, mut k) = (Vec::new(), 0);
        while c.len() < 4096 {
            c.extend(prose(text_run + k % 7));
            c.extend_from_slice(&r[k..k + cipher_run]);
            k += cipher_run;
        }
        let v = tcp(8089, &c, &random(31, 200), 700);
        assert!(
            v.alerts.contains(Alert::SymmetricOnly),
            "runs {text_run}/{cipher_run}: {v:?}"
        );
        assert!(
            !v.dirs[0].high_entropy,
            "the pooled test alone misses these"
        );
    }
}

#[test]
fn text_with_binary_structure_is_not_taken_for_covered_ciphertext() {
    // What an unrecognized protocol really carries: text with length
    // fields and zero padding, non-Latin UTF-8, and repeated announcements
    // holding one random id (a discovery protocol).
    let mut framed = Vec::new();
    for i in 0..40u32 {
        framed.extend_from_slice(&(i * 7).to_be_bytes());
        framed.extend_from_slice(&[0, 0, 1, 0x80, 0xff, 0xff, 0, 0]);
        framed.extend(prose(60 + (i as usize % 5) * 9));
    }
    let v = tcp(8090, &framed, &framed, 1460);
    assert!(!v.alerts.contains(Alert::SymmetricOnly), "{v:?}");

    let cyrillic = "Съешь же ещё этих мягких французских булок, да выпей чаю. "
        .repeat(40)
        .into_bytes();
    let v = tcp(8091, &cyrillic, &cyrillic, 1460);
    assert!(!v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
    let chinese = "敏捷的棕色狐狸跳过了懒狗，天地玄黄，宇宙洪荒。日月盈昃，辰宿列张。"
        .repeat(30)
        .into_bytes();
    let v = tcp(8092, &chinese, &chinese, 1460);
    assert!(!v.alerts.contains(Alert::SymmetricOnly), "{v:?}");

    let cfg = Config::default();
    let id = random(32, 32);
    let mut announce = b"{\"device\":\"".to_vec();
    announce.extend_from_slice(&id);
    announce.extend_from_slice(
        b"\",\"addresses\":[\"tcp://192.168.2.100:22000\",\"quic://0.0.0.0:22000\"]}",
    );
    let mut f = Flow::new(Transport::Udp, 21027, 21027, FlowStart::Observed, 0);
    for k in 0..40u64 {
        f.feed(&cfg, Direction::ToServer, &announce, k * 30_000_000);
    }
    f.finish(&cfg, 1 << 40);
    let v = f.verdict(&cfg);
    assert!(!v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
}

#[test]
fn covered_ciphertext_in_datagrams_is_flagged_when_they_do_not_repeat() {
    let cfg = Config::default();
    let mut f = Flow::new(Transport::Udp, 40000, 7777, FlowStart::Observed, 0);
    for k in 0..30u64 {
        let mut d = prose(60);
        d.extend(random(1001 + 2 * k, 90)); // odd seeds: `random` ors in 1
        f.feed(&cfg, Direction::ToServer, &d, k * 1_000_000);
    }
    f.finish(&cfg, 1 << 40);
    let v = f.verdict(&cfg);
    assert!(v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
    assert!(!v.dirs[0].high_entropy && v.dirs[0].binary_high_entropy);
}

/// A cleartext protocol's framing explains its framing, not what follows:
/// each preamble below, in front of ciphertext, used to exempt the flow.
#[test]
fn a_cleartext_preamble_exempts_nothing_after_it() {
    let cipher = random(40, 3000);
    let after = |preamble: &[u8]| {
        let mut v = preamble.to_vec();
        v.extend_from_slice(&cipher);
        v
    };
    // An HTTP request line and two headers (46 bytes), then ciphertext.
    let http = b"GET / HTTP/1.1\r\nHost: example\r\nAccept: */*\r\n\r\n";
    assert_eq!(http.len(), 46);
    // The same request line and headers without the blank line.
    let http_unfinished = b"POST /up HTTP/1.1\r\nHost: example\r\nX: y\r\n";
    let smtp = b"220 mail.example.org ESMTP Postfix\r\n";
    // Name, client bytes, server bytes, the protocol the verdict names.
    type Case = (&'static str, Vec<u8>, Vec<u8>, Option<Protocol>);
    let cases: [Case; 4] = [
        (
            "http request",
            after(http),
            random(41, 2000),
            Some(Protocol::Http),
        ),
        (
            "http headers",
            after(http_unfinished),
            random(42, 2000),
            Some(Protocol::Http),
        ),
        (
            "smtp banner",
            random(43, 2000),
            after(smtp),
            Some(Protocol::Smtp),
        ),
        // SOCKS5: greeting, then (no proxy answered) ciphertext.
        (
            "socks5 greeting",
            after(b"\x05\x01\x00"),
            random(44, 2000),
            None,
        ),
    ];
    for (name, client, server, protocol) in cases {
        for step in [1, 97, 1460] {
            let v = tcp(24444, &client, &server, step);
            assert!(
                v.alerts.contains(Alert::SymmetricOnly),
                "{name}, step {step}: {v:?}"
            );
            assert_eq!(v.protocol, protocol, "{name}");
            assert_eq!(v.content, Content::Encrypted, "{name}");
            assert!(
                !v.alerts.contains(Alert::HandshakeMalformed),
                "{name}: a carrier is no handshake"
            );
        }
        // The framing's break is the evidence, with the measured range after it.
        if protocol.is_some() {
            let v = tcp(24444, &client, &server, 1460);
            let d = v.dir(v.evidence.high_entropy_direction.unwrap());
            let broke = d.broke.unwrap_or_else(|| panic!("{name}: {d:?}"));
            assert_eq!(broke.reason, MalformReason::BadMessage, "{name}");
            assert_eq!(d.measured_from(), Some(broke.at), "{name}");
        }
    }
}

#[test]
fn a_proxy_preamble_hands_over_and_ciphertext_inside_is_flagged() {
    let connect = b"CONNECT 203.0.113.9:443 HTTP/1.1\r\nHost: 203.0.113.9:443\r\n\r\n";
    let ok = b"HTTP/1.1 200 Connection established\r\n\r\n";
    let with = |head: &[u8], seed| {
        let mut v = head.to_vec();
        v.extend(random(seed, 2500));
        v
    };
    for step in [1, 64, 1460] {
        let v = tcp(3128, &with(connect, 50), &with(ok, 51), step);
        assert!(
            v.alerts.contains(Alert::SymmetricOnly),
            "step {step}: {v:?}"
        );
        assert_eq!((v.carrier, v.protocol), (Some(Protocol::Http), None));
        // The inner stream is measured from where the tunnel starts.
        let spans = v.dirs[0].spans;
        assert_eq!(spans[0], None);
        assert_eq!(spans[1].map(|s| s.start), Some(connect.len() as u64));
    }
    // The same proxy carrying TLS: the inner hello is a key exchange.
    let mut hello = connect.to_vec();
    hello.extend_from_slice(&[22, 3, 1, 0, 47, 1, 0, 0, 43, 3, 3]);
    hello.extend([0u8; 32]);
    hello.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0, 0, 0]);
    let v = tcp(3128, &hello, ok, 100);
    assert_eq!(
        (v.carrier, v.protocol),
        (Some(Protocol::Http), Some(Protocol::Tls))
    );
    assert!(!v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
    assert!(
        !v.alerts.contains(Alert::TlsUnexpectedPort),
        "the proxy's port does not judge the tunnel's TLS"
    );
    // The port the client asked for does: TLS through the proxy to 4444.
    let mut hello = b"CONNECT 203.0.113.9:4444 HTTP/1.1\r\n\r\n".to_vec();
    hello.extend_from_slice(&[22, 3, 1, 0, 47, 1, 0, 0, 43, 3, 3]);
    hello.extend([0u8; 32]);
    hello.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0, 0, 0]);
    let v = tcp(3128, &hello, ok, 100);
    assert!(v.alerts.contains(Alert::TlsUnexpectedPort), "{v:?}");
    assert_eq!(v.evidence.server_port, Some(4444));
    assert_eq!(v.destination.map(|d| d.port), Some(4444));
}

#[test]
fn socks_tunnels_are_looked_into() {
    // SOCKS5 by name to port 443 (curl --socks5-hostname), then TLS.
    let greeting = b"\x05\x01\x00\x05\x01\x00\x03\x0bexample.com\x01\xbb";
    let reply = b"\x05\x00\x05\x00\x00\x01\x7f\x00\x00\x01\x9c\x40";
    let mut c = greeting.to_vec();
    c.extend_from_slice(&[22, 3, 1, 0, 47, 1, 0, 0, 43, 3, 3]);
    c.extend([0u8; 32]);
    c.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0, 0, 0]);
    c.extend_from_slice(&[23, 3, 3, 0x09, 0xc4]);
    c.extend(random(70, 2500));
    let mut s = reply.to_vec();
    s.extend_from_slice(&[22, 3, 3, 0, 42, 2, 0, 0, 38, 3, 3]);
    s.extend([0u8; 32]);
    s.extend_from_slice(&[0, 0x13, 0x01, 0]);
    s.extend_from_slice(&[23, 3, 3, 0x09, 0xc4]);
    s.extend(random(71, 2500));
    for step in [1, 7, 1460] {
        let v = tcp(1080, &c, &s, step);
        assert_eq!(
            (v.carrier, v.protocol),
            (Some(Protocol::Socks5), Some(Protocol::Tls)),
            "step {step}"
        );
        assert!(v.alerts.is_empty(), "step {step}: {v:?}");
        assert_eq!(v.destination.map(|d| d.port), Some(443));
    }
    // The same proxy relaying ciphertext with no handshake.
    let mut c = greeting.to_vec();
    c.extend(random(72, 3000));
    let mut s = reply.to_vec();
    s.extend(random(73, 3000));
    let v = tcp(1080, &c, &s, 1460);
    assert_eq!(
        v.alerts.iter().collect::<Vec<_>>(),
        [Alert::SymmetricOnly],
        "{v:?}"
    );
    assert_eq!((v.carrier, v.protocol), (Some(Protocol::Socks5), None));
    assert_eq!(v.carried_by(Direction::ToServer), Some(Protocol::Socks5));
}

#[test]
fn a_websocket_upgrade_in_front_of_ciphertext_is_flagged() {
    let upgrade = b"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    let switching =
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    let mut c = upgrade.to_vec();
    c.extend(random(60, 2500));
    let mut s = switching.to_vec();
    s.extend(random(61, 2500));
    let v = tcp(8080, &c, &s, 333);
    assert!(v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
    assert_eq!(v.carrier, Some(Protocol::Http));
    assert_eq!(v.protocol, Some(Protocol::WebSocket));
    // Real frames: the client's masked text is measured unmasked and is
    // text; the server's binary payloads of random bytes are ciphertext the
    // WebSocket carries.
    let mut c = upgrade.to_vec();
    for _ in 0..20 {
        c.extend_from_slice(&[0x81, 0x85, 1, 2, 3, 4]);
        c.extend_from_slice(b"hello");
    }
    let mut s = switching.to_vec();
    for _ in 0..20 {
        s.extend_from_slice(&[0x82, 100]);
        s.extend(random(62, 100));
    }
    let v = tcp(8080, &c, &s, 333);
    assert_eq!(
        v.alerts.iter().collect::<Vec<_>>(),
        [Alert::SymmetricOnly],
        "{v:?}"
    );
    assert_eq!(v.evidence.high_entropy_direction, Some(Direction::ToClient));
    assert_eq!((v.dirs[0].inspected, v.dirs[1].inspected), (100, 2000));
    assert_eq!(v.dirs[0].printable_fraction, 1.0);
    // Text both ways: chat stays clean.
    let mut s = switching.to_vec();
    for k in 0..20 {
        let line =
            format!("{{\"from\":\"bob\",\"seq\":{k},\"text\":\"see you at the station at six\"}}");
        s.extend_from_slice(&[0x81, line.len() as u8]);
        s.extend_from_slice(line.as_bytes());
    }
    let v = tcp(8080, &c, &s, 333);
    assert!(v.alerts.is_empty(), "{v:?}");
}

#[test]
fn a_faked_rtmp_opening_costs_its_handshake_then_ciphertext_is_flagged() {
    // C0 and a C1 with Flash's version field, S0 and a S1 with FMS's, then
    // random bytes: the 3073 bytes of each handshake are explained, the
    // first chunk header breaks the framing, the rest is measured.
    let mut c = random(81, 6000);
    c[..9].copy_from_slice(&[3, 0, 0, 0, 0, 0x09, 0x00, 0x7c, 0x02]);
    let mut s = random(82, 6000);
    s[..9].copy_from_slice(&[3, 0x63, 0x50, 0x5f, 0xdd, 0x01, 0x00, 0x05, 0x04]);
    for step in [1, 1460] {
        let v = tcp(1935, &c, &s, step);
        assert_eq!(v.protocol, Some(Protocol::Rtmp), "{v:?}");
        assert!(v.alerts.contains(Alert::SymmetricOnly), "{v:?}");
        // The break comes at the first byte of the first message header
        // that random bytes fail (within its 52 bytes).
        for d in &v.dirs {
            let b = d.broke.expect("the framing broke");
            assert_eq!(b.reason, MalformReason::BadMessage);
            assert!((3073..3073 + 52).contains(&b.at), "{b:?}");
            assert_eq!(d.spans[0].map(|s| s.start), Some(b.at + 1));
        }
    }
}
