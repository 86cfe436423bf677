//! The one stream walker of the applications' own protocols (see the
//! module docs of [`crate::proto`]): each application's module says what a
//! message header is ([`check`]); the walker reads headers byte by byte,
//! notes the facts each message shows, and skips its body, explained or
//! measured as the application's check says.
//!
//! A body is explained when the bytes are accounted for: ciphertext under
//! keys a handshake on the wire exchanged, or content in a compressed
//! format. It is measured when they are not: an application recognized by
//! a magic alone carries bytes nothing on the wire explains.

use super::{alicloud, hpvirtgrp, mtproto, spotify, tencent, whatsapp, Facts, Step, Walk};
use crate::verdict::{MalformReason, Protocol};

/// What an application's check says of a message header read so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Header {
    /// Fine so far; more header bytes are needed. Asked with no header byte
    /// at a message boundary, the next message has a header.
    More,
    /// A message of `len` bytes (header included) showing `facts`; its body
    /// is measured when `measure`.
    Message { len: u32, facts: u8, measure: bool },
    /// Asked at a message boundary (no header byte): the rest of the stream
    /// is one body showing `facts`, with no framing the engine can read
    /// (ciphertext whose headers are encrypted too).
    Rest { facts: u8, measure: bool },
    /// These bytes cannot start a message.
    Bad,
}

/// The longest header any check reads.
pub(crate) const HEADER: usize = 16;

/// Judges the header bytes `h` of a message of `protocol` (`h` grows by a
/// byte per call, from empty at a message boundary). `state` is the
/// application's own memory (0 at a stream's start).
fn check(protocol: Protocol, h: &[u8], state: &mut u8) -> Header {
    match protocol {
        Protocol::AliCloud => alicloud::header(h, state),
        Protocol::HpVirtGrp => hpvirtgrp::header(h, state),
        Protocol::Spotify => spotify::header(h, state),
        Protocol::WhatsApp => whatsapp::header(h, state),
        Protocol::MtProto => mtproto::header(h, state),
        Protocol::TencentGames => tencent::header(h, state),
        _ => Header::Bad,
    }
}

/// Streaming walker of an application's messages for one direction. 28
/// bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AppWalker {
    /// Bytes of the current message's body still to skip.
    left: u32,
    protocol: Protocol,
    /// The application's own memory (see [`check`]).
    state: u8,
    /// Header bytes read of the next message.
    header_len: u8,
    /// The body being skipped is measured.
    measure: bool,
    /// The rest of the stream is one body.
    rest: bool,
    header: [u8; HEADER],
}
const _: () = assert!(core::mem::size_of::<AppWalker>() <= 28);

impl AppWalker {
    pub(crate) const fn new(protocol: Protocol) -> Self {
        AppWalker {
            left: 0,
            protocol,
            state: 0,
            header_len: 0,
            measure: false,
            rest: false,
            header: [0; HEADER],
        }
    }

    fn body(&self, n: usize) -> Step {
        if self.measure {
            Step::measure(n)
        } else {
            Step::explain(n)
        }
    }
}

impl Walk for AppWalker {
    fn walk(&mut self, data: &[u8], offset: u64, facts: &mut Facts) -> Step {
        if self.rest {
            return self.body(data.len());
        }
        if self.left > 0 {
            let take = (self.left as usize).min(data.len());
            self.left -= take as u32;
            return self.body(take);
        }
        if self.header_len == 0 {
            if let Header::Rest { facts: f, measure } = check(self.protocol, &[], &mut self.state) {
                facts.set(f | Facts::FRAMING);
                self.rest = true;
                self.measure = measure;
                return self.body(data.len());
            }
        }
        // Header bytes, explained, until a message's header is complete.
        for (i, &b) in data.iter().enumerate() {
            let n = self.header_len as usize;
            self.header[n] = b;
            self.header_len += 1;
            match check(self.protocol, &self.header[..=n], &mut self.state) {
                Header::More if n + 1 < HEADER => {}
                Header::Message {
                    len,
                    facts: f,
                    measure,
                } if len as usize > n => {
                    facts.set(f | Facts::FRAMING);
                    self.left = len - (n as u32 + 1);
                    self.header_len = 0;
                    self.measure = measure;
                    return Step::explain(i + 1);
                }
                _ => {
                    let at = offset + i as u64;
                    return Step::broken((MalformReason::BadMessage, at, at + 1), offset, false);
                }
            }
        }
        Step::explain(data.len())
    }
}

/// Runs an application's walker over a sniff window: the facts its
/// messages showed, or `None` if its framing broke within the window (what
/// a probe runs to check more than the first header).
pub(crate) fn walk_window(protocol: Protocol, w: &[u8]) -> Option<Facts> {
    let mut walker = AppWalker::new(protocol);
    let mut facts = Facts::EMPTY;
    let mut at = 0;
    while at < w.len() {
        let step = walker.walk(&w[at..], at as u64, &mut facts);
        if step.next != super::Next::Continue {
            return None;
        }
        at += step.len;
    }
    Some(facts)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::Next;
    use super::*;

    /// What walking a stream came to: where the walker stopped (or the
    /// stream ended) and how, the bytes it measured, the facts it showed.
    pub(crate) type Walked = (u64, Next, usize, Facts);

    /// Walks `stream` through an application's walker in chunks of several
    /// sizes, requiring the same outcome each time (chunking invariance),
    /// and returns it.
    pub(crate) fn walk_app(protocol: Protocol, stream: &[u8]) -> Walked {
        let mut first: Option<Walked> = None;
        for step in [1, 2, 3, 7, 64, stream.len().max(1)] {
            let mut w = AppWalker::new(protocol);
            let (mut facts, mut measured) = (Facts::EMPTY, 0);
            let mut end = (stream.len() as u64, Next::Continue);
            'walk: for (k, chunk) in stream.chunks(step).enumerate() {
                let mut i = 0;
                while i < chunk.len() {
                    let at = (k * step + i) as u64;
                    let s = w.walk(&chunk[i..], at, &mut facts);
                    assert!(s.len > 0 || s.next != Next::Continue);
                    measured += if s.measure { s.len } else { 0 };
                    i += s.len;
                    if s.next != Next::Continue {
                        end = (at + s.len as u64, s.next);
                        break 'walk;
                    }
                }
            }
            let got = (end.0, end.1, measured, facts);
            match first {
                None => first = Some(got),
                Some(f) => assert_eq!(f, got, "{protocol:?} in chunks of {step}"),
            }
        }
        first.unwrap_or((0, Next::Continue, 0, Facts::EMPTY))
    }
}
