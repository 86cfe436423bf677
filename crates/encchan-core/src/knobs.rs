//! The knob table: every tunable of the engine, with its type, range,
//! default and the reason for the default, in one place.
//!
//! Front ends set knobs by name with a text value ([`Config::set`]), so the
//! CLI's TOML file, the C ABI's `encchan_config_set`, Suricata's `encchan:`
//! YAML section and Zeek's `EncChan::` options all take the same names and
//! spellings, and refuse the same values with the same messages. The
//! README's defaults block, the Zeek options and the Suricata YAML snippet
//! are checked against this table by tests.
//!
//! Values are text: numbers as Rust parses them, `true`/`false` (also
//! `yes`/`no`, `on`/`off`, `1`/`0`), seconds as a decimal number, port lists
//! as comma-separated numbers (brackets and spaces allowed; empty for none).

use crate::config::{Config, ConfigError, PortClass, PortSet};
use core::fmt::{self, Write};

/// What a knob holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A decimal number.
    Number,
    /// A count of bytes.
    Bytes,
    /// A duration in seconds (decimal).
    Seconds,
    /// A boolean.
    Flag,
    /// A list of ports: the port profile of this class.
    Ports(PortClass),
}

impl Kind {
    /// How values of this kind are spelled, for error messages.
    pub const fn expects(self) -> &'static str {
        match self {
            Kind::Number => "a number",
            Kind::Bytes => "a whole number of bytes",
            Kind::Seconds => "a non-negative number of seconds",
            Kind::Flag => "true or false",
            Kind::Ports(_) => "a comma-separated list of ports (1-65535)",
        }
    }
}

/// One knob.
#[derive(Clone, Copy)]
pub struct Knob {
    /// The name every front end uses (Suricata writes `_` as `-`).
    pub name: &'static str,
    pub kind: Kind,
    /// The Zeek option that sets it (`PortProfiles` takes the profile name
    /// as its index).
    pub zeek: &'static str,
    /// What it does, in one line (the TOML block's comment).
    pub help: &'static str,
    /// Why the default is what it is.
    pub why: &'static str,
    get: fn(&Config, &mut dyn Write) -> fmt::Result,
    set: fn(&mut Config, &str) -> Result<(), KnobError>,
}

impl fmt::Debug for Knob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Knob")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish()
    }
}

impl Knob {
    /// Writes the knob's value in `cfg` as text that [`Config::set`] takes.
    pub fn write_value(&self, cfg: &Config, w: &mut dyn Write) -> fmt::Result {
        (self.get)(cfg, w)
    }

    /// The knob named `name`.
    pub fn named(name: &str) -> Option<&'static Knob> {
        KNOBS.iter().find(|k| k.name == name)
    }
}

/// Why a knob's value was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KnobError {
    /// No knob has that name.
    Unknown,
    /// The text is not a value of the knob's kind.
    Value(Kind),
    /// The value is out of range (with the rest of the configuration).
    Range(ConfigError),
}

impl fmt::Display for KnobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KnobError::Unknown => {
                f.write_str("unknown knob; the knobs are")?;
                for (i, k) in KNOBS.iter().enumerate() {
                    f.write_str(if i == 0 { " " } else { ", " })?;
                    f.write_str(k.name)?;
                }
                Ok(())
            }
            KnobError::Value(kind) => write!(f, "expected {}", kind.expects()),
            KnobError::Range(e) => write!(f, "{e}"),
        }
    }
}

impl KnobError {
    /// The message for knob `name`: `name: expected …`, or the range rule
    /// (which names its knobs).
    pub fn for_knob<'a>(&'a self, name: &'a str) -> impl fmt::Display + 'a {
        struct Message<'a>(&'a KnobError, &'a str);
        impl fmt::Display for Message<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.0 {
                    KnobError::Range(e) => write!(f, "{e}"),
                    e => write!(f, "{}: {e}", self.1),
                }
            }
        }
        Message(self, name)
    }
}

fn number(v: &str) -> Result<f32, KnobError> {
    v.trim()
        .parse::<f32>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or(KnobError::Value(Kind::Number))
}

fn bytes<T: core::str::FromStr>(v: &str) -> Result<T, KnobError> {
    v.trim().parse().map_err(|_| KnobError::Value(Kind::Bytes))
}

