//! The C ABI of encchan: what the Zeek and Suricata plugins (and anything
//! else that speaks C) link against.
//!
//! * The host owns all per-flow memory: `encchan_state_size()` /
//!   `encchan_state_align()` say how much, `encchan_flow_init()` places a flow
//!   there. Nothing is allocated per flow or per packet; a config is allocated
//!   once.
//! * Every function checks its pointers and sizes and returns an error code
//!   (negative `EncchanStatus`) instead of trusting them; a panic never crosses
//!   the boundary (it is caught and reported as `ENCCHAN_STATUS_ERR_PANIC`).
//! * Verdicts are copied into caller structs of fixed layout.
//!
//! The header `include/encchan.h` is generated from this file by cbindgen; a
//! test fails when the checked-in copy is stale.

#![allow(clippy::missing_safety_doc)] // every function documents its contract in the header

use core::ffi::{c_char, c_int};
use core::panic::AssertUnwindSafe;
use encchan_core::{
    Alert, Config, Content, DirReport, Direction, Encoding, Flow, FlowStart, Format, MalformReason,
    Protocol, Transport, Verdict,
};
use std::ffi::CString;
use std::sync::OnceLock;

mod evidence;

/// Version of this ABI. Bumped on any incompatible change to a function or
/// struct below; hosts pass the version they were built against.
pub const ENCCHAN_ABI_VERSION: u32 = 2;

/// Return codes: 0 or positive on success, negative on error.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncchanStatus {
    Ok = 0,
    /// A required pointer was NULL.
    ErrNull = -1,
    /// A buffer or state size was too small.
    ErrSize = -2,
    /// State memory was not aligned to `encchan_state_align()`.
    ErrAlign = -3,
    /// State memory does not hold an initialized flow.
    ErrState = -4,
    /// An argument was out of range (direction, transport, knob value).
    ErrArg = -5,
    /// An internal error was caught; the flow should be dropped.
    ErrPanic = -6,
    /// The caller was built for another ABI version.
    ErrAbi = -7,
}

/// Which port profile `encchan_config_set_port` edits.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncchanPortClass {
    Tls = 0,
    Ssh = 1,
    Plaintext = 2,
}

/// Feed result bit: the engine has stopped inspecting this flow; the host
/// may stop delivering payload and call `encchan_flow_account` instead.
pub const ENCCHAN_FEED_DECIDED: c_int = 1;

/// Direction values.
pub const ENCCHAN_DIR_TO_SERVER: u8 = 0;
pub const ENCCHAN_DIR_TO_CLIENT: u8 = 1;
/// Transport values.
pub const ENCCHAN_TRANSPORT_TCP: u8 = 0;
pub const ENCCHAN_TRANSPORT_UDP: u8 = 1;
/// Flow start values.
pub const ENCCHAN_START_OBSERVED: u8 = 0;
pub const ENCCHAN_START_MIDSTREAM: u8 = 1;
/// Sentinels in verdict structs.
pub const ENCCHAN_NONE_U8: u8 = 0xff;
pub const ENCCHAN_NONE_U64: u64 = u64::MAX;

/// Alert bits of `EncchanVerdict.alerts` (bit n = alert n, see
/// `encchan_alert_name`).
pub const ENCCHAN_ALERT_SYMMETRIC_ONLY: u32 = 1 << 0;
pub const ENCCHAN_ALERT_TLS_UNEXPECTED_PORT: u32 = 1 << 1;
pub const ENCCHAN_ALERT_ENCRYPTED_ON_PLAINTEXT_PORT: u32 = 1 << 2;
pub const ENCCHAN_ALERT_HANDSHAKE_INCOMPLETE: u32 = 1 << 3;
pub const ENCCHAN_ALERT_HANDSHAKE_MALFORMED: u32 = 1 << 4;
pub const ENCCHAN_ALERT_RSA_KEY_EXCHANGE: u32 = 1 << 5;
pub const ENCCHAN_ALERT_TRAFFIC_ASYMMETRY: u32 = 1 << 6;
/// Number of alert kinds.
pub const ENCCHAN_ALERT_COUNT: u32 = 7;

/// Opaque engine configuration.
pub struct EncchanConfig {
    inner: Config,
}

