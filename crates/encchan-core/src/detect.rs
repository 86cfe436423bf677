//! The alert rules: one function per alert, in one place.
//!
//! [`conclude`] reads a flow once into a [`Context`] (statistics summaries,
//! the protocol of each layer, what the key exchange showed), then asks each
//! alert's rule whether it is raised, with what evidence, and whether it is
//! **final**: whether any further byte or the passing of time could take it
//! back. Front ends publish final alerts as they appear (a Suricata
//! flowbit, a Zeek notice; see [`Verdict::publish`]); at the flow's end
//! every alert is final.
//!
//! When an alert becomes final:
//!
//! | alert | final when |
//! |---|---|
//! | `symmetric_only` | the flow's start was seen and the sequential test decided a direction's opening bytes (often on its first packet: see [`crate::sequential`]); over TCP, the high-entropy direction's inspection ended and it said no hello (no answer can make a key exchange of it); else both directions' inspection ended, or the flow ended |
//! | `encrypted_on_plaintext_port` | as `symmetric_only`, but not by the sequential test (whether a carrier explains the bytes can change until inspection ends) |
//! | `tls_unexpected_port`, `ssh_unexpected_port` | the key exchange was seen (the protocol cannot turn out a costume), inspection ended, or the flow ended |
//! | `handshake_malformed` | at once: a broken framing stays broken |
//! | `rsa_key_exchange` | the key exchange was seen, inspection ended, or the flow ended |
//! | `handshake_incomplete`, `traffic_asymmetry` | the flow ended (a late completion, or late bytes, change them) |
//! | `dns_encoded_payload` | at once: a DNS message left the payload looking like ciphertext (latched) |

use crate::config::{Config, PortClass};
use crate::flow::{
    Flow, FlowStart, Transport, FINISHED, GROUP, HANDSHAKE_STARTED, INSPECTION_DONE,
};
use crate::proto::{quic, Facts};
use crate::stats::{Encoding, Summary};
use crate::verdict::{
    carried_by, Alert, AlertSet, Broke, Content, DirReport, Direction, Evidence, Format,
    HandshakeEvidence, MalformReason, Protocol, Verdict,
};

/// Everything the rules read, computed once per verdict.
struct Context<'a> {
    flow: &'a Flow,
    cfg: &'a Config,
    dirs: [DirReport; 2],
    /// The innermost stream's protocol; a key-exchange framing that broke
    /// before any exchange is taken for the costume it was (none).
    protocol: Option<Protocol>,
    /// The cleartext protocol that handed its stream over, if one did.
    carrier: Option<Protocol>,
    kex_observed: bool,
    kex_complete: bool,
    /// A key-exchange protocol's framing broke: in which direction, why,
    /// where, and which protocol it was.
    malformed: Option<(Direction, MalformReason, u64, Protocol)>,
    /// The direction whose unexplained bytes are high-entropy (the larger,
    /// when both are).
    high_dir: Option<Direction>,
    /// High entropy there is explained anyway (see `symmetric_only`).
    exempt: bool,
    started: bool,
    ended: bool,
    inspection_done: bool,
}