fn flag(v: &str) -> Result<bool, KnobError> {
    let v = v.trim();
    for (t, b) in [
        ("true", true),
        ("yes", true),
        ("on", true),
        ("1", true),
        ("false", false),
        ("no", false),
        ("off", false),
        ("0", false),
    ] {
        if v.eq_ignore_ascii_case(t) {
            return Ok(b);
        }
    }
    Err(KnobError::Value(Kind::Flag))
}

fn seconds_us(v: &str) -> Result<u64, KnobError> {
    let s: f64 = v
        .trim()
        .parse()
        .ok()
        .filter(|s: &f64| s.is_finite() && *s >= 0.0 && *s < 1e12)
        .ok_or(KnobError::Value(Kind::Seconds))?;
    Ok((s * 1e6) as u64)
}

fn ports(v: &str, class: PortClass) -> Result<PortSet, KnobError> {
    let err = KnobError::Value(Kind::Ports(class));
    let v = v.trim();
    let v = v
        .strip_prefix('[')
        .map_or(Ok(v), |x| x.strip_suffix(']').ok_or(err))?;
    let mut set = PortSet::empty();
    for part in v.split(',').map(str::trim) {
        if part.is_empty() && v.trim().is_empty() {
            break;
        }
        match part.parse::<u16>() {
            Ok(p) if p > 0 => set.insert(p),
            _ => return Err(err),
        }
    }
    Ok(set)
}

fn write_ports(set: &PortSet, w: &mut dyn Write) -> fmt::Result {
    for (i, p) in set.iter().enumerate() {
        if i > 0 {
            w.write_str(", ")?;
        }
        write!(w, "{p}")?;
    }
    Ok(())
}

