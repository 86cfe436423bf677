#!/usr/bin/env python3
"""suricata-check over every rules file of suricata-rules/ (run.sh runs it).

Fails on any finding above INFO, on an INFO finding that lint-allow.tsv does
not keep with its reason, on a line of lint-allow.tsv that no finding uses,
and when suricata-check did not read every rule of a file."""
import argparse, os, re, subprocess, sys

p = argparse.ArgumentParser()
p.add_argument("--root"); p.add_argument("--work"); p.add_argument("--suricata-check")
a = p.parse_args()
rules_dir = os.path.join(a.root, "suricata-rules")
here = os.path.dirname(os.path.abspath(__file__))
allow = {}
for line in open(os.path.join(here, "lint-allow.tsv")):
    if line.strip() and not line.startswith("#"):
        code, sids, why = line.rstrip("\n").split("\t")
        assert why.strip(), line
        allow[(code, sids)] = 0

failed, levels = [], {}
files = sorted(f for f in os.listdir(rules_dir) if f.endswith(".rules"))
for name in files:
    out = os.path.join(a.work, name)
    os.makedirs(out, exist_ok=True)
    r = subprocess.run([a.suricata_check, "-r", os.path.join(rules_dir, name), "-o", out, "--log-level", "WARNING"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        failed.append(f"{name}: suricata-check exit {r.returncode}: {r.stderr[-800:]}")
        continue
    stats = open(os.path.join(out, "suricata-check-stats.log")).read()
    read = sum(int(m) for m in re.findall(r"^Rules with(?:out)? Issues +(\d+)", stats, re.M))
    rules = sum(1 for l in open(os.path.join(rules_dir, name)) if l.startswith("alert"))
    if read != rules or rules == 0:
        failed.append(f"{name}: suricata-check read {read} rules of {rules}")
    for line in open(os.path.join(out, "suricata-check-fast.log")):
        m = re.match(r"\[(\w+)\] \((\w+)\) .*?sid (\d+): (.*)", line.strip())
        if not m:
            failed.append(f"{name}: unparsed finding {line.strip()}")
            continue
        code, level, sid, text = m.groups()
        levels[level] = levels.get(level, 0) + 1
        keys = [k for k in allow if k[0] == code and (k[1] == "*" or sid in k[1].split(","))]
        if level != "INFO" or not keys:
            failed.append(f"{name}: sid {sid}: [{code}] ({level}) {text}")
        for k in keys:
            allow[k] += 1
for (code, sids), n in allow.items():
    if n == 0:
        failed.append(f"lint-allow.tsv: {code} {sids} matches no finding (remove it)")
for f in failed:
    print(f"FAIL suricata-check: {f}", file=sys.stderr)
print(f"suricata-check over {len(files)} rules files: findings by level "
      + (", ".join(f"{k} {v}" for k, v in sorted(levels.items())) or "none")
      + f", {sum(allow.values())} kept by lint-allow.tsv", file=sys.stderr)
print(f"suricata-check: {len(files) - len({f.split(':')[0] for f in failed})} passed, "
      f"{len({f.split(':')[0] for f in failed})} failed")
sys.exit(1 if failed else 0)
