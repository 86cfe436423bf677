#!/usr/bin/env bash
# Records the labeled corpus: real, widely used programs talking over
# loopback, one scenario per capture in pcaps/, labels in labels.csv.
# The carrier scenarios (encrypted C2 inside HTTP bodies, WebSocket, SOCKS5
# and CONNECT proxies, DNS, and their benign look-alikes) are labeled in
# labels-carriers.csv instead.
#
# Needs root (tcpdump on lo, binding ports 22/25/53/80/443, TUN devices and
# network namespaces for the UDP tunnels) and Debian's packages, which it
# installs when missing; the QUIC scenarios also need aioquic (Python), which
# it installs in a virtual environment of its own (requirements-record.txt).
# Everything talks to 127.0.0.1 only (the tunnels carry traffic between two
# network namespaces of this machine; the LAN-discovery broadcast goes over
# a veth link between them). Re-running regenerates every capture;
# random keys and payloads make the bytes differ from run to run, not the
# labels.
#
#   sudo bash tests/corpus/record.sh            # all scenarios
#   sudo bash tests/corpus/record.sh tls13 ssh  # some
#   sudo bash tests/corpus/record.sh carriers   # the carrier scenarios only
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="$here/pcaps"
mkdir -p "$out"
work="$(mktemp -d)"
py=/usr/bin/python3 # Debian's, which has python3-cryptography
pids=()

cleanup() {
    for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done
    pkill -f "$work" 2>/dev/null || true
    if declare -F netns_down >/dev/null; then netns_down; fi
    rm -rf "$work"
}
trap cleanup EXIT

need=(tcpdump openssl openssh-server openssh-client python3-cryptography socat netcat-openbsd curl
      zstd xz-utils shadowsocks-libev ccrypt gnupg dnsutils
      dnsmasq tinyproxy microsocks python3-websockets python3-dnslib imagemagick zip lz4 dpkg-dev
      iproute2 quicktun openvpn wireguard-tools wireguard-go python3-venv toxic bsdutils)
missing=()
for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# aioquic for the QUIC scenarios: a virtual environment of Debian's python3,
# kept between runs (ENCCHAN_RECORD_VENV), with the versions pinned in
# requirements-record.txt.
venv="${ENCCHAN_RECORD_VENV:-/var/tmp/encchan-record-venv}"
quic_py="$venv/bin/python"
quic_env() {
    if ! "$quic_py" -c 'import aioquic' 2>/dev/null; then
        "$py" -m venv "$venv"
        "$venv/bin/pip" install -q -r "$here/requirements-record.txt"
    fi
}

# Material shared by the scenarios: a text file, a certificate, keys.
seq 1 900 | sed 's/^/line of an ordinary text file number /' > "$work/text.txt"
head -c 6000 "$work/text.txt" > "$work/small.txt"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=corpus.test \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

wait_port() { # proto port
    for _ in $(seq 1 50); do
        if [ "$1" = tcp ] && ss -ltn | grep -q "127.0.0.1:$2 "; then return 0; fi
        if [ "$1" = udp ] && ss -lun | grep -q "127.0.0.1:$2 "; then return 0; fi
        sleep 0.1
    done
    echo "port $1/$2 never opened" >&2
    return 1
}

start() { # run a server in the background
    "$@" >"$work/server.log" 2>&1 &
    pids+=("$!")
}

stop_servers() {
    for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done
    pids=()
    sleep 0.3
}

capture() { # name filter command...
    local name="$1" filter="$2"
    shift 2
    tcpdump -i lo -U -s 0 -w "$out/$name.pcap" "$filter" >/dev/null 2>&1 &
    local tp=$!
    sleep 1
    "$@" || echo "scenario $name: command exited $?" >&2
    sleep 1
    kill -INT "$tp"
    wait "$tp" 2>/dev/null || true
    stop_servers
    echo "recorded $name: $(stat -c %s "$out/$name.pcap") bytes"
}

labels=()
label() { labels+=("$*"); }
carrier_labels=() # for labels-carriers.csv
label_carrier() { carrier_labels+=("$*"); }

# --- benign: TLS ---------------------------------------------------------
tls13() {
    start openssl s_server -accept 127.0.0.1:443 -tls1_3 -cert "$work/cert.pem" -key "$work/key.pem" -www
    wait_port tcp 443
    capture tls13 "tcp port 443" bash -c \
        "printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -connect 127.0.0.1:443 -tls1_3 -quiet -ign_eof 2>/dev/null >/dev/null"
    label "tls13.pcap,tcp,443,benign_tls,tls,,openssl s_server/s_client TLS 1.3"
}

tls12() {
    start openssl s_server -accept 127.0.0.1:8443 -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 \
        -cert "$work/cert.pem" -key "$work/key.pem" -www
    wait_port tcp 8443
    capture tls12_ecdhe "tcp port 8443" bash -c \
        "printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -connect 127.0.0.1:8443 -tls1_2 -quiet -ign_eof 2>/dev/null >/dev/null"
    label "tls12_ecdhe.pcap,tcp,8443,benign_tls,tls,,openssl s_server/s_client TLS 1.2 ECDHE"
}

