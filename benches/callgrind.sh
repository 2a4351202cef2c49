#!/usr/bin/env bash
# benches/callgrind.sh — instruction counts per operation of one bench case,
# with callgrind: repeatable where wall-clock time on a shared machine is not.
#
#   benches/callgrind.sh <bench> <case> [n1 n2]
#   benches/callgrind.sh pinning pinning/post_sets_cookie/pinning_layer
#
# Runs the bench binary twice under `valgrind --tool=callgrind` with
# MULTIDB_BENCH_PROFILE=<case>=<n> (n1 then n2 operations, default 2000 and
# 12000, after the same warm-up), and prints the instructions per operation,
# (Ir(n2) − Ir(n1)) / (n2 − n1), which cancels start-up and set-up, then the
# top functions of the n2 run (self and inclusive) from callgrind_annotate.
# The output files stay in target/callgrind/. The case names of each bench
# are printed when the case is unknown. The PostgreSQL cases need the
# servers' variables (run it under scripts/replicas.sh).
set -euo pipefail
(($# == 2 || $# == 4)) || { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
bench=$1 case=$2 n1=${3:-2000} n2=${4:-12000}
root=$(cd "$(dirname "$0")/.." && pwd)
command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install valgrind" >&2; exit 1; }
exe=$(cd "$root" && cargo bench -p multidb-benches --bench "$bench" --no-run 2>&1 |
  sed -n "s|.*Executable benches/$bench.rs (\(.*\))|\1|p" | tail -n1)
[[ -n $exe ]] || { echo "could not build the bench $bench" >&2; exit 1; }
[[ $exe == /* ]] || exe=$root/$exe
out=$root/target/callgrind
mkdir -p "$out"
tag=${case//\//_}
collected() { # n -> total instructions
  local log=$out/$tag.$1.log
  MULTIDB_BENCH_PROFILE="$case=$1" valgrind --tool=callgrind --dump-instr=no \
    --callgrind-out-file="$out/$tag.$1.out" "$exe" --bench >"$log" 2>&1 ||
    { tail -n 20 "$log" >&2; exit 1; }
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$log" | tail -n1
}
ir1=$(collected "$n1")
ir2=$(collected "$n2")
echo "$case: $(( (ir2 - ir1) / (n2 - n1) )) instructions per operation (Ir $ir1 at n=$n1, $ir2 at n=$n2)"
echo "--- top functions by self cost, n=$n2 ---"
top() { # inclusive=yes|no lines
  callgrind_annotate --inclusive="$1" "$out/$tag.$n2.out" 2>/dev/null |
    awk '/^-+$/ { dashes++; next } dashes >= 3 && NF' | head -n "$2"
}
top no 20
echo "--- top functions by inclusive cost, n=$n2 ---"
top yes 40
