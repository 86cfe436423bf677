//! Every kernel this CPU runs gives the scalar kernel's summary, for
//! arbitrary bytes split at arbitrary points into `ByteStats::update` calls.
//! The first two input bytes choose the split points; the rest is the data.
#![no_main]

use encchan_core::stats::ByteStats;
use encchan_core::{summarize_with, Kernel};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let (splits, data) = input.split_at(input.len().min(2));
    let scalar = summarize_with(Kernel::scalar(), data, 7.5);
    for kernel in Kernel::available() {
        assert_eq!(summarize_with(kernel, data, 7.5), scalar, "{}", kernel.name());
        let mut s = ByteStats::new();
        let mut rest = data;
        for &at in splits {
            let (now, later) = rest.split_at((at as usize).min(rest.len()));
            s.update(kernel, now);
            rest = later;
        }
        s.update(kernel, rest);
        if data.len() <= 65536 {
            assert_eq!(s.summary(7.5), scalar, "{} split {splits:?}", kernel.name());
        }
    }
});