/// Byte statistics of one direction (or one buffer).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct EncchanDirReport {
    /// Payload bytes seen.
    pub bytes: u64,
    /// Bytes that went through the statistics.
    pub inspected: u32,
    /// Whether `entropy` holds a value (at least `min_payload` bytes).
    pub has_entropy: bool,
    /// Collision-entropy estimate, bits per byte.
    pub entropy: f32,
    /// Mean Shannon entropy of 32-byte blocks, and its expectation for
    /// random data.
    pub block_shannon: f32,
    pub block_shannon_random: f32,
    /// Equal byte pairs within blocks, and the random expectation.
    pub collisions: u32,
    pub collisions_expected: f32,
    pub printable_fraction: f32,
    pub longest_printable_run: u32,
    pub mean_popcount: f32,
    /// 0 raw, 1 base64, 2 base32, 3 hex (`encchan_encoding_name`).
    pub encoding: u8,
    pub high_entropy: bool,
    /// Full 32-byte blocks inspected, and those uniform on their own.
    pub full_blocks: u32,
    pub uniform_blocks: u32,
    /// Format code (`encchan_format_name`), or `ENCCHAN_NONE_U8`.
    pub format: u8,
    /// Stream offset where inspection ended, or `ENCCHAN_NONE_U64`.
    pub decided_after: u64,
    /// Bytes outside printable ASCII, their collision entropy (at most
    /// log2 158 ≈ 7.3), and whether they alone pass the entropy test:
    /// ciphertext under printable padding or interleaved text.
    pub binary_bytes: u32,
    pub binary_entropy: f32,
    pub binary_high_entropy: bool,
    /// A recognized protocol explained bytes of this direction and the
    /// statistics skipped them; they measured `inspected` bytes from stream
    /// offset `measured_from` (TCP: 0, or where the framing broke).
    pub explained: bool,
    pub measured_from: u64,
}

/// Why the alerts were raised.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct EncchanEvidence {
    /// Direction whose statistics crossed the threshold, or `ENCCHAN_NONE_U8`.
    pub high_entropy_direction: u8,
    pub framing_without_handshake: bool,
    /// Server port for the port alerts, or -1.
    pub server_port: i32,
    /// Handshake evidence present.
    pub has_handshake: bool,
    pub handshake_protocol: u8,
    pub handshake_direction: u8,
    /// Reason code (`encchan_reason_name`), or `ENCCHAN_NONE_U8`.
    pub handshake_reason: u8,
    pub handshake_offset: u64,
    pub handshake_elapsed_us: u64,
    /// Negotiated cipher suite for `rsa_key_exchange`, or -1.
    pub cipher_suite: i32,
    /// Client/server byte ratio for `traffic_asymmetry`, or 0.
    pub asymmetry_ratio: f32,
}

/// A flow's verdict.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct EncchanVerdict {
    /// Protocol code (`encchan_protocol_name`), or `ENCCHAN_NONE_U8`.
    pub protocol: u8,
    /// Content code (`encchan_content_name`).
    pub content: u8,
    /// `ENCCHAN_ALERT_*` bits.
    pub alerts: u32,
    pub key_exchange_complete: bool,
    pub decided: bool,
    /// Negotiated TLS version and cipher suite, or 0.
    pub tls_version: u16,
    pub tls_cipher_suite: u16,
    pub first_ts_us: u64,
    pub last_ts_us: u64,
    /// [0] client to server, [1] server to client.
    pub dirs: [EncchanDirReport; 2],
    pub evidence: EncchanEvidence,
}

/// Flow memory: a tag that tells an initialized flow from stray memory, then
/// the engine's state.
#[repr(C)]
struct Slot {
    tag: u64,
    flow: Flow,
}

const SLOT_TAG: u64 = 0x656e_6363_6861_6e31; // "encchan1"

/// Runs `f`, turning a panic into `ErrPanic`.
fn guard(f: impl FnOnce() -> Result<c_int, EncchanStatus>) -> c_int {
    match std::panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => e as c_int,
        Err(_) => EncchanStatus::ErrPanic as c_int,
    }
}

unsafe fn config<'a>(cfg: *const EncchanConfig) -> Result<&'a Config, EncchanStatus> {
    cfg.as_ref().map(|c| &c.inner).ok_or(EncchanStatus::ErrNull)
}

unsafe fn config_mut<'a>(cfg: *mut EncchanConfig) -> Result<&'a mut Config, EncchanStatus> {
    cfg.as_mut()
        .map(|c| &mut c.inner)
        .ok_or(EncchanStatus::ErrNull)
}

fn check_mem(state: *const u8, len: usize) -> Result<(), EncchanStatus> {
    if state.is_null() {
        return Err(EncchanStatus::ErrNull);
    }
    if len < core::mem::size_of::<Slot>() {
        return Err(EncchanStatus::ErrSize);
    }
    if (state as usize) % core::mem::align_of::<Slot>() != 0 {
        return Err(EncchanStatus::ErrAlign);
    }
    Ok(())
}

