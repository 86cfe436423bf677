//! League of Legends: Wild Rift (nDPI's `LoLWildRift`): a 69-byte datagram
//! that starts `04 00 00 00`, answered by a 359-byte one that starts `10 00
//! 00 00`. Nothing in either shows a key exchange (65 and 355 bytes with no
//! structure in sight), so the magic names the application and explains
//! nothing: the datagrams are measured, and `symmetric_only` names
//! `lol_wild_rift`. What random bytes pass: 2⁻³² and an exact length.

use super::{Datagram, Facts};
use crate::verdict::Protocol;

pub(crate) fn classify(d: &[u8]) -> Option<Datagram> {
    let opening = match d.len() {
        69 => [0x04, 0, 0, 0],
        359 => [0x10, 0, 0, 0],
        _ => return None,
    };
    d.starts_with(&opening)
        .then_some(Datagram::new(Protocol::LolWildRift, Facts::FRAMING))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_openings_and_only_at_their_lengths() {
        let mut d = [0x5cu8; 359];
        d[..4].copy_from_slice(&[0x10, 0, 0, 0]);
        assert!(classify(&d).is_some());
        assert!(classify(&d[..358]).is_none());
        d[..4].copy_from_slice(&[0x04, 0, 0, 0]);
        assert!(classify(&d[..69]).is_some());
        assert!(classify(&d).is_none());
    }
}
