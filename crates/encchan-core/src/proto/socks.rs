//! SOCKS4, SOCKS4a (no RFC; the NEC/OpenSSH texts) and SOCKS5 (RFC 1928,
//! with RFC 1929 username/password): the proxy's handshake, then the
//! tunnel, handed over as an inner stream and sniffed afresh.
//!
//! Each direction is walked on its own, byte by byte:
//!
//! | side | SOCKS5 | SOCKS4/4a |
//! |---|---|---|
//! | client | `05 n methods…`, [`01 ulen user plen pass`], `05 cmd 00 atyp addr port` | `04 cmd port ipv4 userid 00` [`host 00`] |
//! | server | `05 method`, [`01 status`], `05 rep 00 atyp addr port` | `00 5a..5d port ipv4` |
//!
//! After the last message the tunnel starts: a TLS session through the
//! proxy is TLS (carrier `socks`), ciphertext with no handshake is measured
//! (`symmetric_only`, carrier `socks`). The client's request names the
//! destination, which the verdict reports and against which the tunnel's
//! protocol is held to its port profile.
//!
//! The probe runs the walker over the sniff window and accepts it when the
//! walker reaches the tunnel, or the window ends (the stream did) on a
//! message boundary. What random bytes pass: a SOCKS5 client needs `05`, a
//! method count of 1–9 with as many valid methods, and a valid next message
//! (< 2⁻³⁰); a SOCKS5 server `05`, a method, then `01 00` or `05 00-08 00
//! 01|03|04` (< 2⁻³⁰); a SOCKS4 client `04 01|02`, then a NUL-terminated
//! printable user id (< 2⁻²⁰); a SOCKS4 server only `00 5a..5d` and six
//! bytes (2⁻¹⁴): the weakest, and after DNS over TCP in the table, whose
//! length prefix it resembles. A false recognition costs little: the bytes
//! after it are still measured, with `socks` as their carrier.

use super::{Facts, Step, Unknown, Walk, Walker};
use crate::verdict::{Destination, MalformReason};

/// Where the walker is in the handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum State {
    /// The first byte: the version, which also tells the side apart for
    /// SOCKS4 (a client's `04`, a server's `00`).
    Version,
    /// SOCKS5: a client's method count, or a server's chosen method; then
    /// the client's methods.
    MethodCount,
    Methods,
    /// SOCKS5: the next message's first byte (`01` auth, `05` request or
    /// reply).
    NextMessage,
    /// RFC 1929 (client): user length, user, password length, password.
    UserLength,
    User,
    PasswordLength,
    Password,
    /// RFC 1929 (server): the status byte.
    AuthStatus,
    /// SOCKS5 request or reply: command / reply code, reserved, address
    /// type, address (`left` bytes; a name's length first), port.
    Command,
    Reserved,
    AddressType,
    NameLength,
    Address,
    Port,
    /// SOCKS4: reply code, and the client's command.
    Reply4,
    Command4,
    /// SOCKS4 fixed part (port and address), then NUL-terminated strings.
    Fixed4,
    UserId,
    Host4a,
}

/// Streaming SOCKS walker for one direction. 28 bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SocksWalker {
    state: State,
    /// Whether this direction is the client's (known after the first byte).
    client: bool,
    /// Bytes left in the current field.
    left: u8,
    /// Bytes read of the current field (address, port, SOCKS4 fixed part).
    read: u8,
    /// The address type of the request (1 IPv4, 3 name, 4 IPv6).
    atyp: u8,
    port: u16,
    /// The request's address, or the first 16 bytes of its host name.
    addr: [u8; 16],
    addr_len: u8,
    /// The host name was longer than `addr` holds.
    cut: bool,
    /// The walker stopped on a message boundary (for the probe).
    boundary: bool,
}
const _: () = assert!(core::mem::size_of::<SocksWalker>() <= 32);

/// Longest SOCKS4 user id or SOCKS4a host name accepted.
const MAX_STRING: u8 = 255;

impl SocksWalker {
    pub(crate) const fn new() -> Self {
        SocksWalker {
            state: State::Version,
            client: false,
            left: 0,
            read: 0,
            atyp: 0,
            port: 0,
            addr: [0; 16],
            addr_len: 0,
            cut: false,
            boundary: true,
        }
    }

