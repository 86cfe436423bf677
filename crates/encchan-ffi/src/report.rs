//! The engine's one serializer ([`encchan_core::report`]) for C hosts:
//! through callbacks (Suricata 8's JSON builder), as JSON text (Suricata
//! 7.0's own records, Lua), or one alert's evidence as `key=value` text
//! (Zeek's log).

use crate::{config, guard, out_buf, slot, verdict_of, write_c_text, EncchanConfig, EncchanStatus};
use core::ffi::{c_char, c_int, c_void};
use encchan_core::report::{self, JsonText, KeyValueText, Sink, Value};
use encchan_core::Alert;

/// Callbacks the serializer writes a verdict through. `key` is NULL for the
/// items of an array; strings are NUL-terminated and valid for the call
/// only. Every callback must be set.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct EncchanSink {
    pub ctx: *mut c_void,
    pub open_object: Option<unsafe extern "C" fn(ctx: *mut c_void, key: *const c_char)>,
    pub open_array: Option<unsafe extern "C" fn(ctx: *mut c_void, key: *const c_char)>,
    pub close: Option<unsafe extern "C" fn(ctx: *mut c_void)>,
    pub string:
        Option<unsafe extern "C" fn(ctx: *mut c_void, key: *const c_char, value: *const c_char)>,
    pub uint: Option<unsafe extern "C" fn(ctx: *mut c_void, key: *const c_char, value: u64)>,
    pub number: Option<unsafe extern "C" fn(ctx: *mut c_void, key: *const c_char, value: f64)>,
    pub boolean: Option<unsafe extern "C" fn(ctx: *mut c_void, key: *const c_char, value: bool)>,
    pub null: Option<unsafe extern "C" fn(ctx: *mut c_void, key: *const c_char)>,
}

/// A NUL-terminated copy of a short string (names, keys: all under 64
/// bytes; longer ones are cut).
struct CText([u8; 96]);

impl CText {
    fn new(s: &str) -> CText {
        let mut b = [0u8; 96];
        let n = s.len().min(b.len() - 1);
        b[..n].copy_from_slice(&s.as_bytes()[..n]);
        CText(b)
    }

    fn ptr(&self) -> *const c_char {
        self.0.as_ptr().cast()
    }
}

/// The C callbacks as a [`Sink`] (all checked non-NULL before use).
struct CSink<'a>(&'a EncchanSink);

impl CSink<'_> {
    fn key(key: Option<&str>) -> Option<CText> {
        key.map(CText::new)
    }
}

fn key_ptr(k: &Option<CText>) -> *const c_char {
    k.as_ref().map_or(core::ptr::null(), CText::ptr)
}

impl Sink for CSink<'_> {
    fn open_object(&mut self, key: Option<&str>) {
        let k = Self::key(key);
        if let Some(f) = self.0.open_object {
            unsafe { f(self.0.ctx, key_ptr(&k)) }
        }
    }

    fn open_array(&mut self, key: Option<&str>) {
        let k = Self::key(key);
        if let Some(f) = self.0.open_array {
            unsafe { f(self.0.ctx, key_ptr(&k)) }
        }
    }

    fn close(&mut self) {
        if let Some(f) = self.0.close {
            unsafe { f(self.0.ctx) }
        }
    }

    fn value(&mut self, key: Option<&str>, value: Value<'_>) {
        let k = Self::key(key);
        let (s, kp) = (self.0, key_ptr(&k));
        unsafe {
            match value {
                Value::Str(v) => {
                    if let Some(f) = s.string {
                        f(s.ctx, kp, CText::new(v).ptr())
                    }
                }
                Value::Uint(v) => {
                    if let Some(f) = s.uint {
                        f(s.ctx, kp, v)
                    }
                }
                Value::Float(v) => {
                    if let Some(f) = s.number {
                        f(s.ctx, kp, v)
                    }
                }
                Value::Bool(v) => {
                    if let Some(f) = s.boolean {
                        f(s.ctx, kp, v)
                    }
                }
                Value::Null => {
                    if let Some(f) = s.null {
                        f(s.ctx, kp)
                    }
                }
            }
        }
    }
}

