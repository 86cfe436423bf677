//! # encchan-simd
//!
//! The per-block byte statistics of `encchan-core` (see its `stats`
//! module) for runs of whole 32-byte blocks, at memory speed: the equal-pair
//! counts of each block and the per-byte class counters. One module per
//! instruction set, as in `memchr`: [`scalar`] is the portable reference,
//! `x86_64::avx2` and `x86_64::avx512` (AVX-512BW + VBMI) the vector
//! kernels. Every kernel gives bit-identical [`Counts`].
//!
//! A [`Kernel`] is picked once ([`Kernel::detect`]) and kept in the
//! engine's configuration; a value naming a vector kernel exists only on a
//! CPU that has its instructions, which is what makes calling it sound.
//!
//! This is the engine's only crate with `unsafe` code: the calls into
//! `#[target_feature]` functions and the unaligned vector loads.
#![no_std]
#![warn(missing_debug_implementations, missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod class;
pub mod scalar;
// Built only by compilers that have the AVX-512 intrinsics (build.rs), so
// the workspace's lower MSRV does not apply to it.
#[cfg(encchan_simd_x86)]
#[allow(clippy::incompatible_msrv)]
mod x86_64;

/// Block length: the statistics cut each stream into blocks of this many
/// bytes at fixed stream offsets.
pub const BLOCK: usize = 32;

/// Most equal pairs a block may hold and still look uniform: random data
/// exceeds it 0.5 % of the time, text never stays under it.
pub const UNIFORM_MAX_COLLISIONS: u32 = 6;

/// Most bytes one call may count: every counter stays exact below it (at
/// most 8 set bits and 15.5 equal pairs per byte).
pub const MAX_CALL_BYTES: usize = 1 << 26;

/// What a run of bytes adds to a direction's statistics. The per-byte
/// counters (classes, popcount, printable runs) take any bytes; the
/// per-block ones only whole blocks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Bytes outside the printable set.
    pub binary: u32,
    /// Bytes in the base64 alphabet.
    pub base64: u32,
    /// Bytes in the base32 alphabet.
    pub base32: u32,
    /// Bytes in the hex alphabet.
    pub hex: u32,
    /// CR and LF bytes.
    pub linebreaks: u32,
    /// Set bits.
    pub popcount: u32,
    /// Printable bytes at the end of what was counted, carried from call to
    /// call.
    pub run: u32,
    /// The longest run of printable bytes seen (never less than `run`).
    pub max_run: u32,
    /// Σ over blocks of the equal byte pairs in the block.
    pub collisions: u32,
    /// Σ over blocks of the equal pairs of binary bytes.
    pub binary_collisions: u32,
    /// Σ over blocks of the pairs of binary bytes (`b(b-1)/2` for `b`
    /// binary bytes in the block).
    pub binary_pairs: u32,
    /// Blocks with at most [`UNIFORM_MAX_COLLISIONS`] equal pairs.
    pub uniform_blocks: u32,
}

impl Counts {
    /// What one block with `collisions` equal pairs, of which
    /// `binary_collisions` among its `binary` binary bytes, adds.
    #[inline]
    pub(crate) fn add_block(&mut self, collisions: u32, binary_collisions: u32, binary: u32) {
        self.collisions += collisions;
        self.binary_collisions += binary_collisions;
        self.binary_pairs += binary * binary.saturating_sub(1) / 2;
        self.uniform_blocks += (collisions <= UNIFORM_MAX_COLLISIONS) as u32;
    }

    /// Carries the printable run over `width` (≤ 64) bytes whose printable
    /// bytes are the set bits of `mask` (bit `i` for the `i`-th byte).
    #[inline]
    pub(crate) fn add_printable_mask(&mut self, mask: u64, width: u32) {
        debug_assert!(width > 0 && width <= 64);
        let all = u64::MAX >> (64 - width);
        if mask == all {
            self.run += width;
            self.max_run = self.max_run.max(self.run);
            return;
        }
        // The run carried in continues into the first bytes; the longest
        // run inside is found without data-dependent branches (a loop of
        // `m &= m >> 1` mispredicts its exit on nearly every block).
        let head = self.run + mask.trailing_ones();
        self.max_run = self.max_run.max(head).max(longest_run(mask));
        self.run = (mask << (64 - width)).leading_ones();
    }
}

/// The longest run of set bits in `mask` (not all ones).
///
/// `starts[k]` marks the bits that begin a run of at least `2^k` ones;
/// then, from the longest step down, a run of `len + step` ones begins
/// where one of `len` does and one of `step` begins `len` bits later.
#[inline]
fn longest_run(mask: u64) -> u32 {
    debug_assert!(mask != u64::MAX);
    let mut starts = [mask; 6];
    for k in 1..6 {
        starts[k] = starts[k - 1] & (starts[k - 1] >> (1 << (k - 1)));
    }
    let (mut found, mut len) = (u64::MAX, 0u32);
    for k in (0..6).rev() {
        let longer = found & (starts[k] >> len);
        let grows = longer != 0;
        found = if grows { longer } else { found };
        len += (grows as u32) << k;
    }
    len
}

