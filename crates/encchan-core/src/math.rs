//! Lookup tables computed at compile time, so that the per-block work is a
//! table read instead of a logarithm.

use crate::stats::BLOCK;

/// Natural logarithm in `const` context, for positive finite `x`.
///
/// `x = m · 2^e` with `m ∈ [1, 2)`, then `ln m = 2·atanh(s)`,
/// `s = (m-1)/(m+1) ∈ [0, 1/3)`, whose series converges fast (40 terms are far
/// beyond f64 precision here).
const fn ln(x: f64) -> f64 {
    let bits = x.to_bits();
    let e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut term = s;
    let mut sum = 0.0;
    let mut k = 0;
    while k < 40 {
        sum += term / (2 * k + 1) as f64;
        term *= s2;
        k += 1;
    }
    2.0 * sum + e as f64 * core::f64::consts::LN_2
}

const fn log2(x: f64) -> f64 {
    ln(x) / core::f64::consts::LN_2
}

/// Fixed-point scale of the `c·log2 c` tables: integer adds on the
/// per-byte path, 1/1024-bit resolution per entry.
pub(crate) const FX: f32 = 1024.0;

/// `c · log2(c) · FX`, rounded, for block counts `c ∈ [0, BLOCK]`.
pub(crate) static CLOG2C_FX: [u32; BLOCK + 1] = {
    let mut t = [0u32; BLOCK + 1];
    let mut c = 2;
    while c <= BLOCK {
        t[c] = (c as f64 * log2(c as f64) * FX as f64 + 0.5) as u32;
        c += 1;
    }
    t
};

/// `CLOG2C_FX[c + 1] − CLOG2C_FX[c]`: what one more byte of a value already
/// seen `c` times adds. 256 entries although a block's counts stay below
/// `BLOCK`: indexed by a `u8` count, the per-byte lookup needs no bounds
/// check (the entries past `BLOCK` are never read).
pub(crate) static CLOG2C_DELTA_FX: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut c = 0;
    while c < BLOCK {
        t[c] = CLOG2C_FX[c + 1] - CLOG2C_FX[c];
        c += 1;
    }
    t
};

/// `E[H_n]`: mean plug-in Shannon entropy (bits/byte) of `n` uniformly random
/// bytes, `n ∈ [0, 64]`.
///
/// Each byte value's count is Binomial(n, 1/256), so
/// `E[H_n] = log2 n − (256/n) · Σ_k P(k) · k·log2 k`.
pub(crate) static BLOCK_EXPECTED_SHANNON: [f32; BLOCK + 1] = {
    let mut t = [0f32; BLOCK + 1];
    let mut n = 1;
    while n <= BLOCK {
        let p_miss = 255.0 / 256.0;
        let mut p = 1.0f64; // P(k = 0) = (255/256)^n
        let mut i = 0;
        while i < n {
            p *= p_miss;
            i += 1;
        }
        let mut acc = 0.0f64;
        let mut k = 1;
        while k <= n {
            // P(k) = P(k-1) · (n-k+1)/k · (1/255)
            p = p * (n - k + 1) as f64 / k as f64 / 255.0;
            if k >= 2 {
                acc += p * k as f64 * log2(k as f64);
            }
            k += 1;
        }
        t[n] = (log2(n as f64) - 256.0 * acc / n as f64) as f32;
        n += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn const_log_matches_libm() {
        for x in [1.0, 1.5, 2.0, 3.0, 10.0, 63.0, 64.0, 1e6] {
            assert!((log2(x) - libm::log2(x)).abs() < 1e-12, "{x}");
        }
    }

    #[test]
    fn expected_shannon_of_random_blocks() {
        assert_eq!(BLOCK_EXPECTED_SHANNON[1], 0.0);
        // Two bytes differ with probability 255/256: E[H_2] = 255/256 bits.
        assert!((BLOCK_EXPECTED_SHANNON[2] - 255.0 / 256.0).abs() < 1e-6);
        // 32 random bytes: about 4.88 bits/byte (checked by simulation in
        // stats::tests), far below the 5 bits a 32-symbol sample could hold.
        assert!(
            (BLOCK_EXPECTED_SHANNON[32] - 4.882).abs() < 0.01,
            "{}",
            BLOCK_EXPECTED_SHANNON[32]
        );
    }
}
