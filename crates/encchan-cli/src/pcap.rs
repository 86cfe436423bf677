//! Reading pcap and pcapng files packet by packet (pcap-parser's streaming
//! reader), keeping the byte offset of every block so that a truncated or
//! corrupt file is reported where it broke, and turning every timestamp
//! into microseconds since the epoch.

use crate::decode::LINKTYPE_UNKNOWN;
use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapNGPacketBlock;
use pcap_parser::{create_reader, Linktype, PcapBlockOwned, PcapError};
use std::fmt;
use std::fs::File;
use std::path::Path;

/// One captured packet.
#[derive(Debug)]
pub struct Packet<'a> {
    pub linktype: Linktype,
    /// Microseconds since the epoch.
    pub ts_us: u64,
    pub data: &'a [u8],
    /// Byte offset of the packet's block in the file.
    pub offset: u64,
}

/// Why a capture could not be read to its end.
#[derive(Debug)]
pub struct ReadError {
    /// Byte offset in the file where reading stopped.
    pub offset: u64,
    pub reason: String,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte offset {}: {}", self.offset, self.reason)
    }
}

/// The reader's buffer; it grows for a larger block, up to the limit. It
/// starts at 64 KiB (one jumbo frame or more): pcap-parser allocates it
/// zeroed, and at 1 MiB zeroing it cost more than reading a small capture
/// (71 % of the CLI's instructions over the nDPI captures, and the
/// pcap_reader fuzz target ran at a tenth of its speed).
const BUFFER: usize = 64 << 10;
const BUFFER_LIMIT: usize = 64 << 20;

struct Interface {
    linktype: Linktype,
    /// Timestamp units per second.
    resolution: u64,
    offset_s: i64,
}

/// Reads every packet of `path`, calling `on_packet` for each. Packets read
/// before an error have all been delivered when the error is returned.
pub fn read(path: &Path, on_packet: impl FnMut(Packet<'_>)) -> Result<(), ReadError> {
    let file = File::open(path).map_err(|e| ReadError {
        offset: 0,
        reason: e.to_string(),
    })?;
    read_from(file, on_packet)
}

/// Like [`read`], from any reader (the fuzz target feeds it memory).
pub fn read_from(
    input: impl std::io::Read + Send + 'static,
    mut on_packet: impl FnMut(Packet<'_>),
) -> Result<(), ReadError> {
    let mut reader = create_reader(BUFFER, input).map_err(|e| ReadError {
        offset: 0,
        reason: match e {
            PcapError::Eof => "empty file, not a pcap or pcapng capture".into(),
            PcapError::ReadError => "read error".into(),
            _ => "not a pcap or pcapng capture (unknown file header)".into(),
        },
    })?;
    let mut capacity = BUFFER;
    let mut offset = 0u64;
    let mut legacy_linktype = Linktype::ETHERNET;
    let mut legacy_nanos = false;
    let mut interfaces: Vec<Interface> = Vec::new();
    let mut last_ts = 0u64;
    loop {
        match reader.next() {
            Ok((consumed, block)) => {
                let packet = match block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        legacy_linktype = h.network;
                        legacy_nanos = h.is_nanosecond_precision();
                        None
                    }
                    PcapBlockOwned::Legacy(b) => {
                        let frac = if legacy_nanos {
                            u64::from(b.ts_usec) / 1000
                        } else {
                            u64::from(b.ts_usec)
                        };
                        let ts_us = u64::from(b.ts_sec) * 1_000_000 + frac;
                        Some((legacy_linktype, ts_us, b.data))
                    }
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => {
                        interfaces.clear();
                        None
                    }
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        interfaces.push(Interface {
                            linktype: idb.linktype,
                            resolution: idb.ts_resolution().unwrap_or(1_000_000).max(1),
                            offset_s: idb.ts_offset(),
                        });
                        None
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(ref epb)) => {
                        let ts = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                        match interfaces.get(epb.if_id as usize) {
                            Some(ifc) => {
                                let us = i128::from(ts) * 1_000_000 / i128::from(ifc.resolution)
                                    + i128::from(ifc.offset_s) * 1_000_000;
                                let ts_us = us.clamp(0, i128::from(u64::MAX)) as u64;
                                Some((ifc.linktype, ts_us, epb.packet_data()))
                            }
                            // A packet of an interface never described.
                            None => Some((LINKTYPE_UNKNOWN, last_ts, epb.packet_data())),
                        }
                    }
                    // No timestamp: it gets the previous packet's.
                    PcapBlockOwned::NG(Block::SimplePacket(ref spb)) => Some((
                        interfaces
                            .first()
                            .map_or(LINKTYPE_UNKNOWN, |ifc| ifc.linktype),
                        last_ts,
                        spb.packet_data(),
                    )),
                    _ => None,
                };
                if let Some((linktype, ts_us, data)) = packet {
                    last_ts = ts_us;
                    on_packet(Packet {
                        linktype,
                        ts_us,
                        data,
                        offset,
                    });
                }
                offset += consumed as u64;
                reader.consume(consumed);
            }
            Err(PcapError::Eof) => return Ok(()),
            Err(PcapError::Incomplete(_)) => {
                reader.refill().map_err(|e| ReadError {
                    offset,
                    reason: format!("read error: {e:?}"),
                })?;
            }
            Err(PcapError::BufferTooSmall) if capacity < BUFFER_LIMIT => {
                capacity *= 4;
                if !reader.grow(capacity) {
                    return Err(ReadError {
                        offset,
                        reason: format!("cannot grow the read buffer to {capacity} bytes"),
                    });
                }
                reader.refill().map_err(|e| ReadError {
                    offset,
                    reason: format!("read error: {e:?}"),
                })?;
            }
            Err(PcapError::BufferTooSmall) => {
                return Err(ReadError {
                    offset,
                    reason: format!(
                        "corrupt capture: a block claims more than {BUFFER_LIMIT} bytes"
                    ),
                })
            }
            Err(PcapError::UnexpectedEof) => {
                return Err(ReadError {
                    offset,
                    reason: "truncated capture: the file ends inside a block".into(),
                })
            }
            Err(e) => {
                return Err(ReadError {
                    offset,
                    reason: format!("corrupt capture: unreadable block ({})", describe(&e)),
                })
            }
        }
    }
}

