#!/usr/bin/env python3
"""Every flow's verdict over the labeled corpus and the shared captures, one
TSV line per flow, sorted: the before/after record of an engine change.

    python3 scripts/verdicts.py [--bin target/release/encchan] [--config knobs.toml] > before.tsv
    ... change the engine, rebuild ...
    python3 scripts/verdicts.py > after.tsv && diff before.tsv after.tsv

Columns: capture, transport, client, server, protocol (carrier/inner when
the engine looked through a carrier), content, alerts.
"""
import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIRS = [os.path.join(ROOT, "tests", "corpus", "pcaps"),
        os.path.join(ROOT, "..", "shared", "captures")]
EXTS = (".pcap", ".pcapng", ".cap", ".trace")


def captures():
    for top in DIRS:
        for base, _, files in os.walk(top):
            for f in files:
                if f.endswith(EXTS):
                    yield os.path.join(base, f)


def rows(binary, config, path):
    extra = ["--config", config] if config else []
    out = subprocess.run([binary, "analyze", *extra, path], capture_output=True, text=True)
    name = os.path.relpath(path, os.path.join(ROOT, ".."))
    for line in out.stdout.splitlines():
        r = json.loads(line)
        proto = r.get("protocol") or "-"
        if r.get("carrier"):
            proto = f"{r['carrier']}/{proto}"
        ep = lambda e: f"{e['ip']}:{e['port']}"
        yield "\t".join([name, r["proto"], ep(r["client"]), ep(r["server"]), proto,
                         r["content"], ",".join(r["alerts"]) or "-"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "encchan"))
    ap.add_argument("--config", help="TOML file with the engine's knobs")
    args = ap.parse_args()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = pool.map(lambda p: list(rows(args.bin, args.config, p)), sorted(captures()))
        lines = sorted(l for r in results for l in r)
    sys.stdout.write("".join(l + "\n" for l in lines))
    print(f"{len(lines)} flows", file=sys.stderr)


if __name__ == "__main__":
    main()
