#!/usr/bin/env bash
# Package and verify every published crate, in dependency order, without
# uploading anything: `cargo publish --dry-run` over all six at once, so the
# unpublished workspace dependencies resolve through cargo's local overlay
# (cargo 1.90 or later). Needs the crates.io index for the other
# dependencies. Prints, per crate, the files packaged and their size, and
# whether the packaged crate builds on its own.
#
#   scripts/publish-check.sh [LOG]     full output to LOG (default
#                                      target/publish-check.log)
#
# Extra cargo arguments go in PUBLISH_CHECK_ARGS, e.g. --allow-dirty.
set -euo pipefail
cd "$(dirname "$0")/.."

crates=(multidb-core multidb-macros multidb-http multidb-tower multidb-actix multidb-seaorm)
log=${1:-target/publish-check.log}
mkdir -p "$(dirname "$log")"

args=()
for c in "${crates[@]}"; do args+=(-p "$c"); done
# shellcheck disable=SC2206 # word splitting of the extra arguments is wanted
extra=(${PUBLISH_CHECK_ARGS:-})

# Cargo takes a registry crate of a given name and version as immutable:
# it extracts the overlay's copy once (registry/src/-<hash>/) and reuses
# what it compiled from it. An earlier run's copy would then be verified
# against instead of this tree (seen: multidb-actix built against a stale
# multidb-http). So: remove those copies, and verify in a target dir of its
# own whose multidb artifacts are removed first (its other dependencies stay
# cached between runs).
cargo_home=${CARGO_HOME:-$HOME/.cargo}
export CARGO_TARGET_DIR=target/publish-check
for c in "${crates[@]}"; do
    rm -rf "$cargo_home"/registry/src/-*/"$c"-[0-9]* \
        "$CARGO_TARGET_DIR"/debug/.fingerprint/"$c"-* \
        "$CARGO_TARGET_DIR"/debug/deps/lib"${c//-/_}"-* "$CARGO_TARGET_DIR"/debug/deps/"${c//-/_}"-*
done

echo "publish-check: cargo publish --dry-run ${args[*]} ${extra[*]} (log: $log)" >&2
status=0
cargo publish --dry-run "${args[@]}" "${extra[@]}" >"$log" 2>&1 || status=$?

grep -E '^ *(Packaging|Packaged|Verifying|Uploading) |^error' "$log" || true
if [ "$status" -ne 0 ]; then
    echo "publish-check: FAILED (exit $status), see $log" >&2
    exit "$status"
fi
echo "publish-check: all ${#crates[@]} crates packaged and verified" >&2
