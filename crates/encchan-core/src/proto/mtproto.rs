//! Telegram's MTProto over its obfuscated transport ("obfuscated2", as
//! Telegram's MTProto transport documentation describes it): the client
//! opens with 64 random-looking bytes that carry their own key. Bytes 8–40
//! are an AES-256 key and 40–56 an IV; encrypting the whole init with
//! AES-256-CTR under them turns bytes 56–60 into the transport's tag
//! (`ef ef ef ef` abridged, `ee ee ee ee` intermediate, `dd dd dd dd`
//! padded intermediate). Everything after the init, both ways, is under
//! keys taken from it (the server's reversed), with MTProto's own
//! encryption inside.
//!
//! The init is the client's hello: it hands over the keys of both
//! directions, so the server's answer, which the engine cannot frame
//! without them, is all there is to see of the exchange (as with QUIC's
//! Initial, [`crate::detect`] takes a client hello and an answer for the
//! exchange). The rest of the client's stream is explained.
//!
//! What random bytes pass: one of three 32-bit tags after the decryption,
//! 3 · 2⁻³² ≈ 2⁻³⁰·⁴ per direction. The check decrypts one block (the
//! keystream block of counter IV + 3, which covers bytes 48–64) with the
//! RustCrypto `aes` crate.

use super::app::{AppWalker, Header};
use super::{Facts, Walker};
use crate::verdict::Protocol;
use aes::cipher::{BlockCipherEncrypt, KeyInit};

/// The init's length, and where its key, IV and tag lie.
const INIT: usize = 64;
const KEY: core::ops::Range<usize> = 8..40;
const IV: core::ops::Range<usize> = 40..56;
const TAG: core::ops::Range<usize> = 56..60;

/// The transport tags an init may announce.
const TAGS: [[u8; 4]; 3] = [[0xef; 4], [0xee; 4], [0xdd; 4]];

/// Whether `init` (64 bytes) encrypts a transport tag under its own key.
fn announces_transport(init: &[u8; INIT]) -> bool {
    let Ok(cipher) = aes::Aes256::new_from_slice(&init[KEY]) else {
        return false;
    };
    // CTR's counter is the IV as a 128-bit big-endian number; bytes 48–64
    // are under the keystream block of counter IV + 3.
    let mut iv = [0u8; 16];
    iv.copy_from_slice(&init[IV]);
    let counter = u128::from_be_bytes(iv).wrapping_add(3);
    let mut block = aes::Block::from(counter.to_be_bytes());
    cipher.encrypt_block(&mut block);
    let mut tag = [0u8; 4];
    for (k, t) in tag.iter_mut().enumerate() {
        *t = init[TAG.start + k] ^ block[TAG.start - 48 + k];
    }
    TAGS.contains(&tag)
}

/// The header read so far (`state`: 0 before the init). The init is one
/// message the probe vouched for; everything after it is one body.
pub(crate) fn header(h: &[u8], state: &mut u8) -> Header {
    match (*state, h.len()) {
        (0, 0) => Header::More,
        (0, _) => {
            *state = 1;
            Header::Message {
                len: INIT as u32,
                facts: Facts::HELLO,
                measure: false,
            }
        }
        _ => Header::Rest {
            facts: Facts::KEYED,
            measure: false,
        },
    }
}

/// The stream probe: a whole init whose key encrypts a transport tag.
pub(crate) fn probe(w: &[u8], _complete: bool) -> Option<Walker> {
    let init: &[u8; INIT] = w.get(..INIT)?.try_into().ok()?;
    announces_transport(init).then(|| AppWalker::new(Protocol::MtProto).into())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::app::tests::walk_app;
    use super::super::Next;
    use super::*;

    /// An init as a client builds one: random bytes, then bytes 56–60
    /// replaced by the tag encrypted under the init's own key and IV.
    pub(crate) fn init(seed: u64, tag: [u8; 4]) -> [u8; INIT] {
        let mut x = seed | 1;
        let mut init: [u8; INIT] = core::array::from_fn(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        });
        let cipher = aes::Aes256::new_from_slice(&init[KEY]).unwrap();
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&init[IV]);
        let mut block = aes::Block::from(u128::from_be_bytes(iv).wrapping_add(3).to_be_bytes());
        cipher.encrypt_block(&mut block);
        for k in 0..4 {
            init[56 + k] = tag[k] ^ block[8 + k];
        }
        init
    }

    #[test]
    fn inits_announcing_each_transport_are_recognized() {
        for (seed, tag) in [(1, [0xef; 4]), (2, [0xee; 4]), (3, [0xdd; 4])] {
            let i = init(seed, tag);
            assert!(probe(&i, false).is_some(), "{tag:x?}");
            let stream = [&i[..], &[0x42u8; 200]].concat();
            let (end, next, measured, facts) = walk_app(Protocol::MtProto, &stream);
            assert_eq!((end, next, measured), (264, Next::Continue, 0));
            assert!(facts.has(Facts::HELLO) && facts.has(Facts::KEYED));
        }
    }

    #[test]
    fn an_init_made_by_another_aes_implementation_is_recognized() {
        // Tag `ee ee ee ee` encrypted with pyca/cryptography's AES-256-CTR
        // under the init's key and IV, as a client does.
        let init: [u8; 32] = *b"\x78\x2e\xba\x94\x4d\x33\xe3\xb9\x68\xc1\xb7\xc2\x43\x88\x3e\xa2\
            \xd0\xbc\x7f\x5a\x6a\x86\xba\x9d\xf6\x37\x4f\x8b\xb4\x54\x84\x13";
        let rest: [u8; 32] = *b"\xbb\xc6\xff\xdd\x34\xb0\xc0\xba\x77\xec\xb5\xd4\xdf\xa7\x25\x88\
            \x36\xde\x69\xfa\x0e\xc5\x59\xa0\x92\xa0\x39\x34\xbe\x23\xc3\x53";
        let whole = [init, rest].concat();
        assert!(probe(&whole, false).is_some());
        let mut other = [0u8; INIT];
        other.copy_from_slice(&whole);
        other[58] ^= 0x01;
        assert!(probe(&other, false).is_none());
    }

    #[test]
    fn other_tags_and_short_windows_are_not_mtproto() {
        let mut i = init(4, [0xef; 4]);
        i[57] ^= 1;
        assert!(probe(&i, false).is_none());
        assert!(probe(&init(5, [0xef, 0xef, 0xef, 0xee]), false).is_none());
        assert!(probe(&init(6, [0xee; 4])[..63], true).is_none());
        // Random inits: one in 2^30 passes; none of these.
        let passed = (100..1100).filter(|&s| probe(&init(s, [s as u8; 4]), false).is_some());
        assert!(passed
            .map(|s| s as u8)
            .all(|t| [0xef, 0xee, 0xdd].contains(&t)));
    }
}
