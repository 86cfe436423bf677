//! From a link-layer frame to the transport payload: Ethernet (with VLAN and
//! QinQ), Linux SLL and SLL2, BSD loopback/NULL, raw IPv4/IPv6; IPv6
//! extension headers; and through tunnels to the innermost flow: GRE
//! (incl. transparent Ethernet bridging and ERSPAN I/II/III), IP-in-IP,
//! GTP-U, VXLAN and Geneve. Everything is a borrow of the frame.

use etherparse::{EtherType, NetSlice, SlicedPacket, TransportSlice};
use pcap_parser::Linktype;
use std::net::IpAddr;

/// TCP header fields the reassembler needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tcp {
    pub seq: u32,
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
}

/// A decoded TCP segment or UDP datagram.
#[derive(Debug)]
pub struct Segment<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    /// `None` for UDP.
    pub tcp: Option<Tcp>,
    pub payload: &'a [u8],
}

/// Why a frame yielded no segment (counted in the summary).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    /// A link type we do not decode.
    LinkType,
    /// Not IP, or broken headers.
    NotIp,
    /// A non-first IP fragment, or a fragmented datagram (not reassembled).
    Fragment,
    /// IP without TCP/UDP (ICMP, ESP …).
    OtherTransport,
}

const LINKTYPE_LINUX_SLL2: Linktype = Linktype(276);

/// How many tunnel layers are followed before giving up.
const MAX_TUNNEL_DEPTH: u8 = 4;

/// Decodes one frame.
pub fn decode(linktype: Linktype, data: &[u8]) -> Result<Segment<'_>, Skip> {
    decode_at(linktype, data, 0)
}

fn decode_at(linktype: Linktype, data: &[u8], depth: u8) -> Result<Segment<'_>, Skip> {
    let sliced = match linktype {
        Linktype::ETHERNET => SlicedPacket::from_ethernet(data),
        Linktype::LINUX_SLL => SlicedPacket::from_linux_sll(data),
        LINKTYPE_LINUX_SLL2 => {
            // SLL2: protocol type (2), reserved (2), ifindex (4), arphrd (2),
            // packet type (1), address length (1), address (8).
            let ether_type = data.get(..2).ok_or(Skip::NotIp)?;
            let payload = data.get(20..).ok_or(Skip::NotIp)?;
            SlicedPacket::from_ether_type(
                EtherType(u16::from_be_bytes([ether_type[0], ether_type[1]])),
                payload,
            )
        }
        // 4-byte address family, in the capturing host's byte order.
        Linktype::NULL | Linktype::LOOP => SlicedPacket::from_ip(data.get(4..).ok_or(Skip::NotIp)?),
        Linktype::RAW | Linktype::IPV4 | Linktype::IPV6 | Linktype(12) | Linktype(14) => {
            SlicedPacket::from_ip(data)
        }
        _ => return Err(Skip::LinkType),
    };
    let packet = sliced.map_err(|_| Skip::NotIp)?;
    let (src, dst, ip_payload) = match &packet.net {
        Some(NetSlice::Ipv4(v4)) => {
            let h = v4.header();
            (
                IpAddr::V4(h.source_addr()),
                IpAddr::V4(h.destination_addr()),
                v4.payload(),
            )
        }
        Some(NetSlice::Ipv6(v6)) => {
            let h = v6.header();
            (
                IpAddr::V6(h.source_addr()),
                IpAddr::V6(h.destination_addr()),
                v6.payload(),
            )
        }
        _ => return Err(Skip::NotIp),
    };
    let fragmented = ip_payload.fragmented;
    if depth < MAX_TUNNEL_DEPTH && !fragmented {
        if let Some((inner_link, inner)) = tunnel_inner(
            ip_payload.ip_number.0,
            &packet.transport,
            ip_payload.payload,
        ) {
            if let Ok(seg) = decode_at(inner_link, inner, depth + 1) {
                return Ok(seg);
            }
        }
    }
    match &packet.transport {
        Some(TransportSlice::Tcp(t)) => Ok(Segment {
            src,
            dst,
            sport: t.source_port(),
            dport: t.destination_port(),
            tcp: Some(Tcp {
                seq: t.sequence_number(),
                syn: t.syn(),
                ack: t.ack(),
                fin: t.fin(),
                rst: t.rst(),
            }),
            payload: t.payload(),
        }),
        Some(TransportSlice::Udp(u)) => Ok(Segment {
            src,
            dst,
            sport: u.source_port(),
            dport: u.destination_port(),
            tcp: None,
            payload: u.payload(),
        }),
        _ if fragmented => Err(Skip::Fragment),
        _ => Err(Skip::OtherTransport),
    }
}

