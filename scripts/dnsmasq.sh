#!/usr/bin/env bash
# scripts/dnsmasq.sh — a DNS server on loopback (Debian's dnsmasq, installed
# by scripts/test-deps.sh) whose A records a test changes while it runs,
# for the test of DNS discovery of replicas (tests/src/discovery_scenarios.rs).
#
# USAGE
#   scripts/dnsmasq.sh start <state-dir> <port>
#       Serve on 127.0.0.1:<port> (UDP and TCP), only the names set below,
#       with TTL 0 (clients ask again each time); nothing is forwarded.
#       Returns once it answers. Its pid goes to <state-dir>/dnsmasq.pid.
#   scripts/dnsmasq.sh set <state-dir> <name> [<address>...]
#       Make <name> resolve to exactly these addresses (none: the name no
#       longer resolves). dnsmasq sees the change at once (inotify on its
#       hosts folder).
#   scripts/dnsmasq.sh stop <state-dir>
#       Stop it (by its pid file); quiet if not running.
# On failure: a message on stderr, exit status 1.
set -euo pipefail

die() { echo "dnsmasq.sh: $*" >&2; exit 1; }
DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
[ -x "$DNSMASQ" ] || die "dnsmasq is not installed: run scripts/test-deps.sh"

action=${1:-}; dir=${2:-}
[ -n "$action" ] && [ -n "$dir" ] || die "usage: $0 start|set|stop <state-dir> ..."
pidfile="$dir/dnsmasq.pid"

case "$action" in
start)
    port=${3:-}; [ -n "$port" ] || die "start needs a port"
    mkdir -p "$dir/hosts"
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        die "already running (pid $(cat "$pidfile"))"
    fi
    "$DNSMASQ" --port="$port" --listen-address=127.0.0.1 --bind-interfaces \
        --no-resolv --no-hosts --no-poll --hostsdir="$dir/hosts" --local-ttl=0 \
        --user=root --group=root --pid-file="$pidfile" \
        --log-facility="$dir/dnsmasq.log" || die "dnsmasq did not start (port $port taken?)"
    for _ in $(seq 1 50); do
        [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && exit 0
        sleep 0.05
    done
    die "dnsmasq not running after 2.5 s (see $dir/dnsmasq.log)"
    ;;
set)
    name=${3:-}; [ -n "$name" ] || die "set needs a name"
    shift 3
    tmp="$dir/.$name.tmp"
    : >"$tmp"
    for address in "$@"; do echo "$address $name" >>"$tmp"; done
    # A rename, so dnsmasq never reads a half-written file.
    mv -f "$tmp" "$dir/hosts/$name"
    ;;
stop)
    [ -f "$pidfile" ] || exit 0
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    rm -rf "$pidfile" "$dir/hosts"
    ;;
*) die "unknown action $action" ;;
esac
