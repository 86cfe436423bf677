# The set-up macro.sh and instructions.sh share (sourced, not run): paths,
# the Debian packages a script's reference rows need, the release binaries,
# and the mixed capture of a size.

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/benches/results"
work="$root/benches/work"
bin="$root/target/release"
mkdir -p "$out" "$work"

# install_missing PACKAGE:PATH...: apt-installs each package whose PATH is
# not there. Best effort: a tool still missing prints SKIP where it is used.
install_missing() {
    local sudo="" pkg
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    for pkg in "$@"; do
        [ -x "${pkg#*:}" ] || $sudo apt-get install -y -qq "${pkg%%:*}" >/dev/null 2>&1 || true
    done
}

# build_binaries: encchan, mkcapture and the C ABI library, release builds.
build_binaries() {
    cargo build -q --release --locked -p encchan-cli -p encchan-bench -p encchan-ffi --manifest-path "$root/Cargo.toml"
}

# mixed_capture SIZE_MIB: benches/work/mixed-SIZE.pcap, built from
# ../shared/captures and the labeled corpus when it is not there yet.
mixed_capture() {
    local capture="$work/mixed-$1.pcap"
    [ -s "$capture" ] ||
        "$bin/mkcapture" --out "$capture" --size-mib "$1" "$root/tests/corpus/pcaps" "$root/../shared/captures"
    echo "$capture"
}
