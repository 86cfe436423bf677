//! BitTorrent's DHT (BEP 5): KRPC messages, one bencoded dictionary per
//! datagram with a transaction id (`t`) and a message type (`y`: `q`, `r`
//! or `e`). A cleartext protocol: its high entropy is node ids and compact
//! node lists (random 160-bit ids and addresses), not ciphertext.
//!
//! The whole datagram must parse as one dictionary (nested at most 16
//! deep), with `t` and a one-letter `y` at its top level. What random bytes
//! pass: `d1:` alone is 2⁻²⁴, and a parse to the last byte with both keys
//! is far rarer.

use super::{Datagram, Facts};
use crate::verdict::Protocol;

/// The deepest nesting accepted.
const DEPTH: usize = 16;

/// A bencoded string at `at` (`len:bytes`): its bytes and the offset after.
fn string(d: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let mut len = 0usize;
    let mut i = at;
    while let Some(&b) = d.get(i) {
        match b {
            b'0'..=b'9' if i - at < 6 => len = len * 10 + (b - b'0') as usize,
            b':' if i > at => return Some((d.get(i + 1..i + 1 + len)?, i + 1 + len)),
            _ => return None,
        }
        i += 1;
    }
    None
}

/// A bencoded integer at `at` (`i-42e`): the offset after it.
fn integer(d: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    if d.get(i) == Some(&b'-') {
        i += 1;
    }
    let digits = d
        .get(i..)?
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    (digits > 0 && d.get(i + digits) == Some(&b'e')).then_some(i + digits + 1)
}

/// Whether `d` is exactly one dictionary with KRPC's `t` and `y` keys.
fn krpc(d: &[u8]) -> bool {
    if d.first() != Some(&b'd') {
        return false;
    }
    // Per open container: a dictionary (bit set) or a list; for a
    // dictionary, whether a key is expected next.
    let (mut dicts, mut want_key) = (0u32, 0u32);
    let mut depth = 0usize;
    let (mut t, mut y) = (false, false);
    let mut key: &[u8] = &[];
    let mut at = 0;
    while let Some(&b) = d.get(at) {
        let level = 1u32 << depth.saturating_sub(1);
        let in_dict = depth > 0 && dicts & level != 0;
        let expecting_key = in_dict && want_key & level != 0;
        if b == b'e' {
            if depth == 0 || (in_dict && !expecting_key) {
                return false;
            }
            depth -= 1;
            at += 1;
            if depth == 0 {
                return at == d.len() && t && y;
            }
        } else if expecting_key {
            let Some((k, next)) = string(d, at) else {
                return false;
            };
            key = k;
            want_key &= !level;
            at = next;
            continue;
        } else {
            let top_value = depth == 1;
            match b {
                b'd' | b'l' if depth < DEPTH => {
                    depth += 1;
                    let bit = 1u32 << (depth - 1);
                    if b == b'd' {
                        dicts |= bit;
                        want_key |= bit;
                    } else {
                        dicts &= !bit;
                    }
                    at += 1;
                    // The container is a value of its parent: the parent's
                    // next item is a key again once it closes (below).
                    if depth > 1 && dicts & level != 0 {
                        want_key |= level;
                    }
                    continue;
                }
                b'i' => match integer(d, at) {
                    Some(next) => at = next,
                    None => return false,
                },
                b'0'..=b'9' => match string(d, at) {
                    Some((v, next)) => {
                        if top_value {
                            t |= key == b"t";
                            y |= key == b"y" && matches!(v, b"q" | b"r" | b"e");
                        }
                        at = next;
                    }
                    None => return false,
                },
                _ => return false,
            }
        }
        // A value was read (or a container closed): its dictionary expects
        // a key next.
        let level = 1u32 << depth.saturating_sub(1);
        if depth > 0 && dicts & level != 0 {
            want_key |= level;
        }
    }
    false
}

