#!/usr/bin/env bash
# What the plugins cost, in instructions: the same variants as macro.sh and
# suricata.sh, each run once under `valgrind --tool=callgrind`, whose counts
# are the same run to run whatever else the machine is doing (seconds on a
# shared 2-core machine vary by ±5 %, more than the plugins cost).
#
#   bash benches/instructions.sh [SIZE_MIB]     (default 16)
#
# Builds benches/work/mixed-SIZE.pcap (benches/src/bin/mkcapture.rs), counts
# `encchan analyze`, ndpiReader, Zeek (no plugin, plugin, plugin +
# main.zeek, the find_entropy script) and Suricata 7.0 / 8.0 (no rules, the
# plugin alone, the plugin with its rules, the shipped rules alone and with
# the plugin and its rules, the 8.0 entropy keyword), and writes
# benches/results/instructions.md: counts and the ratio to each variant's
# baseline. About 20 minutes at 16 MiB. Missing tools print SKIP.
# INSTR_TOOLS (default encchan,ndpi,zeek,suricata7,suricata8) picks a subset.
set -euo pipefail
# shellcheck source=benches/common.sh
. "$(dirname "$0")/common.sh"
size="${1:-16}"
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 2; }
# nDPI's reader: the reference row.
install_missing libndpi-bin:/usr/bin/ndpiReader
build_binaries
capture="$(mixed_capture "$size")"
rules="$root/suricata-rules"
crate="$root/crates/encchan-suricata"
tsv="$work/instructions.tsv"
printf 'tool\tvariant\tbaseline\tinstructions\n' > "$tsv"

# count TOOL VARIANT BASELINE [VAR=VALUE...] CMD...
# (BASELINE: the variant it is compared to, or -; VAR=VALUE: the command's
# environment, set outside valgrind, which does not follow `env`'s exec.)
count() {
    local tool="$1" variant="$2" baseline="$3"
    shift 3
    local envs=()
    while [[ "${1:-}" == *=* ]]; do envs+=("$1"); shift; done
    rm -rf "$work/cg" && mkdir -p "$work/cg"
    if ! (cd "$work/cg" && env "${envs[@]}" valgrind --tool=callgrind --callgrind-out-file="$work/cg/out" "$@" >/dev/null 2>"$work/cg/err"); then
        echo "SKIP $tool $variant: failed: $(grep -v '^==' "$work/cg/err" | tail -n 2 | tr '\n' ' ')" >&2
        return 0
    fi
    local n
    n=$(sed -n 's/^==[0-9]*== Collected : *//p' "$work/cg/err" | tail -n 1)
    printf '%s\t%s\t%s\t%s\n' "$tool" "$variant" "$baseline" "$n" >> "$tsv"
    echo "$tool / $variant: $n instructions" >&2
}

tools=",${INSTR_TOOLS:-encchan,ndpi,zeek,suricata7,suricata8},"
want() { [[ "$tools" == *",$1,"* ]]; }
if want encchan; then count encchan analyze - "$bin/encchan" analyze "$capture"; fi
if ! want ndpi; then :
elif command -v ndpiReader >/dev/null; then count nDPI ndpiReader - ndpiReader -i "$capture" -q; else echo "SKIP nDPI: ndpiReader is not installed" >&2; fi

if ! want zeek; then :
elif command -v zeek >/dev/null; then
    (cd "$root/cpp-shim" && ./configure >/dev/null && make -s -C build -j2 >/dev/null)
    count Zeek "no plugin" - zeek -C -r "$capture"
    count Zeek plugin "no plugin" ZEEK_PLUGIN_PATH="$root/cpp-shim/build" zeek -C -r "$capture"
    count Zeek "plugin + main.zeek" "no plugin" ZEEK_PLUGIN_PATH="$root/cpp-shim/build" zeek -C -r "$capture" "$root/zeek-scripts/main.zeek"
    count Zeek "find_entropy script" "no plugin" zeek -C -r "$capture" "$root/benches/zeek/find_entropy.zeek"
else
    echo "SKIP Zeek: not on PATH" >&2
fi