impl<'a> Context<'a> {
    fn new(flow: &'a Flow, cfg: &'a Config) -> Self {
        let summaries = flow.lanes.map(|l| l.stats.summary(cfg.entropy_threshold));
        let inner = flow.lanes.iter().any(|l| l.layer() == 1);
        let outer = flow.notes.get(0);
        let (carrier, innermost) = if inner {
            (outer, flow.notes.get(1))
        } else {
            (None, outer)
        };
        // A UDP flow to a port profiled for QUIC whose datagrams kept QUIC's
        // short-header shape both ways: QUIC picked up after its handshake.
        // Either port: a flow picked up late may have its sides swapped.
        let quic_late = flow.transport == Transport::Udp
            && flow.on_tls_port(cfg)
            && quic::short_header_session(
                &flow.lanes[0].memory().quic,
                &flow.lanes[1].memory().quic,
            );
        let raw = innermost.or_else(|| quic_late.then_some(Protocol::Quic));
        let malformed = [Direction::ToServer, Direction::ToClient]
            .into_iter()
            .find_map(|d| {
                let (reason, at, p) = flow.lanes[d.index()].broke()?;
                p.has_key_exchange().then_some((d, reason, at, p))
            });
        let hello = |i: usize| flow.lanes[i].facts.has(Facts::HELLO);
        let kex_observed = match raw {
            // QUIC protects everything after the Initial: one side's long
            // header of a known version and an answer from the other side
            // (short headers, or Google QUIC without the version) are all
            // there is to see. MTProto's init hands over the keys of both
            // directions: the server's answer under them is all there is.
            Some(Protocol::Quic | Protocol::MtProto) => {
                (hello(0) || hello(1)) && flow.lanes[0].bytes() > 0 && flow.lanes[1].bytes() > 0
            }
            _ => hello(0) && hello(1),
        };
        let kex_complete = kex_observed
            && match raw {
                // Stream protocols: both sides switched to protected records.
                Some(Protocol::Tls | Protocol::Ssh) => {
                    flow.lanes[0].facts.has(Facts::KEYED) && flow.lanes[1].facts.has(Facts::KEYED)
                }
                _ => true,
            };
        // Framing that broke before any key exchange was a costume, not the
        // protocol.
        let protocol = match raw {
            Some(p) if p.has_key_exchange() && !kex_observed && malformed.is_some() => None,
            p => p,
        };

        let mut dirs = [DirReport::default(); 2];
        let mut unexplained = [false; 2];
        for i in 0..2 {
            let (lane, s) = (&flow.lanes[i], &summaries[i]);
            let format = Format::from_code(lane.format);
            let enough = s.bytes >= cfg.min_payload;
            unexplained[i] = looks_like_ciphertext(flow, cfg, i, s);
            dirs[i] = dir_report(flow, cfg, i, s, enough, format);
        }
        let high_dir = match unexplained {
            [true, true] if summaries[1].bytes > summaries[0].bytes => Some(Direction::ToClient),
            [true, _] => Some(Direction::ToServer),
            [false, true] => Some(Direction::ToClient),
            [false, false] => None,
        };

        // High entropy is explained by a key exchange that was seen, that
        // may have happened before the capture (a TCP pickup mid-stream;
        // UDP framing with no hello, as after WireGuard's or QUIC's
        // handshake), or when one side said hello and the other said
        // nothing at all (`handshake_incomplete` covers that). Records with
        // no hello on a flow whose start was seen, or a hello answered with
        // something else, are clothing on another channel. A cleartext
        // protocol over TCP explains only what its framing accounts for,
        // which was never measured (unless the flow was picked up in the
        // middle of a message); over UDP it exempts the flow, as one
        // 5-tuple multiplexes STUN, DTLS and SRTP (RFC 7983). An
        // application recognized by a magic alone exempts nothing.
        let started = flow.flags & HANDSHAKE_STARTED != 0;
        let one_sided = flow.lanes[0].bytes() == 0 || flow.lanes[1].bytes() == 0;
        let midstream = flow.start == FlowStart::Midstream;
        let kex_explains = kex_observed
            || midstream
            || (flow.transport == Transport::Udp && !started)
            || (started && one_sided);
        let exempt = match protocol {
            Some(p) if p.has_key_exchange() => kex_explains,
            // An application named by its magic alone is judged as if it
            // were not recognized: the magic buys its name in the evidence.
            Some(p) if p.names_only() => flow.transport == Transport::Tcp && midstream,
            // Picked up mid-stream, a lane may start inside a message.
            Some(_) => flow.transport == Transport::Udp || midstream,
            None => flow.transport == Transport::Tcp && midstream,
        };
        Context {
            flow,
            cfg,
            dirs,
            protocol,
            carrier,
            kex_observed,
            kex_complete,
            malformed,
            high_dir,
            exempt,
            started,
            ended: flow.flags & FINISHED != 0,
            inspection_done: flow.flags & INSPECTION_DONE != 0,
        }
    }

    /// Unexplained high entropy that nothing exempts.
    fn unexplained_ciphertext(&self) -> Option<Direction> {
        self.high_dir
            .filter(|_| self.protocol.is_none() || !self.exempt)
    }