curl_https() {
    mkdir -p "$work/www"
    cp "$work/small.txt" "$work/www/index.txt"
    start openssl s_server -accept 127.0.0.1:443 -cert "$work/cert.pem" -key "$work/key.pem" -WWW
    wait_port tcp 443
    (cd "$work/www" && capture curl_https "tcp port 443" curl -sk -o /dev/null https://127.0.0.1/index.txt)
    label "curl_https.pcap,tcp,443,benign_tls,tls,,curl + openssl s_server -WWW"
}

# --- benign: SSH ---------------------------------------------------------
ssh() {
    mkdir -p "$work/ssh" /run/sshd
    ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/host"
    ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/user"
    mkdir -p /root/.ssh && chmod 700 /root/.ssh
    cp "$work/ssh/user.pub" "$work/ssh/authorized_keys"
    start /usr/sbin/sshd -D -e -p 22 -o ListenAddress=127.0.0.1 -h "$work/ssh/host" \
        -o AuthorizedKeysFile="$work/ssh/authorized_keys" -o StrictModes=no -o PermitRootLogin=yes \
        -o PidFile="$work/ssh/pid"
    wait_port tcp 22
    capture ssh "tcp port 22" bash -c "ssh -i '$work/ssh/user' -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
        -p 22 root@127.0.0.1 'head -c 20000 /dev/urandom | base64' >/dev/null 2>&1"
    label "ssh.pcap,tcp,22,benign_ssh,ssh,,OpenSSH sshd + ssh"
}

# --- benign: cleartext -----------------------------------------------------
http() {
    mkdir -p "$work/www"
    cp "$work/text.txt" "$work/www/page.txt"
    gzip -c "$work/text.txt" > "$work/www/page.txt.gz"
    start "$py" -m http.server 80 --bind 127.0.0.1 --directory "$work/www"
    wait_port tcp 80
    capture http "tcp port 80" bash -c "curl -s -o /dev/null http://127.0.0.1/page.txt; curl -s -o /dev/null http://127.0.0.1/page.txt.gz"
    label "http.pcap,tcp,80,benign_plaintext,http,,python http.server + curl (text and a .gz download)"
}

dns() {
    cat > "$work/dns.py" <<'EOF'
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
while True:
    q, peer = s.recvfrom(512)
    head = q[:2] + b"\x81\x80" + q[4:6] + b"\x00\x01\x00\x00\x00\x00"
    answer = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x7f\x00\x00\x01"
    s.sendto(head + q[12:] + answer, peer)
EOF
    start "$py" "$work/dns.py"
    wait_port udp 53
    capture dns "udp port 53" bash -c "for n in www.example.com mail.example.org corpus.test; do dig +short +tries=1 @127.0.0.1 \$n A >/dev/null; done"
    label "dns.pcap,udp,53,benign_plaintext,dns,,dig + a python DNS responder"
}

smtp() {
    cat > "$work/smtp.py" <<'EOF'
import socketserver
class H(socketserver.StreamRequestHandler):
    def handle(self):
        w = lambda s: self.wfile.write(s.encode() + b"\r\n")
        w("220 corpus.test ESMTP sink")
        data = False
        for line in self.rfile:
            line = line.decode(errors="replace").rstrip("\r\n")
            if data:
                if line == ".":
                    data = False
                    w("250 OK queued")
                continue
            cmd = line[:4].upper()
            if cmd in ("EHLO", "HELO"): w("250-corpus.test"); w("250 8BITMIME")
            elif cmd == "DATA": data = True; w("354 go ahead")
            elif cmd == "QUIT": w("221 bye"); return
            else: w("250 OK")
socketserver.TCPServer.allow_reuse_address = True
socketserver.TCPServer(("127.0.0.1", 25), H).serve_forever()
EOF
    cat > "$work/mail.py" <<EOF
import smtplib
from email.message import EmailMessage
m = EmailMessage()
m["From"], m["To"], m["Subject"] = "a@corpus.test", "b@corpus.test", "report"
m.set_content(open("$work/small.txt").read())
m.add_attachment(open("$work/small.txt", "rb").read(), maintype="application", subtype="octet-stream", filename="x.bin")
with smtplib.SMTP("127.0.0.1", 25) as s:
    s.send_message(m)
EOF
    start "$py" "$work/smtp.py"
    wait_port tcp 25
    capture smtp "tcp port 25" "$py" "$work/mail.py"
    label "smtp.pcap,tcp,25,benign_plaintext,smtp,,python smtplib (base64 attachment) + SMTP sink"
}

# --- benign: compressed over raw TCP ---------------------------------------
compressed() { # name port compressor...
    local name="$1" port="$2"
    shift 2
    "$@" < "$work/text.txt" > "$work/$name.bin"
    start bash -c "nc -l 127.0.0.1 $port > /dev/null"
    wait_port tcp "$port"
    capture "$name" "tcp port $port" bash -c "nc -N 127.0.0.1 $port < '$work/$name.bin'"
    label "$name.pcap,tcp,$port,benign_compressed,,,$* piped over nc"
}

png() {
    "$py" - "$work/image.png" <<'EOF'
import struct, sys, zlib, random
w, h = 120, 90
rows = b"".join(b"\x00" + bytes((x * 2 + y + random.randrange(40)) % 256 for x in range(w * 3)) for y in range(h))
chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
EOF
    start bash -c "nc -l 127.0.0.1 9004 > /dev/null"
    wait_port tcp 9004
    capture png_nc "tcp port 9004" bash -c "nc -N 127.0.0.1 9004 < '$work/image.png'"
    label "png_nc.pcap,tcp,9004,benign_compressed,,,a PNG (python zlib) over nc"
}

# --- symmetric-only ----------------------------------------------------------
openssl_enc() {
    start bash -c "nc -l 127.0.0.1 4444 > /dev/null"
    wait_port tcp 4444
    capture openssl_enc_nc "tcp port 4444" bash -c \
        "openssl enc -aes-256-cbc -pbkdf2 -pass pass:corpus -in '$work/small.txt' | nc -N 127.0.0.1 4444"
    label "openssl_enc_nc.pcap,tcp,4444,symmetric_only,,symmetric_only,openssl enc -aes-256-cbc | nc"
}

rc4() {
    if ! openssl enc -rc4 -provider legacy -provider default -pass pass:x -pbkdf2 -in /dev/null >/dev/null 2>&1; then
        echo "skip rc4: this openssl has no RC4 (legacy provider missing)" >&2
        return 0
    fi
    start bash -c "nc -l 127.0.0.1 4448 > /dev/null"
    wait_port tcp 4448
    capture rc4_nc "tcp port 4448" bash -c \
        "openssl enc -rc4 -provider legacy -provider default -nosalt -pbkdf2 -pass pass:corpus -in '$work/small.txt' | nc -N 127.0.0.1 4448"
    label "rc4_nc.pcap,tcp,4448,symmetric_only,,symmetric_only,openssl enc -rc4 -nosalt | nc"
}

beacon_tcp() {
    cat > "$work/beacon.py" <<'EOF'
import os, socket, struct, sys, time
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
mode, proto, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
key = b"k" * 32
aead = AESGCM(key) if proto == "tcp" else ChaCha20Poly1305(key)
seal = lambda m: (lambda n: n + aead.encrypt(n, m, None))(os.urandom(12))
def frame(m): c = seal(m); return struct.pack(">I", len(c)) + c
if proto == "tcp":
    if mode == "server":
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port)); s.listen(1); c, _ = s.accept()
        while True:
            h = c.recv(4)
            if len(h) < 4: break
            n = struct.unpack(">I", h)[0]; body = b""
            while len(body) < n: body += c.recv(n - len(body))
            c.sendall(frame(os.urandom(40 + len(body) % 90)))
    else:
        c = socket.create_connection(("127.0.0.1", port))
        for i in range(8):
            c.sendall(frame(b"host=ws01;pid=%d;seq=%d;" % (4242, i) + os.urandom(16 + 20 * i)))
            h = c.recv(4); n = struct.unpack(">I", h)[0]; got = b""
            while len(got) < n: got += c.recv(n - len(got))
            time.sleep(0.2)
        c.close()
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if mode == "server":
        s.bind(("127.0.0.1", port))
        while True:
            d, peer = s.recvfrom(2048)
            s.sendto(seal(os.urandom(30 + len(d) % 70)), peer)
    else:
        for i in range(10):
            s.sendto(seal(b"beacon %d " % i + os.urandom(20 + 7 * i)), ("127.0.0.1", port))
            s.recvfrom(2048); time.sleep(0.15)
