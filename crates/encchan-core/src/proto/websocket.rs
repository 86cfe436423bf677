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
//! every following one.
//!
//! Data frames' payloads are the carrier's content and are judged like HTTP
//! bodies: measured, after the client's masking key is removed as they
//! stream (text chat is text, ciphertext is ciphertext), unless the message
//! is compressed (RSV1, permessage-deflate). A connection whose first
//! binary payload opens a TLS handshake record or an SSH banner is a tunnel
//! of a key-exchange protocol (wstunnel and the like): its payloads are
//! explained. (That check reads five bytes; a C2 that puts a fake TLS
//! record header in front of its first message is not caught by it.)
//! Control frames are the carrier's own.

use super::{Facts, Step, Walk, Walker};
use crate::verdict::MalformReason;

/// Streaming WebSocket walker for one direction. 24 bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WebSocketWalker {
    /// Payload bytes of the current frame still to skip (saturating: the
    /// walker only ever sees the inspection window).
    left: u32,
    /// The payload length being read (saturating).
    ext: u32,
    /// The frame's masking key (the client's frames).
    key: [u8; 4],
    /// Header bytes read of the next frame, and how many it has.
    read: u8,
    need: u8,
    /// The frame's first two bytes.
    b0: u8,
    b1: u8,
    /// Frames of this direction are masked (the client's).
    masked: bool,
    /// How the current frame's payload is judged.
    payload: Payload,
    /// The current data message is compressed (its first frame had RSV1).
    compressed: bool,
    /// What the first binary payload said of the connection.
    tunnel: Tunnel,
    /// Payload bytes of this frame seen so far, mod 4 (the key's phase).
    phase: u8,
    /// The first binary payload's first bytes (unmasked), while they are
    /// read; how many were held when they were judged, and the stream
    /// offset of the first (saturating).
    first: [u8; 5],
    held: u8,
    first_at: u32,
}
const _: () = assert!(core::mem::size_of::<WebSocketWalker>() <= 32);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Payload {
    Explain,
    Measure,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Tunnel {
    /// No binary payload yet; the number of its first bytes read is in
    /// `Reading`.
    Unknown,
    Reading(u8),
    /// The first binary payload opened TLS or SSH: payloads are explained.
    KeyExchange,
    /// Anything else: payloads are measured.
    No,
}

impl WebSocketWalker {
    /// A walker at the first frame of the client's (`masked`) or the
    /// server's direction.
    pub(crate) const fn new(masked: bool) -> Self {
        WebSocketWalker {
            left: 0,
            ext: 0,
            key: [0; 4],
            read: 0,
            need: 2,
            b0: 0,
            b1: 0,
            masked,
            payload: Payload::Explain,
            compressed: false,
            tunnel: Tunnel::Unknown,
            phase: 0,
            first: [0; 5],
            held: 0,
            first_at: 0,
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

    /// The header is complete: how its payload is judged.
    fn start_payload(&mut self) {
        let opcode = self.b0 & 0x0f;
        if opcode == 1 || opcode == 2 {
            // The first frame of a message says whether it is compressed.
            self.compressed = self.b0 & 0x40 != 0;
        }
        let data = opcode <= 2;
        self.payload = if !data || self.compressed || self.tunnel == Tunnel::KeyExchange {
            Payload::Explain
        } else {
            Payload::Measure
        };
        if opcode == 2 && self.tunnel == Tunnel::Unknown && self.payload == Payload::Measure {
            self.tunnel = Tunnel::Reading(0);
        }
        self.phase = 0;
    }

    /// `n` payload bytes pass.
    fn skip(&mut self, n: usize) {
        self.left -= n as u32;
        self.phase = ((self.phase as usize + n) % 4) as u8;
    }

    /// The first binary payload's bytes held while the tunnel check read
    /// them, and the stream offset of the first (see [`Step::release`]).
    pub(crate) fn pending(&self) -> (&[u8], u64) {
        (&self.first[..self.held as usize], self.first_at as u64)
    }

    /// Reads the first binary payload's first bytes (unmasked): a TLS
    /// handshake record or an SSH banner makes the connection a tunnel. A
    /// payload shorter than five bytes (`ends`) opens neither.
    fn sniff_tunnel(&mut self, data: &[u8], ends: bool) {
        let Tunnel::Reading(mut n) = self.tunnel else {
            return;
        };
        for (j, &b) in data.iter().enumerate() {
            if n as usize == self.first.len() {
                break;
            }
            let key = if self.masked {
                self.key[(self.phase as usize + j) % 4]
            } else {
                0
            };
            self.first[n as usize] = b ^ key;
            n += 1;
        }
        if (n as usize) < self.first.len() {
            self.tunnel = if ends { Tunnel::No } else { Tunnel::Reading(n) };
            return;
        }
        let f = self.first;
        let tls = f[0] == 22 && f[1] == 3 && f[2] <= 4;
        self.tunnel = if tls || f[..4] == *b"SSH-" {
            Tunnel::KeyExchange
        } else {
            Tunnel::No
        };
    }
}

impl Walk for WebSocketWalker {
    fn walk(&mut self, data: &[u8], offset: u64, _facts: &mut Facts) -> Step {
        let mut i = 0;
        while i < data.len() {
            if self.left > 0 {
                // Payload: the tunnel check needs the first binary payload's
                // first five bytes before it can judge them; bytes read
                // before that are held, and released once it has.
                if let Tunnel::Reading(n) = self.tunnel {
                    if i > 0 {
                        return Step::explain(i);
                    }
                    if n == 0 {
                        self.first_at = offset.min(u32::MAX as u64) as u32;
                    }
                    let want = (self.first.len() - n as usize).min(self.left as usize);
                    let take = want.min(data.len());
                    self.sniff_tunnel(&data[..take], take as u32 == self.left);
                    match self.tunnel {
                        Tunnel::KeyExchange => self.payload = Payload::Explain,
                        Tunnel::Reading(_) => {
                            self.skip(take);
                            return Step::explain(take);
                        }
                        _ if n > 0 => {
                            self.held = n + take as u8;
                            self.skip(take);
                            return Step::release(take);
                        }
                        _ => {}
                    }
                }
                let take = (self.left as usize).min(data.len() - i);
                if self.payload == Payload::Measure {
                    if i > 0 {
                        return Step::explain(i);
                    }
                    let key = self.key_at(self.phase);
                    self.skip(take);
                    return Step::measure_masked(take, key);
                }
                i += take;
                self.skip(take);
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
                n if n <= self.need - if self.masked { 4 } else { 0 } => {
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
                n => self.key[(n - (self.need - 4) - 1) as usize] = b,
            }
            if self.read == self.need {
                self.read = 0;
                self.left = self.ext;
                self.ext = 0;
                self.start_payload();
            }
        }
        Step::explain(data.len())
    }
}

impl WebSocketWalker {
    /// The masking key rotated to start at payload phase `phase` (zero for
    /// the server's unmasked frames).
    fn key_at(&self, phase: u8) -> [u8; 4] {
        if !self.masked {
            return [0; 4];
        }
        let p = phase as usize;
        [
            self.key[p % 4],
            self.key[(p + 1) % 4],
            self.key[(p + 2) % 4],
            self.key[(p + 3) % 4],
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::super::Next;
    use super::*;

    /// Walks `stream` in chunks of `step`: where it ended, how it ended, and
    /// the bytes measured (unmasked; held bytes when they are released).
    fn walk(masked: bool, stream: &[u8], step: usize) -> (u64, Next, [u8; 64], usize) {
        let mut w = WebSocketWalker::new(masked);
        let (mut measured, mut m) = ([0u8; 64], 0);
        let mut keep = |b: u8| {
            if m < measured.len() {
                measured[m] = b;
            }
            m += 1;
        };
        let (at, next) = super::super::walk_chunked(&mut w, stream, step, |w, s, bytes| {
            if s.measure {
                for (k, b) in bytes.iter().enumerate() {
                    keep(b ^ s.xor[k % 4]);
                }
            }
            if s.release {
                w.pending().0.iter().for_each(|&b| keep(b));
            }
        });
        (at, next, measured, m)
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
            let (end, next, _, m) = walk(false, &s, step);
            assert_eq!((end, next), (s.len() as u64, Next::Continue));
            assert_eq!(
                m,
                2 + 300 + 10,
                "step {step}: text and binary payloads are measured"
            );
        }
    }

    #[test]
    fn the_clients_payload_is_unmasked_while_measured() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let text = b"hello websocket";
        let mut c = [0u8; 6 + 15];
        c[..6].copy_from_slice(&[0x81, 0x80 | 15, key[0], key[1], key[2], key[3]]);
        for (k, b) in text.iter().enumerate() {
            c[6 + k] = b ^ key[k % 4];
        }
        for step in [1, 2, 5, 21] {
            let (_, next, measured, m) = walk(true, &c, step);
            assert_eq!(next, Next::Continue);
            assert_eq!(&measured[..m.min(64)], text, "step {step}");
        }
    }

    #[test]
    fn compressed_messages_and_tunnels_are_explained() {
        // RSV1 set: permessage-deflate.
        let s = [0xc2, 4, 1, 2, 3, 4];
        assert_eq!(walk(false, &s, 2).3, 0);
        // A binary payload that opens a TLS handshake record: the tunnel's.
        let mut t = [0u8; 2 + 40 + 2 + 10];
        t[..2].copy_from_slice(&[0x82, 40]);
        t[2..7].copy_from_slice(&[22, 3, 1, 0, 35]);
        t[42..44].copy_from_slice(&[0x82, 10]);
        for step in [1, 3, 54] {
            assert_eq!(walk(false, &t, step).3, 0, "step {step}");
        }
    }

    #[test]
    fn a_wrong_mask_bit_or_opcode_breaks() {
        // An unmasked frame from the client.
        assert_eq!(
            walk(true, &[0x81, 0x02, b'h', b'i'], 1).1,
            Next::Broken(MalformReason::BadMessage, 0)
        );
        // Opcode 3 (reserved) from the server.
        assert_eq!(
            walk(false, &[0x83, 0x00], 1).1,
            Next::Broken(MalformReason::BadMessage, 0)
        );
        // A ping of 200 bytes.
        assert_eq!(
            walk(false, &[0x89, 126, 0, 200], 1).1,
            Next::Broken(MalformReason::BadMessage, 0)
        );
    }
}
