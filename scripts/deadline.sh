#!/usr/bin/env bash
# Run a command with a deadline, for CI: a test that hangs must fail the run
# with the stacks of the test processes still running, not use up CI's whole
# budget and print nothing.
#
#   scripts/deadline.sh MINUTES -- command [args...]
#
# At the deadline: prints every thread's stack of each test binary still
# running (target/*/deps/*, with gdb when it is installed), then sends TERM
# to the command's process group (scripts/replicas.sh's trap then removes
# its clusters), KILL 30 s later, and exits 124.
set -euo pipefail

if [ $# -lt 3 ] || [ "$2" != "--" ]; then
    echo "usage: scripts/deadline.sh MINUTES -- command [args...]" >&2
    exit 2
fi
minutes=$1
shift 2
case "$minutes" in
    '' | *[!0-9]*) echo "deadline: MINUTES must be a whole number, got '$minutes'" >&2; exit 2 ;;
esac

# A process group of its own, so that the command's children go with it.
setsid "$@" &
child=$!
trap 'kill -TERM -- "-$child" 2>/dev/null || true' INT TERM

deadline=$((SECONDS + minutes * 60))
while kill -0 "$child" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "deadline: still running after $minutes min: $*" >&2
        for pid in $(pgrep -g "$child" -f '/target/[a-z]+/deps/' || true); do
            echo "deadline: stacks of $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) (pid $pid)" >&2
            if command -v gdb >/dev/null; then
                timeout 60 gdb -p "$pid" -batch -ex 'thread apply all bt' 2>&1 \
                    | grep -E '^(Thread|#)' | head -n 600 >&2 || true
            fi
        done
        kill -TERM -- "-$child" 2>/dev/null || true
        for _ in $(seq 30); do
            kill -0 "$child" 2>/dev/null || break
            sleep 1
        done
        kill -KILL -- "-$child" 2>/dev/null || true
        wait "$child" 2>/dev/null || true
        exit 124
    fi
    sleep 5
done
wait "$child"