EOF
    start "$py" "$work/beacon.py" server tcp 4445
    wait_port tcp 4445
    capture aesgcm_beacon_tcp "tcp port 4445" "$py" "$work/beacon.py" client tcp 4445
    label "aesgcm_beacon_tcp.pcap,tcp,4445,symmetric_only,,symmetric_only,python AES-GCM beacon (length-prefixed)"
    start "$py" "$work/beacon.py" server udp 5555
    wait_port udp 5555
    capture chacha_beacon_udp "udp port 5555" "$py" "$work/beacon.py" client udp 5555
    label "chacha_beacon_udp.pcap,udp,5555,symmetric_only,,symmetric_only,python ChaCha20-Poly1305 UDP beacon"
}

shadowsocks() {
    mkdir -p "$work/www"
    cp "$work/text.txt" "$work/www/page.txt"
    start "$py" -m http.server 8000 --bind 127.0.0.1 --directory "$work/www"
    start ss-server -s 127.0.0.1 -p 8388 -k corpus-secret -m chacha20-ietf-poly1305
    start ss-local -s 127.0.0.1 -p 8388 -l 1080 -b 127.0.0.1 -k corpus-secret -m chacha20-ietf-poly1305
    wait_port tcp 8000
    wait_port tcp 8388
    wait_port tcp 1080
    capture shadowsocks "tcp port 8388" curl -s -o /dev/null --socks5-hostname 127.0.0.1:1080 http://127.0.0.1:8000/page.txt
    label "shadowsocks.pcap,tcp,8388,symmetric_only,,symmetric_only,shadowsocks-libev ss-server/ss-local (chacha20-ietf-poly1305) + curl"
}

ccrypt_nc() {
    start bash -c "nc -l 127.0.0.1 4446 > /dev/null"
    wait_port tcp 4446
    capture ccrypt_nc "tcp port 4446" bash -c "ccrypt -e -K corpus-key < '$work/small.txt' | nc -N 127.0.0.1 4446"
    label "ccrypt_nc.pcap,tcp,4446,symmetric_only,,symmetric_only,ccrypt (Rijndael CFB) | nc"
}

gpg_socat() {
    start socat -u TCP-LISTEN:4447,bind=127.0.0.1,reuseaddr OPEN:/dev/null
    wait_port tcp 4447
    capture gpg_symmetric_socat "tcp port 4447" bash -c \
        "gpg --batch --quiet --homedir '$work' --compress-algo none --symmetric --passphrase corpus -o - '$work/small.txt' | socat -u - TCP:127.0.0.1:4447"
    label "gpg_symmetric_socat.pcap,tcp,4447,symmetric_only,,symmetric_only,gpg --symmetric | socat"
}

# --- TLS anomalies -----------------------------------------------------------
tls_odd_port() {
    start openssl s_server -accept 127.0.0.1:4449 -cert "$work/cert.pem" -key "$work/key.pem" -www
    wait_port tcp 4449
    capture tls_port_4449 "tcp port 4449" bash -c \
        "printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -connect 127.0.0.1:4449 -quiet -ign_eof 2>/dev/null >/dev/null"
    label "tls_port_4449.pcap,tcp,4449,tls_anomaly,tls,tls_unexpected_port,openssl s_server on an unprofiled port"
}

tls_rsa() {
    start openssl s_server -accept 127.0.0.1:443 -tls1_2 -cipher AES128-GCM-SHA256 \
        -cert "$work/cert.pem" -key "$work/key.pem" -www
    wait_port tcp 443
    capture tls12_rsa_kx "tcp port 443" bash -c \
        "printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -connect 127.0.0.1:443 -tls1_2 -cipher AES128-GCM-SHA256 -quiet -ign_eof 2>/dev/null >/dev/null"
    label "tls12_rsa_kx.pcap,tcp,443,tls_anomaly,tls,rsa_key_exchange,openssl TLS 1.2 with TLS_RSA_WITH_AES_128_GCM_SHA256"
}

tls_incomplete() {
    start bash -c "sleep 5 | nc -l 127.0.0.1 4450 > /dev/null"
    wait_port tcp 4450
    capture tls_incomplete "tcp port 4450" bash -c \
        "timeout 2 openssl s_client -connect 127.0.0.1:4450 </dev/null >/dev/null 2>&1 || true"
    label "tls_incomplete.pcap,tcp,4450,tls_anomaly,tls,handshake_incomplete,openssl s_client to a listener that never answers"
}

