#!/usr/bin/env python3
"""Merges a few corpus captures into tests/data/sample.pcap, the capture the
README's main command analyzes: benign TLS 1.3, SSH, HTTP and DNS next to
shadowsocks, openssl-enc-over-nc and a UDP AES beacon, and a TLS anomaly."""
import os, struct, sys

here = os.path.dirname(os.path.abspath(__file__))
names = ["tls13", "ssh", "dns", "shadowsocks", "openssl_enc_nc", "chacha_beacon_udp", "tls_port_4449", "gzip_nc"]
packets, header = [], None
for name in names:
    data = open(os.path.join(here, "pcaps", name + ".pcap"), "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    assert magic == 0xA1B2C3D4, f"{name}: expected a little-endian microsecond pcap"
    header = header or data[:24]
    assert data[20:24] == header[20:24], f"{name}: link type differs"
    off = 24
    while off + 16 <= len(data):
        ts, us, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        packets.append((ts, us, data[off:off + 16 + incl]))
        off += 16 + incl
packets.sort(key=lambda p: (p[0], p[1]))
out = os.path.join(here, "..", "data", "sample.pcap")
with open(out, "wb") as f:
    f.write(header)
    for _, _, p in packets:
        f.write(p)
print(f"wrote {out}: {len(packets)} packets", file=sys.stderr)
