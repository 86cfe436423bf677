//! The C ABI with bad arguments: wrong sizes, misaligned or uninitialized
//! state, NULL pointers, out-of-range directions, transports and knobs. Every
//! call must return an error code, never crash.
#![no_main]

use encchan::*;
use libfuzzer_sys::fuzz_target;

#[repr(C, align(16))]
struct Mem([u8; 1024]);

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    unsafe {
        let mut cfg: *mut EncchanConfig = std::ptr::null_mut();
        let abi = if data[0] & 1 == 0 {
            ENCCHAN_ABI_VERSION
        } else {
            data[1] as u32
        };
        let rc = encchan_config_new(abi, &mut cfg);
        assert!(rc == 0 || rc == EncchanStatus::ErrAbi as i32);
        let _ = encchan_config_set_entropy_threshold(
            cfg,
            f32::from_bits(u32::from_le_bytes([data[2], data[3], data[4], data[5]])),
        );
        let _ = encchan_config_set_inspect_budget(cfg, data[6] as u32 * 300);
        let mut mem = Mem([data[7]; 1024]);
        let size = (data[2] as usize * 4).min(1024);
        let offset = (data[3] & 7) as usize;
        let state = mem.0.as_mut_ptr().add(offset);
        let init = data[4] & 1 == 0;
        if init {
            let rc = encchan_flow_init(state, size, data[5] % 3, 1, 2, data[6] % 3, 0);
            assert!(rc <= 0);
        }
        let payload = &data[8..];
        let ptr = if data[5] & 4 == 0 {
            payload.as_ptr()
        } else {
            std::ptr::null()
        };
        let rc = encchan_flow_feed(cfg, state, size, data[6] % 3, ptr, payload.len(), 1);
        assert!(rc >= -7 && rc <= ENCCHAN_FEED_DECIDED);
        let _ = encchan_flow_gap(cfg, state, size, data[7] % 3, 5, 2);
        let _ = encchan_flow_account(state, size, data[7] % 3, 5, 2);
        let _ = encchan_flow_finish(cfg, state, size, 3);
        let mut v = EncchanVerdict::default();
        let _ = encchan_flow_verdict(cfg, state, size, &mut v);
        let mut s = EncchanDirReport::default();
        let _ = encchan_byte_stats(ptr, payload.len(), 7.5, &mut s);
        let _ = encchan_entropy(ptr, payload.len());
        let _ = encchan_looks_like_tls(ptr, payload.len());
        encchan_config_free(cfg);
    }
});
