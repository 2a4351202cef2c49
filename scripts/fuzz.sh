#!/usr/bin/env bash
# Run one fuzz target for a fixed time:
#
#     scripts/fuzz.sh <target> <seconds> [libFuzzer flags...]
#
# Targets live in fuzz/fuzz_targets (classify, pin_cookie). With cargo-fuzz
# installed it is used (`--sanitizer none`: the code under test has no
# unsafe, and stable rustc has no sanitizers without RUSTC_BOOTSTRAP);
# without it the target is built with the same coverage flags that cargo-fuzz
# passes, on the stable toolchain. The corpus is fuzz/corpus/<target> (seeded
# from multidb-core's test data on the first run), crashes go to
# fuzz/artifacts/<target>/. Prints libFuzzer's closing statistics.
set -euo pipefail

target=${1:?usage: scripts/fuzz.sh <target> <seconds> [libFuzzer flags...]}
seconds=${2:?usage: scripts/fuzz.sh <target> <seconds> [libFuzzer flags...]}
shift 2

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/fuzz"
corpus="corpus/$target"
mkdir -p "$corpus" "artifacts/$target"

# Seed the classify corpus with the statements of the test data, one a file.
if [ "$target" = classify ] && [ -z "$(ls -A "$corpus")" ]; then
    n=0
    for f in "$root"/multidb-core/tests/data/*.sql; do
        while IFS= read -r line; do
            case "$line" in "-- "*|"") continue ;; esac
            n=$((n + 1))
            printf '%b' "$line" > "$corpus/seed-$n"
        done < "$f"
    done
fi

flags=(-max_total_time="$seconds" -print_final_stats=1 "$@")
if cargo fuzz --version >/dev/null 2>&1; then
    exec cargo fuzz run --sanitizer none "$target" "$corpus" -- "${flags[@]}"
fi

triple=$(rustc -vV | sed -n 's/^host: //p')
export RUSTFLAGS="-Cpasses=sancov-module \
 -Cllvm-args=-sanitizer-coverage-level=4 \
 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
 -Cllvm-args=-sanitizer-coverage-pc-table \
 -Cllvm-args=-sanitizer-coverage-trace-compares \
 --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
# --target keeps these flags off build scripts and proc macros.
cargo build --quiet --release --target "$triple" --bin "$target"
exec "./target/$triple/release/$target" -artifact_prefix="artifacts/$target/" "${flags[@]}" "$corpus"