    /// The destination the client's request named.
    pub(crate) fn destination(&self) -> Option<Destination> {
        if !self.client || self.addr_len == 0 {
            return None;
        }
        let a = &self.addr;
        Some(match self.atyp {
            1 => Destination::ipv4([a[0], a[1], a[2], a[3]], self.port),
            4 => Destination::ipv6(*a, self.port),
            _ => {
                let name = &a[..self.addr_len as usize];
                let mut d = Destination::name(name, self.port);
                if self.cut {
                    d.truncate();
                }
                d
            }
        })
    }

    /// One byte; `Err` when it cannot continue the handshake, `Ok(true)`
    /// when it was the handshake's last.
    fn byte(&mut self, b: u8) -> Result<bool, ()> {
        self.boundary = false;
        match self.state {
            State::Version => match b {
                5 => {
                    self.state = State::MethodCount;
                }
                4 => {
                    self.client = true;
                    self.state = State::Command4;
                }
                0 => {
                    self.state = State::Reply4;
                }
                _ => return Err(()),
            },
            State::MethodCount => {
                // A client's method count (1–9), or a server's choice of
                // method. A count is read as a client's greeting, tentatively:
                // a server that chose method 2 and then accepted the
                // password (`05 02`, `01 00`) reads the same up to its reply,
                // whose code tells the sides apart (see `Command`).
                if (1..=9).contains(&b) {
                    self.client = true;
                    self.left = b;
                    self.state = State::Methods;
                } else if b == 0 || b >= 0x80 {
                    self.client = false;
                    return self.end_message(State::NextMessage);
                } else {
                    return Err(());
                }
            }
            State::Methods => {
                if !(b <= 9 || (0x80..=0xfe).contains(&b)) {
                    return Err(());
                }
                self.left -= 1;
                if self.left == 0 {
                    return self.end_message(State::NextMessage);
                }
            }
            State::NextMessage => match (b, self.client) {
                (1, true) => self.state = State::UserLength,
                (1, false) => self.state = State::AuthStatus,
                (5, _) => self.state = State::Command,
                _ => return Err(()),
            },
            State::UserLength | State::PasswordLength => {
                self.left = b;
                self.state = if self.state == State::UserLength {
                    State::User
                } else {
                    State::Password
                };
                if b == 0 {
                    return self.after_string();
                }
            }
            State::User | State::Password => {
                self.left -= 1;
                if self.left == 0 {
                    return self.after_string();
                }
            }
            State::AuthStatus => return self.end_message(State::NextMessage),
            State::Command => {
                // A request's command is 1–3; a reply's code 0–8. A success
                // (0), or a code only replies have, makes this the server.
                if b > 8 {
                    return Err(());
                }
                if b == 0 || b > 3 {
                    self.client = false;
                }
                self.state = State::Reserved;
            }
            State::Reserved => {
                if b != 0 {
                    return Err(());
                }
                self.state = State::AddressType;
            }
            State::AddressType => {
                self.atyp = b;
                self.read = 0;
                match b {
                    1 => {
                        self.left = 4;
                        self.state = State::Address;
                    }
                    4 => {
                        self.left = 16;
                        self.state = State::Address;
                    }
                    3 => self.state = State::NameLength,
                    _ => return Err(()),
                }
            }
            State::NameLength => {
                if b == 0 {
                    return Err(());
                }
                self.left = b;
                self.cut = b as usize > self.addr.len();
                self.state = State::Address;
            }
            State::Address => {
                if self.atyp == 3 && !b.is_ascii_graphic() {
                    return Err(());
                }
                self.keep(b);
                self.left -= 1;
                if self.left == 0 {
                    self.read = 0;
                    self.state = State::Port;
                }
            }
            State::Port => {
                self.port = self.port << 8 | b as u16;
                self.read += 1;
                if self.read == 2 {
                    return Ok(true);
                }
            }
            State::Reply4 => {
                if !(0x5a..=0x5d).contains(&b) {
                    return Err(());
                }
                self.read = 0;
                self.state = State::Fixed4;
            }
            State::Command4 => {
                if !(1..=2).contains(&b) {
                    return Err(());
                }
                self.read = 0;
                self.state = State::Fixed4;
            }
            State::Fixed4 => {
                if self.read < 2 {
                    self.port = self.port << 8 | b as u16;
                } else {
                    self.keep(b);
                }
                self.read += 1;
                if self.read == 6 {
                    if !self.client {
                        return Ok(true);
                    }
                    self.atyp = 1;
                    self.left = 0;
                    self.state = State::UserId;
                }
            }
            State::UserId | State::Host4a => {
                if b == 0 {
                    if self.state == State::UserId && self.socks4a() {
                        self.addr_len = 0;
                        self.atyp = 3;
                        self.left = 0;
                        self.state = State::Host4a;
                        return Ok(false);
                    }
                    if self.state == State::Host4a && self.left == 0 {
                        return Err(());
                    }
                    return Ok(true);
                }
                if !b.is_ascii_graphic() || self.left == MAX_STRING {
                    return Err(());
                }
                self.left += 1;
                if self.state == State::Host4a {
                    self.cut = self.left as usize > self.addr.len();
                    self.keep(b);
                }
            }
        }
        Ok(false)
    }

