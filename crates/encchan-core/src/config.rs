//! Detection knobs, named after the ones detection strategies for T1573 use.
//!
//! A [`Config`] is built once and shared read-only by every flow (it is never
//! copied into per-flow state), so its size does not count against the
//! per-flow budget. Port sets are 8 KiB bitmaps: one bit per port, O(1) lookups
//! on the packet path and no allocation.

use crate::codes::code_enum;
pub use encchan_simd::Kernel;

/// A set of TCP or UDP ports, one bit per port.
#[derive(Clone, PartialEq, Eq)]
pub struct PortSet {
    bits: [u64; 1024],
}

impl PortSet {
    /// The empty set.
    pub const fn empty() -> Self {
        PortSet { bits: [0; 1024] }
    }

    /// A set holding exactly `ports`.
    pub const fn of(ports: &[u16]) -> Self {
        let mut set = PortSet::empty();
        let mut i = 0;
        while i < ports.len() {
            set.bits[(ports[i] >> 6) as usize] |= 1u64 << (ports[i] & 63);
            i += 1;
        }
        set
    }

    /// Adds `port`.
    pub fn insert(&mut self, port: u16) {
        self.bits[(port >> 6) as usize] |= 1u64 << (port & 63);
    }

    /// Removes `port`.
    pub fn remove(&mut self, port: u16) {
        self.bits[(port >> 6) as usize] &= !(1u64 << (port & 63));
    }

    /// Removes every port.
    pub fn clear(&mut self) {
        self.bits = [0; 1024];
    }

    /// Whether `port` is in the set.
    #[inline]
    pub const fn contains(&self, port: u16) -> bool {
        self.bits[(port >> 6) as usize] & (1u64 << (port & 63)) != 0
    }

    /// Iterates the ports in the set in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        (0..=u16::MAX).filter(move |&p| self.contains(p))
    }
}

impl core::fmt::Debug for PortSet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

code_enum! {
    /// A kind of traffic a port profile expects.
    pub enum PortClass {
        /// TLS and QUIC.
        Tls = 0 => "tls",
        /// SSH.
        Ssh = 1 => "ssh",
        /// Cleartext protocols.
        Plaintext = 2 => "plaintext",
    }
}

/// Which ports are expected to carry which kind of traffic (server side).
///
/// The defaults are the IANA assignments operators most often see, plus the
/// common alternates (8443, 2222 …). A flow is judged by its server port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortProfiles {
    /// Ports where TLS or QUIC is expected; elsewhere they raise
    /// `tls_unexpected_port`.
    pub tls: PortSet,
    /// Ports where SSH is expected; elsewhere it raises
    /// `ssh_unexpected_port`.
    pub ssh: PortSet,
    /// Ports that carry cleartext protocols; an encrypted-looking payload there
    /// raises `encrypted_on_plaintext_port`.
    pub plaintext: PortSet,
}

/// TLS over TCP, DTLS and QUIC: HTTPS, SMTPS/submissions, LDAPS, DoT, FTPS,
/// Telnets, IMAPS, IRCS, POP3S, XMPP, SIP-TLS, MQTT-TLS, AMQPS, Kubernetes,
/// alternates, OpenVPN, and the DTLS/QUIC media and VPN ports.
pub const DEFAULT_TLS_PORTS: &[u16] = &[
    443, 465, 563, 636, 853, 989, 990, 992, 993, 994, 995, 1194, 1443, 2376, 2484, 3269, 3389,
    4433, 4443, 4460, 5061, 5223, 5228, 5349, 5671, 5986, 6443, 6514, 6697, 8443, 8883, 9443,
    10443, 10250, 3478, 19302, 50051,
];

/// SSH and its common alternate.
pub const DEFAULT_SSH_PORTS: &[u16] = &[22, 2222];

/// Cleartext protocols: FTP, Telnet, SMTP, DNS, HTTP, POP3, NNTP, IMAP, SNMP,
/// submission, HTTP alternates, syslog.
pub const DEFAULT_PLAINTEXT_PORTS: &[u16] = &[
    21, 23, 25, 53, 80, 110, 119, 143, 161, 162, 514, 587, 8000, 8008, 8080,
];

impl PortProfiles {
    /// The set of `class`.
    pub fn get(&self, class: PortClass) -> &PortSet {
        match class {
            PortClass::Tls => &self.tls,
            PortClass::Ssh => &self.ssh,
            PortClass::Plaintext => &self.plaintext,
        }
    }

    /// The set of `class`, to edit.
    pub fn get_mut(&mut self, class: PortClass) -> &mut PortSet {
        match class {
            PortClass::Tls => &mut self.tls,
            PortClass::Ssh => &mut self.ssh,
            PortClass::Plaintext => &mut self.plaintext,
        }
    }
}

impl Default for PortProfiles {
    fn default() -> Self {
        PortProfiles {
            tls: PortSet::of(DEFAULT_TLS_PORTS),
            ssh: PortSet::of(DEFAULT_SSH_PORTS),
            plaintext: PortSet::of(DEFAULT_PLAINTEXT_PORTS),
        }
    }
}

