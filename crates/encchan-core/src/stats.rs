//! Byte statistics in one pass, with fixed memory, that stay meaningful on
//! short payloads and do not depend on how the stream was chunked.
//!
//! # Why not "Shannon entropy of the payload > 7.3"
//!
//! The plug-in Shannon estimate `H = -Σ (c/n) log2(c/n)` is biased low when the
//! sample is small next to the alphabet: uniformly random data of 64 bytes
//! gives `H ≈ 5.8` bits/byte, of 1460 bytes `≈ 7.9` (Miller 1955; the bias is
//! `≈ (K-1)/(2n ln 2)` for large `n`). A fixed cut such as 7.3 therefore never
//! fires below ~128 bytes, which is where most C2 beacons live. It also needs a
//! 256-bin histogram per direction, which would dwarf a 256-byte flow state.
//!
//! # What we compute instead
//!
//! The stream of each direction is cut into 32-byte blocks at fixed stream
//! offsets (0, 32, 64 …), so the blocks — and every statistic — are the same
//! however the host chunked the bytes. A partial block is kept in a 32-byte
//! buffer until it fills. For each block we count:
//!
//! * **Collisions**: the number of equal byte pairs, `Σ c(c-1)/2`. For
//!   i.i.d. bytes with distribution `p`, `collisions / pairs` is an *unbiased*
//!   estimate of the collision probability `Σ p²` at any block length, and sums
//!   of collisions and of pairs over blocks stay unbiased. The collision
//!   (Rényi order-2) entropy `H₂ = -log2(Σ p²)` is then estimated without the
//!   small-sample bias: random data gives 8.0 ± noise at 32 bytes as at 4 KiB,
//!   so one threshold works at every length (Rényi 1961; the collision
//!   estimator is the U-statistic of Σp², see e.g. Bar-Yossef et al. 2001,
//!   "Sampling algorithms: lower bounds and applications").
//! * **Uniformity test**: under "entropy ≥ t" the collision count is at most
//!   a Poisson-like variable with mean `μ = pairs · 2^-t`. We call the data
//!   high-entropy when the observed count stays within `μ + 2.33·√μ` (one-sided
//!   1 %): strict when many bytes were seen, lenient when few were — a
//!   chi-square-style test that is valid at small sizes, unlike the
//!   chi-square approximation with expected cell counts below 5.
//! * **Shannon entropy per block**, on a sample: the full blocks whose index
//!   is a multiple of [`SHANNON_SAMPLE`] (stream offsets 0, 256, 512 …, so
//!   the sample too is the same however the stream was chunked) and the
//!   trailing partial block, averaged, and compared with what uniformly
//!   random blocks of the same lengths give (`E[H_n]`, from the binomial
//!   distribution of each byte's count, computed at compile time). Reported
//!   as evidence only — no alert reads it — so it needs no histogram on
//!   every block: a stream of fewer than 8 full blocks is sampled at its
//!   first block (and partial block), a 4 KiB window at 16 of its 128.
//!
//! Whole blocks go to a kernel of `encchan-simd`, picked once in
//! [`crate::Config::kernel`]: the portable scalar one (a stack histogram per
//! block) or the AVX2 and AVX-512 ones, which count the equal pairs by
//! comparing each block with its byte rotations and the classes by table
//! lookups, at several GB/s. All give identical counts. Per byte that is a
//! collision count and a few class counters (printable, popcount, alphabet
//! membership); logarithms happen once, at verdict time. After
//! `inspect_budget` bytes a direction is no longer inspected at all.
//!
//! # Printable cover: the binary-byte test
//!
//! Readable padding in front of (or between) ciphertext dilutes the pooled
//! collision rate: 128 bytes of repetitive text in front of 4 KiB of
//! ciphertext pull it to 7.25, under the 7.5 threshold, and printable first
//! bytes are exactly what defeats the exemptions of fully-encrypted-traffic
//! detectors (Wu et al., USENIX Security 2023). Text, though, never holds a
//! byte outside printable ASCII, and ciphertext spreads its bytes evenly
//! over all 158 values outside it. So the same collision test runs a second
//! time on the **binary bytes** alone — the pairs of non-printable bytes
//! within each block, against a threshold scaled to that alphabet
//! (`t · log2(158) / 8`). Printable padding adds no binary bytes and cannot
//! dilute it, however it is interleaved. What the test needs to pass is
//! what plain binary protocols lack: their non-printable bytes are zeros,
//! small integers and length fields, which collide all the time (zero
//! padding, as Google QUIC pads, fails it at once). A stream passes only
//! with at least [`BINARY_MIN_BYTES`] binary bytes.
//!
//! Blocks that on their own look uniform — at most 6 equal pairs among 32
//! bytes, which random data exceeds 0.5 % of the time and text never
//! reaches — are counted and reported too (`uniform_blocks` of
//! `full_blocks`), as evidence only: a share rule on them flagged
//! unrecognized legitimate protocols on the shared captures (one-sided
//! Google QUIC padded with zeros, DTLS 1.0 drafts), which the binary-byte
//! test does not.
//!
//! # Encoded ciphertext
//!
//! Base64, base32 and hex of random bytes have low byte entropy (6, 5 and 4
//! bits) but are maximal *for their alphabet*. When ≥ 97 % of the bytes fall
//! in one of those alphabets (line breaks not counted), the threshold is scaled
//! to that alphabet (`t · log2(k) / 8`) and the same collision test applies.

