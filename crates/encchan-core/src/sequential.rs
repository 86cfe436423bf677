//! The sequential test that decides `symmetric_only` on a direction's
//! opening bytes, instead of waiting for the inspection budget or the
//! flow's end.
//!
//! A sensor's rules only see a verdict on packets that come after it: a
//! beacon that opens a connection, says 300 bytes and closes it is gone
//! before a 4 KiB budget fills. So the engine asks, after every packet of
//! a direction that is still a candidate, whether the bytes measured so far
//! already *settle* the question — and publishes the alert then.
//!
//! # The test
//!
//! Wald's sequential probability ratio test on the statistic the engine
//! already keeps: the equal pairs among the bytes of each 32-byte block
//! ([`crate::stats`]). With `N` pairs, `c` of them equal:
//!
//! - H1, ciphertext: bytes uniform over the encoding's alphabet of `2^b`
//!   symbols (`b` = 8 raw, 6 base64, 5 base32, 4 hex); a pair is equal
//!   with probability `p1 = 2^-b`.
//! - H0, content short of that: a pair is equal with probability
//!   `p0 = r·p1`, `r = 4^(b − t)` where `t` is the entropy threshold scaled
//!   to the alphabet (7.5 raw by default: `r = 2`, one bit below uniform).
//!   `r` is chosen so that the test's indifference point — the collision
//!   entropy at which the likelihood ratio has no drift, `(r − 1)/ln r`
//!   times `p1` — falls on the threshold (7.47 bits for 7.5): content the
//!   budget-time test would reject drifts *away* from an early decision,
//!   however many packets it sends.
//!
//! Counting the equal pairs as Poisson (they are rare and nearly
//! independent), the log-likelihood ratio is
//!
//! ```text
//! Λ = N·(p0 − p1) − c·ln(p0/p1) = N·p1·(r − 1) − c·ln r
//! ```
//!
//! and the direction is decided ciphertext once `Λ ≥ ln(1/α)`. Wald's
//! inequality bounds by `α` the probability that content at H0 is *ever*
//! decided, however many times the test looks (it looks after each packet):
//! the multiple looks are paid for. `α` is the knob `early_verdict_error`
//! (default `1e-4`; `0` turns early verdicts off).
//!
//! # What it costs in bytes
//!
//! Raw bytes, default knobs (`Λ` needs 9.21): with no equal pair at all
//! the test can decide after 2,358 pairs, about 150 bytes; uniform bytes
//! (on average `c = N/256`) need about 7,500 pairs, about 490 bytes — one
//! full-size packet. A 73-byte beacon can never be decided on its own: its
//! flow is decided by the next packets, at the budget or at its end, as
//! before. Base64 of ciphertext needs about 650 bytes.
//!
//! # Which directions are asked
//!
//! A lane asks while it may still be decided (`Lane::tests_sequentially`):
//! its bytes were judged and cannot be a key-exchange hello (no hello, no
//! key-exchange protocol reads them, and the flow has not named one the
//! other side opened: QUIC's and MTProto's answers are any bytes), no gap
//! came before them, and no compressed or media format opens them. Over
//! UDP it asks only about a datagram conversation that no recognizer named
//! by the side's third datagram and the other side's first (RTP needs two
//! of a stream; an answer may name STUN or DTLS), that does not repeat
//! itself (announcements), off ports profiled for TLS (where QUIC picked up
//! after its handshake shows only short headers). A lane the test decided
//! makes `symmetric_only` final at once on a flow whose start was seen and
//! that goes to no group address ([`crate::detect`]); the decision is
//! latched: later bytes do not take the alert back (a final alert never
//! is).

use crate::config::Config;
use crate::stats::Summary;

/// The test looks at every `STEP` measured bytes of a direction: at stream
/// positions fixed by the bytes themselves, so that how a host chunks the
/// stream cannot change what it decides (and at block boundaries, where
/// the statistics' counters are whole).
pub(crate) const STEP: u32 = 64;