    /// The first direction whose opening bytes the sequential test decided
    /// are ciphertext, on a flow where that decides `symmetric_only`: over
    /// TCP, the start seen (picked up mid-stream, a key exchange may have
    /// happened before), no group address. Such a direction said no hello
    /// and no key-exchange protocol reads it, so no later byte of either
    /// side can explain it; the decision stands whatever later bytes do to
    /// the statistics. (Over UDP the other side naming a cleartext protocol
    /// still exempts a flow: UDP waits for the budget or the end.)
    fn decided(&self) -> Option<Direction> {
        let f = self.flow;
        if f.start != FlowStart::Observed || f.flags & GROUP != 0 {
            return None;
        }
        // The high-entropy direction when it is one of them, as the
        // verdict at the end would name it.
        self.high_dir
            .into_iter()
            .chain([Direction::ToServer, Direction::ToClient])
            .find(|d| f.lanes[d.index()].decided_ciphertext())
    }

    /// Whether direction `d`'s measured bytes were content a cleartext
    /// protocol carries, inside framing that held (an HTTP body, a
    /// WebSocket payload, a tunnel after CONNECT), rather than bytes no
    /// framing accounts for.
    fn carried(&self, d: Direction) -> bool {
        let broke = self.flow.lanes[d.index()].broke().is_some();
        carried_by(self.protocol, self.carrier, broke).is_some()
    }

    /// TLS is the stream's protocol, or was until its session closed and
    /// handed the stream on: what it negotiated still speaks for the flow.
    fn tls_ran(&self) -> bool {
        self.protocol == Some(Protocol::Tls) || self.carrier == Some(Protocol::Tls)
    }

    /// The outermost stream's protocol (the carrier, when there is one).
    fn outer(&self) -> Option<Protocol> {
        self.carrier.or(self.protocol)
    }

    fn content(&self) -> Content {
        let kex = self.protocol.is_some_and(|p| p.has_key_exchange());
        let dns_payload = self.protocol == Some(Protocol::Dns)
            && (self.high_dir.is_some() || self.flow.notes.dns_payload != 0);
        if kex || dns_payload || self.unexplained_ciphertext().is_some() {
            Content::Encrypted
        } else if self.protocol.is_some() || self.carrier.is_some() {
            Content::Plaintext
        } else if self
            .dirs
            .iter()
            .any(|d| d.format.is_some_and(|f| !f.is_ciphertext()))
        {
            Content::Compressed
        } else {
            let s = &self.dirs;
            let printable = s
                .iter()
                .all(|d| d.inspected == 0 || d.printable_fraction >= 0.9);
            if printable && s.iter().any(|d| d.inspected > 0) {
                Content::Plaintext
            } else {
                Content::Unknown
            }
        }
    }
}

/// Whether direction `i`'s measured bytes (summarized in `s`) look like
/// ciphertext: enough of them, high entropy for their alphabet, under
/// printable cover, or a ciphertext container; not a compressed or media
/// format.
pub(crate) fn looks_like_ciphertext(flow: &Flow, cfg: &Config, i: usize, s: &Summary) -> bool {
    let lane = &flow.lanes[i];
    let format = Format::from_code(lane.format);
    let enough = s.bytes >= cfg.min_payload;
    let innocent_format = format.is_some_and(|f| !f.is_ciphertext());
    let cipher_container = format.is_some_and(|f| f.is_ciphertext());
    // Ciphertext under printable cover counts too, unless the bytes are an
    // encoding, or datagrams that repeat (a discovery protocol's random
    // device id in a text announcement).
    let repeating = lane.memory().repeats.repeating() && flow.transport == Transport::Udp;
    let covered = s.binary_high_entropy && s.encoding == Encoding::Raw && !repeating;
    enough && !innocent_format && (s.high_entropy || covered || cipher_container)
}

fn dir_report(
    flow: &Flow,
    cfg: &Config,
    i: usize,
    s: &Summary,
    enough: bool,
    format: Option<Format>,
) -> DirReport {
    let lane = &flow.lanes[i];
    DirReport {
        bytes: lane.bytes(),
        inspected: s.bytes,
        entropy: enough.then_some(s.entropy),
        block_shannon: s.block_shannon,
        block_shannon_random: s.block_shannon_random,
        collisions: s.collisions,
        collisions_expected: s.collisions_expected,
        printable_fraction: s.printable_fraction,
        longest_printable_run: s.longest_printable_run,
        mean_popcount: s.mean_popcount,
        encoding: s.encoding,
        high_entropy: s.high_entropy && enough,
        full_blocks: s.full_blocks,
        uniform_blocks: s.uniform_blocks,
        binary_bytes: s.binary_bytes,
        binary_entropy: s.binary_entropy,
        binary_high_entropy: s.binary_high_entropy && enough,
        printable_cover: enough && !s.high_entropy && s.binary_high_entropy,
        explained: lane.explained(),
        spans: lane.spans(),
        broke: lane.broke().map(|(reason, at, protocol)| Broke {
            protocol,
            reason,
            at,
        }),
        message: lane.kept().message(),
        format,
        inspection_end: lane.done().then_some(cfg.inspect_budget as u64),
    }
}