# --- QUIC (aioquic) -----------------------------------------------------------
# An HTTP/3 server and client written with aioquic's asyncio API: the client
# makes two GET requests of a text file on one QUIC v1 connection (a padded
# 1200-byte client Initial, TLS 1.3 inside, ALPN h3).
quic_script() {
    quic_env
    mkdir -p "$work/www"
    cp "$work/small.txt" "$work/www/index.txt"
    cat > "$work/h3.py" <<'EOF'
import asyncio, ssl, sys
from aioquic.asyncio import connect, serve
from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
role, port = sys.argv[1], int(sys.argv[2])
class Server(QuicConnectionProtocol):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.h3 = H3Connection(self._quic)
    def quic_event_received(self, event):
        for e in self.h3.handle_event(event):
            if isinstance(e, HeadersReceived) and e.stream_ended:
                path = dict(e.headers)[b":path"].decode().lstrip("/")
                data = open(sys.argv[5] + "/" + path, "rb").read()
                self.h3.send_headers(e.stream_id, [(b":status", b"200"), (b"content-type", b"text/plain"),
                                                   (b"content-length", str(len(data)).encode())])
                self.h3.send_data(e.stream_id, data, end_stream=True)
        self.transmit()
class Client(QuicConnectionProtocol):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.h3, self.waiting, self.got = H3Connection(self._quic), {}, {}
    async def get(self, path):
        sid = self._quic.get_next_available_stream_id()
        self.h3.send_headers(sid, [(b":method", b"GET"), (b":scheme", b"https"), (b":authority", b"corpus.test"),
                                   (b":path", path.encode()), (b"user-agent", b"aioquic")], end_stream=True)
        self.waiting[sid], self.got[sid] = asyncio.get_running_loop().create_future(), b""
        self.transmit()
        return await self.waiting[sid]
    def quic_event_received(self, event):
        for e in self.h3.handle_event(event):
            if isinstance(e, DataReceived):
                self.got[e.stream_id] += e.data
            if isinstance(e, (DataReceived, HeadersReceived)) and e.stream_ended:
                self.waiting.pop(e.stream_id).set_result(self.got.pop(e.stream_id))
async def main():
    if role == "server":
        cfg = QuicConfiguration(is_client=False, alpn_protocols=H3_ALPN)
        cfg.load_cert_chain(sys.argv[3], sys.argv[4])
        await serve("127.0.0.1", port, configuration=cfg, create_protocol=Server)
        await asyncio.Future()
    cfg = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, verify_mode=ssl.CERT_NONE,
                            server_name="corpus.test")
    async with connect("127.0.0.1", port, configuration=cfg, create_protocol=Client) as c:
        for path in sys.argv[3:]:
            assert len(await c.get(path)) > 0
            await asyncio.sleep(0.2)
asyncio.run(main())
EOF
}

quic_h3() { # name port
    quic_script
    start "$quic_py" "$work/h3.py" server "$2" "$work/cert.pem" "$work/key.pem" "$work/www"
    wait_port udp "$2"
    capture "$1" "udp port $2" "$quic_py" "$work/h3.py" client "$2" /index.txt /index.txt
}

quic443() {
    quic_h3 quic_aioquic_443 443
    label "quic_aioquic_443.pcap,udp,443,benign_tls,quic,,aioquic HTTP/3 server and client (QUIC v1; two GETs)"
}

quic_odd_port() {
    quic_h3 quic_aioquic_4470 4470
    label "quic_aioquic_4470.pcap,udp,4470,tls_anomaly,quic,tls_unexpected_port,aioquic HTTP/3 server and client (QUIC v1) on an unprofiled port"
}

# --- UDP tunnels ----------------------------------------------------------------
# Both ends of a tunnel run here and talk UDP over 127.0.0.1; each end's TUN
# device is moved into a network namespace of its own (encchan-a with
# 10.73.0.1, encchan-b with 10.73.0.2), so what crosses the tunnel is traffic
# between the two namespaces, and all of it stays on this machine. End a
# (client) sends first: the capture's flow goes to end b's port.
netns=(encchan-a encchan-b)
netns_down() {
    local n
    for n in "${netns[@]}"; do ip netns del "$n" 2>/dev/null || true; done
}

netns_up() {
    local n
    netns_down
    for n in "${netns[@]}"; do
        ip netns add "$n"
        ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        ip -n "$n" link set lo up
    done
}

tun_into() { # device namespace address: moves a tunnel end's device into its namespace
    for _ in $(seq 1 50); do
        ip link show "$1" >/dev/null 2>&1 && break
        sleep 0.1
    done
    ip link set "$1" netns "$2"
    ip -n "$2" addr add "$3/24" dev "$1"
    ip -n "$2" link set "$1" up
}

wait_port_b() { # tcp port in namespace encchan-b
    for _ in $(seq 1 50); do
        if ip netns exec encchan-b ss -ltn | grep -q "10.73.0.2:$1 "; then return 0; fi
        sleep 0.1
    done
    echo "port tcp/$1 never opened in encchan-b" >&2
    return 1
}

# What crosses every tunnel, from a to b: a text file over TCP (nc) and an
# HTTP download (curl from python http.server).
tunnel_servers() {
    mkdir -p "$work/www"
    cp "$work/text.txt" "$work/www/page.txt"
    start ip netns exec encchan-b bash -c "nc -l 10.73.0.2 7000 > /dev/null"
    start ip netns exec encchan-b "$py" -m http.server 8000 --bind 10.73.0.2 --directory "$work/www"
    wait_port_b 7000
    wait_port_b 8000
}

tunnel_traffic() {
    ip netns exec encchan-a nc -N 10.73.0.2 7000 < "$work/small.txt"
    ip netns exec encchan-a curl -s -o /dev/null http://10.73.0.2:8000/page.txt
}

tunnel_capture() { # name port: records the tunnel traffic, then takes the namespaces down
    tunnel_servers
    capture "$1" "udp port $2" tunnel_traffic
    netns_down
}

# QuickTun (NaCl, static keys, no handshake): nacltai (the default,
# Curve25519 + XSalsa20-Poly1305 with a TAI64 timestamp nonce) and nacl0
# (the same box with a nonce of zero). Its raw protocol encrypts nothing.
quicktun_pair() { # name protocol
    local ka kb
    ka="$(keypair 2>/dev/null)"
    kb="$(keypair 2>/dev/null)"
    netns_up
    start env IFACE=qt-a IF_QT_PROTOCOL="$2" IF_QT_TUN_MODE=1 IF_QT_LOCAL_ADDRESS=127.0.0.1 IF_QT_LOCAL_PORT=2999 \
        IF_QT_REMOTE_ADDRESS=127.0.0.1 IF_QT_REMOTE_PORT=2998 IF_QT_TIME_WINDOW=5 \
        IF_QT_PRIVATE_KEY="$(awk '/SECRET/ {print $2}' <<<"$ka")" IF_QT_PUBLIC_KEY="$(awk '/PUBLIC/ {print $2}' <<<"$kb")" \
        quicktun
    start env IFACE=qt-b IF_QT_PROTOCOL="$2" IF_QT_TUN_MODE=1 IF_QT_LOCAL_ADDRESS=127.0.0.1 IF_QT_LOCAL_PORT=2998 \
        IF_QT_REMOTE_ADDRESS=127.0.0.1 IF_QT_REMOTE_PORT=2999 IF_QT_TIME_WINDOW=5 \
        IF_QT_PRIVATE_KEY="$(awk '/SECRET/ {print $2}' <<<"$kb")" IF_QT_PUBLIC_KEY="$(awk '/PUBLIC/ {print $2}' <<<"$ka")" \
        quicktun
    tun_into qt-a encchan-a 10.73.0.1
    tun_into qt-b encchan-b 10.73.0.2
    tunnel_capture "$1" 2998
}

