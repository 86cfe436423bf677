//! Who the peers of a flow are: who is the client when the start was not
//! seen, and whether the destination is a group (broadcast, multicast)
//! rather than a peer.
//!
//! A host names the sides of a flow from the first packet it saw: the TCP
//! SYN's sender, else whoever spoke first. When the SYN was missed (a
//! capture that started mid-connection), or a UDP exchange was picked up
//! late, the first sender may be the server, and every port-profile rule
//! then judges the client's ephemeral port: a phone's TLS session to 443
//! reported as TLS on port 51234. The engine corrects the roles once, the
//! same way for every host (the CLI, Zeek, Suricata), the way Zeek does
//! with its likely server ports:
//!
//! 1. A TCP flow whose SYN was seen keeps its roles: the SYN says who
//!    called.
//! 2. Otherwise the side on a server port is the server: a port of the
//!    engine's profiles (`ports.tls`, `ports.ssh`, `ports.plaintext`) or a
//!    well-known port (below 1024), when the other side's is neither.
//! 3. Otherwise, over TCP, the side on the lower port is the server
//!    (ephemeral ports are high). Over UDP the first sender stays the
//!    client: peer-to-peer exchanges have no lower side.
//!
//! The flow swaps its directions internally ([`crate::Flow::feed`] and the
//! other calls take the host's directions) and says so in the verdict
//! (`roles_swapped`): the verdict's client is the side this rule chose, and
//! the host labels its addresses accordingly.

use crate::config::Config;
use crate::flow::{FlowStart, Transport};

/// Whether a port is where servers listen: profiled, or well-known.
fn server_port(cfg: &Config, port: u16) -> bool {
    port < 1024
        || cfg.ports.tls.contains(port)
        || cfg.ports.ssh.contains(port)
        || cfg.ports.plaintext.contains(port)
}

/// Whether the side the host took for the client (`client_port`) is the
/// server by the rule above.
pub fn roles_reversed(
    cfg: &Config,
    transport: Transport,
    start: FlowStart,
    client_port: u16,
    server_port_: u16,
) -> bool {
    if transport == Transport::Tcp && start == FlowStart::Observed {
        return false;
    }
    match (
        server_port(cfg, client_port),
        server_port(cfg, server_port_),
    ) {
        (true, false) => true,
        (false, true) => false,
        _ => transport == Transport::Tcp && client_port < server_port_,
    }
}

/// Whether `addr` (4 bytes IPv4, 16 bytes IPv6, network order) is a group
/// destination rather than a peer: IPv4 multicast (224.0.0.0/4), the
/// limited broadcast, an address ending in `.255` (a /24 or wider subnet's
/// broadcast: the host cannot know the netmask, and unicast hosts on `.255`
/// are rare), IPv6 multicast (`ff00::/8`). A datagram sent to a group is an
/// announcement (LAN discovery, mDNS, SSDP), not a channel to one peer:
/// `symmetric_only` is not raised on such flows.
pub fn is_group_address(addr: &[u8]) -> bool {
    match addr {
        [a, _, _, d] => (224..=239).contains(a) || *d == 255,
        [0xff, ..] if addr.len() == 16 => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_side_on_a_server_port_is_the_server() {
        let cfg = Config::default();
        let tcp = Transport::Tcp;
        let udp = Transport::Udp;
        let mid = FlowStart::Midstream;
        // A phone's session to 443 first seen from the server.
        assert!(roles_reversed(&cfg, tcp, mid, 443, 51234));
        assert!(!roles_reversed(&cfg, tcp, mid, 51234, 443));
        // The SYN was seen: it says who called, whatever the ports.
        assert!(!roles_reversed(&cfg, tcp, FlowStart::Observed, 443, 51234));
        // Neither on a server port: the lower port over TCP only.
        assert!(roles_reversed(&cfg, tcp, mid, 4444, 50000));
        assert!(!roles_reversed(&cfg, udp, FlowStart::Observed, 4444, 50000));
        // QUIC picked up from the server's datagram.
        assert!(roles_reversed(&cfg, udp, FlowStart::Observed, 443, 60001));
        // Both on server ports: the lower one.
        assert!(roles_reversed(&cfg, tcp, mid, 80, 443));
        assert!(!roles_reversed(&cfg, udp, FlowStart::Observed, 53, 123));
    }

    #[test]
    fn group_addresses_are_multicast_and_broadcast() {
        assert!(is_group_address(&[255, 255, 255, 255]));
        assert!(is_group_address(&[192, 168, 1, 255]));
        assert!(is_group_address(&[224, 0, 0, 251]));
        assert!(is_group_address(&[239, 255, 255, 250]));
        assert!(!is_group_address(&[192, 168, 1, 20]));
        let mut v6 = [0u8; 16];
        v6[0] = 0xff;
        v6[1] = 0x02;
        assert!(is_group_address(&v6));
        v6[0] = 0xfe;
        assert!(!is_group_address(&v6));
        assert!(!is_group_address(&[1, 2, 3]));
    }
}
