#!/usr/bin/env python3
"""When each alert of the labeled corpus is published: on the first packet
of the content it judges, within its first KiB, later while the flow goes
on, or only at the flow's end. Before (early_verdict_error = 0: decisions at
the inspection budget or the end) and after (the engine's defaults), side by
side.

    python3 benches/time_to_verdict.py [--results benches/results] [--check]

For every flow of tests/corpus/labels.csv and labels-carriers.csv that has
an alert, the CLI says when the first alert was published
(`decided_after_bytes`, `decided_at_end`) and which bytes the alert judged
(`decided_by`, and that side's `measured_from`). The
capture says which packet carried which bytes: a flow is decided on its
"first content packet" when the packet that carried the first judged byte
is the one after which the alert was published. Writes
time-to-verdict.md; --check exits 1 when fewer than 90 % of the
symmetric-only flows (classes symmetric_only and carrier_c2) are decided on
their first content packet, or any is decided later than its first KiB of
content and before its end.
"""
import argparse
import collections
import csv
import json
import os
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "tests", "corpus")
ENCCHAN = os.path.join(ROOT, "target", "release", "encchan")
SYMMETRIC = {"symmetric_only", "carrier_c2"}


def packets(path):
    """(src, sport, dst, dport, proto, seq, payload length) of each IPv4
    TCP/UDP packet of a pcap file (Ethernet, Linux cooked or raw IP)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise SystemExit(f"{path}: not a pcap file")
    link = struct.unpack(end + "I", data[20:24])[0]
    at = 24
    while at + 16 <= len(data):
        incl = struct.unpack(end + "I", data[at + 8:at + 12])[0]
        frame = data[at + 16:at + 16 + incl]
        at += 16 + incl
        ip = {1: 14, 113: 16, 101: 0, 228: 0, 0: 4}.get(link)
        if ip is None or len(frame) < ip + 20:
            continue
        if link == 1 and frame[12:14] != b"\x08\x00":
            continue
        pkt = frame[ip:]
        if pkt[0] >> 4 != 4:
            continue
        ihl = (pkt[0] & 15) * 4
        total = struct.unpack(">H", pkt[2:4])[0]
        proto = pkt[9]
        src, dst = pkt[12:16], pkt[16:20]
        seg = pkt[ihl:total]
        if proto == 6 and len(seg) >= 20:
            sport, dport, seq = struct.unpack(">HHI", seg[:8])
            off = (seg[12] >> 4) * 4
            yield src, sport, dst, dport, "tcp", seq, len(seg) - off
        elif proto == 17 and len(seg) >= 8:
            sport, dport = struct.unpack(">HH", seg[:4])
            yield src, sport, dst, dport, "udp", 0, len(seg) - 8


def payload_ends(path):
    """Per (transport, endpoint, endpoint): the stream offsets where each
    payload of each sender ends, new bytes only (retransmissions dropped)."""
    ends = collections.defaultdict(list)
    highest = {}
    for src, sport, dst, dport, proto, seq, n in packets(path):
        if n <= 0:
            continue
        key = (proto, (bytes(src), sport), (bytes(dst), dport))
        if proto == "tcp":
            top = highest.get(key)
            if top is not None and (seq + n - top) % 2**32 >= 2**31 or (top is not None and seq + n == top):
                continue
            highest[key] = seq + n
        done = ends[key][-1] if ends[key] else 0
        ends[key].append(done + n)
    return ends


def ip_bytes(s):
    return bytes(int(x) for x in s.split("."))


def analyze(pcap, config):
    args = [ENCCHAN, "analyze"] + (["--config", config] if config else []) + [pcap]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return [json.loads(l) for l in out.splitlines()]


def moment(r, ends):
    """How the flow's first published alert relates to its content."""
    if r["decided_at_end"]:
        return "at end"
    side = r.get("decided_by") or "client"
    first = r["measured_from"][side] or 0
    decided = r["decided_after_bytes"][side]
    who = r[side]
    peer = r["server" if side == "client" else "client"]
    key = (r["proto"], (ip_bytes(who["ip"]), who["port"]), (ip_bytes(peer["ip"]), peer["port"]))
    stream = ends.get(key, [])
    carrying = next((e for e in stream if e > first), None)
    if carrying is not None and decided <= carrying:
        return "first content packet"
    # Decided by the end of the packet that carried the KiB's last byte.
    kib = next((e for e in stream if e >= first + 1024), None)
    if decided - first <= 1024 or (kib is not None and decided <= kib):
        return "within 1 KiB"
    return "later"


