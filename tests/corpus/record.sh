#!/usr/bin/env bash
# Records the labeled corpus: real, widely used programs talking over
# loopback, one scenario per capture in pcaps/, labels in labels.csv.
#
# Needs root (tcpdump on lo, binding ports 22/25/53/80/443) and Debian's
# packages, which it installs when missing. Everything talks to 127.0.0.1
# only. Re-running regenerates every capture; random keys and payloads make
# the bytes differ from run to run, not the labels.
#
#   sudo bash tests/corpus/record.sh            # all scenarios
#   sudo bash tests/corpus/record.sh tls13 ssh  # some
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
    rm -rf "$work"
}
trap cleanup EXIT

need=(tcpdump openssl openssh-server openssh-client python3-cryptography socat netcat-openbsd curl
      zstd xz-utils shadowsocks-libev ccrypt gnupg dnsutils)
missing=()
for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

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

all=(tls13 tls12 curl_https ssh http dns smtp gzip_nc zstd_nc xz_nc png openssl_enc rc4 beacon_tcp shadowsocks
     ccrypt_nc gpg_socat tls_odd_port tls_rsa tls_incomplete)
gzip_nc() { compressed gzip_nc 9001 gzip -c; }
zstd_nc() { compressed zstd_nc 9002 zstd -c -q; }
xz_nc() { compressed xz_nc 9003 xz -c; }

selected=("$@")
[ "${#selected[@]}" -gt 0 ] || selected=("${all[@]}")
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

# The capture the README's main command analyzes.
"$py" "$here/make-sample.py"