use crate::codes::code_enum;
use crate::math::{BLOCK_EXPECTED_SHANNON, CLOG2C_DELTA_FX, CLOG2C_FX, FX};
use encchan_simd::class::{CLASS, PRINTABLE};
use encchan_simd::{Counts, Kernel};

/// Block length of the collision statistics.
pub const BLOCK: usize = encchan_simd::BLOCK;
const LOG2_BLOCK: f32 = 5.0;
/// Full blocks whose index (stream offset / `BLOCK`) is a multiple of this
/// are the sample the per-block Shannon figure averages over.
pub const SHANNON_SAMPLE: u32 = 8;
/// Whole blocks handed to the kernel per call: the counters of one call
/// stay far from overflowing.
const KERNEL_RUN: usize = 1024 * BLOCK;
/// Byte values outside the printable set (printable ASCII, tab, CR, LF).
const BINARY_ALPHABET: f32 = 158.0;
/// Binary bytes a direction needs before the binary-byte test may pass:
/// fewer than a few hundred bytes of ciphertext hold this many.
pub const BINARY_MIN_BYTES: u32 = 128;
/// Inspected bytes are counted up to here (a block multiple, so that the
/// partial block's length stays `bytes % BLOCK`); more is ignored.
const BYTES_LIMIT: u32 = u32::MAX - (u32::MAX % BLOCK as u32) - BLOCK as u32;

code_enum! {
    /// The alphabet a payload is drawn from.
    #[derive(Default)]
    pub enum Encoding {
        /// Any byte values.
        #[default]
        Raw = 0 => "raw",
        /// `A-Z a-z 0-9 + / = - _`.
        Base64 = 1 => "base64",
        /// `A-Z 2-7 =`.
        Base32 = 2 => "base32",
        /// `0-9 a-f A-F`.
        Hex = 3 => "hex",
    }
}

impl Encoding {
    /// log2 of the alphabet size.
    pub const fn bits(self) -> f32 {
        match self {
            Encoding::Raw => 8.0,
            Encoding::Base64 => 6.0,
            Encoding::Base32 => 5.0,
            Encoding::Hex => 4.0,
        }
    }
}

/// Streaming accumulator for one direction (72 bytes).
#[derive(Clone, Copy, Debug)]
pub struct ByteStats {
    /// The partial block: its length is `bytes % BLOCK`, as blocks sit at
    /// fixed stream offsets.
    block: [u8; BLOCK],
    collisions: u32,
    /// Equal pairs among the binary (non-printable) bytes of each block, and
    /// the number of such pairs.
    binary_collisions: u32,
    binary_pairs: u32,
    /// Σ over the sampled full blocks ([`SHANNON_SAMPLE`]) of `Σ c·log2 c`,
    /// in fixed point (`FX`).
    clog_sum: u32,
    /// Bytes seen; full blocks folded so far are `bytes / BLOCK`.
    bytes: u32,
    /// Bytes outside the printable set. Counted rather than the printable
    /// ones so that a 16-bit count saturating at a 64 KiB budget cannot make
    /// an all-printable stream look binary.
    binary: u16,
    run: u16,
    max_run: u16,
    b64: u16,
    b32: u16,
    hex: u16,
    linebreaks: u16,
    popcount: u32,
    /// Full blocks that look uniform on their own.
    uniform_blocks: u16,
}

