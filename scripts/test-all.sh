#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, the Rust workspace
# (core, C ABI with its C program under valgrind, bindgen check, CLI), and
# the integration tests against real tools when they are installed.
#
# Installs its Debian dependencies when they are missing (needs root or
# sudo); set ENCCHAN_NO_INSTALL=1 to skip that.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(libclang-dev clang valgrind tcpdump chromium)
missing=()
for p in "${apt_packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ] && [ -z "${ENCCHAN_NO_INSTALL:-}" ]; then
    echo "==> installing ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "==> cargo test --workspace"
cargo test --workspace --locked

# The HTML report of the corpus rendered in headless Chromium (SKIP without
# chromium, a failure in CI); regenerates docs/report.png.
echo "==> report in headless Chromium"
bash scripts/test-report.sh

# The Zeek and Suricata suites keep their runs here for the parity test
# (scripts/parity.py) instead of running every sensor again.
ENCCHAN_PARITY_DIR="$(mktemp -d)"
export ENCCHAN_PARITY_DIR
trap 'rm -rf "$ENCCHAN_PARITY_DIR"' EXIT

# Zeek plugin against a real Zeek (skips with a SKIP line when zeek-config
# is not on PATH and ZEEK_DIST is unset).
echo "==> Zeek plugin"
bash cpp-shim/tests/run.sh
bash cpp-shim/tests/zkg.sh

# Suricata plugin against real Suricata 7.0 and 8.0 (each skips with a
# SKIP line when absent; scripts/install-suricata.sh installs them).
echo "==> Suricata plugin"
bash crates/encchan-suricata/tests/run.sh

# The Debian packages (scripts/build-debs.sh): installed with apt, the CLI,
# the library through pkg-config and Debian's Suricata with the packaged
# plugin and rules, then purged without a file left.
echo "==> Debian packages"
bash tests/debs.sh

# Parity across front ends: the flows the CLI alerts on get the same alert
# names in Zeek's logs and in Suricata 7.0's and 8.0's rule alerts; every
# difference is listed with its reason in tests/parity-exceptions.tsv.
echo "==> parity across front ends"
python3 scripts/parity.py --reuse "$ENCCHAN_PARITY_DIR" --work "$ENCCHAN_PARITY_DIR/parity" \
    --out "$ENCCHAN_PARITY_DIR/parity.md" >/dev/null

# Live capture, briefly (benches/live.sh without --quick has the rate steps,
# the soak and the faults): Suricata 7.0 with the plugin on a veth pair in a
# network namespace of its own: no packet dropped, and the live run's alerts
# are the alerts of the same capture read from the file.
if [ "$(id -u)" -eq 0 ] && ip netns list >/dev/null 2>&1; then
    echo "==> live capture (quick)"
    bash benches/live.sh --quick
elif [ -n "${ENCCHAN_CI:-}" ]; then
    echo "the live capture check needs root and network namespaces in CI" >&2
    exit 1
else
    echo "SKIP live capture: needs root and network namespaces (ip netns)"
fi

# Fuzz every target briefly (the long runs are in the README). cargo fuzz
# needs nightly features; RUSTC_BOOTSTRAP lets the stable toolchain build
# with them.
if command -v cargo-fuzz >/dev/null 2>&1; then
    seconds="${ENCCHAN_FUZZ_SECONDS:-10}"
    echo "==> cargo fuzz: each target ${seconds}s"
    (
        cd fuzz
        export RUSTC_BOOTSTRAP=1
        cargo fuzz build -O
        for target in $(cargo fuzz list); do
            # Start from the committed minimized seeds (fuzz/seeds/, from the
            # campaigns): every seed is replayed first, then new inputs go to
            # the git-ignored corpus/.
            mkdir -p "corpus/$target"
            seeds=()
            [ -d "seeds/$target" ] && seeds=("seeds/$target")
            cargo fuzz run -O "$target" "corpus/$target" "${seeds[@]}" -- \
                -max_total_time="$seconds" -max_len=8192 2>&1 | tail -n 1
        done
    )
elif [ -n "${ENCCHAN_CI:-}" ]; then
    echo "cargo-fuzz is missing in CI" >&2
    exit 1
else
    echo "SKIP fuzzing: cargo-fuzz is not installed (cargo install cargo-fuzz)"
fi