unsafe fn slot<'a>(state: *const u8, len: usize) -> Result<&'a Slot, EncchanStatus> {
    check_mem(state, len)?;
    let slot = &*(state as *const Slot);
    if slot.tag != SLOT_TAG {
        return Err(EncchanStatus::ErrState);
    }
    Ok(slot)
}

unsafe fn slot_mut<'a>(state: *mut u8, len: usize) -> Result<&'a mut Slot, EncchanStatus> {
    slot(state, len)?;
    Ok(&mut *(state as *mut Slot))
}

unsafe fn bytes<'a>(data: *const u8, len: usize) -> Result<&'a [u8], EncchanStatus> {
    if len == 0 {
        return Ok(&[]);
    }
    if data.is_null() {
        return Err(EncchanStatus::ErrNull);
    }
    Ok(core::slice::from_raw_parts(data, len))
}

fn direction(dir: u8) -> Result<Direction, EncchanStatus> {
    match dir {
        ENCCHAN_DIR_TO_SERVER => Ok(Direction::ToServer),
        ENCCHAN_DIR_TO_CLIENT => Ok(Direction::ToClient),
        _ => Err(EncchanStatus::ErrArg),
    }
}

/// The ABI version this library implements.
#[no_mangle]
pub extern "C" fn encchan_abi_version() -> u32 {
    ENCCHAN_ABI_VERSION
}

/// Creates a configuration with the documented defaults. `abi_version` must
/// be `ENCCHAN_ABI_VERSION` as the caller saw it in the header.
#[no_mangle]
pub unsafe extern "C" fn encchan_config_new(
    abi_version: u32,
    out: *mut *mut EncchanConfig,
) -> c_int {
    guard(|| {
        if out.is_null() {
            return Err(EncchanStatus::ErrNull);
        }
        if abi_version != ENCCHAN_ABI_VERSION {
            *out = core::ptr::null_mut();
            return Err(EncchanStatus::ErrAbi);
        }
        *out = Box::into_raw(Box::new(EncchanConfig {
            inner: Config::default(),
        }));
        Ok(0)
    })
}

/// Frees a configuration from `encchan_config_new`. NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn encchan_config_free(cfg: *mut EncchanConfig) {
    if !cfg.is_null() {
        drop(Box::from_raw(cfg));
    }
}

/// Applies `edit` to a copy of the config and keeps it only if it validates.
unsafe fn set(cfg: *mut EncchanConfig, edit: impl FnOnce(&mut Config)) -> c_int {
    guard(|| {
        let cfg = config_mut(cfg)?;
        let mut next = cfg.clone();
        edit(&mut next);
        next.validate().map_err(|_| EncchanStatus::ErrArg)?;
        *cfg = next;
        Ok(0)
    })
}

/// Entropy threshold, bits per byte, in (0, 8]. Default 7.5.
#[no_mangle]
pub unsafe extern "C" fn encchan_config_set_entropy_threshold(
    cfg: *mut EncchanConfig,
    bits: f32,
) -> c_int {
    set(cfg, |c| c.entropy_threshold = bits)
}

/// Bytes a direction needs before its entropy counts. Default 32.
#[no_mangle]
pub unsafe extern "C" fn encchan_config_set_min_payload(
    cfg: *mut EncchanConfig,
    bytes: u32,
) -> c_int {
    set(cfg, |c| c.min_payload = bytes)
}

/// Bytes inspected per direction, in [64, 65536]. Default 4096.
#[no_mangle]
pub unsafe extern "C" fn encchan_config_set_inspect_budget(
    cfg: *mut EncchanConfig,
    bytes: u32,
) -> c_int {
    set(cfg, |c| c.inspect_budget = bytes)
}

/// Handshake timeout in microseconds. Default 10 s.
#[no_mangle]
pub unsafe extern "C" fn encchan_config_set_handshake_timeout_us(
    cfg: *mut EncchanConfig,
    us: u64,
) -> c_int {
    set(cfg, |c| c.handshake_timeout_us = us)
}

/// Client/server byte ratio for `traffic_asymmetry`, ≥ 1. Default 10.
#[no_mangle]
pub unsafe extern "C" fn encchan_config_set_asymmetry_ratio(
    cfg: *mut EncchanConfig,
    ratio: f32,
) -> c_int {
    set(cfg, |c| c.asymmetry_ratio = ratio)
}

/// Client bytes before `traffic_asymmetry` is considered. Default 1 MiB.
#[no_mangle]
pub unsafe extern "C" fn encchan_config_set_volume_threshold(
    cfg: *mut EncchanConfig,
    bytes: u64,
) -> c_int {
    set(cfg, |c| c.volume_threshold = bytes)
}

