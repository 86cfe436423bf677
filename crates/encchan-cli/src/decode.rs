//! From a link-layer frame to the transport payload, so that the flow table
//! only ever sees endpoints, TCP fields and payload bytes.
//!
//! Link layers: Ethernet (802.1Q VLAN, QinQ 0x88a8/0x9100, PPPoE sessions,
//! MPLS), Linux SLL and SLL2, BSD loopback NULL/LOOP, raw IPv4/IPv6
//! (101, 12, 14, 228, 229), PPP (9, 50), Cisco HDLC (104), FDDI (10),
//! NFLOG (239) and PPI (192). IP and TCP/UDP headers, including IPv6
//! extension headers, are etherparse's. Tunnels are followed to the
//! innermost flow: GRE (incl. transparent Ethernet bridging and ERSPAN
//! I/II/III), IP-in-IP, GTP-U, VXLAN and Geneve.
//!
//! Packets cut by the capture's snap length are kept: the payload is what
//! was captured and [`Segment::missing`] says how many bytes were cut.
//! Fragmented IP datagrams are not reassembled: a first IPv4 fragment that
//! carries a whole TCP header is decoded (the rest of its payload shows up
//! as a hole in the stream); every other fragment is skipped and counted.
//! A partial UDP datagram would mislead datagram parsers, so UDP fragments
//! are skipped too.
//!
//! Everything is a borrow of the frame; nothing here can panic on input.

use etherparse::{LaxNetSlice, LaxSlicedPacket, TcpSlice, TransportSlice};
use pcap_parser::Linktype;
use std::net::IpAddr;

/// TCP header fields the reassembler needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tcp {
    pub seq: u32,
    /// The acknowledgment number (meaningful with `ack`).
    pub ack_seq: u32,
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
    /// The captured payload.
    pub payload: &'a [u8],
    /// Payload bytes that were on the wire after `payload` but are not in
    /// the capture (snap length).
    pub missing: u64,
}

/// Why a frame yielded no segment (counted in the summary).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    /// A link type we do not decode.
    LinkType,
    /// Not IP (ARP, STP, …).
    NotIp,
    /// IP whose headers are cut or broken.
    Malformed,
    /// An IP fragment (not reassembled).
    Fragment,
    /// IP without TCP/UDP (ICMP, ESP …).
    OtherTransport,
}

/// The link type a pcapng packet gets when its interface is unknown.
pub const LINKTYPE_UNKNOWN: Linktype = Linktype(-1);

/// How many encapsulation layers (tunnels, PPI) are followed.
const MAX_DEPTH: u8 = 4;

/// Decodes one frame.
pub fn decode(linktype: Linktype, data: &[u8]) -> Result<Segment<'_>, Skip> {
    decode_at(linktype, data, 0)
}

fn decode_at(linktype: Linktype, data: &[u8], depth: u8) -> Result<Segment<'_>, Skip> {
    let ip_bytes = link(linktype, data, depth)?;
    ip(ip_bytes, depth)
}

/// Strips the link layer: the bytes of the IP packet.
fn link(linktype: Linktype, data: &[u8], depth: u8) -> Result<&[u8], Skip> {
    match linktype.0 {
        1 => ethernet(data),
        // Linux SLL: packet type (2), ARPHRD (2), address length (2),
        // address (8), protocol (2).
        113 => ether_type(be16(data, 14)?, data.get(16..).ok_or(Skip::NotIp)?),
        // SLL2: protocol (2), reserved (2), ifindex (4), ARPHRD (2), packet
        // type (1), address length (1), address (8).
        276 => ether_type(be16(data, 0)?, data.get(20..).ok_or(Skip::NotIp)?),
        // BSD loopback: the address family in 4 bytes, host byte order for
        // NULL, network byte order for LOOP (both accepted for both).
        0 | 108 => {
            let family = data.get(..4).ok_or(Skip::NotIp)?;
            let le = u32::from_le_bytes([family[0], family[1], family[2], family[3]]);
            let family = if le > 0xffff { le.swap_bytes() } else { le };
            match family {
                // AF_INET; AF_INET6 on NetBSD/OpenBSD, FreeBSD, macOS.
                2 | 24 | 28 | 30 => data.get(4..).ok_or(Skip::NotIp),
                _ => Err(Skip::NotIp),
            }
        }
        101 | 12 | 14 | 228 | 229 => Ok(data),
        9 | 50 => ppp(data),
        // Cisco HDLC: address, control, Ethernet type.
        104 => ether_type(be16(data, 2)?, data.get(4..).ok_or(Skip::NotIp)?),
        // FDDI: frame control (1), addresses (12), then LLC/SNAP.
        10 => llc_snap(data.get(13..).ok_or(Skip::NotIp)?),
        239 => nflog(data),
        // PPI: version, flags, header length (LE), link type (LE).
        192 if depth < MAX_DEPTH => {
            let len = usize::from(u16::from_le_bytes([
                *data.get(2).ok_or(Skip::NotIp)?,
                *data.get(3).ok_or(Skip::NotIp)?,
            ]));
            let dlt = data.get(4..8).ok_or(Skip::NotIp)?;
            let dlt = i32::from_le_bytes([dlt[0], dlt[1], dlt[2], dlt[3]]);
            link(
                Linktype(dlt),
                data.get(len..).ok_or(Skip::NotIp)?,
                depth + 1,
            )
        }
        _ => Err(Skip::LinkType),
    }
}

