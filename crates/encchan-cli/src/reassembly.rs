//! TCP stream reassembly for one direction.
//!
//! In-order bytes are delivered at once; out-of-order segments wait in a
//! bounded buffer; retransmitted bytes are trimmed; where segments overlap,
//! the bytes delivered first win (the "first" policy of most stacks, and
//! what the receiving application saw in the common case). A hole that the
//! buffer cannot wait for any longer — too much buffered, or the flow ends —
//! is reported as a gap and delivery goes on after it.
//!
//! Sequence numbers are placed on a 64-bit stream offset relative to the
//! next expected byte, so wraparound needs no special case.

use std::collections::BTreeMap;

/// What the reassembler hands to the stream's consumer.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    Data(&'a [u8]),
    /// This many bytes are missing.
    Gap(u64),
}

/// Limits of the out-of-order buffer per direction.
pub const MAX_PENDING_BYTES: usize = 256 * 1024;
pub const MAX_PENDING_SEGMENTS: usize = 64;

#[derive(Debug, Default)]
pub struct Reassembler {
    /// Sequence number of the next byte to deliver, once known.
    next_seq: Option<u32>,
    /// Stream offset of that byte.
    next_off: u64,
    /// Out-of-order segments by stream offset.
    pending: BTreeMap<u64, Vec<u8>>,
    pending_bytes: usize,
}

impl Reassembler {
    /// The SYN's sequence number: data starts right after it.
    pub fn set_isn(&mut self, isn: u32) {
        if self.next_seq.is_none() {
            self.next_seq = Some(isn.wrapping_add(1));
        }
    }

    /// Bytes delivered or skipped so far.
    pub fn offset(&self) -> u64 {
        self.next_off
    }

    /// Takes one segment.
    pub fn segment(&mut self, seq: u32, data: &[u8], out: &mut impl FnMut(Event<'_>)) {
        if data.is_empty() {
            return;
        }
        let next_seq = *self.next_seq.get_or_insert(seq);
        // Position relative to the next expected byte, within ±2 GiB.
        let rel = seq.wrapping_sub(next_seq) as i32 as i64;
        let end = rel + data.len() as i64;
        if end <= 0 {
            return; // all retransmitted
        }
        if rel <= 0 {
            self.deliver(&data[(-rel) as usize..], out);
            self.drain(out);
            return;
        }
        let at = self.next_off + rel as u64;
        // First copy wins: an equal offset already pending keeps its bytes.
        if !self.pending.contains_key(&at) {
            self.pending_bytes += data.len();
            self.pending.insert(at, data.to_vec());
        }
        while self.pending_bytes > MAX_PENDING_BYTES || self.pending.len() > MAX_PENDING_SEGMENTS {
            self.skip_hole(out);
        }
    }

    /// The stream ended: deliver what waits behind holes, reporting them.
    pub fn flush(&mut self, out: &mut impl FnMut(Event<'_>)) {
        while !self.pending.is_empty() {
            self.skip_hole(out);
        }
    }

    fn deliver(&mut self, data: &[u8], out: &mut impl FnMut(Event<'_>)) {
        out(Event::Data(data));
        self.advance(data.len() as u64);
    }

    fn advance(&mut self, n: u64) {
        self.next_off += n;
        if let Some(s) = self.next_seq.as_mut() {
            *s = s.wrapping_add(n as u32);
        }
    }

    /// Delivers pending segments that now touch the stream.
    fn drain(&mut self, out: &mut impl FnMut(Event<'_>)) {
        while let Some(entry) = self.pending.first_entry() {
            let at = *entry.key();
            if at > self.next_off {
                break;
            }
            let data = entry.remove();
            self.pending_bytes -= data.len();
            let skip = (self.next_off - at) as usize;
            if skip < data.len() {
                self.deliver(&data[skip..], out);
            }
        }
    }

    /// Declares the hole before the first pending segment a gap.
    fn skip_hole(&mut self, out: &mut impl FnMut(Event<'_>)) {
        if let Some((&at, _)) = self.pending.first_key_value() {
            if at > self.next_off {
                let hole = at - self.next_off;
                out(Event::Gap(hole));
                self.advance(hole);
            }
            self.drain(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(isn: Option<u32>, segments: &[(u32, &[u8])]) -> (Vec<u8>, Vec<u64>) {
        let mut r = Reassembler::default();
        if let Some(isn) = isn {
            r.set_isn(isn);
        }
        let mut data = Vec::new();
        let mut gaps = Vec::new();
        let mut sink = |e: Event<'_>| match e {
            Event::Data(d) => data.extend_from_slice(d),
            Event::Gap(n) => gaps.push(n),
        };
        for (seq, d) in segments {
            r.segment(*seq, d, &mut sink);
        }
        r.flush(&mut sink);
        (data, gaps)
    }

    #[test]
    fn in_order() {
        assert_eq!(run(Some(99), &[(100, b"abc"), (103, b"def")]).0, b"abcdef");
    }

    #[test]
    fn out_of_order_and_retransmission() {
        let (d, g) = run(
            Some(99),
            &[(103, b"def"), (100, b"abc"), (100, b"abc"), (106, b"g")],
        );
        assert_eq!((d.as_slice(), g.len()), (&b"abcdefg"[..], 0));
    }

    #[test]
    fn overlap_first_wins() {
        let (d, _) = run(Some(99), &[(100, b"abcd"), (102, b"XXYY")]);
        assert_eq!(d, b"abcdYY");
        let (d, _) = run(Some(99), &[(102, b"cdef"), (102, b"XXXX"), (100, b"ab")]);
        assert_eq!(d, b"abcdef");
    }

    #[test]
    fn wraparound() {
        let (d, g) = run(
            Some(u32::MAX - 2),
            &[(u32::MAX - 1, b"ab"), (0, b"cd"), (2, b"e")],
        );
        assert_eq!((d.as_slice(), g.len()), (&b"abcde"[..], 0));
    }

    #[test]
    fn hole_is_a_gap_at_the_end() {
        let (d, g) = run(Some(99), &[(100, b"ab"), (110, b"kl")]);
        assert_eq!((d.as_slice(), g.as_slice()), (&b"abkl"[..], &[8u64][..]));
    }

    #[test]
    fn buffer_limit_forces_a_gap() {
        let big = vec![7u8; 1000];
        let mut segs: Vec<(u32, &[u8])> = Vec::new();
        for k in 0..100u32 {
            segs.push((1000 + k * 2000, &big));
        }
        let (d, g) = run(Some(0), &segs);
        assert_eq!(d.len(), 100 * 1000);
        assert_eq!(g.len(), 100);
        assert_eq!(g[0], 999);
    }

    #[test]
    fn midstream_pickup_starts_at_first_segment() {
        assert_eq!(run(None, &[(5000, b"xy"), (5002, b"z")]).0, b"xyz");
    }
}
