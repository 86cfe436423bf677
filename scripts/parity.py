#!/usr/bin/env python3
"""Parity across front ends: the flows the CLI alerts on, and with which
alerts, against Zeek (encchan.log and notice.log) and the rule alerts of
Suricata 7.0 and 8.0 (eve.json `alert` events, not the plugin's own
records), over tests/corpus/pcaps and ../shared/captures.

Flows are joined by their 5-tuple taken without direction (the engine may
turn a flow round: `roles_swapped`; IPv6 addresses in one spelling), within
a scope: a capture on its own, except for Suricata on the shared captures,
whose suite runs a directory at once: there the CLI's per-file results are
merged over the directory (a 5-tuple recurring in two captures of it is
reported as such). Alert names are compared, never timing.

Every difference must be listed in tests/parity-exceptions.tsv with its
reason; an unlisted one fails. A listed one that no longer differs is
reported as stale, not failed (the engine may decide earlier).

Outputs of the suites are reused: with --reuse DIR (scripts/test-all.sh sets
ENCCHAN_PARITY_DIR for cpp-shim/tests/run.sh and
crates/encchan-suricata/tests/run.sh, which list their plain runs in
DIR/zeek/runs.tsv and DIR/suricata/{7,8}/runs.tsv). A capture without a
reusable run is run here. A front end whose tool or plugin is missing is
skipped with a SKIP line, unless ENCCHAN_CI is set.
"""
import argparse, csv, ctypes, fnmatch, glob, ipaddress, json, os, re, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from capture_order import chronological  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--root", default=os.path.realpath(os.path.join(os.path.dirname(__file__), "..")))
p.add_argument("--reuse", help="directory with the suites' kept runs (ENCCHAN_PARITY_DIR)")
p.add_argument("--work", help="where runs made here go (default: a temporary directory)")
p.add_argument("--out", help="write the parity table (markdown) here")
p.add_argument("--exceptions", help="explained differences (default tests/parity-exceptions.tsv)")
p.add_argument("--shared", help="shared captures (default ../shared/captures from the root)")
p.add_argument("--only", help="only captures whose path contains this (while iterating)")
a = p.parse_args()
root = a.root
ci = bool(os.environ.get("ENCCHAN_CI"))
work = a.work or tempfile.mkdtemp(prefix="encchan-parity-")
os.makedirs(work, exist_ok=True)
encchan = os.path.join(root, "target", "release", "encchan")
lib = ctypes.CDLL(os.path.join(root, "target", "release", "libencchan.so"))
lib.encchan_alert_name.restype = ctypes.c_char_p
ALERTS = []
while lib.encchan_alert_name(len(ALERTS)):
    ALERTS.append(lib.encchan_alert_name(len(ALERTS)).decode())

corpus = sorted(glob.glob(os.path.join(root, "tests", "corpus", "pcaps", "*.pcap")))
shared_root = os.path.realpath(a.shared or os.path.join(root, "..", "shared", "captures"))
shared = []
if os.path.isdir(shared_root):
    for dp, _, files in os.walk(shared_root):
        shared += [os.path.join(dp, f) for f in files if f.endswith((".pcap", ".pcapng", ".trace"))]
    shared.sort()
elif ci:
    sys.exit(f"parity: no shared captures at {shared_root}, and CI requires them")
else:
    print(f"SKIP shared captures: {shared_root} not found")
captures = [c for c in corpus + shared if not a.only or a.only in c]
in_corpus = set(corpus)


def scope_of(capture, per_file=False):
    """A corpus capture alone; a directory of shared captures as a whole
    (per_file: a shared capture alone, for the front ends that run one
    capture at a time)."""
    if capture in in_corpus:
        return "corpus/" + os.path.basename(capture)
    if per_file:
        return "captures/" + os.path.relpath(capture, shared_root)
    return "captures/" + os.path.relpath(os.path.dirname(capture), shared_root)


