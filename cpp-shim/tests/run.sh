#!/usr/bin/env bash
# Tests the Zeek plugin against a real Zeek: it loads (zeek -N), its verdicts
# on the labeled corpus match the labels, its entropy figures equal the CLI's
# for the same flows, and no Symmetric_Only_Channel notice is raised on flows
# of known protocols in the shared captures.
#
# Zeek is found through zeek-config on PATH, or $ZEEK_DIST/bin. Without it
# this prints one SKIP line and exits 0, unless ENCCHAN_REQUIRE_ZEEK is set.
set -euo pipefail
shim="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$shim/.." && pwd)"

if ! command -v zeek-config >/dev/null 2>&1 && [ -n "${ZEEK_DIST:-}" ]; then
    export PATH="$ZEEK_DIST/bin:$PATH"
fi
if ! command -v zeek-config >/dev/null 2>&1; then
    if [ -n "${ENCCHAN_REQUIRE_ZEEK:-}" ]; then
        echo "Zeek plugin tests: zeek-config not found and ENCCHAN_REQUIRE_ZEEK is set" >&2
        exit 1
    fi
    echo "SKIP Zeek plugin tests: zeek-config is not on PATH (install Zeek or set ZEEK_DIST)"
    exit 0
fi

echo "==> building the Zeek plugin against $(zeek-config --version)"
(cd "$shim" && ./configure >/dev/null && make -s -C build -j2 >/dev/null)
export ZEEK_PLUGIN_PATH="$shim/build"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cargo build -q --release -p encchan-cli --manifest-path "$root/Cargo.toml"
encchan="$root/target/release/encchan"

python3 "$shim/tests/check.py" --root "$root" --work "$work" --encchan "$encchan"
