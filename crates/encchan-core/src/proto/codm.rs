//! Call of Duty: Mobile's game state (nDPI's `CoD_Mobile`): datagrams of
//! bundled messages that start `ce`, whose loadouts travel with their names
//! in the clear (`LOC_PREFAB_LOADOUTNAME_…`).
//!
//! The name is a fixed string: it names the application and explains
//! nothing. The game's other datagrams (a client's input, bundles that
//! carry no name) are measured as if it were not recognized, and
//! `symmetric_only` names `cod_mobile`. What random bytes pass: 2⁻¹⁸⁴.

use super::{Datagram, Facts};
use crate::verdict::Protocol;

const LOADOUT: &[u8] = b"LOC_PREFAB_LOADOUTNAME_";

pub(crate) fn classify(d: &[u8]) -> Option<Datagram> {
    (d.len() > 350 && d[0] == 0xce && d.windows(LOADOUT.len()).any(|w| w == LOADOUT))
        .then_some(Datagram::new(Protocol::CodMobile, Facts::FRAMING))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_with_a_loadout_name() {
        let mut d = [0x38u8; 400];
        d[0] = 0xce;
        d[150..150 + LOADOUT.len()].copy_from_slice(LOADOUT);
        assert!(classify(&d).is_some());
        assert!(classify(&d[..300]).is_none());
        d[0] = 0xcf;
        assert!(classify(&d).is_none());
    }
}
