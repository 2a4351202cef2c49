#!/usr/bin/env bash
# scripts/replicas-check.sh — prove that the clusters of scripts/replicas.sh
# behave as the integration tests assume, and measure replication lag.
#
#   scripts/replicas.sh run -- scripts/replicas-check.sh
#   eval "$(scripts/replicas.sh env)" && scripts/replicas-check.sh
#   # every replica lagging (the fast-replica delay parameter):
#   MULTIDB_PG_FAST_REPLICA_DELAY_MS=200 MULTIDB_MYSQL_FAST_REPLICA_DELAY_MS=1000 \
#     scripts/replicas.sh run -- scripts/replicas-check.sh
#
# Checks, for each stack whose URLs are set:
#   - the primary is writable, the replicas (replica, delayed, spare) are
#     read-only replicas (PostgreSQL: pg_is_in_recovery(), INSERT fails with
#     SQLSTATE 25006; MariaDB: read_only=1, INSERT as the app user fails with
#     error 1290);
#   - a row committed on the primary becomes visible on the fast replica
#     within milliseconds (or after about MULTIDB_*_FAST_REPLICA_DELAY_MS when
#     set), and on the delayed replica only after about the configured delay
#     (measured inside the servers, ROUNDS times);
#   - the unprivileged multidb_plain user can read what a replica monitor
#     needs (PostgreSQL pg_is_in_recovery(), pg_last_wal_replay_lsn(),
#     pg_current_wal_lsn(), pg_current_wal_insert_lsn(); MariaDB @@read_only,
#     @@gtid_slave_pos, @@gtid_binlog_pos) and is refused SHOW SLAVE STATUS,
#     which multidb_app may run;
#   - `replicas.sh ctl` (unless CTL=0): pause stops applying (a new row stays
#     invisible) and resume catches up; stop refuses new connections, start
#     brings the replica back and it catches up; the spare, promoted
#     (PostgreSQL pg_promote) or made writable (MariaDB STOP SLAVE, read_only
#     =0) and written to, is rebuilt into a read-only replica with the
#     primary's data only. Each action's duration is printed. Through the
#     SLOWABLE replica URL (the delay proxy), `slow 500` holds each reply at
#     least 500 ms and `fast` takes the delay away.
# Creates and drops the objects multidb_selftest* in the test databases.
# Exit status 0 when every check passed.

# shellcheck disable=SC2015 # ok() cannot fail: A && ok || bad is fine here
set -euo pipefail

ROUNDS=${ROUNDS:-3}
CTL=${CTL:-1}
FAILED=0
REPLICAS_SH=$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/replicas.sh
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
# ctl STACK INSTANCE ACTION: run replicas.sh ctl, report its duration.
ctl() {
  local t0=$EPOCHREALTIME err
  if err=$("$REPLICAS_SH" ctl "$@" 2>&1); then
    ok "ctl $* in $(ms_since "$t0") ms"
  else
    bad "ctl $* failed: $err"
    return 1
  fi
}
# lag_ok NAME LAG_MS DELAY_MS: a lag fits a delay (0: under 100 ms).
lag_ok() {
  local name=$1 lag=$2 delay=$3
  if ((delay == 0)); then
    awk -v f="$lag" 'BEGIN { exit !(f < 100) }' && ok "$name lag ${lag} ms < 100 ms" || bad "$name lag ${lag} ms"
  else
    awk -v s="$lag" -v d="$delay" 'BEGIN { exit !(s >= d && s < d + 500) }' &&
      ok "$name lag ${lag} ms within [${delay}, ${delay}+500) ms" || bad "$name lag ${lag} ms"
  fi
}

[[ ${MULTIDB_TEST_SERVERS:-} == 1 ]] || {
  echo "MULTIDB_TEST_SERVERS is not set: run me under scripts/replicas.sh" >&2
  exit 2
}