quicktun_nacltai() {
    quicktun_pair quicktun_nacltai nacltai
    label "quicktun_nacltai.pcap,udp,2998,symmetric_only,,symmetric_only,QuickTun nacltai (static NaCl keys; no handshake) between two network namespaces: nc and curl through it"
}

quicktun_nacl0() {
    quicktun_pair quicktun_nacl0 nacl0
    label "quicktun_nacl0.pcap,udp,2998,symmetric_only,,symmetric_only,QuickTun nacl0 (static NaCl keys; zero nonce) between two network namespaces: nc and curl through it"
}

# OpenVPN's static-key mode (--secret, no TLS: deprecated in 2.6 but there):
# HMAC-SHA256, IV and AES-256-CBC from the first packet, on OpenVPN's port.
openvpn_static() {
    openvpn --genkey secret "$work/static.key" 2>/dev/null
    netns_up
    local common=(--secret "$work/static.key" --cipher AES-256-CBC --auth SHA256 --proto udp --dev-type tun --verb 1)
    start openvpn "${common[@]}" --dev ovpn-a --local 127.0.0.1 --lport 40001 --remote 127.0.0.1 1194
    start openvpn "${common[@]}" --dev ovpn-b --local 127.0.0.1 --lport 1194 --remote 127.0.0.1 40001
    tun_into ovpn-a encchan-a 10.73.0.1
    tun_into ovpn-b encchan-b 10.73.0.2
    tunnel_capture openvpn_static_key 1194
    label "openvpn_static_key.pcap,udp,1194,symmetric_only,,symmetric_only,OpenVPN --secret static-key mode (AES-256-CBC HMAC-SHA256; no TLS) between two network namespaces: nc and curl through it"
}

# WireGuard (wireguard-go, configured with wg) on a port other than 51820:
# a Noise handshake, then transport data.
wireguard_go() {
    local ka kb
    ka="$(wg genkey)"
    kb="$(wg genkey)"
    netns_up
    # wireguard-go asks for this on Linux, where the kernel's module is the
    # norm (this machine's kernel has none).
    start env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 wireguard-go -f wg-a
    start env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 wireguard-go -f wg-b
    for _ in $(seq 1 50); do [ -S /var/run/wireguard/wg-a.sock ] && [ -S /var/run/wireguard/wg-b.sock ] && break; sleep 0.1; done
    wg set wg-a private-key <(echo "$ka") listen-port 40002 \
        peer "$(wg pubkey <<<"$kb")" endpoint 127.0.0.1:51822 allowed-ips 10.73.0.2/32
    wg set wg-b private-key <(echo "$kb") listen-port 51822 peer "$(wg pubkey <<<"$ka")" allowed-ips 10.73.0.1/32
    tun_into wg-a encchan-a 10.73.0.1
    tun_into wg-b encchan-b 10.73.0.2
    tunnel_capture wireguard_51822 51822
    label "wireguard_51822.pcap,udp,51822,benign_vpn,wireguard,,wireguard-go + wg on port 51822 between two network namespaces: nc and curl through it"
}

# --- LAN discovery broadcast --------------------------------------------------
# Toxic (a Tox client; toxcore's LAN discovery) announces itself every 10
# seconds to 255.255.255.255 on UDP 33445 and a sliding range of 10 more
# ports: 33 bytes, a packet kind byte and its DHT public key. It runs in
# namespace encchan-a, on a veth link to encchan-b (192.168.77.1 and .2, a
# default route through the link as a LAN host has one); the capture is
# taken on encchan-b's end of the link. No DHT nodes are given (-n
# /dev/null): nothing but the announcements leaves. Toxic needs a terminal
# (script gives it one) and asks once whether to encrypt its new profile.
tox_lan_discovery() {
    local name=tox_lan_discovery
    netns_up
    ip link add encchan-veth-a type veth peer name encchan-veth-b
    ip link set encchan-veth-a netns encchan-a
    ip link set encchan-veth-b netns encchan-b
    ip -n encchan-a addr add 192.168.77.1/24 dev encchan-veth-a
    ip -n encchan-a link set encchan-veth-a up
    ip -n encchan-a route add default dev encchan-veth-a
    ip -n encchan-b addr add 192.168.77.2/24 dev encchan-veth-b
    ip -n encchan-b link set encchan-veth-b up
    mkdir -p "$work/tox"
    ip netns exec encchan-b tcpdump -i encchan-veth-b -U -s 0 -w "$out/$name.pcap" udp >/dev/null 2>&1 &
    local tp=$!
    sleep 1
    (printf 'n\n'; sleep 15) | ip netns exec encchan-a env HOME="$work/tox" TERM=xterm timeout 13 \
        script -qfc "toxic -4 -d -f '$work/tox/profile.tox' -n /dev/null" /dev/null >/dev/null 2>&1 || true
    sleep 1
    kill -INT "$tp"
    wait "$tp" 2>/dev/null || true
    netns_down
    echo "recorded $name: $(stat -c %s "$out/$name.pcap") bytes"
    label "tox_lan_discovery.pcap,udp,33445,benign_broadcast,,,Toxic (toxcore LAN discovery): 33-byte announcements carrying its DHT public key to 255.255.255.255 over a veth link"
}

# --- carriers: encrypted C2 inside cleartext carriers (labels-carriers.csv) --
# An AES-GCM C2 over HTTP on port 80: the client beacons ciphertext bodies,
# the server answers with ciphertext. Modes: keepalive (8 POSTs on one
# HTTP/1.1 connection), perconn (6 POSTs, one connection each), base64 (as
# keepalive, bodies base64 text), chunked (small GETs, chunked ciphertext
# responses).
http_c2_script() {
    cat > "$work/http_c2.py" <<'EOF'
import base64, http.client, http.server, os, random, sys, time
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
role, mode = sys.argv[1], sys.argv[2]
aead = AESGCM(b"\x17" * 32)
def seal(n):  # n bytes: a nonce and the AES-GCM ciphertext of a record
    head = b'{"id":"ws01-4242","seq":%d,"data":"' % random.randrange(10000)
    plain = (head + os.urandom(n))[:n - 28]
    nonce = os.urandom(12)
    return nonce + aead.encrypt(nonce, plain, None)
def unseal(c):
    return aead.decrypt(c[:12], c[12:], None)
if role == "server":
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *a): pass
        def reply(self, body, ctype):
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def do_POST(self):
            got = self.rfile.read(int(self.headers["Content-Length"]))
            unseal(base64.b64decode(got) if mode == "base64" else got)
            body = seal(random.randint(100, 1500))
            if mode == "base64":
                self.reply(base64.b64encode(body), "text/plain")
            else:
                self.reply(body, "application/octet-stream")
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            body = seal(random.randint(300, 1500))
            a, b = sorted(random.sample(range(1, len(body)), 2))
            for part in (body[:a], body[a:b], body[b:]):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
    http.server.ThreadingHTTPServer.allow_reuse_address = True
    http.server.ThreadingHTTPServer(("127.0.0.1", 80), H).serve_forever()