    /// SOCKS4a: an address of 0.0.0.x with x ≠ 0 says a host name follows
    /// the user id.
    fn socks4a(&self) -> bool {
        self.addr[..3] == [0, 0, 0] && self.addr[3] != 0
    }

    fn keep(&mut self, b: u8) {
        if (self.addr_len as usize) < self.addr.len() {
            self.addr[self.addr_len as usize] = b;
            self.addr_len += 1;
        }
    }

    fn after_string(&mut self) -> Result<bool, ()> {
        if self.state == State::User {
            self.state = State::PasswordLength;
            return Ok(false);
        }
        self.end_message(State::NextMessage)
    }

    fn end_message(&mut self, next: State) -> Result<bool, ()> {
        self.state = next;
        self.boundary = true;
        Ok(false)
    }
}

impl Walk for SocksWalker {
    fn walk(&mut self, data: &[u8], offset: u64, _facts: &mut Facts) -> Step {
        for (i, &b) in data.iter().enumerate() {
            match self.byte(b) {
                Ok(false) => {}
                Ok(true) => return Step::hand_off(i + 1, Unknown::Measure),
                Err(()) => {
                    let at = offset + i as u64;
                    return Step::broken((MalformReason::BadMessage, at, at), offset, false);
                }
            }
        }
        Step::explain(data.len())
    }
}

/// The stream probe: the walker over the window reaches the tunnel, or
/// the stream ended on a message boundary.
pub(crate) fn probe(window: &[u8], complete: bool, version: u8) -> Option<Walker> {
    let first = *window.first()?;
    if (version == 5) != (first == 5) || !matches!(first, 0 | 4 | 5) {
        return None;
    }
    let mut w = SocksWalker::new();
    for &b in window {
        match w.byte(b) {
            Ok(true) => return Some(SocksWalker::new().into()),
            Ok(false) => {}
            Err(()) => return None,
        }
    }
    // The window ended inside the handshake: a whole first message at the
    // stream's end (a refused greeting, a lone method choice).
    let first_done = w.boundary && w.state == State::NextMessage;
    (complete && first_done).then(|| SocksWalker::new().into())
}

#[cfg(test)]
mod tests {
    use super::super::Next;
    use super::*;
    use crate::verdict::Host;

    /// Walks `stream` in chunks of `step`: where the walker stopped and how.
    fn walk(stream: &[u8], step: usize) -> (SocksWalker, u64, Next) {
        let mut w = SocksWalker::new();
        let (at, next) = super::super::walk_chunked(&mut w, stream, step, |_, _, _| {});
        (w, at, next)
    }

    const TUNNEL: &[u8] = b"\x16\x03\x01\x02\x00\x01";

