#!/usr/bin/env bash
# Builds the project's Debian packages with dpkg-deb (no packaging tool
# beyond dpkg-dev), into target/debian/:
#
#   encchan             the CLI, its man page and shell completions
#   libencchan<ABI>     the C ABI's shared library (SONAME libencchan.so.<ABI>)
#   libencchan-dev      encchan.h, the libencchan.so link and encchan.pc
#   encchan-suricata7   the Suricata 7.0 plugin built against Debian's
#                       suricata 7.0.10, the rules under /etc/suricata/rules,
#                       the configuration snippet as /etc/suricata/encchan.yaml
#
#   bash scripts/build-debs.sh [--no-suricata]
#
# Install with `apt-get install ./target/debian/*.deb` (apt resolves the
# dependencies: dpkg-shlibdeps computes the libraries'; the plugin depends on
# the exact Suricata release its Packet layout was compiled from).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
suricata=1
[ "${1:-}" = "--no-suricata" ] && suricata=""

command -v dpkg-shlibdeps >/dev/null || { echo "dpkg-dev is needed (apt-get install dpkg-dev)" >&2; exit 2; }
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"
debver="$version-1"
arch="$(dpkg --print-architecture)"
triplet="$(dpkg-architecture -qDEB_HOST_MULTIARCH)"
abi="$(sed -n 's/^pub const ENCCHAN_ABI_VERSION: u32 = \([0-9]*\);/\1/p' crates/encchan-ffi/src/lib.rs)"
out="$root/target/debian"
rm -rf "$out" && mkdir -p "$out"
maintainer="encchan developers <encchan@localhost>"

cargo build -q --release --locked -p encchan-cli -p encchan-ffi
bin="$root/target/release"

# stage NAME: an empty package tree with its doc directory and copyright.
stage() {
    local d="$out/$1"
    mkdir -p "$d/DEBIAN" "$d/usr/share/doc/$1"
    cat > "$d/usr/share/doc/$1/copyright" <<EOF
encchan

Copyright: encchan developers
License: MIT or Apache-2.0, at your option.
EOF
    echo "$d"
}