pub(crate) fn classify(d: &[u8]) -> Option<Datagram> {
    krpc(d).then_some(Datagram::new(Protocol::BitTorrent, Facts::FRAMING))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A find_node query and its answer (eight compact nodes), from nDPI's
    /// targusdataspeed_false_positives.pcap.
    pub(crate) const QUERY: &[u8] =
        b"d1:ad2:id20:\xf6\x02w\x01\x98b\xc1\x1c\x95\xbe\xf4\xf3\x00\xefPV\xb7hJp6:tar\
          get20:\xf6\x02w\x01\x98b\xc1\x1c\x95\xbe\xf4\xf3\x00\xefPV\xb7hJqe1:q9:find_\
          node1:t8:\x88\xd2\x8d\xc3\xa1\x09\xd0P1:y1:qe";
    pub(crate) const ANSWER: &[u8] =
        b"d1:rd2:id20:\xf1L\x04\xc5\x1b*\xd2P\x88J\x15\xab\x9a|.\xfb\xff\xf4\x0f\xba5:\
          nodes208:\xf6\x00\xc3\xcf}\x84\xd6\xa6O\x92\xa5\x81\x1d\xa8\x88xr\xc7;t\xd5\
          \x88O\xcd\xc2\xe0\xf6\xf82u\xc5\xbc\x93\x87/\xdcZ\xfc\xb4\xe7\xaa\xfb*l\xa5\
          \xaf<}_\xea\x1f\x1f\xf7\x97\x84\xd4\x11\x09l\x1d\x0f$\xbaIY\xbb\xd4\x98\x1b\
          \x1ch\xdc\x05\xbd\xbc\x17\xb7S\xf4.\x22\x90\xd8\xf8\x9e\xca[\x1at\xd5\xd5\
          \x1fQ\xb7\x02]\x85\x92^H\x8e\xa5Sx\xf4h/y$\xf13w\x11\x9f\x1d\xdeD\xb1\xf7\
          \xa2\x17\x13%g\xc3\x9a\xb3\x02\xa7\xe2\xf4\xa07\xa6:v\x19\xa2\x08P!\x1dK\xb1\
          \xf7\xa2-\x9d5\x92\xc3\x9a\xac\xa9\xbc\x8d\xf5j\xda\x90\x0c\xb0\xa6\x8d1/\
          \xa7U\xba0\x0f\x22\x8a^\xeb\x98<V\x86\x08gm\xf5\xdf\xf4hb%\xb3\xb3+\x10f~[\
          \x09\x22\x9eG\xa3zbv\x9feXS\x19e1:t8:\x88\xd2\x8d\xc3\xa1\x09\xd0P1:y1:re";

    #[test]
    fn real_find_node_query_and_answer() {
        assert_eq!((QUERY.len(), ANSWER.len()), (98, 272));
        assert!(classify(QUERY).is_some());
        assert!(classify(ANSWER).is_some());
        // Cut anywhere, the answer is no longer one whole dictionary.
        for cut in 1..ANSWER.len() {
            assert!(classify(&ANSWER[..cut]).is_none(), "{cut}");
        }
    }

    #[test]
    fn krpc_messages_parse_to_their_end() {
        let query = b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe";
        assert!(classify(query).is_some());
        let answer = b"d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re";
        assert!(classify(answer).is_some());
        let error = b"d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee";
        assert!(classify(error).is_some());
        let nested = b"d2:ipl4:abcdi-3ee1:rd5:nodes0:e1:t1:x1:y1:re";
        assert!(classify(nested).is_some());
    }

    #[test]
    fn other_bencoding_and_garbage_are_not_krpc() {
        // No transaction id; a trailing byte; a key that is no string; an
        // unknown message type; unclosed.
        assert!(classify(b"d1:y1:qe").is_none());
        assert!(classify(b"d1:t2:aa1:y1:qex").is_none());
        assert!(classify(b"di1e1:t2:aa1:y1:qe").is_none());
        assert!(classify(b"d1:t2:aa1:y1:ze").is_none());
        assert!(classify(b"d1:t2:aa1:y1:q").is_none());
        assert!(classify(b"d1:t99:aa1:y1:qe").is_none());
        assert!(classify(&[b'd'; 40]).is_none());
    }
}
