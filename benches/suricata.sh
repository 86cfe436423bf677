#!/usr/bin/env bash
# What the encchan plugin costs inside Suricata, beside the alternatives, on
# the same capture(s) and in one run:
#
#   benches/suricata.sh CAPTURE [REPEAT]      (CAPTURE: a pcap or a directory)
#
# For each Suricata found (7.0: `suricata` on PATH; 8.0: /opt/suricata8 or
# $SURICATA8) it runs `suricata -r` with: no rules and no plugin (the first
# baseline), the plugin alone (EVE records, no rules), the plugin with its
# rules, the 7.0 Lua fallback, the 8.0 entropy-keyword rules, the rules
# Suricata ships (decoder/stream/app-layer events: the detection engine on,
# as in any sensor; the second baseline) alone and with the plugin and its
# rules, and 8.0's plugin run again with autofp workers (one per core: the
# threads scale); each REPEAT times (default 3), keeping the run with the
# least CPU. It prints CPU seconds (user+sys), wall seconds, peak RSS and the
# CPU ratio to the variant's baseline ("shipped rules + …" to the shipped
# rules, the rest to no rules) as a Markdown table (stdout), and writes the
# same rows as TSV to benches/results/suricata.tsv. A missing Suricata or
# plugin prints SKIP. Not a test: the machine is shared and noisy, so the
# ratios are the figures that count.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
capture="${1:?usage: benches/suricata.sh CAPTURE [REPEAT]}"
repeat="${2:-3}"
capture="$(realpath "$capture")"
rules="$root/suricata-rules"
crate="$root/crates/encchan-suricata"
out="$root/benches/results"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo build -q --release --locked -p encchan-ffi --manifest-path "$root/Cargo.toml"
libencchan="$root/target/release/libencchan.so"

# `/usr/bin/time -f` gives CPU and peak RSS of the whole process tree's main
# process (Suricata is one process with threads).
command -v /usr/bin/time >/dev/null || { apt-get install -y -qq time >/dev/null; }

tsv="$out/suricata.tsv"
printf 'suricata\tvariant\tcpu_s\twall_s\tmax_rss_kb\tcpu_ratio\tbaseline\n' > "$tsv"
echo "| Suricata | variant | CPU s | wall s | peak RSS MiB | CPU vs baseline | baseline |"
echo "|---|---|---|---|---|---|---|"