/// Writes the flow's verdict (as of now, or with `at_end_us` a timestamp
/// as if the flow ended then: see `encchan_flow_verdict_at_end`) through
/// `sink`, as the members of an object the host has opened: the fields of
/// the NDJSON contract (protocol, content, alerts, evidence, bytes …).
#[no_mangle]
pub unsafe extern "C" fn encchan_flow_report(
    cfg: *const EncchanConfig,
    state: *const u8,
    len: usize,
    at_end_us: u64,
    sink: *const EncchanSink,
) -> c_int {
    guard(|| {
        let cfg = config(cfg)?;
        let slot = slot(state, len)?;
        let sink = sink.as_ref().ok_or(EncchanStatus::ErrNull)?;
        let all_set = sink.open_object.is_some()
            && sink.open_array.is_some()
            && sink.close.is_some()
            && sink.string.is_some()
            && sink.uint.is_some()
            && sink.number.is_some()
            && sink.boolean.is_some()
            && sink.null.is_some();
        if !all_set {
            return Err(EncchanStatus::ErrNull);
        }
        let v = verdict_of(cfg, &slot.flow, at_end_us);
        report::write_verdict(&v, cfg, &mut CSink(sink));
        Ok(0)
    })
}

/// Writes the flow's verdict as one JSON object (`{...}`, the same fields
/// as `encchan_flow_report`) into `buf` (`len` bytes, NUL-terminated, cut
/// to fit). Returns the length the whole text needs without the NUL (call
/// again with a bigger buffer when it is `>= len`), or a negative error.
#[no_mangle]
pub unsafe extern "C" fn encchan_flow_report_json(
    cfg: *const EncchanConfig,
    state: *const u8,
    len: usize,
    at_end_us: u64,
    buf: *mut c_char,
    buf_len: usize,
) -> c_int {
    guard(|| {
        let cfg = config(cfg)?;
        let slot = slot(state, len)?;
        let out = out_buf(buf, buf_len)?;
        let v = verdict_of(cfg, &slot.flow, at_end_us);
        let mut json = JsonText::new(String::new());
        json.open_object(None);
        report::write_verdict(&v, cfg, &mut json);
        json.close();
        let text = json.into_inner();
        Ok(c_int::try_from(write_c_text(out, &text)).unwrap_or(c_int::MAX))
    })
}

