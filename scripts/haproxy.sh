#!/usr/bin/env bash
# scripts/haproxy.sh — a TCP load balancer (Debian's haproxy, installed by
# scripts/test-deps.sh) on loopback in front of several servers, for the
# test of load-balanced replica endpoints (tests/src/balancer_scenarios.rs).
#
# USAGE
#   scripts/haproxy.sh start <state-dir> <listen> <backend-port>...
#       Start haproxy in the background, round-robin per connection over
#       127.0.0.1:<backend-port>..., listening on <listen>: a port (on
#       127.0.0.1) or address:port (another loopback address, 127.0.0.2…);
#       returns once it accepts connections. Its pid goes to
#       <state-dir>/haproxy-<listen>.pid.
#   scripts/haproxy.sh stop <state-dir> <listen>
#       Stop the one started with that port (by its pid file); quiet if none.
# On failure: a message on stderr, exit status 1.
set -euo pipefail

die() { echo "haproxy.sh: $*" >&2; exit 1; }

command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || die "haproxy is not installed: run scripts/test-deps.sh"
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)

action=${1:-}; dir=${2:-}; listen=${3:-}
[ -n "$action" ] && [ -n "$dir" ] && [ -n "$listen" ] || die "usage: $0 start|stop <state-dir> <listen> [<backend-port>...]"
case "$listen" in
*:*) address=${listen%:*}; port=${listen##*:} ;;
*) address=127.0.0.1; port=$listen ;;
esac
pidfile="$dir/haproxy-$address-$port.pid"
cfg="$dir/haproxy-$address-$port.cfg"

case "$action" in
start)
    shift 3
    [ $# -ge 1 ] || die "start needs at least one backend port"
    mkdir -p "$dir"
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        die "already running on $address:$port (pid $(cat "$pidfile"))"
    fi
    {
        echo "global"
        echo "    maxconn 256"
        echo "defaults"
        echo "    mode tcp"
        echo "    timeout connect 1s"
        echo "    timeout client 1h"
        echo "    timeout server 1h"
        echo "listen replicas"
        echo "    bind $address:$port"
        echo "    balance roundrobin"
        i=0
        for backend in "$@"; do
            echo "    server s$i 127.0.0.1:$backend"
            i=$((i + 1))
        done
    } >"$cfg"
    "$HAPROXY" -q -c -f "$cfg" >/dev/null || die "invalid configuration $cfg"
    "$HAPROXY" -q -D -f "$cfg" -p "$pidfile" || die "haproxy did not start ($address:$port taken?)"
    for _ in $(seq 1 50); do
        if (exec 3<>"/dev/tcp/$address/$port") 2>/dev/null; then
            exit 0
        fi
        sleep 0.05
    done
    die "haproxy not accepting on $address:$port after 2.5 s"
    ;;
stop)
    [ -f "$pidfile" ] || exit 0
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    rm -f "$pidfile" "$cfg"
    ;;
*) die "unknown action $action" ;;
esac
