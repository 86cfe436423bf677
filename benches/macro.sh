#!/usr/bin/env bash
# The whole benchmark table on one machine, in one run:
#
#   bash benches/macro.sh [SIZE_MIB]        (default 1024)
#
# 1. Builds a mixed capture of SIZE_MIB from ../shared/captures and the
#    labeled corpus (benches/src/bin/mkcapture.rs; never committed).
# 2. Runs on it, measuring CPU seconds (user+sys), wall, packets/s, Gbit/s
#    and peak RSS: `encchan analyze`; nDPI's ndpiReader (libndpi-bin);
#    Zeek with no plugin, with the plugin alone, with the plugin and
#    zeek-scripts (log + notices), and with the script-only find_entropy
#    equivalent (benches/zeek/find_entropy.zeek); Suricata 7.0 and 8.0
#    through benches/suricata.sh.
# 3. Scale: concurrent-flow floods of 10 k, 100 k and 1 M flows through
#    `encchan analyze`, Suricata 8 and Zeek, each with and without the plugin.
# 4. Writes benches/results/latest.md (tables, machine) and SVG charts
#    (benches/plot.py).
# Tools that are missing print SKIP. Installs time and libndpi-bin with apt
# when missing. Absolute times are noisy on shared machines: compare ratios.
set -euo pipefail
# shellcheck source=benches/common.sh
. "$(dirname "$0")/common.sh"
size="${1:-1024}"
install_missing time:/usr/bin/time libndpi-bin:/usr/bin/ndpiReader

build_binaries
capture="$(mixed_capture "$size")"
packets=$(python3 - "$capture" <<'EOF'
import struct, sys
n = 0
with open(sys.argv[1], "rb") as f:
    f.read(24)
    while True:
        h = f.read(16)
        if len(h) < 16:
            break
        n += 1
        f.seek(struct.unpack("<I", h[8:12])[0], 1)
print(n)
EOF
)
bytes=$(stat -c %s "$capture")
tsv="$out/macro.tsv"
printf 'tool\tvariant\tcpu_s\twall_s\tmax_rss_kb\tpkts_per_s\tgbit_per_s\n' > "$tsv"

# measure TOOL VARIANT CMD... (in $work/run)
measure() {
    local tool="$1" variant="$2"
    shift 2
    rm -rf "$work/run" && mkdir -p "$work/run"
    if ! (cd "$work/run" && /usr/bin/time -f '%U %S %e %M' -o "$work/time" "$@" >/dev/null 2>"$work/stderr"); then
        echo "SKIP $tool $variant: failed: $(tail -n 3 "$work/stderr" | tr '\n' ' ')" >&2
        return 0
    fi
    read -r user sys wall rss < "$work/time"
    python3 - "$tool" "$variant" "$user" "$sys" "$wall" "$rss" "$packets" "$bytes" >> "$tsv" <<'EOF'
import sys
tool, variant, user, sys_, wall, rss, packets, nbytes = sys.argv[1:]
cpu = float(user) + float(sys_)
print(f"{tool}\t{variant}\t{cpu:.2f}\t{float(wall):.2f}\t{rss}\t{int(packets) / cpu:.0f}\t{int(nbytes) * 8 / cpu / 1e9:.3f}")
EOF
    tail -n 1 "$tsv" >&2
}

echo "==> encchan analyze, ndpiReader" >&2
measure encchan analyze "$bin/encchan" analyze "$capture"
if command -v ndpiReader >/dev/null; then
    measure nDPI "ndpiReader $(ndpiReader -h 2>&1 | sed -n 's/.*nDPI \([0-9.]*\).*/\1/p' | head -n 1)" ndpiReader -i "$capture" -q
else
    echo "SKIP ndpiReader: not installed" >&2
fi

if [ -x /opt/zeek/bin/zeek ] && ! command -v zeek >/dev/null; then export PATH="/opt/zeek/bin:$PATH"; fi
if command -v zeek-config >/dev/null; then
    echo "==> Zeek $(zeek-config --version)" >&2
    (cd "$root/cpp-shim" && ./configure >/dev/null && make -s -C build -j2 >/dev/null)
    measure Zeek "no plugin" zeek -C -r "$capture"
    measure Zeek "plugin" env ZEEK_PLUGIN_PATH="$root/cpp-shim/build" zeek -C -r "$capture"
    measure Zeek "plugin + main.zeek (log, notices)" env ZEEK_PLUGIN_PATH="$root/cpp-shim/build" zeek -C -r "$capture" "$root/zeek-scripts/main.zeek"
    measure Zeek "plugin + zeek-scripts (+ site policy)" env ZEEK_PLUGIN_PATH="$root/cpp-shim/build" zeek -C -r "$capture" "$root/zeek-scripts"
    measure Zeek "find_entropy script" zeek -C -r "$capture" "$root/benches/zeek/find_entropy.zeek"
