"""A capture directory as Suricata should read it: oldest capture first.

Suricata reads a directory (`-r DIR`) in the order of the files'
modification times. In a fresh clone those are the checkout's (equal to the
nanosecond for whole groups of files, then in the directory's hash order), so
packet time jumps back and forth between files. Suricata's flow manager times
flows out against the packet thread's last timestamp, read at the start of
its pass; a pass that spans a jump back in time times out the new file's
first flows at once (seen in CI: a corpus flow cut after 5 packets, its rest
a second flow without a handshake, its alert gone, at random). A capture
directory written by a sensor is in time order; `chronological` gives Suricata
that order: a copy of the directory's captures, their modification times set
in the order of each capture's first packet.
"""
import os
import shutil
import struct

CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap", ".trace")


def first_packet_time(path):
    """Seconds of the capture's first packet, or None if it has none we read."""
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 16)
    except OSError:
        return None
    if len(head) < 24:
        return None
    magic = head[:4]
    for endian in ("<", ">"):
        (m,) = struct.unpack(endian + "I", magic)
        if m in (0xA1B2C3D4, 0xA1B23C4D):
            if len(head) < 40:
                return None
            sec, frac = struct.unpack(endian + "II", head[24:32])
            return sec + frac / (1e9 if m == 0xA1B23C4D else 1e6)
    if magic == b"\x0a\x0d\x0d\x0a":
        return _pcapng_first_time(head)
    return None


def _pcapng_first_time(data):
    """The first Enhanced Packet Block's time, in the units of its
    interface's if_tsresol (microseconds by default)."""
    endian = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    units = []  # per Interface Description Block, in order
    at = 0
    while at + 12 <= len(data):
        kind, length = struct.unpack(endian + "II", data[at:at + 8])
        if length < 12:
            return None
        block = data[at:at + length]
        if kind == 0x0A0D0D0A:
            units = []  # a new section numbers its interfaces anew
        elif kind == 1 and len(block) >= 20:
            units.append(1e6)
            opt = 16
            while opt + 4 <= len(block) - 4:
                code, olen = struct.unpack(endian + "HH", block[opt:opt + 4])
                if code == 0:
                    break
                if code == 9 and olen >= 1:
                    r = block[opt + 4]
                    units[-1] = float(2 ** (r & 0x7F)) if r & 0x80 else float(10 ** r)
                opt += 4 + (olen + 3) // 4 * 4
        elif kind == 6 and len(block) >= 20:
            iface, high, low = struct.unpack(endian + "III", block[8:20])
            return ((high << 32) | low) / (units[iface] if iface < len(units) else 1e6)
        at += length
    return None


def chronological(src, dst):
    """Copies the captures directly in `src` to `dst` with modification
    times in the order of their first packets (captures without one last,
    by name); returns `dst`."""
    names = sorted(n for n in os.listdir(src) if n.endswith(CAPTURE_SUFFIXES)
                   and os.path.isfile(os.path.join(src, n)))
    times = {n: first_packet_time(os.path.join(src, n)) for n in names}
    order = sorted(names, key=lambda n: (times[n] is None, times[n] or 0.0, n))
    if os.path.isdir(dst):
        shutil.rmtree(dst)
    os.makedirs(dst)
    for i, n in enumerate(order):
        path = os.path.join(dst, n)
        shutil.copyfile(os.path.join(src, n), path)
        # Whole seconds apart: no two files compare equal.
        os.utime(path, (1_000_000_000 + i, 1_000_000_000 + i))
    return dst