/// Whether the statistics also measure bytes a recognized protocol
/// explains (TLS after its hello, HTTP …). Default false: they could change
/// no alert, and skipping them is most of the engine's cost saved.
#[no_mangle]
pub unsafe extern "C" fn encchan_config_set_measure_known_protocols(
    cfg: *mut EncchanConfig,
    measure: bool,
) -> c_int {
    set(cfg, |c| c.measure_known_protocols = measure)
}

/// Adds (`expected` true) or removes a server port from a profile.
#[no_mangle]
pub unsafe extern "C" fn encchan_config_set_port(
    cfg: *mut EncchanConfig,
    class: EncchanPortClass,
    port: u16,
    expected: bool,
) -> c_int {
    set(cfg, |c| {
        let set = match class {
            EncchanPortClass::Tls => &mut c.ports.tls,
            EncchanPortClass::Ssh => &mut c.ports.ssh,
            EncchanPortClass::Plaintext => &mut c.ports.plaintext,
        };
        if expected {
            set.insert(port);
        } else {
            set.remove(port);
        }
    })
}

/// Empties a port profile (to replace the defaults).
#[no_mangle]
pub unsafe extern "C" fn encchan_config_clear_ports(
    cfg: *mut EncchanConfig,
    class: EncchanPortClass,
) -> c_int {
    set(cfg, |c| match class {
        EncchanPortClass::Tls => c.ports.tls.clear(),
        EncchanPortClass::Ssh => c.ports.ssh.clear(),
        EncchanPortClass::Plaintext => c.ports.plaintext.clear(),
    })
}

/// Bytes of memory one flow needs.
#[no_mangle]
pub extern "C" fn encchan_state_size() -> usize {
    core::mem::size_of::<Slot>()
}

/// Alignment that memory must have.
#[no_mangle]
pub extern "C" fn encchan_state_align() -> usize {
    core::mem::align_of::<Slot>()
}

/// Places a new flow in `state` (`len` bytes, aligned). Ports are the
/// client's (initiator's) and the server's; `transport` and `start` take the
/// `ENCCHAN_TRANSPORT_*` and `ENCCHAN_START_*` values.
#[no_mangle]
pub unsafe extern "C" fn encchan_flow_init(
    state: *mut u8,
    len: usize,
    transport: u8,
    client_port: u16,
    server_port: u16,
    start: u8,
    ts_us: u64,
) -> c_int {
    guard(|| {
        check_mem(state, len)?;
        let transport = match transport {
            ENCCHAN_TRANSPORT_TCP => Transport::Tcp,
            ENCCHAN_TRANSPORT_UDP => Transport::Udp,
            _ => return Err(EncchanStatus::ErrArg),
        };
        let start = match start {
            ENCCHAN_START_OBSERVED => FlowStart::Observed,
            ENCCHAN_START_MIDSTREAM => FlowStart::Midstream,
            _ => return Err(EncchanStatus::ErrArg),
        };
        let slot = Slot {
            tag: SLOT_TAG,
            flow: Flow::new(transport, client_port, server_port, start, ts_us),
        };
        core::ptr::write(state as *mut Slot, slot);
        Ok(0)
    })
}

/// Marks `state` as no longer holding a flow (optional; nothing to free).
#[no_mangle]
pub unsafe extern "C" fn encchan_flow_clear(state: *mut u8, len: usize) -> c_int {
    guard(|| {
        slot_mut(state, len)?.tag = 0;
        Ok(0)
    })
}

/// Feeds payload of direction `dir` (in-order TCP stream bytes, or one UDP
/// datagram). Returns `ENCCHAN_FEED_DECIDED` when the engine no longer needs
/// payload, 0 otherwise, or a negative error.
#[no_mangle]
pub unsafe extern "C" fn encchan_flow_feed(
    cfg: *const EncchanConfig,
    state: *mut u8,
    len: usize,
    dir: u8,
    data: *const u8,
    data_len: usize,
    ts_us: u64,
) -> c_int {
    guard(|| {
        let cfg = config(cfg)?;
        let dir = direction(dir)?;
        let data = bytes(data, data_len)?;
        let slot = slot_mut(state, len)?;
        slot.flow.feed(cfg, dir, data, ts_us);
        Ok(if slot.flow.is_decided() {
            ENCCHAN_FEED_DECIDED
        } else {
            0
        })
    })
}

/// Counts `bytes` of payload without inspecting it (after a decision).
#[no_mangle]
pub unsafe extern "C" fn encchan_flow_account(
    state: *mut u8,
    len: usize,
    dir: u8,
    bytes: u64,
    ts_us: u64,
) -> c_int {
    guard(|| {
        let dir = direction(dir)?;
        slot_mut(state, len)?.flow.account(dir, bytes, ts_us);
        Ok(0)
    })
}

