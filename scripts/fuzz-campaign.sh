#!/usr/bin/env bash
# A fuzzing campaign: every target (or those named) for MINUTES each, one
# after the other, from seed corpora built out of the real captures
# (crates/encchan-cli/examples/fuzz_seeds.rs, into fuzz/corpus/, git-ignored).
#
#   bash scripts/fuzz-campaign.sh MINUTES [TARGET...]
#
# Prints one line per target: executions, coverage (libFuzzer's cov and ft),
# corpus size and findings (files in fuzz/artifacts/TARGET/). Exits 1 when a
# target found something: reproduce with
#   cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -O TARGET artifacts/TARGET/FILE
# Needs cargo-fuzz (cargo install cargo-fuzz). The short runs the test
# command does are in scripts/test-all.sh.
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
printf 'target\tminutes\texecs\tcov\tft\tcorpus\tfindings\n'
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    before=$(find "artifacts/$t" -type f | wc -l)
    log="$(mktemp)"
    cargo fuzz run -O "$t" "corpus/$t" -- -max_total_time=$((minutes * 60)) -max_len=8192 \
        -print_final_stats=1 >"$log" 2>&1 || true
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    after=$(find "artifacts/$t" -type f | wc -l)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$minutes" "${execs:-?}" "${cov:-?}" "${ft:-?}" \
        "$(find "corpus/$t" -type f | wc -l)" "$((after - before))"
    if [ "$after" -gt "$before" ]; then
        found=1
        grep -m 5 -E 'panicked|ERROR|SUMMARY' "$log" >&2 || true
    fi
    rm -f "$log"
done
exit "$found"