/// What a rule found: its evidence, and whether it is final.
struct Raised {
    evidence: Found,
    final_: bool,
}

/// An alert's evidence, written into the shared [`Evidence`] slots.
enum Found {
    Entropy {
        direction: Direction,
        framing_without_handshake: bool,
    },
    EntropyOnPort {
        direction: Option<Direction>,
        port: u16,
    },
    Port(u16),
    Handshake(HandshakeEvidence),
    CipherSuite(u16),
    Ratio(f32),
}

/// The rule for `alert`. The match is exhaustive: a new alert does not
/// build without its rule.
fn rule(alert: Alert, cx: &Context<'_>) -> Option<Raised> {
    match alert {
        Alert::SymmetricOnly => symmetric_only(cx),
        Alert::TlsUnexpectedPort => unexpected_port(cx, PortClass::Tls),
        Alert::SshUnexpectedPort => unexpected_port(cx, PortClass::Ssh),
        Alert::EncryptedOnPlaintextPort => encrypted_on_plaintext_port(cx),
        Alert::HandshakeIncomplete => handshake_incomplete(cx),
        Alert::HandshakeMalformed => handshake_malformed(cx),
        Alert::RsaKeyExchange => rsa_key_exchange(cx),
        Alert::TrafficAsymmetry => traffic_asymmetry(cx),
        Alert::DnsEncodedPayload => dns_encoded_payload(cx),
    }
}

/// Statistics and exemptions are fixed once inspection ended.
fn settled(cx: &Context<'_>) -> bool {
    cx.inspection_done || cx.ended
}

/// Over TCP, unexplained high entropy in a direction whose inspection
/// ended, and that said no hello, cannot be taken back: its statistics are
/// fixed, and no answer from the other side can make a key exchange of it.
/// (Over UDP, the other side naming a cleartext protocol still could.)
fn fixed_ciphertext(cx: &Context<'_>, direction: Direction) -> bool {
    let lane = &cx.flow.lanes[direction.index()];
    cx.flow.transport == Transport::Tcp && lane.done() && !lane.facts.has(Facts::HELLO)
}

/// High-entropy bytes that nothing explains: no key exchange seen, no
/// protocol's framing around them (T1573.001). A direction whose opening
/// bytes the sequential test decided makes it final at once.
fn symmetric_only(cx: &Context<'_>) -> Option<Raised> {
    // Announcements to a group are no channel to a peer.
    if cx.flow.flags & GROUP != 0 {
        return None;
    }
    let decided = cx.decided();
    let direction = decided.or(cx.high_dir.filter(|_| !cx.exempt))?;
    let framing_without_handshake =
        cx.protocol.is_some_and(|p| p.has_key_exchange()) && !cx.started;
    Some(Raised {
        evidence: Found::Entropy {
            direction,
            framing_without_handshake,
        },
        final_: decided.is_some() || settled(cx) || fixed_ciphertext(cx, direction),
    })
}

/// A key-exchange protocol on a port its profile does not list: the
/// flow's server port, or, through a proxy (CONNECT, SOCKS), the port the
/// client asked the proxy to connect to. An inner stream with no such
/// destination (TLS after STARTTLS) is not judged by the carrier's port.
fn unexpected_port(cx: &Context<'_>, class: PortClass) -> Option<Raised> {
    let (p, port) = match cx.carrier {
        None => (cx.protocol?, cx.flow.server_port),
        // The flow's own stream was this protocol until it handed the
        // stream over (a TLS session that closed and let the stream go on
        // in the clear): what ran on the port stays, whatever came after.
        Some(c) if c.expected_on() == Some(class) => (c, cx.flow.server_port),
        Some(_) => {
            let d = cx.flow.notes.destination;
            (cx.protocol?, d.is_some().then_some(d.port)?)
        }
    };
    if p.expected_on() != Some(class) || cx.cfg.ports.get(class).contains(port) {
        return None;
    }
    Some(Raised {
        evidence: Found::Port(port),
        final_: cx.kex_observed || settled(cx),
    })
}