/// The inner frame of a tunnel packet, as (link type, bytes).
fn tunnel_inner<'a>(
    ip_number: u8,
    transport: &Option<TransportSlice<'a>>,
    ip_payload: &'a [u8],
) -> Option<(Linktype, &'a [u8])> {
    match (ip_number, transport) {
        // IP-in-IP (IPv4 or IPv6 inside).
        (4 | 41, _) => Some((Linktype::RAW, ip_payload)),
        (47, _) => gre_inner(ip_payload),
        (_, Some(TransportSlice::Udp(u))) => {
            let p = u.payload();
            match (u.source_port(), u.destination_port()) {
                (2152, _) | (_, 2152) => gtp_u_inner(p),
                (4789, _) | (_, 4789) if p.len() > 8 && p[0] & 0x08 != 0 => {
                    Some((Linktype::ETHERNET, &p[8..]))
                }
                (6081, _) | (_, 6081) if p.len() >= 8 && p[0] >> 6 == 0 => {
                    let options = (p[0] & 0x3f) as usize * 4;
                    let protocol = u16::from_be_bytes([p[2], p[3]]);
                    let inner = p.get(8 + options..)?;
                    match protocol {
                        0x6558 => Some((Linktype::ETHERNET, inner)),
                        0x0800 | 0x86dd => Some((Linktype::RAW, inner)),
                        _ => None,
                    }
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// GRE (RFC 2784/2890): optional checksum, key and sequence words, then the
/// protocol type's payload.
fn gre_inner(p: &[u8]) -> Option<(Linktype, &[u8])> {
    let flags = u16::from_be_bytes([*p.first()?, *p.get(1)?]);
    let protocol = u16::from_be_bytes([*p.get(2)?, *p.get(3)?]);
    if flags & 0x0007 != 0 {
        return None; // only version 0
    }
    let mut at = 4;
    for bit in [0x8000u16, 0x2000, 0x1000] {
        if flags & bit != 0 {
            at += 4;
        }
    }
    let inner = p.get(at..)?;
    match protocol {
        0x0800 | 0x86dd => Some((Linktype::RAW, inner)),
        0x6558 => Some((Linktype::ETHERNET, inner)),
        // ERSPAN type II (8-byte header) and type III (12, + 8 optional).
        0x88be if flags & 0x1000 != 0 => Some((Linktype::ETHERNET, inner.get(8..)?)),
        0x88be => Some((Linktype::ETHERNET, inner)),
        0x22eb => {
            let optional = inner.get(11).is_some_and(|b| b & 0x01 != 0);
            Some((
                Linktype::ETHERNET,
                inner.get(if optional { 20 } else { 12 }..)?,
            ))
        }
        _ => None,
    }
}

/// GTP-U (3GPP TS 29.281) G-PDU: version 1, protocol type GTP, message 255;
/// optional sequence/N-PDU/extension fields and extension headers.
fn gtp_u_inner(p: &[u8]) -> Option<(Linktype, &[u8])> {
    let flags = *p.first()?;
    if flags >> 5 != 1 || flags & 0x10 == 0 || *p.get(1)? != 0xff {
        return None;
    }
    let mut at = 8;
    if flags & 0x07 != 0 {
        at = 12;
        let mut next = *p.get(11)?;
        while next != 0 {
            let units = *p.get(at)? as usize;
            if units == 0 {
                return None;
            }
            at += units * 4;
            next = *p.get(at - 1)?;
        }
    }
    let inner = p.get(at..)?;
    matches!(inner.first().map(|b| b >> 4), Some(4 | 6)).then_some((Linktype::RAW, inner))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_ipv4_udp() {
        // IPv4 header (20) + UDP header (8) + "hi"
        let mut p = vec![
            0x45, 0, 0, 30, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        p.extend_from_slice(&[0x30, 0x39, 0, 53, 0, 10, 0, 0, b'h', b'i']);
        let s = decode(Linktype::RAW, &p).unwrap();
        assert_eq!((s.sport, s.dport, s.payload), (12345, 53, &b"hi"[..]));
        assert!(s.tcp.is_none());
        assert_eq!(decode(Linktype::RAW, &p[..10]).unwrap_err(), Skip::NotIp);
        assert_eq!(decode(Linktype(9999), &p).unwrap_err(), Skip::LinkType);
    }
}