/// Reports `bytes` missing from `dir`'s TCP stream.
#[no_mangle]
pub unsafe extern "C" fn encchan_flow_gap(
    cfg: *const EncchanConfig,
    state: *mut u8,
    len: usize,
    dir: u8,
    bytes: u64,
    ts_us: u64,
) -> c_int {
    guard(|| {
        let cfg = config(cfg)?;
        let dir = direction(dir)?;
        slot_mut(state, len)?.flow.gap(cfg, dir, bytes, ts_us);
        Ok(0)
    })
}

/// The flow ended.
#[no_mangle]
pub unsafe extern "C" fn encchan_flow_finish(
    cfg: *const EncchanConfig,
    state: *mut u8,
    len: usize,
    ts_us: u64,
) -> c_int {
    guard(|| {
        let cfg = config(cfg)?;
        slot_mut(state, len)?.flow.finish(cfg, ts_us);
        Ok(0)
    })
}

/// Whether the engine has decided (1), not yet (0), or an error.
#[no_mangle]
pub unsafe extern "C" fn encchan_flow_is_decided(state: *const u8, len: usize) -> c_int {
    guard(|| Ok(slot(state, len)?.flow.is_decided() as c_int))
}

/// Whether the engine has finished inspecting direction `dir` (1), not yet
/// (0), or an error. Further payload of a finished direction is only
/// counted: hosts may stop reassembling it and pass its byte counts to
/// `encchan_flow_account`.
#[no_mangle]
pub unsafe extern "C" fn encchan_flow_dir_decided(state: *const u8, len: usize, dir: u8) -> c_int {
    guard(|| {
        let dir = direction(dir)?;
        Ok(slot(state, len)?.flow.is_dir_decided(dir) as c_int)
    })
}

fn dir_report(d: &DirReport) -> EncchanDirReport {
    EncchanDirReport {
        bytes: d.bytes,
        inspected: d.inspected,
        has_entropy: d.entropy.is_some(),
        entropy: d.entropy.unwrap_or(0.0),
        block_shannon: d.block_shannon,
        block_shannon_random: d.block_shannon_random,
        collisions: d.collisions,
        collisions_expected: d.collisions_expected,
        printable_fraction: d.printable_fraction,
        longest_printable_run: d.longest_printable_run,
        mean_popcount: d.mean_popcount,
        encoding: d.encoding as u8,
        high_entropy: d.high_entropy,
        full_blocks: d.full_blocks,
        uniform_blocks: d.uniform_blocks,
        format: d.format.map_or(ENCCHAN_NONE_U8, |f| f as u8),
        decided_after: d.decided_after.unwrap_or(ENCCHAN_NONE_U64),
        binary_bytes: d.binary_bytes,
        binary_entropy: d.binary_entropy,
        binary_high_entropy: d.binary_high_entropy,
        explained: d.explained,
        measured_from: d.measured_from,
    }
}

fn verdict_out(v: &Verdict) -> EncchanVerdict {
    let e = &v.evidence;
    let hs = e.handshake;
    EncchanVerdict {
        protocol: v.protocol.map_or(ENCCHAN_NONE_U8, |p| p as u8),
        content: v.content as u8,
        alerts: v.alerts.0,
        key_exchange_complete: v.key_exchange_complete,
        decided: v.decided,
        tls_version: v.tls_version.unwrap_or(0),
        tls_cipher_suite: v.tls_cipher_suite.unwrap_or(0),
        first_ts_us: v.first_ts_us,
        last_ts_us: v.last_ts_us,
        dirs: [dir_report(&v.dirs[0]), dir_report(&v.dirs[1])],
        evidence: EncchanEvidence {
            high_entropy_direction: e
                .high_entropy_direction
                .map_or(ENCCHAN_NONE_U8, |d| d as u8),
            framing_without_handshake: e.framing_without_handshake,
            server_port: e.server_port.map_or(-1, i32::from),
            has_handshake: hs.is_some(),
            handshake_protocol: hs.map_or(ENCCHAN_NONE_U8, |h| h.protocol as u8),
            handshake_direction: hs.map_or(ENCCHAN_NONE_U8, |h| h.direction as u8),
            handshake_reason: hs
                .and_then(|h| h.reason)
                .map_or(ENCCHAN_NONE_U8, |r| r as u8),
            handshake_offset: hs.map_or(0, |h| h.offset),
            handshake_elapsed_us: hs.map_or(0, |h| h.elapsed_us),
            cipher_suite: e.cipher_suite.map_or(-1, i32::from),
            asymmetry_ratio: e.asymmetry_ratio.unwrap_or(0.0),
        },
    }
}

