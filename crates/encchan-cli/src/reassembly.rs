//! TCP stream reassembly for one direction, kept apart from the flow table so
//! that its rules can be tested on their own.
//!
//! * In-order bytes are delivered at once.
//! * Out-of-order segments wait in a bounded buffer (at most
//!   [`MAX_PENDING_BYTES`] bytes and [`MAX_PENDING_PIECES`] pieces).
//! * Retransmitted bytes that were already delivered are trimmed.
//! * Overlaps follow the "first" policy (BSD, Windows and Linux for most
//!   cases): bytes that arrived first win, whether they were already
//!   delivered or are still waiting. A later segment only contributes the
//!   bytes nobody covered yet, so waiting pieces never overlap.
//! * A hole that cannot be waited for any longer (the buffer is over its
//!   bounds, or the stream ends) is reported as a [`Event::Gap`] and delivery
//!   goes on after it.
//! * Bytes that were on the wire but are not in the capture (a snap length
//!   cut the packet) are known to be missing: they become a gap in place.
//!
//! Sequence numbers are placed on a 64-bit stream offset relative to the next
//! expected byte (wrapping arithmetic, a window of ±2 GiB), so wraparound
//! needs no special case.
//!
//! Once the engine has decided a flow, the host stops reassembling: the
//! reassembler switches to counting ([`Reassembler::count`]), which only
//! moves a high-water mark and says how many bytes of a segment are new.

use std::collections::BTreeMap;

/// What the reassembler hands to the stream's consumer.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// The next in-order bytes.
    Data(&'a [u8]),
    /// This many bytes are missing; the stream goes on after them.
    Gap(u64),
}

/// Bound on buffered out-of-order bytes per direction.
pub const MAX_PENDING_BYTES: usize = 64 * 1024;
/// Bound on buffered out-of-order pieces per direction.
pub const MAX_PENDING_PIECES: usize = 32;

#[derive(Debug)]
enum Piece {
    Data(Vec<u8>),
    /// Bytes known to exist but absent from the capture.
    Missing(u64),
}

impl Piece {
    fn len(&self) -> u64 {
        match self {
            Piece::Data(d) => d.len() as u64,
            Piece::Missing(n) => *n,
        }
    }
}

/// One direction of a TCP stream.
#[derive(Debug, Default)]
pub struct Reassembler {
    /// Sequence number of the next byte to deliver, once known.
    next_seq: Option<u32>,
    /// Stream offset of that byte.
    next_off: u64,
    /// Out-of-order pieces by stream offset; they never overlap.
    pending: BTreeMap<u64, Piece>,
    /// Data bytes in `pending`.
    pending_bytes: usize,
}

impl Reassembler {
    /// The SYN's sequence number: data starts right after it. A SYN with
    /// another number before any byte of the stream arrived replaces it (a
    /// server that answers a retransmitted SYN with a new SYN-ACK: the
    /// client acknowledges the last one, and Zeek follows it too); once
    /// bytes arrived, the stream position stays.
    pub fn set_isn(&mut self, isn: u32) {
        self.set_isn_unless_acknowledged(isn, None);
    }

    /// As [`Reassembler::set_isn`], except that a position the other side
    /// has acknowledged (`ack`: its acknowledgment number, the first byte
    /// it expects) stays: a stale or forged SYN-ACK after the client
    /// acknowledged the real one does not move the stream.
    pub fn set_isn_unless_acknowledged(&mut self, isn: u32, ack: Option<u32>) {
        if ack.is_some() && ack == self.next_seq && self.next_off == 0 {
            return;
        }
        if self.next_seq.is_none() || (self.next_off == 0 && self.pending.is_empty()) {
            self.next_seq = Some(isn.wrapping_add(1));
        }
    }

    /// Whether the stream position is known (a SYN or data was seen).
    pub fn started(&self) -> bool {
        self.next_seq.is_some()
    }

    /// Bytes delivered or skipped as gaps so far.
    pub fn offset(&self) -> u64 {
        self.next_off
    }

