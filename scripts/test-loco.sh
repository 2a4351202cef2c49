#!/usr/bin/env bash
# scripts/test-loco.sh — the Loco workspace's tests (loco/: multidb-loco and
# the ported SaaS starter in loco/examples/saas), over a real PostgreSQL
# primary with a streaming replica and a replica delayed by 1 s.
#
# USAGE
#   scripts/test-loco.sh [cargo test args...]
#       Starts the PostgreSQL cluster with scripts/replicas.sh (its port and
#       state-folder settings apply: MULTIDB_PG_PORT, MULTIDB_REPLICAS_DIR),
#       runs `cargo test --workspace` in loco/, and removes the cluster. The
#       README's test command ends with it.
#   Inside a running cluster (MULTIDB_PG_PRIMARY_URL set, e.g. under
#   `scripts/replicas.sh run --`), it uses that one.
#
# The starter's tests read `DATABASE_URL` (the primary, database app_test,
# created here) and `DATABASE_REPLICA_URLS` (both replicas). Without a
# cluster they fail: nothing here skips.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

if [ -z "${MULTIDB_PG_PRIMARY_URL:-}" ]; then
    exec env MULTIDB_REPLICAS=pg "$root/scripts/replicas.sh" run -- "$root/scripts/test-loco.sh" "$@"
fi
: "${MULTIDB_PG_REPLICA_URL:?no PostgreSQL replica: run under scripts/replicas.sh}"
: "${MULTIDB_PG_DELAYED_REPLICA_URL:?no delayed PostgreSQL replica: run under scripts/replicas.sh}"

# postgres://user@host:port/postgres -> .../app_test
with_db() { printf '%s/%s' "${1%/*}" "$2"; }
psql_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)/psql"
[ -x "$psql_bin" ] || psql_bin=psql
"$psql_bin" -q -d "$MULTIDB_PG_PRIMARY_URL" -c 'DROP DATABASE IF EXISTS app_test' \
    -c 'CREATE DATABASE app_test' >/dev/null

export DATABASE_URL="$(with_db "$MULTIDB_PG_PRIMARY_URL" app_test)"
export DATABASE_REPLICA_URLS="$(with_db "$MULTIDB_PG_REPLICA_URL" app_test),$(with_db "$MULTIDB_PG_DELAYED_REPLICA_URL" app_test)"
# Plenty of connections: the tests open the app's pools and multidb's.
export DB_MAX_CONNECTIONS="${DB_MAX_CONNECTIONS:-5}"
cd "$root/loco"
echo "+ (cd loco && cargo test --workspace --all-features $*)" >&2
cargo test --workspace --all-features "$@"