else:
    ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
    conn = None
    for i in range(6 if mode == "perconn" else 8):
        if conn is None or mode == "perconn":
            conn = http.client.HTTPConnection("127.0.0.1", 80)
        if mode == "chunked":
            conn.request("GET", "/static/app.js?v=%d" % random.randrange(10**6), headers={"User-Agent": ua})
        else:
            body, headers = seal(random.randint(100, 1500)), {"User-Agent": ua, "Content-Type": "application/octet-stream"}
            if mode == "base64":
                body, headers["Content-Type"] = base64.b64encode(body), "text/plain"
            if mode == "perconn":
                headers["Connection"] = "close"
            conn.request("POST", "/api/v1/sync", body, headers)
        r = conn.getresponse()
        got = r.read()
        assert r.status == 200, r.status
        unseal(base64.b64decode(got) if mode == "base64" else got)
        if mode == "perconn":
            conn.close()
        time.sleep(0.2)
    conn.close()
EOF
}

http_c2() { # name mode tool
    http_c2_script
    start "$py" "$work/http_c2.py" server "$2"
    wait_port tcp 80
    capture "$1" "tcp port 80" "$py" "$work/http_c2.py" client "$2"
    label_carrier "$1.pcap,tcp,80,carrier_c2,http,symmetric_only,$3"
}
http_aes_beacon_keepalive() {
    http_c2 http_aes_beacon_keepalive keepalive \
        "python http.server C2 + http.client: 8 AES-GCM octet-stream POSTs and replies on one keep-alive connection"
}
http_aes_beacon_per_connection() {
    http_c2 http_aes_beacon_per_connection perconn \
        "python http.server C2 + http.client: 6 AES-GCM octet-stream POSTs and replies (one connection each)"
}
http_base64_beacon() {
    http_c2 http_base64_beacon base64 \
        "python http.server C2 + http.client: 8 base64 AES-GCM text/plain POSTs and replies on one keep-alive connection"
}
http_chunked_encrypted() {
    http_c2 http_chunked_encrypted chunked \
        "python http.server C2 + http.client: 8 small GETs answered with chunked AES-GCM ciphertext"
}

# WebSocket on port 8080 (python3-websockets on both ends, no compression):
# binary frames of AES-GCM ciphertext, or JSON chat in text frames.
ws_script() {
    cat > "$work/ws.py" <<'EOF'
import asyncio, json, os, random, sys, time
import websockets
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
role, mode = sys.argv[1], sys.argv[2]
aead = AESGCM(b"\x29" * 32)
def seal(n):
    nonce = os.urandom(12)
    return nonce + aead.encrypt(nonce, os.urandom(n - 28), None)
unseal = lambda c: aead.decrypt(c[:12], c[12:], None)
lines = ["hi, are you around?", "the build is green again", "lunch at noon?", "pushed the fix for the login page",
         "can you review my PR when you have a minute", "sure, looking now", "thanks!", "see you tomorrow"]
async def handler(ws, path=None):
    async for msg in ws:
        if mode == "binary":
            unseal(msg)
            await ws.send(seal(random.randint(60, 900)))
        else:
            m = json.loads(msg)
            await ws.send(json.dumps({"type": "message", "room": m["room"], "from": "bob",
                                      "text": random.choice(lines), "ts": round(time.time(), 3)}))
async def main():
    if role == "server":
        async with websockets.serve(handler, "127.0.0.1", 8080, compression=None):
            await asyncio.Future()
    path = "/ws/agent" if mode == "binary" else "/chat"
    async with websockets.connect("ws://127.0.0.1:8080" + path, compression=None) as ws:
        for i in range(8):
            if mode == "binary":
                await ws.send(seal(random.randint(80, 1200)))
                unseal(await ws.recv())
            else:
                await ws.send(json.dumps({"type": "message", "room": "team", "from": "alice", "id": i,
                                          "text": random.choice(lines)}))
                json.loads(await ws.recv())
            await asyncio.sleep(0.2)
asyncio.run(main())
EOF
}

websocket_c2_binary() {
    ws_script
    start "$py" "$work/ws.py" server binary
    wait_port tcp 8080
    capture websocket_c2_binary "tcp port 8080" "$py" "$work/ws.py" client binary
    label_carrier "websocket_c2_binary.pcap,tcp,8080,carrier_c2,websocket,symmetric_only,python3-websockets server/client: 8 AES-GCM binary frames each way"
}

websocket_json_chat() {
    ws_script
    start "$py" "$work/ws.py" server json
    wait_port tcp 8080
    capture websocket_json_chat "tcp port 8080" "$py" "$work/ws.py" client json
    label_carrier "websocket_json_chat.pcap,tcp,8080,benign_carrier,websocket,,python3-websockets server/client: 8 JSON chat text frames each way"
}

# SOCKS5 (microsocks) and HTTP CONNECT (tinyproxy) on 127.0.0.1; the
# captures hold the client-proxy leg.
microsocks_up() {
    start microsocks -i 127.0.0.1 -p 1080
    wait_port tcp 1080
}

tinyproxy_up() {
    cat > "$work/tinyproxy.conf" <<EOF
Port 8888
Listen 127.0.0.1
Timeout 60
MaxClients 10
Allow 127.0.0.1
ConnectPort 4461
ConnectPort 443
LogFile "$work/tinyproxy.log"
LogLevel Info
PidFile "$work/tinyproxy.pid"
EOF
    start tinyproxy -d -c "$work/tinyproxy.conf"
    wait_port tcp 8888
}

