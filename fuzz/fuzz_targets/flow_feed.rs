//! Arbitrary bytes, arbitrarily chunked, both directions, random timestamps,
//! TCP or UDP, with gaps and accounting: the engine must not panic, its state
//! never changes size, feeding after inspection ended changes only counters,
//! and an alert once final is never taken back (what front ends publish).
#![no_main]

use encchan_core::{AlertSet, Config, Direction, Flow, FlowStart, Transport};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 6 {
        return;
    }
    let cfg = Config::default();
    let transport = if data[0] & 1 == 0 {
        Transport::Tcp
    } else {
        Transport::Udp
    };
    let start = if data[0] & 2 == 0 {
        FlowStart::Observed
    } else {
        FlowStart::Midstream
    };
    let server_port = u16::from_be_bytes([data[1], data[2]]);
    let mut flow = Flow::new(transport, 40000, server_port, start, 0);
    let mut rest = &data[3..];
    let mut ts = 0u64;
    while rest.len() >= 3 {
        let ctl = rest[0];
        let len = (u16::from_be_bytes([rest[1], rest[2]]) as usize).min(rest.len() - 3);
        let chunk = &rest[3..3 + len];
        rest = &rest[3 + len..];
        let dir = if ctl & 1 == 0 {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        ts = ts.wrapping_add((ctl >> 2) as u64 * 1_000_003);
        let published = flow.verdict(&cfg).final_alerts;
        match ctl & 0b10 {
            0 => {
                let done = flow.is_inspection_done();
                let before = done.then(|| flow.verdict(&cfg));
                flow.feed(&cfg, dir, chunk, ts);
                if let Some(before) = before {
                    let after = flow.verdict(&cfg);
                    // Only counters (and volume-driven alerts) may move.
                    assert_eq!(after.protocol, before.protocol);
                    assert_eq!(after.content, before.content);
                    assert_eq!(after.dirs[0].entropy, before.dirs[0].entropy);
                    assert_eq!(after.dirs[1].entropy, before.dirs[1].entropy);
                }
            }
            _ => flow.gap(&cfg, dir, len as u64, ts),
        }
        let now = flow.verdict(&cfg);
        assert_eq!(
            now.alerts.and(published),
            published,
            "a final alert was taken back"
        );
        assert_eq!(now.final_alerts.without(now.alerts), AlertSet::EMPTY);
    }
    let published = flow.verdict(&cfg).final_alerts;
    let at_end = flow.verdict_at_end(&cfg, ts);
    flow.finish(&cfg, ts);
    let v = flow.verdict(&cfg);
    assert_eq!(v, at_end, "the verdict as if ended is the verdict at the end");
    assert_eq!(v.final_alerts, v.alerts, "at the end every alert is final");
    assert_eq!(v.alerts.and(published), published, "a final alert was taken back");
    assert!(v
        .dirs
        .iter()
        .all(|d| d.entropy.is_none_or(|e| (0.0..=8.0).contains(&e))));
    assert_eq!(core::mem::size_of_val(&flow), Flow::SIZE);
});
