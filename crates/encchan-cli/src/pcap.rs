//! Reading pcap and pcapng files packet by packet, with the byte offset of
//! every block so that a truncated or corrupt file is reported where it broke.

use pcap_parser::pcapng::Block;
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

struct Interface {
    linktype: Linktype,
    /// Timestamp units per second.
    resolution: u64,
    offset_s: i64,
}

/// Reads every packet of `path`, calling `on_packet` for each. Packets read
/// before an error have all been delivered when the error is returned.
pub fn read(path: &Path, mut on_packet: impl FnMut(Packet<'_>)) -> Result<(), ReadError> {
    let file = File::open(path).map_err(|e| ReadError {
        offset: 0,
        reason: e.to_string(),
    })?;
    let mut reader = create_reader(1 << 20, file).map_err(|e| ReadError {
        offset: 0,
        reason: format!("not a pcap or pcapng file ({e:?})"),
    })?;
    let mut offset = 0u64;
    let mut legacy_linktype = Linktype::ETHERNET;
    let mut legacy_nanos = false;
    let mut interfaces: Vec<Interface> = Vec::new();
    let mut refills_without_progress = 0;
    loop {
        match reader.next() {
            Ok((consumed, block)) => {
                refills_without_progress = 0;
                match block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        legacy_linktype = h.network;
                        legacy_nanos = h.is_nanosecond_precision();
                    }
                    PcapBlockOwned::Legacy(b) => {
                        let frac = if legacy_nanos {
                            b.ts_usec as u64 / 1000
                        } else {
                            b.ts_usec as u64
                        };
                        let ts_us = b.ts_sec as u64 * 1_000_000 + frac;
                        on_packet(Packet {
                            linktype: legacy_linktype,
                            ts_us,
                            data: b.data,
                        });
                    }
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => interfaces.clear(),
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        interfaces.push(Interface {
                            linktype: idb.linktype,
                            resolution: idb.ts_resolution().unwrap_or(1_000_000).max(1),
                            offset_s: idb.if_tsoffset,
                        })
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        if let Some(ifc) = interfaces.get(epb.if_id as usize) {
                            let ts = ((epb.ts_high as u64) << 32) | epb.ts_low as u64;
                            let us = (ts as u128 * 1_000_000 / ifc.resolution as u128) as i128
                                + ifc.offset_s as i128 * 1_000_000;
                            let ts_us = us.clamp(0, u64::MAX as i128) as u64;
                            on_packet(Packet {
                                linktype: ifc.linktype,
                                ts_us,
                                data: epb.data,
                            });
                        }
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                        if let Some(ifc) = interfaces.first() {
                            on_packet(Packet {
                                linktype: ifc.linktype,
                                ts_us: 0,
                                data: spb.data,
                            });
                        }
                    }
                    _ => {}
                }
                offset += consumed as u64;
                reader.consume(consumed);
            }
            Err(PcapError::Eof) => return Ok(()),
            Err(PcapError::Incomplete(_)) => {
                refills_without_progress += 1;
                // A refill that brings nothing new means the file ends
                // inside a block.
                if refills_without_progress > 2 {
                    return Err(ReadError {
                        offset,
                        reason: "file ends inside a packet (truncated capture)".into(),
                    });
                }
                reader.refill().map_err(|e| ReadError {
                    offset,
                    reason: format!("read error: {e:?}"),
                })?;
            }
            Err(e) => {
                return Err(ReadError {
                    offset,
                    reason: format!("corrupt block: {e:?}"),
                })
            }
        }
    }
}