# ---------------------------------------------------------------- PostgreSQL
pg_checks() {
  local p=$MULTIDB_PG_PRIMARY_URL r=$MULTIDB_PG_REPLICA_URL d=$MULTIDB_PG_DELAYED_REPLICA_URL
  local s=$MULTIDB_PG_SPARE_REPLICA_URL
  local delay=$MULTIDB_PG_REPLICA_DELAY_MS fast_delay=$MULTIDB_PG_FAST_REPLICA_DELAY_MS
  q() { PGOPTIONS="-c client_min_messages=warning" psql "$1" -X -q -At -v ON_ERROR_STOP=1 -c "$2"; }
  echo "PostgreSQL (delay ${delay} ms, fast replica delay ${fast_delay} ms)"
  [[ $(q "$p" 'SELECT pg_is_in_recovery()') == f ]] && ok "primary is not in recovery" || bad "primary in recovery"
  local u
  for u in "$r" "$d" "$s"; do
    [[ $(q "$u" 'SELECT pg_is_in_recovery()') == t ]] && ok "${u##*:} in recovery" || bad "${u##*:} not in recovery"
  done
  [[ $(q "$p" "SELECT string_agg(slot_name || '=' || active, ',' ORDER BY slot_name) FROM pg_replication_slots") == \
    multidb_delayed=true,multidb_replica=true,multidb_spare=true ]] &&
    ok "slots multidb_replica, multidb_delayed, multidb_spare in use" ||
    bad "slots: $(q "$p" "SELECT string_agg(slot_name || '=' || active, ',') FROM pg_replication_slots")"

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
  # Wait until the replicas have the table (the delayed one: about the delay).
  local t0=$EPOCHREALTIME
  for u in "$r" "$d" "$s"; do
    poll_until t q "$u" "SELECT to_regprocedure('multidb_selftest_wait(text, float8)') IS NOT NULL" ||
      bad "the test function never reached ${u##*:}"
  done
  echo "        setup visible on the three replicas after $(ms_since "$t0") ms"

  local err
  if err=$(q "$r" "INSERT INTO multidb_selftest (tag) VALUES ('on-replica')" 2>&1); then
    bad "INSERT on the replica succeeded"
  elif [[ $err == *"read-only transaction"* ]]; then
    ok "INSERT on the replica refused: ${err#ERROR:  }"
  else
    bad "INSERT on the replica failed oddly: $err"
  fi

  local i fast slow spare
  for ((i = 1; i <= ROUNDS; i++)); do
    q "$r" "SELECT multidb_selftest_wait('r$i', 10)" >/tmp/.mr-fast.$$ 2>&1 &
    local pf=$!
    q "$d" "SELECT multidb_selftest_wait('r$i', 10)" >/tmp/.mr-slow.$$ 2>&1 &
    local ps=$!
    q "$s" "SELECT multidb_selftest_wait('r$i', 10)" >/tmp/.mr-spare.$$ 2>&1 &
    local pp=$!
    sleep 0.2 # the watchers polling
    q "$p" "INSERT INTO multidb_selftest (tag) VALUES ('r$i')"
    wait "$pf" && wait "$ps" && wait "$pp" ||
      { bad "watchers failed: $(cat /tmp/.mr-fast.$$ /tmp/.mr-slow.$$ /tmp/.mr-spare.$$)"; continue; }
    fast=$(</tmp/.mr-fast.$$) slow=$(</tmp/.mr-slow.$$) spare=$(</tmp/.mr-spare.$$)
    printf '        round %d: fast replica %.2f ms, delayed replica %.1f ms, spare %.2f ms\n' "$i" "$fast" "$slow" "$spare"
    lag_ok "fast replica" "$fast" "$fast_delay"
    lag_ok "delayed replica" "$slow" "$delay"
    lag_ok "spare" "$spare" 0
  done
  rm -f /tmp/.mr-fast.$$ /tmp/.mr-slow.$$ /tmp/.mr-spare.$$

  pg_plain_checks
  ((CTL)) && pg_ctl_checks
  q "$p" "DROP TABLE multidb_selftest; DROP FUNCTION multidb_selftest_wait(text, float8)"
}

