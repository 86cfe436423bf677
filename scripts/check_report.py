#!/usr/bin/env python3
"""Checks the HTML report of the corpus and its Chromium screenshot.

usage: check_report.py REPORT.html ANALYZE.ndjson SCREENSHOT.png SOLO_DIR LABELS.csv...

The page: every flow `encchan analyze` flagged has its article with its
alerts, and no other; every labeled capture expected to alert has a flagged
flow with the expected alerts, found by the flows of that capture analyzed
alone (SOLO_DIR/NAME.ndjson: read together, captures whose flows share a
5-tuple join into one flow); the scatter and timeline SVGs and a histogram per article are there;
no <script>, no external URL, no event-handler attributes. The screenshot:
a PNG whose pixels are not all one colour, and mostly not background.
Prints one line with the counts; exits 1 with the reasons otherwise.
"""
import csv
import json
import os
import re
import struct
import sys
import zlib
from html.parser import HTMLParser


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []  # (tag, attrs)
        self.articles = []  # attrs of article.flow
        self.svg_stack = []  # ids of open <svg>, for histograms in articles
        self.in_article = False
        self.histograms = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "article" and a.get("class") == "flow":
            self.articles.append(dict(a, histograms=0))
            self.in_article = True
        if tag == "svg" and a.get("class") == "histogram" and self.in_article:
            self.articles[-1]["histograms"] += 1

    def handle_endtag(self, tag):
        if tag == "article":
            self.in_article = False


def flow_key(r):
    return "{} {} {} {} {}".format(
        r["proto"], r["client"]["ip"], r["client"]["port"], r["server"]["ip"], r["server"]["port"]
    )


def png_pixels(path):
    """(width, height, rows of pixel tuples) of an 8-bit RGB/RGBA PNG."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            if depth != 8 or colour not in (2, 6):
                raise ValueError(f"unexpected PNG format depth={depth} colour={colour}")
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, ul = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + left) & 255
            elif f == 2:
                line[i] = (line[i] + up) & 255
            elif f == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif f == 4:
                p = left + up - ul
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - ul)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else ul)
                line[i] = (line[i] + pred) & 255
        rows.append(line)
        prev = line
    return width, height, bpp, rows


def main():
    report, ndjson, png, solo, *labels = sys.argv[1:]
    errors = []
    page = Page()
    page.feed(open(report, encoding="utf-8").read())

    records = [json.loads(l) for l in open(ndjson) if l.strip()]
    flagged = {flow_key(r): " ".join(r["alerts"]) for r in records if r["alerts"]}
    shown = {a["data-flow"]: a["data-alerts"] for a in page.articles}
    if len(page.articles) != len(flagged):
        errors.append(f"{len(page.articles)} flow articles, analyze flagged {len(flagged)}")
    for key, alerts in flagged.items():
        if shown.get(key) != alerts:
            errors.append(f"flagged flow {key} ({alerts}) shown as {shown.get(key)!r}")
    for a in page.articles:
        if a["histograms"] == 0:
            errors.append(f"no byte histogram in {a['data-flow']}")

    labeled = 0
    for path in labels:
        for row in csv.DictReader(open(path)):
            if not row["expect_alerts"]:
                continue
            labeled += 1
            own = {flow_key(json.loads(l)) for l in open(os.path.join(solo, row["pcap"] + ".ndjson")) if l.strip()}
            shown_alerts = set()
            for key in own:
                shown_alerts.update(shown.get(key, "").split())
            missing = set(re.split(r"[\s;|]+", row["expect_alerts"].strip())) - shown_alerts
            if missing:
                errors.append(f"{row['pcap']} is labeled {row['expect_alerts']}; no listed flow of it shows {sorted(missing)}")

    svg_ids = {a.get("id") for t, a in page.tags if t == "svg"}
    for chart in ("scatter", "timeline"):
        if chart not in svg_ids:
            errors.append(f"no {chart} chart")
    for tag, attrs in page.tags:
        if tag == "script":
            errors.append("a <script> element")
        for name, value in attrs.items():
            v = (value or "").strip().lower()
            if name in ("src", "href", "action", "srcset") and ("//" in v or v.startswith("data:")):
                errors.append(f"an external reference: <{tag} {name}={value!r}>")
            if name.startswith("on"):
                errors.append(f"an event handler: <{tag} {name}>")
    if "@import" in open(report, encoding="utf-8").read() or "url(" in open(report, encoding="utf-8").read():
        errors.append("CSS that fetches (@import or url())")

    try:
        width, height, bpp, rows = png_pixels(png)
        background = bytes(rows[0][:bpp])
        colours, inked = set(), 0
        for row in rows[::4]:
            for x in range(0, width * bpp, bpp * 4):
                px = bytes(row[x : x + bpp])
                colours.add(px)
                inked += px != background
        sampled = len(rows[::4]) * len(range(0, width * bpp, bpp * 4))
        if (width, height) != (1280, 2400):
            errors.append(f"screenshot is {width}x{height}")
        if len(colours) < 16 or inked < sampled // 50:
            errors.append(f"screenshot looks blank: {len(colours)} colours, {inked}/{sampled} inked samples")
    except (OSError, ValueError, zlib.error) as e:
        errors.append(f"screenshot: {e}")

    if errors:
        print("report check FAILED:\n  " + "\n  ".join(errors), file=sys.stderr)
        sys.exit(1)
    print(
        f"report check: {len(page.articles)} flagged flows as analyze flags them, {labeled} labeled captures' alerts shown, "
        f"charts {sorted(i for i in svg_ids if i)}, screenshot {width}x{height} with {len(colours)} colours"
    )


if __name__ == "__main__":
    main()
