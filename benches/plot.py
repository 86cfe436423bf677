#!/usr/bin/env python3
"""Turns benches/results/*.tsv into latest.md and SVG charts (no dependencies).

Reads macro.tsv (one row per tool and variant on the mixed capture),
scale.tsv (concurrent-flow floods) and, when present, detection.md (the
side-by-side detection table of benches/detection.py).
"""
import argparse, csv, os, platform, subprocess
from html import escape

p = argparse.ArgumentParser()
p.add_argument("--results"); p.add_argument("--capture"); p.add_argument("--packets", type=int)
p.add_argument("--bytes", type=int)
a = p.parse_args()


def rows(name):
    path = os.path.join(a.results, name)
    return list(csv.DictReader(open(path), delimiter="\t")) if os.path.exists(path) else []


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:
        return ""


def bar_chart(path, title, items, unit):
    """Horizontal bars: items = [(label, value)]."""
    w, left, bar, gap = 760, 300, 18, 8
    h = 50 + len(items) * (bar + gap)
    top = max([v for _, v in items] + [1e-9])
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<text x="10" y="20" font-size="14" font-weight="bold">{escape(title)}</text>']
    for i, (label, v) in enumerate(items):
        y = 35 + i * (bar + gap)
        bw = max(1, (w - left - 90) * v / top)
        svg.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{escape(label)}</text>')
        svg.append(f'<rect x="{left}" y="{y}" width="{bw:.1f}" height="{bar}" fill="#3b6ea5"/>')
        svg.append(f'<text x="{left + bw + 4:.1f}" y="{y + 13}">{v:.3g} {escape(unit)}</text>')
    svg.append("</svg>")
    open(path, "w").write("\n".join(svg))


def line_chart(path, title, series, xlabel, ylabel):
    """series = {name: [(x, y)]}, log-scaled x."""
    import math
    w, h, l, b, t, r = 760, 380, 80, 50, 40, 200
    xs = [x for s in series.values() for x, _ in s]
    ys = [y for s in series.values() for _, y in s]
    if not xs:
        return
    x0, x1 = math.log10(min(xs)), math.log10(max(xs))
    y1 = max(ys) or 1
    fx = lambda x: l + (w - l - r) * ((math.log10(x) - x0) / ((x1 - x0) or 1))
    fy = lambda y: h - b - (h - b - t) * y / y1
    colors = ["#3b6ea5", "#c0504d", "#9bbb59", "#8064a2"]
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<text x="10" y="20" font-size="14" font-weight="bold">{escape(title)}</text>',
           f'<line x1="{l}" y1="{h - b}" x2="{w - r}" y2="{h - b}" stroke="black"/>',
           f'<line x1="{l}" y1="{t}" x2="{l}" y2="{h - b}" stroke="black"/>',
           f'<text x="{(l + w - r) / 2}" y="{h - 12}" text-anchor="middle">{escape(xlabel)}</text>',
           f'<text x="15" y="{(h - b + t) / 2}" transform="rotate(-90 15 {(h - b + t) / 2})" text-anchor="middle">{escape(ylabel)}</text>',
           f'<text x="{l - 5}" y="{t + 4}" text-anchor="end">{y1:.0f}</text>',
           f'<text x="{l - 5}" y="{h - b}" text-anchor="end">0</text>']
    for x in sorted(set(xs)):
        svg.append(f'<text x="{fx(x):.1f}" y="{h - b + 16}" text-anchor="middle">{x:,}</text>')
    for i, (name, pts) in enumerate(series.items()):
        c = colors[i % len(colors)]
        pts = sorted(pts)
        svg.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' %
                   (c, " ".join(f"{fx(x):.1f},{fy(y):.1f}" for x, y in pts)))
        for x, y in pts:
            svg.append(f'<circle cx="{fx(x):.1f}" cy="{fy(y):.1f}" r="3" fill="{c}"/>')
        svg.append(f'<text x="{w - r + 10}" y="{t + 16 * i + 10}" fill="{c}">{escape(name)}</text>')
    svg.append("</svg>")
    open(path, "w").write("\n".join(svg))


macro = rows("macro.tsv")
scale = rows("scale.tsv")
md = ["# Benchmark results", "",
      "Produced by `bash benches/macro.sh` (see the README). The machine is shared and noisy: the ratios are the "
      "figures that count; absolute times are context.", ""]
cpu_model = sh("lscpu | sed -n 's/^Model name: *//p'") or platform.processor()
ndpi_version = sh("ndpiReader -h 2>&1 | grep -o 'nDPI [0-9.]*' | head -n 1") or "no nDPI"
tools = [sh("zeek --version 2>/dev/null") or "no Zeek", sh("suricata -V 2>/dev/null") or "no Suricata 7",
         sh("/opt/suricata8/bin/suricata -V 2>/dev/null") or "no Suricata 8", ndpi_version, sh("rustc --version")]
md += ["## Machine", "",
       f"- CPU: {cpu_model} ({os.cpu_count()} cores seen)",
       f"- Kernel: {platform.release()}",
       "- Tools: " + "; ".join(tools),
       f"- Capture: `{os.path.basename(a.capture)}`, {a.bytes / 2**20:.0f} MiB, {a.packets:,} packets "
       "(benches/src/bin/mkcapture.rs from ../shared/captures and the labeled corpus)", ""]

md += ["## Throughput and cost on the mixed capture", "",
       "| tool | variant | CPU s | wall s | peak RSS MiB | packets/s (CPU) | Gbit/s (CPU) | CPU vs baseline |",
       "|---|---|---|---|---|---|---|---|"]
