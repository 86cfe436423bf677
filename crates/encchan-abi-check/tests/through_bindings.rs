//! Calls every kind of ABI function through the bindgen bindings and checks
//! struct sizes against the Rust definitions.

use encchan_abi_check::*;

#[test]
fn layouts_match_the_rust_side() {
    assert_eq!(
        std::mem::size_of::<EncchanVerdict>(),
        std::mem::size_of::<encchan::EncchanVerdict>()
    );
    assert_eq!(
        std::mem::size_of::<EncchanDirReport>(),
        std::mem::size_of::<encchan::EncchanDirReport>()
    );
    assert_eq!(
        std::mem::size_of::<EncchanEvidence>(),
        std::mem::size_of::<encchan::EncchanEvidence>()
    );
    assert_eq!(
        std::mem::size_of::<EncchanSink>(),
        std::mem::size_of::<encchan::EncchanSink>()
    );
    assert_eq!(ENCCHAN_ABI_VERSION, encchan::ENCCHAN_ABI_VERSION);
}

#[test]
fn a_flow_through_the_c_abi() {
    unsafe {
        assert_eq!(encchan_abi_version(), ENCCHAN_ABI_VERSION);
        let mut cfg: *mut EncchanConfig = std::ptr::null_mut();
        assert_eq!(
            encchan_config_new(ENCCHAN_ABI_VERSION, &mut cfg),
            EncchanStatus_ENCCHAN_STATUS_OK
        );
        assert_eq!(
            encchan_config_set(
                cfg,
                c"entropy_threshold".as_ptr(),
                c"0".as_ptr(),
                std::ptr::null_mut(),
                0
            ),
            EncchanStatus_ENCCHAN_STATUS_ERR_ARG
        );

        let size = encchan_state_size();
        let align = encchan_state_align();
        let layout = std::alloc::Layout::from_size_align(size, align).unwrap();
        let mem = std::alloc::alloc_zeroed(layout);
        assert_eq!(
            encchan_flow_init(
                mem,
                size,
                ENCCHAN_TRANSPORT_UDP as u8,
                5000,
                6000,
                ENCCHAN_START_OBSERVED as u8,
                0
            ),
            0
        );
        let mut x = 7u64;
        let datagram: Vec<u8> = (0..600)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        for ts in 0..3 {
            let r = encchan_flow_feed(
                cfg,
                mem,
                size,
                ENCCHAN_DIR_TO_SERVER as u8,
                datagram.as_ptr(),
                datagram.len(),
                ts,
            );
            assert!(r >= 0);
        }
        assert_eq!(encchan_flow_finish(cfg, mem, size, 10), 0);
        let mut v: EncchanVerdict = std::mem::zeroed();
        assert_eq!(encchan_flow_verdict(cfg, mem, size, &mut v), 0);
        assert_ne!(v.alerts & ENCCHAN_ALERT_SYMMETRIC_ONLY, 0);
        assert_eq!(v.dirs[0].bytes, 1800);
        let name = std::ffi::CStr::from_ptr(encchan_alert_name(0));
        assert_eq!(name.to_str().unwrap(), "symmetric_only");
        assert!(encchan_entropy(datagram.as_ptr(), datagram.len()) > 7.5);
        std::alloc::dealloc(mem, layout);
        encchan_config_free(cfg);
    }
}
