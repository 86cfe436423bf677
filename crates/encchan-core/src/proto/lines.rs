//! Line-oriented cleartext protocols: SMTP (RFC 5321), POP3 (RFC 1939),
//! IMAP (RFC 9051) and FTP's control connection (RFC 959).
//!
//! Each direction is a sequence of text lines (printable ASCII, 8-bit text
//! as 8BITMIME and UTF-8 mail carry it, tab, form feed, and ESC for
//! ISO-2022 mail), with the binary content these protocols announce in a
//! line of their own: IMAP literals (`{n}` at a line's end, then `n` bytes)
//! and SMTP's `BDAT n` chunks (RFC 3030). Base64 attachments and DATA
//! sections are lines like any other: the carrier's own content.
//!
//! A byte that cannot start a line hands the rest over to the sniffer: TLS
//! after STARTTLS, STLS or AUTH TLS is recognized there; anything else means
//! the framing broke at that byte, and what follows is measured (a banner in
//! front of ciphertext explains the banner only). A control byte inside a
//! line breaks the framing too; random bytes hold one every ~9 bytes.

use super::{Facts, Step, Unknown, Walk, Walker};
use crate::verdict::{MalformReason, Protocol};

/// Longest line accepted (SMTP allows 1000 bytes; mailers send longer).
const MAX_LINE: u32 = 64 * 1024;

/// Openers that name a protocol from either side's first bytes.
const OPENERS: &[(&[u8], Protocol)] = &[
    (b"EHLO ", Protocol::Smtp),
    (b"HELO ", Protocol::Smtp),
    (b"LHLO ", Protocol::Smtp),
    (b"+OK", Protocol::Pop3),
    (b"* OK", Protocol::Imap),
    (b"* PREAUTH", Protocol::Imap),
    (b"USER ", Protocol::Ftp),
    (b"FEAT\r\n", Protocol::Ftp),
    (b"SYST\r\n", Protocol::Ftp),
    (b"AUTH TLS\r\n", Protocol::Ftp),
    (b"AUTH SSL\r\n", Protocol::Ftp),
    // A POP3 client's first commands (USER is FTP's above: both are line
    // protocols, read alike).
    (b"CAPA\r\n", Protocol::Pop3),
    (b"STLS\r\n", Protocol::Pop3),
    (b"APOP ", Protocol::Pop3),
];

/// IMAP commands a client opens with, after its tag.
const IMAP_COMMANDS: &[&[u8]] = &[
    b"CAPABILITY",
    b"LOGIN ",
    b"AUTHENTICATE ",
    b"STARTTLS",
    b"ID ",
    b"NOOP",
];

/// The line protocol `w` (a sniff window) opens, if any. `220` greetings
/// are SMTP unless they say FTP; the client's first command settles it per
/// flow.
pub(crate) fn opener(w: &[u8]) -> Option<Protocol> {
    for (p, proto) in OPENERS {
        // Case as the RFCs' examples write it; clients that lower-case the
        // greeting command are common enough for SMTP.
        if w.len() >= p.len() && w[..p.len()].eq_ignore_ascii_case(p) {
            return Some(*proto);
        }
    }
    if w.len() >= 4 && (w.starts_with(b"220 ") || w.starts_with(b"220-")) {
        let line = match w.iter().position(|&b| b == b'\n') {
            Some(end) => &w[..end],
            None => w,
        };
        let says_ftp = line.windows(3).any(|x| x.eq_ignore_ascii_case(b"ftp"));
        return Some(if says_ftp {
            Protocol::Ftp
        } else {
            Protocol::Smtp
        });
    }
    imap_client(w).then_some(Protocol::Imap)
}

/// An IMAP client's first command: a tag of letters, digits and dots,
/// a space, and a command clients open with.
fn imap_client(w: &[u8]) -> bool {
    let Some(space) = w.iter().take(17).position(|&b| b == b' ') else {
        return false;
    };
    space > 0
        && w[..space]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'.')
        && IMAP_COMMANDS.iter().any(|c| {
            let rest = &w[space + 1..];
            rest.len() >= c.len() && rest[..c.len()].eq_ignore_ascii_case(c)
        })
}

/// The stream probe for `protocol`.
pub(crate) fn probe(w: &[u8], _complete: bool, protocol: Protocol) -> Option<Walker> {
    (opener(w)? == protocol).then(|| LineWalker::new(protocol).into())
}

/// Streaming line walker for one direction. 16 bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LineWalker {
    /// Binary bytes still to skip (a literal or BDAT chunk).
    left: u32,
    /// Length of the current line.
    line: u32,
    /// The number being read for a literal or BDAT chunk.
    number: u32,
    protocol: Protocol,
    /// Where the number reader stands (see `Number`).
    number_state: Number,
    /// Bytes of "BDAT " matched at the line's start.
    bdat: u8,
}
const _: () = assert!(core::mem::size_of::<LineWalker>() == 16);

/// Reading `{n}` before a line's end (IMAP), or `BDAT n` (SMTP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Number {
    None,
    /// Digits of the number.
    Digits,
    /// After the digits: `+` (IMAP non-synchronizing literal), `}`, CR.
    Closed,
    /// BDAT: digits read, the rest of the line (` LAST`) ignored.
    Done,
}

