#!/usr/bin/env python3
"""Live sensors under load: af-packet capture at rising rates, soak, faults.

Every other figure of the project reads pcap files, where a slow plugin only
makes the run longer. On a live interface it drops packets, and a dropped
packet is a missed detection. This harness replays captures with tcpreplay
into one end of a veth pair inside a network namespace of its own and runs
each sensor with AF_PACKET on the other end (Suricata 7.0 and 8.0 in workers
mode with one capture thread, Zeek with its built-in AF_Packet source), each
without and with the plugin (and its rules or scripts). Nothing leaves the
namespace. Run it through benches/live.sh (builds, captures, root check).

Per step (sensor, variant, capture, rate) it records the packets tcpreplay
sent, what the sensor's capture received and what the kernel dropped
(Suricata's capture.kernel_packets / kernel_drops, Zeek's net_stats), CPU
seconds and peak RSS; the highest rate with < 0.1 % dropped is the headline.
At the lowest rate without drops, the live run's alerts must be the alerts of
the same sensor reading the same capture from the file (same flows, same
alert names): the check that nothing is lost below that rate.

Then, unless --quick: a soak at 80 % of the plugin variant's headline rate
(RSS and alerts sampled every second, an SVG; --soak-variants adds the
variant without the plugin at the same rate, to compare), and the faults an operator
causes: a rule reload under traffic (Suricata), a knob changed through the
Config framework mid-capture (Zeek), and what becomes of the flows still
being judged when a sensor stops.
"""
import argparse, csv, json, os, re, shutil, signal, subprocess, sys, time
from html import escape

p = argparse.ArgumentParser()
p.add_argument("--root", required=True)
p.add_argument("--work", required=True)
p.add_argument("--out", help="results directory (live.md, live.tsv, live-soak.svg)")
p.add_argument("--mixed", required=True, help="the mixed capture")
p.add_argument("--short", help="a capture of many short flows")
p.add_argument("--sensors", default="suricata7,suricata8,zeek")
p.add_argument("--rates", default="25,50,100,200,400,800,top",
               help="Mbit/s steps; top = tcpreplay --topspeed, real = the capture's own timing")
p.add_argument("--soak", type=int, default=600, help="soak seconds (0: none)")
p.add_argument("--soak-variants", default="plugin",
               help="variants soaked, each at 80 %% of the plugin variant's headline: 'plugin', "
                    "'no plugin' or one sensor's, e.g. 'plugin,zeek/no plugin'")
p.add_argument("--soak-mbps", type=int, default=0,
               help="soak at this rate (Mbit/s) instead of 80 %% of the plugin variant's headline "
                    "(e.g. to find what a sensor holds for the whole soak)")
p.add_argument("--zeek-scripts", help="what Zeek's plugin variant loads (default: zeek-scripts/, all of it; "
                                       "e.g. zeek-scripts/main.zeek for the log and notices alone)")
p.add_argument("--skip-faults", action="store_true", help="no fault runs (a soak-only run)")
p.add_argument("--step-seconds", type=int, default=10, help="how long each rate step replays")
p.add_argument("--resume-log", help="the stderr of an earlier run: its steps and alert checks are kept, not rerun")
p.add_argument("--skip", default="", help="sensor/variant/capture steps not to run, e.g. zeek/plugin/short")
p.add_argument("--quick", action="store_true", help="CI: one sensor, one low rate, the alerts check only")
p.add_argument("--suricata7", default=shutil.which("suricata") or "")
p.add_argument("--suricata8", default="/opt/suricata8/bin/suricata")
p.add_argument("--zeek", default=shutil.which("zeek") or "/opt/zeek/bin/zeek")
a = p.parse_args()

root = a.root
a.mixed = os.path.abspath(a.mixed)
a.short = os.path.abspath(a.short) if a.short else None
work = os.path.join(a.work, "live")
os.makedirs(work, exist_ok=True)
NS = f"encchan-live-{os.getpid()}"
SEND, SENSE = "ec-send", "ec-sense"
rules_dir = os.path.join(root, "suricata-rules")
plugin_so = {7: os.path.join(root, "crates/encchan-suricata/build/encchan-suricata-7.so"),
             8: os.path.join(root, "crates/encchan-suricata/build/encchan-suricata-8.so")}
failures = []


def fail(what):
    failures.append(what)
    print(f"FAIL (live): {what}", file=sys.stderr)


def sh(*cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)


# ---- the namespace: a veth pair, both ends inside, jumbo MTU (the mixed
#      capture holds loopback frames of up to 32 KiB) ----

def ns_up():
    sh("ip", "netns", "add", NS)
    sh("ip", "-n", NS, "link", "add", SEND, "type", "veth", "peer", "name", SENSE)
    for dev in ("lo", SEND, SENSE):
        if dev != "lo":
            sh("ip", "-n", NS, "link", "set", dev, "mtu", "65535")
        sh("ip", "-n", NS, "link", "set", dev, "up")
    # No IPv6 on the ends: no router solicitations mixed into the counts.
    for dev in (SEND, SENSE):
        sh("ip", "netns", "exec", NS, "sysctl", "-q", "-w", f"net.ipv6.conf.{dev}.disable_ipv6=1", check=False)


def ns_down():
    subprocess.run(["ip", "netns", "del", NS], capture_output=True)


def in_ns(cmd):
    return ["ip", "netns", "exec", NS] + cmd


# ---- replay ----