impl Default for ByteStats {
    fn default() -> Self {
        ByteStats::new()
    }
}

/// The statistics of a byte sequence, as reported.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Summary {
    pub bytes: u32,
    pub collisions: u32,
    pub collisions_expected: f32,
    /// Collision-entropy estimate, bits per byte, in `[0, 8]`.
    pub entropy: f32,
    /// Mean plug-in Shannon entropy (bits per byte) of the sampled blocks:
    /// every [`SHANNON_SAMPLE`]-th full block from the stream's start, and
    /// the partial block; and what uniformly random blocks of the same
    /// lengths give on average. 0 with no bytes.
    pub block_shannon: f32,
    pub block_shannon_random: f32,
    pub printable_fraction: f32,
    pub longest_printable_run: u32,
    pub mean_popcount: f32,
    pub encoding: Encoding,
    /// Collision count consistent with entropy ≥ threshold (scaled to the
    /// encoding's alphabet).
    pub high_entropy: bool,
    /// Full 32-byte blocks, and those that look uniform on their own.
    pub uniform_blocks: u32,
    pub full_blocks: u32,
    /// Bytes outside the printable set, and the collision entropy of just
    /// those (bits per byte, at most log2 158 ≈ 7.3; 0 with no pairs).
    pub binary_bytes: u32,
    pub binary_entropy: f32,
    /// The binary bytes alone pass the collision test (scaled to their
    /// alphabet) and number at least [`BINARY_MIN_BYTES`]: ciphertext under
    /// printable cover (see the module docs).
    pub binary_high_entropy: bool,
}

impl ByteStats {
    /// An empty accumulator.
    pub const fn new() -> Self {
        ByteStats {
            block: [0; BLOCK],
            collisions: 0,
            binary_collisions: 0,
            binary_pairs: 0,
            clog_sum: 0,
            bytes: 0,
            binary: 0,
            run: 0,
            max_run: 0,
            b64: 0,
            b32: 0,
            hex: 0,
            linebreaks: 0,
            popcount: 0,
            uniform_blocks: 0,
        }
    }

    /// Bytes accumulated so far.
    #[inline]
    pub fn len(&self) -> u32 {
        self.bytes
    }

    /// Whether nothing was accumulated.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// The bytes of the partial block not yet folded in. While fewer than
    /// `BLOCK` bytes were seen, these are the stream's first bytes.
    #[inline]
    pub fn pending(&self) -> &[u8] {
        &self.block[..self.block_len()]
    }

    #[inline]
    fn block_len(&self) -> usize {
        self.bytes as usize % BLOCK
    }

    /// Adds `data`, with `kernel` counting the whole blocks (every kernel
    /// gives the same figures). Callers bound the total (the inspection
    /// budget keeps it far below the counters' range; counters saturate,
    /// and bytes past 4 GiB are ignored).
    pub fn update(&mut self, kernel: Kernel, data: &[u8]) {
        let room = (BYTES_LIMIT - self.bytes.min(BYTES_LIMIT)) as usize;
        let mut data = &data[..data.len().min(room)];
        let have = self.block_len();
        // Complete a pending partial block first.
        if have > 0 {
            let take = (BLOCK - have).min(data.len());
            self.classify(&data[..take]);
            self.block[have..have + take].copy_from_slice(&data[..take]);
            data = &data[take..];
            if have + take < BLOCK {
                return;
            }
            let block = self.block;
            let index = self.bytes / BLOCK as u32 - 1;
            self.fold_block(&block, index);
        }
        let (whole, rest) = data.split_at(data.len() / BLOCK * BLOCK);
        for run in whole.chunks(KERNEL_RUN) {
            let first = self.bytes / BLOCK as u32;
            let mut c = self.carried();
            kernel.blocks(run, &mut c);
            self.absorb(&c);
            self.bytes = self.bytes.saturating_add(run.len() as u32);
            // The Shannon sample: the blocks at indexes that are multiples
            // of SHANNON_SAMPLE, on the histogram.
            let skip = (SHANNON_SAMPLE - first % SHANNON_SAMPLE) % SHANNON_SAMPLE;
            for block in run
                .chunks_exact(BLOCK)
                .skip(skip as usize)
                .step_by(SHANNON_SAMPLE as usize)
            {
                self.clog_sum = self.clog_sum.saturating_add(block_clog(block));
            }
        }
        self.classify(rest);
        self.block[..rest.len()].copy_from_slice(rest);
    }

