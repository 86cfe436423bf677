#!/usr/bin/env python3
"""Checks the Zeek plugin's behaviour with real Zeek runs (see run.sh)."""
import argparse, csv, json, os, subprocess, sys

p = argparse.ArgumentParser()
p.add_argument("--root"); p.add_argument("--work"); p.add_argument("--encchan")
a = p.parse_args()
scripts = os.path.join(a.root, "zeek-scripts")
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}", file=sys.stderr)


def zeek(pcap, name):
    d = os.path.join(a.work, name)
    os.makedirs(d, exist_ok=True)
    r = subprocess.run(["zeek", "-C", "-r", pcap, scripts, "LogAscii::use_json=T"], cwd=d,
                       capture_output=True, text=True)
    check(r.returncode == 0, f"zeek -r {pcap}: {r.stderr[-500:]}")
    logs = {}
    for log in ("encchan", "notice", "conn"):
        path = os.path.join(d, log + ".log")
        logs[log] = [json.loads(l) for l in open(path)] if os.path.exists(path) else []
    return logs


def cli(pcap):
    r = subprocess.run([a.encchan, "analyze", pcap], capture_output=True, text=True)
    return [json.loads(l) for l in r.stdout.splitlines()]


# 1. The plugin loads.
r = subprocess.run(["zeek", "-N", "EncChan::Engine"], capture_output=True, text=True)
check(r.returncode == 0 and "EncChan::Engine" in r.stdout, f"zeek -N lists the plugin: {r.stdout}{r.stderr}")

# 2. BiFs: entropy of random bytes near 8, of text low; TLS detection.
r = subprocess.run(["zeek", scripts, "-e",
                    'print fmt("%.3f %.3f %s %s", EncChan::entropy(sha256_hash("a") + sha256_hash("b") + sha256_hash("c")),'
                    ' EncChan::entropy("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),'
                    ' EncChan::looks_like_tls("\\x16\\x03\\x01\\x00\\xc8\\x01\\x00\\x00\\xc4\\x03\\x03"),'
                    ' EncChan::byte_stats("hello world, hello world")$encoding)'],
                   capture_output=True, text=True)
check(r.returncode == 0 and r.stdout.split()[2:] == ["T", "raw"], f"BiFs: {r.stdout}{r.stderr}")

# 3. The labeled corpus: same verdicts as the labels, same entropy as the CLI.
corpus = os.path.join(a.root, "tests", "corpus")
for row in csv.DictReader(open(os.path.join(corpus, "labels.csv"))):
    pcap = os.path.join(corpus, "pcaps", row["pcap"])
    logs = zeek(pcap, row["pcap"])
    port = int(row["server_port"])
    flows = [l for l in logs["encchan"] if l["id.resp_p"] == port and l["proto"] == row["transport"]]
    check(len(flows) > 0, f"{row['pcap']}: no encchan.log line for port {port}")
    for f in flows:
        sym = "symmetric_only" in f["alerts"]
        check(sym == (row["class"] == "symmetric_only"), f"{row['pcap']}: symmetric_only={sym} for {row['class']}: {f}")
        for alert in filter(None, row["expect_alerts"].split("|")):
            check(alert in f["alerts"], f"{row['pcap']}: missing {alert}: {f}")
        if row["expect_protocol"]:
            check(f.get("protocol") == row["expect_protocol"], f"{row['pcap']}: protocol {f.get('protocol')}")
        notes = [n["note"] for n in logs["notice"] if n.get("uid") == f["uid"]]
        check(("EncChan::Symmetric_Only_Channel" in notes) == sym, f"{row['pcap']}: notices {notes}")
    for c in cli(pcap):
        if c["server"]["port"] != port:
            continue
        z = [f for f in flows if f["id.orig_p"] == c["client"]["port"]]
        for f in z:
            for side, key in (("client", "orig_entropy"), ("server", "resp_entropy")):
                want = c["entropy"][side]
                got = f.get(key)
                check((want is None and got is None) or (want is not None and got is not None and abs(want - got) < 0.001),
                      f"{row['pcap']}: {side} entropy CLI {want} vs Zeek {got}")

# 4. Shared captures: no Symmetric_Only_Channel notice on known-protocol flows
#    (Zeek's own conn.log service names the protocol).
known = {"ssl", "ssh", "dns", "http", "quic", "smtp", "ftp", "pop3", "imap", "krb", "krb_tcp", "ldap", "ldap_tcp",
         "smb", "rdp", "mysql", "postgresql", "sip", "dtls", "ntp", "dhcp", "snmp", "syslog", "irc", "xmpp"}
shared = os.path.join(a.root, "..", "shared", "captures")
checked = 0
for base in ("ndpi/pcap", "zeek"):
    for dirpath, _, files in os.walk(os.path.join(shared, base)):
        for name in sorted(files):
            if not name.endswith((".pcap", ".pcapng", ".trace")):
                continue
            logs = zeek(os.path.join(dirpath, name), "shared-" + name)
            services = {c["uid"]: set(c.get("service", "").split(",")) if isinstance(c.get("service"), str)
                        else set(c.get("service") or []) for c in logs["conn"]}
            for n in logs["notice"]:
                if n.get("note") == "EncChan::Symmetric_Only_Channel":
                    svc = services.get(n.get("uid"), set())
                    check(not (svc & known), f"{name}: Symmetric_Only_Channel on {svc}: {n}")
            checked += 1
print(f"zeek: {checked} shared captures run", file=sys.stderr)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