/// Encrypted payload on a port profiled for cleartext, that no cleartext
/// protocol there carries: a key-exchange protocol on the outer stream, or
/// high-entropy bytes no framing explains. Ciphertext a cleartext protocol
/// carries (an HTTP body, a WebSocket message, a CONNECT tunnel) is
/// `symmetric_only` with its carrier named, not this: the port's protocol
/// is there, doing its job.
fn encrypted_on_plaintext_port(cx: &Context<'_>) -> Option<Raised> {
    let port = cx.flow.server_port;
    if !cx.cfg.ports.plaintext.contains(port) {
        return None;
    }
    let outer_kex = cx.outer().is_some_and(|p| p.has_key_exchange());
    // Not decided early by the sequential test: whether a carrier's
    // framing explains the bytes can change until inspection ends (a body
    // whose framing breaks, a stream sniffed afresh after it).
    let unexplained = cx.unexplained_ciphertext().filter(|&d| !cx.carried(d));
    if !outer_kex && unexplained.is_none() {
        return None;
    }
    Some(Raised {
        evidence: Found::EntropyOnPort {
            direction: cx.high_dir,
            port,
        },
        final_: settled(cx)
            || (outer_kex && cx.kex_observed)
            || unexplained.is_some_and(|d| fixed_ciphertext(cx, d)),
    })
}

/// DNS whose question labels or TXT/NULL answers, measured on their own,
/// are at full entropy for their alphabet (T1071.004): names and records
/// that carry encoded ciphertext. The flow's messages parse as DNS, so
/// `symmetric_only` does not speak for them.
///
/// Final as soon as a DNS message left a direction's payload looking like
/// ciphertext (the flow latches it, see `Flow::feed`): a flow that carried
/// an encoded payload did, whatever ordinary names come after, and most DNS
/// flows are one query and its answer, which end by a timeout with no
/// packet left for a sensor's rule to run on.
fn dns_encoded_payload(cx: &Context<'_>) -> Option<Raised> {
    if cx.protocol != Some(Protocol::Dns) {
        return None;
    }
    let latched = cx.flow.notes.dns_payload;
    let first_latched = [Direction::ToServer, Direction::ToClient]
        .into_iter()
        .find(|d| latched & (1 << d.index()) != 0);
    let direction = cx.high_dir.or(first_latched)?;
    Some(Raised {
        evidence: Found::Entropy {
            direction,
            framing_without_handshake: false,
        },
        final_: settled(cx) || latched != 0,
    })
}

/// A key exchange started and did not complete before the flow ended or
/// within the handshake timeout (T1573.002).
fn handshake_incomplete(cx: &Context<'_>) -> Option<Raised> {
    let f = cx.flow;
    // Only a key-exchange protocol has a handshake to leave incomplete (a
    // cleartext protocol after a TLS session that closed has none).
    let p = cx.protocol.filter(|p| p.has_key_exchange())?;
    if !cx.started || cx.kex_complete || cx.malformed.is_some() {
        return None;
    }
    let hs_start = f.first_ts_us.saturating_add(f.handshake_start_us as u64);
    let elapsed = f.last_ts_us.saturating_sub(hs_start);
    let timed_out = elapsed >= cx.cfg.handshake_timeout_us;
    // A side that used its whole inspection budget before switching to
    // protected records may have switched after it, and a side with a gap
    // (bytes the host never delivered) may have switched in it: neither is
    // evidence.
    let unseen_completion = f.lanes.iter().any(|l| {
        !l.facts.has(Facts::KEYED) && (l.bytes() >= cx.cfg.inspect_budget as u64 || l.gap_seen())
    });
    if unseen_completion || !(cx.ended || timed_out) {
        return None;
    }
    let direction = if f.lanes[0].facts.has(Facts::HELLO) {
        Direction::ToServer
    } else {
        Direction::ToClient
    };
    let fatal = f.any_fact(Facts::FATAL_ALERT);
    Some(Raised {
        evidence: Found::Handshake(HandshakeEvidence {
            protocol: p,
            direction,
            offset: f.lanes[direction.index()].bytes(),
            reason: fatal.then_some(MalformReason::FatalAlert),
            elapsed_us: elapsed,
        }),
        final_: cx.ended,
    })
}