/// Whether the measured bytes summarized in `s` decide "ciphertext" at
/// the configured error `α` (see the module docs). The test has no lower
/// boundary: a direction that opens with content and turns to ciphertext
/// (a cleartext preamble, a datagram tunnel's first control messages) is
/// still decided when the ciphertext outweighs it, and Wald's bound holds
/// for the upper boundary alone.
pub(crate) fn decides(cfg: &Config, s: &Summary) -> bool {
    let alpha = cfg.early_verdict_error;
    if alpha.is_nan() || alpha <= 0.0 || s.bytes < cfg.min_payload {
        return false;
    }
    let b = s.encoding.bits();
    let t = cfg.entropy_threshold * b / 8.0;
    let r = libm::exp2f(2.0 * (b - t).max(0.0));
    if r <= 1.0 {
        // A threshold at uniform leaves nothing to tell apart early.
        return false;
    }
    let p1 = libm::exp2f(-b);
    // `collisions_expected` is N/256 (exact in f32 for the pair counts a
    // 64 KiB budget can reach).
    let pairs = s.collisions_expected * 256.0;
    let llr = pairs * p1 * (r - 1.0) - s.collisions as f32 * libm::logf(r);
    llr >= -libm::logf(alpha) && s.high_entropy
}

/// Whether the test, looking every [`STEP`] bytes of `data`, decides
/// ciphertext (test helper: the lanes look the same way).
#[cfg(test)]
fn decided_at(cfg: &Config, data: &[u8]) -> Option<usize> {
    let mut stats = crate::stats::ByteStats::new();
    for chunk in data.chunks(STEP as usize) {
        stats.update(cfg.kernel, chunk);
        if chunk.len() < STEP as usize {
            break;
        }
        if decides(cfg, &stats.summary(cfg.entropy_threshold)) {
            return Some(stats.len() as usize);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::summarize;

    fn fill(seed: u64, out: &mut [u8]) {
        let mut x = seed | 1;
        for b in out {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = (x >> 24) as u8;
        }
    }

    /// The byte counts the module docs give, from the formula.
    #[test]
    fn random_bytes_are_decided_within_one_packet_and_not_before_a_minimum() {
        let cfg = Config::default();
        let mut buf = [0u8; 1460];
        let mut at = [0usize; 64];
        for (seed, at) in at.iter_mut().enumerate() {
            fill(seed as u64 + 7, &mut buf);
            *at = decided_at(&cfg, &buf).unwrap_or(usize::MAX);
        }
        at.sort_unstable();
        assert!(at[0] >= 128, "{at:?}");
        assert!((256..=768).contains(&at[at.len() / 2]), "{at:?}");
        assert!(at[at.len() - 1] <= 1408, "{at:?}");
    }

    /// Content short of the threshold is not decided: text, and bytes
    /// drawn from 128 symbols (7 bits: a structured binary protocol
    /// carrying pieces of ciphertext), not within a 4 KiB budget.
    #[test]
    fn content_below_the_threshold_is_not_decided() {
        let cfg = Config::default();
        let text =
            b"GET /index.html HTTP/1.1\r\nHost: example.org\r\nAccept: */*\r\n\r\n".repeat(60);
        assert_eq!(decided_at(&cfg, &text), None);
        let mut seven_bits = [0u8; 4096];
        for seed in 0..64u64 {
            fill(seed + 1000, &mut seven_bits);
            for b in seven_bits.iter_mut() {
                *b &= 0x7f;
            }
            assert_eq!(decided_at(&cfg, &seven_bits), None, "seed {seed}");
        }
    }

    /// Base64 of random bytes is judged against its own alphabet.
    #[test]
    fn base64_of_ciphertext_is_decided() {
        const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let cfg = Config::default();
        let mut raw = [0u8; 1400];
        fill(99, &mut raw);
        let text: [u8; 1400] = core::array::from_fn(|k| B64[(raw[k] & 63) as usize]);
        assert_eq!(
            summarize(&text, 7.5).encoding,
            crate::stats::Encoding::Base64
        );
        assert!(decided_at(&cfg, &text).is_some());
    }

    #[test]
    fn a_zero_error_turns_the_test_off() {
        let cfg = Config {
            early_verdict_error: 0.0,
            ..Config::default()
        };
        let mut buf = [0u8; 1460];
        fill(3, &mut buf);
        assert_eq!(decided_at(&cfg, &buf), None);
    }
}
