//! The one serializer of a verdict and its evidence: the CLI's NDJSON, the
//! Suricata plugin's EVE `encchan` object and the Zeek log's evidence all
//! come from [`write_verdict`] and [`write_evidence`], through a [`Sink`]
//! each front end implements (serde_json values, Suricata's JSON builder, a
//! `key=value` line).
//!
//! The fields are the NDJSON contract (see the README). Each alert's
//! evidence object:
//!
//! | alert | fields |
//! |---|---|
//! | `symmetric_only` | the high-entropy direction's statistics (below), `framing_without_handshake`, and `application` when the flow is an application's own protocol (`raknet`, `tencent_games` …: see [`crate::proto`]) |
//! | `encrypted_on_plaintext_port` | the statistics when a direction's bytes are high-entropy, `server_port` |
//! | `tls_unexpected_port`, `ssh_unexpected_port` | `server_port`, `protocol` |
//! | `handshake_incomplete`, `handshake_malformed` | `protocol`, `direction`, `offset`, `reason`, `elapsed_us` |
//! | `rsa_key_exchange` | `cipher_suite`, `tls_version` |
//! | `traffic_asymmetry` | `ratio`, `threshold`, `client_bytes`, `server_bytes` |
//! | `dns_encoded_payload` | the high-entropy direction's statistics (the question labels, or the TXT/NULL data), `query_payload`, `answer_payload`, `zone` (the last two labels of the first name that carried labels) |
//!
//! A direction's statistics: `direction`, `entropy`, `threshold`,
//! `collisions`, `collisions_expected`, `block_shannon` and
//! `block_shannon_random` (the mean Shannon entropy of every 8th 32-byte
//! block from the stream's start and of the partial block at its end, and
//! what random blocks give: evidence, read by no rule), `printable_fraction`,
//! `longest_printable_run`,
//! `mean_popcount`, `encoding`, `uniform_blocks`, `full_blocks`,
//! `binary_bytes`, `binary_entropy`, `printable_cover`, `bytes_inspected`,
//! `offsets` (the measured spans, `[{"start", "end"}, …]`), `format`, and, when
//! the bytes were a cleartext protocol's content, `carrier` (`http`,
//! `http_connect`, `websocket`, `socks4`, `socks5` …) and `message` (the HTTP method of the request,
//! or the status of the response, whose body was measured first); when they
//! came after a broken framing, `broke` (`protocol`, `reason`, `at`).

use crate::config::Config;
use crate::verdict::{Alert, Destination, DirReport, Direction, Message, Verdict};
use core::fmt::Write;

/// One value of the tree a verdict is written as.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    Str(&'a str),
    Uint(u64),
    /// Rounded to 3 decimals.
    Float(f64),
    Bool(bool),
    Null,
}

/// Where a verdict is written: a JSON-shaped tree. `key` is `None` for the
/// items of an array.
pub trait Sink {
    fn open_object(&mut self, key: Option<&str>);
    fn open_array(&mut self, key: Option<&str>);
    /// Closes the innermost open object or array.
    fn close(&mut self);
    fn value(&mut self, key: Option<&str>, value: Value<'_>);
}

fn round3(x: f32) -> f64 {
    libm::round(x as f64 * 1000.0) / 1000.0
}

/// A 16-bit code as `0x%04x`.
struct Hex([u8; 6]);

impl Hex {
    fn new(v: u16) -> Hex {
        const D: &[u8; 16] = b"0123456789abcdef";
        let n = |s: u32| D[(v >> s & 15) as usize];
        Hex([b'0', b'x', n(12), n(8), n(4), n(0)])
    }

