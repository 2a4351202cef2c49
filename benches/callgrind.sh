#!/usr/bin/env bash
# benches/callgrind.sh — instruction counts per operation of bench cases,
# with callgrind: repeatable where wall-clock time on a shared machine is not.
#
#   benches/callgrind.sh <bench> <case> [n1 n2]
#   benches/callgrind.sh pinning pinning/post_sets_cookie/pinning_layer
#       One case: instructions per operation, then its top functions.
#   benches/callgrind.sh diff <bench> <bare-case> <routed-case> [n1 n2]
#   benches/callgrind.sh diff point_read point_read/sqlite/bare point_read/sqlite/multidb 500 2500
#       Two cases: instructions per operation of each, their ratio, and the
#       functions whose self cost grows the most, per operation.
#
# Runs the bench binary twice per case under `valgrind --tool=callgrind` with
# MULTIDB_BENCH_PROFILE=<case>=<n> (n1 then n2 operations, default 2000 and
# 12000, after the same 200-operation warm-up) and reports
# (Ir(n2) − Ir(n1)) / (n2 − n1), which cancels start-up and set-up. Output
# files stay in target/callgrind/. An unknown case makes the bench list its
# cases. The PostgreSQL cases need the servers' variables (run this under
# scripts/replicas.sh). Under valgrind, sha2 cannot use SHA-NI: HMACs cost
# more instructions than they do natively.
set -euo pipefail
export LC_ALL=C
usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
mode="one"
if [[ ${1:-} == diff ]]; then
  mode="diff"
  shift
  (($# == 3 || $# == 5)) || usage
  bench=$1 case_a=$2 case_b=$3 n1=${4:-2000} n2=${5:-12000}
else
  (($# == 2 || $# == 4)) || usage
  bench=$1 case_a=$2 n1=${3:-2000} n2=${4:-12000}
fi
root=$(cd "$(dirname "$0")/.." && pwd)
command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install valgrind" >&2; exit 1; }
exe=$(cd "$root" && cargo bench -p multidb-benches --bench "$bench" --no-run 2>&1 |
  sed -n "s|.*Executable benches/$bench.rs (\(.*\))|\1|p" | tail -n1)
[[ -n $exe ]] || { echo "could not build the bench $bench" >&2; exit 1; }
[[ $exe == /* ]] || exe=$root/$exe
out=$root/target/callgrind
mkdir -p "$out"

file() { local tag=${1//\//_}; echo "$out/$tag.$2"; } # case n -> path prefix
collected() { # case n -> total instructions
  local log
  log=$(file "$1" "$2").log
  MULTIDB_BENCH_PROFILE="$1=$2" valgrind --tool=callgrind --dump-instr=no \
    --callgrind-out-file="$(file "$1" "$2").out" "$exe" --bench >"$log" 2>&1 ||
    { tail -n 20 "$log" >&2; exit 1; }
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$log" | tail -n1
}
per_op() { # case -> instructions per operation (and prints the line)
  local ir1 ir2
  ir1=$(collected "$1" "$n1")
  ir2=$(collected "$1" "$n2")
  echo "$1: $(((ir2 - ir1) / (n2 - n1))) instructions per operation (Ir $ir1 at n=$n1, $ir2 at n=$n2)" >&2
  echo $(((ir2 - ir1) / (n2 - n1)))
}
# "Ir function" lines of callgrind_annotate (self or inclusive cost).
costs() { # out-file inclusive=yes|no
  callgrind_annotate --inclusive="$2" --threshold=100 "$1" 2>/dev/null |
    awk '/^-+$/ { dashes++; next }
         dashes >= 3 && /^ *[0-9,]+ / {
           line = $0; sub(/^ +/, "", line)
           ir = line; sub(/ .*/, "", ir); gsub(",", "", ir)
           name = line; sub(/^[0-9,]+ +\([^)]*\) +/, "", name)
           sub(/ \[[^]]*\]$/, "", name); sub(/\047[0-9]+$/, "", name)
           if (name != "PROGRAM TOTALS") print ir "\t" name
         }' |
    # one line per function (the same name can come from two objects)
    awk -F'\t' '{ sum[$2] += $1 } END { for (n in sum) print sum[n] "\t" n }' | sort -t $'\t' -k1,1rn
}

if [[ $mode == one ]]; then
  per_op "$case_a" >/dev/null
  echo "--- top functions by self cost, n=$n2 (whole run) ---"
  costs "$(file "$case_a" "$n2").out" no | head -n 20 | awk -F'\t' '{ printf "%14s  %s\n", $1, $2 }'
  echo "--- top functions by inclusive cost, n=$n2 (whole run) ---"
  costs "$(file "$case_a" "$n2").out" yes | head -n 40 | awk -F'\t' '{ printf "%14s  %s\n", $1, $2 }'
  exit 0
fi

a=$(per_op "$case_a")
b=$(per_op "$case_b")
awk -v a="$a" -v b="$b" 'BEGIN { printf "ratio %.3f, added %d instructions per operation\n", b / a, b - a }'
# Both n2 runs did n2 + 200 (warm-up) operations: per-operation differences.
ops=$((n2 + 200))
echo "--- functions whose self cost grows the most ($case_b minus $case_a), instructions per operation ---"
join -t $'\t' -a1 -a2 -e 0 -o 0,1.2,2.2 \
  <(costs "$(file "$case_a" "$n2").out" no | awk -F'\t' '{ print $2 "\t" $1 }' | sort -t $'\t' -k1,1) \
  <(costs "$(file "$case_b" "$n2").out" no | awk -F'\t' '{ print $2 "\t" $1 }' | sort -t $'\t' -k1,1) |
  awk -F'\t' -v ops="$ops" '{ d = ($3 - $2) / ops; if (d >= 1) printf "%8.0f  %s\n", d, $1 }' |
  sort -rn | head -n 25
