#!/usr/bin/env bash
# Tests the Zeek plugin against a real Zeek: it loads (zeek -N), its verdicts
# on the labeled corpus match the labels, its entropy figures equal the CLI's
# for the same flows, and no Symmetric_Only_Channel notice is raised on flows
# of known protocols in the shared captures.
#
# Zeek is found through zeek-config on PATH, or $ZEEK_DIST/bin. Without it
# this prints one SKIP line and exits 0, unless ENCCHAN_REQUIRE_ZEEK or
# ENCCHAN_CI is set (CI runs every suite: a missing Zeek fails it).
set -euo pipefail
shim="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$shim/.." && pwd)"

if ! command -v zeek-config >/dev/null 2>&1 && [ -n "${ZEEK_DIST:-}" ]; then
    export PATH="$ZEEK_DIST/bin:$PATH"
fi
if ! command -v zeek-config >/dev/null 2>&1; then
    if [ -n "${ENCCHAN_REQUIRE_ZEEK:-}${ENCCHAN_CI:-}" ]; then
        echo "Zeek plugin tests: zeek-config not found, and CI requires every suite" >&2
        exit 1
    fi
    echo "SKIP Zeek plugin tests: zeek-config is not on PATH (install Zeek or set ZEEK_DIST)"
    exit 0
fi

echo "==> building the Zeek plugin against $(zeek-config --version)"
(cd "$shim" && ./configure >/dev/null && make -s -C build -j2 >/dev/null)
export ZEEK_PLUGIN_PATH="$shim/build"

# ENCCHAN_PARITY_DIR (scripts/test-all.sh): keep the runs' logs there for
# scripts/parity.py instead of a temporary directory.
if [ -n "${ENCCHAN_PARITY_DIR:-}" ]; then
    work="$ENCCHAN_PARITY_DIR/zeek"
    rm -rf "$work" && mkdir -p "$work"
else
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
fi
cargo build -q --release -p encchan-cli --manifest-path "$root/Cargo.toml"
encchan="$root/target/release/encchan"

# The ASN allowlist test writes a MaxMind-format ASN database with the
# mmdb-writer package, kept in a virtualenv under target/ (made once).
venv="$root/target/zeek-test-venv"
mmdb_args=()
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import mmdb_writer' 2>/dev/null; then
    echo "==> installing mmdb-writer into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv" && "$venv/bin/pip" install -q 'mmdb-writer==0.2.7' || rm -rf "$venv"
fi
if [ -x "$venv/bin/python" ]; then
    mmdb_args=(--mmdb-python "$venv/bin/python")
fi

python3 "$shim/tests/check.py" --root "$root" --work "$work" --encchan "$encchan" "${mmdb_args[@]}"

# The shim built with AddressSanitizer, preloaded into the real Zeek, over
# the labeled corpus and every 8th shared capture (malformed and truncated
# ones among them): no sanitizer report, no failed run.
echo "==> the Zeek plugin under AddressSanitizer"
(cd "$shim" && ENCCHAN_BUILD_DIR=build-asan ./configure \
    -DCMAKE_CXX_FLAGS="-fsanitize=address -fno-omit-frame-pointer" \
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address" >/dev/null && make -s -C build-asan -j2 >/dev/null)
libasan="$(gcc -print-file-name=libasan.so)"
runs=0
asan_failed=0
mapfile -t pcaps < <(ls "$root"/tests/corpus/pcaps/*.pcap; find "$root/../shared/captures" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.trace' \) 2>/dev/null | sort | awk 'NR % 8 == 0')
for pcap in "${pcaps[@]}"; do
    mkdir -p "$work/asan" && rm -f "$work"/asan/*
    if ! (cd "$work/asan" && LD_PRELOAD="$libasan" ASAN_OPTIONS=detect_leaks=0 ZEEK_PLUGIN_PATH="$shim/build-asan" \
            zeek -C -r "$pcap" "$root/zeek-scripts" >/dev/null 2>"$work/asan.err") ||
        grep -q "AddressSanitizer" "$work/asan.err"; then
        echo "FAIL: ASan run on $pcap:" >&2
        tail -n 30 "$work/asan.err" >&2
        asan_failed=1
    fi
    runs=$((runs + 1))
done
LD_PRELOAD="$libasan" ASAN_OPTIONS=detect_leaks=0 ZEEK_PLUGIN_PATH="$shim/build-asan" zeek -N EncChan::Engine |
    grep -q EncChan::Engine || { echo "FAIL: the ASan build does not load" >&2; asan_failed=1; }
echo "AddressSanitizer: $runs Zeek runs with the instrumented plugin, $([ "$asan_failed" = 0 ] && echo clean || echo FAILED)"
exit "$asan_failed"
