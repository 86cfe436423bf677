//! The C ABI with bad arguments: wrong sizes, misaligned or uninitialized
//! state, NULL pointers, out-of-range directions, transports, knob names and
//! values, output buffers of any size. Every call must return an error code,
//! never crash.
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
        // A knob by (fuzzed or real) name, with a fuzzed text value.
        let knob = if data[2] & 1 == 0 {
            std::ffi::CStr::from_ptr(encchan_knob_name(data[2] as u32 % (encchan_knob_count() + 1)))
                .to_owned()
        } else {
            std::ffi::CString::new(data[..data.len().min(12)].iter().map(|&b| b.max(1)).collect::<Vec<u8>>())
                .unwrap()
        };
        let value = std::ffi::CString::new(
            data[3..data.len().min(24)].iter().map(|&b| b.max(1)).collect::<Vec<u8>>(),
        )
        .unwrap();
        let mut err = [0 as std::ffi::c_char; 64];
        let err_len = (data[4] as usize) % 65;
        let rc = encchan_config_set(cfg, knob.as_ptr(), value.as_ptr(), err.as_mut_ptr(), err_len);
        assert!(rc == 0 || rc < 0);
        let mut got = [0 as std::ffi::c_char; 32];
        let _ = encchan_config_get(cfg, knob.as_ptr(), got.as_mut_ptr(), (data[5] as usize) % 33);
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
        assert!((-7..=ENCCHAN_FEED_INSPECTION_DONE | ENCCHAN_FEED_NEWS).contains(&rc));
        let _ = encchan_flow_gap(cfg, state, size, data[7] % 3, 5, 2);
        let _ = encchan_flow_account(state, size, data[7] % 3, 5, 2);
        let _ = encchan_flow_finish(cfg, state, size, 3);
        let mut v = EncchanVerdict::default();
        let verdict = encchan_flow_verdict(cfg, state, size, &mut v);
        let mut side = 0u64;
        if encchan_flow_dir_bytes(state, size, data[6] % 3, &mut side) == 0 && verdict == 0 {
            // The read agrees with the verdict's count of that side.
            let i = usize::from(data[6] % 3);
            assert_eq!(v.dirs[if v.roles_swapped { 1 - i } else { i }].bytes, side);
        }
        let _ = encchan_flow_verdict_at_end(cfg, state, size, 4, &mut v);
        let mut text = [0 as std::ffi::c_char; 512];
        let text_len = (data[7] as usize) * 2 % 513;
        let _ = encchan_flow_report_json(cfg, state, size, ENCCHAN_NOW, text.as_mut_ptr(), text_len);
        let _ = encchan_flow_evidence_text(cfg, state, size, 5, data[6] as u32 % 10, text.as_mut_ptr(), text_len);
        let mut s = EncchanDirReport::default();
        let _ = encchan_byte_stats(ptr, payload.len(), 7.5, &mut s);
        let _ = encchan_entropy(ptr, payload.len());
        let _ = encchan_looks_like_tls(ptr, payload.len());
        encchan_config_free(cfg);
    }
});