    fn as_str(&self) -> &str {
        core::str::from_utf8(&self.0).unwrap_or("")
    }
}

fn opt_str(s: &mut dyn Sink, key: &str, v: Option<&str>) {
    s.value(Some(key), v.map_or(Value::Null, Value::Str));
}

fn hex(s: &mut dyn Sink, key: &str, v: Option<u16>) {
    match v {
        Some(v) => s.value(Some(key), Value::Str(Hex::new(v).as_str())),
        None => s.value(Some(key), Value::Null),
    }
}

/// `{"client": f(client), "server": f(server)}` under `key`.
fn per_side(s: &mut dyn Sink, key: &str, v: &Verdict, f: impl Fn(&DirReport) -> Value<'static>) {
    s.open_object(Some(key));
    s.value(Some("client"), f(&v.dirs[0]));
    s.value(Some("server"), f(&v.dirs[1]));
    s.close();
}

/// Writes the verdict's fields as members of the object the sink has open.
pub fn write_verdict(v: &Verdict, cfg: &Config, s: &mut dyn Sink) {
    opt_str(s, "protocol", v.protocol.map(|p| p.name()));
    if let Some(c) = v.carrier {
        s.value(Some("carrier"), Value::Str(c.name()));
    }
    if let Some(d) = v.destination {
        destination(s, &d);
    }
    s.value(Some("content"), Value::Str(v.content.name()));
    s.open_array(Some("alerts"));
    for a in v.alerts.iter() {
        s.value(None, Value::Str(a.name()));
    }
    s.close();
    s.open_array(Some("final_alerts"));
    for a in v.final_alerts.iter() {
        s.value(None, Value::Str(a.name()));
    }
    s.close();
    s.open_object(Some("evidence"));
    for a in v.alerts.iter() {
        s.open_object(Some(a.name()));
        write_evidence(v, cfg, a, s);
        s.close();
    }
    s.close();
    per_side(s, "bytes", v, |d| Value::Uint(d.bytes));
    per_side(s, "entropy", v, |d| {
        d.entropy.map_or(Value::Null, |e| Value::Float(round3(e)))
    });
    per_side(s, "measured_from", v, |d| {
        d.spans
            .iter()
            .flatten()
            .next()
            .map_or(Value::Null, |span| Value::Uint(span.start))
    });
    per_side(s, "inspection_ended_at", v, |d| {
        d.inspection_end.map_or(Value::Null, Value::Uint)
    });
    per_side(s, "format", v, |d| {
        d.format.map_or(Value::Null, |f| Value::Str(f.name()))
    });
    s.open_object(Some("tls"));
    hex(s, "version", v.tls_version);
    hex(s, "cipher_suite", v.tls_cipher_suite);
    s.close();
    s.value(
        Some("key_exchange_complete"),
        Value::Bool(v.key_exchange_complete),
    );
    s.value(Some("inspection_done"), Value::Bool(v.inspection_done));
    s.value(Some("roles_swapped"), Value::Bool(v.roles_swapped));
}

/// A string formatted into a fixed buffer (the core does not allocate);
/// what does not fit is cut at a character boundary.
struct Text<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Text<N> {
    fn new() -> Self {
        Text {
            buf: [0; N],
            len: 0,
        }
    }

