#!/usr/bin/env bash
# Installs the two Suricata lines the plugin is tested against:
#   7.0.10  from Debian bookworm-backports (package `suricata`, LuaJIT and
#           plugin support built in, /usr/bin/suricata);
#           plus its source (the same version, Debian's orig tarball) configured
#           under $SURICATA7_SRC (default /opt/src/suricata7/suricata-7.0.x):
#           7.0 installs no headers, and the plugin compiles against these;
#   8.0.x   built from Debian's source package (trixie-backports) under
#           $SURICATA8_PREFIX (default /opt/suricata8) with its headers and
#           libsuricata-config; reused when already there.
# Usage: scripts/install-suricata.sh [7|8|all]   (default: all)
# Needs root (apt). Safe to re-run.
set -euo pipefail

what="${1:-all}"
prefix8="${SURICATA8_PREFIX:-/opt/suricata8}"
src8="${SURICATA8_SRC:-/opt/src/suricata8}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

# The Debian archive this machine's apt already uses (the URI of its
# release's own suite, in sources.list or sources.list.d/*.sources, as apt
# itself lists it): the script names no archive host of its own.
archive_uri() {
    local codename
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
        awk -v c="$codename" '$2 == c { sub(/\/+$/, "", $1); print $1; exit }'
}

add_sources() {
    local f=/etc/apt/sources.list.d/encchan-suricata.sources uri
    [ -f "$f" ] && return 0
    uri=$(archive_uri)
    [ -n "$uri" ] || { echo "no Debian archive in apt's sources to add backports from" >&2; return 1; }
    $SUDO tee "$f" >/dev/null <<SRC
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: $uri
Suites: trixie-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    $SUDO apt-get update -qq
}

install7() {
    if ! suricata -V 2>/dev/null | grep -q 'version 7\.0\.'; then
        add_sources
        echo "==> installing suricata 7.0 from bookworm-backports"
        # The package enables a systemd unit; tests run suricata -r themselves.
        $SUDO apt-get install -y -qq -t bookworm-backports suricata >/dev/null
    fi
    local v
    v=$(suricata -V | sed -n 's/.*version \(7\.0\.[0-9]*\).*/\1/p')
    echo "==> Suricata 7: $v"
    local src="${SURICATA7_SRC:-/opt/src/suricata7/suricata-$v}"
    if [ -f "$src/src/autoconf.h" ]; then
        return 0
    fi
    # Headers for the plugin: the same release's source, configured the way
    # the package's features need (libhtp from backports, like the binary).
    $SUDO apt-get install -y -qq --no-install-recommends build-essential pkg-config curl xz-utils \
        libpcap-dev libpcre2-dev libyaml-dev libjansson-dev libmagic-dev zlib1g-dev \
        libcap-ng-dev liblz4-dev libnet1-dev >/dev/null
    $SUDO apt-get install -y -qq -t bookworm-backports libhtp-dev >/dev/null
    mkdir -p "$(dirname "$src")"
    (
        cd "$(dirname "$src")"
        [ -f "suricata_$v.orig.tar.xz" ] ||
            curl -fsS -o "suricata_$v.orig.tar.xz" "$(archive_uri)/pool/main/s/suricata/suricata_$v.orig.tar.xz"
        tar xJf "suricata_$v.orig.tar.xz"
        cd "suricata-$v"
        echo "==> configuring Suricata $v's source for the plugin's headers (no build)"
        ./configure --disable-gccmarch-native --enable-non-bundled-htp >/dev/null
    )
}

# Debian's source package: `apt-get source` fetches .dsc + orig + debian
# tarballs; the pool sometimes lists a newer version than it still holds, so
# fall back to the orig tarballs one by one, newest first.
fetch8() {
    mkdir -p "$src8"
    cd "$src8"
    local dir
    dir=$(find . -maxdepth 1 -type d -name 'suricata-8.0.*' | sort -V | tail -n 1)
    if [ -n "$dir" ]; then echo "$dir"; return 0; fi
    add_sources
    $SUDO apt-get install -y -qq dpkg-dev curl >/dev/null
    if apt-get source --download-only suricata >/dev/null 2>&1; then
        local orig
        orig=$(ls suricata_8.0.*.orig.tar.* 2>/dev/null | sort -V | tail -n 1)
        [ -n "$orig" ] && tar xf "$orig"
    else
        local v
        for v in $(apt-cache showsrc suricata | sed -n 's/^Version: 1:\(8\.0\.[0-9]*\)-.*/\1/p' | sort -Vru) 8.0.7; do
            if curl -fsS -o "suricata_$v.orig.tar.gz" \
                "$(archive_uri)/pool/main/s/suricata/suricata_$v.orig.tar.gz"; then
                tar xzf "suricata_$v.orig.tar.gz"
                break
            fi
            rm -f "suricata_$v.orig.tar.gz"
        done
    fi
    dir=$(find . -maxdepth 1 -type d -name 'suricata-8.0.*' | sort -V | tail -n 1)
    [ -n "$dir" ] || { echo "no Suricata 8.0 source could be fetched" >&2; return 1; }
    echo "$dir"
}

install8() {
    if [ -x "$prefix8/bin/suricata" ] && [ -x "$prefix8/bin/libsuricata-config" ]; then
        echo "==> Suricata 8: $("$prefix8/bin/suricata" -V) (cached in $prefix8)"
        return 0
    fi
    add_sources
    $SUDO apt-get install -y -qq --no-install-recommends build-essential pkg-config \
        libpcap-dev libpcre2-dev libyaml-dev libjansson-dev libmagic-dev zlib1g-dev \
        libcap-ng-dev liblz4-dev libnet1-dev >/dev/null
    local dir
    dir=$(fetch8 | tail -n 1)
    cd "$src8/$dir"
    echo "==> building Suricata $dir into $prefix8 (vendored crates, offline; ~15 min on 2 cores)"
    # The machine's rustup toolchain (Rust >= 1.75) builds the vendored crates.
    ./configure --prefix="$prefix8" --sysconfdir="$prefix8/etc" --localstatedir="$prefix8/var" \
        --disable-gccmarch-native >/dev/null
    make -j"$(nproc)" >/dev/null
    make install install-headers install-library >/dev/null
    "$prefix8/bin/suricata" -V
}

case "$what" in
    7) install7 ;;
    8) install8 ;;
    all) install7; install8 ;;
    *) echo "usage: $0 [7|8|all]" >&2; exit 2 ;;
esac
