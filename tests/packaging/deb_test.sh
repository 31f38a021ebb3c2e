#!/usr/bin/env bash
# The Debian package end to end, as an admin would meet it, under a real systemd:
#   build the .deb from a copy of the source tree (dpkg-buildpackage -b -us -uc), lintian
#   (no errors, no warnings), apt-get install ./nodebridge_*.deb over a spool a root run left
#   behind (issue #15), `systemd-analyze verify` on the installed unit, the installed
#   `nodebridged --check-config` on the installed config; then systemd boots as PID 1 of its
#   own PID, mount and cgroup namespace, and through `nsenter ... systemctl`/`journalctl`:
#   the service starts enabled and becomes active through READY with a STATUS line naming
#   the broker and the nodes online; readings from nodebridge-sim reach a subscriber with
#   the conf.d file of the README; `systemctl reload` applies a changed file and keeps the
#   old config (saying why in the journal) on a broken one; the MQTT password comes from
#   LoadCredential= with a broker that requires it; the journal holds NODEBRIDGE_* fields;
#   `kill -STOP` gets a watchdog restart; the spool belongs to nodebridge and a QoS 1 stream
#   survives a broker outage with a service restart in it; a spool the service cannot write
#   is loud (STATUS, journal, ExecStartPre); `systemctl stop` publishes the offline payload;
#   `apt-get purge` leaves nothing behind (the user nodebridge stays).
# Needs root and dpkg; exits 77 (skip) without them, or when a nodebridge package (or
# /var/lib/nodebridge) that this test did not install is present (it will not purge
# someone's real installation). A systemd that does not boot is a failure, not a skip.
# The test's systemd only runs what the test needs: the services and timers the machine
# enables are masked for it (in its own /run), and it is killed at the end whatever happens.
#   usage: deb_test.sh SOURCE_DIR
# With NODEBRIDGE_TEST_DEBS=DIR it takes the .debs already built in DIR instead of building.
set -euo pipefail

source_dir=$(cd "${1:?usage: $0 SOURCE_DIR}" && pwd)
marker=/var/tmp/nodebridge-packaging-test.installed
packages=(nodebridge nodebridge-sim)
state=/var/lib/nodebridge
gateway=gw-01  # the shipped config's

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
step() { echo "== $*"; }
installed() { dpkg-query -W -f='${Status}\n' "${packages[@]}" 2>/dev/null | grep -q 'ok installed'; }

[[ $(id -u) -eq 0 ]] || skip "needs root (dpkg-buildpackage, apt-get, runuser, unshare)"
[[ -x /lib/systemd/systemd ]] || skip "no /lib/systemd/systemd (apt-get install systemd)"
for tool in dpkg dpkg-buildpackage dh lintian apt-get runuser flock systemd-analyze mosquitto \
    mosquitto_sub mosquitto_passwd unshare nsenter timeout curl; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed (see scripts/deps)"
done
# One run at a time on a machine, even from different build trees: they share dpkg's state.
exec 9>/var/tmp/nodebridge-packaging-test.lock
flock -w 1500 9 || fail "another packaging test holds /var/tmp/nodebridge-packaging-test.lock"

if installed || [[ -e $state ]]; then
    [[ -e $marker ]] ||
        skip "nodebridge (or $state) is on this machine and this test did not install it"
    echo "purging the packages left by an interrupted run of this test"
    apt-get purge -y -qq "${packages[@]}" >/dev/null 2>&1 || true
    rm -rf "$state"
    rm -f "$marker"
fi