def ip_str(ip):
    """One spelling per address: Suricata 7 writes IPv6 in full
    (2001:0db8:0001:...), the CLI and Zeek compressed (2001:db8:1::...)."""
    try:
        return ipaddress.ip_address(str(ip)).compressed
    except ValueError:
        return str(ip)


def flow_key(proto, ip1, port1, ip2, port2):
    ends = sorted([(ip_str(ip1), int(port1)), (ip_str(ip2), int(port2))])
    return (proto.upper(), ends[0][0], ends[0][1], ends[1][0], ends[1][1])


def flow_str(k):
    return f"{k[0]} {k[1]}:{k[2]} {k[3]}:{k[4]}"


def load_runs(d):
    runs = {}
    path = os.path.join(d, "runs.tsv") if d else ""
    if path and os.path.exists(path):
        for line in open(path):
            cap, out = line.rstrip("\n").split("\t")
            runs.setdefault(cap, out)  # the first plain run of a capture
    return runs


def jsonl(path):
    out = []
    if os.path.exists(path):
        for line in open(path, errors="replace"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass  # a line cut by a crash shows up as a missing flow
    return out


# Per front end: {scope: {key: set(alerts)}}, and for the reasons what the
# sensor's own verdict said: {scope: {key: verdict dict}}.
alerted = {}
verdicts = {}
ran = []
skipped = {}


def add(fe, scope, k, names, table=alerted):
    table.setdefault(fe, {}).setdefault(scope, {}).setdefault(k, set()).update(names)


# Which captures of a scope hold a flow (a 5-tuple may recur across the
# captures of a directory, which a run over the directory cannot separate).
captures_of = {}

# ---- the CLI (the reference) ----
for c in captures:
    r = subprocess.run([encchan, "analyze", c], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        v = json.loads(line)
        k = flow_key(v["transport"] if "transport" in v else v.get("proto", ""), v["client"]["ip"], v["client"]["port"],
                     v["server"]["ip"], v["server"]["port"])
        add("cli", scope_of(c), k, v["alerts"])
        verdicts.setdefault("cli", {}).setdefault(scope_of(c), {})[k] = v
        # Zeek runs a capture at a time: it is compared capture by capture.
        add("cli-file", scope_of(c, True), k, v["alerts"])
        verdicts.setdefault("cli-file", {}).setdefault(scope_of(c, True), {})[k] = v
        captures_of.setdefault((scope_of(c), k), set()).add(os.path.basename(c))
ran.append("cli")

# ---- Zeek ----
NOTE_ALERTS = {"EncChan::Symmetric_Only_Channel", "EncChan::TLS_Unexpected_Port", "EncChan::SSH_Unexpected_Port",
               "EncChan::Encrypted_On_Plaintext_Port", "EncChan::Traffic_Asymmetry", "EncChan::Handshake_Anomaly",
               "EncChan::DNS_Encoded_Payload"}
zeek_bin = "zeek" if subprocess.run(["which", "zeek"], capture_output=True).returncode == 0 else None
zeek_plugin = os.environ.get("ZEEK_PLUGIN_PATH") or os.path.join(root, "cpp-shim", "build")
zeek_runs = load_runs(os.path.join(a.reuse, "zeek") if a.reuse else None)


def zeek_logs(c):
    d = zeek_runs.get(os.path.realpath(c))
    if d is None:
        if zeek_bin is None or not os.path.isdir(zeek_plugin):
            return None
        d = os.path.join(work, "zeek", re.sub(r"[^A-Za-z0-9._-]", "_", os.path.relpath(c, "/")))
        os.makedirs(d, exist_ok=True)
        subprocess.run([zeek_bin, "-C", "-r", c, os.path.join(root, "zeek-scripts"), "LogAscii::use_json=T"], cwd=d,
                       capture_output=True, env=dict(os.environ, ZEEK_PLUGIN_PATH=zeek_plugin))
    return jsonl(os.path.join(d, "encchan.log")), jsonl(os.path.join(d, "notice.log"))


zeek_missing = 0
for c in captures:
    logs = zeek_logs(c)
    if logs is None:
        zeek_missing += 1
        continue
    encchan_log, notices = logs
    s = scope_of(c, True)
    for l in encchan_log:
        k = flow_key(l["proto"], l["id.orig_h"], l["id.orig_p"], l["id.resp_h"], l["id.resp_p"])
        add("zeek", s, k, l.get("alerts") or [])
        verdicts.setdefault("zeek", {}).setdefault(s, {})[k] = l
    for n in notices:
        if n.get("note") not in NOTE_ALERTS or "id.orig_h" not in n:
            continue
        m = re.match(r"encchan (\w+)", n.get("msg", ""))
        if m:
            k = flow_key(n.get("proto") or "", n["id.orig_h"], n["id.orig_p"], n["id.resp_h"], n["id.resp_p"])
            add("zeek-notice", s, k, [m.group(1)])
            # A notice is suppressed for a while per client, server, port
            # and alert: the other flows of that group are noticed by it.
            add("zeek-notice-group", s, (n.get("src"), n.get("dst"), n.get("p"), m.group(1)), ["x"])
if zeek_missing == 0:
    ran += ["zeek", "zeek-notice"]
else:
    skipped["zeek"] = f"{zeek_missing} captures without a Zeek run (zeek or the plugin at {zeek_plugin} missing)"

# ---- Suricata 7.0 and 8.0: rule alerts ----
plugins = {7: os.path.join(root, "crates", "encchan-suricata", "build", "encchan-suricata-7.so"),
           8: os.path.join(root, "crates", "encchan-suricata", "build", "encchan-suricata-8.so")}
binaries = {7: os.environ.get("SURICATA7") or "suricata", 8: os.environ.get("SURICATA8") or "/opt/suricata8/bin/suricata"}


def suricata_run(major, target, d):
    rules_dir = os.path.join(root, "suricata-rules")
    outputs = ["  - eve-log:", "      enabled: yes", "      filename: eve.json", "      types:", "        - alert",
               "        - flow"]
    if major == 7:
        outputs = ["  - encchan:", "      enabled: yes"] + outputs
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "suricata.yaml")
    open(conf, "w").write("\n".join([
        # The rules' address variables, as check.py's runs set them (every
        # end counts as internal and external: the captures are loopback).
        "%YAML 1.1", "---", f"default-log-dir: {d}", "vars:", "  address-groups:", '    HOME_NET: "any"',
        '    EXTERNAL_NET: "any"', '    ENCCHAN_ALLOWED_SERVERS: "[0.0.0.0/32,::/128]"',
        "plugins:", f"  - {plugins[major]}",
        "encchan:", "  eve: all", "outputs:", *outputs,
        f"classification-file: {os.path.join(rules_dir, 'classification.config')}",
        "reference-config-file: /dev/null", "threshold-file: /dev/null", "pcap-file:", "  checksum-checks: no", ""]))
    rules = "encchan-keyword.rules" if major == 8 else "encchan.rules"
    # A directory is read oldest capture first, single-threaded (as the
    # Suricata suite's runs; its check.py says why).
    source = chronological(target, os.path.join(d, "input")) if os.path.isdir(target) else target
    subprocess.run([binaries[major], "-c", conf, "-S", os.path.join(rules_dir, rules), "-k", "none", "-l", d, "-r",
                    source, "--runmode", "single"], capture_output=True)


for major in (7, 8):
    fe = f"suricata{major}"
    base = 9573000 if major == 7 else 9573100
    runs = load_runs(os.path.join(a.reuse, "suricata", str(major)) if a.reuse else None)
    usable = os.path.exists(plugins[major]) and subprocess.run(
        ["sh", "-c", f"command -v {binaries[major]}"], capture_output=True).returncode == 0
    targets = {}
    for c in captures:
        t = c if c in in_corpus else os.path.dirname(c)
        targets.setdefault((t, scope_of(c)), None)
    missing = 0
    for t, s in targets:
        d = runs.get(os.path.realpath(t))
        if d is None:
            if not usable:
                missing += 1
                continue
            d = os.path.join(work, fe, re.sub(r"[^A-Za-z0-9._-]", "_", os.path.relpath(t, "/")))
            suricata_run(major, t, d)
        for e in jsonl(os.path.join(d, "eve.json")) + (jsonl(os.path.join(d, "encchan.json")) if major == 7 else []):
            if "src_port" not in e:
                continue
            k = flow_key(e["proto"], e["src_ip"], e["src_port"], e["dest_ip"], e["dest_port"])
            if e["event_type"] == "alert":
                sid = e["alert"]["signature_id"]
                if base < sid <= base + len(ALERTS):
                    add(fe, s, k, [ALERTS[sid - base - 1]])
            elif (e["event_type"] == "flow" and "encchan" in e) or e["event_type"] == "encchan":
                # The plugin's own verdict record: only to tell why.
                add(fe + "-verdict", s, k, e["encchan"]["alerts"])
                verdicts.setdefault(fe, {}).setdefault(s, {})[k] = e["encchan"]
    if missing == 0:
        ran.append(fe)
    else:
        skipped[fe] = f"{missing} capture runs missing (Suricata {major} or its plugin not built)"

if ci and skipped:
    sys.exit(f"parity: CI requires every front end: {skipped}")

# ---- compare ----


def reason(fe, s, k, alert, kind):
    """Why a front end differs from the CLI on one alert of one flow, from
    what the sensor's own verdict says."""
    ref = "cli-file" if fe.startswith("zeek") else "cli"
    cli_v = verdicts.get(ref, {}).get(s, {}).get(k)
    base = fe.replace("-notice", "")
    if fe.startswith("suricata") and len(captures_of.get((s, k), ())) > 1:
        return f"the 5-tuple is in {len(captures_of[(s, k)])} captures of the directory " \
               f"({', '.join(sorted(captures_of[(s, k)]))}): one {base} run over the directory does not tell " \
               "their flows apart"
    v = verdicts.get(base, {}).get(s, {}).get(k)
    if fe.startswith("suricata"):
        in_verdict = alert in alerted.get(fe + "-verdict", {}).get(s, {}).get(k, set())
        if kind == "missing" and in_verdict:
            if k[0] == "UDP":
                return "in the plugin's EVE verdict only: final at the flow's end, a UDP timeout with no packet left"
            return "in the plugin's EVE verdict only: final at the flow's end, with no packet left after it"
        if kind == "extra" and not in_verdict:
            return "a rule alert without the alert in the plugin's verdict (published too early)"
    if v is None:
        if base.startswith("suricata") and cli_v is not None and cli_v.get("midstream") and k[0] == "TCP":
            return f"no {base} verdict: the flow's start is not in the capture; Suricata's default " \
                   "stream.midstream: false does not track it (the CLI and Zeek pick it up mid-stream)"
        if cli_v is not None and cli_v.get("pcap"):
            return f"no {base} verdict for the flow (CLI: {os.path.basename(cli_v['pcap'])})"
        return f"no {base} verdict for the flow"
    if fe == "zeek-notice" and (alert in alerted.get("zeek", {}).get(s, {}).get(k, set())) == (kind == "missing"):
        return "in encchan.log, no notice" if kind == "missing" else "a notice without the alert in encchan.log"
    if cli_v is None:
        return f"the CLI has no flow; {base} says {sorted(alerted.get(base, {}).get(s, {}).get(k, []))}"
    vb = v.get("bytes") or {"client": v.get("orig_bytes"), "server": v.get("resp_bytes")}
    cb = cli_v["bytes"]
    if sorted(vb.values(), key=str) != sorted(cb.values(), key=str):
        return f"the sensor gave the engine other bytes (CLI {cb['client']}/{cb['server']}, {base} " \
               f"{vb.get('client')}/{vb.get('server')})"
    return f"the engine's verdicts differ on the same bytes (CLI {sorted(cli_v['alerts'])}, {base} " \
           f"{sorted(alerted.get(base, {}).get(s, {}).get(k, []))})"


exc_path = a.exceptions or os.path.join(root, "tests", "parity-exceptions.tsv")
exceptions = []
for row in csv.DictReader((l for l in open(exc_path) if not l.startswith("#")), delimiter="\t"):
    exceptions.append(dict(row, used=False))


def explained(fe, s, k, alert, kind, measured):
    for e in exceptions:
        if all(fnmatch.fnmatchcase(x, pat) for x, pat in
               ((fe, e["frontend"]), (s, e["scope"]), (flow_str(k), e["flow"]), (alert, e["alert"]),
                (kind, e["kind"]), (measured, e.get("measured") or "*"))):
            e["used"] = True
            return e["reason"]
    return None


# A Suricata difference no exception explains, on a directory of the shared
# captures: Suricata's offline clock runs across the directory's captures
# (capture_order.py), and on a loaded machine a flow can still be timed out
# early there. The flow's own capture is read alone; where that run agrees
# with the CLI, the difference is the directory run's and is reported so.
alone_runs = {}


def alone_alerts(major, pcap):
    if (major, pcap) not in alone_runs:
        d = os.path.join(work, f"suricata{major}-alone", re.sub(r"[^A-Za-z0-9._-]", "_", os.path.relpath(pcap, "/")))
        suricata_run(major, pcap, d)
        base = 9573000 if major == 7 else 9573100
        got = {}
        for e in jsonl(os.path.join(d, "eve.json")):
            if e.get("event_type") == "alert" and "src_port" in e:
                sid = e["alert"]["signature_id"]
                if base < sid <= base + len(ALERTS):
                    k = flow_key(e["proto"], e["src_ip"], e["src_port"], e["dest_ip"], e["dest_port"])
                    got.setdefault(k, set()).add(ALERTS[sid - base - 1])
        alone_runs[(major, pcap)] = got
    return alone_runs[(major, pcap)]


def directory_only(fe, s, k, alert, kind):
    cli_v = verdicts.get("cli", {}).get(s, {}).get(k)
    if not fe.startswith("suricata") or not s.startswith("captures/") or not cli_v or not cli_v.get("pcap"):
        return None
    alone = alone_alerts(int(fe[-1]), cli_v["pcap"]).get(k, set())
    if (alert in alone) == (kind == "missing"):
        return (f"the directory run only: {os.path.basename(cli_v['pcap'])} read alone gives the CLI's alerts "
                "(Suricata's offline flow clock across the directory's captures)")
    return None


fronts = [fe for fe in ("zeek", "zeek-notice", "suricata7", "suricata8") if fe in ran]
rows = {fe: [] for fe in fronts}
stats = {}
for fe in fronts:
    cli = alerted.get("cli-file" if fe.startswith("zeek") else "cli", {})
    got = alerted.get(fe, {})
    n_alerted = sum(1 for s in got for k, x in got[s].items() if x)
    agree = differ = 0
    scopes = set(cli) | set(got)
    for s in sorted(scopes):
        keys = {k for k, x in cli.get(s, {}).items() if x} | {k for k, x in got.get(s, {}).items() if x}
        for k in sorted(keys):
            want, have = cli.get(s, {}).get(k, set()), got.get(s, {}).get(k, set())
            if fe == "zeek-notice":
                # A notice suppressed as a repeat of the same client, server,
                # port and alert counts for this flow.
                z = verdicts.get("zeek", {}).get(s, {}).get(k)
                if z is not None:
                    for x in want - have:
                        if ("x" in alerted.get("zeek-notice-group", {}).get(s, {}).get(
                                (z["id.orig_h"], z["id.resp_h"], z["id.resp_p"], x), set())):
                            have = have | {x}
            diffs = [(x, "missing") for x in sorted(want - have)] + [(x, "extra") for x in sorted(have - want)]
            if not diffs:
                agree += 1
                continue
            differ += 1
            for x, kind in diffs:
                measured = reason(fe, s, k, x, kind)
                why = explained(fe, s, k, x, kind, measured)
                if why is None:
                    why = directory_only(fe, s, k, x, kind)
                    measured = f"{measured}; {why}" if why else measured
                rows[fe].append((s, k, x, kind, why, measured))
    stats[fe] = (n_alerted, agree, differ)

cli_n = sum(1 for s in alerted.get("cli-file", {}) for x in alerted["cli-file"][s].values() if x)
lines = ["# Parity across front ends", "",
         "Generated by `scripts/parity.py` (run by `scripts/test-all.sh`): the flows the CLI alerts on, against "
         "Zeek's encchan.log and notice.log and the rule alerts (eve.json `alert` events) of Suricata 7.0 "
         "(`encchan.rules`, flowbits) and 8.0 (`encchan-keyword.rules`), over tests/corpus/pcaps "
         f"({len([c for c in captures if c in in_corpus])} captures) and ../shared/captures "
         f"({len([c for c in captures if c not in in_corpus])} captures). Flows are joined by their 5-tuple "
         "without direction, per capture (Suricata: per shared-capture directory, which it runs at once); alert "
         "names are compared. "
         "Every difference must be explained in tests/parity-exceptions.tsv.", "",
         f"CLI: {cli_n} flows alerted.", "",
         "| front end | flows alerted | flows agreeing with the CLI | flows differing | differences explained |",
         "|---|---|---|---|---|"]
for fe in fronts:
    n, ag, df = stats[fe]
    ex = sum(1 for r in rows[fe] if r[4])
    lines.append(f"| {fe} | {n} | {ag} | {df} | {ex}/{len(rows[fe])} |")
for fe, why in skipped.items():
    lines.append(f"| {fe} | skipped: {why} | | | |")
lines += ["", "Flows agreeing: among the flows the CLI or the front end alerted on, those with the same alert names. "
          "zeek-notice: a notice on the flow, or one suppressed as a repeat of the same client, server, port and "
          "alert.", ""]
unexplained = 0
for fe in fronts:
    if not rows[fe]:
        continue
    lines += [f"## {fe}: differences", "", "| scope | flow | alert | CLI has it, the front end not (missing) / the other way (extra) | why (measured) | explained |",
              "|---|---|---|---|---|---|"]
    for s, k, x, kind, why, measured in rows[fe]:
        unexplained += not why
        lines.append(f"| {s} | {flow_str(k)} | {x} | {kind} | {measured} | {why or '**NOT EXPLAINED**'} |")
    lines.append("")
stale = [e for e in exceptions if not e["used"]]
if stale:
    lines += ["## Explained differences no longer seen", ""]
    lines += [f"- {e['frontend']} {e['scope']} {e['flow']} {e['alert']} {e['kind']}: {e['reason']}" for e in stale]
    lines.append("")
text = "\n".join(lines)
if a.out:
    open(a.out, "w").write(text)
print(text)
for fe in fronts:
    for s, k, x, kind, why, measured in rows[fe]:
        if not why:
            print(f"FAIL parity: {fe} {s} {flow_str(k)} {x} {kind}: {measured}", file=sys.stderr)
print(f"parity: {', '.join(f'{fe} {stats[fe][1]} agree/{stats[fe][2]} differ' for fe in fronts)}; "
      f"{unexplained} unexplained, {len(stale)} stale exceptions", file=sys.stderr)
sys.exit(1 if unexplained else 0)