fn describe(e: &PcapError<&[u8]>) -> String {
    match e {
        PcapError::NomError(_, kind) => format!("{kind:?}"),
        PcapError::OwnedNomError(_, kind) => format!("{kind:?}"),
        PcapError::HeaderNotRecognized => "unknown block header".into(),
        PcapError::ReadError => "read error".into(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn temp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("encchan-pcap-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::File::create(&p).unwrap().write_all(bytes).unwrap();
        p
    }

    /// A little-endian pcap: header, then (ts_sec, ts_frac, data) records.
    fn pcap(magic: u32, linktype: u32, packets: &[(u32, u32, &[u8])]) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(&magic.to_le_bytes());
        f.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        f.extend_from_slice(&65535u32.to_le_bytes());
        f.extend_from_slice(&linktype.to_le_bytes());
        for (s, frac, d) in packets {
            f.extend_from_slice(&s.to_le_bytes());
            f.extend_from_slice(&frac.to_le_bytes());
            f.extend_from_slice(&(d.len() as u32).to_le_bytes());
            f.extend_from_slice(&(d.len() as u32).to_le_bytes());
            f.extend_from_slice(d);
        }
        f
    }

    /// (link type, timestamp, data, offset) of each packet.
    type Got = Vec<(i32, u64, Vec<u8>, u64)>;

    fn read_all(path: &Path) -> (Got, Option<ReadError>) {
        let mut got = Vec::new();
        let r = read(path, |p| {
            got.push((p.linktype.0, p.ts_us, p.data.to_vec(), p.offset))
        });
        (got, r.err())
    }

    #[test]
    fn micro_and_nanosecond_pcap() {
        let p = temp(
            "us.pcap",
            &pcap(0xa1b2c3d4, 101, &[(10, 5, b"ab"), (11, 999_999, b"c")]),
        );
        let (got, err) = read_all(&p);
        assert!(err.is_none());
        assert_eq!(
            got,
            [
                (101, 10_000_005, b"ab".to_vec(), 24),
                (101, 11_999_999, b"c".to_vec(), 42)
            ]
        );
        let p = temp("ns.pcap", &pcap(0xa1b23c4d, 1, &[(10, 5_000_999, b"ab")]));
        let (got, err) = read_all(&p);
        assert!(err.is_none());
        assert_eq!(got[0].1, 10_005_000);
    }

    #[test]
    fn truncated_pcap_names_the_offset() {
        let full = pcap(0xa1b2c3d4, 1, &[(1, 0, &[7u8; 100]), (2, 0, &[8u8; 100])]);
        let p = temp("cut.pcap", &full[..full.len() - 30]);
        let (got, err) = read_all(&p);
        assert_eq!(got.len(), 1, "the first packet is delivered");
        let err = err.expect("truncation is an error");
        assert_eq!(err.offset, 24 + 16 + 100);
        assert!(err.to_string().contains("truncated"), "{err}");
    }

    #[test]
    fn garbage_empty_and_missing() {
        let err = read_all(&temp("g.pcap", b"definitely not a capture file"))
            .1
            .unwrap();
        assert_eq!(err.offset, 0);
        assert!(err.reason.contains("not a pcap"), "{err}");
        let err = read_all(&temp("e.pcap", b"")).1.unwrap();
        assert!(err.reason.contains("empty"), "{err}");
        let err = read_all(Path::new("/nonexistent/x.pcap")).1.unwrap();
        assert_eq!(err.offset, 0);
        // Every prefix of a valid file: an error or success, never a panic.
        let full = pcap(0xa1b2c3d4, 1, &[(1, 0, &[7u8; 40]), (2, 0, &[8u8; 40])]);
        for n in 0..full.len() {
            let _ = read_all(&temp("prefix.pcap", &full[..n]));
        }
    }

    /// A little-endian pcapng section with one interface (`tsresol` option
    /// if given) and one enhanced packet of `data` at timestamp `ts`.
    fn pcapng(linktype: u16, tsresol: Option<u8>, ts: u64, data: &[u8]) -> Vec<u8> {
        fn block(kind: u32, body: &[u8]) -> Vec<u8> {
            let len = (12 + body.len()) as u32;
            let mut b = kind.to_le_bytes().to_vec();
            b.extend_from_slice(&len.to_le_bytes());
            b.extend_from_slice(body);
            b.extend_from_slice(&len.to_le_bytes());
            b
        }
        let mut f = block(
            0x0a0d0d0a,
            &[
                0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            ],
        );
        let mut idb = linktype.to_le_bytes().to_vec();
        idb.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        if let Some(r) = tsresol {
            idb.extend_from_slice(&[9, 0, 1, 0, r, 0, 0, 0, 0, 0, 0, 0]);
        }
        f.extend(block(1, &idb));
        let mut epb = 0u32.to_le_bytes().to_vec();
        epb.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ts as u32).to_le_bytes());
        epb.extend_from_slice(&(data.len() as u32).to_le_bytes());
        epb.extend_from_slice(&(data.len() as u32).to_le_bytes());
        epb.extend_from_slice(data);
        while epb.len() % 4 != 0 {
            epb.push(0);
        }
        f.extend(block(6, &epb));
        f
    }

    #[test]
    fn pcapng_resolution_and_padding() {
        let p = temp("us.pcapng", &pcapng(113, None, 1_500_000, b"abc"));
        let (got, err) = read_all(&p);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].0, got[0].1, got[0].2.as_slice()),
            (113, 1_500_000, &b"abc"[..])
        );
        let p = temp("ns.pcapng", &pcapng(1, Some(9), 1_500_000_000, b"abcd"));
        let (got, _) = read_all(&p);
        assert_eq!(got[0].1, 1_500_000);
        let full = pcapng(1, Some(9), 1_500_000_000, b"abcd");
        let (got, err) = read_all(&temp("cut.pcapng", &full[..full.len() - 6]));
        assert!(got.is_empty());
        assert!(err.unwrap().to_string().contains("truncated"));
    }
}