/// Engine configuration. See each field for its default and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Entropy threshold in bits per byte (collision entropy, see
    /// [`crate::stats`]). Default 7.5: ciphertext and compressed data estimate
    /// 8.0 ± 0.1 over a few KiB, English text ~4, x86 code and protocol
    /// headers 5–6.5, and structured binary protocols that carry pieces of
    /// ciphertext (Kerberos, game protocols) 7.0–7.4 on the real captures we
    /// test against. The test is one-sided and lenient on short payloads, so
    /// a 64-byte ciphertext behind a length prefix or `Salted__` still passes.
    pub entropy_threshold: f32,
    /// Bytes a direction must carry before its entropy counts. Default 32:
    /// below that a short login or banner is not evidence either way.
    pub min_payload: u32,
    /// Bytes inspected per direction before the verdict is final and the
    /// engine stops looking at payload (counters keep counting). Default 4096.
    pub inspect_budget: u32,
    /// A key exchange that has not completed this long after it started
    /// raises `handshake_incomplete`. Microseconds; default 10 s.
    pub handshake_timeout_us: u64,
    /// Client→server over server→client bytes at or above which a flow is
    /// client-heavy (`traffic_asymmetry`). Default 10: uploads that dwarf the
    /// replies by an order of magnitude, as exfiltration does.
    pub asymmetry_ratio: f32,
    /// Client bytes a flow must send before `traffic_asymmetry` is considered.
    /// Default 1 MiB: small flows are asymmetric all the time.
    pub volume_threshold: u64,
    /// Also measure the bytes a recognized protocol explains. Default
    /// `false`: once a direction opens with a TLS/SSH/OpenVPN hello or a
    /// cleartext protocol (or a datagram matches the flow's protocol), its
    /// statistics could change no alert — a recognized protocol is exempt
    /// from `symmetric_only`, and its content class comes from the protocol
    /// — so they skip those bytes, which is most of what a sensor sees. A
    /// walker that finds the framing broken revokes the explanation at that
    /// byte, and measuring resumes there. `true` measures every inspected
    /// byte (entropy figures for TLS flows too), at several times the cost.
    pub measure_known_protocols: bool,
    /// The error of the sequential test that decides `symmetric_only` on a
    /// direction's opening bytes ([`crate::sequential`]): the probability
    /// that content one bit short of uniform (the test's alternative) is
    /// ever decided ciphertext early. Default `1e-4`: a full-size packet of
    /// ciphertext decides its flow, content the budget-time test would
    /// reject drifts away from a decision. `0` turns early verdicts off:
    /// `symmetric_only` is then final at the inspection budget or the
    /// flow's end, as before.
    pub early_verdict_error: f32,
    /// Port expectations.
    pub ports: PortProfiles,
    /// The kernel that counts the byte statistics of whole blocks. Every
    /// kernel gives the same figures; only the speed differs. Default
    /// [`Kernel::detect`]: the fastest this CPU runs (AVX-512, AVX2, else
    /// the portable scalar one).
    pub kernel: Kernel,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            entropy_threshold: 7.5,
            min_payload: 32,
            inspect_budget: 4096,
            handshake_timeout_us: 10_000_000,
            asymmetry_ratio: 10.0,
            volume_threshold: 1 << 20,
            measure_known_protocols: false,
            early_verdict_error: 1e-4,
            ports: PortProfiles::default(),
            kernel: Kernel::detect(),
        }
    }
}

/// Why a configuration value was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// `entropy_threshold` must lie in (0, 8].
    EntropyThreshold,
    /// `inspect_budget` must lie in [64, 65536].
    InspectBudget,
    /// `asymmetry_ratio` must be ≥ 1.
    AsymmetryRatio,
    /// `min_payload` must not exceed `inspect_budget`.
    MinPayload,
    /// `early_verdict_error` must lie in [0, 0.5].
    EarlyVerdictError,
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ConfigError::EntropyThreshold => "entropy_threshold must be in (0, 8] bits per byte",
            ConfigError::InspectBudget => "inspect_budget must be in [64, 65536] bytes",
            ConfigError::AsymmetryRatio => "asymmetry_ratio must be >= 1",
            ConfigError::MinPayload => "min_payload must not exceed inspect_budget",
            ConfigError::EarlyVerdictError => "early_verdict_error must be in [0, 0.5]",
        })
    }
}

impl Config {
    /// Checks the ranges the engine relies on.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.entropy_threshold.is_nan()
            || self.entropy_threshold <= 0.0
            || self.entropy_threshold > 8.0
        {
            return Err(ConfigError::EntropyThreshold);
        }
        if !(64..=65536).contains(&self.inspect_budget) {
            return Err(ConfigError::InspectBudget);
        }
        // NaN compares as neither: refuse it too.
        if self.asymmetry_ratio.is_nan() || self.asymmetry_ratio < 1.0 {
            return Err(ConfigError::AsymmetryRatio);
        }
        if self.min_payload > self.inspect_budget {
            return Err(ConfigError::MinPayload);
        }
        if !(0.0..=0.5).contains(&self.early_verdict_error) {
            return Err(ConfigError::EarlyVerdictError);
        }
        Ok(())
    }
}
