#!/usr/bin/env bash
# The Debian packages as an operator uses them: build them
# (scripts/build-debs.sh), install them with apt (which resolves their
# dependencies), run the CLI, compile a C program against the library with
# pkg-config, start Debian's Suricata 7.0 with the packaged plugin and rules
# on a capture and look for the alert, then purge them and check that none
# of their files is left. Needs root; SKIPs without it (fails in CI).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
fail() { echo "FAIL (debs): $*" >&2; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
    [ -n "${ENCCHAN_CI:-}" ] && fail "needs root in CI"
    echo "SKIP Debian packages: needs root (apt-get install)"
    exit 0
fi
if ! dpkg-query -W -f '${Version}' suricata 2>/dev/null | grep -q ':7\.0\.10-'; then
    [ -n "${ENCCHAN_CI:-}" ] && fail "Debian's suricata 7.0.10 is not installed"
    echo "SKIP Debian packages: Debian's suricata 7.0.10 is not installed (scripts/install-suricata.sh 7)"
    exit 0
fi
for p in dpkg-dev pkg-config python3-yaml; do
    dpkg -s "$p" >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null
done

bash scripts/build-debs.sh
debs=(target/debian/*.deb)
packages=()
for deb in "${debs[@]}"; do packages+=("$(dpkg-deb -f "$deb" Package)"); done
[ "${#packages[@]}" -eq 4 ] || fail "expected 4 packages, built: ${packages[*]}"
work="$(mktemp -d)"
purge() { DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${packages[@]}" >/dev/null 2>&1 || true; }
trap 'purge; rm -rf "$work"' EXIT
purge

# Every file the packages ship, to check after the purge.
for deb in "${debs[@]}"; do
    dpkg-deb -c "$deb" | awk '{print $6}' | sed 's#^\./#/#' | grep -v '/$'
done > "$work/files"

DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${debs[@]/#/./}" >/dev/null ||
    fail "apt-get install ${debs[*]}"
passed=0
check() { if eval "$1"; then passed=$((passed + 1)); else fail "$2"; fi; }

# The CLI from PATH, on a bundled capture: the symmetric-only flow alerts.
check '[ "$(command -v encchan)" = /usr/bin/encchan ]' "encchan is not /usr/bin/encchan"
encchan analyze tests/corpus/pcaps/rc4_nc.pcap > "$work/rc4.ndjson"
check 'grep -q "\"symmetric_only\"" "$work/rc4.ndjson"' "encchan analyze: no symmetric_only on rc4_nc.pcap"
if [ -e /usr/share/man/man1/encchan.1.gz ]; then
    check 'zcat /usr/share/man/man1/encchan.1.gz | grep -q analyze' "the man page does not name analyze"
fi

# The library through pkg-config: a C program links and asks the ABI.
cat > "$work/abi.c" <<'EOF'
#include <encchan.h>
#include <stdio.h>
int main(void) { printf("%u\n", encchan_abi_version()); return encchan_abi_version() == ENCCHAN_ABI_VERSION ? 0 : 1; }
EOF
# shellcheck disable=SC2046
gcc -o "$work/abi" "$work/abi.c" $(pkg-config --cflags --libs encchan) || fail "cc with pkg-config encchan"
check '"$work/abi" >/dev/null' "a program linked with -lencchan does not run or sees another ABI"

# Debian's Suricata with the packaged plugin, rules and snippet: the
# snippet's sections, with the corpus's loopback flows inside HOME_NET and
# EXTERNAL_NET, eve.json in the work directory.
triplet="$(dpkg-architecture -qDEB_HOST_MULTIARCH)"
python3 - "$work" "$triplet" <<'EOF'
import sys, yaml
work, triplet = sys.argv[1], sys.argv[2]
snippet = yaml.safe_load(open("/etc/suricata/encchan.yaml"))
plugin = f"/usr/lib/{triplet}/suricata/plugins/encchan-suricata-7.so"
assert plugin in snippet["plugins"], snippet["plugins"]
conf = {
    "vars": {"address-groups": dict(snippet["vars"]["address-groups"], HOME_NET="any", EXTERNAL_NET="any")},
    "plugins": [plugin],
    "default-log-dir": work,
    "classification-file": "/etc/suricata/classification.config",
    "reference-config-file": "/etc/suricata/reference.config",
    "threshold-file": "/dev/null",
    "outputs": [{"encchan": {"enabled": True}},
                {"eve-log": {"enabled": True, "filename": "eve.json", "types": ["alert", "flow"]}}],
    "pcap-file": {"checksum-checks": "no"},
    "encchan": snippet["encchan"],
}
with open(f"{work}/suricata.yaml", "w") as f:
    f.write("%YAML 1.1\n---\n")
    yaml.safe_dump(conf, f)
EOF
suricata -c "$work/suricata.yaml" -S /etc/suricata/rules/encchan.rules -k none -l "$work" \
    -r tests/corpus/pcaps/rc4_nc.pcap > "$work/suricata.out" 2>&1 || fail "suricata: $(tail -n 5 "$work/suricata.out")"
check 'grep -q "Initializing plugin encchan" "$work/suricata.out"' "Suricata did not load the packaged plugin"
check 'grep -q "\"signature_id\":9573001" "$work/eve.json"' "no symmetric_only rule alert (sid 9573001) in eve.json"

# Purged, nothing of them is left.
purge
trap 'rm -rf "$work"' EXIT
for p in "${packages[@]}"; do
    if dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q installed; then fail "$p is still installed"; fi
done
left=$(while read -r f; do if [ -e "$f" ] || [ -L "$f" ]; then echo "$f"; fi; done < "$work/files")
check '[ -z "$left" ]' "files left after the purge: $left"
echo "Debian packages: ${packages[*]}: $passed checks passed"
