//! The byte classes every kernel counts, defined once: printable (printable
//! ASCII, tab, CR, LF), the base64, base32 and hex alphabets, and line
//! breaks. The vector kernels derive their lookup tables from here, and
//! tests check them against [`CLASS`] on all 256 byte values.

/// Printable ASCII, tab, CR or LF; every other byte is *binary*.
pub const PRINTABLE: u8 = 1;
/// `A-Z a-z 0-9 + / = - _`.
pub const BASE64: u8 = 2;
/// `A-Z 2-7 =`.
pub const BASE32: u8 = 4;
/// `0-9 a-f A-F`.
pub const HEX: u8 = 8;
/// CR or LF.
pub const LINEBREAK: u8 = 16;

/// Class bits per byte value.
pub static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        let mut k = 0;
        if (c >= 0x20 && c < 0x7f) || c == b'\t' || c == b'\r' || c == b'\n' {
            k |= PRINTABLE;
        }
        if c.is_ascii_alphanumeric()
            || c == b'+'
            || c == b'/'
            || c == b'='
            || c == b'-'
            || c == b'_'
        {
            k |= BASE64;
        }
        if c.is_ascii_uppercase() || (c >= b'2' && c <= b'7') || c == b'=' {
            k |= BASE32;
        }
        if c.is_ascii_hexdigit() {
            k |= HEX;
        }
        if c == b'\r' || c == b'\n' {
            k |= LINEBREAK;
        }
        t[b] = k;
        b += 1;
    }
    t
};

/// The per-byte counters of the scalar kernel in 16-bit lanes of one u64:
/// binary (not printable), base64, base32, hex. One table load and one add
/// per byte; callers flush the lanes before 65536 bytes.
pub(crate) static CLASS_LANES: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut b = 0;
    while b < 256 {
        let c = CLASS[b];
        t[b] = ((c & PRINTABLE) ^ PRINTABLE) as u64
            | (((c & BASE64) >> 1) as u64) << 16
            | (((c & BASE32) >> 2) as u64) << 32
            | (((c & HEX) >> 3) as u64) << 48;
        b += 1;
    }
    t
};

/// Set bits of the byte (low 32 bits) and whether it is a line break (high
/// 32 bits): no POPCNT instruction needed on baseline x86-64.
pub(crate) static POP_LINEBREAK: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b as u8).count_ones() as u64 | (((CLASS[b] & LINEBREAK) >> 4) as u64) << 32;
        b += 1;
    }
    t
};

/// Nibble tables for `pshufb`-style lookups (AVX2): a byte with high
/// nibble `h` and low nibble `l` is in part `k` when bit `k` is set in
/// both `hi[h]` and `lo[l]`. Each part is a rectangle of the 16×16 byte
/// grid; a class is a union of parts. Two table pairs, as the classes need
/// more than eight rectangles. Bytes ≥ 0x80 are in no part (`hi[8..] = 0`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Nibbles {
    pub hi: [u8; 16],
    pub lo: [u8; 16],
}

/// A rectangle: the high nibbles and low nibbles it spans, as bit sets.
struct Part {
    hi: u16,
    lo: u16,
}

const fn span(from: u32, to: u32) -> u16 {
    (((1u32 << (to + 1)) - 1) & !((1u32 << from) - 1)) as u16
}

const fn nibbles(parts: &[Part]) -> Nibbles {
    let mut t = Nibbles {
        hi: [0; 16],
        lo: [0; 16],
    };
    let mut k = 0;
    while k < parts.len() {
        let mut n = 0;
        while n < 16 {
            if parts[k].hi & (1 << n) != 0 {
                t.hi[n] |= 1 << k;
            }
            if parts[k].lo & (1 << n) != 0 {
                t.lo[n] |= 1 << k;
            }
            n += 1;
        }
        k += 1;
    }
    t
}

/// First table pair: printable and line breaks, hex, and the base64
/// symbols.
pub(crate) const FIRST: Nibbles = nibbles(&[
    // 0x20..=0x6f
    Part {
        hi: span(2, 6),
        lo: span(0, 15),
    },
    // 0x70..=0x7e
    Part {
        hi: 1 << 7,
        lo: span(0, 14),
    },
    // tab
    Part { hi: 1, lo: 1 << 9 },
    // LF, CR
    Part {
        hi: 1,
        lo: 1 << 10 | 1 << 13,
    },
    // 0-9
    Part {
        hi: 1 << 3,
        lo: span(0, 9),
    },
    // A-F, a-f
    Part {
        hi: 1 << 4 | 1 << 6,
        lo: span(1, 6),
    },
    // + - /
    Part {
        hi: 1 << 2,
        lo: 1 << 11 | 1 << 13 | 1 << 15,
    },
    // _
    Part {
        hi: 1 << 5,
        lo: 1 << 15,
    },
]);
pub(crate) const FIRST_PRINTABLE: u8 = 0b1111;
pub(crate) const FIRST_LINEBREAK: u8 = 0b1000;
pub(crate) const FIRST_HEX: u8 = 0b11_0000;
pub(crate) const FIRST_BASE64: u8 = 0b1101_0000;

/// Second table pair: letters, the base32 digits and `=`.
pub(crate) const SECOND: Nibbles = nibbles(&[
    // A-O
    Part {
        hi: 1 << 4,
        lo: span(1, 15),
    },
    // P-Z
    Part {
        hi: 1 << 5,
        lo: span(0, 10),
    },
    // a-o
    Part {
        hi: 1 << 6,
        lo: span(1, 15),
    },
    // p-z
    Part {
        hi: 1 << 7,
        lo: span(0, 10),
    },
    // 2-7
    Part {
        hi: 1 << 3,
        lo: span(2, 7),
    },
    // =
    Part {
        hi: 1 << 3,
        lo: 1 << 13,
    },
]);
pub(crate) const SECOND_BASE64: u8 = 0b10_1111;
pub(crate) const SECOND_BASE32: u8 = 0b11_0011;

#[cfg(test)]
mod tests {
    use super::*;

    fn part_bits(t: &Nibbles, b: u8) -> u8 {
        t.hi[(b >> 4) as usize] & t.lo[(b & 15) as usize]
    }

    #[test]
    fn nibble_tables_give_the_classes_of_every_byte() {
        for b in 0..=255u8 {
            let (first, second) = (part_bits(&FIRST, b), part_bits(&SECOND, b));
            let mut k = 0;
            if first & FIRST_PRINTABLE != 0 {
                k |= PRINTABLE;
            }
            if first & FIRST_BASE64 != 0 || second & SECOND_BASE64 != 0 {
                k |= BASE64;
            }
            if second & SECOND_BASE32 != 0 {
                k |= BASE32;
            }
            if first & FIRST_HEX != 0 {
                k |= HEX;
            }
            if first & FIRST_LINEBREAK != 0 {
                k |= LINEBREAK;
            }
            assert_eq!(k, CLASS[b as usize], "byte {b:#04x}");
        }
    }

    #[test]
    fn class_counts_match_the_alphabets() {
        let count = |bit: u8| CLASS.iter().filter(|&&c| c & bit != 0).count();
        assert_eq!(count(PRINTABLE), 95 + 3);
        assert_eq!(count(BASE64), 62 + 5);
        assert_eq!(count(BASE32), 26 + 6 + 1);
        assert_eq!(count(HEX), 22);
        assert_eq!(count(LINEBREAK), 2);
    }
}