socks5_openssl_enc() {
    microsocks_up
    start bash -c "nc -l 127.0.0.1 4460 > /dev/null"
    wait_port tcp 4460
    capture socks5_openssl_enc "tcp port 1080" bash -c \
        "openssl enc -aes-256-cbc -pbkdf2 -pass pass:corpus -in '$work/small.txt' | nc -N -X 5 -x 127.0.0.1:1080 127.0.0.1 4460"
    label_carrier "socks5_openssl_enc.pcap,tcp,1080,carrier_c2,,symmetric_only,openssl enc -aes-256-cbc | nc -X 5 through microsocks (SOCKS5) to nc -l"
}

http_connect_openssl_enc() {
    tinyproxy_up
    start bash -c "nc -l 127.0.0.1 4461 > /dev/null"
    wait_port tcp 4461
    capture http_connect_openssl_enc "tcp port 8888" bash -c \
        "openssl enc -aes-256-cbc -pbkdf2 -pass pass:corpus -in '$work/small.txt' | nc -N -X connect -x 127.0.0.1:8888 127.0.0.1 4461"
    label_carrier "http_connect_openssl_enc.pcap,tcp,8888,carrier_c2,,symmetric_only,openssl enc -aes-256-cbc | nc -X connect through tinyproxy (HTTP CONNECT) to nc -l"
}

socks5_curl_tls() {
    microsocks_up
    start openssl s_server -accept 127.0.0.1:443 -cert "$work/cert.pem" -key "$work/key.pem" -www
    wait_port tcp 443
    capture socks5_curl_tls "tcp port 1080" curl -sk -o /dev/null -o /dev/null --socks5-hostname 127.0.0.1:1080 \
        https://127.0.0.1/ https://127.0.0.1/
    label_carrier "socks5_curl_tls.pcap,tcp,1080,benign_carrier,tls,,curl --socks5-hostname through microsocks (SOCKS5) to openssl s_server -www (TLS)"
}

http_connect_curl_tls() {
    tinyproxy_up
    start openssl s_server -accept 127.0.0.1:443 -cert "$work/cert.pem" -key "$work/key.pem" -www
    wait_port tcp 443
    capture http_connect_curl_tls "tcp port 8888" curl -sk -o /dev/null -o /dev/null -x http://127.0.0.1:8888 \
        https://127.0.0.1/ https://127.0.0.1/
    label_carrier "http_connect_curl_tls.pcap,tcp,8888,benign_carrier,tls,,curl -x through tinyproxy (HTTP CONNECT) to openssl s_server -www (TLS)"
}

# DNS on UDP/53: dnsmasq answers ordinary names itself and forwards the C2
# zone c2.example.test to a python (dnslib) authoritative server on 5300.
dnsmasq_up() { # extra dnsmasq.conf lines
    {
        printf '%s\n' no-resolv no-hosts bind-interfaces listen-address=127.0.0.1 port=53 user=root \
            "pid-file=$work/dnsmasq.pid"
        printf '%s\n' "$@"
    } > "$work/dnsmasq.conf"
    start dnsmasq -k -C "$work/dnsmasq.conf"
    wait_port udp 53
}