/// Counts the per-byte statistics of `data` (any length): classes,
/// popcount, printable runs. The scalar code every kernel shares for the
/// bytes of a partial block.
pub fn classify(data: &[u8], counts: &mut Counts) {
    debug_assert!(data.len() <= MAX_CALL_BYTES);
    scalar::classify(data, counts);
}

/// A choice of block kernel: cheap to copy, picked once by the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kernel(Path);

/// Private, so that a vector path can only be named through a constructor
/// that checked the CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    Scalar,
    #[cfg(encchan_simd_x86)]
    Avx2,
    #[cfg(encchan_simd_x86)]
    Avx512,
}

impl Kernel {
    /// The fastest kernel this CPU runs.
    pub fn detect() -> Kernel {
        Kernel::avx512()
            .or_else(Kernel::avx2)
            .unwrap_or_else(Kernel::scalar)
    }

    /// The portable kernel, and the reference the others equal.
    pub const fn scalar() -> Kernel {
        Kernel(Path::Scalar)
    }

    /// The AVX2 kernel, if this CPU (and OS) runs AVX2 and POPCNT.
    pub fn avx2() -> Option<Kernel> {
        #[cfg(encchan_simd_x86)]
        if x86_64::has_avx2() {
            return Some(Kernel(Path::Avx2));
        }
        None
    }

    /// The AVX-512 kernel (BW, VBMI, VPOPCNTDQ, with AVX2 for an odd last
    /// block), if this CPU (and OS) runs them.
    pub fn avx512() -> Option<Kernel> {
        #[cfg(encchan_simd_x86)]
        if x86_64::has_avx512() {
            return Some(Kernel(Path::Avx512));
        }
        None
    }

    /// Every kernel this CPU runs, scalar first: for tests and benchmarks.
    pub fn available() -> impl Iterator<Item = Kernel> {
        [Some(Kernel::scalar()), Kernel::avx2(), Kernel::avx512()]
            .into_iter()
            .flatten()
    }

    /// A short name: `scalar`, `avx2` or `avx512`.
    pub const fn name(self) -> &'static str {
        match self.0 {
            Path::Scalar => "scalar",
            #[cfg(encchan_simd_x86)]
            Path::Avx2 => "avx2",
            #[cfg(encchan_simd_x86)]
            Path::Avx512 => "avx512",
        }
    }

    /// Adds the statistics of `data`, whole blocks (`data.len()` a multiple
    /// of [`BLOCK`], at most [`MAX_CALL_BYTES`]), to `counts`: the per-block
    /// and the per-byte counters.
    ///
    /// # Panics
    ///
    /// If `data` does not end on a block boundary.
    #[inline]
    pub fn blocks(self, data: &[u8], counts: &mut Counts) {
        assert!(data.len() % BLOCK == 0, "whole blocks only");
        debug_assert!(data.len() <= MAX_CALL_BYTES);
        match self.0 {
            Path::Scalar => scalar::blocks(data, counts),
            // SAFETY: `Path::Avx2` is only built by `Kernel::avx2`, after
            // the CPU reported AVX2 and POPCNT (and the OS their state).
            #[cfg(encchan_simd_x86)]
            Path::Avx2 => unsafe { x86_64::avx2::blocks(data, counts) },
            // SAFETY: `Path::Avx512` is only built by `Kernel::avx512`,
            // after the CPU reported every feature the kernel enables.
            #[cfg(encchan_simd_x86)]
            Path::Avx512 => unsafe { x86_64::avx512::blocks(data, counts) },
        }
    }
}

impl Default for Kernel {
    /// [`Kernel::detect`].
    fn default() -> Self {
        Kernel::detect()
    }
}

#[cfg(test)]
mod tests {
    use super::longest_run;

    #[test]
    fn longest_run_of_ones() {
        let by_loop = |mut m: u64| {
            let mut n = 0;
            while m != 0 {
                m &= m >> 1;
                n += 1;
            }
            n
        };
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for shift in 0..64 {
            for m in [1u64 << shift, (u64::MAX >> 1) >> shift, !(1u64 << shift)] {
                assert_eq!(longest_run(m), by_loop(m), "{m:#x}");
            }
            for _ in 0..1000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Denser and sparser masks: long and short runs.
                for m in [x, x | x >> shift, x & x >> shift] {
                    if m != u64::MAX {
                        assert_eq!(longest_run(m), by_loop(m), "{m:#x}");
                    }
                }
            }
        }
        assert_eq!(longest_run(0), 0);
    }
}
