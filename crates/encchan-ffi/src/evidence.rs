//! One line of `key=value` text per alert, the same in every front end
//! (Zeek's encchan.log `evidence`, Suricata's EVE `encchan.evidence`).

use crate::{EncchanVerdict, ENCCHAN_DIR_TO_SERVER, ENCCHAN_NONE_U8, ENCODINGS, FORMATS, REASONS};
use core::fmt::Write;
use encchan_core::{Encoding, Format, MalformReason, Protocol};

/// A `fmt::Write` into a fixed buffer that keeps what fits and counts the
/// rest, so the caller learns the size it would have needed.
struct FixedBuf<'a> {
    buf: &'a mut [u8],
    written: usize,
    needed: usize,
}

impl Write for FixedBuf<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = self.buf.len().saturating_sub(self.written);
        let take = s.len().min(room);
        self.buf[self.written..self.written + take].copy_from_slice(&s.as_bytes()[..take]);
        self.written += take;
        self.needed += s.len();
        Ok(())
    }
}

fn side(dir: u8) -> &'static str {
    if dir == ENCCHAN_DIR_TO_SERVER {
        "orig"
    } else {
        "resp"
    }
}

fn name_of<T: Copy>(
    all: &[T],
    code: u8,
    code_of: fn(T) -> u8,
    name: fn(T) -> &'static str,
) -> &'static str {
    all.iter()
        .copied()
        .find(|t| code_of(*t) == code)
        .map_or("", name)
}

/// Writes the evidence of alert `bit` of `v` to `w`.
fn write_evidence(w: &mut impl Write, v: &EncchanVerdict, bit: u32) -> core::fmt::Result {
    let e = &v.evidence;
    match bit {
        // symmetric_only, encrypted_on_plaintext_port: the statistics of the
        // direction that crossed the threshold.
        0 | 2 => {
            let mut sep = "";
            if e.high_entropy_direction != ENCCHAN_NONE_U8 {
                let d = e.high_entropy_direction;
                let r = &v.dirs[usize::from(d != ENCCHAN_DIR_TO_SERVER)];
                write!(
                    w,
                    "direction={} entropy={:.3} collisions={} expected={:.1} printable={:.3} encoding={} inspected={}-{}",
                    side(d),
                    r.entropy,
                    r.collisions,
                    r.collisions_expected,
                    r.printable_fraction,
                    name_of(&ENCODINGS, r.encoding, |x| x as u8, Encoding::name),
                    r.measured_from,
                    r.measured_from + u64::from(r.inspected)
                )?;
                // Caught by the binary bytes alone: printable cover.
                if !r.high_entropy && r.binary_high_entropy {
                    write!(
                        w,
                        " cover=printable binary_bytes={} binary_entropy={:.3}",
                        r.binary_bytes, r.binary_entropy
                    )?;
                }
                if r.format != ENCCHAN_NONE_U8 {
                    write!(
                        w,
                        " format={}",
                        name_of(&FORMATS, r.format, |x| x as u8, Format::name)
                    )?;
                }
                sep = " ";
            }
            if e.framing_without_handshake {
                write!(w, "{sep}framing_without_handshake=T")?;
                sep = " ";
            }
            if bit == 2 && e.server_port >= 0 {
                write!(w, "{sep}server_port={}", e.server_port)?;
            }
        }
        1 => write!(w, "server_port={}", e.server_port)?,
        // handshake_incomplete, handshake_malformed
        3 | 4 if e.has_handshake => {
            write!(
                w,
                "protocol={} direction={} offset={}",
                name_of(
                    &Protocol::ALL,
                    e.handshake_protocol,
                    |x| x as u8,
                    Protocol::name
                ),
                side(e.handshake_direction),
                e.handshake_offset
            )?;
            if e.handshake_reason != ENCCHAN_NONE_U8 {
                let reason = name_of(
                    &REASONS,
                    e.handshake_reason,
                    |x| x as u8,
                    MalformReason::name,
                );
                write!(w, " reason={reason}")?;
            }
            write!(w, " elapsed_us={}", e.handshake_elapsed_us)?;
        }
        5 => write!(w, "cipher_suite=0x{:04x}", e.cipher_suite)?,
        6 => write!(
            w,
            "ratio={:.2} orig_bytes={} resp_bytes={}",
            e.asymmetry_ratio, v.dirs[0].bytes, v.dirs[1].bytes
        )?,
        _ => {}
    }
    Ok(())
}

/// Formats the evidence of alert `bit` into `buf` (NUL-terminated, cut to
/// fit) and returns the length the full text needs, without the NUL.
pub(crate) fn evidence_text(v: &EncchanVerdict, bit: u32, buf: &mut [u8]) -> usize {
    let Some(room) = buf.len().checked_sub(1) else {
        let mut sink = FixedBuf {
            buf: &mut [],
            written: 0,
            needed: 0,
        };
        let _ = write_evidence(&mut sink, v, bit);
        return sink.needed;
    };
    let mut w = FixedBuf {
        buf: &mut buf[..room],
        written: 0,
        needed: 0,
    };
    let _ = write_evidence(&mut w, v, bit);
    let (written, needed) = (w.written, w.needed);
    buf[written] = 0;
    needed
}