    fn as_str(&self) -> &str {
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl<const N: usize> Write for Text<N> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for c in s.chars() {
            let mut utf8 = [0; 4];
            let c = c.encode_utf8(&mut utf8).as_bytes();
            if self.len + c.len() > N {
                return Err(core::fmt::Error);
            }
            self.buf[self.len..self.len + c.len()].copy_from_slice(c);
            self.len += c.len();
        }
        Ok(())
    }
}

/// `"destination": {"host": …, "port": …}`: where a proxy carrier was
/// asked to connect (a name cut at 16 bytes ends in `…`).
fn destination(s: &mut dyn Sink, d: &Destination) {
    let Some(host) = d.host() else {
        return;
    };
    let mut text = Text::<48>::new();
    let _ = write!(text, "{host}");
    s.open_object(Some("destination"));
    s.value(Some("host"), Value::Str(text.as_str()));
    s.value(Some("port"), Value::Uint(d.port as u64));
    s.close();
}

/// A direction's statistics, as evidence.
fn statistics(v: &Verdict, cfg: &Config, dir: Direction, s: &mut dyn Sink) {
    let d = v.dir(dir);
    s.value(Some("direction"), Value::Str(dir.sender()));
    s.value(
        Some("entropy"),
        d.entropy.map_or(Value::Null, |e| Value::Float(round3(e))),
    );
    s.value(
        Some("threshold"),
        Value::Float(round3(cfg.entropy_threshold)),
    );
    s.value(Some("collisions"), Value::Uint(d.collisions as u64));
    s.value(
        Some("collisions_expected"),
        Value::Float(round3(d.collisions_expected)),
    );
    s.value(Some("block_shannon"), Value::Float(round3(d.block_shannon)));
    s.value(
        Some("block_shannon_random"),
        Value::Float(round3(d.block_shannon_random)),
    );
    s.value(
        Some("printable_fraction"),
        Value::Float(round3(d.printable_fraction)),
    );
    s.value(
        Some("longest_printable_run"),
        Value::Uint(d.longest_printable_run as u64),
    );
    s.value(Some("mean_popcount"), Value::Float(round3(d.mean_popcount)));
    s.value(Some("encoding"), Value::Str(d.encoding.name()));
    s.value(Some("uniform_blocks"), Value::Uint(d.uniform_blocks as u64));
    s.value(Some("full_blocks"), Value::Uint(d.full_blocks as u64));
    s.value(Some("binary_bytes"), Value::Uint(d.binary_bytes as u64));
    s.value(
        Some("binary_entropy"),
        Value::Float(round3(d.binary_entropy)),
    );
    s.value(Some("printable_cover"), Value::Bool(d.printable_cover));
    s.value(Some("bytes_inspected"), Value::Uint(d.inspected as u64));
    s.open_array(Some("offsets"));
    for span in d.spans.iter().flatten() {
        s.open_object(None);
        s.value(Some("start"), Value::Uint(span.start));
        s.value(Some("end"), Value::Uint(span.end));
        s.close();
    }
    s.close();
    opt_str(s, "format", d.format.map(|f| f.name()));
    if let Some(c) = v.carrier_name(dir) {
        s.value(Some("carrier"), Value::Str(c));
        match d.message {
            Some(Message::Request(method)) => s.value(Some("message"), Value::Str(method)),
            Some(Message::Response(status)) => s.value(Some("message"), Value::Uint(status as u64)),
            None => {}
        }
    }
    if let Some(b) = d.broke {
        s.open_object(Some("broke"));
        s.value(Some("protocol"), Value::Str(b.protocol.name()));
        s.value(Some("reason"), Value::Str(b.reason.name()));
        s.value(Some("at"), Value::Uint(b.at));
        s.close();
    }
}

/// Writes the evidence of `alert` as members of the object the sink has
/// open (nothing when the alert is not raised).
pub fn write_evidence(v: &Verdict, cfg: &Config, alert: Alert, s: &mut dyn Sink) {
    if !v.alerts.contains(alert) {
        return;
    }
    let e = &v.evidence;
    let port = |s: &mut dyn Sink| {
        s.value(
            Some("server_port"),
            e.server_port.map_or(Value::Null, |p| Value::Uint(p as u64)),
        )
    };
    match alert {
        Alert::SymmetricOnly => {
            statistics(
                v,
                cfg,
                e.high_entropy_direction.unwrap_or(Direction::ToServer),
                s,
            );
            s.value(
                Some("framing_without_handshake"),
                Value::Bool(e.framing_without_handshake),
            );
            // The application whose bytes these are, for rules and scripts
            // that speak of it by name.
            if let Some(p) = v.protocol.filter(|p| p.is_application()) {
                s.value(Some("application"), Value::Str(p.name()));
            }
        }
        Alert::EncryptedOnPlaintextPort => {
            if let Some(d) = e.high_entropy_direction {
                statistics(v, cfg, d, s);
            }
            port(s);
        }
        Alert::TlsUnexpectedPort | Alert::SshUnexpectedPort => {
            port(s);
            opt_str(s, "protocol", v.protocol.map(|p| p.name()));
        }
        Alert::HandshakeIncomplete | Alert::HandshakeMalformed => {
            if let Some(h) = e.handshake {
                s.value(Some("protocol"), Value::Str(h.protocol.name()));
                s.value(Some("direction"), Value::Str(h.direction.sender()));
                s.value(Some("offset"), Value::Uint(h.offset));
                opt_str(s, "reason", h.reason.map(|r| r.name()));
                s.value(Some("elapsed_us"), Value::Uint(h.elapsed_us));
            }
        }
        Alert::RsaKeyExchange => {
            hex(s, "cipher_suite", e.cipher_suite);
            hex(s, "tls_version", v.tls_version);
        }
        Alert::DnsEncodedPayload => {
            statistics(
                v,
                cfg,
                e.high_entropy_direction.unwrap_or(Direction::ToServer),
                s,
            );
            s.value(Some("query_payload"), Value::Bool(v.dirs[0].high_entropy));
            s.value(Some("answer_payload"), Value::Bool(v.dirs[1].high_entropy));
            let zone = v.destination.as_ref().and_then(|d| d.host());
            let mut text = Text::<48>::new();
            if let Some(zone) = zone {
                let _ = write!(text, "{zone}");
            }
            opt_str(s, "zone", zone.map(|_| text.as_str()));
        }
        Alert::TrafficAsymmetry => {
            s.value(
                Some("ratio"),
                e.asymmetry_ratio
                    .map_or(Value::Null, |r| Value::Float(round3(r))),
            );
            s.value(Some("threshold"), Value::Float(round3(cfg.asymmetry_ratio)));
            s.value(Some("client_bytes"), Value::Uint(v.dirs[0].bytes));
            s.value(Some("server_bytes"), Value::Uint(v.dirs[1].bytes));
        }
    }
}

/// The open levels of a text sink: up to 16, each an object or an array,
/// and whether it has a member yet.
#[derive(Clone, Copy, Debug, Default)]
struct Levels {
    depth: u8,
    arrays: u16,
    started: u16,
}

impl Levels {
    fn push(&mut self, array: bool) {
        let bit = 1u16 << self.depth.min(15);
        self.arrays = if array {
            self.arrays | bit
        } else {
            self.arrays & !bit
        };
        self.started &= !bit;
        self.depth = self.depth.saturating_add(1);
    }

