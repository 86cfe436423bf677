//! Arbitrary bytes as a capture file: the pcap/pcapng reader and the
//! link/IP/tunnel decoder must return errors, never panic or hang.
#![no_main]

use encchan_cli::{decode, pcap};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut packets = 0usize;
    let _ = pcap::read_from(std::io::Cursor::new(data.to_vec()), |p| {
        packets += 1;
        let _ = decode::decode(p.linktype, p.data);
    });
    // Every link type the decoder knows, on the raw bytes too.
    for lt in [
        0, 1, 9, 10, 12, 14, 50, 101, 104, 108, 113, 192, 228, 229, 239, 276,
    ] {
        let _ = decode::decode(pcap_parser::Linktype(lt), data);
    }
    let _ = packets;
});