work=$(mktemp -d /tmp/nodebridge-deb.XXXXXX)
chmod 0755 "$work"  # the daemon reads its test config here as user nodebridge
pids=()
unshare_pid=""  # unshare, whose child is the test's systemd
sd=""           # that systemd (PID 1 in its namespace), as this machine sees it
cleanup() {
    local pid child
    # The test's systemd first, whatever happened: killing PID 1 ends its whole PID
    # namespace (the service included) and with it the mount namespace.
    if [[ -n $sd ]]; then
        kill -KILL "$sd" 2>/dev/null || true
        timeout 10 tail --pid="$sd" -f /dev/null 2>/dev/null || true
    fi
    if [[ -n $unshare_pid ]]; then
        kill -KILL "$unshare_pid" 2>/dev/null || true
        wait "$unshare_pid" 2>/dev/null || true
    fi
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
        rm -rf "$state"  # what this test made before the install, if that failed
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

step "a spool a root run left behind (issue #15): the built nodebridged run as root first"
touch "$marker"
dpkg-deb -x "${debs[0]}" "$work/root-run"
printf 'gateway: gw\nmqtt: { host: 127.0.0.1, port: 9, buffer: { dir: %s/spool } }\n' "$state" \
    >"$work/root-run.yaml"
"$work/root-run/usr/sbin/nodebridged" -c "$work/root-run.yaml" >"$work/root-run.log" 2>&1 &
root_run=$!
pids+=("$root_run")
wait_for 10 test -e "$state/spool/lock" || { cat "$work/root-run.log"; fail "the root run made no spool"; }
kill -TERM "$root_run"
wait_for 15 bash -c "! kill -0 $root_run 2>/dev/null" || fail "the root run did not stop"
[[ -n $(find "$state/spool" -user root -name lock) ]] || fail "the root run left no root-owned lock"
ls -la "$state/spool"

step "apt-get install ./nodebridge_*.deb"
(cd "$work" && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    ./"$(basename "${debs[0]}")" ./"$(basename "${debs[1]}")") || fail "apt-get install failed"
[[ -x /usr/sbin/nodebridged ]] || fail "no /usr/sbin/nodebridged"
[[ -x /usr/bin/nodebridge-sim ]] || fail "no /usr/bin/nodebridge-sim"
[[ -x /usr/bin/nodebridge ]] || fail "no /usr/bin/nodebridge (the commissioning command)"
[[ -f /usr/share/man/man1/nodebridge.1.gz ]] || fail "no nodebridge(1) man page"
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
not_owned=$(find "$state" \! -user nodebridge)
[[ -z $not_owned ]] || fail "postinst left files in $state not owned by nodebridge: $not_owned"

step "systemd-analyze verify on the installed unit (directives, binaries, man pages)"
verify_out=$(systemd-analyze verify /lib/systemd/system/nodebridge.service 2>&1) &&
    [[ -z $verify_out ]] || { echo "$verify_out"; fail "systemd-analyze verify complains"; }

step "installed nodebridged --check-config on the installed config"
/usr/sbin/nodebridged --check-config -c /etc/nodebridge/nodebridge.yaml ||
    fail "the shipped config does not pass --check-config"
check_out=$(runuser -u nodebridge -- /usr/sbin/nodebridged --check-config \
    -c /etc/nodebridge/nodebridge.yaml 2>&1 >/dev/null) || fail "user nodebridge cannot check the shipped config"
# The spool a root run left is the service user's now: no warning about it (issue #15).
[[ $check_out != *"spool:"* ]] || fail "user nodebridge cannot use the installed spool: $check_out"

step "a loopback mosquitto on a free port that requires a password"
broker_password=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
mkdir -m 0700 "$work/broker"
reader_password=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
mosquitto_passwd -b -c "$work/broker/passwd" nodebridge "$broker_password" >/dev/null 2>&1 &&
    mosquitto_passwd -b "$work/broker/passwd" reader "$reader_password" >/dev/null 2>&1 ||
    fail "mosquitto_passwd failed"
port=""
# Starts the broker on $1 (persistent, so a subscriber's session outlives a restart); true
# once it listens. Sets $broker.
start_broker() {
    cat >"$work/broker/mosquitto.conf" <<CONF
listener $1 127.0.0.1
allow_anonymous false
password_file $work/broker/passwd
persistence true
persistence_location $work/broker/
user root
CONF
    local from
    touch "$work/broker/log"
    from=$(($(wc -l <"$work/broker/log") + 1))
    mosquitto -c "$work/broker/mosquitto.conf" >>"$work/broker/log" 2>&1 &
    broker=$!
    listening() { tail -n +"$from" "$work/broker/log" | grep -q "listen socket on port $1"; }
    if wait_for 5 listening "$1" &&
        kill -0 "$broker" 2>/dev/null; then
        pids+=("$broker")
        return 0
    fi
    kill -KILL "$broker" 2>/dev/null || true
    wait "$broker" 2>/dev/null || true
    return 1
}
for _ in $(seq 1 20); do
    candidate=$((20000 + RANDOM % 30000))
    if start_broker "$candidate"; then
        port=$candidate
        break
    fi
done
[[ -n $port ]] || { cat "$work/broker/log"; fail "mosquitto did not start"; }
echo "broker on 127.0.0.1:$port (user nodebridge, password required)"
mqtt=(-h 127.0.0.1 -p "$port" -u reader -P "$reader_password")
mosquitto_pub -h 127.0.0.1 -p "$port" -t probe -m x 2>/dev/null &&
    fail "the broker accepts clients without a password: the credential check would prove nothing"

step "the simulator: a Modbus TCP power strip (nodebridge-sim, as the README runs it)"
nodebridge-sim modbus-tcp --port 0 >"$work/sim.out" 2>"$work/sim.err" &
pids+=($!)
wait_for 10 grep -q '^ready ' "$work/sim.out" || { cat "$work/sim.err"; fail "nodebridge-sim is not ready"; }
sim_port=$(sed -nE 's/^ready modbus-tcp 127\.0\.0\.1:([0-9]+) .*/\1/p' "$work/sim.out")
[[ -n $sim_port ]] || fail "no port in the simulator's ready line: $(cat "$work/sim.out")"
echo "simulator on 127.0.0.1:$sim_port"

step "configure as the README says: the broker and credential in nodebridge.yaml, the device in conf.d"
# The broker: host and port, user, and the password from the credential (README, "Configure").
sed -i -E "s/^(  host:) localhost\$/\1 127.0.0.1/; s/^(  port:) 1883\$/\1 $port/; \
s/^  # username: nodebridge\$/  username: nodebridge\n  password_credential: mqtt-password/" \
    /etc/nodebridge/nodebridge.yaml
grep -q "^  port: $port\$" /etc/nodebridge/nodebridge.yaml &&
    grep -q "^  password_credential: mqtt-password\$" /etc/nodebridge/nodebridge.yaml ||
    fail "could not set the broker and the credential in /etc/nodebridge/nodebridge.yaml"
(umask 077 && printf '%s' "$broker_password" >/etc/nodebridge/mqtt-password)
# The conf.d file of the README, with the simulator's port.
awk '/cat >\/etc\/nodebridge\/conf.d\/pdu.yaml <<.EOF./ {on = 1; next}
     on && /^ *EOF$/ {exit}
     on {sub(/^      /, ""); print}' "$source_dir/README.md" >"$work/pdu.yaml"
grep -q '^  - name: pdu-bus$' "$work/pdu.yaml" || fail "no conf.d example in README.md"
sed -E "s/^(    port:) 1502\$/\1 $sim_port/" "$work/pdu.yaml" >/etc/nodebridge/conf.d/pdu.yaml
grep -q "port: $sim_port" /etc/nodebridge/conf.d/pdu.yaml || fail "no simulator port in pdu.yaml"
/usr/sbin/nodebridged --check-config -c /etc/nodebridge/nodebridge.yaml >/dev/null 2>&1 &&
    fail "--check-config passes without \$CREDENTIALS_DIRECTORY: it does not read the credential"
CREDENTIALS_DIRECTORY=/etc/nodebridge /usr/sbin/nodebridged --check-config \
    -c /etc/nodebridge/nodebridge.yaml >/dev/null || fail "the configured files do not pass --check-config"
# As `systemctl edit nodebridge` would, but in the test systemd's /run (nothing left in /etc).
mkdir -p "$work/run"
cat >"$work/run/credential.conf" <<CONF
[Service]
LoadCredential=mqtt-password:/etc/nodebridge/mqtt-password
CONF

step "a subscriber for the readings, health and stats (persistent session, QoS 1)"
mosquitto_sub "${mqtt[@]}" -i nodebridge-test-reader -c -q 1 -v \
    -t 'site/#' -t "nodebridge/$gateway/status" -t "nodebridge/$gateway/stats" \
    >"$work/sub.log" 2>"$work/sub.err" &
pids+=($!)
wait_for 10 grep -q "as nodebridge-test-reader " "$work/broker/log" ||
    { cat "$work/sub.err"; fail "the subscriber did not connect"; }
# grep -q for the end of a pipe: reads all its input first, so the writer (journalctl,
# systemctl) never dies of SIGPIPE, which pipefail would count as a failure.
has() {
    local input
    input=$(cat)
    grep -q "$@" <<<"$input"
}
# Lines the subscriber received since line $1, matching the extended regex $2.
received_since() { tail -n +"$(($1 + 1))" "$work/sub.log" | grep -E "$2"; }
sub_lines() { wc -l <"$work/sub.log"; }

step "the spool again root's, as a later root run would leave it (the unit's StateDirectory= gives it back)"
chown -R root:root "$state/spool"

step "boot systemd as PID 1 of its own PID, mount and cgroup namespace"
# What the machine enables (its mosquitto, a database, apt timers) must not start in the
# test's systemd on the machine's files: mask them in its /run. nodebridge stays enabled.
masks=$(find /etc/systemd/system -mindepth 2 -maxdepth 2 -path '*.wants/*' \
    \( -name '*.service' -o -name '*.timer' \) -printf '%f\n' | grep -vx 'nodebridge.service' |
    sort -u | tr '\n' ' ')
echo "masked for the test's systemd: ${masks:-none}"
# /run is mounted first so the test's drop-ins can be copied from $work (in /tmp) before
# /tmp is covered: systemd-tmpfiles empties /tmp, /var/tmp and /run at boot, so all three
# are its own tmpfs, never the machine's.
unshare --pid --mount --cgroup --fork --mount-proc sh -c '
    set -e
    mount -t tmpfs tmpfs /run
    # A container image (Debian'"'"'s Docker images, CI) has a policy-rc.d that denies every
    # maintainer-script action, so prerm'"'"'s deb-systemd-invoke would not stop the service on
    # purge and nodebridged would outlive its package. The test'"'"'s systemd stands for a
    # machine without one: here it allows everything.
    if [ -e /usr/sbin/policy-rc.d ]; then
        printf "#!/bin/sh\nexit 0\n" >/run/policy-rc.d.allow
        chmod 0755 /run/policy-rc.d.allow
        mount --bind /run/policy-rc.d.allow /usr/sbin/policy-rc.d
    fi
    mkdir -p /run/systemd/system/nodebridge.service.d
    cp "$1"/run/*.conf /run/systemd/system/nodebridge.service.d/
    for unit in $2; do ln -s /dev/null "/run/systemd/system/$unit"; done
    mount -t tmpfs tmpfs /tmp
    mount -t tmpfs tmpfs /var/tmp
    # Its journal too: the machine keeps no lines of it, and no earlier run answers a query.
    if [ -d /var/log/journal ]; then mount -t tmpfs tmpfs /var/log/journal; fi
    # systemd makes / shared only outside containers; without it the mounts it makes for a
    # service (LoadCredential='"'"'s) stay in a private namespace and the service sees an
    # empty, root-only credentials directory. Shared within this namespace only.
    mount --make-rshared /
    exec env container=unshare /lib/systemd/systemd --system --unit=multi-user.target
' sh "$work" "$masks" >"$work/systemd.log" 2>&1 &
unshare_pid=$!
# systemd: unshare's child, once it has exec'ed.
systemd_pid() {
    local child
    child=$(awk '{print $1}' "/proc/$unshare_pid/task/$unshare_pid/children" 2>/dev/null)
    [[ -n $child && $(cat "/proc/$child/comm" 2>/dev/null) == systemd ]] && echo "$child"
}
wait_for 15 systemd_pid >/dev/null || {
    cat "$work/systemd.log"
    fail "systemd did not start in its namespaces (unshare --pid --mount --cgroup)"
}
sd=$(systemd_pid)
echo "systemd is pid $sd here, PID 1 in its namespace"
# Every command in the test's systemd is bounded.
in_sd() { timeout 60 nsenter -t "$sd" -a "$@"; }
sctl() { in_sd systemctl --no-pager "$@"; }
journal() { in_sd journalctl --no-pager -o cat "$@"; }
booted() {
    local st
    st=$(timeout 10 nsenter -t "$sd" -a systemctl is-system-running 2>/dev/null) || true
    [[ $st == running || $st == degraded ]]
}
wait_for 90 booted || {
    cat "$work/systemd.log"
    sctl list-jobs || true
    fail "the test's systemd did not finish booting within 90 s"
}
[[ $(sctl is-system-running) == running ]] || sctl --failed || true
prop() { sctl show -P "$1" nodebridge.service; }
service_log() { journal -u nodebridge.service "$@"; }
dump() {
    sctl status nodebridge.service || true
    service_log -n 40 || true
}

step "the service starts enabled and is active (running) through READY"
[[ $(sctl is-enabled nodebridge.service) == enabled ]] || fail "nodebridge.service is not enabled"
running() { [[ $(prop ActiveState) == active && $(prop SubState) == running ]]; }
wait_for 60 running || { dump; fail "nodebridge.service is not active (running)"; }
sctl status nodebridge.service | has 'Active: active (running)' ||
    { dump; fail "systemctl status does not say active (running)"; }
[[ $(prop Type) == notify ]] || fail "the service is not Type=notify"
service_log | has "started: 1 sources" || { dump; fail "no start line in the journal"; }
main_pid=$(prop MainPID)
[[ $(in_sd ps -o user= -p "$main_pid") == nodebridge ]] || fail "nodebridged does not run as nodebridge"
expected_status="broker 127.0.0.1:$port connected; nodes 1/1 online"
status_ok() { [[ $(prop StatusText) == "$expected_status"* ]]; }
wait_for 20 status_ok || { dump; fail "STATUS is not '$expected_status ...': $(prop StatusText)"; }
echo "STATUS: $(prop StatusText)"
[[ $(prop NRestarts) == 0 ]] || { dump; fail "the service restarted $(prop NRestarts) times while starting"; }

step "LoadCredential= of the MQTT password, with a broker that requires it"
sctl cat nodebridge.service | has -x 'LoadCredential=mqtt-password:/etc/nodebridge/mqtt-password' ||
    fail "no LoadCredential= of mqtt-password in the unit"
grep -q "as nodebridge-$gateway (.*u'nodebridge')" "$work/broker/log" ||
    fail "the broker saw no login of nodebridge-$gateway as user nodebridge"
! grep -q "not authorised" <(grep -v 'Client <unknown>' "$work/broker/log") ||
    fail "the broker refused a login"

step "readings from the simulator reach a subscriber (the README's conf.d file)"
reading='^site/gw-01/pdu-1 \{"node":"pdu-1","ts":"[^"]+",.*"voltage":[0-9.]+'
wait_for 20 received_since 0 "$reading" >/dev/null || { dump; cat "$work/sub.log"; fail "no readings on site/gw-01/pdu-1"; }
received_since 0 "$reading" | tail -n 1

step "the shipped config's status page and /metrics on 127.0.0.1:9108 (docs/http.md)"
journal -u nodebridge | has 'http: listening on 127.0.0.1:9108' ||
    { dump; fail "the service does not say it listens on 127.0.0.1:9108"; }
curl -fsS --max-time 5 http://127.0.0.1:9108/ | has '<script src="app.js"' ||
    fail "no status page from /usr/share/nodebridge/http at http://127.0.0.1:9108/"
wait_for 10 sh -c 'curl -fsS --max-time 5 http://127.0.0.1:9108/metrics |
    grep -q "^nodebridge_node_online{source=\"pdu-bus\",node=\"pdu-1\"} 1\$"' ||
    { curl -sS --max-time 5 http://127.0.0.1:9108/metrics || true; fail "/metrics does not show pdu-1 online"; }

step "the spool belongs to nodebridge and is in use"
[[ $(stat -c %U:%G "$state/spool") == nodebridge:nodebridge ]] ||
    fail "$state/spool is $(stat -c %U:%G "$state/spool"), not nodebridge's"
not_owned=$(find "$state" \! -user nodebridge)
[[ -z $not_owned ]] || fail "not owned by nodebridge: $not_owned"
wait_for 20 received_since 0 "^nodebridge/$gateway/stats .*\"spool\":\\{\"active\":true,.*\"state\":\"active\"\\}" \
    >/dev/null || { dump; fail "the stats topic does not say the spool is active"; }

step "journalctl NODEBRIDGE_NODE=pdu-1 finds the node's lines"
journal NODEBRIDGE_NODE=pdu-1 | has '^pdu-1: online$' ||
    { journal NODEBRIDGE_NODE=pdu-1 || true; fail "no 'pdu-1: online' with NODEBRIDGE_NODE=pdu-1"; }
journal -o verbose NODEBRIDGE_NODE=pdu-1 | has 'NODEBRIDGE_SOURCE=pdu-bus' ||
    fail "the node's journal lines lack NODEBRIDGE_SOURCE"

step "systemctl reload with a changed conf.d file applies it"
sed -i 's|^    topic: site/{gateway}/{node}$|    topic: site/{gateway}/{node}/reloaded|' /etc/nodebridge/conf.d/pdu.yaml
grep -q 'reloaded$' /etc/nodebridge/conf.d/pdu.yaml || fail "could not change pdu.yaml"
mark=$(sub_lines)
sctl reload nodebridge.service || { dump; fail "systemctl reload failed"; }
wait_for 20 received_since "$mark" '^site/gw-01/pdu-1/reloaded \{' >/dev/null ||
    { dump; fail "the changed topic was not applied by the reload"; }
service_log | has '^reloaded: .*rules replaced' || { dump; fail "no 'reloaded:' line in the journal"; }
[[ $(prop MainPID) == "$main_pid" ]] || fail "reload restarted the process"

step "systemctl reload with a broken file keeps the old config and says why"
cp /etc/nodebridge/conf.d/pdu.yaml "$work/pdu.good"
sed -i 's/^        poll: 1s$/        poll: often/' /etc/nodebridge/conf.d/pdu.yaml
broken_line=$(grep -n 'poll: often' /etc/nodebridge/conf.d/pdu.yaml | cut -d: -f1)
[[ -n $broken_line ]] || fail "could not break pdu.yaml"
sctl reload nodebridge.service || { dump; fail "systemctl reload failed"; }
refused() { service_log | has '^reload refused: 1 configuration errors; still running the previous'; }
wait_for 15 refused || { dump; fail "the journal does not say the broken reload was refused"; }
service_log -p err | has "^/etc/nodebridge/conf.d/pdu.yaml:$broken_line:[0-9]*: .*poll" ||
    { dump; fail "the journal does not name the broken line /etc/nodebridge/conf.d/pdu.yaml:$broken_line"; }
running && [[ $(prop MainPID) == "$main_pid" ]] || { dump; fail "the service did not keep running"; }
mark=$(sub_lines)
wait_for 15 received_since "$mark" '^site/gw-01/pdu-1/reloaded \{' >/dev/null ||
    { dump; fail "readings stopped after the broken reload"; }
cp "$work/pdu.good" /etc/nodebridge/conf.d/pdu.yaml

step "kill -STOP of the main process: the watchdog restarts it (WatchdogSec=4s for the test)"
in_sd sh -c 'printf "[Service]\nWatchdogSec=4s\nTimeoutAbortSec=5s\nRestartSec=1s\n" \
    >/run/systemd/system/nodebridge.service.d/watchdog.conf'
sctl daemon-reload
sctl restart nodebridge.service || { dump; fail "restart failed"; }
wait_for 30 status_ok || { dump; fail "not connected again after the restart"; }
[[ $(prop WatchdogUSec) == 4s ]] || fail "the watchdog drop-in did not apply: $(prop WatchdogUSec)"
stopped_pid=$(prop MainPID)
restarts=$(prop NRestarts)
in_sd kill -STOP "$stopped_pid"
watchdog_restarted() {
    [[ $(prop NRestarts) -gt $restarts && $(prop MainPID) != "$stopped_pid" ]] && running
}
wait_for 40 watchdog_restarted || { dump; fail "no watchdog restart within 40 s of kill -STOP"; }
in_sd journalctl --no-pager -u nodebridge.service | has 'Watchdog timeout' ||
    { dump; fail "the journal does not say Watchdog timeout"; }
echo "restarted by the watchdog: pid $stopped_pid -> $(prop MainPID)"
in_sd rm /run/systemd/system/nodebridge.service.d/watchdog.conf
sctl daemon-reload
wait_for 30 status_ok || { dump; fail "not connected after the watchdog restart"; }

step "a QoS 1 stream survives a broker outage with a service restart in it (the spool)"
reloaded_ts() { received_since 0 '^site/gw-01/pdu-1/reloaded \{' | sed -E 's/.*"ts":"([^"]+)".*/\1/'; }
now_ts() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }
kill -TERM "$broker"
wait_for 10 bash -c "! kill -0 $broker 2>/dev/null" || fail "the broker did not stop"
wait "$broker" 2>/dev/null || true
down_ts=$(now_ts)
sleep 4
spooled=$(find "$state/spool" -name '*.seg' -user nodebridge | wc -l)
((spooled > 0)) || fail "no spool segment owned by nodebridge while the broker is away"
restart_ts=$(now_ts)
sctl restart nodebridge.service || { dump; fail "restart during the outage failed"; }
sleep 2
up_ts=$(now_ts)
start_broker "$port" || { cat "$work/broker/log"; fail "mosquitto did not start again on $port"; }
# Readings made while the broker was away and before the restart could only come back from
# the spool on disk: the process that made them is gone.
outage_readings() { reloaded_ts | awk -v a="$down_ts" -v b="$restart_ts" '$0 > a && $0 < b' | wc -l; }
enough_outage_readings() { (($(outage_readings) >= 2)); }
wait_for 40 enough_outage_readings || {
    dump
    reloaded_ts | tail -n 20
    fail "readings made between $down_ts and $restart_ts (broker away) never arrived"
}
echo "$(outage_readings) readings made while the broker was away arrived after the restarts"