    /// Bytes the other side acknowledged (`ack`, its acknowledgment number)
    /// beyond the next byte to deliver: sent, but not in the capture. 0
    /// when the position is unknown or `ack` is not ahead (within 1 GiB,
    /// so that a stray number is not taken for a gap).
    pub fn acknowledged_beyond(&self, ack: u32) -> u64 {
        let Some(next) = self.next_seq else { return 0 };
        let ahead = ack.wrapping_sub(next);
        if ahead < 1 << 30 {
            u64::from(ahead)
        } else {
            0
        }
    }

    /// Out-of-order data bytes waiting.
    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// Takes one segment: `data` starting at `seq`, followed by `missing`
    /// bytes that were on the wire but not captured.
    pub fn segment(
        &mut self,
        seq: u32,
        data: &[u8],
        missing: u64,
        out: &mut impl FnMut(Event<'_>),
    ) {
        // Nothing on the wire is longer than an IP datagram can say.
        let missing = missing.min(u64::from(u32::MAX));
        let total = data.len() as u64 + missing;
        if total == 0 {
            return;
        }
        let next_seq = *self.next_seq.get_or_insert(seq);
        // Position relative to the next expected byte, within ±2 GiB.
        let rel = i64::from(seq.wrapping_sub(next_seq) as i32);
        let end = rel.saturating_add(total as i64);
        if end <= 0 {
            return; // all of it was delivered before
        }
        if rel <= 0 {
            let skip = rel.unsigned_abs();
            let (data, missing) = trim_front(data, missing, skip);
            if !data.is_empty() {
                out(Event::Data(data));
                self.advance(data.len() as u64);
            }
            if missing > 0 {
                out(Event::Gap(missing));
                self.advance(missing);
            }
            self.drain(out);
            return;
        }
        self.insert(self.next_off + rel as u64, data, missing);
        while self.pending_bytes > MAX_PENDING_BYTES || self.pending.len() > MAX_PENDING_PIECES {
            self.skip_hole(out);
        }
    }

    /// The stream ended: deliver what waits behind holes, reporting them.
    pub fn flush(&mut self, out: &mut impl FnMut(Event<'_>)) {
        while !self.pending.is_empty() {
            self.skip_hole(out);
        }
    }

    /// Stops reassembling: drops the buffer, moves the stream position past
    /// what it held and returns the number of data bytes it held (never
    /// delivered, for the caller to count). Holes before them are not
    /// reported.
    pub fn stop(&mut self) -> u64 {
        let held = self.pending_bytes as u64;
        if let Some((&at, piece)) = self.pending.last_key_value() {
            let end = at + piece.len();
            self.advance(end - self.next_off);
        }
        self.pending.clear();
        self.pending_bytes = 0;
        held
    }

    /// Counting mode (after [`Reassembler::stop`]): how many of this
    /// segment's `len` bytes lie beyond everything seen so far.
    /// Retransmissions count nothing; bytes after a hole count, the hole does
    /// not (neither if it is filled later).
    pub fn count(&mut self, seq: u32, len: u64) -> u64 {
        let len = len.min(u64::from(u32::MAX));
        if len == 0 {
            return 0;
        }
        let next_seq = *self.next_seq.get_or_insert(seq);
        let rel = i64::from(seq.wrapping_sub(next_seq) as i32);
        let end = rel.saturating_add(len as i64);
        if end <= 0 {
            return 0;
        }
        let new = if rel < 0 { end as u64 } else { len };
        self.advance(end as u64);
        new
    }

    fn advance(&mut self, n: u64) {
        self.next_off += n;
        if let Some(s) = self.next_seq.as_mut() {
            // Sequence space is modulo 2^32: truncation is the intent.
            *s = s.wrapping_add(n as u32);
        }
    }

    /// Adds the parts of `[at, at + data.len() + missing)` that no waiting
    /// piece covers (first copy wins).
    fn insert(&mut self, at: u64, data: &[u8], missing: u64) {
        let end = at + data.len() as u64 + missing;
        let mut cursor = at;
        if let Some((&k, p)) = self.pending.range(..=at).next_back() {
            cursor = cursor.max(k + p.len());
        }
        while cursor < end {
            let next = self
                .pending
                .range(cursor..end)
                .next()
                .map(|(&k, p)| (k, k + p.len()));
            let stop = next.map_or(end, |(k, _)| k);
            if stop > cursor {
                self.put(at, data, cursor - at, stop - at);
            }
            match next {
                Some((_, e)) => cursor = cursor.max(e),
                None => break,
            }
        }
    }

    /// Stores bytes `[from, to)` of a segment that starts at stream offset
    /// `at` (its data, then its missing tail).
    fn put(&mut self, at: u64, data: &[u8], from: u64, to: u64) {
        let dlen = data.len() as u64;
        if from < dlen {
            let d_to = to.min(dlen);
            if let Some(bytes) = data.get(from as usize..d_to as usize) {
                self.pending_bytes += bytes.len();
                self.pending.insert(at + from, Piece::Data(bytes.to_vec()));
            }
        }
        if to > dlen {
            let m_from = from.max(dlen);
            self.pending
                .insert(at + m_from, Piece::Missing(to - m_from));
        }
    }

    /// Delivers waiting pieces that now touch the stream.
    fn drain(&mut self, out: &mut impl FnMut(Event<'_>)) {
        while let Some(entry) = self.pending.first_entry() {
            let at = *entry.key();
            if at > self.next_off {
                break;
            }
            let piece = entry.remove();
            let skip = self.next_off - at;
            match piece {
                Piece::Data(data) => {
                    self.pending_bytes -= data.len();
                    if let Some(rest) = data.get(skip as usize..).filter(|r| !r.is_empty()) {
                        out(Event::Data(rest));
                        self.advance(rest.len() as u64);
                    }
                }
                Piece::Missing(n) if n > skip => {
                    out(Event::Gap(n - skip));
                    self.advance(n - skip);
                }
                Piece::Missing(_) => {}
            }
        }
    }

    /// Declares the hole before the first waiting piece a gap.
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

/// Drops the first `skip` bytes of a segment made of `data` then `missing`.
fn trim_front(data: &[u8], missing: u64, skip: u64) -> (&[u8], u64) {
    match usize::try_from(skip) {
        Ok(s) if s <= data.len() => (&data[s..], missing),
        _ => (&[], missing.saturating_sub(skip - data.len() as u64)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What came out of a reassembler: the bytes, with each gap written as
    /// that many `_`, and the gap lengths.
    #[derive(Debug, Default)]
    struct Sink {
        stream: Vec<u8>,
        gaps: Vec<u64>,
    }

    impl Sink {
        fn take(&mut self, e: Event<'_>) {
            match e {
                Event::Data(d) => {
                    assert!(!d.is_empty(), "empty data event");
                    self.stream.extend_from_slice(d)
                }
                Event::Gap(n) => {
                    assert!(n > 0, "empty gap");
                    self.gaps.push(n);
                    self.stream.extend(std::iter::repeat_n(b'_', n as usize));
                }
            }
        }
    }

    fn run_with(isn: Option<u32>, segments: &[(u32, &[u8], u64)]) -> Sink {
        let mut r = Reassembler::default();
        if let Some(isn) = isn {
            r.set_isn(isn);
        }
        let mut sink = Sink::default();
        for (seq, d, missing) in segments {
            r.segment(*seq, d, *missing, &mut |e| sink.take(e));
        }
        r.flush(&mut |e| sink.take(e));
        assert_eq!(r.pending_bytes(), 0);
        assert_eq!(r.offset(), sink.stream.len() as u64);
        sink
    }

    fn run(isn: Option<u32>, segments: &[(u32, &[u8])]) -> Sink {
        let segs: Vec<(u32, &[u8], u64)> = segments.iter().map(|&(s, d)| (s, d, 0)).collect();
        run_with(isn, &segs)
    }

    #[test]
    fn in_order() {
        let s = run(Some(99), &[(100, b"abc"), (103, b"def")]);
        assert_eq!((s.stream.as_slice(), s.gaps.len()), (&b"abcdef"[..], 0));
    }

    #[test]
    fn in_order_is_delivered_at_once() {
        let mut r = Reassembler::default();
        r.set_isn(0);
        let mut got = Vec::new();
        r.segment(1, b"ab", 0, &mut |e| {
            if let Event::Data(d) = e {
                got.extend_from_slice(d)
            }
        });
        assert_eq!(got, b"ab");
        assert_eq!(r.offset(), 2);
    }

    #[test]
    fn out_of_order_waits_then_drains() {
        let s = run(Some(99), &[(106, b"g"), (103, b"def"), (100, b"abc")]);
        assert_eq!((s.stream.as_slice(), s.gaps.len()), (&b"abcdefg"[..], 0));
    }

    #[test]
    fn retransmissions_are_trimmed() {
        let s = run(
            Some(99),
            &[(100, b"abc"), (100, b"abc"), (101, b"bcde"), (103, b"def")],
        );
        assert_eq!(s.stream, b"abcdef");
        // A retransmission of waiting bytes changes nothing either.
        let s = run(Some(99), &[(103, b"def"), (103, b"def"), (100, b"abc")]);
        assert_eq!(s.stream, b"abcdef");
    }

    #[test]
    fn overlap_with_delivered_bytes_first_wins() {
        let s = run(Some(99), &[(100, b"abcd"), (102, b"XXYY")]);
        assert_eq!(s.stream, b"abcdYY");
    }

    #[test]
    fn overlap_between_waiting_pieces_first_wins() {
        // Same start.
        let s = run(Some(99), &[(102, b"cdef"), (102, b"XXXX"), (100, b"ab")]);
        assert_eq!(s.stream, b"abcdef");
        // A later segment starting before a waiting one: only its uncovered
        // head and tail are kept.
        let s = run(Some(99), &[(103, b"de"), (101, b"XXXXXg"), (100, b"a")]);
        assert_eq!(s.stream, b"aXXdeXg");
        // A later segment spanning two waiting ones and the hole between.
        let s = run(
            Some(99),
            &[(102, b"c"), (105, b"f"), (101, b"XXXXXXX"), (100, b"a")],
        );
        assert_eq!(s.stream, b"aXcXXfXX");
        // Contained entirely in a waiting piece.
        let s = run(Some(99), &[(101, b"bcdef"), (102, b"XX"), (100, b"a")]);
        assert_eq!(s.stream, b"abcdef");
    }

    /// A server's SYN-ACKs with three ISNs (tls_multiple_synack_different_seq
    /// in nDPI's captures): the data follows the last one.
    #[test]
    fn the_last_syn_before_any_data_sets_the_position() {
        let mut r = Reassembler::default();
        for isn in [1000, 1000, 5000, 9000] {
            r.set_isn(isn);
        }
        let mut got = Vec::new();
        r.segment(9001, b"hello", 0, &mut |e| {
            if let Event::Data(d) = e {
                got.extend_from_slice(d);
            }
        });
        assert_eq!(got, b"hello");
        // Once bytes arrived, a stray SYN moves nothing.
        r.set_isn(20000);
        // Nor one after the other side acknowledged the position.
        let mut acked = Reassembler::default();
        acked.set_isn(1000);
        acked.set_isn_unless_acknowledged(5000, Some(1001));
        assert_eq!(acked.acknowledged_beyond(1001), 0);
        acked.set_isn_unless_acknowledged(5000, Some(77));
        assert_eq!(acked.acknowledged_beyond(5001), 0);
        r.segment(9006, b"!", 0, &mut |e| {
            if let Event::Data(d) = e {
                got.extend_from_slice(d);
            }
        });
        assert_eq!(got, b"hello!");
    }

    #[test]
    fn wraparound() {
        let s = run(
            Some(u32::MAX - 2),
            &[(u32::MAX - 1, b"ab"), (0, b"cd"), (2, b"e")],
        );
        assert_eq!((s.stream.as_slice(), s.gaps.len()), (&b"abcde"[..], 0));
        // Out of order across the wrap.
        let s = run(
            Some(u32::MAX - 2),
            &[(1, b"de"), (u32::MAX - 1, b"ab"), (0, b"c")],
        );
        assert_eq!((s.stream.as_slice(), s.gaps.len()), (&b"abcde"[..], 0));
        // A retransmission from before the wrap, seen after it.
        let s = run(
            Some(u32::MAX - 2),
            &[(u32::MAX - 1, b"ab"), (0, b"cd"), (u32::MAX - 1, b"ab")],
        );
        assert_eq!(s.stream, b"abcd");
    }

    #[test]
    fn hole_is_a_gap_when_the_stream_ends() {
        let s = run(Some(99), &[(100, b"ab"), (110, b"kl")]);
        assert_eq!(s.stream, b"ab________kl");
        assert_eq!(s.gaps, [8]);
    }

    #[test]
    fn hole_filled_late_is_no_gap() {
        let s = run(Some(99), &[(100, b"ab"), (104, b"ef"), (102, b"cd")]);
        assert_eq!((s.stream.as_slice(), s.gaps.len()), (&b"abcdef"[..], 0));
    }

    #[test]
    fn byte_bound_forces_a_gap() {
        let big = vec![7u8; 1000];
        let mut segs: Vec<(u32, &[u8])> = Vec::new();
        // 1000-byte segments with 1000-byte holes between them.
        for k in 0..100u32 {
            segs.push((1000 + k * 2000, &big));
        }
        let s = run(Some(0), &segs);
        assert_eq!(s.stream.iter().filter(|&&b| b == 7).count(), 100 * 1000);
        assert_eq!(s.gaps.len(), 100);
        assert_eq!(s.gaps[0], 999);
        assert!(s.gaps[1..].iter().all(|&g| g == 1000));
    }

    #[test]
    fn buffer_stays_within_its_bounds() {
        let mut r = Reassembler::default();
        r.set_isn(0);
        let seg = vec![1u8; 3000];
        let mut gaps = 0;
        for k in 0..200u32 {
            r.segment(10 + k * 3000, &seg, 0, &mut |e| {
                gaps += matches!(e, Event::Gap(_)) as u32
            });
            assert!(r.pending_bytes() <= MAX_PENDING_BYTES);
            assert!(r.pending.len() <= MAX_PENDING_PIECES);
        }
        assert_eq!(gaps, 1, "one hole at the start, then everything touches");
    }

    #[test]
    fn piece_bound_forces_a_gap() {
        let mut r = Reassembler::default();
        r.set_isn(0);
        let mut events = Vec::new();
        for k in 0..(MAX_PENDING_PIECES as u32 + 1) {
            r.segment(2 + 2 * k, b"x", 0, &mut |e| events.push(format!("{e:?}")));
        }
        assert_eq!(events, ["Gap(1)", "Data([120])"]);
        assert_eq!(r.pending.len(), MAX_PENDING_PIECES);
    }

    #[test]
    fn midstream_pickup_starts_at_first_segment() {
        assert_eq!(run(None, &[(5000, b"xy"), (5002, b"z")]).stream, b"xyz");
        // Earlier bytes seen later are taken for retransmissions.
        assert_eq!(run(None, &[(5000, b"xy"), (4998, b"vw")]).stream, b"xy");
    }

    #[test]
    fn snap_length_cut_is_a_gap_in_place() {
        // "ab" + 3 uncaptured bytes, then "fg" in order.
        let s = run_with(Some(99), &[(100, b"ab", 3), (105, b"fg", 0)]);
        assert_eq!(s.stream, b"ab___fg");
        assert_eq!(s.gaps, [3]);
        // The same out of order.
        let s = run_with(Some(99), &[(105, b"fg", 0), (100, b"ab", 3)]);
        assert_eq!(s.stream, b"ab___fg");
        // A waiting cut segment, then a retransmission overlapping its tail:
        // the missing bytes came first and stay missing.
        let s = run_with(
            Some(99),
            &[(102, b"cd", 2), (102, b"cdef", 0), (100, b"ab", 0)],
        );
        assert_eq!(s.stream, b"abcd__");
        // Partly retransmitted cut segment.
        let s = run_with(Some(99), &[(100, b"abcd", 0), (102, b"cd", 2)]);
        assert_eq!(s.stream, b"abcd__");
        // Only missing bytes.
        let s = run_with(Some(99), &[(100, b"", 4), (104, b"e", 0)]);
        assert_eq!(s.stream, b"____e");
    }

    #[test]
    fn empty_segments_change_nothing() {
        let mut r = Reassembler::default();
        r.segment(7, b"", 0, &mut |_| panic!("no event"));
        assert!(!r.started());
        r.set_isn(7);
        assert!(r.started());
    }

    #[test]
    fn far_segments_and_huge_missing_do_not_overflow() {
        // 2 GiB ahead and behind, u32 extremes, absurd missing lengths.
        for seq in [0x8000_0000u32, 0x7fff_ffff, 0, u32::MAX, 1] {
            for missing in [0, 1, u64::MAX / 4, u64::MAX] {
                let mut r = Reassembler::default();
                r.set_isn(0);
                let mut total = 0u64;
                let mut count = |e: Event<'_>| match e {
                    Event::Data(d) => total += d.len() as u64,
                    Event::Gap(g) => total += g,
                };
                r.segment(seq, b"abc", missing, &mut count);
                r.segment(seq.wrapping_add(7), b"xyz", missing, &mut count);
                r.flush(&mut count);
                assert_eq!(total, r.offset());
                assert!(r.count(seq, u64::MAX) <= u64::from(u32::MAX));
            }
        }
    }

    #[test]
    fn stop_then_count() {
        let mut r = Reassembler::default();
        r.set_isn(99);
        let mut sink = Sink::default();
        r.segment(100, b"ab", 0, &mut |e| sink.take(e));
        r.segment(110, b"klm", 0, &mut |e| sink.take(e));
        assert_eq!(r.stop(), 3, "the waiting bytes are handed back to count");
        assert_eq!(r.pending_bytes(), 0);
        // Next new byte is at 113.
        assert_eq!(r.count(113, 5), 5);
        assert_eq!(r.count(113, 5), 0, "retransmission");
        assert_eq!(r.count(116, 4), 2, "partial retransmission");
        assert_eq!(r.count(130, 10), 10, "after a hole");
        assert_eq!(r.count(120, 5), 0, "the hole filled late is not counted");
        assert_eq!(r.count(140, 0), 0);
        // Counting across the wrap.
        let mut r = Reassembler::default();
        r.set_isn(u32::MAX - 1);
        assert_eq!(r.count(u32::MAX, 4), 4);
        assert_eq!(r.count(2, 2), 1);
        // Counting with nothing known yet starts at the first segment.
        let mut r = Reassembler::default();
        assert_eq!(r.count(1000, 10), 10);
        assert_eq!(r.count(995, 10), 0);
    }

    #[test]
    fn trim_front_edges() {
        assert_eq!(trim_front(b"abc", 2, 0), (&b"abc"[..], 2));
        assert_eq!(trim_front(b"abc", 2, 3), (&b""[..], 2));
        assert_eq!(trim_front(b"abc", 2, 4), (&b""[..], 1));
        assert_eq!(trim_front(b"abc", 2, 9), (&b""[..], 0));
        assert_eq!(trim_front(b"abc", 2, u64::MAX), (&b""[..], 0));
    }
}