fn be16(data: &[u8], at: usize) -> Result<u16, Skip> {
    match data.get(at..at + 2) {
        Some(b) => Ok(u16::from_be_bytes([b[0], b[1]])),
        None => Err(Skip::NotIp),
    }
}

fn ethernet(data: &[u8]) -> Result<&[u8], Skip> {
    let et = be16(data, 12)?;
    if et < 0x0600 {
        // 802.3 length field: LLC (STP, NetBEUI …), or SNAP with a type.
        return llc_snap(data.get(14..).ok_or(Skip::NotIp)?);
    }
    ether_type(et, data.get(14..).ok_or(Skip::NotIp)?)
}

/// 802.2 LLC with a SNAP header carrying an Ethernet type.
fn llc_snap(data: &[u8]) -> Result<&[u8], Skip> {
    match data.get(..3) {
        Some([0xaa, 0xaa, 0x03]) => ether_type(be16(data, 6)?, data.get(8..).ok_or(Skip::NotIp)?),
        _ => Err(Skip::NotIp),
    }
}

/// The payload of Ethernet type `et`, through VLAN tags, PPPoE and MPLS.
fn ether_type(mut et: u16, mut data: &[u8]) -> Result<&[u8], Skip> {
    for _ in 0..8 {
        match et {
            0x0800 | 0x86dd => return Ok(data),
            // 802.1Q, 802.1ad (QinQ), the older QinQ type.
            0x8100 | 0x88a8 | 0x9100 => {
                et = be16(data, 2)?;
                data = data.get(4..).ok_or(Skip::NotIp)?;
            }
            // PPPoE session: version/type, code, session id, length.
            0x8864 => return ppp_protocol(data.get(6..).ok_or(Skip::NotIp)?),
            0x8847 | 0x8848 => return mpls(data),
            _ => return Err(Skip::NotIp),
        }
    }
    Err(Skip::NotIp)
}

/// MPLS: labels up to the bottom of the stack, then IP (by its version).
fn mpls(mut data: &[u8]) -> Result<&[u8], Skip> {
    for _ in 0..16 {
        let bottom = data.get(2).ok_or(Skip::NotIp)? & 0x01 != 0;
        data = data.get(4..).ok_or(Skip::NotIp)?;
        if bottom {
            return match data.first().map(|b| b >> 4) {
                Some(4 | 6) => Ok(data),
                _ => Err(Skip::NotIp),
            };
        }
    }
    Err(Skip::NotIp)
}

/// PPP in HDLC-like framing (address 0xff, control 0x03 may be omitted);
/// Cisco HDLC framing under the PPP link type is recognized as libpcap
/// does (address 0x0f or 0x8f).
fn ppp(data: &[u8]) -> Result<&[u8], Skip> {
    match data.get(..2) {
        Some([0xff, 0x03]) => ppp_protocol(&data[2..]),
        Some([0x0f | 0x8f, 0x00]) => ether_type(be16(data, 2)?, data.get(4..).ok_or(Skip::NotIp)?),
        _ => ppp_protocol(data),
    }
}