    /// Per-byte class counters of bytes that do not make a whole block:
    /// order-independent except for the printable run, which carries over
    /// chunk boundaries in `run`.
    fn classify(&mut self, data: &[u8]) {
        let mut c = self.carried();
        encchan_simd::classify(data, &mut c);
        self.absorb(&c);
        self.bytes = self.bytes.saturating_add(data.len() as u32);
    }

    /// Empty counts that carry the printable run on.
    fn carried(&self) -> Counts {
        Counts {
            run: self.run as u32,
            max_run: self.max_run as u32,
            ..Counts::default()
        }
    }

    /// Adds what a kernel counted, saturating.
    fn absorb(&mut self, c: &Counts) {
        let sat = |a: u16, b: u32| (a as u32).saturating_add(b).min(u16::MAX as u32) as u16;
        self.binary = sat(self.binary, c.binary);
        self.b64 = sat(self.b64, c.base64);
        self.b32 = sat(self.b32, c.base32);
        self.hex = sat(self.hex, c.hex);
        self.linebreaks = sat(self.linebreaks, c.linebreaks);
        self.popcount = self.popcount.saturating_add(c.popcount);
        self.run = c.run.min(u16::MAX as u32) as u16;
        self.max_run = c.max_run.min(u16::MAX as u32) as u16;
        self.collisions = self.collisions.saturating_add(c.collisions);
        self.binary_collisions = self.binary_collisions.saturating_add(c.binary_collisions);
        self.binary_pairs = self.binary_pairs.saturating_add(c.binary_pairs);
        self.uniform_blocks = sat(self.uniform_blocks, c.uniform_blocks);
    }

    /// A block completed from pending bytes (already classified), the
    /// `index`-th of the stream.
    fn fold_block(&mut self, block: &[u8; BLOCK], index: u32) {
        let b = block_counts(block);
        let mut c = self.carried();
        c.collisions = b.collisions;
        c.binary_collisions = b.binary_collisions;
        c.binary_pairs = b.binary_pairs();
        c.uniform_blocks = (b.collisions <= encchan_simd::UNIFORM_MAX_COLLISIONS) as u32;
        self.absorb(&c);
        if index % SHANNON_SAMPLE == 0 {
            self.clog_sum = self.clog_sum.saturating_add(b.clog);
        }
    }

    /// Summarizes everything accumulated, including the partial block,
    /// without changing the accumulator.
    pub fn summary(&self, entropy_threshold: f32) -> Summary {
        let n = self.bytes;
        if n == 0 {
            return Summary::default();
        }
        let full_blocks = n / BLOCK as u32;
        let mut collisions = self.collisions;
        let mut binary_collisions = self.binary_collisions;
        let mut binary_pairs = self.binary_pairs;
        // Σ over the sampled full blocks of H = log2(32) − Σc·log2c / 32.
        let sampled = full_blocks.div_ceil(SHANNON_SAMPLE);
        let mut shannon_sum =
            sampled as f32 * LOG2_BLOCK - self.clog_sum as f32 / (FX * BLOCK as f32);
        let mut shannon_random = sampled as f32 * BLOCK_EXPECTED_SHANNON[BLOCK];
        let mut pairs = full_blocks as u64 * (BLOCK * (BLOCK - 1) / 2) as u64;
        let mut blocks = sampled;
        let partial = self.block_len();
        if partial > 0 {
            let c = block_counts(&self.block[..partial]);
            collisions = collisions.saturating_add(c.collisions);
            binary_collisions = binary_collisions.saturating_add(c.binary_collisions);
            binary_pairs = binary_pairs.saturating_add(c.binary_pairs());
            let h = libm::log2f(partial as f32) - c.clog as f32 / (FX * partial as f32);
            shannon_sum += h.max(0.0);
            shannon_random += BLOCK_EXPECTED_SHANNON[partial];
            pairs += (partial * (partial - 1) / 2) as u64;
            blocks += 1;
        }
        let nf = n as f32;
        let alpha_base = (n - (self.linebreaks as u32).min(n)).max(1) as f32;
        let encoding = if self.binary != 0 {
            Encoding::Raw
        } else if self.hex as f32 >= 0.97 * alpha_base {
            Encoding::Hex
        } else if self.b32 as f32 >= 0.97 * alpha_base {
            Encoding::Base32
        } else if self.b64 as f32 >= 0.97 * alpha_base {
            Encoding::Base64
        } else {
            Encoding::Raw
        };
        let pairs_f = pairs as f32;
        let entropy = if pairs == 0 {
            0.0
        } else if collisions == 0 {
            8.0
        } else {
            // `+ 0.0` turns the -0.0 of log2(1) into 0.0.
            (-libm::log2f(collisions as f32 / pairs_f)).clamp(0.0, 8.0) + 0.0
        };
        let t = entropy_threshold * encoding.bits() / 8.0;
        let uniform = self.uniform_blocks as u32;
        let high_entropy = pairs > 0 && passes(collisions, pairs_f, t);
        let binary_bytes = (self.binary as u32).min(n);
        let binary_entropy = if binary_pairs == 0 {
            0.0
        } else if binary_collisions == 0 {
            libm::log2f(BINARY_ALPHABET)
        } else {
            (-libm::log2f(binary_collisions as f32 / binary_pairs as f32))
                .clamp(0.0, libm::log2f(BINARY_ALPHABET))
                + 0.0
        };
        // The point estimate must reach the scaled threshold: this test
        // only ever adds alerts, so it gets no small-sample leniency.
        let binary_high_entropy = binary_bytes >= BINARY_MIN_BYTES
            && binary_pairs > 0
            && binary_entropy >= entropy_threshold * libm::log2f(BINARY_ALPHABET) / 8.0;
        Summary {
            bytes: n,
            collisions,
            collisions_expected: pairs_f / 256.0,
            entropy,
            block_shannon: if blocks > 0 {
                shannon_sum / blocks as f32
            } else {
                0.0
            },
            block_shannon_random: if blocks > 0 {
                shannon_random / blocks as f32
            } else {
                0.0
            },
            printable_fraction: (n - binary_bytes) as f32 / nf,
            longest_printable_run: self.max_run as u32,
            mean_popcount: self.popcount as f32 / nf,
            encoding,
            high_entropy,
            uniform_blocks: uniform,
            full_blocks,
            binary_bytes,
            binary_entropy,
            binary_high_entropy,
        }
    }
}

