#!/usr/bin/env bash
# The Debian package end to end, as a user would meet it:
#   build the .deb from a copy of the source tree (dpkg-buildpackage -b -us -uc), lintian
#   (no errors, no warnings), apt-get install ./nodebridge_*.deb, `systemd-analyze verify`
#   on the installed unit, the installed `nodebridged --check-config` on the installed
#   config, the installed daemon running as user nodebridge against a loopback mosquitto
#   (health goes online, stats arrive, health goes offline on SIGTERM), then purge:
#   /etc/nodebridge and /var/lib/nodebridge are gone, the user nodebridge stays.
# Needs root and dpkg; exits 77 (skip) without them, or when a nodebridge package that this
# test did not install is present (it will not purge someone's real installation).
#   usage: deb_test.sh SOURCE_DIR
# With NODEBRIDGE_TEST_DEBS=DIR it takes the .debs already built in DIR instead of building.
set -euo pipefail

source_dir=$(cd "${1:?usage: $0 SOURCE_DIR}" && pwd)
marker=/var/tmp/nodebridge-packaging-test.installed
packages=(nodebridge nodebridge-sim)

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
step() { echo "== $*"; }
installed() { dpkg-query -W -f='${Status}\n' "${packages[@]}" 2>/dev/null | grep -q 'ok installed'; }

[[ $(id -u) -eq 0 ]] || skip "needs root (dpkg-buildpackage, apt-get, runuser)"
for tool in dpkg dpkg-buildpackage dh lintian apt-get runuser flock systemd-analyze mosquitto \
    mosquitto_sub; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed (see scripts/deps)"
done
# One run at a time on a machine, even from different build trees: they share dpkg's state.
exec 9>/var/tmp/nodebridge-packaging-test.lock
flock -w 1500 9 || fail "another packaging test holds /var/tmp/nodebridge-packaging-test.lock"

if installed; then
    [[ -e $marker ]] || skip "nodebridge is installed on this machine and this test did not install it"
    echo "purging the packages left by an interrupted run of this test"
    apt-get purge -y -qq "${packages[@]}" >/dev/null
    rm -f "$marker"
fi