/// Copies the flow's verdict into `out`.
#[no_mangle]
pub unsafe extern "C" fn encchan_flow_verdict(
    cfg: *const EncchanConfig,
    state: *const u8,
    len: usize,
    out: *mut EncchanVerdict,
) -> c_int {
    guard(|| {
        let cfg = config(cfg)?;
        let slot = slot(state, len)?;
        let out = out.as_mut().ok_or(EncchanStatus::ErrNull)?;
        *out = verdict_out(&slot.flow.verdict(cfg));
        Ok(0)
    })
}

/// Byte statistics of one buffer, computed exactly as the engine computes
/// them for a stream of these bytes (at most 65536 are used).
#[no_mangle]
pub unsafe extern "C" fn encchan_byte_stats(
    data: *const u8,
    len: usize,
    entropy_threshold: f32,
    out: *mut EncchanDirReport,
) -> c_int {
    guard(|| {
        let data = bytes(data, len)?;
        let out = out.as_mut().ok_or(EncchanStatus::ErrNull)?;
        if !(entropy_threshold > 0.0 && entropy_threshold <= 8.0) {
            return Err(EncchanStatus::ErrArg);
        }
        let s = encchan_core::summarize(data, entropy_threshold);
        *out = EncchanDirReport {
            bytes: len as u64,
            inspected: s.bytes,
            has_entropy: s.bytes > 1,
            entropy: s.entropy,
            block_shannon: s.block_shannon,
            block_shannon_random: s.block_shannon_random,
            collisions: s.collisions,
            collisions_expected: s.collisions_expected,
            printable_fraction: s.printable_fraction,
            longest_printable_run: s.longest_printable_run,
            mean_popcount: s.mean_popcount,
            encoding: s.encoding as u8,
            high_entropy: s.high_entropy,
            full_blocks: s.full_blocks,
            uniform_blocks: s.uniform_blocks,
            format: encchan_core::format::detect(
                &data[..data.len().min(encchan_core::format::PREFIX)],
            )
            .map_or(ENCCHAN_NONE_U8, |f| f as u8),
            decided_after: ENCCHAN_NONE_U64,
            binary_bytes: s.binary_bytes,
            binary_entropy: s.binary_entropy,
            binary_high_entropy: s.binary_high_entropy,
            explained: false,
            measured_from: 0,
        };
        Ok(0)
    })
}

/// The engine's entropy estimate of a buffer (collision entropy, bits per
/// byte; see `encchan_byte_stats`). Negative on a NULL buffer with length.
#[no_mangle]
pub unsafe extern "C" fn encchan_entropy(data: *const u8, len: usize) -> f64 {
    match std::panic::catch_unwind(|| {
        bytes(data, len).map(|d| encchan_core::summarize(d, 7.0).entropy)
    }) {
        Ok(Ok(e)) => e as f64,
        _ => -1.0,
    }
}

/// Plug-in Shannon entropy of a buffer, bits per byte (what Zeek's
/// `find_entropy` reports; biased low on short buffers).
#[no_mangle]
pub unsafe extern "C" fn encchan_shannon_entropy(data: *const u8, len: usize) -> f64 {
    match std::panic::catch_unwind(|| bytes(data, len).map(encchan_core::shannon)) {
        Ok(Ok(e)) => e as f64,
        _ => -1.0,
    }
}

/// Whether the buffer starts a TLS handshake (a ClientHello record).
#[no_mangle]
pub unsafe extern "C" fn encchan_looks_like_tls(data: *const u8, len: usize) -> bool {
    std::panic::catch_unwind(|| {
        bytes(data, len)
            .map(encchan_core::looks_like_tls)
            .unwrap_or(false)
    })
    .unwrap_or(false)
}

/// NUL-terminated copies of every name the core hands out, built once from
/// the core's own names (so none can be missing or differ), one table per
/// kind in the order of its `ALL` list: a lookup compares codes, not
/// strings (EVE and Zeek call these for every record).
struct CNames {
    alerts: Vec<CString>,
    protocols: Vec<CString>,
    contents: Vec<CString>,
    formats: Vec<CString>,
    reasons: Vec<CString>,
    encodings: Vec<CString>,
}

fn c_names() -> &'static CNames {
    static NAMES: OnceLock<CNames> = OnceLock::new();
    fn table<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<CString> {
        all.iter()
            .map(|t| CString::new(name(*t)).expect("names hold no NUL"))
            .collect()
    }
    NAMES.get_or_init(|| CNames {
        alerts: table(&Alert::ALL, Alert::name),
        protocols: table(&Protocol::ALL, Protocol::name),
        contents: table(&CONTENTS, Content::name),
        formats: table(&FORMATS, Format::name),
        reasons: table(&REASONS, MalformReason::name),
        encodings: table(&ENCODINGS, Encoding::name),
    })
}

