//! SSH-2: the version banner, then binary packets up to NEWKEYS.
//!
//! Before NEWKEYS, packets are in the clear (RFC 4253 §6): `uint32
//! packet_length, byte padding_length, payload, padding`. The walker checks
//! each header, notes KEXINIT (the hello) and NEWKEYS (keys in use), and
//! skips bodies by arithmetic. After NEWKEYS even the lengths may be
//! encrypted, so it stops.

use super::{Broken, Facts, Step, Walk, Walker};
use crate::verdict::MalformReason;

const MSG_KEXINIT: u8 = 20;
const MSG_NEWKEYS: u8 = 21;

/// OpenSSH refuses packets over 256 KiB (PACKET_MAX_SIZE).
const MAX_PACKET: u32 = 256 * 1024;
/// RFC 4253 §4.2: the banner line is at most 255 bytes; servers may send
/// other lines first, which we allow up to this many bytes in all.
const MAX_BANNER: u16 = 1024;

/// The stream probe: an SSH version banner.
pub(crate) fn probe(w: &[u8], _complete: bool) -> Option<Walker> {
    w.starts_with(b"SSH-").then(|| SshWalker::new().into())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Phase {
    Banner,
    Header,
    Body,
    Done,
}

/// Streaming SSH walker for one direction. 16 bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SshWalker {
    phase: Phase,
    header_len: u8,
    header: [u8; 6],
    banner_len: u16,
    body_left: u32,
}

const _: () = assert!(core::mem::size_of::<SshWalker>() == 16);

impl Walk for SshWalker {
    fn walk(&mut self, data: &[u8], offset: u64, facts: &mut Facts) -> Step {
        match self.feed(data, offset, facts) {
            Ok(()) => Step::explain(data.len()),
            Err(b) => Step::broken(b, offset, false),
        }
    }
}

impl SshWalker {
    pub(crate) const fn new() -> Self {
        SshWalker {
            phase: Phase::Banner,
            header_len: 0,
            header: [0; 6],
            banner_len: 0,
            body_left: 0,
        }
    }

    /// Walks `data`, whose first byte is at stream offset `offset`.
    pub(crate) fn feed(
        &mut self,
        data: &[u8],
        offset: u64,
        facts: &mut Facts,
    ) -> Result<(), Broken> {
        let mut i = 0;
        while i < data.len() {
            match self.phase {
                Phase::Done => return Ok(()),
                Phase::Banner => {
                    let b = data[i];
                    i += 1;
                    self.banner_len += 1;
                    if b == b'\n' {
                        facts.set(Facts::FRAMING);
                        self.phase = Phase::Header;
                    } else if self.banner_len > MAX_BANNER
                        || (b < 0x20 && b != b'\r' && b != b'\t')
                        || b >= 0x7f
                    {
                        return Err((
                            MalformReason::BadSshBanner,
                            offset + i as u64 - 1,
                            offset + i as u64,
                        ));
                    }
                }
                Phase::Header => {
                    self.header[self.header_len as usize] = data[i];
                    self.header_len += 1;
                    i += 1;
                    if self.header_len == 6 {
                        self.header_len = 0;
                        let at = offset + i as u64 - 6;
                        let h = self.header;
                        let len = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
                        let padding = h[4] as u32;
                        // length covers padding_length, payload and padding;
                        // padding is at least 4 and the payload at least
                        // its message type.
                        if !(12..=MAX_PACKET).contains(&len) || padding < 4 || padding + 2 > len {
                            return Err((MalformReason::BadSshPacket, at, offset + i as u64));
                        }
                        match h[5] {
                            MSG_KEXINIT => facts.set(Facts::HELLO),
                            MSG_NEWKEYS => {
                                facts.set(Facts::KEYED);
                                self.phase = Phase::Done;
                                return Ok(());
                            }
                            _ => {}
                        }
                        self.body_left = len - 2;
                        self.phase = Phase::Body;
                    }
                }
                Phase::Body => {
                    let take = (self.body_left as usize).min(data.len() - i);
                    i += take;
                    self.body_left -= take as u32;
                    if self.body_left == 0 {
                        self.phase = Phase::Header;
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(msg: u8, payload_len: usize, out: &mut [u8]) -> usize {
        // uint32 + padding_length + msg + payload + padding ≡ 0 (mod 8),
        // padding ≥ 4.
        let padding = 4 + (8 - (4 + 1 + 1 + payload_len + 4) % 8) % 8;
        let len = 1 + 1 + payload_len + padding;
        out[..4].copy_from_slice(&(len as u32).to_be_bytes());
        out[4] = padding as u8;
        out[5] = msg;
        4 + len
    }

    #[test]
    fn banner_kexinit_newkeys() {
        let mut buf = [0u8; 2048];
        let banner = b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
        buf[..banner.len()].copy_from_slice(banner);
        let mut n = banner.len();
        n += packet(MSG_KEXINIT, 600, &mut buf[n..]);
        n += packet(31, 300, &mut buf[n..]);
        n += packet(MSG_NEWKEYS, 0, &mut buf[n..]);
        for step in [1, 7, 100, n] {
            let mut w = SshWalker::new();
            let mut facts = Facts::default();
            let mut off = 0u64;
            for chunk in buf[..n].chunks(step) {
                w.feed(chunk, off, &mut facts).unwrap();
                off += chunk.len() as u64;
            }
            assert!(
                facts.has(Facts::HELLO) && facts.has(Facts::KEYED) && facts.has(Facts::FRAMING)
            );
        }
    }

    #[test]
    fn banner_then_garbage_is_malformed() {
        let mut buf = [0xA5u8; 64];
        buf[..8].copy_from_slice(b"SSH-2.0\n");
        let mut w = SshWalker::new();
        let mut facts = Facts::default();
        let err = w.feed(&buf, 0, &mut facts).unwrap_err();
        assert_eq!(err, (MalformReason::BadSshPacket, 8, 14));
    }
}