impl LineWalker {
    pub(crate) const fn new(protocol: Protocol) -> Self {
        LineWalker {
            left: 0,
            line: 0,
            number: 0,
            protocol,
            number_state: Number::None,
            bdat: 0,
        }
    }

    /// Text bytes (see the module docs).
    #[inline]
    fn text(b: u8) -> bool {
        b >= 0x20 && b != 0x7f || matches!(b, b'\t' | b'\r' | 0x0c | 0x1b)
    }

    fn digit(&mut self, b: u8) {
        self.number = self
            .number
            .saturating_mul(10)
            .saturating_add((b - b'0') as u32);
    }

    /// Tracks a literal or BDAT count through the line's bytes.
    fn track(&mut self, b: u8) {
        match self.protocol {
            Protocol::Imap => {
                self.number_state = match (self.number_state, b) {
                    (_, b'{') => {
                        self.number = 0;
                        Number::Digits
                    }
                    (Number::Digits, b'0'..=b'9') => {
                        self.digit(b);
                        Number::Digits
                    }
                    (Number::Digits, b'+' | b'}') => {
                        if b == b'}' {
                            Number::Closed
                        } else {
                            Number::Digits
                        }
                    }
                    (Number::Closed, b'\r') => Number::Closed,
                    _ => Number::None,
                };
            }
            Protocol::Smtp => {
                if self.bdat < 5 {
                    if self.line as usize == self.bdat as usize + 1
                        && b"BDAT ".get(self.bdat as usize) == Some(&b.to_ascii_uppercase())
                    {
                        self.bdat += 1;
                        if self.bdat == 5 {
                            self.number = 0;
                            self.number_state = Number::Digits;
                        }
                    }
                    return;
                }
                match (self.number_state, b) {
                    (Number::Digits, b'0'..=b'9') => self.digit(b),
                    (Number::Digits, _) => self.number_state = Number::Done,
                    _ => {}
                }
            }
            _ => {}
        }
    }

    /// The line ended: the count of binary bytes it announced, if any.
    fn end_line(&mut self) -> u32 {
        let announced = match (self.protocol, self.number_state) {
            (Protocol::Imap, Number::Closed) => self.number,
            (Protocol::Smtp, Number::Digits | Number::Done) if self.bdat == 5 => self.number,
            _ => 0,
        };
        self.line = 0;
        self.bdat = 0;
        self.number_state = Number::None;
        announced
    }
}

impl Walk for LineWalker {
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
            if b == b'\n' {
                i += 1;
                self.left = self.end_line();
                continue;
            }
            if !Self::text(b) || self.line >= MAX_LINE {
                let at = offset + i as u64;
                if self.line == 0 {
                    // Not a line at all: STARTTLS's TLS, or the framing broke.
                    return Step::hand_off(i, Unknown::Broken(MalformReason::BadMessage));
                }
                return Step::broken((MalformReason::BadMessage, at, at), offset, false);
            }
            self.line += 1;
            self.track(b);
            i += 1;
        }
        Step::explain(data.len())
    }
}

#[cfg(test)]
mod tests {
    use super::super::Next;
    use super::*;

    fn walk(protocol: Protocol, stream: &[u8], step: usize) -> (u64, Next) {
        let mut w = LineWalker::new(protocol);
        super::super::walk_chunked(&mut w, stream, step, |_, _, _| {})
    }

    #[test]
    fn lines_literals_and_chunks_are_explained() {
        let imap = b"a1 APPEND INBOX {5}\r\n\x00\x01\x02\x03\x04 FLAGS\r\na2 NOOP\r\n";
        let smtp = b"EHLO x\r\nBDAT 4 LAST\r\n\x00\xff\x01\x02QUIT\r\n";
        for step in [1, 2, 5, 100] {
            assert_eq!(
                walk(Protocol::Imap, imap, step),
                (imap.len() as u64, Next::Continue)
            );
            assert_eq!(
                walk(Protocol::Smtp, smtp, step),
                (smtp.len() as u64, Next::Continue)
            );
        }
    }

    #[test]
    fn a_banner_before_binary_hands_over_and_binary_in_a_line_breaks() {
        let banner = b"220 mail.example.com ESMTP Postfix\r\n";
        let mut stream = banner.to_vec();
        stream.extend_from_slice(&[0x16, 0x03, 0x01, 0x00]);
        assert_eq!(
            walk(Protocol::Smtp, &stream, 7),
            (
                banner.len() as u64,
                Next::Inner(Unknown::Broken(MalformReason::BadMessage))
            )
        );
        assert_eq!(
            walk(Protocol::Smtp, b"220 ok\r\nab\x02cd", 3),
            (10, Next::Broken(MalformReason::BadMessage, 10))
        );
    }

    #[test]
    fn openers() {
        assert_eq!(
            opener(b"220 ftp.example.org FTP server ready\r\n"),
            Some(Protocol::Ftp)
        );
        assert_eq!(
            opener(b"220-mail ESMTP\r\n220 ftp later\r\n"),
            Some(Protocol::Smtp)
        );
        assert_eq!(opener(b"a001 CAPABILITY\r\n"), Some(Protocol::Imap));
        assert_eq!(opener(b"ehlo client\r\n"), Some(Protocol::Smtp));
        assert_eq!(opener(b"hello world"), None);
    }
}