/// The name of the item of `all` whose code is `code`, as a C string from
/// `names` (the same kind's table); "" when no item has that code.
fn name_by_code<T: Copy>(
    all: &[T],
    names: &[CString],
    code: u32,
    code_of: fn(T) -> u32,
) -> *const c_char {
    match all.iter().position(|t| code_of(*t) == code) {
        Some(i) => names[i].as_ptr(),
        None => c"".as_ptr(),
    }
}

/// Name of alert bit `bit` (0–6), e.g. "symmetric_only"; "" if unknown.
#[no_mangle]
pub extern "C" fn encchan_alert_name(bit: u32) -> *const c_char {
    name_by_code(&Alert::ALL, &c_names().alerts, bit, |a| a as u32)
}

/// Name of a protocol code, e.g. "tls"; "" if none.
#[no_mangle]
pub extern "C" fn encchan_protocol_name(code: u8) -> *const c_char {
    name_by_code(&Protocol::ALL, &c_names().protocols, code as u32, |p| {
        p as u32
    })
}

/// Name of a content code, e.g. "encrypted".
#[no_mangle]
pub extern "C" fn encchan_content_name(code: u8) -> *const c_char {
    name_by_code(&CONTENTS, &c_names().contents, code as u32, |c| c as u32)
}

/// Name of a format code, e.g. "gzip"; "" if none.
#[no_mangle]
pub extern "C" fn encchan_format_name(code: u8) -> *const c_char {
    name_by_code(&FORMATS, &c_names().formats, code as u32, |f| f as u32)
}

/// Name of a handshake malformation reason code; "" if none.
#[no_mangle]
pub extern "C" fn encchan_reason_name(code: u8) -> *const c_char {
    name_by_code(&REASONS, &c_names().reasons, code as u32, |r| r as u32)
}

/// Name of an encoding code ("raw", "base64", "base32", "hex").
#[no_mangle]
pub extern "C" fn encchan_encoding_name(code: u8) -> *const c_char {
    name_by_code(&ENCODINGS, &c_names().encodings, code as u32, |e| e as u32)
}

/// Writes the evidence of alert bit `bit` of `verdict` as one line of
/// `key=value` text into `buf` (`len` bytes, NUL-terminated, cut to fit).
/// Returns the length the whole text needs without the NUL (call again with
/// a bigger buffer if it is `>= len`), or a negative error.
#[no_mangle]
pub unsafe extern "C" fn encchan_evidence_text(
    verdict: *const EncchanVerdict,
    bit: u32,
    buf: *mut c_char,
    len: usize,
) -> c_int {
    guard(|| {
        let v = verdict.as_ref().ok_or(EncchanStatus::ErrNull)?;
        if bit >= ENCCHAN_ALERT_COUNT {
            return Err(EncchanStatus::ErrArg);
        }
        let out: &mut [u8] = if len == 0 {
            &mut []
        } else if buf.is_null() {
            return Err(EncchanStatus::ErrNull);
        } else {
            core::slice::from_raw_parts_mut(buf.cast::<u8>(), len)
        };
        Ok(c_int::try_from(evidence::evidence_text(v, bit, out)).unwrap_or(c_int::MAX))
    })
}

/// Text of a status code.
#[no_mangle]
pub extern "C" fn encchan_strerror(status: c_int) -> *const c_char {
    let s: &'static core::ffi::CStr = match status {
        0 => c"ok",
        -1 => c"a required pointer was NULL",
        -2 => c"buffer or state too small",
        -3 => c"state memory misaligned",
        -4 => c"state memory holds no initialized flow",
        -5 => c"argument out of range",
        -6 => c"internal error caught; drop the flow",
        -7 => c"ABI version mismatch: rebuild against this encchan.h",
        s if s > 0 => c"ok",
        _ => c"unknown status",
    };
    s.as_ptr()
}

const FORMATS: [Format; 16] = [
    Format::Gzip,
    Format::Zlib,
    Format::Xz,
    Format::Zstd,
    Format::Bzip2,
    Format::Zip,
    Format::SevenZip,
    Format::Png,
    Format::Jpeg,
    Format::Gif,
    Format::Webp,
    Format::Pdf,
    Format::Mp4,
    Format::Webm,
    Format::OpensslSalted,
    Format::OpenPgpSymmetric,
];

const REASONS: [MalformReason; 7] = [
    MalformReason::BadRecordType,
    MalformReason::BadRecordVersion,
    MalformReason::RecordTooLong,
    MalformReason::BadHandshake,
    MalformReason::BadSshPacket,
    MalformReason::BadSshBanner,
    MalformReason::FatalAlert,
];

