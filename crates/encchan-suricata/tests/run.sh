#!/usr/bin/env bash
# Tests the Suricata plugin against real Suricata 7.0 and 8.0: it loads, its
# verdicts on the labeled corpus match the labels and the CLI's figures, the
# rules alert, single-threaded and multi-threaded runs agree, and no flow
# of a protocol Suricata itself recognizes in ../shared/captures is called
# symmetric-only.
#
# Suricata 7.0 is `suricata` on PATH (or $SURICATA7); 8.0 is
# $SURICATA8, or /opt/suricata8/bin/suricata (scripts/install-suricata.sh).
# A missing one prints one SKIP line; with ENCCHAN_CI set (CI runs every
# suite) or ENCCHAN_REQUIRE_SURICATA7 / ENCCHAN_REQUIRE_SURICATA8, a missing
# one fails instead.
set -euo pipefail
crate="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$crate/../.." && pwd)"

suricata7="${SURICATA7:-$(command -v suricata || true)}"
suricata8="${SURICATA8:-/opt/suricata8/bin/suricata}"
src7="${SURICATA7_SRC:-/opt/src/suricata7/suricata-7.0.10}"

# ENCCHAN_PARITY_DIR (scripts/test-all.sh): keep the runs' records there
# for scripts/parity.py instead of a temporary directory.
if [ -n "${ENCCHAN_PARITY_DIR:-}" ]; then
    work="$ENCCHAN_PARITY_DIR/suricata"
    rm -rf "$work" && mkdir -p "$work"
else
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
fi
# The CLI for its figures; libencchan.so for the Lua fallback.
cargo build -q --release --locked -p encchan-cli -p encchan-ffi --manifest-path "$root/Cargo.toml"

status=0
ran=0

# suricata-check over every rules file (tests/lint.py; what it keeps is in
# tests/lint-allow.tsv with why), from a virtualenv under target/ (made
# once, as the Zeek suite does for mmdb-writer). No venv: SKIP, or a
# failure in CI.
venv="$root/target/suricata-check-venv"
if [ ! -x "$venv/bin/suricata-check" ]; then
    echo "==> installing suricata-check into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv" && "$venv/bin/pip" install -q 'suricata-check==0.9.3b0' || rm -rf "$venv"
fi
if [ -x "$venv/bin/suricata-check" ]; then
    echo "==> suricata-check over suricata-rules/"
    python3 "$crate/tests/lint.py" --root "$root" --work "$work/lint" --suricata-check "$venv/bin/suricata-check" || status=1
else
    echo "SKIP suricata-check: it could not be installed into $venv"
    [ -z "${ENCCHAN_CI:-}" ] || status=1
fi
# suricata-update takes the rules as a local source (the README's line).
if [ -n "$suricata7" ]; then
    bash "$crate/tests/suricata-update.sh" "$suricata7" || status=1
fi
if [ -n "$suricata7" ] && "$suricata7" -V 2>/dev/null | grep -q 'version 7\.0\.'; then
    if [ -f "$src7/src/autoconf.h" ]; then
        echo "==> Suricata plugin against $("$suricata7" -V)"
        make -s -C "$crate" suricata7 asan7 SURICATA7_SRC="$src7" >/dev/null
        python3 "$crate/tests/check.py" --root "$root" --work "$work/7" --major 7 \
            --suricata "$suricata7" --plugin "$crate/build/encchan-suricata-7.so" \
            --asan-plugin "$crate/build/encchan-suricata-7-asan.so" \
            --encchan "$root/target/release/encchan" || status=1
        ran=1
    else
        echo "SKIP Suricata 7.0 plugin tests: no configured 7.0 source tree at $src7 (scripts/install-suricata.sh 7)"
        [ -z "${ENCCHAN_REQUIRE_SURICATA7:-}${ENCCHAN_CI:-}" ] || status=1
    fi
else
    echo "SKIP Suricata 7.0 plugin tests: no Suricata 7.0 on PATH (scripts/install-suricata.sh 7)"
    [ -z "${ENCCHAN_REQUIRE_SURICATA7:-}${ENCCHAN_CI:-}" ] || status=1
fi

if [ -x "$suricata8" ] && [ -x "$(dirname "$suricata8")/libsuricata-config" ]; then
    echo "==> Suricata plugin against $("$suricata8" -V)"
    make -s -C "$crate" suricata8 asan8 SURICATA8_CONFIG="$(dirname "$suricata8")/libsuricata-config" >/dev/null
    python3 "$crate/tests/check.py" --root "$root" --work "$work/8" --major 8 \
        --suricata "$suricata8" --plugin "$crate/build/encchan-suricata-8.so" \
        --asan-plugin "$crate/build/encchan-suricata-8-asan.so" \
        --encchan "$root/target/release/encchan" || status=1
    ran=1
else
    echo "SKIP Suricata 8.0 plugin tests: no $suricata8 with libsuricata-config (scripts/install-suricata.sh 8, or set SURICATA8)"
    [ -z "${ENCCHAN_REQUIRE_SURICATA8:-}${ENCCHAN_CI:-}" ] || status=1
fi
[ "$ran" = 1 ] || echo "SKIP Suricata plugin tests: no Suricata found"
exit "$status"
