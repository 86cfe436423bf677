#!/usr/bin/env bash
# Renders the HTML report of the bundled corpus in headless Chromium: the
# page's structure is checked against `encchan analyze` and the labels
# (scripts/check_report.py), and the screenshot, kept as docs/report.png
# for the README, must be a PNG that is not blank.
#
# Installs Debian's chromium when missing (root or sudo; not with
# ENCCHAN_NO_INSTALL). Without chromium it prints SKIP, or fails in CI
# (ENCCHAN_CI set).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1 && [ -z "${ENCCHAN_NO_INSTALL:-}" ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    if [ -z "$SUDO" ] || command -v sudo >/dev/null 2>&1; then
        echo "==> installing chromium"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
    fi
fi
if ! command -v chromium >/dev/null 2>&1; then
    if [ -n "${ENCCHAN_CI:-}" ]; then
        echo "chromium is missing in CI: the report test cannot run" >&2
        exit 1
    fi
    echo "SKIP report rendering: chromium is not installed (apt-get install chromium)"
    exit 0
fi

cargo build --locked -q -p encchan-cli
bin="${CARGO_TARGET_DIR:-target}/debug/encchan"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

pcaps=(tests/corpus/pcaps/*.pcap)
"$bin" report -o "$work/report.html" "${pcaps[@]}" 2>/dev/null
"$bin" analyze "${pcaps[@]}" >"$work/analyze.ndjson" 2>/dev/null
# Each capture alone too: read as one stream, captures whose flows share a
# 5-tuple (and go back in time) join into one flow, listed under the first.
mkdir -p "$work/solo"
for p in "${pcaps[@]}"; do
    "$bin" analyze "$p" >"$work/solo/$(basename "$p").ndjson" 2>/dev/null
done

png="${ENCCHAN_REPORT_PNG:-docs/report.png}"
mkdir -p "$(dirname "$png")"
rm -f "$png"
# A profile of its own, so that a user's Chromium is not disturbed.
timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$work/profile" --screenshot="$PWD/$png" --window-size=1280,2400 \
    "file://$work/report.html" >"$work/chromium.log" 2>&1 || {
    cat "$work/chromium.log" >&2
    exit 1
}

python3 scripts/check_report.py "$work/report.html" "$work/analyze.ndjson" "$png" "$work/solo" \
    tests/corpus/labels.csv tests/corpus/labels-carriers.csv