step "a spool file the service cannot write is loud: journal, STATUS, ExecStartPre"
sctl stop nodebridge.service
chown root:root "$state/spool/lock"
chmod 0640 "$state/spool/lock"
sctl start nodebridge.service || { dump; fail "the service does not start with a spool it cannot use"; }
unavailable="spool: unavailable (cannot write in '$state/spool': Permission denied)"
degraded_status() { [[ $(prop StatusText) == *"$unavailable" ]]; }
wait_for 20 degraded_status || { dump; fail "STATUS does not end with '$unavailable': $(prop StatusText)"; }
service_log -p err | has "chown -R nodebridge: '$state/spool'" ||
    { dump; fail "no error with the remedy in the journal"; }
service_log | has "warning: spool: '$state/spool/lock' is not writable by user nodebridge" ||
    { dump; fail "ExecStartPre's --check-config did not warn about the spool"; }
echo "STATUS: $(prop StatusText)"
sctl stop nodebridge.service
chown nodebridge:nodebridge "$state/spool/lock"
sctl start nodebridge.service || { dump; fail "start failed"; }
wait_for 20 status_ok || { dump; fail "not connected after fixing the spool"; }
[[ $(prop StatusText) != *spool:* ]] || fail "STATUS still names the spool: $(prop StatusText)"

