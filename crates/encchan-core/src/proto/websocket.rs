//! WebSocket frames (RFC 6455 §5.2), after an HTTP upgrade to `websocket`:
//! the HTTP walker switches a direction to this walker once the request (or
//! the `101` response) that upgrades it ends.
//!
//! Each frame header is checked as it streams by: a known opcode (data:
//! continuation, text, binary; control: close, ping, pong), RSV2 and RSV3
//! clear (RSV1 is permessage-deflate's), control frames whole and at most
//! 125 bytes, the mask bit set on the client's frames and clear on the
//! server's (§5.1), a 64-bit length with its top bit clear. Random bytes
//! pass one header with probability ~6/16 · 1/4 · 1/2 ≈ 5 %, and must pass
//! every following one. Payloads are the carrier's content: explained.

use super::{Facts, Step, Walk, Walker};
use crate::verdict::MalformReason;

/// Streaming WebSocket walker for one direction. 16 bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WebSocketWalker {
    /// Payload bytes of the current frame still to skip (saturating: the
    /// walker only ever sees the inspection window).
    left: u32,
    /// Header bytes read of the next frame, and how many it has.
    read: u8,
    need: u8,
    /// The frame's first two bytes.
    b0: u8,
    b1: u8,
    /// Frames of this direction are masked (the client's).
    masked: bool,
    /// The payload length being read (saturating).
    ext: u32,
}

impl WebSocketWalker {
    /// A walker at the first frame of the client's (`masked`) or the
    /// server's direction.
    pub(crate) const fn new(masked: bool) -> Self {
        WebSocketWalker {
            left: 0,
            read: 0,
            need: 2,
            b0: 0,
            b1: 0,
            masked,
            ext: 0,
        }
    }

    pub(crate) fn walker(masked: bool) -> Walker {
        WebSocketWalker::new(masked).into()
    }

    /// Whether the first two header bytes can start a frame of this
    /// direction; then how many header bytes the frame has.
    fn header_size(&self) -> Option<u8> {
        let (b0, b1) = (self.b0, self.b1);
        let opcode = b0 & 0x0f;
        let control = opcode & 0x08 != 0;
        let len7 = b1 & 0x7f;
        let ok = b0 & 0x30 == 0
            && matches!(opcode, 0 | 1 | 2 | 8 | 9 | 10)
            && (b1 & 0x80 != 0) == self.masked
            && (!control || (b0 & 0x80 != 0 && len7 <= 125));
        if !ok {
            return None;
        }
        let ext = match len7 {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        Some(2 + ext + if self.masked { 4 } else { 0 })
    }
}

impl Walk for WebSocketWalker {
    fn walk(&mut self, data: &[u8], offset: u64, _facts: &mut Facts) -> Step {
        let mut i = 0;
        while i < data.len() {
            if self.left > 0 {
                let take = (self.left as usize).min(data.len() - i);
                i += take;
                self.left -= take as u32;
                continue;
            }
            let b = data[i];
            i += 1;
            self.read += 1;
            match self.read {
                1 => self.b0 = b,
                2 => {
                    self.b1 = b;
                    match self.header_size() {
                        Some(n) => self.need = n,
                        None => {
                            let at = offset + i as u64 - 2;
                            return Step::broken(
                                (MalformReason::BadMessage, at, at + 2),
                                offset,
                                false,
                            );
                        }
                    }
                    self.ext = (b & 0x7f) as u32;
                    if self.b1 & 0x7f >= 126 {
                        self.ext = 0;
                    }
                }
                // The extended length, big-endian, its top bit clear.
                n if n <= 2 + (self.need - 2 - if self.masked { 4 } else { 0 }) => {
                    self.ext = if self.ext >> 24 != 0 {
                        u32::MAX
                    } else {
                        (self.ext << 8) | b as u32
                    };
                    if n == 3 && self.b1 & 0x7f == 127 && b & 0x80 != 0 {
                        let at = offset + i as u64 - 1;
                        return Step::broken(
                            (MalformReason::BadMessage, at, at + 1),
                            offset,
                            false,
                        );
                    }
                }
                // The masking key.
                _ => {}
            }
            if self.read == self.need {
                self.read = 0;
                self.left = self.ext;
                self.ext = 0;
            }
        }
        Step::explain(data.len())
    }
}

#[cfg(test)]
mod tests {
    use super::super::Next;
    use super::*;

    fn walk(masked: bool, stream: &[u8], step: usize) -> (u64, Next) {
        let mut w = WebSocketWalker::new(masked);
        let mut facts = Facts::EMPTY;
        let mut off = 0usize;
        for chunk in stream.chunks(step) {
            let mut i = 0;
            while i < chunk.len() {
                let s = w.walk(&chunk[i..], (off + i) as u64, &mut facts);
                i += s.len;
                if s.next != Next::Continue {
                    return ((off + i) as u64, s.next);
                }
            }
            off += chunk.len();
        }
        (off as u64, Next::Continue)
    }

    #[test]
    fn frames_of_each_length_form_are_walked() {
        // Server: text "hi", binary of 300 (16-bit length), a ping, then a
        // 64-bit length of 70 000 (its first 10 bytes).
        let mut s = [0xab; 8 + 300 + 2 + 10 + 10];
        s[..8].copy_from_slice(&[0x81, 2, b'h', b'i', 0x82, 126, 1, 44]);
        s[308..310].copy_from_slice(&[0x89, 0]);
        s[310..320].copy_from_slice(&[0x02, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]);
        for step in [1, 3, 1000] {
            assert_eq!(walk(false, &s, step), (s.len() as u64, Next::Continue));
        }
        // Client: a masked text frame.
        let c = [0x81, 0x83, 1, 2, 3, 4, 0x10, 0x20, 0x30];
        assert_eq!(walk(true, &c, 2), (9, Next::Continue));
    }

    #[test]
    fn a_wrong_mask_bit_or_opcode_breaks() {
        // An unmasked frame from the client.
        assert_eq!(
            walk(true, &[0x81, 0x02, b'h', b'i'], 1),
            (2, Next::Broken(MalformReason::BadMessage, 0))
        );
        // Opcode 3 (reserved) from the server.
        assert_eq!(
            walk(false, &[0x83, 0x00], 1),
            (2, Next::Broken(MalformReason::BadMessage, 0))
        );
        // A ping of 200 bytes.
        assert_eq!(
            walk(false, &[0x89, 126, 0, 200], 1),
            (2, Next::Broken(MalformReason::BadMessage, 0))
        );
    }
}
