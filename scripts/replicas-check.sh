#!/usr/bin/env bash
# scripts/replicas-check.sh — prove that the clusters of scripts/replicas.sh
# behave as the integration tests assume, and measure replication lag.
#
#   scripts/replicas.sh run -- scripts/replicas-check.sh
#   eval "$(scripts/replicas.sh env)" && scripts/replicas-check.sh
#
# Checks, for each stack whose URLs are set:
#   - the primary is writable, the replicas are read-only replicas
#     (PostgreSQL: pg_is_in_recovery(), INSERT fails with SQLSTATE 25006;
#     MariaDB: read_only=1, INSERT as the app user fails with error 1290);
#   - a row committed on the primary becomes visible on the fast replica
#     within milliseconds, and on the delayed replica only after about the
#     configured delay (measured inside the servers, ROUNDS times).
# Creates and drops the objects multidb_selftest* in the test databases.
# Exit status 0 when every check passed.

# shellcheck disable=SC2015 # ok() cannot fail: A && ok || bad is fine here
set -euo pipefail

ROUNDS=${ROUNDS:-3}
FAILED=0
ms_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { gsub(",", ".", a); gsub(",", ".", b); printf "%.0f", (b - a) * 1000 }'; }
# poll_until EXPECTED COMMAND...: run COMMAND every 5 ms until it prints EXPECTED (30 s).
poll_until() {
  local want=$1 i
  shift
  for ((i = 0; i < 6000; i++)); do
    [[ $("$@" 2>/dev/null) == "$want" ]] && return 0
    sleep 0.005
  done
  return 1
}
ok() { printf '  ok    %s\n' "$*"; }
bad() { printf '  FAIL  %s\n' "$*"; FAILED=1; }

[[ ${MULTIDB_TEST_SERVERS:-} == 1 ]] || {
  echo "MULTIDB_TEST_SERVERS is not set: run me under scripts/replicas.sh" >&2
  exit 2
}

# ---------------------------------------------------------------- PostgreSQL
pg_checks() {
  local p=$MULTIDB_PG_PRIMARY_URL r=$MULTIDB_PG_REPLICA_URL d=$MULTIDB_PG_DELAYED_REPLICA_URL
  local delay=$MULTIDB_PG_REPLICA_DELAY_MS
  q() { PGOPTIONS="-c client_min_messages=warning" psql "$1" -X -q -At -v ON_ERROR_STOP=1 -c "$2"; }
  echo "PostgreSQL (delay ${delay} ms)"
  [[ $(q "$p" 'SELECT pg_is_in_recovery()') == f ]] && ok "primary is not in recovery" || bad "primary in recovery"
  local u
  for u in "$r" "$d"; do
    [[ $(q "$u" 'SELECT pg_is_in_recovery()') == t ]] && ok "${u##*:} in recovery" || bad "${u##*:} not in recovery"
  done

  q "$p" "DROP TABLE IF EXISTS multidb_selftest;
    CREATE TABLE multidb_selftest (id serial PRIMARY KEY, tag text UNIQUE,
      at timestamptz NOT NULL DEFAULT clock_timestamp());
    CREATE OR REPLACE FUNCTION multidb_selftest_wait(p_tag text, p_timeout float8)
    RETURNS float8 LANGUAGE plpgsql AS \$\$
    DECLARE v_at timestamptz; v_deadline timestamptz := clock_timestamp() + make_interval(secs => p_timeout);
    BEGIN
      LOOP
        SELECT at INTO v_at FROM multidb_selftest WHERE tag = p_tag;
        IF FOUND THEN RETURN extract(epoch FROM clock_timestamp() - v_at) * 1000; END IF;
        IF clock_timestamp() > v_deadline THEN RAISE EXCEPTION 'row % not visible after % s', p_tag, p_timeout; END IF;
        PERFORM pg_sleep(0.0002);
      END LOOP;
    END \$\$;
    INSERT INTO multidb_selftest (tag) VALUES ('setup');"
  # Wait until both replicas have the table (the delayed one: about the delay).
  local t0=$EPOCHREALTIME
  for u in "$r" "$d"; do
    poll_until t q "$u" "SELECT to_regprocedure('multidb_selftest_wait(text, float8)') IS NOT NULL" ||
      bad "the test function never reached ${u##*:}"
  done
  echo "        setup visible on both replicas after $(ms_since "$t0") ms"

  local err
  if err=$(q "$r" "INSERT INTO multidb_selftest (tag) VALUES ('on-replica')" 2>&1); then
    bad "INSERT on the replica succeeded"
  elif [[ $err == *"read-only transaction"* ]]; then
    ok "INSERT on the replica refused: ${err#ERROR:  }"
  else
    bad "INSERT on the replica failed oddly: $err"
  fi

  local i fast slow
  for ((i = 1; i <= ROUNDS; i++)); do
    q "$r" "SELECT multidb_selftest_wait('r$i', 10)" >/tmp/.mr-fast.$$ 2>&1 &
    local pf=$!
    q "$d" "SELECT multidb_selftest_wait('r$i', 10)" >/tmp/.mr-slow.$$ 2>&1 &
    local ps=$!
    sleep 0.2 # both watchers polling
    q "$p" "INSERT INTO multidb_selftest (tag) VALUES ('r$i')"
    wait "$pf" && wait "$ps" || { bad "watchers failed: $(cat /tmp/.mr-fast.$$ /tmp/.mr-slow.$$)"; continue; }
    fast=$(</tmp/.mr-fast.$$) slow=$(</tmp/.mr-slow.$$)
    printf '        round %d: fast replica %.2f ms, delayed replica %.1f ms\n' "$i" "$fast" "$slow"
    awk -v f="$fast" 'BEGIN { exit !(f < 100) }' && ok "fast replica lag ${fast} ms < 100 ms" || bad "fast replica lag ${fast} ms"
    awk -v s="$slow" -v d="$delay" 'BEGIN { exit !(s >= d && s < d + 500) }' &&
      ok "delayed replica lag ${slow} ms within [${delay}, ${delay}+500) ms" || bad "delayed replica lag ${slow} ms"
  done
  rm -f /tmp/.mr-fast.$$ /tmp/.mr-slow.$$
  q "$p" "DROP TABLE multidb_selftest; DROP FUNCTION multidb_selftest_wait(text, float8)"
}