def replay(capture, rate, loop=1, unique=False, duration=None):
    """tcpreplay into the namespace; returns (packets sent, Mbit/s, failed)."""
    cmd = ["tcpreplay", "-i", SEND]
    if rate == "top":
        cmd.append("--topspeed")
    elif rate == "real":
        cmd += ["--multiplier", "1"]
    else:
        cmd += ["--mbps", str(rate)]
    if loop != 1:
        cmd += ["--loop", str(loop)]
    if unique:
        cmd.append("--unique-ip")  # each loop's flows are new flows
    if duration:
        cmd += ["--duration", str(duration)]
    r = subprocess.run(in_ns(cmd + [capture]), capture_output=True, text=True)
    out = r.stdout + r.stderr
    sent = re.search(r"Actual: (\d+) packets", out)
    mbps = re.search(r"Rated: [\d.]+ Bps, ([\d.]+) Mbps", out)
    failed = re.search(r"Failed packets:\s+(\d+)", out)
    if not sent:
        raise RuntimeError(f"tcpreplay: {out[-800:]}")
    return int(sent.group(1)), float(mbps.group(1)) if mbps else 0.0, int(failed.group(1)) if failed else 0


# ---- sensors ----

class Sensor:
    """One sensor variant: how to start it live or on a file, and what to
    read back from its output directory."""

    def __init__(self, kind, variant):
        self.kind, self.variant = kind, variant
        self.major = {"suricata7": 7, "suricata8": 8}.get(kind)
        self.plugin = variant != "no plugin"

    @property
    def name(self):
        return {"suricata7": "Suricata 7.0", "suricata8": "Suricata 8.0", "zeek": "Zeek"}[self.kind]

    def binary(self):
        return {"suricata7": a.suricata7, "suricata8": a.suricata8, "zeek": a.zeek}[self.kind]

    def available(self):
        b = self.binary()
        if not b or not os.path.exists(b):
            return f"{self.kind}: not installed"
        if self.major and self.plugin and not os.path.exists(plugin_so[self.major]):
            return f"{self.kind}: plugin not built"
        if self.kind == "zeek" and self.plugin and not os.path.isdir(os.path.join(root, "cpp-shim/build")):
            return "zeek: plugin not built"
        return None

    # Suricata
    def suricata_yaml(self, d, live, unix_socket=None, eve_all=False):
        """The configuration; with a unix socket (rule reloads) the rules
        are named here, as Suricata reloads no rules given with -S."""
        lines = ["%YAML 1.1", "---", f"default-log-dir: {d}",
                 # Every flow of the mix is judged whatever its addresses.
                 "vars:", "  address-groups:", '    HOME_NET: "any"', '    EXTERNAL_NET: "any"',
                 '    ENCCHAN_ALLOWED_SERVERS: "[0.0.0.0/32,::/128]"',
                 f"classification-file: {os.path.join(rules_dir, 'classification.config')}",
                 "reference-config-file: /dev/null", "threshold-file: /dev/null",
                 "stats:", "  enabled: yes", "  interval: 1",
                 "outputs:", "  - eve-log:", "      enabled: yes", "      filename: eve.json",
                 "      types: [alert, flow, stats]"]
        if self.plugin:
            lines[3:3] = ["plugins:", f"  - {plugin_so[self.major]}"]
            if eve_all:
                lines[3:3] = ["encchan:", "  eve: all"]
            if self.major == 7:
                lines += ["  - encchan:", "      enabled: yes"]
        if live:
            lines += ["af-packet:", f"  - interface: {SENSE}", "    threads: 1", "    cluster-id: 99",
                      "    cluster-type: cluster_flow", "    defrag: yes", "    tpacket-v3: yes",
                      "    block-size: 1048576", "    snaplen: 65535", "    checksum-checks: no"]
        else:
            lines += ["pcap-file:", "  checksum-checks: no"]
        if unix_socket:
            lines += ["unix-command:", "  enabled: yes", f"  filename: {unix_socket}",
                      f"default-rule-path: {rules_dir}", "rule-files:", f"  - {os.path.basename(self.rules())}"]
        path = os.path.join(d, "suricata.yaml")
        open(path, "w").write("\n".join(lines) + "\n")
        return path

    def rules(self):
        if not self.plugin:
            return "/dev/null"
        return os.path.join(rules_dir, "encchan-keyword.rules" if self.major == 8 else "encchan.rules")

    # Zeek
    def zeek_args(self, d):
        script = os.path.join(d, "live.zeek")
        open(script, "w").write(
            "redef Pcap::snaplen = 65535;\nredef LogAscii::use_json = T;\n"
            "event zeek_done() { local s = get_net_stats(); "
            "print fmt(\"ENCCHAN-LIVE-STATS %d %d %d\", s$pkts_recvd, s$pkts_dropped, s$pkts_link); }\n")
        return ([a.zeek_scripts or os.path.join(root, "zeek-scripts")] if self.plugin else []) + [script]

    def env(self):
        e = dict(os.environ)
        if self.kind == "zeek" and self.plugin:
            e["ZEEK_PLUGIN_PATH"] = os.path.join(root, "cpp-shim/build")
        return e

    def live_cmd(self, d, unix_socket=None, eve_all=False):
        if self.kind == "zeek":
            return [self.binary(), "-C", "-i", f"af_packet::{SENSE}"] + self.zeek_args(d)
        rules = [] if unix_socket else ["-S", self.rules()]
        return [self.binary(), "-c", self.suricata_yaml(d, True, unix_socket, eve_all), *rules,
                "-k", "none", "-l", d, f"--af-packet={SENSE}", "--runmode", "workers"]

    def read(self, capture, d):
        """The same sensor reading the capture from the file."""
        os.makedirs(d, exist_ok=True)
        if self.kind == "zeek":
            cmd = [self.binary(), "-C", "-r", capture] + self.zeek_args(d)
        else:
            cmd = [self.binary(), "-c", self.suricata_yaml(d, False), "-S", self.rules(), "-k", "none",
                   "-l", d, "-r", capture, "--runmode", "single"]
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=d, env=self.env())
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)}: {r.stderr[-800:]}")
        return self.alerts(d)

    def ready(self, d, out_path):
        text = open(out_path, errors="replace").read() if os.path.exists(out_path) else ""
        if self.kind == "zeek":
            # Zeek says so on stderr once its packet source is open (print
            # output is buffered until exit).
            return "listening on " in text
        return re.search(r"[Ee]ngine started|threads are running|capture threads are running", text) is not None

    def capture_stats(self, d, out_text):
        """(packets the capture received, packets the kernel dropped)."""
        if self.kind == "zeek":
            m = re.search(r"ENCCHAN-LIVE-STATS (\d+) (\d+) (\d+)", out_text)
            return (int(m.group(1)), int(m.group(2))) if m else (None, None)
        last = None
        eve = os.path.join(d, "eve.json")
        for line in open(eve) if os.path.exists(eve) else []:
            if '"event_type":"stats"' in line:
                last = line
        if last:
            c = json.loads(last)["stats"].get("capture", {})
            if "kernel_packets" in c:
                return c["kernel_packets"], c.get("kernel_drops", 0)
        m = re.search(r"packets: (\d+), drops: (\d+)", out_text) or re.search(r"pkts: (\d+), drop: (\d+)", out_text)
        return (int(m.group(1)), int(m.group(2))) if m else (None, None)

    def alerts(self, d):
        """{(proto, client/src, port, server/dst, port, alert)}: Suricata's
        rule alerts of the engine's verdicts by sid (9573001-9573199; the
        certificate rules are left out: `tls_cert_expired` compares with the
        packet's time in a file and with today live), Zeek's encchan.log
        alerts."""
        found = set()
        if self.kind == "zeek":
            path = os.path.join(d, "encchan.log")
            for line in open(path) if os.path.exists(path) else []:
                if not line.endswith("\n"):
                    break  # still being written
                e = json.loads(line)
                for name in e.get("alerts", []):
                    found.add((e["proto"].upper(), e["id.orig_h"], e["id.orig_p"], e["id.resp_h"], e["id.resp_p"],
                               name))
            return found
        path = os.path.join(d, "eve.json")
        for line in open(path) if os.path.exists(path) else []:
            if '"event_type":"alert"' not in line:
                continue
            e = json.loads(line)
            if 9573001 <= e["alert"]["signature_id"] <= 9573199:
                found.add((e["proto"].upper(), e["src_ip"], e.get("src_port"), e["dest_ip"], e.get("dest_port"),
                           e["alert"]["signature_id"]))
        return found