    /// Closes the innermost level; whether it was an array.
    fn pop(&mut self) -> bool {
        self.depth = self.depth.saturating_sub(1);
        self.arrays & (1 << self.depth.min(15)) != 0
    }

    /// A member is written at the innermost level: whether one was before.
    fn member(&mut self) -> bool {
        if self.depth == 0 {
            return false;
        }
        let bit = 1u16 << (self.depth - 1).min(15);
        let before = self.started & bit != 0;
        self.started |= bit;
        before
    }

    fn in_array(&self) -> bool {
        self.depth > 0 && self.arrays & (1 << (self.depth - 1).min(15)) != 0
    }
}

/// A [`Sink`] that writes JSON text.
#[derive(Debug)]
pub struct JsonText<W> {
    out: W,
    levels: Levels,
}

impl<W: Write> JsonText<W> {
    pub fn new(out: W) -> Self {
        JsonText {
            out,
            levels: Levels::default(),
        }
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    fn key(&mut self, key: Option<&str>) {
        if self.levels.member() {
            let _ = self.out.write_char(',');
        }
        if let Some(k) = key {
            self.string(k);
            let _ = self.out.write_char(':');
        }
    }

    fn string(&mut self, v: &str) {
        let _ = self.out.write_char('"');
        for c in v.chars() {
            let _ = match c {
                '"' => self.out.write_str("\\\""),
                '\\' => self.out.write_str("\\\\"),
                c if (c as u32) < 0x20 => write!(self.out, "\\u{:04x}", c as u32),
                c => self.out.write_char(c),
            };
        }
        let _ = self.out.write_char('"');
    }
}

impl<W: Write> Sink for JsonText<W> {
    fn open_object(&mut self, key: Option<&str>) {
        self.key(key);
        let _ = self.out.write_char('{');
        self.levels.push(false);
    }

    fn open_array(&mut self, key: Option<&str>) {
        self.key(key);
        let _ = self.out.write_char('[');
        self.levels.push(true);
    }