# The rule files a Suricata ships (its events rules), one file: the
# detection engine on, as in any deployed sensor.
shipped_rules() {
    local dir="$1" out="$work/shipped-$2.rules"
    cat "$dir"/*.rules > "$out" 2>/dev/null || : > "$out"
    echo "$out"
}

# run VERSION NAME BINARY CONFIG_LINES RULEFILES [ENV...]
# RULEFILES: space-separated, each absolute or relative to suricata-rules/.
run() {
    local ver="$1" name="$2" bin="$3" conf_lines="$4" rulefiles="$5"
    shift 5
    local d="$work/$ver-$name"
    mkdir -p "$d"
    # The rules' address variables (every address internal and external:
    # the captures are loopback and private) and allow-list default.
    printf '%%YAML 1.1\n---\ndefault-log-dir: %s\ndefault-rule-path: %s\nclassification-file: %s\nreference-config-file: /dev/null\nthreshold-file: /dev/null\nvars:\n  address-groups:\n    HOME_NET: \"any\"\n    EXTERNAL_NET: \"any\"\n    ENCCHAN_ALLOWED_SERVERS: \"[0.0.0.0/32,::/128]\"\n%s\n' \
        "$d" "$rules" "$rules/classification.config" "$conf_lines" > "$d/suricata.yaml"
    local runmode=(--runmode single)
    case "$name" in
        *"2 threads"*) runmode=(--runmode autofp --set threading.set-cpu-affinity=no --set threading.detect-thread-ratio=1) ;;
    esac
    local args=(-c "$d/suricata.yaml" -k none -l "$d" -r "$capture" "${runmode[@]}")
    : > "$d/all.rules"
    local f
    for f in $rulefiles; do
        case "$f" in /*) cat "$f" ;; *) cat "$rules/$f" ;; esac >> "$d/all.rules"
    done
    args+=(-S "$d/all.rules")
    local best_cpu="" best=""
    for _ in $(seq "$repeat"); do
        rm -f "$d"/*.json "$d"/*.log
        env "$@" /usr/bin/time -f '%U %S %e %M' -o "$d/time" "$bin" "${args[@]}" >/dev/null 2>"$d/stderr" ||
            { echo "| $ver | $name | failed: $(tail -n 2 "$d/stderr" | tr '\n' ' ') | | | |"; return 0; }
        read -r user sys wall rss < "$d/time"
        local cpu
        cpu=$(python3 -c "print(f'{$user + $sys:.2f}')")
        if [ -z "$best_cpu" ] || python3 -c "import sys; sys.exit(0 if $cpu < $best_cpu else 1)"; then
            best_cpu="$cpu"
            best="$cpu $wall $rss"
        fi
    done
    read -r cpu wall rss <<< "$best"
    [ "$name" = "no rules" ] && base_cpu="$cpu"
    [ "$name" = "shipped rules" ] && shipped_cpu="$cpu"
    local ratio baseline="no rules" against="$base_cpu"
    case "$name" in
        "shipped rules + "*) baseline="shipped rules"; against="$shipped_cpu" ;;
    esac
    ratio=$(python3 -c "print(f'{$cpu / max($against, 1e-9):.3f}')")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$ver" "$name" "$cpu" "$wall" "$rss" "$ratio" "$baseline" >> "$tsv"
    echo "| $ver | $name | $cpu | $wall | $((rss / 1024)) | $ratio | $baseline |"
}

eve='outputs:
  - eve-log:
      enabled: yes
      filename: eve.json
      types: [alert, flow]'

suricata7="${SURICATA7:-$(command -v suricata || true)}"
if [ -n "$suricata7" ] && "$suricata7" -V | grep -q 'version 7\.0\.'; then
    if make -s -C "$crate" suricata7 >/dev/null 2>&1; then
        base_cpu=1 shipped_cpu=1
        plugin7="plugins: [$crate/build/encchan-suricata-7.so]
$eve
  - encchan:
      enabled: yes"
        shipped7="$(shipped_rules /etc/suricata/rules 7)"
        run 7.0 "no rules" "$suricata7" "$eve" ""
        run 7.0 "plugin, no rules" "$suricata7" "$plugin7" ""
        run 7.0 "plugin + encchan.rules" "$suricata7" "$plugin7" encchan.rules
        run 7.0 "Lua fallback" "$suricata7" "security:
  lua:
    allow-rules: yes
$eve" encchan-lua.rules ENCCHAN_LIBRARY="$libencchan"
        run 7.0 "shipped rules" "$suricata7" "$eve" "$shipped7"
        run 7.0 "shipped rules + plugin + encchan.rules" "$suricata7" "$plugin7" "$shipped7 encchan.rules"
    else
        echo "SKIP Suricata 7.0: the plugin does not build (scripts/install-suricata.sh 7)" >&2
    fi
else
    echo "SKIP Suricata 7.0: not installed" >&2
fi

suricata8="${SURICATA8:-/opt/suricata8/bin/suricata}"
if [ -x "$suricata8" ]; then
    if make -s -C "$crate" suricata8 SURICATA8_CONFIG="$(dirname "$suricata8")/libsuricata-config" >/dev/null 2>&1; then
        base_cpu=1 shipped_cpu=1
        plugin8="plugins: [$crate/build/encchan-suricata-8.so]
$eve"
        shipped8="$(shipped_rules "$(dirname "$(dirname "$suricata8")")/share/suricata/rules" 8)"
        run 8.0 "no rules" "$suricata8" "$eve" ""
        run 8.0 "plugin, no rules" "$suricata8" "$plugin8" ""
        run 8.0 "plugin + encchan-keyword.rules" "$suricata8" "$plugin8" encchan-keyword.rules
        run 8.0 "entropy keyword rules" "$suricata8" "$eve" encchan-entropy.rules
        run 8.0 "shipped rules" "$suricata8" "$eve" "$shipped8"
        run 8.0 "shipped rules + plugin + encchan-keyword.rules" "$suricata8" "$plugin8" "$shipped8 encchan-keyword.rules"
        run 8.0 "shipped rules + entropy keyword rules" "$suricata8" "$eve" "$shipped8 encchan-entropy.rules"
        # Threads: the same plugin run with autofp workers (one per core).
        run 8.0 "plugin + encchan-keyword.rules, 2 threads" "$suricata8" "plugins: [$crate/build/encchan-suricata-8.so]
$eve" encchan-keyword.rules
    else
        echo "SKIP Suricata 8.0: the plugin does not build" >&2
    fi
else
    echo "SKIP Suricata 8.0: $suricata8 not found (scripts/install-suricata.sh 8)" >&2
fi