yaml() {  # yaml FILE [PLUGIN_SO [OUTPUT_ITEM_LINES]]
    printf '%%YAML 1.1\n---\ndefault-log-dir: %s\nclassification-file: %s\nreference-config-file: /dev/null\nthreshold-file: /dev/null\nvars:\n  address-groups:\n    HOME_NET: \"any\"\n    EXTERNAL_NET: \"any\"\n    ENCCHAN_ALLOWED_SERVERS: \"[0.0.0.0/32,::/128]\"\n%s\noutputs:\n  - eve-log:\n      enabled: yes\n      filename: eve.json\n      types: [alert, flow]\n%s\n' \
        "$work/cg" "$rules/classification.config" "${2:+plugins: [$2]}" "${3:-}" > "$1"
}
suricata_variants() {  # VERSION BINARY PLUGIN_SO OUTPUT_ITEM PLUGIN_RULES SHIPPED_DIR [ENTROPY_RULES]
    local ver="$1" s="$2" plugin="$3" output="$4" prules="$5" shipped_dir="$6" entropy="${7:-}"
    local shipped="$work/shipped-$ver.rules"
    cat "$shipped_dir"/*.rules > "$shipped" 2>/dev/null || : > "$shipped"
    cat "$shipped" "$rules/$prules" > "$work/shipped-plugin-$ver.rules"
    yaml "$work/base-$ver.yaml"
    yaml "$work/plugin-$ver.yaml" "$plugin" "$output"
    local args=(-k none --runmode single -r "$capture")
    count "Suricata $ver" "no rules" - "$s" -c "$work/base-$ver.yaml" -S /dev/null -l "$work/cg" "${args[@]}"
    count "Suricata $ver" "plugin, no rules" "no rules" "$s" -c "$work/plugin-$ver.yaml" -S /dev/null -l "$work/cg" "${args[@]}"
    count "Suricata $ver" "plugin + $prules" "no rules" "$s" -c "$work/plugin-$ver.yaml" -S "$rules/$prules" -l "$work/cg" "${args[@]}"
    count "Suricata $ver" "shipped rules" - "$s" -c "$work/base-$ver.yaml" -S "$shipped" -l "$work/cg" "${args[@]}"
    count "Suricata $ver" "shipped rules + plugin + $prules" "shipped rules" "$s" -c "$work/plugin-$ver.yaml" -S "$work/shipped-plugin-$ver.rules" -l "$work/cg" "${args[@]}"
    if [ -n "$entropy" ]; then
        cat "$shipped" "$rules/$entropy" > "$work/shipped-entropy-$ver.rules"
        count "Suricata $ver" "entropy keyword rules" "no rules" "$s" -c "$work/base-$ver.yaml" -S "$rules/$entropy" -l "$work/cg" "${args[@]}"
        count "Suricata $ver" "shipped rules + entropy keyword rules" "shipped rules" "$s" -c "$work/base-$ver.yaml" -S "$work/shipped-entropy-$ver.rules" -l "$work/cg" "${args[@]}"
    fi
}
suricata7="$(command -v suricata || true)"
if ! want suricata7; then :
elif [ -n "$suricata7" ] && "$suricata7" -V | grep -q 'version 7\.0\.' && make -s -C "$crate" suricata7 >/dev/null 2>&1; then
    suricata_variants 7.0 "$suricata7" "$crate/build/encchan-suricata-7.so" "  - encchan:
      enabled: yes" encchan.rules /etc/suricata/rules
else
    echo "SKIP Suricata 7.0" >&2
fi
suricata8="${SURICATA8:-/opt/suricata8/bin/suricata}"
if ! want suricata8; then :
elif [ -x "$suricata8" ] && make -s -C "$crate" suricata8 SURICATA8_CONFIG="$(dirname "$suricata8")/libsuricata-config" >/dev/null 2>&1; then
    suricata_variants 8.0 "$suricata8" "$crate/build/encchan-suricata-8.so" "" encchan-keyword.rules \
        "$(dirname "$(dirname "$suricata8")")/share/suricata/rules" encchan-entropy.rules
else
    echo "SKIP Suricata 8.0" >&2
fi

python3 - "$tsv" "$out/instructions.md" "$capture" <<'PY'
import csv, os, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
count = {(r["tool"], r["variant"]): int(r["instructions"]) for r in rows}
md = ["## Instructions (callgrind)", "",
      f"`bash benches/instructions.sh` on `{os.path.basename(sys.argv[3])}` "
      f"({os.path.getsize(sys.argv[3]) / 2**20:.0f} MiB): instruction counts, the same on every run, so the "
      "added cost is measured even where seconds are too noisy to show it.", "",
      "| tool | variant | instructions | vs baseline | added over baseline |", "|---|---|---|---|---|"]
for r in rows:
    n = int(r["instructions"])
    base = count.get((r["tool"], r["baseline"]))
    ratio = f"{n / base:.3f} (vs {r['baseline']})" if base else "–"
    added = f"{100 * (n / base - 1):+.2f} %" if base else "–"
    md.append(f"| {r['tool']} | {r['variant']} | {n:,} | {ratio} | {added} |")
zp, z0, zf = (count.get(("Zeek", v)) for v in ("plugin", "no plugin", "find_entropy script"))
if zp and z0 and zf and zp > z0:
    md += ["", f"Zeek: the find_entropy script adds {(zf - z0) / (zp - z0):.1f}× the instructions the plugin adds."]
open(sys.argv[2], "w").write("\n".join(md) + "\n")
print("\n".join(md))
PY