/// The one-sided collision test: `collisions` among `pairs` equal pairs are
/// consistent with a collision entropy of at least `t` bits — within
/// `μ + 2.33·√μ` of the `μ = pairs · 2^-t` that entropy `t` gives.
fn passes(collisions: u32, pairs: f32, t: f32) -> bool {
    let mu = pairs * libm::exp2f(-t);
    (collisions as f32) <= mu + 2.33 * libm::sqrtf(mu)
}

/// What one block contributes.
struct BlockCounts {
    collisions: u32,
    /// `Σ c·log2 c`, fixed point.
    clog: u32,
    binary_collisions: u32,
    binary_bytes: u32,
}

impl BlockCounts {
    fn binary_pairs(&self) -> u32 {
        self.binary_bytes * self.binary_bytes.saturating_sub(1) / 2
    }
}

/// Collisions, `Σ c·log2 c` (fixed point) and the binary bytes' collisions
/// of one block (≤ 32 bytes), on a stack histogram. All grow with each byte:
/// a byte whose value was seen `c` times before adds `c` collisions (to the
/// binary count too when it is binary) and `(c+1)·log2(c+1) − c·log2 c`.
#[inline]
fn block_counts(block: &[u8]) -> BlockCounts {
    debug_assert!(block.len() <= BLOCK);
    let mut hist = [0u8; 256];
    let (mut coll, mut clog, mut bin_coll, mut bin_n) = (0u32, 0u32, 0u32, 0u32);
    for &b in block {
        let c = &mut hist[b as usize];
        // All ones for a binary byte, zero for a printable one.
        let binary = ((CLASS[b as usize] & PRINTABLE) as u32).wrapping_sub(1);
        coll += *c as u32;
        bin_coll += *c as u32 & binary;
        bin_n += binary & 1;
        clog += CLOG2C_DELTA_FX[*c as usize];
        *c += 1;
    }
    debug_assert_eq!(
        clog,
        hist.iter().map(|&c| CLOG2C_FX[c as usize]).sum::<u32>()
    );
    BlockCounts {
        collisions: coll,
        clog,
        binary_collisions: bin_coll,
        binary_bytes: bin_n,
    }
}