/// Writes the evidence of alert bit `bit` of the flow's verdict (as of now,
/// or as if ended at `at_end_us`) as one line of `key=value` text into
/// `buf` (as `encchan_flow_report_json` does); "" when the alert is not
/// raised.
#[no_mangle]
pub unsafe extern "C" fn encchan_flow_evidence_text(
    cfg: *const EncchanConfig,
    state: *const u8,
    len: usize,
    at_end_us: u64,
    bit: u32,
    buf: *mut c_char,
    buf_len: usize,
) -> c_int {
    guard(|| {
        let cfg = config(cfg)?;
        let slot = slot(state, len)?;
        let out = out_buf(buf, buf_len)?;
        let alert = u8::try_from(bit)
            .ok()
            .and_then(Alert::from_code)
            .ok_or(EncchanStatus::ErrArg)?;
        let v = verdict_of(cfg, &slot.flow, at_end_us);
        let mut text = KeyValueText::new(String::new());
        report::write_evidence(&v, cfg, alert, &mut text);
        let text = text.into_inner();
        Ok(c_int::try_from(write_c_text(out, &text)).unwrap_or(c_int::MAX))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::*;

    /// A symmetric-only flow built through the C functions themselves.
    fn symmetric_only_flow(cfg: *mut EncchanConfig) -> Vec<u64> {
        unsafe {
            let mut state = vec![0u64; encchan_state_size().div_ceil(8)];
            let (ptr, len) = (state.as_mut_ptr().cast::<u8>(), encchan_state_size());
            assert_eq!(
                encchan_flow_init(ptr, len, ENCCHAN_TRANSPORT_TCP, 50000, 4444, 0, 0),
                0
            );
            let mut x = 0x9e37_79b9_7f4a_7c15u64;
            let data: Vec<u8> = (0..8192)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            // Both sides short of the inspection budget: the alert is not
            // final while the flow goes on.
            encchan_flow_feed(cfg, ptr, len, 0, data.as_ptr(), 2000, 1);
            encchan_flow_feed(cfg, ptr, len, 1, data.as_ptr(), 512, 2);
            state
        }
    }

    #[test]
    fn json_and_evidence_text_come_from_the_one_serializer() {
        unsafe {
            let mut cfg = core::ptr::null_mut();
            assert_eq!(encchan_config_new(ENCCHAN_ABI_VERSION, &mut cfg), 0);
            // Without early verdicts (random bytes decide them at once).
            let (name, off) = (c"early_verdict_error", c"0");
            let set =
                encchan_config_set(cfg, name.as_ptr(), off.as_ptr(), core::ptr::null_mut(), 0);
            assert_eq!(set, 0);
            let mut state = symmetric_only_flow(cfg);
            let (ptr, len) = (state.as_mut_ptr().cast::<u8>(), encchan_state_size());
            let mut buf = vec![0 as c_char; 8192];
            // As of now, and as if the flow ended: the same alert, final
            // only at the end (the server side is still inspected).
            let n =
                encchan_flow_report_json(cfg, ptr, len, ENCCHAN_NOW, buf.as_mut_ptr(), buf.len());
            let now = std::ffi::CStr::from_ptr(buf.as_ptr())
                .to_str()
                .unwrap()
                .to_owned();
            assert_eq!(n as usize, now.len());
            assert!(
                now.starts_with("{\"protocol\":null,") && now.ends_with('}'),
                "{now}"
            );
            assert!(now.contains("\"alerts\":[\"symmetric_only\"]"), "{now}");
            assert!(now.contains("\"final_alerts\":[]"), "{now}");
            encchan_flow_report_json(cfg, ptr, len, 10, buf.as_mut_ptr(), buf.len());
            let end = std::ffi::CStr::from_ptr(buf.as_ptr()).to_str().unwrap();
            assert!(
                end.contains("\"final_alerts\":[\"symmetric_only\"]"),
                "{end}"
            );
            // The flow itself did not end.
            let mut v = EncchanVerdict::default();
            encchan_flow_verdict(cfg, ptr, len, &mut v);
            assert!(!v.ended && v.final_alerts == 0);

            let n = encchan_flow_evidence_text(
                cfg,
                ptr,
                len,
                ENCCHAN_NOW,
                0,
                buf.as_mut_ptr(),
                buf.len(),
            );
            let text = std::ffi::CStr::from_ptr(buf.as_ptr())
                .to_str()
                .unwrap()
                .to_owned();
            assert_eq!(n as usize, text.len());
            assert!(text.starts_with("direction=client entropy="), "{text}");
            assert!(text.contains(" offsets=0-2000 "), "{text}");
            // Cut to fit, NUL-terminated, the whole length reported.
            let mut small = [0x7f as c_char; 10];
            let m = encchan_flow_evidence_text(
                cfg,
                ptr,
                len,
                ENCCHAN_NOW,
                0,
                small.as_mut_ptr(),
                small.len(),
            );
            assert_eq!(m, n);
            assert_eq!(
                std::ffi::CStr::from_ptr(small.as_ptr()).to_str().unwrap(),
                &text[..9]
            );
            assert_eq!(
                encchan_flow_evidence_text(
                    cfg,
                    ptr,
                    len,
                    ENCCHAN_NOW,
                    1,
                    buf.as_mut_ptr(),
                    buf.len()
                ),
                0,
                "an alert not raised has no evidence"
            );
            assert_eq!(
                encchan_flow_evidence_text(
                    cfg,
                    ptr,
                    len,
                    ENCCHAN_NOW,
                    99,
                    buf.as_mut_ptr(),
                    buf.len()
                ),
                EncchanStatus::ErrArg as c_int
            );
            assert_eq!(
                encchan_flow_evidence_text(cfg, ptr, len, ENCCHAN_NOW, 0, core::ptr::null_mut(), 4),
                EncchanStatus::ErrNull as c_int
            );
            encchan_config_free(cfg);
        }
    }
}
