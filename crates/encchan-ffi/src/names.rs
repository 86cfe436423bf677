//! NUL-terminated copies of every name the engine hands out: built once
//! from the core's code lists (each enum's `ALL`, the knob table), so none
//! can be missing or differ. A lookup compares codes, not strings (EVE and
//! Zeek call these for every record).

use core::ffi::c_char;
use encchan_core::{Alert, Content, Encoding, Format, MalformReason, Protocol, KNOBS};
use std::ffi::CString;
use std::sync::OnceLock;

/// One kind's names, in the order of its `ALL` list, and its codes.
struct Names {
    codes: Vec<u32>,
    names: Vec<CString>,
}

impl Names {
    fn of<T: Copy>(all: &[T], code: fn(T) -> u8, name: fn(T) -> &'static str) -> Names {
        Names {
            codes: all.iter().map(|t| code(*t) as u32).collect(),
            names: all.iter().map(|t| c_string(name(*t))).collect(),
        }
    }

    /// The name with code `code`, "" when none has it.
    fn get(&self, code: u32) -> *const c_char {
        match self.codes.iter().position(|&c| c == code) {
            Some(i) => self.names[i].as_ptr(),
            None => c"".as_ptr(),
        }
    }
}

fn c_string(s: &str) -> CString {
    CString::new(s).expect("names hold no NUL")
}

struct Tables {
    alerts: Names,
    protocols: Names,
    contents: Names,
    formats: Names,
    reasons: Names,
    encodings: Names,
    knobs: Vec<CString>,
    zeek_options: Vec<CString>,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| Tables {
        alerts: Names::of(&Alert::ALL, Alert::code, Alert::name),
        protocols: Names::of(&Protocol::ALL, Protocol::code, Protocol::name),
        contents: Names::of(&Content::ALL, Content::code, Content::name),
        formats: Names::of(&Format::ALL, Format::code, Format::name),
        reasons: Names::of(
            &MalformReason::ALL,
            MalformReason::code,
            MalformReason::name,
        ),
        encodings: Names::of(&Encoding::ALL, Encoding::code, Encoding::name),
        knobs: KNOBS.iter().map(|k| c_string(k.name)).collect(),
        zeek_options: KNOBS.iter().map(|k| c_string(k.zeek)).collect(),
    })
}

/// Name of alert bit `bit`, e.g. "symmetric_only"; "" if unknown.
#[no_mangle]
pub extern "C" fn encchan_alert_name(bit: u32) -> *const c_char {
    tables().alerts.get(bit)
}

/// Name of a protocol code, e.g. "tls"; "" if none.
#[no_mangle]
pub extern "C" fn encchan_protocol_name(code: u8) -> *const c_char {
    tables().protocols.get(code as u32)
}

/// Name of a content code, e.g. "encrypted".
#[no_mangle]
pub extern "C" fn encchan_content_name(code: u8) -> *const c_char {
    tables().contents.get(code as u32)
}

/// Name of a format code, e.g. "gzip"; "" if none.
#[no_mangle]
pub extern "C" fn encchan_format_name(code: u8) -> *const c_char {
    tables().formats.get(code as u32)
}

/// Name of a framing-break reason code; "" if none.
#[no_mangle]
pub extern "C" fn encchan_reason_name(code: u8) -> *const c_char {
    tables().reasons.get(code as u32)
}

/// Name of an encoding code ("raw", "base64", "base32", "hex").
#[no_mangle]
pub extern "C" fn encchan_encoding_name(code: u8) -> *const c_char {
    tables().encodings.get(code as u32)
}

/// Name of knob `i` (0 to `encchan_knob_count()` − 1), e.g.
/// "entropy_threshold", "ports.tls"; "" past the end.
#[no_mangle]
pub extern "C" fn encchan_knob_name(i: u32) -> *const c_char {
    tables()
        .knobs
        .get(i as usize)
        .map_or(c"".as_ptr(), |s| s.as_ptr())
}

/// The Zeek option that sets knob `i` (without the `EncChan::` module), e.g.
/// "EntropyThreshold"; "" past the end.
#[no_mangle]
pub extern "C" fn encchan_knob_zeek_option(i: u32) -> *const c_char {
    tables()
        .zeek_options
        .get(i as usize)
        .map_or(c"".as_ptr(), |s| s.as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn name(p: *const c_char) -> &'static str {
        unsafe { CStr::from_ptr(p) }.to_str().unwrap()
    }

    /// Every code 0–255 of every kind: the C name is the core's name, and
    /// codes with no value have "". The core's `from_code` is generated from
    /// the same rows as each enum, so a value without a name cannot build.
    #[test]
    fn every_code_has_its_c_name() {
        for code in 0..=255u8 {
            let c = code as u32;
            assert_eq!(
                name(encchan_alert_name(c)),
                Alert::from_code(code).map_or("", Alert::name)
            );
            assert_eq!(
                name(encchan_protocol_name(code)),
                Protocol::from_code(code).map_or("", Protocol::name)
            );
            assert_eq!(
                name(encchan_content_name(code)),
                Content::from_code(code).map_or("", Content::name)
            );
            assert_eq!(
                name(encchan_format_name(code)),
                Format::from_code(code).map_or("", Format::name)
            );
            assert_eq!(
                name(encchan_reason_name(code)),
                MalformReason::from_code(code).map_or("", MalformReason::name)
            );
            assert_eq!(
                name(encchan_encoding_name(code)),
                Encoding::from_code(code).map_or("", Encoding::name)
            );
        }
        for a in Alert::ALL {
            assert_eq!(a.bit(), 1 << a.code(), "alert codes are bit positions");
        }
        for (i, k) in KNOBS.iter().enumerate() {
            assert_eq!(name(encchan_knob_name(i as u32)), k.name);
            assert_eq!(name(encchan_knob_zeek_option(i as u32)), k.zeek);
        }
        assert_eq!(name(encchan_knob_name(KNOBS.len() as u32)), "");
    }
}
