//! The portable kernel and the reference for the others: a 256-cell
//! histogram per block for the equal pairs, table lookups per byte for the
//! classes.

use crate::class::{CLASS_LANES, POP_LINEBREAK};
use crate::{Counts, BLOCK};

/// The per-byte class counters ride in 16-bit lanes: flush them before they
/// can carry into each other.
const LANE_FLUSH: usize = 32 * 1024;

/// Per-byte counters of `data`, any length.
pub fn classify(data: &[u8], counts: &mut Counts) {
    for part in data.chunks(LANE_FLUSH) {
        let mut lanes = Lanes::new(counts);
        for &b in part {
            lanes.byte(b);
        }
        lanes.store(counts);
    }
}

/// Per-block and per-byte counters of whole blocks.
pub fn blocks(data: &[u8], counts: &mut Counts) {
    for part in data.chunks(LANE_FLUSH) {
        let mut lanes = Lanes::new(counts);
        for block in part.chunks_exact(BLOCK) {
            let mut hist = [0u8; 256];
            let (mut coll, mut bin_coll, binary_before) = (0u32, 0u32, lanes.classes & 0xffff);
            for &b in block {
                let binary = lanes.byte(b);
                let c = &mut hist[b as usize];
                // A byte seen `c` times before makes `c` new equal pairs
                // (binary ones when it is binary: equal bytes share a class).
                coll += *c as u32;
                bin_coll += *c as u32 & binary.wrapping_neg();
                *c += 1;
            }
            let binary = ((lanes.classes & 0xffff) - binary_before) as u32;
            counts.add_block(coll, bin_coll, binary);
        }
        lanes.store(counts);
    }
}

/// Counters in locals while a loop runs: the four class counts in 16-bit
/// lanes of one u64 (binary, base64, base32, hex), popcount and line breaks
/// in the halves of another.
struct Lanes {
    classes: u64,
    pop_linebreaks: u64,
    run: u32,
    max_run: u32,
}

impl Lanes {
    fn new(c: &Counts) -> Self {
        Lanes {
            classes: 0,
            pop_linebreaks: 0,
            run: c.run,
            max_run: c.max_run,
        }
    }

    /// Counts one byte; 1 if it is binary, else 0.
    #[inline(always)]
    fn byte(&mut self, b: u8) -> u32 {
        let k = CLASS_LANES[b as usize];
        self.classes += k;
        self.pop_linebreaks += POP_LINEBREAK[b as usize];
        let binary = (k & 1) as u32;
        self.run = (self.run + 1) * (binary ^ 1);
        self.max_run = self.max_run.max(self.run);
        binary
    }

    fn store(&self, c: &mut Counts) {
        let lane = |k: u32| ((self.classes >> (16 * k)) & 0xffff) as u32;
        c.binary += lane(0);
        c.base64 += lane(1);
        c.base32 += lane(2);
        c.hex += lane(3);
        c.linebreaks += (self.pop_linebreaks >> 32) as u32;
        c.popcount += self.pop_linebreaks as u32;
        c.run = self.run;
        c.max_run = self.max_run;
    }
}
