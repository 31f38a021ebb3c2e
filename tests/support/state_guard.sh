#!/usr/bin/env bash
# Issue #15: tests and benchmarks never touch the machine's nodebridge state. Every one of
# them gives the daemon and the Publisher a temporary spool directory; one that forgets
# reaches the built-in default, /var/lib/nodebridge/spool, and (as root) creates or writes
# files there that the installed service later cannot use. This guard sees that from the
# outside, whatever path the test took (a Publisher, a daemon's config, a benchmark):
#   state_guard.sh snapshot FILE   records /var/lib/nodebridge (absent, or every entry's
#                                  type, owner, mode, size and modification time) in FILE
#   state_guard.sh check FILE      fails (exit 1) naming what differs from that record
# CTest runs them before and after every test (tests/CMakeLists.txt); scripts/test and
# scripts/bench around the binaries they run directly.
#   usage: state_guard.sh snapshot|check FILE [DIR]   (DIR: /var/lib/nodebridge)
set -euo pipefail

action=${1:?usage: $0 snapshot|check FILE [DIR]}
record=${2:?usage: $0 snapshot|check FILE [DIR]}
state=${3:-/var/lib/nodebridge}

describe() {
    if [[ -e $state || -L $state ]]; then
        find "$state" -printf '%p %y %u:%g %m %s %T@\n' 2>&1 | LC_ALL=C sort
    else
        echo "absent: $state"
    fi
}

case $action in
    snapshot)
        describe >"$record"
        ;;
    check)
        [[ -f $record ]] || { echo "FAIL: no snapshot $record (run the snapshot first)"; exit 1; }
        if ! difference=$(diff "$record" <(describe)); then
            echo "FAIL: $state changed while the tests ran: a test or benchmark reached the"
            echo "machine's state (give its daemon or Publisher a temporary mqtt.buffer.dir)."
            echo "before (<) and after (>):"
            echo "$difference"
            exit 1
        fi
        echo "$state unchanged: $(head -n 1 "$record")"
        ;;
    *)
        echo "usage: $0 snapshot|check FILE [DIR]" >&2
        exit 64
        ;;
esac