/// PPP protocol field (1 byte when compressed: odd first byte), then IP.
fn ppp_protocol(data: &[u8]) -> Result<&[u8], Skip> {
    let first = *data.first().ok_or(Skip::NotIp)?;
    let (protocol, rest) = if first & 1 == 1 {
        (u16::from(first), data.get(1..))
    } else {
        (be16(data, 0)?, data.get(2..))
    };
    match protocol {
        0x0021 | 0x0057 => rest.ok_or(Skip::NotIp),
        _ => Err(Skip::NotIp),
    }
}

/// Linux NFLOG: family, version, resource id, then TLVs (length and type
/// in host byte order, taken as little-endian); type 9 is the packet.
fn nflog(data: &[u8]) -> Result<&[u8], Skip> {
    let mut at = 4;
    while let Some(tlv) = data.get(at..at + 4) {
        let len = usize::from(u16::from_le_bytes([tlv[0], tlv[1]]));
        let kind = u16::from_le_bytes([tlv[2], tlv[3]]);
        if len < 4 {
            break;
        }
        if kind == 9 {
            return data.get(at + 4..at + len).ok_or(Skip::Malformed);
        }
        at += (len + 3) & !3;
    }
    Err(Skip::NotIp)
}

/// IP and the transport above it (through tunnels).
fn ip(data: &[u8], depth: u8) -> Result<Segment<'_>, Skip> {
    match data.first().map(|b| b >> 4) {
        Some(4 | 6) => {}
        _ => return Err(Skip::NotIp),
    }
    let packet = LaxSlicedPacket::from_ip(data).map_err(|_| Skip::Malformed)?;
    let (src, dst, payload, claimed_len, first_fragment) = match &packet.net {
        Some(LaxNetSlice::Ipv4(v4)) => {
            let h = v4.header();
            (
                IpAddr::V4(h.source_addr()),
                IpAddr::V4(h.destination_addr()),
                v4.payload(),
                usize::from(h.total_len()),
                h.fragments_offset().value() == 0,
            )
        }
        Some(LaxNetSlice::Ipv6(v6)) => {
            let h = v6.header();
            (
                IpAddr::V6(h.source_addr()),
                IpAddr::V6(h.destination_addr()),
                v6.payload(),
                40 + usize::from(h.payload_length()),
                false,
            )
        }
        _ => return Err(Skip::NotIp),
    };
    // Bytes of the datagram the capture does not have.
    let missing = if payload.incomplete {
        claimed_len.saturating_sub(data.len()) as u64
    } else {
        0
    };
    if payload.fragmented {
        return match (first_fragment, payload.ip_number.0) {
            (true, 6) => {
                let t = TcpSlice::from_slice(payload.payload).map_err(|_| Skip::Fragment)?;
                Ok(tcp_segment(src, dst, &t, 0))
            }
            _ => Err(Skip::Fragment),
        };
    }
    if depth < MAX_DEPTH && missing == 0 {
        if let Some((inner_link, inner)) =
            tunnel_inner(payload.ip_number.0, &packet.transport, payload.payload)
        {
            if let Ok(seg) = link(inner_link, inner, depth + 1).and_then(|b| ip(b, depth + 1)) {
                return Ok(seg);
            }
        }
    }
    match &packet.transport {
        Some(TransportSlice::Tcp(t)) => Ok(tcp_segment(src, dst, t, missing)),
        Some(TransportSlice::Udp(u)) => Ok(Segment {
            src,
            dst,
            sport: u.source_port(),
            dport: u.destination_port(),
            tcp: None,
            payload: u.payload(),
            missing,
        }),
        _ if packet.stop_err.is_some() => Err(Skip::Malformed),
        _ => Err(Skip::OtherTransport),
    }
}