else
    echo "SKIP Zeek: zeek-config not on PATH" >&2
fi

echo "==> Suricata" >&2
bash "$root/benches/suricata.sh" "$capture" 1 > "$work/suricata.md" || true
tail -n +2 "$out/suricata.tsv" 2>/dev/null | while IFS=$'\t' read -r ver variant cpu wall rss _ratio; do
    python3 -c "import sys; cpu=float('$cpu'); print(f'Suricata $ver\t$variant\t{cpu:.2f}\t$wall\t$rss\t{$packets/cpu:.0f}\t{$bytes*8/cpu/1e9:.3f}')" >> "$tsv"
done

echo "==> scale: concurrent flows" >&2
scale="$out/scale.tsv"
printf 'tool\tflows\tcpu_s\tmax_rss_kb\n' > "$scale"
flood_conf="$work/flood.yaml"
cat > "$flood_conf" <<EOF
%YAML 1.1
---
default-log-dir: $work/run
classification-file: $root/suricata-rules/classification.config
reference-config-file: /dev/null
threshold-file: /dev/null
flow: {memcap: 4gb, hash-size: 1048576, prealloc: 10000}
stream: {memcap: 4gb, reassembly: {memcap: 4gb}}
EOF
suricata8="${SURICATA8:-/opt/suricata8/bin/suricata}"
for n in 10000 100000 1000000; do
    flood="$work/flood-$n.pcap"
    [ -s "$flood" ] || "$bin/mkcapture" --out "$flood" --flood "$n" 2>/dev/null
    runs=("encchan analyze|$bin/encchan analyze $flood")
    if [ -x "$suricata8" ]; then
        make -s -C "$root/crates/encchan-suricata" suricata8 >/dev/null 2>&1 || true
        (cat "$flood_conf"; echo "plugins: [$root/crates/encchan-suricata/build/encchan-suricata-8.so]") > "$work/flood-plugin.yaml"
        runs+=("Suricata 8 no plugin|$suricata8 -c $flood_conf -S /dev/null -k none -l $work/run --runmode single -r $flood")
        runs+=("Suricata 8 plugin|$suricata8 -c $work/flood-plugin.yaml -S /dev/null -k none -l $work/run --runmode single -r $flood")
    fi
    suricata7="$(command -v suricata || true)"
    if [ -n "$suricata7" ] && "$suricata7" -V | grep -q 'version 7\.0\.'; then
        make -s -C "$root/crates/encchan-suricata" suricata7 >/dev/null 2>&1 || true
        (cat "$flood_conf"; echo "plugins: [$root/crates/encchan-suricata/build/encchan-suricata-7.so]"
         echo "outputs: [{encchan: {enabled: yes}}]") > "$work/flood-plugin7.yaml"
        runs+=("Suricata 7 no plugin|$suricata7 -c $flood_conf -S /dev/null -k none -l $work/run --runmode single -r $flood")
        runs+=("Suricata 7 plugin|$suricata7 -c $work/flood-plugin7.yaml -S /dev/null -k none -l $work/run --runmode single -r $flood")
    fi
    if command -v zeek >/dev/null; then
        runs+=("Zeek no plugin|zeek -C -r $flood")
        runs+=("Zeek plugin|env ZEEK_PLUGIN_PATH=$root/cpp-shim/build zeek -C -r $flood")
    fi
    for r in "${runs[@]}"; do
        rm -rf "$work/run" && mkdir -p "$work/run"
        # shellcheck disable=SC2086
        # In $work/run: Zeek writes its logs to the working directory.
        (cd "$work/run" && /usr/bin/time -f '%U %S %e %M' -o "$work/time" ${r#*|} >/dev/null 2>&1) || continue
        read -r user sys _ rss < "$work/time"
        printf '%s\t%s\t%s\t%s\n' "${r%%|*}" "$n" "$(python3 -c "print(f'{$user+$sys:.2f}')")" "$rss" >> "$scale"
    done
done

echo "==> detection side by side" >&2
python3 "$root/benches/detection.py" --results "$out" >/dev/null || echo "SKIP detection table: failed" >&2

echo "==> results" >&2
python3 "$root/benches/plot.py" --results "$out" --capture "$capture" --packets "$packets" --bytes "$bytes"
echo "wrote $out/latest.md and its charts" >&2