work=$(mktemp -d /tmp/nodebridge-deb.XXXXXX)
chmod 0755 "$work"  # the daemon reads its test config here as user nodebridge
pids=()
cleanup() {
    local pid child
    for pid in "${pids[@]}"; do
        # Children first (runuser's nodebridged), or they outlive their killed parent.
        for child in $(cat "/proc/$pid/task/$pid/children" 2>/dev/null); do
            kill -KILL "$child" 2>/dev/null || true
        done
        kill -KILL "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [[ -e $marker ]]; then
        apt-get purge -y -qq "${packages[@]}" >/dev/null 2>&1 || true
        rm -f "$marker"
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# Waits up to $1 seconds for the command after it to succeed.
wait_for() {
    local seconds=$1
    shift
    local deadline=$((SECONDS + seconds))
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

if [[ -n ${NODEBRIDGE_TEST_DEBS:-} ]]; then
    step "take the .debs in $NODEBRIDGE_TEST_DEBS"
    cp "$NODEBRIDGE_TEST_DEBS"/nodebridge_*.deb "$NODEBRIDGE_TEST_DEBS"/nodebridge-sim_*.deb "$work"/
else
    step "build the .deb from a copy of $source_dir"
    mkdir "$work/src"
    tar -C "$source_dir" --exclude='./.git' --exclude='./build*' --exclude='./obj-*' \
        --exclude='./debian/.debhelper' --exclude='./debian/tmp' -cf - . | tar -C "$work/src" -xf -
    (cd "$work/src" &&
        DEB_BUILD_OPTIONS="parallel=$(nproc) noddebs nocheck" dpkg-buildpackage -b -us -uc \
            >"$work/build.log" 2>&1) || {
        tail -50 "$work/build.log"
        fail "dpkg-buildpackage failed"
    }
fi
debs=("$work"/nodebridge_*.deb "$work"/nodebridge-sim_*.deb)
for deb in "${debs[@]}"; do [[ -f $deb ]] || fail "not built: $deb"; done
ls -l "$work"/*.deb

step "lintian"
lintian_out=$(lintian --fail-on error,warning "${debs[@]}" 2>&1) || {
    echo "$lintian_out"
    fail "lintian reports errors or warnings"
}
echo "$lintian_out"
if grep -E '^[EW]: ' <<<"$lintian_out"; then fail "lintian reports errors or warnings"; fi

step "apt-get install ./nodebridge_*.deb"
touch "$marker"
(cd "$work" && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    ./"$(basename "${debs[0]}")" ./"$(basename "${debs[1]}")") || fail "apt-get install failed"
[[ -x /usr/sbin/nodebridged ]] || fail "no /usr/sbin/nodebridged"
[[ -x /usr/bin/nodebridge-sim ]] || fail "no /usr/bin/nodebridge-sim"
[[ -f /lib/systemd/system/nodebridge.service ]] || fail "no systemd unit"
[[ -d /etc/nodebridge/conf.d ]] || fail "no /etc/nodebridge/conf.d"
dpkg-query -W -f='${Conffiles}\n' nodebridge | grep -q '/etc/nodebridge/nodebridge.yaml' ||
    fail "/etc/nodebridge/nodebridge.yaml is not a conffile"
ls /usr/share/doc/nodebridge/examples/*.yaml >/dev/null || fail "no examples"
for model in "$source_dir"/models/*.yaml; do
    cmp -s "$model" "/usr/share/nodebridge/models/$(basename "$model")" ||
        fail "the library model $(basename "$model") is not installed in /usr/share/nodebridge/models"
done
for page in man8/nodebridged.8.gz man5/nodebridge.yaml.5.gz man1/nodebridge-sim.1.gz; do
    [[ -f /usr/share/man/$page ]] || fail "no man page $page"
done
getent passwd nodebridge >/dev/null || fail "no user nodebridge"
id -nG nodebridge | tr ' ' '\n' | grep -qx dialout || fail "nodebridge is not in group dialout"
[[ $(stat -c %U:%G /var/lib/nodebridge) == nodebridge:nodebridge ]] ||
    fail "/var/lib/nodebridge is not owned by nodebridge"

step "systemd-analyze verify on the installed unit (directives, binaries, man pages)"
verify_out=$(systemd-analyze verify /lib/systemd/system/nodebridge.service 2>&1) &&
    [[ -z $verify_out ]] || { echo "$verify_out"; fail "systemd-analyze verify complains"; }

step "installed nodebridged --check-config on the installed config"
/usr/sbin/nodebridged --check-config -c /etc/nodebridge/nodebridge.yaml ||
    fail "the shipped config does not pass --check-config"
runuser -u nodebridge -- /usr/sbin/nodebridged --check-config -c /etc/nodebridge/nodebridge.yaml \
    >/dev/null || fail "user nodebridge cannot check the shipped config"

step "a loopback mosquitto on a free port"
port=""
for _ in $(seq 1 20); do
    candidate=$((20000 + RANDOM % 30000))
    cat >"$work/mosquitto.conf" <<CONF
listener $candidate 127.0.0.1
allow_anonymous true
persistence false
CONF
    chmod 0644 "$work/mosquitto.conf"
    mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
    broker=$!
    if wait_for 5 grep -q "listen socket on port $candidate" "$work/mosquitto.log" &&
        kill -0 "$broker" 2>/dev/null; then
        pids+=("$broker")
        port=$candidate
        break
    fi
    kill -KILL "$broker" 2>/dev/null || true
    wait "$broker" 2>/dev/null || true
done
[[ -n $port ]] || { cat "$work/mosquitto.log"; fail "mosquitto did not start"; }
echo "broker on 127.0.0.1:$port"

step "the installed daemon as user nodebridge, with the installed settings on port $port"
mkdir -p "$work/etc/conf.d"
sed -E "s/^(  port:) 1883\$/\1 $port/; s/^(  host:) localhost\$/\1 127.0.0.1/" \
    /etc/nodebridge/nodebridge.yaml >"$work/etc/nodebridge.yaml"
grep -q "^  port: $port\$" "$work/etc/nodebridge.yaml" || fail "could not set the port in the config copy"
chmod -R a+rX "$work/etc"
runuser -u nodebridge -- /usr/sbin/nodebridged -c "$work/etc/nodebridge.yaml" \
    >"$work/daemon.log" 2>&1 &
runuser=$!
pids+=("$runuser")
# nodebridged's pid: runuser's child (runuser waits for it and passes its exit status on).
daemon_pid() {
    local child
    child=$(awk '{print $1}' "/proc/$runuser/task/$runuser/children" 2>/dev/null)
    [[ -n $child && $(cat "/proc/$child/comm" 2>/dev/null) == nodebridged ]] && echo "$child"
}
wait_for 10 daemon_pid >/dev/null || { cat "$work/daemon.log"; fail "nodebridged did not start"; }
daemon=$(daemon_pid)
user=$(stat -c %U "/proc/$daemon")
[[ $user == nodebridge ]] || fail "nodebridged runs as $user, not nodebridge"
echo "nodebridged (pid $daemon) runs as $user"

health=$(mosquitto_sub -h 127.0.0.1 -p "$port" -t 'nodebridge/+/status' -v -C 1 -W 10) || {
    cat "$work/daemon.log"
    fail "no health message within 10 s"
}
echo "health: $health"
[[ $health == *" online" ]] || fail "health is not online: $health"

stats=$(mosquitto_sub -h 127.0.0.1 -p "$port" -t 'nodebridge/+/stats' -v -C 1 -W 20) || {
    cat "$work/daemon.log"
    fail "no stats message within 20 s"
}
echo "stats: ${stats:0:300}"
[[ $stats == *'"uptime_s"'* && $stats == *'"version"'* ]] || fail "stats lack uptime_s/version"

kill -TERM "$daemon"
wait_for 15 bash -c "! kill -0 $runuser 2>/dev/null" || fail "nodebridged did not stop on SIGTERM"
status=0
wait "$runuser" || status=$?
[[ $status -eq 0 ]] || { cat "$work/daemon.log"; fail "nodebridged exited $status on SIGTERM"; }
health=$(mosquitto_sub -h 127.0.0.1 -p "$port" -t 'nodebridge/+/status' -v -C 1 -W 10) ||
    fail "no retained health message after stop"
[[ $health == *" offline" ]] || fail "health is not offline after SIGTERM: $health"
echo "health after SIGTERM: $health"

step "apt-get purge"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${packages[@]}" >/dev/null ||
    fail "apt-get purge failed"
rm -f "$marker"
! installed || fail "a package is still installed after purge"
[[ ! -e /etc/nodebridge ]] || fail "/etc/nodebridge is left after purge: $(ls -A /etc/nodebridge)"
[[ ! -e /var/lib/nodebridge ]] || fail "/var/lib/nodebridge is left after purge"
[[ ! -e /usr/sbin/nodebridged ]] || fail "/usr/sbin/nodebridged is left after purge"
getent passwd nodebridge >/dev/null || fail "purge removed the nodebridge user (it must stay)"

echo "PASS: built, lintian-clean, installed, ran as nodebridge, purged"
