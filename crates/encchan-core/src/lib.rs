//! # encchan-core
//!
//! Finds command-and-control hidden in encrypted channels (MITRE ATT&CK
//! T1573) from the payload of network flows, inside the sensors defenders
//! already run.
//!
//! Per flow and per direction it keeps [byte statistics](stats) that stay
//! meaningful on short payloads, walks [key-exchange protocols](proto) (TLS,
//! SSH, QUIC, DTLS, WireGuard, IKE, OpenVPN), recognizes [compressed and media
//! formats](format), and concludes a [`Verdict`]: the protocol, what the
//! content looks like, and alerts with their evidence —
//! `symmetric_only` (high entropy, no key exchange: pre-shared-key C2,
//! T1573.001), TLS on unexpected ports, incomplete or malformed handshakes,
//! RSA key exchange (T1573.002), and client-heavy byte ratios.
//!
//! ## Design
//!
//! * `#![no_std]`, no heap: a [`Flow`] is a 384-byte `Copy` value in memory
//!   the host owns; a [`Config`] is shared read-only by all flows.
//! * Chunking-invariant: the same bytes give the same verdict however they
//!   were split into segments.
//! * Layers: a direction's stream is read by one [walker](proto) at a time;
//!   a cleartext carrier (an HTTP CONNECT, STARTTLS) hands what follows it
//!   to an inner stream, sniffed afresh. The statistics measure only what no
//!   protocol explains.
//! * Inspection ends after `inspect_budget` bytes per direction (4 KiB by
//!   default, [`Flow::is_inspection_done`]); byte counters keep counting.
//! * [Alert rules](detect) in one place, each saying when its alert is
//!   final; front ends publish final alerts ([`Verdict::publish`]).
//! * [Knobs](knobs) in one table, and [one serializer](report) of verdicts,
//!   for every front end.
//! * One engine, many front ends: the C ABI, the Zeek plugin, the Suricata
//!   plugin and the `encchan` CLI only move bytes in and verdicts out.
//!
//! ```
//! use encchan_core::{Config, Direction, Flow, FlowStart, Transport, Alert};
//!
//! let cfg = Config::default();
//! let mut flow = Flow::new(Transport::Tcp, 49152, 4444, FlowStart::Observed, 0);
//! // 512 bytes that look like ciphertext, with no handshake before them.
//! let mut x = 0x2545_f491_4f6c_dd1du64;
//! let payload: [u8; 512] = core::array::from_fn(|_| {
//!     x ^= x << 13; x ^= x >> 7; x ^= x << 17; x as u8
//! });
//! flow.feed(&cfg, Direction::ToServer, &payload, 1_000);
//! flow.finish(&cfg, 2_000);
//! assert!(flow.verdict(&cfg).alerts.contains(Alert::SymmetricOnly));
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

mod codes;
pub mod config;
pub mod detect;
pub mod flow;
pub mod format;
pub mod knobs;
mod math;
pub mod proto;
pub mod report;
pub mod roles;
mod sequential;
pub mod stats;
pub mod verdict;

pub use config::{Config, ConfigError, Kernel, PortClass, PortProfiles, PortSet};
pub use flow::{Fed, Flow, FlowStart, Transport};
pub use knobs::{Knob, KnobError, KNOBS};
pub use proto::tls::looks_like_tls;
pub use stats::{shannon, summarize, summarize_with, Encoding, Summary};
pub use verdict::{
    Alert, AlertSet, Broke, Content, Destination, DirReport, Direction, Evidence, Format,
    HandshakeEvidence, Host, MalformReason, Message, Protocol, Span, Verdict,
};

/// Version of the verdict model (alert bits, protocol and format codes).
/// Bumped whenever a code changes meaning; additions keep it.
pub const MODEL_VERSION: u32 = 1;