    fn close(&mut self) {
        let array = self.levels.pop();
        let _ = self.out.write_char(if array { ']' } else { '}' });
    }

    fn value(&mut self, key: Option<&str>, value: Value<'_>) {
        self.key(key);
        let _ = match value {
            Value::Str(v) => {
                self.string(v);
                Ok(())
            }
            Value::Uint(v) => write!(self.out, "{v}"),
            Value::Float(v) if v.is_finite() => write!(self.out, "{v}"),
            Value::Float(_) | Value::Null => self.out.write_str("null"),
            Value::Bool(v) => write!(self.out, "{v}"),
        };
    }
}

/// A [`Sink`] that writes one line of `key=value` pairs, as Zeek logs
/// evidence: nested objects as `outer.inner=value`, arrays as items joined
/// by `,` (an object inside an array as its values joined by `-`:
/// `offsets=0-905`), booleans as `T`/`F`, null as `-`.
#[derive(Debug)]
pub struct KeyValueText<W> {
    out: W,
    levels: Levels,
    /// Levels (bit per depth) that are objects inside an array.
    compact: u16,
    /// The dotted prefix of the open objects, up to 64 bytes.
    prefix: [u8; 64],
    prefix_len: u8,
    /// Prefix lengths to restore on close.
    saved: [u8; 16],
    wrote: bool,
}

impl<W: Write> KeyValueText<W> {
    pub fn new(out: W) -> Self {
        KeyValueText {
            out,
            levels: Levels::default(),
            compact: 0,
            prefix: [0; 64],
            prefix_len: 0,
            saved: [0; 16],
            wrote: false,
        }
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    fn in_compact(&self) -> bool {
        self.levels.depth > 0 && self.compact & (1 << (self.levels.depth - 1).min(15)) != 0
    }

    /// Starts a member: its separator, and `key=` outside arrays.
    fn key(&mut self, key: Option<&str>) {
        let (array, compact) = (self.levels.in_array(), self.in_compact());
        let before = self.levels.member();
        if array || compact {
            if before {
                let _ = self.out.write_char(if compact { '-' } else { ',' });
            }
            return;
        }
        if let Some(k) = key {
            if self.wrote {
                let _ = self.out.write_char(' ');
            }
            self.wrote = true;
            let prefix =
                core::str::from_utf8(&self.prefix[..self.prefix_len as usize]).unwrap_or("");
            let _ = write!(self.out, "{prefix}{k}=");
        }
    }

    fn open(&mut self, key: Option<&str>, array: bool) {
        let d = self.levels.depth.min(15) as usize;
        self.saved[d] = self.prefix_len;
        let in_array = self.levels.in_array();
        if array || in_array {
            self.key(key);
        } else if let Some(k) = key {
            let at = self.prefix_len as usize;
            let add = k.len() + 1;
            if at + add <= self.prefix.len() {
                self.prefix[at..at + k.len()].copy_from_slice(k.as_bytes());
                self.prefix[at + k.len()] = b'.';
                self.prefix_len += add as u8;
            }
        }
        self.levels.push(array);
        let bit = 1u16 << (self.levels.depth - 1).min(15);
        self.compact = if !array && in_array {
            self.compact | bit
        } else {
            self.compact & !bit
        };
    }
}

impl<W: Write> Sink for KeyValueText<W> {
    fn open_object(&mut self, key: Option<&str>) {
        self.open(key, false);
    }

    fn open_array(&mut self, key: Option<&str>) {
        self.open(key, true);
    }

    fn close(&mut self) {
        self.levels.pop();
        self.prefix_len = self.saved[self.levels.depth.min(15) as usize];
    }

    fn value(&mut self, key: Option<&str>, value: Value<'_>) {
        self.key(key);
        let _ = match value {
            Value::Str(v) => self.out.write_str(v),
            Value::Uint(v) => write!(self.out, "{v}"),
            Value::Float(v) if v.is_finite() => write!(self.out, "{v}"),
            Value::Float(_) | Value::Null => self.out.write_char('-'),
            Value::Bool(v) => self.out.write_char(if v { 'T' } else { 'F' }),
        };
    }
}
