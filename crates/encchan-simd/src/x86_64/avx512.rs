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
use crate::{Counts, BLOCK};

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
    let mut popcount = _mm512_setzero_si512();
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
        counts.base64 += in_class(BASE64).count_ones();
        counts.base32 += in_class(BASE32).count_ones();
        counts.hex += in_class(HEX).count_ones();
        counts.linebreaks += in_class(LINEBREAK).count_ones();
        counts.binary += (!printable).count_ones();

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
        let ((a, a_binary), (b, b_binary)) = block_sums(per_byte, !printable);
        counts.add_block(a, a_binary, (!printable as u32).count_ones());
        counts.add_block(b, b_binary, (!(printable >> 32) as u32).count_ones());
        counts.add_printable_mask(printable, 64);
    }
    counts.popcount += _mm512_reduce_add_epi64(popcount) as u32;
    if !pairs.remainder().is_empty() {
        super::avx2::blocks(pairs.remainder(), counts);
    }
}

/// For each of the two blocks: the sum of `per_byte` over the block, and
/// over its bytes in `binary`.
#[target_feature(enable = "avx512f,avx512bw")]
fn block_sums(per_byte: __m512i, binary: u64) -> ((u32, u32), (u32, u32)) {
    let zero = _mm512_setzero_si512();
    let all = _mm512_sad_epu8(per_byte, zero);
    let bin = _mm512_sad_epu8(_mm512_maskz_mov_epi8(binary, per_byte), zero);
    // All pairs in the low 32 bits of each 64-bit lane, binary pairs in the
    // high 32; then add the four lanes of each block.
    let both = _mm512_or_si512(all, _mm512_slli_epi64::<32>(bin));
    let pairs = _mm512_add_epi64(both, _mm512_shuffle_epi32::<0b01_00_11_10>(both));
    let quads = _mm512_add_epi64(pairs, _mm512_shuffle_i64x2::<0b10_11_00_01>(pairs, pairs));
    let a = _mm_cvtsi128_si64(_mm512_castsi512_si128(quads)) as u64;
    let b = _mm_cvtsi128_si64(_mm512_extracti32x4_epi32::<2>(quads)) as u64;
    ((a as u32, (a >> 32) as u32), (b as u32, (b >> 32) as u32))
}