# ------------------------------------------------------------------- MariaDB
# mysql://user:password@host:port/db -> client arguments
my_args() {
  [[ $1 =~ ^mysql://([^:@]+)(:([^@]*))?@([^:/]+):([0-9]+)/(.*)$ ]] || { echo "bad URL $1" >&2; return 1; }
  printf '%s\n' "-h${BASH_REMATCH[4]}" "-P${BASH_REMATCH[5]}" "-u${BASH_REMATCH[1]}"
  [[ -n ${BASH_REMATCH[3]} ]] && printf '%s\n' "-p${BASH_REMATCH[3]}"
  printf '%s\n' "${BASH_REMATCH[6]}"
}

my_checks() {
  local delay=$MULTIDB_MYSQL_REPLICA_DELAY_MS
  local -a P R D
  mapfile -t P < <(my_args "$MULTIDB_MYSQL_PRIMARY_URL")
  mapfile -t R < <(my_args "$MULTIDB_MYSQL_REPLICA_URL")
  mapfile -t D < <(my_args "$MULTIDB_MYSQL_DELAYED_REPLICA_URL")
  m() { mariadb --no-defaults -N -B "$@"; }
  echo "MariaDB (delay ${delay} ms)"
  [[ $(m "${P[@]}" -e 'SELECT @@read_only') == 0 ]] && ok "primary read_only=0" || bad "primary read_only"
  local who
  local -a a
  for who in replica delayed; do
    a=("${R[@]}")
    [[ $who == delayed ]] && a=("${D[@]}")
    [[ $(m "${a[@]}" -e 'SELECT @@read_only') == 1 ]] && ok "$who (${a[1]}) read_only=1" || bad "$who not read_only"
    local user
    user=$(m "${a[@]}" -e 'SELECT CURRENT_USER()')
    [[ $user != root@* ]] && ok "$who: connected as $user, not root" || bad "$who: connected as root"
  done
  m "${P[@]}" <<'EOF'
DROP TABLE IF EXISTS multidb_selftest;
DROP PROCEDURE IF EXISTS multidb_selftest_wait;
CREATE TABLE multidb_selftest (id INT AUTO_INCREMENT PRIMARY KEY, tag VARCHAR(64) UNIQUE,
  at DATETIME(6) NOT NULL DEFAULT NOW(6));
DELIMITER //
CREATE PROCEDURE multidb_selftest_wait(IN p_tag VARCHAR(64), IN p_timeout_ms INT)
BEGIN
  DECLARE v_at DATETIME(6) DEFAULT NULL;
  DECLARE v_deadline DATETIME(6) DEFAULT SYSDATE(6) + INTERVAL p_timeout_ms * 1000 MICROSECOND;
  WHILE v_at IS NULL DO
    SET v_at = (SELECT at FROM multidb_selftest WHERE tag = p_tag);
    IF v_at IS NULL THEN
      IF SYSDATE(6) > v_deadline THEN
        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'row not visible in time';
      END IF;
      DO SLEEP(0.0002);
    END IF;
  END WHILE;
  SELECT TIMESTAMPDIFF(MICROSECOND, v_at, SYSDATE(6)) / 1000;
END//
DELIMITER ;
INSERT INTO multidb_selftest (tag) VALUES ('setup');
EOF
  local t0=$EPOCHREALTIME
  for who in replica delayed; do
    a=("${R[@]}")
    [[ $who == delayed ]] && a=("${D[@]}")
    poll_until 1 m "${a[@]}" -e "SELECT COUNT(*) FROM multidb_selftest WHERE tag = 'setup'" ||
      bad "the test table never reached the $who"
  done
  echo "        setup visible on both replicas after $(ms_since "$t0") ms"

  local err
  if err=$(m "${R[@]}" -e "INSERT INTO multidb_selftest (tag) VALUES ('on-replica')" 2>&1); then
    bad "INSERT on the replica succeeded"
  elif [[ $err == *"ERROR 1290"* ]]; then
    ok "INSERT on the replica refused: ${err#*: }"
  else
    bad "INSERT on the replica failed oddly: $err"
  fi

  local i fast slow
  for ((i = 1; i <= ROUNDS; i++)); do
    m "${R[@]}" -e "CALL multidb_selftest_wait('r$i', 10000)" >/tmp/.mr-fast.$$ 2>&1 &
    local pf=$!
    m "${D[@]}" -e "CALL multidb_selftest_wait('r$i', 10000)" >/tmp/.mr-slow.$$ 2>&1 &
    local ps=$!
    sleep 0.2$i # both watchers polling; vary the sub-second phase
    m "${P[@]}" -e "INSERT INTO multidb_selftest (tag) VALUES ('r$i')"
    wait "$pf" && wait "$ps" || { bad "watchers failed: $(cat /tmp/.mr-fast.$$ /tmp/.mr-slow.$$)"; continue; }
    fast=$(</tmp/.mr-fast.$$) slow=$(</tmp/.mr-slow.$$)
    printf '        round %d: fast replica %.2f ms, delayed replica %.1f ms\n' "$i" "$fast" "$slow"
    awk -v f="$fast" 'BEGIN { exit !(f < 100) }' && ok "fast replica lag ${fast} ms < 100 ms" || bad "fast replica lag ${fast} ms"
    awk -v s="$slow" -v d="$delay" 'BEGIN { exit !(s >= d && s < d + 500) }' &&
      ok "delayed replica lag ${slow} ms within [${delay}, ${delay}+500) ms" || bad "delayed replica lag ${slow} ms"
  done
  rm -f /tmp/.mr-fast.$$ /tmp/.mr-slow.$$
  m "${P[@]}" -e "DROP TABLE multidb_selftest; DROP PROCEDURE multidb_selftest_wait"
}

[[ -n ${MULTIDB_PG_PRIMARY_URL:-} ]] && pg_checks
[[ -n ${MULTIDB_MYSQL_PRIMARY_URL:-} ]] && my_checks
if ((FAILED)); then
  echo "SOME CHECKS FAILED"
  exit 1
fi
echo "all checks passed"
