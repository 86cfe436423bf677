//! Every kernel this CPU runs gives the scalar kernel's counts, on random
//! and real-looking blocks, at every alignment, and a histogram-free
//! reference checks the scalar kernel itself.

use encchan_simd::{class, classify, Counts, Kernel, BLOCK, UNIFORM_MAX_COLLISIONS};

/// xorshift64*: deterministic bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn byte(&mut self) -> u8 {
        (self.next() >> 56) as u8
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const TEXT: &[u8] = b"It was the best of times, it was the worst of times,\r\n\
it was the age of wisdom, it was the age of foolishness, it was the epoch of belief\n";
const BASE64: &[u8] =
    b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODkrLw==";

/// Blocks of many kinds, 64 blocks per kind.
fn corpus(rng: &mut Rng) -> Vec<u8> {
    let n = 64 * BLOCK;
    let mut out = Vec::new();
    out.extend((0..n).map(|_| rng.byte()));
    out.extend(core::iter::repeat_n(0u8, n));
    out.extend(core::iter::repeat_n(0xffu8, n));
    out.extend((0..n).map(|i| TEXT[i % TEXT.len()]));
    out.extend((0..n).map(|i| BASE64[i % BASE64.len()]));
    out.extend((0..n).map(|i| b"0123456789abcdef"[(i * 7 + i / 5) % 16]));
    out.extend((0..n).map(|i| i as u8));
    out.extend((0..n).map(|i| (i / 3) as u8));
    // A few values repeated: many equal pairs, some binary, some not.
    out.extend((0..n).map(|_| [0u8, 1, b'a', 0x80, b'\n', 0xff][rng.below(6)]));
    // Printable runs of every length, broken by binary bytes.
    out.extend((0..n).map(|_| if rng.below(40) == 0 { 0x01 } else { b'x' }));
    // Random bytes drawn from small random alphabets, per block.
    for _ in 0..64 {
        let k = 1 + rng.below(40);
        let alphabet: Vec<u8> = (0..k).map(|_| rng.byte()).collect();
        out.extend((0..BLOCK).map(|_| alphabet[rng.below(k)]));
    }
    out
}

fn run(kernel: Kernel, data: &[u8], start: Counts) -> Counts {
    let mut c = start;
    kernel.blocks(data, &mut c);
    c
}

#[test]
fn detect_picks_an_available_kernel() {
    let all: Vec<Kernel> = Kernel::available().collect();
    assert_eq!(all[0], Kernel::scalar());
    assert!(all.contains(&Kernel::detect()));
    assert_eq!(*all.last().unwrap(), Kernel::detect());
    eprintln!(
        "kernels: {:?}",
        all.iter().map(|k| k.name()).collect::<Vec<_>>()
    );
}

#[test]
fn every_kernel_equals_scalar_on_every_alignment_and_length() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let data = corpus(&mut rng);
    for kernel in Kernel::available() {
        for offset in 0..64 {
            // Whole blocks from `offset`: every block start mod 64.
            let whole = (data.len() - offset) / BLOCK * BLOCK;
            let slice = &data[offset..offset + whole];
            let start = Counts {
                run: rng.below(100) as u32,
                max_run: 100,
                ..Counts::default()
            };
            assert_eq!(
                run(kernel, slice, start),
                run(Kernel::scalar(), slice, start),
                "{} at offset {offset}",
                kernel.name()
            );
            // Every run length from 1 to 9 blocks, at this alignment: odd
            // counts leave AVX-512 a last block of its own.
            for blocks in 1..10 {
                let at = rng.below(whole / BLOCK - blocks) * BLOCK;
                let part = &slice[at..at + blocks * BLOCK];
                assert_eq!(
                    run(kernel, part, start),
                    run(Kernel::scalar(), part, start),
                    "{} on {blocks} blocks at {}",
                    kernel.name(),
                    offset + at
                );
            }
        }
    }
}

#[test]
fn every_kernel_equals_scalar_on_random_blocks() {
    let mut rng = Rng(7);
    for round in 0..2000 {
        // Bytes from an alphabet of 1..=256 values, so the equal-pair counts
        // cover the whole range.
        let k = 1 + rng.below(256);
        let blocks = 1 + rng.below(8);
        let data: Vec<u8> = (0..blocks * BLOCK)
            .map(|_| (rng.below(k) as u8).wrapping_add(round as u8))
            .collect();
        let start = Counts {
            run: rng.below(3) as u32 * 31,
            max_run: 62,
            ..Counts::default()
        };
        let expected = run(Kernel::scalar(), &data, start);
        for kernel in Kernel::available() {
            assert_eq!(run(kernel, &data, start), expected, "{}", kernel.name());
        }
    }
}

/// The counts by definition: pairs by a double loop, classes by `CLASS`.
fn reference(data: &[u8], start: Counts) -> Counts {
    let mut c = start;
    for block in data.chunks_exact(BLOCK) {
        let (mut pairs, mut binary_pairs) = (0, 0);
        for i in 0..BLOCK {
            for j in i + 1..BLOCK {
                if block[i] == block[j] {
                    pairs += 1;
                    if class::CLASS[block[i] as usize] & class::PRINTABLE == 0 {
                        binary_pairs += 1;
                    }
                }
            }
        }
        let binary = block
            .iter()
            .filter(|&&b| class::CLASS[b as usize] & class::PRINTABLE == 0)
            .count() as u32;
        c.collisions += pairs;
        c.binary_collisions += binary_pairs;
        c.binary_pairs += binary * binary.saturating_sub(1) / 2;
        c.uniform_blocks += (pairs <= UNIFORM_MAX_COLLISIONS) as u32;
    }
    for &b in data {
        let k = class::CLASS[b as usize];
        let has = |bit: u8| (k & bit != 0) as u32;
        c.binary += 1 - has(class::PRINTABLE);
        c.base64 += has(class::BASE64);
        c.base32 += has(class::BASE32);
        c.hex += has(class::HEX);
        c.linebreaks += has(class::LINEBREAK);
        c.popcount += b.count_ones();
        c.run = if has(class::PRINTABLE) == 1 {
            c.run + 1
        } else {
            0
        };
        c.max_run = c.max_run.max(c.run);
    }
    c
}

#[test]
fn scalar_kernel_counts_what_the_definitions_say() {
    let mut rng = Rng(99);
    let data = corpus(&mut rng);
    let start = Counts {
        run: 5,
        max_run: 9,
        ..Counts::default()
    };
    assert_eq!(run(Kernel::scalar(), &data, start), reference(&data, start));
    // All 256 values, in every block position.
    let all: Vec<u8> = (0..256 * 32).map(|i| (i * 37 + i / 256) as u8).collect();
    for kernel in Kernel::available() {
        assert_eq!(run(kernel, &all, start), reference(&all, start));
    }
    // The per-byte part alone, on lengths that are not whole blocks.
    for n in [0, 1, 31, 33, 100] {
        let mut c = start;
        classify(&data[..n], &mut c);
        let bytes_only = {
            let mut r = reference(&data[..n], start);
            // `reference` counts blocks too; classify does not.
            let blocks = reference(&data[..n - n % BLOCK], Counts::default());
            r.collisions -= blocks.collisions;
            r.binary_collisions -= blocks.binary_collisions;
            r.binary_pairs -= blocks.binary_pairs;
            r.uniform_blocks -= blocks.uniform_blocks;
            r
        };
        assert_eq!(c, bytes_only, "n={n}");
    }
}

#[test]
#[should_panic(expected = "whole blocks only")]
fn partial_blocks_are_refused() {
    Kernel::scalar().blocks(&[0; 33], &mut Counts::default());
}