const CONTENTS: [Content; 4] = [
    Content::Unknown,
    Content::Plaintext,
    Content::Compressed,
    Content::Encrypted,
];
const ENCODINGS: [Encoding; 4] = [
    Encoding::Raw,
    Encoding::Base64,
    Encoding::Base32,
    Encoding::Hex,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_c_name() {
        let name = |p: *const c_char| unsafe { std::ffi::CStr::from_ptr(p) }.to_str().unwrap();
        for (i, a) in Alert::ALL.iter().enumerate() {
            assert_eq!(name(encchan_alert_name(i as u32)), a.name());
            assert_eq!(a.bit(), 1 << i);
        }
        for p in Protocol::ALL {
            assert_eq!(name(encchan_protocol_name(p as u8)), p.name());
        }
        for f in FORMATS {
            assert_eq!(name(encchan_format_name(f as u8)), f.name());
        }
        for r in REASONS {
            assert_eq!(name(encchan_reason_name(r as u8)), r.name());
        }
        assert_eq!(name(encchan_protocol_name(0)), "");
        assert_eq!(name(encchan_alert_name(ENCCHAN_ALERT_COUNT)), "");
        assert_eq!(ENCCHAN_ALERT_COUNT as usize, Alert::ALL.len());
    }

    /// A symmetric-only flow built through the C functions themselves.
    fn symmetric_only_verdict() -> EncchanVerdict {
        unsafe {
            let mut cfg = core::ptr::null_mut();
            assert_eq!(encchan_config_new(ENCCHAN_ABI_VERSION, &mut cfg), 0);
            let mut state = vec![0u64; encchan_state_size().div_ceil(8)];
            let (ptr, len) = (state.as_mut_ptr().cast::<u8>(), encchan_state_size());
            assert_eq!(
                encchan_flow_init(ptr, len, ENCCHAN_TRANSPORT_TCP, 50000, 4444, 0, 0),
                0
            );
            // xorshift bytes: uniform, no structure.
            let mut x = 0x9e37_79b9_7f4a_7c15u64;
            let data: Vec<u8> = (0..8192)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            encchan_flow_feed(cfg, ptr, len, 0, data.as_ptr(), data.len(), 1);
            encchan_flow_feed(cfg, ptr, len, 1, data.as_ptr(), 512, 2);
            encchan_flow_finish(cfg, ptr, len, 3);
            let mut v = core::mem::zeroed();
            assert_eq!(encchan_flow_verdict(cfg, ptr, len, &mut v), 0);
            encchan_config_free(cfg);
            v
        }
    }

    #[test]
    fn evidence_text_names_the_direction_and_cuts_to_fit() {
        let v = symmetric_only_verdict();
        assert_ne!(v.alerts & ENCCHAN_ALERT_SYMMETRIC_ONLY, 0);
        let mut buf = [0 as c_char; 256];
        let n = unsafe { encchan_evidence_text(&v, 0, buf.as_mut_ptr(), buf.len()) };
        let text = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(n as usize, text.len());
        let entropy: f32 = text
            .strip_prefix("direction=orig entropy=")
            .and_then(|t| t.split(' ').next())
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("{text}"));
        assert!(entropy >= 7.5, "{text}");
        assert!(text.contains("encoding=raw"), "{text}");
        // Too small: cut, NUL-terminated, the full length reported.
        let mut small = [0x7f as c_char; 10];
        let m = unsafe { encchan_evidence_text(&v, 0, small.as_mut_ptr(), small.len()) };
        assert_eq!(m, n);
        let cut = unsafe { std::ffi::CStr::from_ptr(small.as_ptr()) }
            .to_str()
            .unwrap();
        assert_eq!(cut, &text[..9]);
        // Length query, bad arguments.
        assert_eq!(
            unsafe { encchan_evidence_text(&v, 0, core::ptr::null_mut(), 0) },
            n
        );
        assert_eq!(
            unsafe { encchan_evidence_text(&v, 7, buf.as_mut_ptr(), buf.len()) },
            EncchanStatus::ErrArg as c_int
        );
        assert_eq!(
            unsafe { encchan_evidence_text(core::ptr::null(), 0, buf.as_mut_ptr(), buf.len()) },
            EncchanStatus::ErrNull as c_int
        );
        assert_eq!(
            unsafe { encchan_evidence_text(&v, 0, core::ptr::null_mut(), 4) },
            EncchanStatus::ErrNull as c_int
        );
    }

    #[test]
    fn slot_fits_the_budget_plus_tag() {
        assert_eq!(encchan_state_size(), Flow::SIZE + 8);
    }
}