dns_c2_base32() {
    cat > "$work/dns_c2.py" <<'EOF'
import base64, os, random, socket, sys, time
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from dnslib import DNSRecord, QTYPE, RCODE, RR, TXT
zone = "c2.example.test"
aead = AESGCM(b"\x3b" * 32)
def seal(n):
    nonce = os.urandom(12)
    return nonce + aead.encrypt(nonce, os.urandom(n - 28), None)
unseal = lambda c: aead.decrypt(c[:12], c[12:], None)
if sys.argv[1] == "server":
    from dnslib.server import BaseResolver, DNSLogger, DNSServer
    class Resolver(BaseResolver):
        def resolve(self, request, handler):
            reply, q = request.reply(), request.q
            name = str(q.qname).rstrip(".").lower()
            if q.qtype != QTYPE.TXT or not name.endswith("." + zone):
                reply.header.rcode = RCODE.NXDOMAIN
                return reply
            b32 = name[:-len(zone) - 1].replace(".", "").upper()
            unseal(base64.b32decode(b32 + "=" * (-len(b32) % 8)))
            answer = base64.b64encode(seal(random.randint(40, 180))).decode()
            reply.add_answer(RR(q.qname, QTYPE.TXT, rdata=TXT(answer), ttl=0))
            return reply
    DNSServer(Resolver(), address="127.0.0.1", port=5300, logger=DNSLogger("-request,-reply,-truncated,-data,-recv,-send")).start()
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    for i in range(10):
        # 101-125 base32 characters in 2 labels or 152-189 in 3: 50-63 each
        c = seal(random.choice([random.randint(63, 78), random.randint(95, 118)]))
        b32 = base64.b32encode(c).decode().rstrip("=").lower()
        k = 2 if len(b32) <= 126 else 3
        size = -(-len(b32) // k)
        name = ".".join(b32[j:j + size] for j in range(0, len(b32), size)) + "." + zone
        s.sendto(DNSRecord.question(name, "TXT").pack(), ("127.0.0.1", 53))
        r = DNSRecord.parse(s.recv(4096))
        unseal(base64.b64decode(b"".join(r.rr[0].rdata.data)))
        time.sleep(0.3)
EOF
    start "$py" "$work/dns_c2.py" server
    wait_port udp 5300
    dnsmasq_up server=/c2.example.test/127.0.0.1#5300
    capture dns_c2_base32 "udp port 53" "$py" "$work/dns_c2.py" client
    label_carrier "dns_c2_base32.pcap,udp,53,carrier_c2,dns,dns_encoded_payload,python dnslib C2 behind dnsmasq: 10 TXT queries with base32 ciphertext labels and base64 ciphertext TXT answers"
}

dns_ordinary() {
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/dkim.pem" 2>/dev/null
    local p
    p="$(openssl pkey -in "$work/dkim.pem" -pubout -outform DER | base64 -w0)"
    dnsmasq_up local=/example.test/ \
        host-record=www.example.test,192.0.2.10,2001:db8::10 \
        host-record=mail.example.test,192.0.2.25,2001:db8::25 \
        mx-host=example.test,mail.example.test,10 \
        'txt-record=example.test,"v=spf1 mx ip4:192.0.2.0/24 include:_spf.mailhost.example.net -all"' \
        "txt-record=s2024._domainkey.example.test,\"v=DKIM1; k=rsa; p=${p:0:200}\",\"${p:200}\"" \
        host-record=d1x7qk3v9ab2cf.cdn.example.net,192.0.2.80,2001:db8::80 \
        cname=static.example.test,d1x7qk3v9ab2cf.cdn.example.net
    capture dns_ordinary "udp port 53" bash -c "
        for q in 'www.example.test A' 'www.example.test AAAA' 'example.test MX' 'mail.example.test A' \
                 'example.test TXT' 's2024._domainkey.example.test TXT' 'static.example.test CNAME' 'static.example.test A'; do
            dig +tries=1 +time=2 @127.0.0.1 \$q >/dev/null
        done"
    label_carrier "dns_ordinary.pcap,udp,53,benign_carrier,dns,,dig + dnsmasq: A AAAA MX TXT (SPF and a DKIM key) and a CNAME to a CDN-like name"
}

# HTTP on port 80 carrying compressed files: uploads to a small python
# http.server handler (curl -F and curl -T), downloads from python -m
# http.server (curl) of a Debian package and a package index.
http_upload_files() {
    local d="$work/upload"
    mkdir -p "$d/stored"
    gzip -9 -c /usr/share/common-licenses/GPL-3 > "$d/license.txt.gz"
    zip -q -j "$d/licenses.zip" /usr/share/common-licenses/Apache-2.0 /usr/share/common-licenses/MPL-2.0
    xz -c /usr/share/common-licenses/LGPL-2.1 > "$d/lgpl.txt.xz"
    convert -seed 7 -size 320x240 plasma:fractal -quality 85 "$d/photo.jpg"
    cat > "$work/upload.py" <<EOF
import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def done(self, text):
        b = text.encode()
        self.send_response(201)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def body(self):
        return self.rfile.read(int(self.headers["Content-Length"]))
    def do_POST(self):
        self.body()
        self.done("stored\n")
    def do_PUT(self):
        open(os.path.join("$d/stored", os.path.basename(self.path)), "wb").write(self.body())
        self.done("created\n")
http.server.HTTPServer.allow_reuse_address = True
http.server.HTTPServer(("127.0.0.1", 80), H).serve_forever()
EOF
    start "$py" "$work/upload.py"
    wait_port tcp 80
    capture http_upload_files "tcp port 80" bash -c "cd '$d' &&
        curl -s -o /dev/null -F gz=@license.txt.gz -F zip=@licenses.zip -F xz=@lgpl.txt.xz -F jpeg=@photo.jpg http://127.0.0.1/upload &&
        for f in license.txt.gz licenses.zip lgpl.txt.xz photo.jpg; do curl -s -o /dev/null -T \$f http://127.0.0.1/files/; done"
    label_carrier "http_upload_files.pcap,tcp,80,benign_carrier,http,,curl -F (multipart) and curl -T (PUT) of .gz .zip .xz and a JPEG (ImageMagick) to a python http.server handler"
}

http_download_packages() {
    # Packages made here, with a made-up maintainer: the capture carries no
    # real archive's index or people's addresses.
    local d="$work/mirror" i pkg
    mkdir -p "$d"
    for i in $(seq 1 12); do
        pkg="$work/pkg$i"
        mkdir -p "$pkg/DEBIAN" "$pkg/usr/share/doc/corpus-tool-$i"
        cat > "$pkg/DEBIAN/control" <<EOF
Package: corpus-tool-$i
Version: 1.$i-1
Architecture: all
Maintainer: encchan corpus <corpus@example.invalid>
Section: utils
Priority: optional
Description: sample package number $i for the encchan carrier corpus
 A package built by tests/corpus/record.sh so that an index and a .deb
 can be downloaded over plain HTTP as an ordinary mirror serves them.
EOF
        seq 1 4000 | sed "s/^/line $i of the bundled text, number /" > "$pkg/usr/share/doc/corpus-tool-$i/notes.txt"
        dpkg-deb -Zxz --build "$pkg" "$d/corpus-tool-${i}_1.${i}-1_all.deb" >/dev/null
    done
    (cd "$d" && dpkg-scanpackages -m . 2>/dev/null > Packages)
    gzip -9 -k "$d/Packages"
    xz -k "$d/Packages"
    start "$py" -m http.server 80 --bind 127.0.0.1 --directory "$d"
    wait_port tcp 80
    capture http_download_packages "tcp port 80" bash -c "cd '$d' &&
        for f in corpus-tool-1_1.1-1_all.deb Packages Packages.gz Packages.xz; do curl -s -o /dev/null http://127.0.0.1/\$f; done"
    label_carrier "http_download_packages.pcap,tcp,80,benign_carrier,http,,python -m http.server + curl: a .deb and a Packages index (plain .gz and .xz) of packages built for the corpus"
}

all=(tls13 tls12 curl_https ssh http dns smtp gzip_nc zstd_nc xz_nc png openssl_enc rc4 beacon_tcp shadowsocks
     ccrypt_nc gpg_socat tls_odd_port tls_rsa tls_incomplete quic443 quic_odd_port quicktun_nacltai quicktun_nacl0
     openvpn_static wireguard_go tox_lan_discovery)
gzip_nc() { compressed gzip_nc 9001 gzip -c; }
zstd_nc() { compressed zstd_nc 9002 zstd -c -q; }
xz_nc() { compressed xz_nc 9003 xz -c; }
carriers=(http_aes_beacon_keepalive http_aes_beacon_per_connection http_base64_beacon http_chunked_encrypted
          websocket_c2_binary socks5_openssl_enc http_connect_openssl_enc dns_c2_base32
          socks5_curl_tls http_connect_curl_tls websocket_json_chat http_upload_files http_download_packages dns_ordinary)

selected=("$@")
[ "${#selected[@]}" -gt 0 ] || selected=("${all[@]}" "${carriers[@]}")
[ "${selected[*]}" != carriers ] || selected=("${carriers[@]}")
for s in "${selected[@]}"; do
    "$s"
done

if [ "$#" -eq 0 ]; then
    {
        echo "pcap,transport,server_port,class,expect_protocol,expect_alerts,tool"
        printf '%s\n' "${labels[@]}"
    } > "$here/labels.csv"
    echo "wrote $here/labels.csv (${#labels[@]} scenarios)"
fi
if [ "$#" -eq 0 ] || [ "$*" = carriers ]; then
    {
        echo "pcap,transport,server_port,class,expect_protocol,expect_alerts,tool"
        printf '%s\n' "${carrier_labels[@]}"
    } > "$here/labels-carriers.csv"
    echo "wrote $here/labels-carriers.csv (${#carrier_labels[@]} scenarios)"
fi

# The capture the README's main command analyzes.
"$py" "$here/make-sample.py"