/// A key-exchange protocol whose framing broke (T1573.002).
fn handshake_malformed(cx: &Context<'_>) -> Option<Raised> {
    // The protocol whose framing broke, as that lane read it: the flow's
    // name for the layer may be another lane's (the other side spoke
    // something else), and a break stays a break.
    let (direction, reason, offset, protocol) = cx.malformed?;
    Some(Raised {
        evidence: Found::Handshake(HandshakeEvidence {
            protocol,
            direction,
            offset,
            reason: Some(reason),
            elapsed_us: 0,
        }),
        final_: true,
    })
}

/// TLS below 1.3 with RSA key transport: no forward secrecy (T1573.002).
fn rsa_key_exchange(cx: &Context<'_>) -> Option<Raised> {
    let neg = cx.flow.negotiated()?;
    if !cx.tls_ran() || neg.version >= 0x0304 || !rsa_suite(neg.cipher_suite) {
        return None;
    }
    Some(Raised {
        evidence: Found::CipherSuite(neg.cipher_suite),
        final_: cx.kex_observed || settled(cx),
    })
}

/// Whether TLS cipher suite `id` uses RSA key transport (no forward secrecy),
/// per the IANA registry as tls-parser carries it.
fn rsa_suite(id: u16) -> bool {
    use tls_parser::{TlsCipherKx, TlsCipherSuite};
    TlsCipherSuite::from_id(id).is_some_and(|c| c.kx == TlsCipherKx::Rsa)
}

/// Client bytes above the volume threshold and the asymmetry ratio (T1573).
fn traffic_asymmetry(cx: &Context<'_>) -> Option<Raised> {
    let (client, server) = (cx.flow.lanes[0].bytes(), cx.flow.lanes[1].bytes());
    let ratio = client as f32 / server.max(1) as f32;
    if client < cx.cfg.volume_threshold || ratio < cx.cfg.asymmetry_ratio {
        return None;
    }
    Some(Raised {
        evidence: Found::Ratio(ratio),
        final_: cx.ended,
    })
}

/// The verdict on `flow` (already settled).
pub(crate) fn conclude(flow: &Flow, cfg: &Config) -> Verdict {
    let cx = Context::new(flow, cfg);
    let mut alerts = AlertSet::EMPTY;
    let mut final_alerts = AlertSet::EMPTY;
    let mut e = Evidence::default();
    for alert in Alert::ALL {
        let Some(raised) = rule(alert, &cx) else {
            continue;
        };
        alerts.insert(alert);
        if raised.final_ || cx.ended {
            final_alerts.insert(alert);
        }
        match raised.evidence {
            Found::Entropy {
                direction,
                framing_without_handshake,
            } => {
                e.high_entropy_direction = Some(direction);
                e.framing_without_handshake = framing_without_handshake;
            }
            Found::EntropyOnPort { direction, port } => {
                e.high_entropy_direction = e.high_entropy_direction.or(direction);
                e.server_port = Some(port);
            }
            Found::Port(port) => e.server_port = Some(port),
            Found::Handshake(h) => e.handshake = Some(h),
            Found::CipherSuite(c) => e.cipher_suite = Some(c),
            Found::Ratio(r) => e.asymmetry_ratio = Some(r),
        }
    }
    let neg = flow.negotiated().filter(|_| cx.tls_ran());
    let tls_version = neg.map(|n| n.version).filter(|&v| v != 0);
    Verdict {
        protocol: cx.protocol,
        carrier: cx.carrier,
        destination: flow
            .notes
            .destination
            .is_some()
            .then_some(flow.notes.destination),
        roles_swapped: flow.roles_swapped(),
        content: cx.content(),
        alerts,
        final_alerts,
        evidence: e,
        dirs: cx.dirs,
        key_exchange_complete: cx.kex_complete,
        tls_version,
        tls_cipher_suite: neg
            .map(|n| n.cipher_suite)
            .filter(|&c| c != 0 && tls_version.is_some()),
        inspection_done: cx.inspection_done,
        ended: cx.ended,
        first_ts_us: flow.first_ts_us,
        last_ts_us: flow.last_ts_us,
    }
}
