#!/usr/bin/env bash
# `zkg install` of this checkout into a throwaway zkg state (zkg.meta's build
# command), then the installed package is loaded the way zkg users load it:
# zeek -N lists the plugin, and `zeek -r` with the package name judges a
# symmetric-only corpus capture. zkg's own test run (`zkg test`) is
# cpp-shim/tests/run.sh, which the test command runs anyway.
# Needs Zeek (zeek-config on PATH) and zkg (Debian package zkg); prints one
# SKIP line without them.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
if ! command -v zeek-config >/dev/null 2>&1; then
    if [ -n "${ENCCHAN_CI:-}" ]; then
        echo "zkg install test: zeek-config is missing in CI" >&2
        exit 1
    fi
    echo "SKIP zkg install test: zeek-config is not on PATH"
    exit 0
fi
if ! command -v zkg >/dev/null 2>&1; then
    if [ -n "${ENCCHAN_CI:-}" ]; then
        echo "zkg install test: zkg is missing in CI" >&2
        exit 1
    fi
    echo "SKIP zkg install test: zkg is not installed (apt-get install zkg)"
    exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# zkg installs a git repository: a clone of the working tree's HEAD.
git clone -q "$root" "$work/encchan"
cat > "$work/config" <<CFG
[sources]
[paths]
state_dir = $work/state
script_dir = $work/scripts
plugin_dir = $work/plugins
bin_dir = $work/bin
CFG
zkg --configfile "$work/config" install --force --skiptests "$work/encchan" >"$work/zkg.log" 2>&1 ||
    { cat "$work/zkg.log" >&2; echo "FAIL: zkg install" >&2; exit 1; }
export ZEEK_PLUGIN_PATH="$work/plugins"
zeek -N EncChan::Engine | grep -q "EncChan::Engine" || { echo "FAIL: zeek -N after zkg install" >&2; exit 1; }
mkdir "$work/run" && cd "$work/run"
ZEEKPATH="$(zeek-config --zeekpath):$work/scripts" zeek -C -r "$root/tests/corpus/pcaps/rc4_nc.pcap" encchan
grep -q "symmetric_only" encchan.log || { echo "FAIL: no symmetric_only verdict from the zkg-installed package" >&2; exit 1; }
echo "zkg install: built, listed by zeek -N, loaded as package 'encchan', verdicts logged"