/// Every knob. The order is the order they are applied in when a front end
/// sets them one by one (the budget before what must fit in it).
pub static KNOBS: [Knob; 11] = [
    Knob {
        name: "entropy_threshold",
        kind: Kind::Number,
        zeek: "EntropyThreshold",
        help: "bits/byte of collision entropy; random data gives 8.0",
        why: "ciphertext and compressed data estimate 8.0 ± 0.1 over a few KiB, English text ~4, \
              x86 code and protocol headers 5-6.5, structured binary protocols that carry pieces of \
              ciphertext 7.0-7.4 on the real captures tested; the test is one-sided and lenient on \
              short payloads, so a 64-byte beacon still passes. Range (0, 8].",
        get: |c, w| write!(w, "{}", c.entropy_threshold),
        set: |c, v| {
            c.entropy_threshold = number(v)?;
            Ok(())
        },
    },
    Knob {
        name: "inspect_budget",
        kind: Kind::Bytes,
        zeek: "InspectBudget",
        help: "bytes inspected per side; then counters only",
        why: "4 KiB decides every labeled scenario and keeps the per-flow cost bounded; \
              ciphertext after it is not seen. Range [64, 65536].",
        get: |c, w| write!(w, "{}", c.inspect_budget),
        set: |c, v| {
            c.inspect_budget = bytes(v)?;
            Ok(())
        },
    },
    Knob {
        name: "min_payload",
        kind: Kind::Bytes,
        zeek: "MinPayload",
        help: "bytes a side needs before its entropy counts",
        why: "below 32 bytes a short login or banner is not evidence either way. \
              At most inspect_budget.",
        get: |c, w| write!(w, "{}", c.min_payload),
        set: |c, v| {
            c.min_payload = bytes(v)?;
            Ok(())
        },
    },
    Knob {
        name: "handshake_timeout",
        kind: Kind::Seconds,
        zeek: "HandshakeTimeout",
        help: "seconds for a started key exchange to complete",
        why: "10 s covers a slow handshake across continents with retransmissions; an exchange \
              still open after that is stalled or probing.",
        get: |c, w| {
            let us = c.handshake_timeout_us;
            if us % 1_000_000 == 0 {
                write!(w, "{}.0", us / 1_000_000)
            } else {
                write!(w, "{}", us as f64 / 1e6)
            }
        },
        set: |c, v| {
            c.handshake_timeout_us = seconds_us(v)?;
            Ok(())
        },
    },
    Knob {
        name: "asymmetry_ratio",
        kind: Kind::Number,
        zeek: "TrafficAsymmetryRatio",
        help: "client/server bytes that make a flow client-heavy",
        why: "10: uploads that dwarf the replies by an order of magnitude, as exfiltration does. \
              At least 1.",
        get: |c, w| {
            if c.asymmetry_ratio.fract() == 0.0 {
                write!(w, "{}.0", c.asymmetry_ratio)
            } else {
                write!(w, "{}", c.asymmetry_ratio)
            }
        },
        set: |c, v| {
            c.asymmetry_ratio = number(v)?;
            Ok(())
        },
    },
    Knob {
        name: "volume_threshold",
        kind: Kind::Bytes,
        zeek: "TrafficVolumeThreshold",
        help: "client bytes before asymmetry is considered",
        why: "1 MiB: small flows are asymmetric all the time.",
        get: |c, w| write!(w, "{}", c.volume_threshold),
        set: |c, v| {
            c.volume_threshold = bytes(v)?;
            Ok(())
        },
    },
    Knob {
        name: "measure_known_protocols",
        kind: Kind::Flag,
        zeek: "MeasureKnownProtocols",
        help: "true: also measure what TLS, SSH, HTTP … explain",
        why: "off: bytes a recognized protocol explains can change no alert, and skipping them \
              is most of the engine's cost saved; on gives entropy figures for every flow.",
        get: |c, w| write!(w, "{}", c.measure_known_protocols),
        set: |c, v| {
            c.measure_known_protocols = flag(v)?;
            Ok(())
        },
    },
    Knob {
        name: "early_verdict_error",
        kind: Kind::Number,
        zeek: "EarlyVerdictError",
        help: "error of the test that decides symmetric_only early; 0: off",
        why: "1e-4: a full-size packet of ciphertext decides its flow, so rules see short beacons;               content one bit short of uniform is decided early at most that often, and content               the budget-time test rejects drifts away from a decision. Range [0, 0.5].",
        get: |c, w| write!(w, "{}", c.early_verdict_error),
        set: |c, v| {
            c.early_verdict_error = number(v)?;
            Ok(())
        },
    },
    Knob {
        name: "ports.tls",
        kind: Kind::Ports(PortClass::Tls),
        zeek: "PortProfiles",
        help: "server ports where TLS and QUIC are expected",
        why: "the IANA assignments of TLS services and their common alternates.",
        get: |c, w| write_ports(&c.ports.tls, w),
        set: |c, v| {
            c.ports.tls = ports(v, PortClass::Tls)?;
            Ok(())
        },
    },
    Knob {
        name: "ports.ssh",
        kind: Kind::Ports(PortClass::Ssh),
        zeek: "PortProfiles",
        help: "server ports where SSH is expected",
        why: "22 and its common alternate.",
        get: |c, w| write_ports(&c.ports.ssh, w),
        set: |c, v| {
            c.ports.ssh = ports(v, PortClass::Ssh)?;
            Ok(())
        },
    },
    Knob {
        name: "ports.plaintext",
        kind: Kind::Ports(PortClass::Plaintext),
        zeek: "PortProfiles",
        help: "server ports of cleartext protocols",
        why: "FTP, Telnet, SMTP, DNS, HTTP, POP3, NNTP, IMAP, SNMP, submission, HTTP alternates, \
              syslog.",
        get: |c, w| write_ports(&c.ports.plaintext, w),
        set: |c, v| {
            c.ports.plaintext = ports(v, PortClass::Plaintext)?;
            Ok(())
        },
    },
];

