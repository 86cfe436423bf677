#!/usr/bin/env bash
# Live sensors under load (benches/live.py says what and why): builds the
# binaries, the plugins and the captures, then replays them into a veth pair
# in a network namespace of its own at rising rates, soaks, and causes the
# faults operators cause. Needs root (namespaces, AF_PACKET) and tcpreplay
# (installed from Debian when missing).
#
#   bash benches/live.sh            full run: ~1 hour with a 10-minute soak per sensor
#   bash benches/live.sh --quick    CI: Suricata 7.0 with the plugin, the
#                                   16 MiB mix at its own timing (~25 Mbit/s):
#                                   no drops, the live alerts are the file's
#
# Environment: LIVE_SENSORS (suricata7,suricata8,zeek), LIVE_RATES
# (25,50,100,200,400,800,top Mbit/s), LIVE_SOAK (seconds, 600), LIVE_MIB (the
# mixed capture's size, 64). Further arguments go to live.py, e.g.
#   bash benches/live.sh --resume-log OLD.log --soak-variants 'plugin,no plugin'
# (keep an earlier run's rate steps, soak each sensor with and without), or
#   LIVE_SENSORS=zeek bash benches/live.sh --rates '' --skip-faults --soak-mbps 50 --out DIR
# (a soak alone, at a rate of your choosing).
set -euo pipefail
# shellcheck source=benches/common.sh
. "$(dirname "$0")/common.sh"
quick=""
[ "${1:-}" = "--quick" ] && { quick=1; shift; }
[ "$(id -u)" -eq 0 ] || { echo "benches/live.sh needs root (network namespaces, AF_PACKET)" >&2; exit 2; }
install_missing tcpreplay:/usr/bin/tcpreplay time:/usr/bin/time
build_binaries
crate="$root/crates/encchan-suricata"
args=(--root "$root" --work "$work")
if [ -n "$quick" ]; then
    make -s -C "$crate" suricata7 >/dev/null
    args+=(--quick --sensors "${LIVE_SENSORS:-suricata7}" --rates "${LIVE_RATES:-real}"
           --mixed "$(mixed_capture 16)")
else
    make -s -C "$crate" suricata7 >/dev/null 2>&1 || echo "SKIP Suricata 7.0 plugin: does not build" >&2
    [ -x /opt/suricata8/bin/suricata ] &&
        make -s -C "$crate" suricata8 SURICATA8_CONFIG=/opt/suricata8/bin/libsuricata-config >/dev/null
    if command -v zeek >/dev/null || [ -x /opt/zeek/bin/zeek ]; then
        export PATH="/opt/zeek/bin:$PATH"
        (cd "$root/cpp-shim" && ./configure >/dev/null && make -s -C build -j2 >/dev/null)
    fi
    short="$work/short-flows.pcap"
    [ -s "$short" ] || "$bin/mkcapture" --out "$short" --flood 100000
    args+=(--out "$out" --sensors "${LIVE_SENSORS:-suricata7,suricata8,zeek}"
           --rates "${LIVE_RATES:-25,50,100,200,400,800,top}" --soak "${LIVE_SOAK:-600}"
           --mixed "$(mixed_capture "${LIVE_MIB:-64}")" --short "$short")
fi
exec python3 "$root/benches/live.py" "${args[@]}" "$@"
