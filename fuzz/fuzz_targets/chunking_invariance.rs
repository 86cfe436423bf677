//! Property: a TCP stream's verdict does not depend on how it was cut into
//! segments. The first byte picks the cut sizes, the rest is one client
//! stream and (after a marker length) one server stream, each fed whole in
//! one run and in pieces in the other, in the same direction order. The
//! first byte's high bit also picks whether explained bytes are measured.
#![no_main]

use encchan_core::{Config, Direction, Flow, FlowStart, Transport};
use libfuzzer_sys::fuzz_target;

fn run(client: &[u8], server: &[u8], step: usize, measure_known: bool) -> encchan_core::Verdict {
    let cfg = Config {
        measure_known_protocols: measure_known,
        ..Config::default()
    };
    let mut flow = Flow::new(Transport::Tcp, 40000, 4444, FlowStart::Observed, 0);
    for piece in client.chunks(step) {
        flow.feed(&cfg, Direction::ToServer, piece, 1);
    }
    for piece in server.chunks(step) {
        flow.feed(&cfg, Direction::ToClient, piece, 2);
    }
    flow.finish(&cfg, 3);
    flow.verdict(&cfg)
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let step = 1 + (data[0] & 0x7f) as usize % 97;
    let measure_known = data[0] & 0x80 != 0;
    let split = (u16::from_be_bytes([data[1], data[2]]) as usize).min(data.len() - 3);
    let (client, server) = data[3..].split_at(split);
    let whole = run(client, server, usize::MAX >> 1, measure_known);
    let cut = run(client, server, step, measure_known);
    assert_eq!(whole, cut, "step {step}");
});