    #[test]
    fn socks5_with_and_without_a_password_hands_the_tunnel_over() {
        // curl --socks5-hostname: greeting, a request by name.
        let mut c = b"\x05\x02\x00\x01\x05\x01\x00\x03\x0bexample.com\x01\xbb".to_vec();
        let head = c.len() as u64;
        c.extend_from_slice(TUNNEL);
        for step in [1, 2, 5, c.len()] {
            let (w, at, next) = walk(&c, step);
            assert_eq!((at, next), (head, Next::Inner(Unknown::Measure)));
            let d = w.destination().unwrap();
            assert_eq!(d.port, 443);
            assert_eq!(
                d.host(),
                Some(Host::Name {
                    name: "example.com",
                    truncated: false
                })
            );
        }
        assert!(probe(&c, false, 5).is_some());
        // With RFC 1929 credentials, to an IPv4 address.
        let c = b"\x05\x01\x02\x01\x05alice\x06secret\x05\x01\x00\x01\x0a\x00\x00\x07\x11\x5c";
        let (w, at, next) = walk(c, 3);
        assert_eq!((at, next), (c.len() as u64, Next::Inner(Unknown::Measure)));
        assert_eq!(
            w.destination(),
            Some(Destination::ipv4([10, 0, 0, 7], 4444))
        );
        // The server: no-auth choice, then a reply with its bound address.
        let mut s = b"\x05\x00\x05\x00\x00\x01\x7f\x00\x00\x01\x9c\x40".to_vec();
        let head = s.len() as u64;
        s.extend_from_slice(TUNNEL);
        for step in [1, 4, s.len()] {
            let (w, at, next) = walk(&s, step);
            assert_eq!((at, next), (head, Next::Inner(Unknown::Measure)));
            assert_eq!(w.destination(), None, "the bound address is not one");
        }
        // A server that asked for and accepted a password.
        let s = b"\x05\x02\x01\x00\x05\x00\x00\x01\x7f\x00\x00\x01\x9c\x40";
        assert_eq!(walk(s, 1).2, Next::Inner(Unknown::Measure));
        assert!(probe(s, false, 5).is_some());
    }

    #[test]
    fn socks4_and_4a_name_their_destination() {
        let c = b"\x04\x01\x00\x50\x5d\xb8\xd8\x22bob\x00";
        let (w, at, next) = walk(c, 2);
        assert_eq!((at, next), (c.len() as u64, Next::Inner(Unknown::Measure)));
        assert_eq!(
            w.destination(),
            Some(Destination::ipv4([93, 184, 216, 34], 80))
        );
        let c = b"\x04\x01\x01\xbb\x00\x00\x00\x01\x00a-rather-long-host.example.org\x00";
        let (w, _, next) = walk(c, 1);
        assert_eq!(next, Next::Inner(Unknown::Measure));
        let d = w.destination().unwrap();
        assert_eq!(d.port, 443);
        assert_eq!(
            d.host(),
            Some(Host::Name {
                name: "a-rather-long-ho",
                truncated: true
            })
        );
        let s = b"\x00\x5a\x00\x00\x00\x00\x00\x00";
        assert_eq!(walk(s, 1).2, Next::Inner(Unknown::Measure));
        assert!(probe(s, true, 4).is_some());
    }

    #[test]
    fn what_is_not_socks_is_not_claimed() {
        // A DNS-over-TCP length prefix is not a SOCKS4 reply unless its
        // second byte is one of the four reply codes.
        assert!(probe(b"\x00\x2c\x12\x34\x01\x00\x00\x01", false, 4).is_none());
        // A greeting alone, the stream going on: not yet.
        assert!(probe(b"\x05\x01\x00", false, 5).is_none());
        // ... and at the stream's end: a whole message.
        assert!(probe(b"\x05\x01\x00", true, 5).is_some());
        // Bad method, bad command, a name with a control byte.
        assert!(probe(b"\x05\x01\x50\x05\x01\x00\x01", false, 5).is_none());
        assert!(probe(
            b"\x05\x01\x00\x05\x09\x00\x01\x01\x02\x03\x04\x00\x50",
            false,
            5
        )
        .is_none());
        assert!(probe(b"\x05\x01\x00\x05\x01\x00\x03\x03a\x01b\x00\x50", false, 5).is_none());
        // Random bytes after `05` break at once in most cases.
        let (_, _, next) = walk(b"\x05\x01\x00\x9a\x31", 1);
        assert_eq!(next, Next::Broken(MalformReason::BadMessage, 3));
    }
}