def start(sensor, d, **kw):
    os.makedirs(d, exist_ok=True)
    out_path = os.path.join(d, "sensor.out")
    cmd = in_ns(["/usr/bin/time", "-f", "ENCCHAN-LIVE-TIME %e %U %S %M", "-o", os.path.join(d, "time")]
                + sensor.live_cmd(d, **kw))
    proc = subprocess.Popen(cmd, stdout=open(out_path, "w"), stderr=subprocess.STDOUT, cwd=d, env=sensor.env())
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None and not sensor.ready(d, out_path):
        time.sleep(0.2)
    if proc.poll() is not None or not sensor.ready(d, out_path):
        proc.kill()
        raise RuntimeError(f"{sensor.name} {sensor.variant} did not start: "
                           f"{open(out_path, errors='replace').read()[-1500:]}")
    time.sleep(1.0)  # the capture socket is open before "ready"; let it settle
    return proc


def sensor_pid(proc):
    """The sensor under /usr/bin/time (ip netns exec execs time itself)."""
    try:
        kids = open(f"/proc/{proc.pid}/task/{proc.pid}/children").read().split()
        return int(kids[0]) if kids else None
    except OSError:
        return None


def stop(proc, d, drain=2.0, patience=120):
    time.sleep(drain)
    pid = sensor_pid(proc)
    if pid:
        os.kill(pid, signal.SIGTERM)
    try:
        proc.wait(timeout=patience)
    except subprocess.TimeoutExpired:
        # The sensor itself, not only /usr/bin/time above it.
        if pid:
            os.kill(pid, signal.SIGKILL)
        proc.kill()
        proc.wait()
    text = open(os.path.join(d, "sensor.out"), errors="replace").read()
    t = open(os.path.join(d, "time")).read() if os.path.exists(os.path.join(d, "time")) else ""
    m = re.search(r"ENCCHAN-LIVE-TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", t)
    cpu = float(m.group(2)) + float(m.group(3)) if m else None
    rss = int(m.group(4)) / 1024 if m else None
    return text, cpu, rss