fn tcp_segment<'a>(src: IpAddr, dst: IpAddr, t: &TcpSlice<'a>, missing: u64) -> Segment<'a> {
    Segment {
        src,
        dst,
        sport: t.source_port(),
        dport: t.destination_port(),
        tcp: Some(Tcp {
            seq: t.sequence_number(),
            ack_seq: t.acknowledgment_number(),
            syn: t.syn(),
            ack: t.ack(),
            fin: t.fin(),
            rst: t.rst(),
        }),
        payload: t.payload(),
        missing,
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
                (4789, _) | (_, 4789) if p.first().is_some_and(|f| f & 0x08 != 0) => {
                    Some((Linktype::ETHERNET, p.get(8..)?))
                }
                (6081, _) | (_, 6081) if p.first().is_some_and(|f| f >> 6 == 0) => {
                    let options = usize::from(*p.first()? & 0x3f) * 4;
                    let protocol = u16::from_be_bytes([*p.get(2)?, *p.get(3)?]);
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
        // ERSPAN type II (8-byte header) and type I (none; no sequence).
        0x88be if flags & 0x1000 != 0 => Some((Linktype::ETHERNET, inner.get(8..)?)),
        0x88be => Some((Linktype::ETHERNET, inner)),
        // ERSPAN type III: 12 bytes, + 8 with the optional subheader.
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
            let units = usize::from(*p.get(at)?);
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
    use std::net::{Ipv4Addr, Ipv6Addr};

    /// IPv4 + UDP 12345 → 53 carrying `payload`.
    fn ipv4_udp(payload: &[u8]) -> Vec<u8> {
        let total = (20 + 8 + payload.len()) as u16;
        let mut p = vec![
            0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        p[2..4].copy_from_slice(&total.to_be_bytes());
        p.extend_from_slice(&[0x30, 0x39, 0, 53]);
        p.extend_from_slice(&(8 + payload.len() as u16).to_be_bytes());
        p.extend_from_slice(&[0, 0]);
        p.extend_from_slice(payload);
        p
    }

    /// IPv4 + TCP 40000 → 443 with `flags`, seq 1000, carrying `payload`.
    fn ipv4_tcp(flags: u8, payload: &[u8]) -> Vec<u8> {
        let total = (20 + 20 + payload.len()) as u16;
        let mut p = vec![
            0x45, 0, 0, 0, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        p[2..4].copy_from_slice(&total.to_be_bytes());
        p.extend_from_slice(&[0x9c, 0x40, 0x01, 0xbb, 0, 0, 0x03, 0xe8, 0, 0, 0, 0]);
        p.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        p.extend_from_slice(payload);
        p
    }

    fn ipv6_udp(payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0];
        p.extend_from_slice(&(8 + payload.len() as u16).to_be_bytes());
        p.extend_from_slice(&[17, 64]);
        p.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        p.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        p.extend_from_slice(&[0x30, 0x39, 0, 53]);
        p.extend_from_slice(&(8 + payload.len() as u16).to_be_bytes());
        p.extend_from_slice(&[0, 0]);
        p.extend_from_slice(payload);
        p
    }

    fn eth(ether_type: &[u8], rest: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(ether_type);
        f.extend_from_slice(rest);
        f
    }

    fn check_udp(s: Result<Segment<'_>, Skip>) {
        let s = s.expect("decoded");
        assert_eq!(
            (s.sport, s.dport, s.payload, s.missing),
            (12345, 53, &b"hi"[..], 0)
        );
        assert!(s.tcp.is_none());
    }

    #[test]
    fn raw_ipv4_udp() {
        let p = ipv4_udp(b"hi");
        for lt in [101, 12, 14, 228] {
            check_udp(decode(Linktype(lt), &p));
        }
        let s = decode(Linktype::RAW, &p).unwrap();
        assert_eq!(s.src, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(s.dst, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)));
        assert_eq!(
            decode(Linktype::RAW, &p[..10]).unwrap_err(),
            Skip::Malformed
        );
        assert_eq!(decode(Linktype(9999), &p).unwrap_err(), Skip::LinkType);
        assert_eq!(decode(LINKTYPE_UNKNOWN, &p).unwrap_err(), Skip::LinkType);
    }

    #[test]
    fn raw_ipv6_udp() {
        let p = ipv6_udp(b"hi");
        check_udp(decode(Linktype(229), &p));
        assert_eq!(
            decode(Linktype(229), &p).unwrap().src,
            IpAddr::V6(Ipv6Addr::LOCALHOST)
        );
    }

    #[test]
    fn ethernet_vlan_qinq_pppoe_mpls() {
        let ip = ipv4_udp(b"hi");
        check_udp(decode(Linktype::ETHERNET, &eth(&[0x08, 0x00], &ip)));
        let mut vlan = vec![0x00, 0x05, 0x08, 0x00];
        vlan.extend_from_slice(&ip);
        check_udp(decode(Linktype::ETHERNET, &eth(&[0x81, 0x00], &vlan)));
        for outer in [[0x88, 0xa8], [0x91, 0x00], [0x81, 0x00]] {
            let mut qinq = vec![0x00, 0x07, 0x81, 0x00, 0x00, 0x05, 0x08, 0x00];
            qinq.extend_from_slice(&ip);
            check_udp(decode(Linktype::ETHERNET, &eth(&outer, &qinq)));
        }
        let mut pppoe = vec![0x11, 0x00, 0x3d, 0x6d, 0x00, 0x20, 0x00, 0x21];
        pppoe.extend_from_slice(&ip);
        check_udp(decode(Linktype::ETHERNET, &eth(&[0x88, 0x64], &pppoe)));
        let mut mpls = vec![0x00, 0x01, 0x00, 0x40, 0x00, 0x02, 0x01, 0x40];
        mpls.extend_from_slice(&ip);
        check_udp(decode(Linktype::ETHERNET, &eth(&[0x88, 0x47], &mpls)));
        // ARP is not IP; a frame shorter than its header neither.
        let arp = eth(&[0x08, 0x06], &[0u8; 28]);
        assert_eq!(decode(Linktype::ETHERNET, &arp).unwrap_err(), Skip::NotIp);
        assert_eq!(
            decode(Linktype::ETHERNET, &[0u8; 13]).unwrap_err(),
            Skip::NotIp
        );
        // 802.3 with LLC (STP).
        let stp = eth(&[0x00, 0x26], &[0x42, 0x42, 0x03, 0, 0]);
        assert_eq!(decode(Linktype::ETHERNET, &stp).unwrap_err(), Skip::NotIp);
    }

    #[test]
    fn sll_sll2_null_loop() {
        let ip = ipv4_udp(b"hi");
        let mut sll = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
        sll.extend_from_slice(&ip);
        check_udp(decode(Linktype::LINUX_SLL, &sll));
        let mut sll2 = vec![0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6];
        sll2.extend_from_slice(&[1, 2, 3, 4, 5, 6, 0, 0]);
        sll2.extend_from_slice(&ip);
        check_udp(decode(Linktype(276), &sll2));
        for family in [[2, 0, 0, 0], [0, 0, 0, 2]] {
            let mut null = family.to_vec();
            null.extend_from_slice(&ip);
            check_udp(decode(Linktype::NULL, &null));
            check_udp(decode(Linktype(108), &null));
        }
        let v6 = ipv6_udp(b"hi");
        for family in [24u32, 28, 30] {
            for bytes in [family.to_le_bytes(), family.to_be_bytes()] {
                let mut null = bytes.to_vec();
                null.extend_from_slice(&v6);
                check_udp(decode(Linktype::NULL, &null));
            }
        }
        let mut other = 7u32.to_le_bytes().to_vec();
        other.extend_from_slice(&ip);
        assert_eq!(decode(Linktype::NULL, &other).unwrap_err(), Skip::NotIp);
    }

    #[test]
    fn ppp_hdlc_fddi_nflog_ppi() {
        let ip = ipv4_udp(b"hi");
        for head in [&[0xff, 0x03, 0x00, 0x21][..], &[0x00, 0x21], &[0x21]] {
            let mut f = head.to_vec();
            f.extend_from_slice(&ip);
            check_udp(decode(Linktype(9), &f));
        }
        let mut hdlc = vec![0x0f, 0x00, 0x08, 0x00];
        hdlc.extend_from_slice(&ip);
        check_udp(decode(Linktype(104), &hdlc));
        check_udp(decode(Linktype(9), &hdlc));
        let mut fddi = vec![0x50];
        fddi.extend_from_slice(&[0u8; 12]);
        fddi.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
        fddi.extend_from_slice(&ip);
        check_udp(decode(Linktype(10), &fddi));
        // NFLOG: header, a 8-byte TLV of type 1, then the payload TLV.
        let mut nflog = vec![2, 0, 0, 0, 8, 0, 1, 0, 0, 0, 0, 0];
        nflog.extend_from_slice(&((4 + ip.len()) as u16).to_le_bytes());
        nflog.extend_from_slice(&[9, 0]);
        nflog.extend_from_slice(&ip);
        check_udp(decode(Linktype(239), &nflog));
        assert_eq!(
            decode(Linktype(239), &nflog[..12]).unwrap_err(),
            Skip::NotIp
        );
        // PPI around raw IP.
        let mut ppi = vec![0, 0, 8, 0, 101, 0, 0, 0];
        ppi.extend_from_slice(&ip);
        check_udp(decode(Linktype(192), &ppi));
    }

    #[test]
    fn tcp_fields() {
        let p = ipv4_tcp(0x18, b"data");
        let s = decode(Linktype::RAW, &p).unwrap();
        assert_eq!((s.sport, s.dport, s.payload), (40000, 443, &b"data"[..]));
        let t = s.tcp.unwrap();
        assert_eq!(t.seq, 1000);
        assert!(t.ack && !t.syn && !t.fin && !t.rst);
        let syn = ipv4_tcp(0x02, b"");
        let t = decode(Linktype::RAW, &syn).unwrap().tcp.unwrap();
        assert!(t.syn && !t.ack);
    }

    #[test]
    fn snap_length_cut_keeps_what_was_captured() {
        let p = ipv4_tcp(0x18, &[b'x'; 100]);
        let s = decode(Linktype::RAW, &p[..60]).unwrap();
        assert_eq!((s.payload.len(), s.missing), (20, 80));
        let p = ipv4_udp(&[b'y'; 100]);
        let s = decode(Linktype::RAW, &p[..50]).unwrap();
        assert_eq!((s.payload.len(), s.missing), (22, 78));
        // Ethernet padding after the IP datagram is not payload.
        let mut padded = eth(&[0x08, 0x00], &ipv4_udp(b"hi"));
        padded.extend_from_slice(&[0u8; 16]);
        check_udp(decode(Linktype::ETHERNET, &padded));
        // A header cut in the middle is malformed.
        assert_eq!(
            decode(Linktype::RAW, &p[..24]).unwrap_err(),
            Skip::Malformed
        );
    }

    #[test]
    fn fragments() {
        let mut first = ipv4_tcp(0x18, b"abcdef");
        first[6] = 0x20; // more fragments, offset 0
        let s = decode(Linktype::RAW, &first).unwrap();
        assert_eq!(s.payload, b"abcdef");
        let mut later = ipv4_tcp(0x18, b"abcdef");
        later[6] = 0x00;
        later[7] = 0x10; // offset 128
        assert_eq!(decode(Linktype::RAW, &later).unwrap_err(), Skip::Fragment);
        let mut udp_first = ipv4_udp(b"hi");
        udp_first[6] = 0x20;
        assert_eq!(
            decode(Linktype::RAW, &udp_first).unwrap_err(),
            Skip::Fragment
        );
    }

    #[test]
    fn other_transport_and_garbage() {
        let mut icmp = ipv4_udp(b"hi");
        icmp[9] = 1;
        assert_eq!(
            decode(Linktype::RAW, &icmp).unwrap_err(),
            Skip::OtherTransport
        );
        assert_eq!(decode(Linktype::RAW, &[]).unwrap_err(), Skip::NotIp);
        assert_eq!(decode(Linktype::RAW, &[0x45]).unwrap_err(), Skip::Malformed);
        // Every prefix and a few corruptions of real frames: no panic.
        let frames = [
            eth(&[0x08, 0x00], &ipv4_tcp(0x18, b"payload")),
            eth(&[0x86, 0xdd], &ipv6_udp(b"payload")),
        ];
        for f in &frames {
            for n in 0..=f.len() {
                for lt in [0, 1, 9, 10, 101, 104, 108, 113, 192, 239, 276] {
                    let _ = decode(Linktype(lt), &f[..n]);
                }
            }
            for i in 0..f.len() {
                let mut g = f.clone();
                g[i] ^= 0xff;
                let _ = decode(Linktype::ETHERNET, &g);
            }
        }
    }

    #[test]
    fn tunnels() {
        let inner = ipv4_udp(b"hi");
        // IP-in-IP.
        let mut outer = ipv4_udp(b"");
        outer.truncate(20);
        outer[9] = 4;
        let total = (20 + inner.len()) as u16;
        outer[2..4].copy_from_slice(&total.to_be_bytes());
        outer.extend_from_slice(&inner);
        check_udp(decode(Linktype::RAW, &outer));
        // GRE with a key carrying IPv4.
        let mut gre = outer[..20].to_vec();
        gre[9] = 47;
        let total = (20 + 8 + inner.len()) as u16;
        gre[2..4].copy_from_slice(&total.to_be_bytes());
        gre.extend_from_slice(&[0x20, 0x00, 0x08, 0x00, 0, 0, 0, 1]);
        gre.extend_from_slice(&inner);
        check_udp(decode(Linktype::RAW, &gre));
    }
}
