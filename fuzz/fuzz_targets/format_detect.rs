//! Format detection and the buffer helpers on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = encchan_core::format::detect(&data[..data.len().min(encchan_core::format::PREFIX)]);
    let s = encchan_core::summarize(data, 7.5);
    assert!((0.0..=8.0).contains(&s.entropy));
    let _ = encchan_core::looks_like_tls(data);
    let h = encchan_core::shannon(data);
    assert!((0.0..=8.01).contains(&h));
});