impl Config {
    /// Sets knob `name` from its text `value`, and keeps the change only if
    /// the whole configuration is still valid.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), KnobError> {
        let mut next = self.clone();
        next.set_unchecked(name, value)?;
        next.validate().map_err(KnobError::Range)?;
        *self = next;
        Ok(())
    }

    /// Sets knob `name` from its text `value` without checking the ranges
    /// that involve other knobs: for a front end that sets several, then
    /// calls [`Config::validate`].
    pub fn set_unchecked(&mut self, name: &str, value: &str) -> Result<(), KnobError> {
        let knob = Knob::named(name).ok_or(KnobError::Unknown)?;
        (knob.set)(self, value)
    }

    /// Writes every knob with its value as the TOML file the CLI reads
    /// (`--config`), each with its one-line help.
    pub fn write_toml(&self, w: &mut dyn Write) -> fmt::Result {
        let mut section = false;
        for k in &KNOBS {
            let mut key = k.name;
            if let Some(rest) = k.name.strip_prefix("ports.") {
                if !section {
                    writeln!(w, "{:<29}# each list replaces its default set", "[ports]")?;
                    section = true;
                }
                key = rest;
            }
            let mut line = Line::default();
            write!(line, "{key} = ")?;
            let list = matches!(k.kind, Kind::Ports(_));
            if list {
                line.write_str("[")?;
            }
            k.write_value(self, &mut line)?;
            if list {
                line.write_str("]")?;
            }
            if line.len < 29 {
                let pad = 29 - line.len - 1;
                writeln!(w, "{} {:pad$}# {}", line.as_str(), "", k.help)?;
            } else {
                // A long list: its comment above it.
                writeln!(w, "# {}\n{}", k.help, line.as_str())?;
            }
        }
        Ok(())
    }
}

/// A line of at most 512 bytes, for `write_toml`'s alignment.
struct Line {
    buf: [u8; 512],
    len: usize,
}

impl Default for Line {
    fn default() -> Self {
        Line {
            buf: [0; 512],
            len: 0,
        }
    }
}

impl Line {
    fn as_str(&self) -> &str {
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct S(heapless_string::Buf);
    mod heapless_string {
        pub struct Buf(pub [u8; 4096], pub usize);
    }
    impl Write for S {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let b = &mut self.0;
            b.0[b.1..b.1 + s.len()].copy_from_slice(s.as_bytes());
            b.1 += s.len();
            Ok(())
        }
    }
    fn text(k: &Knob, c: &Config) -> S {
        let mut s = S(heapless_string::Buf([0; 4096], 0));
        k.write_value(c, &mut s).unwrap();
        s
    }

    #[test]
    fn every_default_round_trips_through_its_text() {
        let defaults = Config::default();
        for k in &KNOBS {
            let s = text(k, &defaults);
            let v = core::str::from_utf8(&s.0 .0[..s.0 .1]).unwrap();
            let mut c = Config::default();
            c.set(k.name, v)
                .unwrap_or_else(|e| panic!("{}: {v:?}: {e:?}", k.name));
            assert_eq!(c, defaults, "{}", k.name);
        }
    }

    #[test]
    fn values_are_parsed_and_ranges_checked() {
        let mut c = Config::default();
        c.set("entropy_threshold", " 7.2 ").unwrap();
        c.set("handshake_timeout", "2.5").unwrap();
        c.set("ports.tls", "[4443, 443]").unwrap();
        c.set("ports.ssh", "").unwrap();
        c.set("measure_known_protocols", "yes").unwrap();
        assert_eq!(c.entropy_threshold, 7.2);
        assert_eq!(c.handshake_timeout_us, 2_500_000);
        assert!(c.ports.tls.contains(4443) && !c.ports.tls.contains(8443));
        assert_eq!(c.ports.ssh.iter().count(), 0);
        assert!(c.measure_known_protocols);
        let before = c.clone();
        for (name, value, err) in [
            (
                "entropy_threshold",
                "9",
                KnobError::Range(ConfigError::EntropyThreshold),
            ),
            ("entropy_threshold", "nan", KnobError::Value(Kind::Number)),
            (
                "inspect_budget",
                "65537",
                KnobError::Range(ConfigError::InspectBudget),
            ),
            ("min_payload", "-5", KnobError::Value(Kind::Bytes)),
            ("handshake_timeout", "-1", KnobError::Value(Kind::Seconds)),
            (
                "ports.tls",
                "70000",
                KnobError::Value(Kind::Ports(PortClass::Tls)),
            ),
            (
                "ports.tls",
                "0",
                KnobError::Value(Kind::Ports(PortClass::Tls)),
            ),
            (
                "measure_known_protocols",
                "maybe",
                KnobError::Value(Kind::Flag),
            ),
            ("no_such_knob", "1", KnobError::Unknown),
        ] {
            assert_eq!(c.set(name, value), Err(err), "{name}={value}");
            assert_eq!(c, before, "a refused value changes nothing");
        }
    }
}