/// `Σ c·log2 c` (fixed point) of one block's histogram: the sampled
/// blocks' part of [`block_counts`], alone.
#[inline]
fn block_clog(block: &[u8]) -> u32 {
    let mut hist = [0u8; 256];
    let mut clog = 0;
    for &b in block {
        let c = &mut hist[b as usize];
        clog += CLOG2C_DELTA_FX[*c as usize];
        *c += 1;
    }
    clog
}

/// Statistics of one buffer, as the flow engine computes them for a stream
/// that carried exactly these bytes. Used by the scripting helpers so that a
/// script's numbers equal the engine's.
pub fn summarize(data: &[u8], entropy_threshold: f32) -> Summary {
    summarize_with(Kernel::detect(), data, entropy_threshold)
}

/// [`summarize`] with the given kernel (the figures are the same with
/// every kernel).
pub fn summarize_with(kernel: Kernel, data: &[u8], entropy_threshold: f32) -> Summary {
    let mut s = ByteStats::new();
    // The counters are 16/32-bit; summarize at most what an inspection
    // budget can hold so that the figures stay exact.
    s.update(kernel, &data[..data.len().min(65536)]);
    s.summary(entropy_threshold)
}

/// Plug-in Shannon entropy of `data` in bits per byte over its whole length
/// (what Zeek's `find_entropy` and `ent` report): biased low on short inputs.
pub fn shannon(data: &[u8]) -> f32 {
    if data.is_empty() {
        return 0.0;
    }
    let mut hist = [0u32; 256];
    for &b in data {
        hist[b as usize] += 1;
    }
    let n = data.len() as f64;
    let mut h = 0.0f64;
    for &c in hist.iter() {
        if c > 0 {
            let p = c as f64 / n;
            h -= p * libm::log2(p);
        }
    }
    h as f32
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    /// xorshift64*: deterministic "random" bytes for tests.
    pub(crate) fn random_bytes(seed: u64, n: usize) -> [u8; 8192] {
        let mut out = [0u8; 8192];
        let mut x = seed | 1;
        for b in out.iter_mut().take(n) {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            *b = (x.wrapping_mul(0x2545F4914F6CDD1D) >> 56) as u8;
        }
        out
    }

    const TEXT: &[u8] = b"It was the best of times, it was the worst of times, it was the age of \
wisdom, it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity, \
it was the season of Light, it was the season of Darkness, it was the spring of hope, it was the \
winter of despair, we had everything before us, we had nothing before us.";

    #[test]
    fn random_is_high_entropy_at_every_length() {
        for n in [32usize, 64, 100, 512, 1460, 4096] {
            let mut misses = 0;
            for seed in 0..200u64 {
                let buf = random_bytes(seed * 7919 + 1, n);
                let s = summarize(&buf[..n], 7.0);
                if !s.high_entropy {
                    misses += 1;
                }
            }
            // One-sided 1 % test: allow some slack on 200 trials.
            assert!(misses <= 8, "n={n}: {misses}/200 random buffers missed");
        }
    }

    #[test]
    fn collision_entropy_is_unbiased_on_short_random_data() {
        // Plug-in Shannon of 64 random bytes is ~5.8; the collision estimate
        // averages near 8 regardless of length.
        let mut total_coll = 0u64;
        let mut total_pairs = 0u64;
        let mut shannon_sum = 0.0;
        let mut block_sum = 0.0;
        for seed in 0..500u64 {
            let buf = random_bytes(seed + 11, 64);
            let s = summarize(&buf[..64], 7.0);
            total_coll += s.collisions as u64;
            total_pairs += 2 * 496;
            shannon_sum += shannon(&buf[..64]);
            block_sum += shannon(&buf[..32]);
        }
        let h2 = -libm::log2(total_coll as f64 / total_pairs as f64);
        assert!((h2 - 8.0).abs() < 0.1, "pooled collision entropy {h2}");
        let mean_shannon = shannon_sum / 500.0;
        // E[H_64] = 5.766 (binomial cell counts): the "≈ 5.8" of the docs.
        assert!(
            (mean_shannon - 5.766).abs() < 0.03,
            "mean plug-in Shannon {mean_shannon}"
        );
        let mean_block = block_sum / 500.0;
        assert!(
            (BLOCK_EXPECTED_SHANNON[32] - mean_block).abs() < 0.05,
            "{mean_block}"
        );
    }

    #[test]
    fn text_is_not_high_entropy() {
        for n in [32usize, 64, 200, TEXT.len()] {
            let s = summarize(&TEXT[..n], 7.0);
            assert!(!s.high_entropy, "n={n}: {s:?}");
            assert_eq!(s.encoding, Encoding::Raw);
            assert!(s.printable_fraction > 0.99);
        }
    }

    #[test]
    fn chunking_does_not_change_anything() {
        let buf = random_bytes(42, 3000);
        let mut mixed = [0u8; 3300];
        mixed[..300].copy_from_slice(&TEXT[..300]);
        mixed[300..].copy_from_slice(&buf[..3000]);
        let whole = summarize(&mixed, 7.0);
        for step in [1usize, 3, 63, 64, 65, 1000] {
            let mut s = ByteStats::new();
            for chunk in mixed.chunks(step) {
                s.update(Kernel::detect(), chunk);
            }
            assert_eq!(s.summary(7.0), whole, "chunk size {step}");
        }
    }

    /// Bytes of many kinds: random, text, zeros, one repeated value,
    /// base64, and all 256 values.
    fn mixed_kinds() -> [u8; 2048] {
        let mut buf = [0u8; 2048];
        let r = random_bytes(9, 512);
        buf[..512].copy_from_slice(&r[..512]);
        for (i, b) in buf[512..896].iter_mut().enumerate() {
            *b = TEXT[i % TEXT.len()];
        }
        // 896..1024 stays zero.
        buf[1024..1152].fill(0xa5);
        let mut b64 = [0u8; 1024];
        let n = encode_base64(&r[..384], &mut b64);
        buf[1152..1152 + n].copy_from_slice(&b64[..n]);
        for (i, b) in buf[1664..1920].iter_mut().enumerate() {
            *b = i as u8;
        }
        buf[1920..].copy_from_slice(&r[..128]);
        buf
    }

    #[test]
    fn every_kernel_gives_the_scalar_summary_at_every_alignment_and_split() {
        let buf = mixed_kinds();
        for kernel in Kernel::available() {
            for start in 0..64 {
                for len in [0, 1, 31, 32, 33, 63, 64, 65, 100, 1460, 2048 - start] {
                    let data = &buf[start..start + len];
                    let scalar = summarize_with(Kernel::scalar(), data, 7.5);
                    assert_eq!(summarize_with(kernel, data, 7.5), scalar);
                    // One split at every point of the first 100 bytes, and a
                    // second 3·start bytes further: every partial-block
                    // length before and after a kernel run.
                    for split in 0..len.min(100) {
                        let second = (split + 3 * start).min(len);
                        let mut s = ByteStats::new();
                        s.update(kernel, &data[..split]);
                        s.update(kernel, &data[split..second]);
                        s.update(kernel, &data[second..]);
                        assert_eq!(
                            s.summary(7.5),
                            scalar,
                            "{} start {start} len {len} split {split}/{second}",
                            kernel.name()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn block_shannon_averages_every_eighth_block_and_the_partial_one() {
        let buf = mixed_kinds();
        for len in [0usize, 20, 32, 40, 255, 256, 257, 300, 1460, 2048] {
            let data = &buf[..len];
            let mut sampled: Vec<&[u8]> = data.chunks_exact(BLOCK).step_by(8).collect();
            if len % BLOCK > 0 {
                sampled.push(&data[len / BLOCK * BLOCK..]);
            }
            let n = sampled.len().max(1) as f32;
            let mean: f32 = sampled.iter().map(|b| shannon(b)).sum::<f32>() / n;
            let random: f32 = sampled
                .iter()
                .map(|b| BLOCK_EXPECTED_SHANNON[b.len()])
                .sum::<f32>()
                / n;
            let s = summarize(data, 7.5);
            // The c·log2 c tables are fixed point: 1/1024 bit per entry.
            assert!(
                (s.block_shannon - mean).abs() < 0.005,
                "len {len}: {s:?} vs {mean}"
            );
            assert!((s.block_shannon_random - random).abs() < 1e-5, "len {len}");
        }
    }

    fn encode_hex(src: &[u8], out: &mut [u8]) -> usize {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        for (i, b) in src.iter().enumerate() {
            out[2 * i] = DIGITS[(b >> 4) as usize];
            out[2 * i + 1] = DIGITS[(b & 15) as usize];
        }
        src.len() * 2
    }

    fn encode_base64(src: &[u8], out: &mut [u8]) -> usize {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut n = 0;
        for c in src.chunks_exact(3) {
            let v = (c[0] as u32) << 16 | (c[1] as u32) << 8 | c[2] as u32;
            for k in 0..4 {
                out[n] = A[((v >> (18 - 6 * k)) & 63) as usize];
                n += 1;
            }
        }
        n
    }

    #[test]
    fn encoded_ciphertext_is_high_entropy_for_its_alphabet() {
        let raw = random_bytes(5, 1500);
        let mut out = [0u8; 4096];
        let n = encode_hex(&raw[..1500], &mut out);
        let s = summarize(&out[..n], 7.0);
        assert_eq!(s.encoding, Encoding::Hex);
        assert!(s.high_entropy, "{s:?}");
        assert!(s.entropy < 4.5);

        let n = encode_base64(&raw[..1500], &mut out);
        let s = summarize(&out[..n], 7.0);
        assert_eq!(s.encoding, Encoding::Base64);
        assert!(s.high_entropy, "{s:?}");

        // Text made only of base64 letters is not maximal for the alphabet.
        let mut letters = [0u8; 300];
        let mut k = 0;
        for &b in TEXT.iter().filter(|b| b.is_ascii_alphabetic()).take(300) {
            letters[k] = b;
            k += 1;
        }
        let s = summarize(&letters[..k], 7.0);
        assert_eq!(s.encoding, Encoding::Base64);
        assert!(!s.high_entropy, "{s:?}");
    }

    #[test]
    fn uniform_blocks_are_counted_behind_padding() {
        let mut buf = [0u8; 4096];
        let n = 600;
        for (i, b) in buf[..n].iter_mut().enumerate() {
            *b = TEXT[i % TEXT.len()];
        }
        let r = random_bytes(77, 4096 - n);
        buf[n..].copy_from_slice(&r[..4096 - n]);
        let s = summarize(&buf, 7.5);
        // The pooled estimate is diluted by the padding (a known evasion:
        // see the module docs); the uniform blocks show the ciphertext.
        assert!(s.entropy < 7.5, "{s:?}");
        assert!(s.uniform_blocks > 90 && s.full_blocks == 128, "{s:?}");
        // Text alone never has uniform-looking blocks.
        assert_eq!(summarize(TEXT, 7.5).uniform_blocks, 0);
        // The binary bytes are all ciphertext's: they pass on their own.
        assert!(s.binary_high_entropy, "{s:?}");
        assert!((s.binary_entropy - 7.3).abs() < 0.3, "{s:?}");
        let t = summarize(TEXT, 7.5);
        assert_eq!((t.binary_bytes, t.binary_high_entropy), (0, false));
    }

    #[test]
    fn binary_bytes_of_random_data_pass_and_of_binary_structures_fail() {
        // The point estimate has no small-sample leniency: 400 bytes of
        // ciphertext (~250 binary bytes) miss about 8 % of the time, a
        // kilobyte nearly never.
        for (n, most) in [(400usize, 30), (1000, 6), (4096, 2)] {
            let misses = (0..200u64)
                .filter(|seed| {
                    !summarize(&random_bytes(seed * 31 + 7, n)[..n], 7.5).binary_high_entropy
                })
                .count();
            assert!(misses <= most, "n={n}: {misses}/200 random buffers missed");
        }
        // Zero padding and small integers among random bytes do not.
        let mut buf = random_bytes(3, 4096);
        for (i, b) in buf.iter_mut().enumerate().take(4096) {
            if i % 3 == 0 {
                *b = (i % 4) as u8;
            }
        }
        let s = summarize(&buf[..4096], 7.5);
        assert!(!s.binary_high_entropy, "{s:?}");
    }

    #[test]
    fn plugin_shannon_matches_known_values() {
        assert_eq!(shannon(b""), 0.0);
        assert_eq!(shannon(b"aaaa"), 0.0);
        assert!((shannon(b"ab") - 1.0).abs() < 1e-6);
        let all: [u8; 256] = core::array::from_fn(|i| i as u8);
        assert!((shannon(&all) - 8.0).abs() < 1e-5);
    }

    #[test]
    fn popcount_and_runs() {
        let s = summarize(&[0xff; 40], 7.0);
        assert_eq!(s.mean_popcount, 8.0);
        assert_eq!(s.longest_printable_run, 0);
        let mut b = [0u8; 50];
        b[..20].copy_from_slice(&TEXT[..20]);
        b[30..].copy_from_slice(&TEXT[..20]);
        let s = summarize(&b, 7.0);
        assert_eq!(s.longest_printable_run, 20);
    }
}
