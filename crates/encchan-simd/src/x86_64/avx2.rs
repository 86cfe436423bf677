//! One 32-byte block per 256-bit vector.
//!
//! Equal pairs without a histogram: comparing the block with its byte
//! rotation by `r` finds, for `r` in 1..=15, every pair at circular
//! distance `r` once; rotation 16 finds each pair at distance 16 twice, so
//! only its first half counts. That is all 32·15 + 16 = 496 pairs. The
//! compare results are summed per byte position, so one sum gives the
//! block's pairs and the same sum under the binary-byte mask its binary
//! pairs (equal bytes share a class). Classes come from nibble-table
//! lookups ([`crate::class`]).

use core::arch::x86_64::*;

use crate::class::{
    Nibbles, FIRST, FIRST_BASE64, FIRST_HEX, FIRST_LINEBREAK, FIRST_PRINTABLE, SECOND,
    SECOND_BASE32, SECOND_BASE64,
};
use crate::{Counts, BLOCK};

/// Per-block and per-byte counters of whole blocks.
#[target_feature(enable = "avx2,popcnt")]
pub(crate) fn blocks(data: &[u8], counts: &mut Counts) {
    let tables = Tables::new();
    for block in data.chunks_exact(BLOCK) {
        // SAFETY: `block` is BLOCK = 32 readable bytes, and the unaligned
        // load has no alignment requirement.
        let x = unsafe { _mm256_loadu_si256(block.as_ptr().cast()) };
        let (first, second) = tables.parts(x);
        let binary_bytes = lacks(first, FIRST_PRINTABLE);
        let (collisions, binary_collisions) = equal_pairs(x, binary_bytes);
        let binary = bits(binary_bytes).count_ones();
        counts.add_block(collisions, binary_collisions, binary);
        counts.add_printable_mask(!bits(binary_bytes) as u64, 32);
        counts.binary += binary;
        let base64 = _mm256_or_si256(
            _mm256_and_si256(first, _mm256_set1_epi8(FIRST_BASE64 as i8)),
            _mm256_and_si256(second, _mm256_set1_epi8(SECOND_BASE64 as i8)),
        );
        counts.base64 += 32 - bits(lacks(base64, 0xff)).count_ones();
        counts.base32 += 32 - bits(lacks(second, SECOND_BASE32)).count_ones();
        counts.hex += 32 - bits(lacks(first, FIRST_HEX)).count_ones();
        counts.linebreaks += 32 - bits(lacks(first, FIRST_LINEBREAK)).count_ones();
        counts.popcount += block
            .chunks_exact(8)
            .map(|w| u64::from_le_bytes(w.try_into().unwrap()).count_ones())
            .sum::<u32>();
    }
}

/// The block's equal pairs, and those among the bytes set in `binary`.
#[target_feature(enable = "avx2")]
pub(crate) fn equal_pairs(x: __m256i, binary: __m256i) -> (u32, u32) {
    let swapped = _mm256_permute2x128_si256::<0x01>(x, x);
    // Per byte position: how many of the rotations equal it there.
    let mut per_byte = _mm256_setzero_si256();
    macro_rules! rotation {
        ($($r:literal)*) => {$(
            // Byte i of the rotation is x[(i + r) % 32].
            let rotated = _mm256_alignr_epi8::<$r>(swapped, x);
            per_byte = _mm256_sub_epi8(per_byte, _mm256_cmpeq_epi8(x, rotated));
        )*};
    }
    rotation!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    let first_half = _mm256_setr_epi64x(-1, -1, 0, 0);
    let at_16 = _mm256_and_si256(_mm256_cmpeq_epi8(x, swapped), first_half);
    per_byte = _mm256_sub_epi8(per_byte, at_16);
    // Both sums in one horizontal add: all pairs in the low 32 bits of each
    // 64-bit lane, binary pairs in the high 32.
    let zero = _mm256_setzero_si256();
    let all = _mm256_sad_epu8(per_byte, zero);
    let bin = _mm256_sad_epu8(_mm256_and_si256(per_byte, binary), zero);
    let both = _mm256_or_si256(all, _mm256_slli_epi64::<32>(bin));
    let half = _mm_add_epi64(
        _mm256_castsi256_si128(both),
        _mm256_extracti128_si256::<1>(both),
    );
    let sum = _mm_cvtsi128_si64(_mm_add_epi64(half, _mm_unpackhi_epi64(half, half))) as u64;
    (sum as u32, (sum >> 32) as u32)
}

/// The nibble tables ([`crate::class`]) in registers.
struct Tables {
    first: (__m256i, __m256i),
    second: (__m256i, __m256i),
    low_nibble: __m256i,
}

impl Tables {
    #[target_feature(enable = "avx2")]
    fn new() -> Self {
        Tables {
            first: broadcast_pair(&FIRST),
            second: broadcast_pair(&SECOND),
            low_nibble: _mm256_set1_epi8(0x0f),
        }
    }

    /// The part bits of each byte in both table pairs.
    #[target_feature(enable = "avx2")]
    fn parts(&self, x: __m256i) -> (__m256i, __m256i) {
        let lo = _mm256_and_si256(x, self.low_nibble);
        let hi = _mm256_and_si256(_mm256_srli_epi16::<4>(x), self.low_nibble);
        let first = _mm256_and_si256(
            _mm256_shuffle_epi8(self.first.0, hi),
            _mm256_shuffle_epi8(self.first.1, lo),
        );
        let second = _mm256_and_si256(
            _mm256_shuffle_epi8(self.second.0, hi),
            _mm256_shuffle_epi8(self.second.1, lo),
        );
        (first, second)
    }
}

/// A table pair, each 16-byte table in both 128-bit lanes (`pshufb` looks
/// up within a lane).
#[target_feature(enable = "avx2")]
fn broadcast_pair(t: &Nibbles) -> (__m256i, __m256i) {
    // SAFETY: both tables are 16 readable bytes; unaligned loads.
    let (hi, lo) = unsafe {
        (
            _mm_loadu_si128(t.hi.as_ptr().cast()),
            _mm_loadu_si128(t.lo.as_ptr().cast()),
        )
    };
    (
        _mm256_broadcastsi128_si256(hi),
        _mm256_broadcastsi128_si256(lo),
    )
}

/// 0xff where no bit of `bits` is set in the byte.
#[target_feature(enable = "avx2")]
fn lacks(parts: __m256i, bits: u8) -> __m256i {
    let masked = _mm256_and_si256(parts, _mm256_set1_epi8(bits as i8));
    _mm256_cmpeq_epi8(masked, _mm256_setzero_si256())
}

/// The bit mask of the bytes set to 0xff (bit `i` for byte `i`).
#[target_feature(enable = "avx2")]
fn bits(mask: __m256i) -> u32 {
    _mm256_movemask_epi8(mask) as u32
}