def rss_mib(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


# ---- the steps ----

rows = []
# Zeek writes every open connection's lines at exit: after a flood of
# never-closed flows that takes minutes.
STOP_PATIENCE = {"zeek": 600}


def step(sensor, capture_name, capture, rate, sustained=True):
    """One rate step: the capture looped for --step-seconds (each loop's
    flows made new by --unique-ip), or played once (the alerts check)."""
    d = os.path.join(work, f"{sensor.kind}-{sensor.variant.replace(' ', '_')}-{capture_name}-{rate}"
                           + ("" if sustained else "-once"))
    shutil.rmtree(d, ignore_errors=True)
    proc = start(sensor, d)
    if sustained:
        sent, mbps, failed = replay(capture, rate, loop=0, unique=True, duration=a.step_seconds)
    else:
        sent, mbps, failed = replay(capture, rate)
    text, cpu, rss = stop(proc, d, patience=STOP_PATIENCE.get(sensor.kind, 120))
    received, dropped = sensor.capture_stats(d, text)
    row = {"sensor": sensor.name, "variant": sensor.variant, "capture": capture_name, "rate": rate,
           "sent": sent, "sent_mbps": f"{mbps:.1f}", "failed": failed, "received": received, "dropped": dropped,
           "drop_pct": f"{100 * dropped / max(received, 1):.3f}" if received is not None else "",
           "cpu_s": f"{cpu:.2f}" if cpu is not None else "", "rss_mib": f"{rss:.0f}" if rss else "",
           "alerts": len(sensor.alerts(d)), "dir": d}
    if sustained:
        rows.append(row)
    print(f"{sensor.name} / {sensor.variant} / {capture_name} @ {rate}: sent {sent} ({mbps:.0f} Mbit/s), "
          f"received {received}, dropped {dropped}, CPU {row['cpu_s']} s, RSS {row['rss_mib']} MiB, "
          f"{row['alerts']} alerts", file=sys.stderr)
    if received is None:
        fail(f"{sensor.name} {sensor.variant}: no capture statistics in {d} (the sensor had not exited "
             f"{STOP_PATIENCE.get(sensor.kind, 120)} s after SIGTERM)")
    elif received < sent - failed:
        # What the kernel never handed the socket is a drop too (ring full
        # before the counter saw it, or a frame over the snap length).
        row["dropped"] = max(dropped, sent - failed - received)
        row["drop_pct"] = f"{100 * row['dropped'] / max(sent, 1):.3f}"
    return row


def lossless(row):
    return row["received"] is not None and float(row["drop_pct"] or 100) < 0.1


def compare_alerts(sensor, capture_name, capture, row):
    """The live run's alerts are the file run's."""
    live = sensor.alerts(row["dir"])
    read = sensor.read(capture, row["dir"] + "-read")
    same = live == read
    note = (f"{sensor.name} / {sensor.variant} / {capture_name} @ {row['rate']} Mbit/s: live {len(live)} alerts, "
            f"file {len(read)}" + ("" if same else f"; only live {sorted(live - read)[:3]}, "
                                                  f"only file {sorted(read - live)[:3]}"))
    print(("" if same else "FAIL ") + note, file=sys.stderr)
    if not same:
        fail(note)
    elif not live and sensor.plugin:
        fail(f"{note}: no alert at all, the check proves nothing")
    return same, note


STEP_LINE = re.compile(r"^(?P<sensor>[^/]+?) / (?P<variant>[^/]+?) / (?P<capture>\w+) @ (?P<rate>\w+): sent (?P<sent>\d+) "
                       r"\((?P<mbps>[\d.]+) Mbit/s\), received (?P<received>\w+), dropped (?P<dropped>\w+), "
                       r"CPU (?P<cpu>[\d.]*) s, RSS (?P<rss>[\d]*) MiB, (?P<alerts>\d+) alerts$")
CHECK_LINE = re.compile(r"^(FAIL )?(?P<note>[^/]+ / [^/]+ / mixed @ \w+ Mbit/s: live \d+ alerts, file \d+.*)$")


def resumed():
    """Rows and alert checks of an earlier run's log (each step's first
    line: the single pass of the alerts check repeats a rate)."""
    done, checks = {}, {}
    for line in open(a.resume_log) if a.resume_log else []:
        m = STEP_LINE.match(line.strip())
        if m:
            g = m.groupdict()
            k = (g["sensor"], g["variant"], g["capture"], g["rate"])
            if k in done:
                continue  # the once-through pass of the alerts check
            num = lambda v: int(v) if v.isdigit() else None
            received, dropped, sent = num(g["received"]), num(g["dropped"]), int(g["sent"])
            if received is not None and received < sent:
                dropped = max(dropped, sent - received)  # as step() counts it
            done[k] = {"sensor": g["sensor"], "variant": g["variant"], "capture": g["capture"], "rate": g["rate"],
                       "sent": sent, "sent_mbps": g["mbps"], "failed": 0, "received": received, "dropped": dropped,
                       "drop_pct": f"{100 * dropped / max(sent, 1):.3f}" if received is not None else "",
                       "cpu_s": g["cpu"], "rss_mib": g["rss"], "alerts": int(g["alerts"]), "dir": ""}
            continue
        m = CHECK_LINE.match(line.strip())
        if m:
            note = m.group("note")
            checks[tuple(note.split(" / ")[:2])] = (line.startswith("FAIL"), note)
    return done, checks


def main_steps(sensors, rates, captures):
    checks = []
    done, done_checks = resumed()
    skip = {tuple(x.split("/")) for x in a.skip.split(",") if x}
    for s in sensors:
        for cname, cap in captures:
            for rate in ([] if a.quick else rates):
                k = (s.name, s.variant, cname, str(rate))
                if k in done:
                    rows.append(done[k])
                    continue
                if (s.kind, s.variant.replace(" ", "-"), cname) in skip:
                    continue
                try:
                    step(s, cname, cap, rate)
                except RuntimeError as e:
                    fail(str(e))
                    break
            if s.plugin and cname == "mixed" and (s.name, s.variant) in done_checks:
                failed_before, note = done_checks[(s.name, s.variant)]
                if failed_before:
                    fail(note)
                checks.append(note)
            elif s.plugin and cname == "mixed" and rates:
                # The capture once, at the lowest rate of the steps that
                # lost nothing (the capture's own timing in --quick).
                first = next((r for r in rows if r["sensor"] == s.name and r["variant"] == s.variant
                              and r["capture"] == cname and lossless(r)), None)
                rate = rates[0] if a.quick else (first["rate"] if first else None)
                if rate is None:
                    fail(f"{s.name} / {s.variant}: no rate without drops to check the alerts at")
                    continue
                once = step(s, cname, cap, rate, sustained=False)
                if not lossless(once):
                    fail(f"{s.name} / {s.variant}: the single pass at {rate} dropped {once['dropped']} packets")
                checks.append(compare_alerts(s, cname, cap, once)[1])
    return checks


def headline(sensor, variant, capture):
    best = None
    for r in rows:
        if (r["sensor"], r["variant"], r["capture"]) == (sensor, variant, capture) and lossless(r):
            if best is None or float(r["sent_mbps"]) > float(best["sent_mbps"]):
                best = r
    return best


# ---- soak ----

def soak(sensor, capture, mbps, seconds):
    d = os.path.join(work, f"soak-{sensor.kind}-{sensor.variant.replace(' ', '-')}")
    shutil.rmtree(d, ignore_errors=True)
    proc = start(sensor, d)
    pid = sensor_pid(proc)
    samples = []
    rep = subprocess.Popen(in_ns(["tcpreplay", "-i", SEND, "--mbps", str(mbps), "--loop", "0", "--unique-ip",
                                  "--duration", str(seconds), capture]),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    alert_count = LogTail(os.path.join(d, "encchan.log" if sensor.kind == "zeek" else "eve.json"),
                          zeek_line_alerts if sensor.kind == "zeek" else suricata_line_alerts)
    t0 = time.time()
    while rep.poll() is None:
        time.sleep(1.0)
        samples.append((time.time() - t0, rss_mib(pid), alert_count()))
    out = rep.stdout.read()
    text, cpu, rss = stop(proc, d)
    received, dropped = sensor.capture_stats(d, text)
    sent = re.search(r"Actual: (\d+) packets", out)
    return {"sensor": sensor.name, "variant": sensor.variant, "seconds": seconds, "mbps": mbps, "samples": samples,
            "sent": int(sent.group(1)) if sent else None, "received": received, "dropped": dropped,
            "cpu_s": cpu, "peak_rss": rss, "flow_memuse": suricata_flow_memuse(d)}


class LogTail:
    """A running count over a log the sensor is writing: each call reads
    only what was appended since the last one, whole lines only. (Reading
    the whole log every second, as the soak did before stop 23, took a core
    of its own by the end of a Zeek soak, on a machine whose two cores
    tcpreplay and the sensor need.)"""

    def __init__(self, path, count_line):
        self.path, self.count_line = path, count_line
        self.offset, self.count, self.rest = 0, 0, b""

    def __call__(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return self.count
        self.offset += len(data)
        lines = (self.rest + data).split(b"\n")
        self.rest = lines.pop()  # a line still being written
        self.count += sum(self.count_line(line) for line in lines)
        return self.count


def zeek_line_alerts(line):
    """The alerts of one encchan.log line (one connection)."""
    if b'"alerts":[' not in line or b'"alerts":[]' in line:
        return 0
    return len(json.loads(line).get("alerts", []))


def suricata_line_alerts(line):
    return 1 if b'"event_type":"alert"' in line else 0


def suricata_alert_count(d):
    n = 0
    path = os.path.join(d, "eve.json")
    try:
        with open(path, "rb") as f:
            for line in f:
                if b'"event_type":"alert"' in line:
                    n += 1
    except OSError:
        pass
    return n


def suricata_flow_memuse(d):
    """flow.memuse from the stats records: (first after warm-up, last)."""
    vals = []
    path = os.path.join(d, "eve.json")
    for line in open(path) if os.path.exists(path) else []:
        if '"event_type":"stats"' in line:
            vals.append(json.loads(line)["stats"].get("flow", {}).get("memuse"))
    vals = [v for v in vals if v is not None]
    return (vals[len(vals) // 10], vals[-1]) if vals else None


def soak_svg(path, results):
    """RSS over time per sensor (MiB), one line each."""
    w, h, pad = 720, 320, 50
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    series = [(f"{r['sensor']} ({r.get('variant', 'plugin')})", [(t, m) for t, m, _ in r["samples"] if m is not None])
              for r in results]
    series = [(n, s) for n, s in series if s]
    if not series:
        return
    tmax = max(t for _, s in series for t, _ in s) or 1
    mmax = max(m for _, s in series for _, m in s) * 1.1 or 1
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" '
           f'font-size="12"><rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{w / 2}" y="18" text-anchor="middle">Soak: RSS of each sensor (MiB) over time (s)</text>',
           f'<line x1="{pad}" y1="{h - pad}" x2="{w - 10}" y2="{h - pad}" stroke="black"/>',
           f'<line x1="{pad}" y1="30" x2="{pad}" y2="{h - pad}" stroke="black"/>']
    for i in range(5):
        y = h - pad - i * (h - pad - 30) / 4
        out.append(f'<text x="{pad - 5}" y="{y + 4}" text-anchor="end">{mmax * i / 4:.0f}</text>')
        x = pad + i * (w - pad - 10) / 4
        out.append(f'<text x="{x}" y="{h - pad + 16}" text-anchor="middle">{tmax * i / 4:.0f}</text>')
    for k, (name, s) in enumerate(series):
        pts = " ".join(f"{pad + t / tmax * (w - pad - 10):.1f},{h - pad - m / mmax * (h - pad - 30):.1f}"
                       for t, m in s)
        c = colors[k % len(colors)]
        out.append(f'<polyline fill="none" stroke="{c}" stroke-width="1.5" points="{pts}"/>')
        out.append(f'<text x="{w - 200}" y="{40 + 16 * k}" fill="{c}">{escape(name)}</text>')
    out.append("</svg>")
    open(path, "w").write("\n".join(out) + "\n")


# ---- faults ----

def suricata_reload(sensor, capture):
    """Rules reloaded while traffic flows: the plugin's rules alert after it."""
    d = os.path.join(work, f"reload-{sensor.kind}")
    shutil.rmtree(d, ignore_errors=True)
    sock = os.path.join(d, "suricata.socket")
    proc = start(sensor, d, unix_socket=sock)
    rep = subprocess.Popen(in_ns(["tcpreplay", "-i", SEND, "--multiplier", "1", "--loop", "0", "--unique-ip",
                                  "--duration", "30", capture]), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    time.sleep(5)
    before = suricata_alert_count(d)
    sc = os.path.join(os.path.dirname(sensor.binary()), "suricatasc")
    how = "suricatasc -c reload-rules"
    if os.path.exists(sc):
        r = subprocess.run(in_ns([sc, "-c", "reload-rules", sock]), capture_output=True, text=True)
        ok = r.returncode == 0 and "OK" in r.stdout
    else:
        ok, how = False, "suricatasc missing"
    if not ok:
        how = "SIGUSR2"
        os.kill(sensor_pid(proc), signal.SIGUSR2)
    t_reload = time.time()
    deadline = time.time() + 60
    while time.time() < deadline and "rule reload complete" not in open(os.path.join(d, "sensor.out")).read():
        time.sleep(0.5)
    reloaded = time.time() - t_reload
    mid = suricata_alert_count(d)
    rep.wait()
    stop(proc, d)
    after = suricata_alert_count(d)
    text = open(os.path.join(d, "sensor.out")).read()
    done = "rule reload complete" in text
    note = (f"{sensor.name}: rules reloaded with {how} under traffic (completed in {reloaded:.1f} s: {done}); "
            f"alerts {before} before the reload, {after - mid} after it completed")
    print(note, file=sys.stderr)
    if not done or after - mid <= 0:
        fail(note)
    return note


def zeek_config_change(sensor, capture):
    """A knob changed through the Config framework mid-capture reaches the
    flows that start after it (EntropyThreshold 7.5 -> 7.2 twelve seconds
    into the traffic, read back from the threshold in the evidence)."""
    d = os.path.join(work, "config-zeek")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    # Config::set_value is what the Config framework's input file does; the
    # change comes from a timer after traffic began.
    change = os.path.join(d, "change.zeek")
    open(change, "w").write(
        "module EncChanLive;\n"
        "global changed = F;\n"
        "event change_now() { Config::set_value(\"EncChan::EntropyThreshold\", 7.2); "
        "print fmt(\"ENCCHAN-LIVE-CHANGED %.6f\", time_to_double(network_time())); }\n"
        "event new_connection(c: connection) { if ( ! changed ) { changed = T; "
        "schedule 12sec { change_now() }; } }\n")
    orig = sensor.zeek_args

    def with_change(dd):
        return orig(dd) + [change]
    sensor.zeek_args = with_change
    try:
        proc = start(sensor, d)
        # Connections are logged when they end (a closed TCP one some
        # seconds after its FIN): 12 s of traffic before the change gives
        # lines written with the old value.
        replay(capture, "real", loop=0, unique=True, duration=30)
        text, _, _ = stop(proc, d)
    finally:
        sensor.zeek_args = orig
    m = re.search(r"ENCCHAN-LIVE-CHANGED ([\d.]+)", text)
    before, after = set(), set()
    path = os.path.join(d, "encchan.log")
    for line in open(path) if os.path.exists(path) else []:
        e = json.loads(line)
        for ev in e.get("evidence", []):
            t = re.search(r"threshold=([\d.]+)", ev)
            if t and m:
                (before if e["ts"] < float(m.group(1)) else after).add(float(t.group(1)))
    # Flows that started before the change and ended after it are judged
    # with the new value (one configuration, read at verdict time); flows
    # that started after it must all have it.
    ok = m is not None and 7.5 in before and after == {7.2}
    note = (f"Zeek: EncChan::EntropyThreshold set to 7.2 through the Config framework mid-capture: thresholds "
            f"in the evidence of flows that started before it {sorted(before)}, after it {sorted(after)}")
    print(note, file=sys.stderr)
    if not ok:
        fail(note)
    return note


ZEEK_CLUSTER = """
@load base/frameworks/supervisor
event zeek_init()
	{
	if ( ! Supervisor::is_supervisor() )
		return;
	local base = to_count(getenv("ENCCHAN_PORT_BASE"));
	local cluster: table[string] of Supervisor::ClusterEndpoint;
	cluster["manager"] = Supervisor::ClusterEndpoint($role=Supervisor::MANAGER, $host=127.0.0.1, $p=count_to_port(base, tcp));
	cluster["logger"] = Supervisor::ClusterEndpoint($role=Supervisor::LOGGER, $host=127.0.0.1, $p=count_to_port(base + 1, tcp));
	cluster["proxy"] = Supervisor::ClusterEndpoint($role=Supervisor::PROXY, $host=127.0.0.1, $p=count_to_port(base + 2, tcp));
	cluster["worker-1"] = Supervisor::ClusterEndpoint($role=Supervisor::WORKER, $host=127.0.0.1, $p=count_to_port(base + 3, tcp));
	for ( n, ep in cluster )
		{
		local sn = Supervisor::NodeConfig($name=n, $directory=n, $cluster=cluster,
		    $addl_user_scripts=vector("policy/frameworks/cluster/backend/broker", getenv("ENCCHAN_SCRIPTS"),
		                              getenv("ENCCHAN_NODE")));
		if ( ep$role == Supervisor::WORKER )
			sn$interface = getenv("ENCCHAN_INTERFACE");
		Supervisor::create(sn);
		}
	}
"""
ZEEK_NODE = """
redef LogAscii::use_json = T;
redef ignore_checksums = T;
redef Pcap::snaplen = 65535;
"""


def zeek_cluster_kill(sensor, capture):
    """Zeek's supervisor cluster (manager, logger, proxy, one af-packet
    worker): the worker killed mid-capture is started again by the
    supervisor and goes on producing verdicts and notices."""
    d = os.path.join(work, "cluster-zeek")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    open(os.path.join(d, "sup.zeek"), "w").write(ZEEK_CLUSTER)
    open(os.path.join(d, "node.zeek"), "w").write(ZEEK_NODE)
    env = dict(sensor.env(), ENCCHAN_PORT_BASE=str(30000 + os.getpid() % 20000),
               ENCCHAN_SCRIPTS=os.path.join(root, "zeek-scripts"), ENCCHAN_NODE=os.path.join(d, "node.zeek"),
               ENCCHAN_INTERFACE=f"af_packet::{SENSE}")
    sup = subprocess.Popen(in_ns([sensor.binary(), "-j", "sup.zeek"]), cwd=d, env=env,
                           stdout=open(os.path.join(d, "supervisor.out"), "w"), stderr=subprocess.STDOUT)

    def worker_pids():
        pids = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if os.readlink(f"/proc/{pid}/cwd") == os.path.join(d, "worker-1"):
                    pids.append(int(pid))
            except OSError:
                pass
        return pids
    deadline = time.time() + 60
    while time.time() < deadline and not worker_pids():
        time.sleep(0.5)
    time.sleep(8)  # the nodes find each other
    rep = subprocess.Popen(in_ns(["tcpreplay", "-i", SEND, "--multiplier", "1", "--loop", "0", "--unique-ip",
                                  "--duration", "45", capture]), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    time.sleep(12)
    first = worker_pids()
    for pid in first:
        os.kill(pid, signal.SIGKILL)
    killed_at = time.time()
    deadline = time.time() + 30
    while time.time() < deadline and not [p for p in worker_pids() if p not in first]:
        time.sleep(0.2)
    restarted = [p for p in worker_pids() if p not in first]
    restart_s = time.time() - killed_at
    rep.wait()
    time.sleep(8)  # the last connections' lines reach the logger
    sup.send_signal(signal.SIGTERM)
    try:
        sup.wait(timeout=60)
    except subprocess.TimeoutExpired:
        sup.kill()
        sup.wait()
    lines = {"encchan": [], "notice": []}
    logger = os.path.join(d, "logger")
    for dirpath, _, files in os.walk(logger):
        for name in files:
            kind = name.split("__")[0].split(".")[0]  # rotated "encchan__<times>__.log" or "encchan.log"
            if kind in lines and name.endswith(".log"):
                for line in open(os.path.join(dirpath, name), errors="replace"):
                    if line.startswith("{"):
                        lines[kind].append(json.loads(line))
    after = [e for e in lines["encchan"] if e.get("ts", 0) > killed_at + restart_s]
    notices_after = [e for e in lines["notice"] if e.get("ts", 0) > killed_at + restart_s]
    ok = bool(first) and bool(restarted) and bool(after) and bool(notices_after)
    note = (f"Zeek supervisor cluster: worker-1 (af-packet) killed with SIGKILL 12 s into the traffic "
            f"(pid {first}); the supervisor started it again in {restart_s:.1f} s (pid {restarted}); "
            f"encchan.log lines {len(lines['encchan'])}, {len(after)} of connections that began after the "
            f"restart; notices {len(lines['notice'])}, {len(notices_after)} after it")
    print(note, file=sys.stderr)
    if not ok:
        fail(note)
    return note


def shutdown_flows(sensor, capture):
    """Stop the sensor while flows are being judged: are they written out?"""
    d = os.path.join(work, f"shutdown-{sensor.kind}")
    shutil.rmtree(d, ignore_errors=True)
    proc = start(sensor, d, **({} if sensor.kind == "zeek" else {"eve_all": True}))
    replay(capture, "top")
    text, _, _ = stop(proc, d, drain=0.5)
    if sensor.kind == "zeek":
        conn = os.path.join(d, "conn.log")
        enc = os.path.join(d, "encchan.log")
        n_conn = sum(1 for _ in open(conn)) if os.path.exists(conn) else 0
        n_enc = sum(1 for _ in open(enc)) if os.path.exists(enc) else 0
        note = (f"Zeek: stopped right after the replay: {n_conn} connections in conn.log, {n_enc} judged in "
                f"encchan.log (Zeek flushes every open connection at exit; the plugin writes each one it judged)")
        return note
    flows = shut = judged = 0
    for line in open(os.path.join(d, "eve.json")):
        if '"event_type":"flow"' not in line:
            continue
        e = json.loads(line)
        flows += 1
        if e["flow"].get("reason") == "shutdown":
            shut += 1
            judged += "encchan" in e or sensor.major == 7
    if sensor.major == 7:
        enc = os.path.join(d, "encchan.json")
        judged = sum(1 for _ in open(enc)) if os.path.exists(enc) else 0
        note = (f"{sensor.name}: stopped right after the replay: {flows} flow records, {shut} ended by the "
                f"shutdown; encchan.json has {judged} verdicts (eve: all), written at each flow's end including "
                f"the shutdown's")
    else:
        note = (f"{sensor.name}: stopped right after the replay: {flows} flow records, {shut} ended by the "
                f"shutdown, {judged} of those with the plugin's verdict (eve: all)")
        if shut and judged == 0:
            fail(note)
    print(note, file=sys.stderr)
    return note


# ---- the run ----

def write_results(checks, soaks, faults):
    if not a.out:
        return
    os.makedirs(a.out, exist_ok=True)
    fields = ["sensor", "variant", "capture", "rate", "sent", "sent_mbps", "failed", "received", "dropped",
              "drop_pct", "cpu_s", "rss_mib", "alerts"]
    with open(os.path.join(a.out, "live.tsv"), "w") as f:
        w = csv.DictWriter(f, fields, delimiter="\t", extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    md = ["# Live sensors under load", "",
          "Generated by `bash benches/live.sh` (benches/live.py): tcpreplay into a veth pair inside a network "
          "namespace of its own, each sensor on the other end with AF_PACKET (Suricata: workers mode, one "
          "capture thread; Zeek: its built-in AF_Packet source). The machine is shared and has 2 cores: "
          "tcpreplay takes one, the sensor the other.", "",
          "## Highest rate with < 0.1 % dropped", "",
          "| sensor | variant | capture | highest lossless rate, Mbit/s sent (step) | CPU s at it | peak RSS MiB |",
          "|---|---|---|---|---|---|"]
    seen = []
    for r in rows:
        k = (r["sensor"], r["variant"], r["capture"])
        if k in seen:
            continue
        seen.append(k)
        best = headline(*k)
        if best:
            md.append(f"| {k[0]} | {k[1]} | {k[2]} | {best['sent_mbps']} ({best['rate']}) | {best['cpu_s']} "
                      f"| {best['rss_mib']} |")
        else:
            md.append(f"| {k[0]} | {k[1]} | {k[2]} | none of the steps | – | – |")
    md += ["", "## Every step", "",
           "| sensor | variant | capture | rate | sent | Mbit/s | received | dropped | dropped % | CPU s | peak RSS MiB | alerts |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        md.append(f"| {r['sensor']} | {r['variant']} | {r['capture']} | {r['rate']} | {r['sent']} | {r['sent_mbps']} "
                  f"| {r['received']} | {r['dropped']} | {r['drop_pct']} | {r['cpu_s']} | {r['rss_mib']} | {r['alerts']} |")
    md += ["", "## Nothing lost below the headline rate", ""] + [f"- {c}" for c in checks]
    if soaks:
        md += ["", "## Soak", "", "![RSS over the soak](live-soak.svg)", ""]
        for s in soaks:
            rss = [m for _, m, _ in s["samples"] if m is not None]
            warm = rss[len(rss) // 10:] if rss else []
            alerts = [n for _, _, n in s["samples"]]
            md.append(f"- {s['sensor']}, {s.get('variant', 'plugin')}: {s['seconds']} s at {s['mbps']} Mbit/s "
                      + ("(set with --soak-mbps), " if a.soak_mbps else "(80 % of the plugin variant's headline), ")
                      + f"{s['sent']} packets sent, {s['received']} received, {s['dropped']} dropped; RSS after "
                      f"warm-up {min(warm):.0f}–{max(warm):.0f} MiB (peak {s['peak_rss']:.0f}); "
                      f"alerts {alerts[len(alerts) // 10] if alerts else 0} at 10 % of the run, "
                      f"{alerts[-1] if alerts else 0} at its end"
                      + (f"; flow.memuse {s['flow_memuse'][0]} after warm-up, {s['flow_memuse'][1]} at the end"
                         if s.get("flow_memuse") else ""))
        soak_svg(os.path.join(a.out, "live-soak.svg"), soaks)
    if faults:
        md += ["", "## Faults an operator causes", ""] + [f"- {f}" for f in faults]
    if failures:
        md += ["", "## Failed checks", ""] + [f"- {f}" for f in failures]
    open(os.path.join(a.out, "live.md"), "w").write("\n".join(md) + "\n")


def main():
    if os.geteuid() != 0:
        print("live.py needs root (network namespaces, AF_PACKET)", file=sys.stderr)
        return 2
    kinds = [k for k in a.sensors.split(",") if k]
    rates = [r if r in ("top", "real") else int(r) for r in a.rates.split(",") if r]
    captures = [("mixed", a.mixed)] + ([("short", a.short)] if a.short and not a.quick else [])
    sensors = []
    for k in kinds:
        for variant in (["plugin"] if a.quick else ["no plugin", "plugin"]):
            s = Sensor(k, variant)
            why = s.available()
            if why:
                print(f"SKIP {why}", file=sys.stderr)
                continue
            sensors.append(s)
    if not sensors:
        print("SKIP live: no sensor available", file=sys.stderr)
        return 0 if not os.environ.get("ENCCHAN_CI") else 1
    ns_down()
    ns_up()
    checks = []
    try:
        checks = main_steps(sensors, rates, captures)
        soaks, faults = [], []
        if not a.quick:
            plugged = [s for s in sensors if s.plugin]
            soaked = [v.strip() for v in a.soak_variants.split(",")]
            for p in plugged:
                best = headline(p.name, p.variant, "mixed")
                for s in [s for s in sensors if s.kind == p.kind
                          and (s.variant in soaked or f"{s.kind}/{s.variant}" in soaked)]:
                    if a.soak > 0 and a.soak_mbps > 0:
                        soaks.append(soak(s, a.mixed, a.soak_mbps, a.soak))
                    elif best and a.soak > 0:
                        soaks.append(soak(s, a.mixed, max(1, int(0.8 * float(best["sent_mbps"]))), a.soak))
            for s in [] if a.skip_faults else plugged:
                try:
                    if s.kind == "zeek":
                        faults.append(zeek_config_change(s, a.mixed))
                        faults.append(zeek_cluster_kill(s, a.mixed))
                    else:
                        faults.append(suricata_reload(s, a.mixed))
                    faults.append(shutdown_flows(s, a.mixed))
                except RuntimeError as e:
                    fail(str(e))
        write_results(checks, soaks, faults)
    finally:
        ns_down()
    print(f"live: {len(rows)} rate steps, {len(checks)} live-vs-file alert checks, {len(failures)} failed checks",
          file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
