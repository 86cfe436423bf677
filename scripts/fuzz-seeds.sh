#!/usr/bin/env bash
# Minimized seeds to commit: merges each target's grown corpus (fuzz/corpus/,
# git-ignored) and its committed seeds into the smallest set of inputs that
# keeps the coverage they reach together (libFuzzer's -merge=1), and puts
# that set in fuzz/seeds/TARGET. CI's brief fuzz runs and the campaigns
# replay these seeds first, so they start where the last campaign stopped.
#
#   bash scripts/fuzz-seeds.sh [TARGET...]
#
# Prints per target: seeds before and after, and their size.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export RUSTC_BOOTSTRAP=1
cd "$root/fuzz"
cargo fuzz build -O >/dev/null
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
printf 'target\tseeds_before\tseeds_after\tbytes\n'
for t in "${targets[@]}"; do
    dirs=()
    [ -d "corpus/$t" ] && dirs+=("corpus/$t")
    [ -d "seeds/$t" ] && dirs+=("seeds/$t")
    [ "${#dirs[@]}" -gt 0 ] || continue
    before=0
    [ -d "seeds/$t" ] && before=$(find "seeds/$t" -type f | wc -l)
    fresh="$(mktemp -d)"
    cargo fuzz run -O "$t" "$fresh" "${dirs[@]}" -- -merge=1 -max_len=8192 >/dev/null 2>&1
    rm -rf "seeds/$t"
    mkdir -p seeds
    mv "$fresh" "seeds/$t"
    chmod 755 "seeds/$t"
    printf '%s\t%s\t%s\t%s\n' "$t" "$before" "$(find "seeds/$t" -type f | wc -l)" \
        "$(du -sb "seeds/$t" | cut -f1)"
done