baseline = {}
for r in macro:
    if r["variant"] in ("no plugin", "no rules"):
        baseline[r["tool"]] = float(r["cpu_s"])
shipped = {r["tool"]: float(r["cpu_s"]) for r in macro if r["variant"] == "shipped rules"}


def base_of(r):
    """A variant's baseline: the shipped rules for "shipped rules + …", else no plugin / no rules."""
    if r["variant"].startswith("shipped rules + "):
        return shipped.get(r["tool"])
    return baseline.get(r["tool"])


for r in macro:
    base = base_of(r)
    ratio = f"{float(r['cpu_s']) / base:.3f}" if base else "–"
    rss = int(r["max_rss_kb"]) // 1024 or "–"
    md.append(f"| {r['tool']} | {r['variant']} | {r['cpu_s']} | {r['wall_s']} | {rss} | "
              f"{int(float(r['pkts_per_s'])):,} | {r['gbit_per_s']} | {ratio} |")
md.append("")

# Goals.
def cpu(tool, variant):
    for r in macro:
        if r["tool"] == tool and r["variant"] == variant:
            return float(r["cpu_s"])
    return None

goals = []
z0, zp, zm, zs, zf = (cpu("Zeek", v) for v in ("no plugin", "plugin", "plugin + main.zeek (log, notices)",
                                                "plugin + zeek-scripts (+ site policy)", "find_entropy script"))
if z0 and zp:
    goals.append(f"- Zeek: the plugin adds {100 * (zp / z0 - 1):.1f} % CPU (goal ≤ 2 %); with main.zeek "
                 f"(encchan.log, notices) {100 * ((zm or zp) / z0 - 1):.1f} %; with the site policy too "
                 f"(validate-certs, beaconing, telemetry) {100 * ((zs or zp) / z0 - 1):.1f} %.")
if z0 and zp and zf:
    added_p, added_f = zp - z0, zf - z0
    goals.append(f"- Zeek: the find_entropy script adds {100 * (zf / z0 - 1):.1f} % CPU; the plugin's added cost is "
                 f"{added_f / added_p:.1f}× smaller (goal ≥ 10×)." if added_p > 0 else
                 "- Zeek: the plugin's added CPU is within noise of zero.")
for ver in ("7.0", "8.0"):
    for r in macro:
        base = base_of(r)
        if r["tool"] == f"Suricata {ver}" and r["variant"] not in ("no rules", "shipped rules") and base:
            against = "the shipped rules alone" if r["variant"].startswith("shipped rules + ") else "no rules"
            goals.append(f"- Suricata {ver}, {r['variant']}: {100 * (float(r['cpu_s']) / base - 1):.1f} % CPU "
                         f"over {against}.")
e, n = cpu("encchan", "analyze"), [r for r in macro if r["tool"] == "nDPI"]
if e and n:
    goals.append(f"- `encchan analyze` processes {float(n[0]['cpu_s']) / e:.2f}× the packets per CPU second of "
                 f"ndpiReader (goal ≥ 1×).")
if goals:
    md += ["## Against the goals", ""] + goals + [""]

if scale:
    md += ["## Scale: concurrent flows (never closed)", "", "| tool | flows | CPU s | peak RSS MiB | RSS per flow over 10 k flows |",
           "|---|---|---|---|---|"]
    first = {}
    for r in scale:
        first.setdefault(r["tool"], (int(r["flows"]), int(r["max_rss_kb"])))
    for r in scale:
        f0, m0 = first[r["tool"]]
        n_, m = int(r["flows"]), int(r["max_rss_kb"])
        per = f"{(m - m0) * 1024 / (n_ - f0):.0f} B" if n_ > f0 else "–"
        md.append(f"| {r['tool']} | {n_:,} | {r['cpu_s']} | {m // 1024} | {per} |")
    md.append("")
    line_chart(os.path.join(a.results, "memory-vs-flows.svg"), "Peak RSS vs concurrent flows",
               {t: [(int(r["flows"]), int(r["max_rss_kb"]) / 1024) for r in scale if r["tool"] == t]
                for t in dict.fromkeys(r["tool"] for r in scale)}, "concurrent flows (log scale)", "peak RSS, MiB")
    md += ["![memory vs flows](memory-vs-flows.svg)", ""]

if macro:
    bar_chart(os.path.join(a.results, "throughput.svg"), "Throughput per CPU second on the mixed capture",
              [(f"{r['tool']}: {r['variant']}", float(r["gbit_per_s"])) for r in macro], "Gbit/s")
    over = [(f"{r['tool']}: {r['variant']}", 100 * (float(r["cpu_s"]) / base_of(r) - 1))
            for r in macro if base_of(r) and r["variant"] not in ("no plugin", "no rules", "shipped rules")]
    bar_chart(os.path.join(a.results, "cpu-overhead.svg"), "Added CPU over the same tool with no plugin / no rules",
              [(l, max(v, 0.0)) for l, v in over], "%")
    md += ["![throughput](throughput.svg)", "", "![CPU overhead](cpu-overhead.svg)", ""]

ins = os.path.join(a.results, "instructions.md")
if os.path.exists(ins):
    md += [open(ins).read(), ""]

det = os.path.join(a.results, "detection.md")
if os.path.exists(det):
    md += [open(det).read(), ""]
open(os.path.join(a.results, "latest.md"), "w").write("\n".join(md))
