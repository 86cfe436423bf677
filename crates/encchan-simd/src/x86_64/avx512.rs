//! Two 32-byte blocks per 512-bit vector (AVX-512BW, VBMI, VPOPCNTDQ).
//!
//! The same rotations as the AVX2 kernel ([`super::avx2`]), but `vpermb`
//! rotates each 32-byte half of the vector on its own, so one instruction
//! serves two blocks. Classes come from one 128-entry `vpermi2b` lookup of
//! [`CLASS`] (bytes ≥ 0x80 are binary and in no other class), counted as
//! popcounts of 64-bit compare masks. An odd last block goes to the AVX2
//! kernel.

use core::arch::x86_64::*;

use crate::class::{BASE32, BASE64, CLASS, HEX, LINEBREAK, PRINTABLE};
use crate::{Counts, BLOCK, UNIFORM_MAX_COLLISIONS};

/// `ROTATE[r - 1][i]`: the byte of a block rotated by `r` at position `i`,
/// within the 32-byte half `i` is in.
static ROTATE: [[u8; 64]; 16] = {
    let mut t = [[0u8; 64]; 16];
    let mut r = 1;
    while r <= 16 {
        let mut i = 0;
        while i < 64 {
            t[r - 1][i] = ((i & 32) | ((i + r) & 31)) as u8;
            i += 1;
        }
        r += 1;
    }
    t
};

/// The first 16 bytes of each block: the pairs rotation 16 finds twice
/// counted once.
const FIRST_HALVES: u64 = 0x0000_ffff_0000_ffff;

/// Per-block and per-byte counters of whole blocks.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi,avx512vpopcntdq,avx2,popcnt")]
pub(crate) fn blocks(data: &[u8], counts: &mut Counts) {
    let rotate: [__m512i; 16] = core::array::from_fn(|r| {
        // SAFETY: a row of ROTATE is 64 readable bytes; unaligned load.
        unsafe { _mm512_loadu_si512(ROTATE[r].as_ptr().cast()) }
    });
    // SAFETY: both halves of CLASS's first 128 entries are 64 readable
    // bytes; unaligned loads.
    let (class_low, class_high) = unsafe {
        (
            _mm512_loadu_si512(CLASS[..64].as_ptr().cast()),
            _mm512_loadu_si512(CLASS[64..128].as_ptr().cast()),
        )
    };
    // Loop-carried state is only adds: the pair sums stay in a vector, the
    // rest in locals (updating `counts` per block made one long chain).
    let mut popcount = _mm512_setzero_si512();
    let mut pair_sums = _mm512_setzero_si512();
    let (mut base64, mut base32, mut hex, mut linebreaks) = (0, 0, 0, 0);
    let (mut binary_bytes, mut binary_pairs, mut uniform) = (0, 0, 0);
    let (mut run, mut max_run) = (counts.run, counts.max_run);
    let mut pairs = data.chunks_exact(2 * BLOCK);
    for two in pairs.by_ref() {
        // SAFETY: `two` is 2 * BLOCK = 64 readable bytes; unaligned load.
        let x = unsafe { _mm512_loadu_si512(two.as_ptr().cast()) };
        popcount = _mm512_add_epi64(popcount, _mm512_popcnt_epi64(x));
        // Class bits of each byte; 0 (binary, no alphabet) from 0x80 up.
        let ascii = !_mm512_movepi8_mask(x);
        let class = _mm512_maskz_permutex2var_epi8(ascii, class_low, x, class_high);
        let in_class = |bit: u8| _mm512_test_epi8_mask(class, _mm512_set1_epi8(bit as i8));
        let printable = in_class(PRINTABLE);
        base64 += in_class(BASE64).count_ones();
        base32 += in_class(BASE32).count_ones();
        hex += in_class(HEX).count_ones();
        linebreaks += in_class(LINEBREAK).count_ones();
        let (a, b) = (
            (!printable as u32).count_ones(),
            (!(printable >> 32) as u32).count_ones(),
        );
        binary_bytes += a + b;
        binary_pairs += a * a.saturating_sub(1) / 2 + b * b.saturating_sub(1) / 2;

        let mut per_byte = _mm512_setzero_si512();
        let one = _mm512_set1_epi8(1);
        for (r, index) in rotate.iter().enumerate() {
            let rotated = _mm512_permutexvar_epi8(*index, x);
            let mut equal = _mm512_cmpeq_epi8_mask(x, rotated);
            if r == 15 {
                equal &= FIRST_HALVES;
            }
            per_byte = _mm512_mask_add_epi8(per_byte, equal, per_byte, one);
        }
        let (sums, per_block) = block_sums(per_byte, !printable);
        pair_sums = _mm512_add_epi64(pair_sums, sums);
        uniform += per_block.count_ones();
        let mut c = Counts {
            run,
            max_run,
            ..Counts::default()
        };
        c.add_printable_mask(printable, 64);
        (run, max_run) = (c.run, c.max_run);
    }
    let sums = _mm512_reduce_add_epi64(pair_sums) as u64;
    counts.collisions += sums as u32;
    counts.binary_collisions += (sums >> 32) as u32;
    counts.binary_pairs += binary_pairs;
    counts.uniform_blocks += uniform;
    counts.binary += binary_bytes;
    counts.base64 += base64;
    counts.base32 += base32;
    counts.hex += hex;
    counts.linebreaks += linebreaks;
    (counts.run, counts.max_run) = (run, max_run);
    counts.popcount += _mm512_reduce_add_epi64(popcount) as u32;
    if !pairs.remainder().is_empty() {
        super::avx2::blocks(pairs.remainder(), counts);
    }
}

/// The equal pairs of two blocks, from `per_byte` (for each byte, the
/// rotations equal there): per 64-bit lane, the sum over its 8 bytes in the
/// low 32 bits and over those of them in `binary` in the high 32; and a
/// mask with one bit set per block that looks uniform.
#[target_feature(enable = "avx512f,avx512bw")]
fn block_sums(per_byte: __m512i, binary: u64) -> (__m512i, u8) {
    let zero = _mm512_setzero_si512();
    let all = _mm512_sad_epu8(per_byte, zero);
    let bin = _mm512_sad_epu8(_mm512_maskz_mov_epi8(binary, per_byte), zero);
    let both = _mm512_or_si512(all, _mm512_slli_epi64::<32>(bin));
    // Each block's four lanes of `all` added up, in lanes 0 and 4.
    let pairs = _mm512_add_epi64(all, _mm512_shuffle_epi32::<0b01_00_11_10>(all));
    let quads = _mm512_add_epi64(pairs, _mm512_shuffle_i64x2::<0b10_11_00_01>(pairs, pairs));
    let limit = _mm512_set1_epi64(UNIFORM_MAX_COLLISIONS as i64);
    (
        both,
        _mm512_mask_cmple_epu64_mask(0b0001_0001, quads, limit),
    )
}
