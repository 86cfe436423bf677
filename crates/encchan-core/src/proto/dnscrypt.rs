//! DNSCrypt v2 over UDP (the DNSCrypt protocol specification): each query
//! carries the client's X25519 public key, and the resolver's answer starts
//! with the resolver magic `r6fnvWj8` and echoes the client's half of the
//! nonce.
//!
//! | side | bytes |
//! |---|---|
//! | client | client magic (8, from the resolver's certificate), its public key (32), its nonce half (12), the sealed query (padded, a 16-byte tag) |
//! | resolver | `r6fnvWj8`, the client's nonce half (12), its own nonce half (12), the sealed answer |
//!
//! A query alone is random-looking bytes: a client's first datagram is
//! only remembered (its magic's and nonce's first bytes), and judged by the
//! other rows as usual. The flow is DNSCrypt when the other side answers
//! with the resolver magic and the remembered nonce: a public key answered
//! by the resolver, a hello on both sides (the certificate that made the
//! keys came earlier, in an ordinary DNS TXT answer). What random bytes
//! pass: 8 magic bytes and 4 echoed nonce bytes, 2⁻⁹⁶.

use super::{be32, Ctx, Datagram, Facts, Judgement};
use crate::verdict::Protocol;

const RESOLVER_MAGIC: &[u8; 8] = b"r6fnvWj8";

/// The shortest query: magic, key, nonce half, a 16-byte tag and a DNS
/// header's worth of sealed bytes.
const QUERY_MIN: usize = 8 + 32 + 12 + 16 + 12;
/// The shortest answer: magic, both nonce halves, a tag, a DNS header.
const ANSWER_MIN: usize = 8 + 24 + 16 + 12;

/// What a direction remembers: the first 4 bytes of its first datagram's
/// client magic and nonce half (when it may be a query), or that it
/// answered one.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Memory {
    magic: u32,
    nonce: u32,
    query: bool,
    answered: bool,
}

impl Memory {
    pub(crate) const fn new() -> Self {
        Memory {
            magic: 0,
            nonce: 0,
            query: false,
            answered: false,
        }
    }

    /// This direction sent a query the other answered, or answered one.
    pub fn candidate(&self) -> bool {
        self.query || self.answered
    }
}

fn answer(d: &[u8]) -> bool {
    d.len() >= ANSWER_MIN && d.starts_with(RESOLVER_MAGIC)
}

/// The datagram recognizer (see the module docs).
pub(crate) fn recognize(d: &[u8], ctx: &mut Ctx<'_>) -> Judgement {
    let hello = Datagram::new(Protocol::DnsCrypt, Facts::HELLO | Facts::FRAMING);
    match ctx.known {
        // A DNSCrypt flow: answers, and the client's later queries (its
        // magic again, each with its public key).
        Some(Protocol::DnsCrypt) => {
            let query = ctx.own.dnscrypt.query
                && d.len() >= QUERY_MIN
                && be32(d, 0) == Some(ctx.own.dnscrypt.magic);
            return Judgement::of((answer(d) || query).then_some(hello));
        }
        Some(_) => return Judgement::No,
        None => {}
    }
    let other = ctx.other.dnscrypt;
    if answer(d) && other.query && be32(d, 8) == Some(other.nonce) {
        ctx.own.dnscrypt.answered = true;
        return Judgement::Confirmed(hello);
    }
    if ctx.first && d.len() >= QUERY_MIN {
        let own = &mut ctx.own.dnscrypt;
        (own.magic, own.nonce, own.query) =
            (be32(d, 0).unwrap_or(0), be32(d, 40).unwrap_or(0), true);
    }
    Judgement::No
}

#[cfg(test)]
mod tests {
    use super::super::DatagramMemory;
    use super::*;

    fn judge(
        d: &[u8],
        known: Option<Protocol>,
        first: bool,
        own: &mut DatagramMemory,
        other: &DatagramMemory,
    ) -> Judgement {
        recognize(
            d,
            &mut Ctx {
                known,
                first,
                own,
                other,
            },
        )
    }

    #[test]
    fn a_query_answered_with_its_nonce_confirms_both_sides() {
        let mut query = [0x3cu8; 256];
        query[40..52].copy_from_slice(b"client-nonce");
        let mut answer = [0x7du8; 200];
        answer[..8].copy_from_slice(RESOLVER_MAGIC);
        answer[8..20].copy_from_slice(b"client-nonce");
        let (mut client, mut server) = (DatagramMemory::default(), DatagramMemory::default());
        assert_eq!(
            judge(&query, None, true, &mut client, &server),
            Judgement::No
        );
        assert!(client.held(Protocol::DnsCrypt));
        let j = judge(&answer, None, true, &mut server, &client);
        assert!(matches!(j, Judgement::Confirmed(g) if g.facts & Facts::HELLO != 0));
        assert!(server.held(Protocol::DnsCrypt));
        // Later datagrams of the flow.
        let known = Some(Protocol::DnsCrypt);
        assert!(matches!(
            judge(&query, known, false, &mut client, &server),
            Judgement::Yes(_)
        ));
        assert!(matches!(
            judge(&answer, known, false, &mut server, &client),
            Judgement::Yes(_)
        ));
        assert_eq!(
            judge(&[0u8; 300], known, false, &mut client, &server),
            Judgement::No
        );
    }

    #[test]
    fn an_answer_to_another_nonce_is_not_dnscrypt() {
        let query = [0x3cu8; 256];
        let mut answer = [0x7du8; 200];
        answer[..8].copy_from_slice(RESOLVER_MAGIC);
        let (mut client, mut server) = (DatagramMemory::default(), DatagramMemory::default());
        judge(&query, None, true, &mut client, &server);
        assert_eq!(
            judge(&answer, None, true, &mut server, &client),
            Judgement::No
        );
        // An answer with no query before it.
        let none = DatagramMemory::default();
        assert_eq!(
            judge(&answer, None, true, &mut server, &none),
            Judgement::No
        );
    }
}
