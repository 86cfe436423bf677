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
//! * Knobs are set by name (`encchan_config_set`), from the engine's one knob
//!   table; verdicts are copied into caller structs of fixed layout, or
//!   written through the engine's one serializer (`encchan_flow_report*`).
//! * When to publish is the engine's rule: `encchan_flow_feed` says when
//!   there is news, and `EncchanVerdict.final_alerts` what to publish.
//!
//! The header `include/encchan.h` is generated from this file by cbindgen; a
//! test fails when the checked-in copy is stale.

#![allow(clippy::missing_safety_doc)] // every function documents its contract in the header

use core::ffi::{c_char, c_int};
use core::panic::AssertUnwindSafe;
use encchan_core::{Config, DirReport, Direction, Flow, FlowStart, Transport, Verdict, KNOBS};

mod names;
mod report;

pub use names::*;
pub use report::*;

/// Version of this ABI. Bumped on any incompatible change to a function or
/// struct below; hosts pass the version they were built against.
pub const ENCCHAN_ABI_VERSION: u32 = 4;

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

/// Feed result bit: the engine has stopped inspecting this flow; the host
/// may stop delivering payload and call `encchan_flow_account` instead.
pub const ENCCHAN_FEED_INSPECTION_DONE: c_int = 1;
/// Feed result bit: something the alert rules read changed; the host
/// computes the verdict and publishes its `final_alerts`.
pub const ENCCHAN_FEED_NEWS: c_int = 2;

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
/// For the `at_end_us` arguments: the verdict as of now, not as if the flow
/// ended.
pub const ENCCHAN_NOW: u64 = u64::MAX;

/// Alert bits of `EncchanVerdict.alerts` (bit n = alert code n, see
/// `encchan_alert_name`).
pub const ENCCHAN_ALERT_SYMMETRIC_ONLY: u32 = 1 << 0;
pub const ENCCHAN_ALERT_TLS_UNEXPECTED_PORT: u32 = 1 << 1;
pub const ENCCHAN_ALERT_ENCRYPTED_ON_PLAINTEXT_PORT: u32 = 1 << 2;
pub const ENCCHAN_ALERT_HANDSHAKE_INCOMPLETE: u32 = 1 << 3;
pub const ENCCHAN_ALERT_HANDSHAKE_MALFORMED: u32 = 1 << 4;
pub const ENCCHAN_ALERT_RSA_KEY_EXCHANGE: u32 = 1 << 5;
pub const ENCCHAN_ALERT_TRAFFIC_ASYMMETRY: u32 = 1 << 6;
pub const ENCCHAN_ALERT_SSH_UNEXPECTED_PORT: u32 = 1 << 7;
pub const ENCCHAN_ALERT_DNS_ENCODED_PAYLOAD: u32 = 1 << 8;
/// Number of alert kinds.
pub const ENCCHAN_ALERT_COUNT: u32 = 9;

const _: () = assert!(ENCCHAN_ALERT_COUNT as usize == encchan_core::Alert::ALL.len());

/// Opaque engine configuration.
pub struct EncchanConfig {
    inner: Config,
}

/// A range of stream offsets; `start` is `ENCCHAN_NONE_U64` when unused.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct EncchanSpan {
    pub start: u64,
    pub end: u64,
}