COLUMNS = ["first content packet", "within 1 KiB", "later", "at end"]


def table(config):
    counts = collections.defaultdict(collections.Counter)
    per_flow = {}
    for labels in ("labels.csv", "labels-carriers.csv"):
        with open(os.path.join(CORPUS, labels)) as f:
            rows = list(csv.DictReader(f))
        for label in rows:
            path = os.path.join(CORPUS, "pcaps", label["pcap"])
            ends = payload_ends(path)
            for r in analyze(path, config):
                if r["proto"] != label["transport"] or r["server"]["port"] != int(label["server_port"]):
                    continue
                if not r["alerts"]:
                    continue
                m = moment(r, ends)
                counts[label["class"]][m] += 1
                per_flow[(label["pcap"], r["client"]["port"])] = (label["class"], m)
    return counts, per_flow


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", default=os.path.join(ROOT, "benches", "results"))
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "-q", "--release", "-p", "encchan-cli", "--manifest-path",
                    os.path.join(ROOT, "Cargo.toml")], check=True)
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as off:
        off.write("early_verdict_error = 0\n")
    before, _ = table(off.name)
    os.unlink(off.name)
    after, flows = table(None)
    lines = ["# Time to verdict on the labeled corpus", "",
             "When each alerted flow of tests/corpus (labels.csv, labels-carriers.csv) had its",
             "first alert published: on the packet that carried the first byte the alert judged,",
             "within the first KiB of that content, later while the flow went on, or only at its",
             "end (where a sensor's rules may have no packet left to see it). *Before*:",
             "`early_verdict_error = 0` (decisions at the inspection budget or the end); *after*:",
             "the defaults (the sequential test, `crates/encchan-core/src/sequential.rs`).",
             "Generated by `benches/time_to_verdict.py`.", "",
             "| class | flows | " + " | ".join(f"{c} (before → after)" for c in COLUMNS) + " |",
             "|---|---|" + "---|" * len(COLUMNS)]
    for cls in sorted(set(before) | set(after)):
        n = sum(after[cls].values())
        cells = [f"{before[cls][c]} → {after[cls][c]}" for c in COLUMNS]
        lines.append(f"| {cls} | {n} | " + " | ".join(cells) + " |")
    sym = [m for (c, m) in flows.values() if c in SYMMETRIC]
    first = sum(m == "first content packet" for m in sym)
    late = [(k, m) for k, (c, m) in flows.items() if c in SYMMETRIC and m == "later"]
    lines += ["", f"Symmetric-only flows (symmetric_only, carrier_c2): {len(sym)}; decided on their "
              f"first content packet: {first} ({100 * first / max(len(sym), 1):.0f} %); "
              f"later than their first KiB but before their end: {len(late)}.", ""]
    rest = sorted((k, m) for k, (c, m) in flows.items() if c in SYMMETRIC and m != "first content packet")
    if rest:
        lines.append("Not on their first content packet:")
        lines.append("")
        lines += [f"- {pcap} (client port {port}): {m}" for (pcap, port), m in rest]
        lines.append("")
    os.makedirs(a.results, exist_ok=True)
    with open(os.path.join(a.results, "time-to-verdict.md"), "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))
    if a.check and (first < 0.9 * len(sym) or late):
        sys.exit(1)


if __name__ == "__main__":
    main()