# shlibs_of TREE FILE...: the Depends dpkg-shlibdeps computes for binaries.
shlibs_of() {
    local tree="$1"
    shift
    mkdir -p "$tree/debian"
    : > "$tree/debian/control"
    (cd "$tree" && dpkg-shlibdeps -O "$@" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
    rm -rf "$tree/debian"
}

# control TREE NAME DEPENDS DESCRIPTION [EXTRA...]
control() {
    local tree="$1" name="$2" depends="$3" description="$4"
    shift 4
    {
        echo "Package: $name"
        echo "Version: $debver"
        echo "Architecture: $arch"
        echo "Maintainer: $maintainer"
        [ -n "$depends" ] && echo "Depends: $depends"
        echo "Section: net"
        echo "Priority: optional"
        echo "Installed-Size: $(du -sk --exclude=DEBIAN "$tree" | cut -f1)"
        for line in "$@"; do echo "$line"; done
        echo "Description: $description"
        echo " encchan finds command-and-control hidden in encrypted channels"
        echo " (MITRE ATT&CK T1573) from network traffic: symmetric-only streams,"
        echo " TLS on unexpected ports, encrypted payload on cleartext ports."
    } > "$tree/DEBIAN/control"
}

build() {
    dpkg-deb --root-owner-group --build "$out/$1" "$out/${1}_${debver}_${arch}.deb" >/dev/null
    echo "$out/${1}_${debver}_${arch}.deb"
}

# --- encchan: the CLI ---
d="$(stage encchan)"
install -D -m 0755 "$bin/encchan" "$d/usr/bin/encchan"
strip --strip-debug "$d/usr/bin/encchan"
if "$bin/encchan" generate man >/dev/null 2>&1; then
    mkdir -p "$d/usr/share/man/man1"
    "$bin/encchan" generate man | gzip -9n > "$d/usr/share/man/man1/encchan.1.gz"
    install -d "$d/usr/share/bash-completion/completions" "$d/usr/share/zsh/vendor-completions" \
        "$d/usr/share/fish/vendor_completions.d"
    "$bin/encchan" generate completions bash > "$d/usr/share/bash-completion/completions/encchan"
    "$bin/encchan" generate completions zsh > "$d/usr/share/zsh/vendor-completions/_encchan"
    "$bin/encchan" generate completions fish > "$d/usr/share/fish/vendor_completions.d/encchan.fish"
fi
gzip -9n < README.md > "$d/usr/share/doc/encchan/README.md.gz"
control "$d" encchan "$(shlibs_of "$d" usr/bin/encchan)" "find C2 in encrypted channels in captures (CLI)"
build encchan

# --- libencchan<ABI> and libencchan-dev: the C ABI ---
lib="libencchan$abi"
d="$(stage "$lib")"
install -D -m 0644 "$bin/libencchan.so" "$d/usr/lib/$triplet/libencchan.so.$abi"
strip --strip-debug "$d/usr/lib/$triplet/libencchan.so.$abi"
echo "libencchan $abi $lib (= $debver)" > "$d/DEBIAN/shlibs"
printf 'activate-noawait ldconfig\n' > "$d/DEBIAN/triggers"
control "$d" "$lib" "$(shlibs_of "$d" "usr/lib/$triplet/libencchan.so.$abi")" \
    "encchan engine, C ABI $abi (shared library)"
build "$lib"

d="$(stage libencchan-dev)"
install -D -m 0644 include/encchan.h "$d/usr/include/encchan.h"
mkdir -p "$d/usr/lib/$triplet/pkgconfig"
ln -s "libencchan.so.$abi" "$d/usr/lib/$triplet/libencchan.so"
cat > "$d/usr/lib/$triplet/pkgconfig/encchan.pc" <<EOF
prefix=/usr
libdir=\${prefix}/lib/$triplet
includedir=\${prefix}/include

Name: encchan
Description: encchan engine: C2 in encrypted channels, caller-owned flow state (C ABI $abi)
Version: $version
Libs: -L\${libdir} -lencchan
Cflags: -I\${includedir}
EOF
control "$d" libencchan-dev "$lib (= $debver)" "encchan engine, C ABI $abi (header, pkg-config)"
build libencchan-dev

# --- encchan-suricata7: the plugin for Debian's Suricata 7.0 ---
if [ -n "$suricata" ]; then
    sv="$(dpkg-query -W -f '${Version}' suricata 2>/dev/null || true)"
    case "$sv" in
        *:7.0.10-*) ;;
        *) echo "encchan-suricata7 needs Debian's suricata 7.0.10 installed (scripts/install-suricata.sh 7); found '${sv:-none}'" >&2
           exit 2 ;;
    esac
    make -s -C crates/encchan-suricata suricata7 >/dev/null
    d="$(stage encchan-suricata7)"
    install -D -m 0644 crates/encchan-suricata/build/encchan-suricata-7.so \
        "$d/usr/lib/$triplet/suricata/plugins/encchan-suricata-7.so"
    strip --strip-debug "$d/usr/lib/$triplet/suricata/plugins/encchan-suricata-7.so"
    install -D -m 0644 suricata-rules/encchan.rules "$d/etc/suricata/rules/encchan.rules"
    # The snippet with the packaged plugin's path: merge it into suricata.yaml.
    sed -e "s#^  - /usr/local/lib/suricata/encchan-suricata-8.so#  - /usr/lib/$triplet/suricata/plugins/encchan-suricata-7.so#" \
        -e "s#^  \# - /usr/local/lib/suricata/encchan-suricata-7.so#  \# (Suricata 7.0: the packaged plugin above)#" \
        suricata-rules/suricata-encchan.yaml > "$d/etc/suricata/encchan.yaml"
    printf '/etc/suricata/rules/encchan.rules\n/etc/suricata/encchan.yaml\n' > "$d/DEBIAN/conffiles"
    upstream="${sv#*:}"
    upstream="${upstream%%-*}"
    control "$d" encchan-suricata7 \
        "suricata (>= ${sv%%:*}:$upstream), suricata (<< ${sv%%:*}:$upstream.1~), $(shlibs_of "$d" "usr/lib/$triplet/suricata/plugins/encchan-suricata-7.so")" \
        "encchan plugin and rules for Suricata 7.0"
    build encchan-suricata7
fi