pg_plain_checks() {
  local p=$MULTIDB_PG_PLAIN_PRIMARY_URL u got
  [[ $(q "$p" "SELECT current_user || ',' || rolsuper FROM pg_roles WHERE rolname = current_user") == multidb_plain,false ]] &&
    ok "plain: connected as multidb_plain, not superuser" || bad "plain: not multidb_plain or superuser"
  got=$(q "$p" "SELECT pg_is_in_recovery(), pg_current_wal_lsn() IS NOT NULL, pg_current_wal_insert_lsn() IS NOT NULL" 2>&1)
  [[ $got == "f|t|t" ]] && ok "plain: primary pg_is_in_recovery(), pg_current_wal_lsn(), pg_current_wal_insert_lsn()" ||
    bad "plain on the primary: $got"
  got=$(q "$p" "CREATE TABLE multidb_selftest_plain (id int); INSERT INTO multidb_selftest_plain VALUES (1);
    SELECT count(*) FROM multidb_selftest_plain; DROP TABLE multidb_selftest_plain" 2>&1)
  [[ $got == 1 ]] && ok "plain: can create a table in public on the primary" || bad "plain: create table: $got"
  for u in "$MULTIDB_PG_PLAIN_REPLICA_URL" "$MULTIDB_PG_PLAIN_DELAYED_REPLICA_URL" "$MULTIDB_PG_PLAIN_SPARE_REPLICA_URL"; do
    got=$(q "$u" "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() IS NOT NULL, pg_last_wal_receive_lsn() IS NOT NULL" 2>&1)
    [[ $got == "t|t|t" ]] && ok "plain: ${u##*:} pg_is_in_recovery(), pg_last_wal_replay_lsn()" ||
      bad "plain on ${u##*:}: $got"
  done
  if got=$(q "$MULTIDB_PG_PLAIN_REPLICA_URL" "SELECT pg_wal_replay_pause()" 2>&1); then
    q "$MULTIDB_PG_REPLICA_URL" "SELECT pg_wal_replay_resume()" >/dev/null
    bad "plain: pg_wal_replay_pause() allowed"
  else
    ok "plain: pg_wal_replay_pause() refused (${got#ERROR:  })"
  fi
}

pg_ctl_checks() {
  local p=$MULTIDB_PG_PRIMARY_URL r=$MULTIDB_PG_REPLICA_URL s=$MULTIDB_PG_SPARE_REPLICA_URL
  local err t0 who url got
  ctl pg replica pause || return 0
  q "$p" "INSERT INTO multidb_selftest (tag) VALUES ('while-paused')"
  sleep 0.3
  got=$(q "$r" "SELECT count(*) FROM multidb_selftest WHERE tag = 'while-paused'")
  [[ $got == 0 ]] && ok "paused replica: a new row stays invisible for 300 ms" || bad "paused replica applied the row"
  got=$("$REPLICAS_SH" ctl pg replica status 2>&1)
  [[ $got == *"replay paused"* ]] && ok "ctl status: $got" || bad "ctl status of the paused replica: $got"
  ctl pg replica resume || return 0
  t0=$EPOCHREALTIME
  poll_until 1 q "$r" "SELECT count(*) FROM multidb_selftest WHERE tag = 'while-paused'" &&
    ok "resumed replica caught up ($(ms_since "$t0") ms)" || bad "resumed replica did not catch up"

  for who in replica spare; do
    url=$r
    [[ $who == spare ]] && url=$s
    ctl pg "$who" stop || return 0
    if err=$(q "$url" 'SELECT 1' 2>&1); then
      bad "$who answers after ctl stop"
    elif [[ $err == *"refused"* ]]; then
      ok "$who refuses connections after stop"
    else
      bad "$who after stop: $err"
    fi
    [[ $("$REPLICAS_SH" ctl pg "$who" status) == *": stopped" ]] && ok "ctl status: $who stopped" ||
      bad "ctl status: $("$REPLICAS_SH" ctl pg "$who" status 2>&1)"
    [[ $(MULTIDB_REPLICAS_DIR=$MULTIDB_REPLICAS_STATE_DIR "$REPLICAS_SH" status 2>&1) == running:* ]] && ok "the cluster still counts as running" ||
      bad "status with $who stopped: $(MULTIDB_REPLICAS_DIR=$MULTIDB_REPLICAS_STATE_DIR "$REPLICAS_SH" status 2>&1 | head -n1)"
    q "$p" "INSERT INTO multidb_selftest (tag) VALUES ('while-$who-stopped')"
    ctl pg "$who" start || return 0
    t0=$EPOCHREALTIME
    poll_until 1 q "$url" "SELECT count(*) FROM multidb_selftest WHERE tag = 'while-$who-stopped'" &&
      ok "$who caught up $(ms_since "$t0") ms after start" || bad "$who did not catch up after start"
    [[ $("$REPLICAS_SH" ctl pg "$who" status) == *"running, in recovery, replication streaming"* ]] &&
      ok "ctl status: $("$REPLICAS_SH" ctl pg "$who" status)" ||
      bad "ctl status after start: $("$REPLICAS_SH" ctl pg "$who" status 2>&1)"
  done

  # Promote the spare, write on it and on the primary, rebuild it.
  [[ $(q "$s" 'SELECT pg_promote(true, 10)') == t ]] && ok "spare promoted" || bad "pg_promote failed"
  q "$s" "INSERT INTO multidb_selftest (tag) VALUES ('on-promoted-spare')" 2>/dev/null &&
    ok "the promoted spare takes writes" || bad "the promoted spare refuses writes"
  q "$p" "INSERT INTO multidb_selftest (tag) VALUES ('after-promotion')"
  [[ $("$REPLICAS_SH" ctl pg spare status) == *"not in recovery"* ]] && ok "ctl status: $("$REPLICAS_SH" ctl pg spare status)" ||
    bad "ctl status of the promoted spare: $("$REPLICAS_SH" ctl pg spare status 2>&1)"
  ctl pg spare rebuild || return 0
  [[ $(q "$s" "SELECT pg_is_in_recovery(), (SELECT string_agg(tag, ',' ORDER BY tag) FROM multidb_selftest
      WHERE tag IN ('on-promoted-spare', 'after-promotion'))") == "t|after-promotion" ]] &&
    ok "rebuilt spare: in recovery, the primary's rows only" ||
    bad "rebuilt spare: $(q "$s" "SELECT pg_is_in_recovery(), (SELECT string_agg(tag, ',') FROM multidb_selftest)" 2>&1)"
  [[ $(q "$p" "SELECT active FROM pg_replication_slots WHERE slot_name = 'multidb_spare'") == t ]] &&
    ok "rebuilt spare streams through slot multidb_spare" || bad "slot multidb_spare not in use"
  q "$p" "INSERT INTO multidb_selftest (tag) VALUES ('after-rebuild')"
  t0=$EPOCHREALTIME
  poll_until 1 q "$s" "SELECT count(*) FROM multidb_selftest WHERE tag = 'after-rebuild'" &&
    ok "rebuilt spare replicates ($(ms_since "$t0") ms)" || bad "rebuilt spare does not replicate"
  [[ $(q "$MULTIDB_PG_PLAIN_SPARE_REPLICA_URL" 'SELECT pg_is_in_recovery()' 2>&1) == t ]] &&
    ok "plain user on the rebuilt spare" || bad "plain user on the rebuilt spare"
  ctl pg spare rebuild || return 0 # not promoted: works as well
  ctl pg delayed stop && ctl pg delayed start
  [[ $(q "$MULTIDB_PG_SLOWABLE_REPLICA_URL" 'SELECT pg_is_in_recovery()') == t ]] &&
    ok "the slowable URL reaches a replica" || bad "the slowable URL does not reach a replica"
  slow_checks pg q "$MULTIDB_PG_SLOWABLE_REPLICA_URL" 'SELECT 1'
}

# slow_checks STACK COMMAND...: COMMAND (a query through the delay proxy) takes
# 500 ms or more after `ctl STACK replica slow 500`, less after `fast`.
slow_checks() {
  local stack=$1 t0 took
  shift
  ctl "$stack" replica slow 500 || return 0
  t0=$EPOCHREALTIME
  "$@" >/dev/null
  took=$(ms_since "$t0")
  ((took >= 500)) && ok "a query through the slow proxy: $took ms" || bad "slow 500, yet a query took $took ms"
  ctl "$stack" replica fast || return 0
  t0=$EPOCHREALTIME
  "$@" >/dev/null
  took=$(ms_since "$t0")
  ((took < 500)) && ok "a query through the fast proxy: $took ms" || bad "fast, yet a query took $took ms"
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
  local delay=$MULTIDB_MYSQL_REPLICA_DELAY_MS fast_delay=$MULTIDB_MYSQL_FAST_REPLICA_DELAY_MS
  local -a P R D S
  mapfile -t P < <(my_args "$MULTIDB_MYSQL_PRIMARY_URL")
  mapfile -t R < <(my_args "$MULTIDB_MYSQL_REPLICA_URL")
  mapfile -t D < <(my_args "$MULTIDB_MYSQL_DELAYED_REPLICA_URL")
  mapfile -t S < <(my_args "$MULTIDB_MYSQL_SPARE_REPLICA_URL")
  m() { mariadb --no-defaults -N -B "$@"; }
  echo "MariaDB (delay ${delay} ms, fast replica delay ${fast_delay} ms)"
  [[ $(m "${P[@]}" -e 'SELECT @@read_only') == 0 ]] && ok "primary read_only=0" || bad "primary read_only"
  local who
  local -a a
  for who in replica delayed spare; do
    my_who "$who"
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
  for who in replica delayed spare; do
    my_who "$who"
    poll_until 1 m "${a[@]}" -e "SELECT COUNT(*) FROM multidb_selftest WHERE tag = 'setup'" ||
      bad "the test table never reached the $who"
  done
  echo "        setup visible on the three replicas after $(ms_since "$t0") ms"

  local err
  if err=$(m "${R[@]}" -e "INSERT INTO multidb_selftest (tag) VALUES ('on-replica')" 2>&1); then
    bad "INSERT on the replica succeeded"
  elif [[ $err == *"ERROR 1290"* ]]; then
    ok "INSERT on the replica refused: ${err#*: }"
  else
    bad "INSERT on the replica failed oddly: $err"
  fi

  local i fast slow spare
  for ((i = 1; i <= ROUNDS; i++)); do
    m "${R[@]}" -e "CALL multidb_selftest_wait('r$i', 10000)" >/tmp/.mr-fast.$$ 2>&1 &
    local pf=$!
    m "${D[@]}" -e "CALL multidb_selftest_wait('r$i', 10000)" >/tmp/.mr-slow.$$ 2>&1 &
    local ps=$!
    m "${S[@]}" -e "CALL multidb_selftest_wait('r$i', 10000)" >/tmp/.mr-spare.$$ 2>&1 &
    local pp=$!
    sleep 0.2$i # the watchers polling; vary the sub-second phase
    m "${P[@]}" -e "INSERT INTO multidb_selftest (tag) VALUES ('r$i')"
    wait "$pf" && wait "$ps" && wait "$pp" ||
      { bad "watchers failed: $(cat /tmp/.mr-fast.$$ /tmp/.mr-slow.$$ /tmp/.mr-spare.$$)"; continue; }
    fast=$(</tmp/.mr-fast.$$) slow=$(</tmp/.mr-slow.$$) spare=$(</tmp/.mr-spare.$$)
    printf '        round %d: fast replica %.2f ms, delayed replica %.1f ms, spare %.2f ms\n' "$i" "$fast" "$slow" "$spare"
    lag_ok "fast replica" "$fast" "$fast_delay"
    lag_ok "delayed replica" "$slow" "$delay"
    lag_ok "spare" "$spare" 0
  done
  rm -f /tmp/.mr-fast.$$ /tmp/.mr-slow.$$ /tmp/.mr-spare.$$

  my_plain_checks
  ((CTL)) && my_ctl_checks
  m "${P[@]}" -e "DROP TABLE multidb_selftest; DROP PROCEDURE multidb_selftest_wait"
}

# my_who NAME: set `a` to the client arguments of replica NAME (app user).
my_who() {
  case $1 in
    replica) a=("${R[@]}") ;;
    delayed) a=("${D[@]}") ;;
    spare) a=("${S[@]}") ;;
  esac
}