step "systemctl stop publishes the health topic's offline payload"
mark=$(sub_lines)
sctl stop nodebridge.service || { dump; fail "systemctl stop failed"; }
wait_for 10 received_since "$mark" "^nodebridge/$gateway/status offline\$" >/dev/null ||
    { dump; fail "no offline on nodebridge/$gateway/status after systemctl stop"; }
[[ $(prop Result) == success && $(prop ExecMainStatus) == 0 ]] ||
    { dump; fail "the stop was not clean: Result=$(prop Result) status=$(prop ExecMainStatus)"; }
service_log | has '^stopped$' || { dump; fail "no 'stopped' line in the journal"; }

step "apt-get purge (in the test's systemd, as an admin would) leaves nothing behind"
sctl start nodebridge.service
# Purge a running service, as an admin would: prerm must stop it.
wait_for 20 status_ok || { dump; fail "not running again before the purge"; }
in_sd env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${packages[@]}" >/dev/null ||
    fail "apt-get purge failed"
rm -f "$marker"
! installed || fail "a package is still installed after purge"
[[ $(prop LoadState) == not-found ]] || fail "systemd still knows nodebridge.service: $(prop LoadState)"
daemon_gone() { ! timeout 10 nsenter -t "$sd" -a pgrep -x nodebridged >/dev/null; }
wait_for 20 daemon_gone || {
    nsenter -t "$sd" -a ps -o pid,ppid,user,args -C nodebridged || true
    fail "nodebridged still runs 20 s after purge (prerm did not stop the service)"
}
leftovers=$(find /etc /var/lib /usr /lib -path /var/lib/dpkg -prune -o -path /proc -prune -o \
    -name '*nodebridge*' -print 2>/dev/null)
[[ -z $leftovers ]] || fail "left after purge: $leftovers"
getent passwd nodebridge >/dev/null || fail "purge removed the nodebridge user (it must stay)"

step "stop the test's systemd"
kill -KILL "$sd"
timeout 10 tail --pid="$sd" -f /dev/null || fail "the test's systemd did not end"
sd=""

echo "PASS: built, lintian-clean, installed over a root-owned spool, ran under systemd, purged"
