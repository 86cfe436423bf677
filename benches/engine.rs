//! Criterion benchmarks of the core engine: byte statistics at 64/512/1460-byte
//! payloads (and `ByteStats::update` per kernel), the inspection phase and the post-verdict path of a flow, TLS
//! walking, format detection, and flows/s of state init.
//!
//! `cargo bench -p encchan-core` — figures are bytes/s per core.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use encchan_core::stats::ByteStats;
use encchan_core::{format, summarize, Config, Direction, Flow, FlowStart, Kernel, Transport};

fn random(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn stats(c: &mut Criterion) {
    let mut g = c.benchmark_group("byte_stats");
    for size in [64usize, 512, 1460] {
        let data = random(size, 7);
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::from_parameter(size), &data, |b, d| {
            b.iter(|| summarize(black_box(d), 7.0))
        });
    }
    g.finish();

    // `ByteStats::update` on a 1460-byte payload with each kernel this CPU
    // runs, side by side.
    let mut g = c.benchmark_group("byte_stats_update_1460");
    let data = random(1460, 7);
    g.throughput(Throughput::Bytes(data.len() as u64));
    for kernel in Kernel::available() {
        g.bench_with_input(BenchmarkId::from_parameter(kernel.name()), &data, |b, d| {
            b.iter(|| {
                let mut s = ByteStats::new();
                s.update(kernel, black_box(d));
                black_box(s)
            })
        });
    }
    g.finish();
}

/// A whole flow: 64 packets per direction of `size` bytes. The first 4 KiB
/// per direction are inspected; the rest is the post-verdict path.
fn flow_path(c: &mut Criterion) {
    let cfg = Config::default();
    let mut g = c.benchmark_group("flow_feed_64_packets_per_direction");
    for size in [64usize, 512, 1460] {
        let data = random(size, 11);
        g.throughput(Throughput::Bytes((size * 128) as u64));
        g.bench_with_input(BenchmarkId::from_parameter(size), &data, |b, d| {
            b.iter(|| {
                let mut flow = Flow::new(Transport::Tcp, 40000, 4444, FlowStart::Observed, 0);
                for k in 0..64u64 {
                    flow.feed(&cfg, Direction::ToServer, d, k);
                    flow.feed(&cfg, Direction::ToClient, d, k);
                }
                black_box(flow.verdict(&cfg))
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("flow_inspection_phase_only");
    for size in [64usize, 512, 1460] {
        let data = random(size, 13);
        let packets = 4096usize.div_ceil(size) as u64;
        g.throughput(Throughput::Bytes(size as u64 * packets));
        g.bench_with_input(BenchmarkId::from_parameter(size), &data, |b, d| {
            b.iter(|| {
                let mut flow = Flow::new(Transport::Tcp, 40000, 4444, FlowStart::Observed, 0);
                for k in 0..packets {
                    flow.feed(&cfg, Direction::ToServer, d, k);
                }
                black_box(&flow);
            })
        });
    }
    g.finish();

    // A TLS client's inspection window: a ClientHello, then application
    // data records, in 1460-byte segments. By default the hello explains
    // the stream and only the walker runs; `measure_known_protocols` puts
    // the statistics back.
    let mut tls = Vec::new();
    let mut hello = vec![22, 3, 1, 0, 47, 1, 0, 0, 43, 3, 3];
    hello.extend([0u8; 32]);
    hello.extend([0, 0, 2, 0x13, 0x01, 1, 0, 0, 0]);
    tls.extend(&hello);
    let body = random(16384, 19);
    while tls.len() < 4096 + 1460 {
        tls.extend([23, 3, 3, 0x40, 0x00]);
        tls.extend(&body);
    }
    let mut g = c.benchmark_group("flow_inspection_phase_tls_1460");
    g.throughput(Throughput::Bytes(4096));
    for (name, measure) in [("explained", false), ("measured", true)] {
        let cfg = Config {
            measure_known_protocols: measure,
            ..Config::default()
        };
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut flow = Flow::new(Transport::Tcp, 40000, 443, FlowStart::Observed, 0);
                for (k, seg) in tls.chunks(1460).enumerate() {
                    flow.feed(&cfg, Direction::ToServer, seg, k as u64);
                    if flow.is_dir_inspection_done(Direction::ToServer) {
                        break;
                    }
                }
                black_box(&flow);
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("flow_after_verdict");
    let data = random(1460, 17);
    g.throughput(Throughput::Bytes(1460));
    let mut flow = Flow::new(Transport::Tcp, 40000, 4444, FlowStart::Observed, 0);
    for k in 0..4 {
        flow.feed(&cfg, Direction::ToServer, &data, k);
        flow.feed(&cfg, Direction::ToClient, &data, k);
    }
    assert!(flow.is_inspection_done());
    g.bench_function("1460", |b| {
        b.iter(|| flow.feed(&cfg, Direction::ToServer, black_box(&data), 9))
    });
    g.finish();
}

fn state_init(c: &mut Criterion) {
    let mut g = c.benchmark_group("state_init");
    g.throughput(Throughput::Elements(1));
    g.bench_function("flows", |b| {
        b.iter(|| {
            black_box(Flow::new(
                Transport::Tcp,
                black_box(40000),
                443,
                FlowStart::Observed,
                0,
            ))
        })
    });
    g.finish();
}

fn recognizers(c: &mut Criterion) {
    let mut g = c.benchmark_group("recognizers");
    let hello = {
        let mut v = vec![22u8, 3, 1, 0x02, 0x00, 1, 0, 0x01, 0xfc, 3, 3];
        v.extend(random(0x1fc - 2, 3));
        v
    };
    g.bench_function("looks_like_tls", |b| {
        b.iter(|| encchan_core::looks_like_tls(black_box(&hello)))
    });
    let gz = [
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9,
        0x57, 0xc8, 0x40, 0x90, 0x5c, 0x00, 0x3b, 0x7c, 0x8a, 0xdf, 0x12, 0x00, 0x00, 0x00, 0, 0,
        0,
    ];
    g.bench_function("format_detect_gzip", |b| {
        b.iter(|| format::detect(black_box(&gz)))
    });
    g.finish();
}

criterion_group!(benches, stats, flow_path, state_init, recognizers);
criterion_main!(benches);
