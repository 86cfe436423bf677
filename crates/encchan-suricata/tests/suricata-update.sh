#!/usr/bin/env bash
# suricata-update takes the rules as a local source, the README's way
# (`add-source encchan file://…`), in a scratch data directory: every sid of
# each verdict rules file must come out enabled in suricata.rules. The
# snippet (suricata-encchan.yaml) is the Suricata configuration, so a rule
# whose variable the snippet lacks would come out disabled. No network: the
# source is a file, and no index is fetched for a named source.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
suricata="${1:?usage: suricata-update.sh SURICATA}"
if ! command -v suricata-update >/dev/null 2>&1; then
    echo "SKIP suricata-update: not installed (Debian's comes with suricata)"
    [ -z "${ENCCHAN_CI:-}" ] || exit 1
    exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The snippet with the header a configuration file needs.
{ printf '%%YAML 1.1\n---\n'; cat "$root/suricata-rules/suricata-encchan.yaml"; } >"$work/suricata.yaml"
passed=0 failed=0
for f in encchan.rules encchan-keyword.rules; do
    d="$work/$f"
    mkdir -p "$d"
    suricata-update -D "$d/data" add-source encchan "file://$root/suricata-rules/$f" >"$d/log" 2>&1
    if ! suricata-update -D "$d/data" -c /dev/null --suricata "$suricata" \
            --suricata-conf "$work/suricata.yaml" \
            --no-test --no-reload -o "$d/out" >>"$d/log" 2>&1; then
        echo "FAIL suricata-update with $f: $(tail -n 5 "$d/log")" >&2
        failed=$((failed + 1)); continue
    fi
    want=$(grep -o '^alert.*sid:[0-9]*;' "$root/suricata-rules/$f" | grep -o 'sid:[0-9]*' | sort)
    got=$(grep -o '^alert.*sid:9573[0-9]*;' "$d/out/suricata.rules" | grep -o 'sid:[0-9]*' | sort)
    if [ -n "$want" ] && [ "$want" = "$got" ]; then
        passed=$((passed + 1))
    else
        echo "FAIL suricata-update with $f: enabled sids $(echo $got) instead of $(echo $want)" >&2
        grep -i 'disabled' "$d/log" >&2 || true
        failed=$((failed + 1))
    fi
done
echo "suricata-update: $passed passed, $failed failed"
[ "$failed" = 0 ]