my_plain_checks() {
  local -a pl
  local u got err
  mapfile -t pl < <(my_args "$MULTIDB_MYSQL_PLAIN_PRIMARY_URL")
  got=$(m "${pl[@]}" -e "SELECT CURRENT_USER(), @@read_only, @@gtid_binlog_pos <> ''" 2>&1)
  [[ $got == "multidb_plain@%"$'\t'"0"$'\t'"1" ]] && ok "plain: primary @@read_only, @@gtid_binlog_pos" ||
    bad "plain on the primary: $got"
  got=$(m "${pl[@]}" -e "CREATE TABLE multidb_selftest_plain (id INT); INSERT INTO multidb_selftest_plain VALUES (1);
    SELECT COUNT(*) FROM multidb_selftest_plain; DROP TABLE multidb_selftest_plain" 2>&1)
  [[ $got == 1 ]] && ok "plain: can create a table in multidb on the primary" || bad "plain: create table: $got"
  got=$(m "${pl[@]}" -e "SHOW GRANTS" 2>&1)
  [[ $got != *"MONITOR"* && $got != *"READ_ONLY ADMIN"* && $got != *"SUPER"* ]] &&
    ok "plain: no MONITOR, READ_ONLY ADMIN or SUPER grant" || bad "plain grants: $got"
  for u in "$MULTIDB_MYSQL_PLAIN_REPLICA_URL" "$MULTIDB_MYSQL_PLAIN_DELAYED_REPLICA_URL" "$MULTIDB_MYSQL_PLAIN_SPARE_REPLICA_URL"; do
    mapfile -t pl < <(my_args "$u")
    got=$(m "${pl[@]}" -e "SELECT @@read_only, @@gtid_slave_pos <> '', @@gtid_binlog_pos IS NOT NULL" 2>&1)
    [[ $got == "1"$'\t'"1"$'\t'"1" ]] && ok "plain: ${pl[1]} @@read_only, @@gtid_slave_pos, @@gtid_binlog_pos" ||
      bad "plain on ${pl[1]}: $got"
    if err=$(m "${pl[@]}" -e "SHOW SLAVE STATUS" 2>&1); then
      bad "plain: SHOW SLAVE STATUS allowed on ${pl[1]}"
    else
      err=$(grep -m1 '^ERROR' <<<"$err") || true
      [[ $err == "ERROR 1227"* ]] && ok "plain: SHOW SLAVE STATUS refused on ${pl[1]}: $err" ||
        bad "plain: SHOW SLAVE STATUS on ${pl[1]} failed oddly: $err"
    fi
    if err=$(m "${pl[@]}" -e "INSERT INTO multidb_selftest (tag) VALUES ('plain-on-replica')" 2>&1); then
      bad "plain: INSERT on ${pl[1]} succeeded"
    else
      [[ $err == *"ERROR 1290"* ]] && ok "plain: INSERT on ${pl[1]} refused (1290)" || bad "plain INSERT on ${pl[1]}: $err"
    fi
  done
  local who
  local -a a
  for who in replica delayed spare; do
    my_who "$who"
    got=$(m "${a[@]}" --column-names -e 'SHOW SLAVE STATUS\G' 2>&1 | grep -c -E 'Slave_(IO|SQL)_Running: Yes')
    [[ $got == 2 ]] && ok "app: SHOW SLAVE STATUS on $who (replicating)" || bad "app: SHOW SLAVE STATUS on $who: $got"
  done
}

my_ctl_checks() {
  local -a A
  mapfile -t A < <(my_args "$MULTIDB_MYSQL_ADMIN_SPARE_REPLICA_URL")
  local err t0 who got
  local -a a
  ctl mariadb replica pause || return 0
  m "${P[@]}" -e "INSERT INTO multidb_selftest (tag) VALUES ('while-paused')"
  sleep 0.3
  got=$(m "${R[@]}" -e "SELECT COUNT(*) FROM multidb_selftest WHERE tag = 'while-paused'")
  [[ $got == 0 ]] && ok "paused replica: a new row stays invisible for 300 ms" || bad "paused replica applied the row"
  got=$("$REPLICAS_SH" ctl mariadb replica status 2>&1)
  [[ $got == *"replication stopped (io Yes, sql No)" ]] && ok "ctl status: $got" || bad "ctl status of the paused replica: $got"
  ctl mariadb replica resume || return 0
  t0=$EPOCHREALTIME
  poll_until 1 m "${R[@]}" -e "SELECT COUNT(*) FROM multidb_selftest WHERE tag = 'while-paused'" &&
    ok "resumed replica caught up ($(ms_since "$t0") ms)" || bad "resumed replica did not catch up"

  for who in replica spare; do
    my_who "$who"
    ctl mariadb "$who" stop || return 0
    if err=$(m "${a[@]}" -e 'SELECT 1' 2>&1); then
      bad "$who answers after ctl stop"
    elif [[ $err == *"ERROR 2002"* || $err == *"ERROR 2003"* ]]; then
      ok "$who refuses connections after stop (${err%% (*})"
    else
      bad "$who after stop: $err"
    fi
    [[ $("$REPLICAS_SH" ctl mariadb "$who" status) == *": stopped" ]] && ok "ctl status: $who stopped" ||
      bad "ctl status: $("$REPLICAS_SH" ctl mariadb "$who" status 2>&1)"
    [[ $(MULTIDB_REPLICAS_DIR=$MULTIDB_REPLICAS_STATE_DIR "$REPLICAS_SH" status 2>&1) == running:* ]] &&
      ok "the cluster still counts as running" ||
      bad "status with $who stopped: $(MULTIDB_REPLICAS_DIR=$MULTIDB_REPLICAS_STATE_DIR "$REPLICAS_SH" status 2>&1 | head -n1)"
    m "${P[@]}" -e "INSERT INTO multidb_selftest (tag) VALUES ('while-$who-stopped')"
    ctl mariadb "$who" start || return 0
    t0=$EPOCHREALTIME
    poll_until 1 m "${a[@]}" -e "SELECT COUNT(*) FROM multidb_selftest WHERE tag = 'while-$who-stopped'" &&
      ok "$who caught up $(ms_since "$t0") ms after start" || bad "$who did not catch up after start"
    got=$("$REPLICAS_SH" ctl mariadb "$who" status 2>&1)
    [[ $got == *"running, read_only=1, replication running" ]] && ok "ctl status: $got" || bad "ctl status after start: $got"
  done

  # Detach the spare (a promotion), write on it and on the primary, rebuild.
  m "${A[@]}" -e 'STOP SLAVE; SET GLOBAL read_only = 0' && ok "spare detached: STOP SLAVE, read_only=0" ||
    bad "could not detach the spare"
  m "${S[@]}" -e "INSERT INTO multidb_selftest (tag) VALUES ('on-detached-spare')" 2>/dev/null &&
    ok "the detached spare takes writes" || bad "the detached spare refuses writes"
  m "${P[@]}" -e "INSERT INTO multidb_selftest (tag) VALUES ('after-detach')"
  got=$("$REPLICAS_SH" ctl mariadb spare status 2>&1)
  [[ $got == *"read_only=0, replication stopped"* ]] && ok "ctl status: $got" || bad "ctl status of the detached spare: $got"
  ctl mariadb spare rebuild || return 0
  got=$(m "${S[@]}" -e "SELECT @@read_only, (SELECT GROUP_CONCAT(tag ORDER BY tag) FROM multidb_selftest
      WHERE tag IN ('on-detached-spare', 'after-detach'))" 2>&1)
  [[ $got == "1"$'\t'"after-detach" ]] && ok "rebuilt spare: read_only=1, the primary's rows only" || bad "rebuilt spare: $got"
  got=$("$REPLICAS_SH" ctl mariadb spare status 2>&1)
  [[ $got == *"running, read_only=1, replication running" ]] && ok "ctl status: $got" || bad "ctl status after rebuild: $got"
  m "${P[@]}" -e "INSERT INTO multidb_selftest (tag) VALUES ('after-rebuild')"
  t0=$EPOCHREALTIME
  poll_until 1 m "${S[@]}" -e "SELECT COUNT(*) FROM multidb_selftest WHERE tag = 'after-rebuild'" &&
    ok "rebuilt spare replicates ($(ms_since "$t0") ms)" || bad "rebuilt spare does not replicate"
  if err=$(m "${S[@]}" -e "INSERT INTO multidb_selftest (tag) VALUES ('on-rebuilt-spare')" 2>&1); then
    bad "INSERT on the rebuilt spare succeeded"
  else
    [[ $err == *"ERROR 1290"* ]] && ok "INSERT on the rebuilt spare refused (1290)" || bad "INSERT on the rebuilt spare: $err"
  fi
  ctl mariadb spare rebuild || return 0 # not detached: works as well
  ctl mariadb delayed stop && ctl mariadb delayed start
  local -a W
  mapfile -t W < <(my_args "$MULTIDB_MYSQL_SLOWABLE_REPLICA_URL")
  [[ $(m "${W[@]}" -e 'SELECT @@read_only') == 1 ]] && ok "the slowable URL reaches a replica" ||
    bad "the slowable URL does not reach a replica"
  slow_checks mariadb m "${W[@]}" -e 'SELECT 1'
}

[[ -n ${MULTIDB_PG_PRIMARY_URL:-} ]] && pg_checks
[[ -n ${MULTIDB_MYSQL_PRIMARY_URL:-} ]] && my_checks
if ((FAILED)); then
  echo "SOME CHECKS FAILED"
  exit 1
fi
echo "all checks passed"
