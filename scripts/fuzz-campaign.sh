#!/usr/bin/env bash
# A fuzzing campaign: every target (or those named) for MINUTES each, one
# after the other, from seed corpora built out of the real captures
# (crates/encchan-cli/examples/fuzz_seeds.rs, into fuzz/corpus/, git-ignored;
# a later campaign goes on from the corpus the last one grew), together with
# the committed minimized seeds in fuzz/seeds/ (scripts/fuzz-seeds.sh).
#
#   bash scripts/fuzz-campaign.sh MINUTES [TARGET...]
#
# Prints one line per target: minutes it ran, executions, coverage
# (libFuzzer's cov and features) at half time and at the end (equal: the
# target has plateaued), corpus size and findings (new files in
# fuzz/artifacts/TARGET/). Exits 1 when a target found something; reproduce
# with
#   cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -O TARGET artifacts/TARGET/FILE
# Needs cargo-fuzz (cargo install cargo-fuzz). The short runs of the test
# command are in scripts/test-all.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
minutes="${1:?usage: scripts/fuzz-campaign.sh MINUTES [TARGET...]}"
shift
export RUSTC_BOOTSTRAP=1
if [ ! -d "$root/fuzz/corpus" ]; then
    cargo run -q --release -p encchan-cli --example fuzz_seeds --manifest-path "$root/Cargo.toml" -- \
        "$root/tests/corpus/pcaps" "$root/../shared/captures"
fi
cd "$root/fuzz"
cargo fuzz build -O >/dev/null
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
found=0
printf 'target\tminutes\texecs\tcov_half\tcov_end\tft_half\tft_end\tcorpus\tfindings\n'
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    before=$(find "artifacts/$t" -type f | wc -l)
    log="$(mktemp)"
    started=$SECONDS
    seeds=()
    [ -d "seeds/$t" ] && seeds=("seeds/$t")
    cargo fuzz run -O "$t" "corpus/$t" "${seeds[@]}" -- -max_total_time=$((minutes * 60)) -max_len=8192 \
        -print_final_stats=1 >"$log" 2>&1 || true
    # Status lines are "#<execs> <event> cov: <c> ft: <f> …": coverage at the
    # last line before half the executions, and at the end.
    read -r execs cov_half cov_end ft_half ft_end < <(python3 - "$log" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
pts = [(int(n), int(c), int(f)) for n, c, f in re.findall(r"^#(\d+)\s+\S+\s+cov: (\d+) ft: (\d+)", text, re.M)]
total = re.findall(r"stat::number_of_executed_units: (\d+)", text)
total = int(total[-1]) if total else (pts[-1][0] if pts else 0)
half = [p for p in pts if p[0] <= total // 2] or pts[:1] or [(0, 0, 0)]
end = pts[-1] if pts else (0, 0, 0)
print(total, half[-1][1], end[1], half[-1][2], end[2])
PY
)
    after=$(find "artifacts/$t" -type f | wc -l)
    # Minutes it ran: a finding stops libFuzzer before its time is up.
    ran=$(python3 -c "print(round(($SECONDS - $started) / 60, 1))")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$ran" "$execs" "$cov_half" "$cov_end" \
        "$ft_half" "$ft_end" "$(find "corpus/$t" -type f | wc -l)" "$((after - before))"
    if [ "$after" -gt "$before" ]; then
        found=1
        grep -m 5 -E 'panicked|ERROR|SUMMARY' "$log" >&2 || true
    fi
    rm -f "$log"
done
exit "$found"
