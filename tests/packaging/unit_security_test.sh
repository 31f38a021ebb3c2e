#!/usr/bin/env bash
# Checks the systemd unit's hardening: `systemd-analyze security --offline=true` must rate
# its overall exposure at LIMIT (default 2.0) or lower. Exits 77 (skip) only when
# systemd-analyze is not installed (Debian package: systemd).
#   usage: unit_security_test.sh UNIT_FILE [LIMIT]
set -euo pipefail

unit=${1:?usage: $0 UNIT_FILE [LIMIT]}
limit=${2:-2.0}

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "SKIP: systemd-analyze is not installed (apt-get install systemd)"
    exit 77
fi

report=$(systemd-analyze security --offline=true "$unit" 2>&1) || {
    echo "$report"
    echo "FAIL: systemd-analyze security could not analyse $unit"
    exit 1
}
line=$(grep -F 'Overall exposure level' <<<"$report" || true)
score=$(sed -n 's/.*Overall exposure level for [^:]*: *\([0-9][0-9]*\.[0-9]\).*/\1/p' <<<"$line")
if [[ -z $score ]]; then
    echo "$report"
    echo "FAIL: no 'Overall exposure level' line in the report"
    exit 1
fi
# Everything that still counts, for the log.
grep -F '✗' <<<"$report" | sed 's/  */ /g' || true
if awk -v s="$score" -v l="$limit" 'BEGIN { exit !(s + 0 > l + 0) }'; then
    echo "FAIL: exposure $score is above $limit"
    exit 1
fi
echo "PASS: exposure $score (limit $limit)"
