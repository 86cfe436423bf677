//! The Rust side of the encchan Suricata plugin.
//!
//! The plugin itself is `c/plugin.c`, compiled against the headers of the
//! Suricata it loads into (8.0's installed headers, or 7.0's configured
//! source tree) and linked with this crate's static library, which carries
//! the engine's C ABI (`encchan-ffi`) and the parsing the glue should not do
//! by hand: the `encchan:` rule keyword's argument. The `encchan:` section
//! of suricata.yaml is read knob by knob from the engine's knob table
//! (`encchan_knob_name`, `encchan_config_set`).
//!
//! Suricata feeds the engine; the engine decides. Nothing here judges bytes.

use core::ffi::{c_char, CStr};
use encchan_core::Alert;

// Keep the engine's C ABI in this static library: the glue calls it.
pub use encchan::*;

/// Parses the argument of the `encchan` rule keyword into alert bits.
///
/// `symmetric_only`, `tls_unexpected_port, handshake_incomplete` (any of
/// them), `any` (every alert) or `none` (decided, no alert: returns 0).
/// Names are the engine's alert names; whitespace and quotes around the
/// list are ignored. `None` for an unknown name or an empty list.
pub fn parse_alerts(spec: &str) -> Option<u32> {
    let spec = spec.trim().trim_matches('"').trim();
    if spec == "none" {
        return Some(0);
    }
    let mut mask = 0u32;
    for name in spec.split(',').map(str::trim) {
        mask |= match name {
            "any" => Alert::ALL.iter().fold(0, |m, a| m | a.bit()),
            _ => Alert::ALL.iter().find(|a| a.name() == name)?.bit(),
        };
    }
    (mask != 0).then_some(mask)
}

/// C entry point of [`parse_alerts`]: the bits, 0 for `none`, -1 if the
/// argument is NULL, not UTF-8 or names an unknown alert.
///
/// # Safety
/// `spec` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn encchan_suricata_parse_alerts(spec: *const c_char) -> i64 {
    if spec.is_null() {
        return -1;
    }
    match CStr::from_ptr(spec).to_str().ok().and_then(parse_alerts) {
        Some(mask) => i64::from(mask),
        None => -1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_arguments() {
        assert_eq!(
            parse_alerts("symmetric_only"),
            Some(ENCCHAN_ALERT_SYMMETRIC_ONLY)
        );
        assert_eq!(
            parse_alerts(" \"tls_unexpected_port, rsa_key_exchange\" "),
            Some(ENCCHAN_ALERT_TLS_UNEXPECTED_PORT | ENCCHAN_ALERT_RSA_KEY_EXCHANGE)
        );
        assert_eq!(parse_alerts("any"), Some((1 << ENCCHAN_ALERT_COUNT) - 1));
        assert_eq!(parse_alerts("none"), Some(0));
        assert_eq!(parse_alerts("symmetric"), None);
        assert_eq!(parse_alerts(""), None);
        assert_eq!(parse_alerts("symmetric_only,"), None);
    }

    #[test]
    fn every_alert_name_is_a_keyword_argument() {
        for bit in 0..ENCCHAN_ALERT_COUNT {
            let name = unsafe { CStr::from_ptr(encchan_alert_name(bit)) };
            let mask = unsafe { encchan_suricata_parse_alerts(name.as_ptr()) };
            assert_eq!(mask, 1 << bit, "{name:?}");
        }
        assert_eq!(
            unsafe { encchan_suricata_parse_alerts(core::ptr::null()) },
            -1
        );
        assert_eq!(
            unsafe { encchan_suricata_parse_alerts(c"nope".as_ptr()) },
            -1
        );
    }
}