impl Default for EncchanSpan {
    fn default() -> Self {
        EncchanSpan {
            start: ENCCHAN_NONE_U64,
            end: 0,
        }
    }
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
    /// Mean Shannon entropy of a sample of the 32-byte blocks (every 8th
    /// full block, and the partial one), and its expectation for random
    /// data.
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
    pub inspection_end: u64,
    /// Bytes outside printable ASCII, their collision entropy (at most
    /// log2 158 ≈ 7.3), and whether they alone pass the entropy test;
    /// `printable_cover`: only they did (ciphertext under printable text).
    pub binary_bytes: u32,
    pub binary_entropy: f32,
    pub binary_high_entropy: bool,
    pub printable_cover: bool,
    /// A recognized protocol explained bytes of this direction and the
    /// statistics skipped them.
    pub explained: bool,
    /// The measured spans of the outer stream and of an inner stream.
    pub spans: [EncchanSpan; 2],
    /// Where a protocol's framing broke: protocol, reason code
    /// (`encchan_reason_name`) and offset; `ENCCHAN_NONE_U8` protocol when
    /// it did not.
    pub broke_protocol: u8,
    pub broke_reason: u8,
    pub broke_at: u64,
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
#[derive(Clone, Copy, Debug)]
pub struct EncchanVerdict {
    /// Protocol code of the innermost stream (`encchan_protocol_name`), or
    /// `ENCCHAN_NONE_U8`; the carrier that handed it over, or
    /// `ENCCHAN_NONE_U8`.
    pub protocol: u8,
    pub carrier: u8,
    /// Content code (`encchan_content_name`).
    pub content: u8,
    /// `ENCCHAN_ALERT_*` bits raised, and those that are final: what a host
    /// publishes while the flow goes on (at its end all are final).
    pub alerts: u32,
    pub final_alerts: u32,
    pub key_exchange_complete: bool,
    /// The engine stopped inspecting payload.
    pub inspection_done: bool,
    /// The verdict is the flow's last (it ended, or is judged as if).
    pub ended: bool,
    /// Negotiated TLS version and cipher suite, or 0.
    pub tls_version: u16,
    pub tls_cipher_suite: u16,
    /// Where a proxy carrier (HTTP CONNECT, SOCKS) was asked to connect, or
    /// the zone DNS names carried labels to: the host (an address, or a
    /// name's first 16 bytes, then `…`), NUL-terminated, empty when none;
    /// and the port (0 when none).
    pub destination_host: [c_char; 48],
    pub destination_port: u16,
    /// The engine took the host's client for the server (the flow's start
    /// was not seen; see the README's roles rule): `dirs[0]` is what the
    /// host's server sent.
    pub roles_swapped: bool,
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

const SLOT_TAG: u64 = 0x656e_6363_6861_6e34; // "encchan4"

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

unsafe fn c_str<'a>(s: *const c_char) -> Result<&'a str, EncchanStatus> {
    if s.is_null() {
        return Err(EncchanStatus::ErrNull);
    }
    core::ffi::CStr::from_ptr(s)
        .to_str()
        .map_err(|_| EncchanStatus::ErrArg)
}

/// `buf`/`len` as a byte buffer for text output (empty when `len` is 0).
unsafe fn out_buf<'a>(buf: *mut c_char, len: usize) -> Result<&'a mut [u8], EncchanStatus> {
    if len == 0 {
        return Ok(&mut []);
    }
    if buf.is_null() {
        return Err(EncchanStatus::ErrNull);
    }
    Ok(core::slice::from_raw_parts_mut(buf.cast::<u8>(), len))
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

/// Sets knob `name` (see `encchan_knob_name`) from its text `value`:
/// numbers, `true`/`false`, seconds, comma-separated ports. The change is
/// kept only if the whole configuration stays valid. On failure returns
/// `ENCCHAN_STATUS_ERR_ARG` and writes why into `err` (`err_len` bytes,
/// NUL-terminated, cut to fit; `err` may be NULL with `err_len` 0).
#[no_mangle]
pub unsafe extern "C" fn encchan_config_set(
    cfg: *mut EncchanConfig,
    name: *const c_char,
    value: *const c_char,
    err: *mut c_char,
    err_len: usize,
) -> c_int {
    guard(|| {
        let cfg = &mut cfg.as_mut().ok_or(EncchanStatus::ErrNull)?.inner;
        let (name, value) = (c_str(name)?, c_str(value)?);
        let err = out_buf(err, err_len)?;
        match cfg.set(name, value) {
            Ok(()) => Ok(0),
            Err(e) => {
                write_c_text(err, &e.for_knob(name).to_string());
                Err(EncchanStatus::ErrArg)
            }
        }
    })
}

/// Writes the current value of knob `name` as text `encchan_config_set`
/// takes. Returns the length the text needs without the NUL (call again
/// with a bigger buffer when it is `>= len`), or a negative error.
#[no_mangle]
pub unsafe extern "C" fn encchan_config_get(
    cfg: *const EncchanConfig,
    name: *const c_char,
    buf: *mut c_char,
    len: usize,
) -> c_int {
    guard(|| {
        let cfg = config(cfg)?;
        let name = c_str(name)?;
        let out = out_buf(buf, len)?;
        let knob = encchan_core::Knob::named(name).ok_or(EncchanStatus::ErrArg)?;
        let mut text = String::new();
        knob.write_value(cfg, &mut text)
            .map_err(|_| EncchanStatus::ErrPanic)?;
        Ok(c_int::try_from(write_c_text(out, &text)).unwrap_or(c_int::MAX))
    })
}

/// Number of knobs (`encchan_knob_name` takes 0 to this − 1).
#[no_mangle]
pub extern "C" fn encchan_knob_count() -> u32 {
    KNOBS.len() as u32
}

/// Copies `text` into `out` (NUL-terminated, cut to fit) and returns its
/// whole length.
fn write_c_text(out: &mut [u8], text: &str) -> usize {
    if let Some(room) = out.len().checked_sub(1) {
        let n = text.len().min(room);
        out[..n].copy_from_slice(&text.as_bytes()[..n]);
        out[n] = 0;
    }
    text.len()
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

/// Notes one of the flow's addresses (`addr_len` 4 for IPv4, 16 for IPv6,
/// network order); call it once after `encchan_flow_init` with the first
/// packet's destination. A broadcast or multicast address makes the flow an
/// announcement, on which `symmetric_only` is not raised. Other lengths are
/// `ENCCHAN_STATUS_ERR_ARG`.
#[no_mangle]
pub unsafe extern "C" fn encchan_flow_note_address(
    state: *mut u8,
    len: usize,
    addr: *const u8,
    addr_len: usize,
) -> c_int {
    guard(|| {
        if addr_len != 4 && addr_len != 16 {
            return Err(EncchanStatus::ErrArg);
        }
        let addr = bytes(addr, addr_len)?;
        slot_mut(state, len)?.flow.note_address(addr);
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
/// datagram). Returns `ENCCHAN_FEED_*` bits (`INSPECTION_DONE`: the engine
/// no longer needs payload; `NEWS`: compute the verdict and publish its
/// final alerts), or a negative error.
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
        let fed = slot_mut(state, len)?.flow.feed(cfg, dir, data, ts_us);
        Ok(if fed.inspection_done {
            ENCCHAN_FEED_INSPECTION_DONE
        } else {
            0
        } | if fed.news { ENCCHAN_FEED_NEWS } else { 0 })
    })
}

/// Counts `bytes` of payload without inspecting it (after inspection ended).
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

/// Whether the engine has stopped inspecting the flow (1), not yet (0), or
/// an error.
#[no_mangle]
pub unsafe extern "C" fn encchan_flow_inspection_done(state: *const u8, len: usize) -> c_int {
    guard(|| Ok(slot(state, len)?.flow.is_inspection_done() as c_int))
}

/// Whether the engine has finished inspecting direction `dir` (1), not yet
/// (0), or an error. Further payload of a finished direction is only
/// counted: hosts may stop reassembling it and pass its byte counts to
/// `encchan_flow_account`.
#[no_mangle]
pub unsafe extern "C" fn encchan_flow_dir_inspection_done(
    state: *const u8,
    len: usize,
    dir: u8,
) -> c_int {
    guard(|| {
        let dir = direction(dir)?;
        Ok(slot(state, len)?.flow.is_dir_inspection_done(dir) as c_int)
    })
}

/// Copies into `out` the payload bytes of direction `dir` the engine has
/// taken so far, fed or counted (gaps not included): the verdict's
/// `dirs[].bytes` of that side, at the cost of a read rather than a
/// verdict (a host checking its own count of a stream at the flow's end).
#[no_mangle]
pub unsafe extern "C" fn encchan_flow_dir_bytes(
    state: *const u8,
    len: usize,
    dir: u8,
    out: *mut u64,
) -> c_int {
    guard(|| {
        let dir = direction(dir)?;
        let flow = &slot(state, len)?.flow;
        *out.as_mut().ok_or(EncchanStatus::ErrNull)? = flow.dir_bytes(dir);
        Ok(0)
    })
}

fn dir_report(d: &DirReport) -> EncchanDirReport {
    let span = |s: Option<encchan_core::Span>| {
        s.map_or_else(EncchanSpan::default, |s| EncchanSpan {
            start: s.start,
            end: s.end,
        })
    };
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
        encoding: d.encoding.code(),
        high_entropy: d.high_entropy,
        full_blocks: d.full_blocks,
        uniform_blocks: d.uniform_blocks,
        format: d.format.map_or(ENCCHAN_NONE_U8, |f| f.code()),
        inspection_end: d.inspection_end.unwrap_or(ENCCHAN_NONE_U64),
        binary_bytes: d.binary_bytes,
        binary_entropy: d.binary_entropy,
        binary_high_entropy: d.binary_high_entropy,
        printable_cover: d.printable_cover,
        explained: d.explained,
        spans: d.spans.map(span),
        broke_protocol: d.broke.map_or(ENCCHAN_NONE_U8, |b| b.protocol.code()),
        broke_reason: d.broke.map_or(ENCCHAN_NONE_U8, |b| b.reason.code()),
        broke_at: d.broke.map_or(0, |b| b.at),
    }
}

impl Default for EncchanVerdict {
    fn default() -> Self {
        EncchanVerdict {
            protocol: 0,
            carrier: 0,
            content: 0,
            alerts: 0,
            final_alerts: 0,
            key_exchange_complete: false,
            inspection_done: false,
            ended: false,
            tls_version: 0,
            tls_cipher_suite: 0,
            destination_host: [0; 48],
            destination_port: 0,
            roles_swapped: false,
            first_ts_us: 0,
            last_ts_us: 0,
            dirs: Default::default(),
            evidence: Default::default(),
        }
    }
}

/// The verdict's destination host as a NUL-terminated C string.
fn destination_host(v: &Verdict) -> [c_char; 48] {
    let mut out = [0 as c_char; 48];
    if let Some(host) = v.destination.as_ref().and_then(|d| d.host()) {
        let text = host.to_string();
        for (o, &b) in out.iter_mut().zip(text.as_bytes().iter().take(47)) {
            *o = b as c_char;
        }
    }
    out
}

fn verdict_out(v: &Verdict) -> EncchanVerdict {
    let e = &v.evidence;
    let hs = e.handshake;
    EncchanVerdict {
        protocol: v.protocol.map_or(ENCCHAN_NONE_U8, |p| p.code()),
        carrier: v.carrier.map_or(ENCCHAN_NONE_U8, |p| p.code()),
        content: v.content.code(),
        alerts: v.alerts.0,
        final_alerts: v.final_alerts.0,
        key_exchange_complete: v.key_exchange_complete,
        inspection_done: v.inspection_done,
        ended: v.ended,
        tls_version: v.tls_version.unwrap_or(0),
        tls_cipher_suite: v.tls_cipher_suite.unwrap_or(0),
        destination_host: destination_host(v),
        destination_port: v.destination.map_or(0, |d| d.port),
        roles_swapped: v.roles_swapped,
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
            handshake_protocol: hs.map_or(ENCCHAN_NONE_U8, |h| h.protocol.code()),
            handshake_direction: hs.map_or(ENCCHAN_NONE_U8, |h| h.direction as u8),
            handshake_reason: hs
                .and_then(|h| h.reason)
                .map_or(ENCCHAN_NONE_U8, |r| r.code()),
            handshake_offset: hs.map_or(0, |h| h.offset),
            handshake_elapsed_us: hs.map_or(0, |h| h.elapsed_us),
            cipher_suite: e.cipher_suite.map_or(-1, i32::from),
            asymmetry_ratio: e.asymmetry_ratio.unwrap_or(0.0),
        },
    }
}

/// The flow's verdict as of now, or (`at_end_us` a timestamp, not
/// `ENCCHAN_NOW`) as if it ended at that time, without ending it.
fn verdict_of(cfg: &Config, flow: &Flow, at_end_us: u64) -> Verdict {
    if at_end_us == ENCCHAN_NOW {
        flow.verdict(cfg)
    } else {
        flow.verdict_at_end(cfg, at_end_us)
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
    encchan_flow_verdict_at_end(cfg, state, len, ENCCHAN_NOW, out)
}

/// Copies into `out` the verdict the flow would have if it ended at
/// `ts_us` (`ENCCHAN_NOW`: as of now), without ending it: what a host
/// publishes on a closing packet, while packets can still carry it to
/// rules. The flow state is not changed.
#[no_mangle]
pub unsafe extern "C" fn encchan_flow_verdict_at_end(
    cfg: *const EncchanConfig,
    state: *const u8,
    len: usize,
    ts_us: u64,
    out: *mut EncchanVerdict,
) -> c_int {
    guard(|| {
        let cfg = config(cfg)?;
        let slot = slot(state, len)?;
        let out = out.as_mut().ok_or(EncchanStatus::ErrNull)?;
        *out = verdict_out(&verdict_of(cfg, &slot.flow, ts_us));
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
            encoding: s.encoding.code(),
            high_entropy: s.high_entropy,
            full_blocks: s.full_blocks,
            uniform_blocks: s.uniform_blocks,
            format: encchan_core::format::detect(
                &data[..data.len().min(encchan_core::format::PREFIX)],
            )
            .map_or(ENCCHAN_NONE_U8, |f| f.code()),
            inspection_end: ENCCHAN_NONE_U64,
            binary_bytes: s.binary_bytes,
            binary_entropy: s.binary_entropy,
            binary_high_entropy: s.binary_high_entropy,
            printable_cover: !s.high_entropy && s.binary_high_entropy,
            explained: false,
            spans: [EncchanSpan::default(); 2],
            broke_protocol: ENCCHAN_NONE_U8,
            broke_reason: ENCCHAN_NONE_U8,
            broke_at: 0,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_holds_the_flow_and_its_tag() {
        assert_eq!(encchan_state_size(), Flow::SIZE + 8);
    }

    #[test]
    fn knobs_by_name_with_their_errors() {
        unsafe {
            let mut cfg = core::ptr::null_mut();
            assert_eq!(encchan_config_new(ENCCHAN_ABI_VERSION, &mut cfg), 0);
            let mut err = [0 as c_char; 128];
            assert_eq!(
                encchan_config_set(
                    cfg,
                    c"entropy_threshold".as_ptr(),
                    c"7.2".as_ptr(),
                    err.as_mut_ptr(),
                    err.len()
                ),
                0
            );
            assert_eq!(
                encchan_config_set(
                    cfg,
                    c"entropy_threshold".as_ptr(),
                    c"9".as_ptr(),
                    err.as_mut_ptr(),
                    err.len()
                ),
                EncchanStatus::ErrArg as c_int
            );
            let msg = core::ffi::CStr::from_ptr(err.as_ptr()).to_str().unwrap();
            assert_eq!(msg, "entropy_threshold must be in (0, 8] bits per byte");
            let mut buf = [0 as c_char; 16];
            let n = encchan_config_get(
                cfg,
                c"entropy_threshold".as_ptr(),
                buf.as_mut_ptr(),
                buf.len(),
            );
            assert_eq!(
                core::ffi::CStr::from_ptr(buf.as_ptr()).to_str().unwrap(),
                "7.2"
            );
            assert_eq!(n, 3);
            // A port list longer than the buffer: cut, NUL-terminated, the
            // whole length reported.
            let n = encchan_config_get(cfg, c"ports.tls".as_ptr(), buf.as_mut_ptr(), buf.len());
            assert!(n as usize > buf.len());
            assert_eq!(core::ffi::CStr::from_ptr(buf.as_ptr()).to_bytes().len(), 15);
            assert_eq!(
                encchan_config_set(
                    cfg,
                    c"nope".as_ptr(),
                    c"1".as_ptr(),
                    core::ptr::null_mut(),
                    0
                ),
                EncchanStatus::ErrArg as c_int
            );
            assert_eq!(
                encchan_config_set(
                    cfg,
                    core::ptr::null(),
                    c"1".as_ptr(),
                    core::ptr::null_mut(),
                    0
                ),
                EncchanStatus::ErrNull as c_int
            );
            encchan_config_free(cfg);
        }
    }
}
