//! Property of the TCP reassembler: a stream cut into segments, sent with
//! duplicates and out of order, comes out as the same bytes at the same
//! offsets; holes are reported as gaps, never as wrong bytes.
#![no_main]

use encchan_cli::reassembly::{Event, Reassembler};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    if input.len() < 12 {
        return;
    }
    let (plan, stream) = input.split_at(input.len() / 3);
    let isn = u32::from_le_bytes([plan[0], plan[1], plan[2], plan[3]]);
    // Cut the stream by the plan's sizes; each plan byte also says whether
    // to send the segment now, twice, or later.
    let mut segments = Vec::new();
    let mut late = Vec::new();
    let (mut at, mut k) = (0usize, 4usize);
    while at < stream.len() {
        let ctl = plan.get(k).copied().unwrap_or(0x31);
        k += 1;
        let len = (1 + (ctl as usize & 0x3f)).min(stream.len() - at);
        let seg = (isn.wrapping_add(1).wrapping_add(at as u32), at, len);
        match ctl >> 6 {
            0 | 1 => segments.push(seg),
            2 => {
                segments.push(seg);
                segments.push(seg);
            }
            _ => late.push(seg),
        }
        at += len;
    }
    segments.extend(late.into_iter().rev());

    let mut r = Reassembler::default();
    r.set_isn(isn);
    let mut pos = 0usize;
    let mut check = |e: Event<'_>| match e {
        Event::Data(d) => {
            assert_eq!(
                d,
                &stream[pos..pos + d.len()],
                "wrong bytes at offset {pos}"
            );
            pos += d.len();
        }
        Event::Gap(n) => pos += n as usize,
    };
    for (seq, at, len) in segments {
        r.segment(seq, &stream[at..at + len], 0, &mut check);
    }
    r.flush(&mut check);
    assert_eq!(
        pos,
        stream.len(),
        "the stream must be accounted for to its end"
    );
});
