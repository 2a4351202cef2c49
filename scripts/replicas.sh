#!/usr/bin/env bash
# scripts/replicas.sh — throwaway PostgreSQL and MariaDB replication clusters on
# loopback, built from the server binaries installed on this machine, for the
# multidb integration tests.
#
# USAGE
#   scripts/replicas.sh run -- <command...>
#       Start the clusters, export the variables below, run the command, tear
#       everything down (always: also on failure, Ctrl-C, SIGTERM), and exit
#       with the command's exit status. This is what CI and the README use:
#           scripts/replicas.sh run -- cargo test --workspace
#   scripts/replicas.sh start     Start in the state folder and print `export`
#                                 lines on stdout (progress goes to stderr), so
#                                 `eval "$(scripts/replicas.sh start)"` works.
#                                 Already running: says so, prints them again.
#   scripts/replicas.sh env       Print the `export` lines of the running
#                                 clusters: eval "$(scripts/replicas.sh env)"
#   scripts/replicas.sh status    Say what is running (exit 1 if nothing).
#   scripts/replicas.sh stop      Stop every server and remove the state folder.
#   scripts/replicas.sh ctl <pg|mariadb> <primary|replica|delayed|spare> <action>
#       Act on one replica of the running cluster (found through
#       MULTIDB_REPLICAS_STATE_DIR, else as below), for failover and load
#       tests:
#         stop     hard stop: PostgreSQL `pg_ctl stop -m immediate`, MariaDB
#                  SIGKILL; returns once the server is gone.
#         start    start it again; returns once it accepts connections
#                  (replication resumes by itself, from where it stopped).
#         rebuild  stop it, throw its data away, make it a fresh replica of
#                  the primary again (PostgreSQL pg_basebackup with its slot;
#                  MariaDB a new installation replaying the primary's binlog
#                  from the start) and return once it has caught up. Meant
#                  for the spare after a test promoted it or made it
#                  writable.
#         pause    stop applying changes (PostgreSQL pg_wal_replay_pause(),
#                  returning once paused; MariaDB STOP SLAVE SQL_THREAD):
#                  changes keep arriving but are not applied.
#         resume   apply again (pg_wal_replay_resume(); START SLAVE
#                  SQL_THREAD). A restart (stop, start) also resumes.
#         status   print one line: running or stopped, in recovery /
#                  read_only, replication running, replay paused.
#         slow <ms>  `replica` only: its delay proxy (the SLOWABLE URL below)
#                  holds every reply <ms> ms from now on; the replica itself
#                  neither lags nor slows, and its other URLs stay fast.
#         fast     `replica` only: the same as slow 0 (the state at start).
#       Quiet on success; on failure a message on stderr and exit status 1.
#       An instance stopped with ctl stays stopped (and `status`, `env`
#       still count the cluster as running) until ctl start or rebuild.
#
# WHAT RUNS (default ports)
#   PostgreSQL (binaries under /usr/lib/postgresql/<newest>/bin, run as the
#   `postgres` user when we are root): primary 25432; streaming replica 25433
#   (`replica`, no delay unless MULTIDB_PG_FAST_REPLICA_DELAY_MS is set);
#   streaming replica 25434 (`delayed`) with recovery_min_apply_delay;
#   streaming replica 25435 (`spare`, never delayed), for destructive tests
#   (stop, promote, rebuild). Each replica has its own physical slot
#   multidb_<name>, so a stopped one catches up. Superuser `postgres`, trust
#   authentication, TCP on 127.0.0.1 only, no unix socket.
#   Users (PostgreSQL, created on the primary and replicated):
#     postgres        superuser (what the MULTIDB_PG_*_URL use).
#     multidb_plain   LOGIN only, not superuser, no password (trust); ALL on
#                     schema public of database postgres (can create tables).
#                     Can read pg_is_in_recovery(), pg_last_wal_replay_lsn(),
#                     pg_current_wal_lsn(): for monitors without privileges.
#   MariaDB: primary 23306 (binlog, GTID); GTID replica 23307 (`replica`, no
#   delay unless MULTIDB_MYSQL_FAST_REPLICA_DELAY_MS); GTID replica 23308
#   (`delayed`) with MASTER_DELAY; GTID replica 23309 (`spare`, never
#   delayed), for destructive tests. Replicas run with read_only=1.
#   Delay proxies (scripts/delay-proxy.py, python3): on PostgreSQL port +4
#   and MariaDB port +4 (25436, 23310), each in front of its stack's
#   `replica`, without delay until `ctl <stack> replica slow <ms>`.
#   Users (MariaDB, created on the primary and replicated):
#     multidb_app   / multidb        ALL on `multidb`.* and `multidb\_%`.* (so
#                                    tests may create databases multidb_*),
#                                    plus BINLOG MONITOR and SLAVE MONITOR
#                                    (SHOW SLAVE STATUS). No global write
#                                    privilege and no READ_ONLY ADMIN, so
#                                    read_only really rejects its writes on a
#                                    replica (error 1290). Root would not be
#                                    rejected: never use it on replicas.
#     multidb_plain / multidb        ALL on `multidb`.* and `multidb\_%`.*
#                                    and nothing else: no BINLOG MONITOR, no
#                                    SLAVE MONITOR (SHOW SLAVE STATUS fails),
#                                    no READ_ONLY ADMIN. Can still read
#                                    @@read_only, @@gtid_slave_pos and
#                                    @@gtid_binlog_pos: for monitors without
#                                    privileges.
#     multidb_admin / multidb_admin  ALL PRIVILEGES (for tests that need
#                                    STOP SLAVE and the like).
#     multidb_repl  / multidb_repl   REPLICATION SLAVE (used by the replicas).
#
# EXPORTED VARIABLES (what `env` prints and `run` exports)
#   MULTIDB_TEST_SERVERS=1
#   MULTIDB_PG_PRIMARY_URL=postgres://postgres@127.0.0.1:25432/postgres
#   MULTIDB_PG_REPLICA_URL=postgres://postgres@127.0.0.1:25433/postgres
#   MULTIDB_PG_DELAYED_REPLICA_URL=postgres://postgres@127.0.0.1:25434/postgres
#   MULTIDB_PG_SPARE_REPLICA_URL=postgres://postgres@127.0.0.1:25435/postgres
#   MULTIDB_PG_SLOWABLE_REPLICA_URL=postgres://postgres@127.0.0.1:25436/postgres
#                                         (`replica` through its delay proxy)
#   MULTIDB_PG_REPLICA_DELAY_MS=1000      (the delayed replica)
#   MULTIDB_PG_FAST_REPLICA_DELAY_MS=0    (the `replica` one)
#   MULTIDB_PG_PLAIN_PRIMARY_URL=postgres://multidb_plain@127.0.0.1:25432/postgres
#   MULTIDB_PG_PLAIN_REPLICA_URL, MULTIDB_PG_PLAIN_DELAYED_REPLICA_URL,
#   MULTIDB_PG_PLAIN_SPARE_REPLICA_URL       (same, as multidb_plain)
#   MULTIDB_MYSQL_PRIMARY_URL=mysql://multidb_app:multidb@127.0.0.1:23306/multidb
#   MULTIDB_MYSQL_REPLICA_URL=mysql://multidb_app:multidb@127.0.0.1:23307/multidb
#   MULTIDB_MYSQL_DELAYED_REPLICA_URL=mysql://multidb_app:multidb@127.0.0.1:23308/multidb
#   MULTIDB_MYSQL_SPARE_REPLICA_URL=mysql://multidb_app:multidb@127.0.0.1:23309/multidb
#   MULTIDB_MYSQL_SLOWABLE_REPLICA_URL=mysql://multidb_app:multidb@127.0.0.1:23310/multidb
#   MULTIDB_MYSQL_REPLICA_DELAY_MS=2000   (the delayed replica)
#   MULTIDB_MYSQL_FAST_REPLICA_DELAY_MS=0 (the `replica` one)
#   MULTIDB_MYSQL_ADMIN_PRIMARY_URL, MULTIDB_MYSQL_ADMIN_REPLICA_URL,
#   MULTIDB_MYSQL_ADMIN_DELAYED_REPLICA_URL,
#   MULTIDB_MYSQL_ADMIN_SPARE_REPLICA_URL    (same, as multidb_admin)
#   MULTIDB_MYSQL_PLAIN_PRIMARY_URL, MULTIDB_MYSQL_PLAIN_REPLICA_URL,
#   MULTIDB_MYSQL_PLAIN_DELAYED_REPLICA_URL,
#   MULTIDB_MYSQL_PLAIN_SPARE_REPLICA_URL    (same, as multidb_plain)
#   MULTIDB_REPLICAS_STATE_DIR=/dev/shm/multidb-replicas  (the state folder:
#                                     what `ctl` acts on)
#   Only the variables of the selected stacks are set (the others are unset).
#
# SETTINGS (environment)
#   MULTIDB_REPLICAS=all|pg|mariadb   which stacks to start (default all; they
#                                     start in parallel). `mysql` = mariadb.
#   MULTIDB_PG_PORT=25432             PostgreSQL primary port; replicas +1,
#                                     +2, +3 (replica, delayed, spare); the
#                                     delay proxy +4.
#   MULTIDB_MYSQL_PORT=23306          MariaDB primary port; replicas +1, +2,
#                                     +3; the delay proxy +4.
#                                     Keep ports below 32768 (the ephemeral
#                                     range starts there).
#   MULTIDB_PG_REPLICA_DELAY_MS=1000  delay of the delayed PostgreSQL replica.
#   MULTIDB_MYSQL_REPLICA_DELAY_MS=2000  delay of the delayed MariaDB replica;
#                                     whole seconds (MASTER_DELAY granularity).
#                                     MASTER_DELAY counts from the whole second
#                                     in which a write began: while the replica
#                                     applies older writes too, a write lags
#                                     as little as the delay less 1 s (with
#                                     1000, a write at x.8 s may show at
#                                     x+1 s). The tests need 2000 or more.
#   MULTIDB_PG_FAST_REPLICA_DELAY_MS=0     delay of the `replica` instance
#   MULTIDB_MYSQL_FAST_REPLICA_DELAY_MS=0  (default none; MariaDB: whole
#                                     seconds), e.g. for a benchmark where
#                                     every replica lags. The spare never lags.
#   MULTIDB_REPLICAS_DIR              state folder (default
#                                     /dev/shm/multidb-replicas when /dev/shm
#                                     has 400 MB free, else /tmp/multidb-replicas).
#                                     It holds everything: data, logs, sockets.
#                                     Two clusters at once need distinct ports
#                                     AND distinct folders.
#   MULTIDB_REPLICAS_TIMEOUT=60       seconds allowed for each startup step.
#   MULTIDB_PG_BINDIR                 PostgreSQL server binaries folder.
#   MULTIDB_REPLICAS_QUIET=1          no progress messages (errors still shown).
#
# Readiness means: every server accepts connections AND a marker written on
# each primary after the replicas started (a COMMENT on database `postgres`; a
# COMMENT on database `multidb`) is visible on every replica (replica,
# delayed, spare), delayed ones included. Missing server binaries are installed with apt-get when we are
# root and apt-get exists; otherwise the script says what to install.
# Linux only (uses /proc, setsid, runuser).

set -euo pipefail
shopt -s nullglob

SELF=$(readlink -f -- "${BASH_SOURCE[0]}")
readonly SELF
readonly MARKER_FILE=.multidb-replicas
readonly PG_SUPERUSER=postgres
readonly MY_DB=multidb
readonly MY_APP_USER=multidb_app MY_APP_PASSWORD=multidb
readonly MY_ADMIN_USER=multidb_admin MY_ADMIN_PASSWORD=multidb_admin
readonly MY_REPL_USER=multidb_repl MY_REPL_PASSWORD=multidb_repl
readonly PLAIN_USER=multidb_plain MY_PLAIN_PASSWORD=multidb # both stacks
readonly ALL_VARS=(
  MULTIDB_PG_PRIMARY_URL MULTIDB_PG_REPLICA_URL MULTIDB_PG_DELAYED_REPLICA_URL
  MULTIDB_PG_SPARE_REPLICA_URL MULTIDB_PG_REPLICA_DELAY_MS MULTIDB_PG_FAST_REPLICA_DELAY_MS
  MULTIDB_PG_PLAIN_PRIMARY_URL MULTIDB_PG_PLAIN_REPLICA_URL MULTIDB_PG_PLAIN_DELAYED_REPLICA_URL
  MULTIDB_PG_PLAIN_SPARE_REPLICA_URL MULTIDB_PG_SLOWABLE_REPLICA_URL
  MULTIDB_MYSQL_PRIMARY_URL MULTIDB_MYSQL_REPLICA_URL MULTIDB_MYSQL_DELAYED_REPLICA_URL
  MULTIDB_MYSQL_SPARE_REPLICA_URL MULTIDB_MYSQL_REPLICA_DELAY_MS MULTIDB_MYSQL_FAST_REPLICA_DELAY_MS
  MULTIDB_MYSQL_ADMIN_PRIMARY_URL MULTIDB_MYSQL_ADMIN_REPLICA_URL
  MULTIDB_MYSQL_ADMIN_DELAYED_REPLICA_URL MULTIDB_MYSQL_ADMIN_SPARE_REPLICA_URL
  MULTIDB_MYSQL_PLAIN_PRIMARY_URL MULTIDB_MYSQL_PLAIN_REPLICA_URL
  MULTIDB_MYSQL_PLAIN_DELAYED_REPLICA_URL MULTIDB_MYSQL_PLAIN_SPARE_REPLICA_URL
  MULTIDB_MYSQL_SLOWABLE_REPLICA_URL
)
# Instance names; index 0 is the primary, 1 the fast replica, 2 the delayed
# one, 3 the spare (for destructive tests).
readonly INSTANCES=(primary replica delayed spare)
readonly REPLICA_INDEXES=(1 2 3)

LOG_PREFIX="replicas"

# ---------------------------------------------------------------- utilities --

info() { [[ ${MULTIDB_REPLICAS_QUIET:-} == 1 ]] || printf '%s: %s\n' "$LOG_PREFIX" "$*" >&2; }
warn() { printf '%s: warning: %s\n' "$LOG_PREFIX" "$*" >&2; }
die() { printf '%s: error: %s\n' "$LOG_PREFIX" "$*" >&2; exit 1; }

# Print the last lines of a log file (indented) to stderr, for error messages.
show_log() {
  local file=$1 lines=${2:-25}
  if [[ -s $file ]]; then
    printf '%s: --- last lines of %s ---\n' "$LOG_PREFIX" "$file" >&2
    tail -n "$lines" -- "$file" | sed 's/^/    /' >&2
  fi
}

now_us() { local t=${EPOCHREALTIME//[.,]/}; printf '%s' "$t"; }
# Seconds since a now_us() timestamp, with one decimal: "1.4".
since() {
  local ms=$(( ($(now_us) - $1) / 1000 ))
  printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100))
}

is_root() { ((EUID == 0)); }

# Run a PostgreSQL server tool: as the postgres user when we are root.
as_pg() {
  if is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

# True if the process exists and is not a zombie (a killed daemon whose
# parent is init can stay a zombie for seconds; it holds no port or file).
pid_alive() {
  local stat
  [[ $1 =~ ^[0-9]+$ ]] || return 1
  { read -r stat < "/proc/$1/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != [ZX] ]]
}

# True if the process' command line mentions the folder $2.
pid_mentions() {
  local -a argv=()
  local arg
  { mapfile -d '' -t argv < "/proc/$1/cmdline"; } 2>/dev/null || return 1
  for arg in "${argv[@]}"; do
    [[ $arg == "$2" || $arg == *"$2/"* ]] && return 0
  done
  return 1
}

# ------------------------------------------------------------ configuration --

load_config() {
  local sel=${MULTIDB_REPLICAS:-all}
  case $sel in
    all | both | '') WANT_PG=1 WANT_MY=1 ;;
    pg | postgres | postgresql) WANT_PG=1 WANT_MY=0 ;;
    mariadb | mysql) WANT_PG=0 WANT_MY=1 ;;
    *) die "MULTIDB_REPLICAS must be all, pg or mariadb (got '$sel')" ;;
  esac
  PG_PORT=${MULTIDB_PG_PORT:-25432}
  MY_PORT=${MULTIDB_MYSQL_PORT:-23306}
  PG_DELAY_MS=${MULTIDB_PG_REPLICA_DELAY_MS:-1000}
  MY_DELAY_MS=${MULTIDB_MYSQL_REPLICA_DELAY_MS:-2000}
  PG_FAST_DELAY_MS=${MULTIDB_PG_FAST_REPLICA_DELAY_MS:-0}
  MY_FAST_DELAY_MS=${MULTIDB_MYSQL_FAST_REPLICA_DELAY_MS:-0}
  TIMEOUT=${MULTIDB_REPLICAS_TIMEOUT:-60}
  local name value
  for name in PG_PORT MY_PORT PG_DELAY_MS MY_DELAY_MS PG_FAST_DELAY_MS MY_FAST_DELAY_MS TIMEOUT; do
    value=${!name}
    [[ $value =~ ^[0-9]+$ ]] || die "$name must be a number (got '$value')"
  done
  # Base 10 from here on: a leading zero would make bash read octal.
  for name in PG_PORT MY_PORT PG_DELAY_MS MY_DELAY_MS PG_FAST_DELAY_MS MY_FAST_DELAY_MS TIMEOUT; do
    printf -v "$name" '%d' "$((10#${!name}))"
  done
  ((PG_PORT >= 1024 && PG_PORT + 4 < 32768)) ||
    die "MULTIDB_PG_PORT must be between 1024 and 32763, below the ephemeral port range (got $PG_PORT)"
  ((MY_PORT >= 1024 && MY_PORT + 4 < 32768)) ||
    die "MULTIDB_MYSQL_PORT must be between 1024 and 32763, below the ephemeral port range (got $MY_PORT)"
  if ((WANT_PG && WANT_MY)) && ((PG_PORT + 4 >= MY_PORT && MY_PORT + 4 >= PG_PORT)); then
    die "the PostgreSQL ports ($PG_PORT-$((PG_PORT + 4))) and MariaDB ports ($MY_PORT-$((MY_PORT + 4))) overlap"
  fi
  ((PG_DELAY_MS > 0)) || die "MULTIDB_PG_REPLICA_DELAY_MS must be positive"
  ((MY_DELAY_MS > 0 && MY_DELAY_MS % 1000 == 0)) ||
    die "MULTIDB_MYSQL_REPLICA_DELAY_MS must be a positive multiple of 1000 (MariaDB's MASTER_DELAY is in seconds); got $MY_DELAY_MS"
  ((MY_FAST_DELAY_MS % 1000 == 0)) ||
    die "MULTIDB_MYSQL_FAST_REPLICA_DELAY_MS must be a multiple of 1000 (MariaDB's MASTER_DELAY is in seconds); got $MY_FAST_DELAY_MS"
  ((TIMEOUT > 0)) || die "MULTIDB_REPLICAS_TIMEOUT must be positive"
  SELECTION=""
  ((WANT_PG)) && SELECTION+="pg "
  ((WANT_MY)) && SELECTION+="mariadb "
  SELECTION=${SELECTION% }
}

pg_port() { echo $((PG_PORT + $1)); }
my_port() { echo $((MY_PORT + $1)); }

# The replay delay of an instance (by index), in milliseconds.
pg_delay_of() { case $1 in 1) echo "$PG_FAST_DELAY_MS" ;; 2) echo "$PG_DELAY_MS" ;; *) echo 0 ;; esac; }
my_delay_of() { case $1 in 1) echo "$MY_FAST_DELAY_MS" ;; 2) echo "$MY_DELAY_MS" ;; *) echo 0 ;; esac; }

# The state folder: MULTIDB_REPLICAS_DIR, else an existing default folder,
# else /dev/shm when it has room (memory-backed: fast), else /tmp.
resolve_dir() {
  if [[ -n ${MULTIDB_REPLICAS_DIR:-} ]]; then
    local d=$MULTIDB_REPLICAS_DIR
    [[ $d == /* ]] || d=$PWD/$d
    printf '%s\n' "${d%/}"
    return
  fi
  local base
  for base in /dev/shm /tmp; do
    if [[ -e $base/multidb-replicas ]]; then
      printf '%s\n' "$base/multidb-replicas"
      return
    fi
  done
  local avail_kb
  avail_kb=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }') || avail_kb=0
  if [[ -d /dev/shm && -w /dev/shm && ${avail_kb:-0} =~ ^[0-9]+$ ]] && ((avail_kb >= 400 * 1024)); then
    echo /dev/shm/multidb-replicas
  else
    echo /tmp/multidb-replicas
  fi
}

# ----------------------------------------------------------------- binaries --

find_pg_bindir() {
  local d
  if [[ -n ${MULTIDB_PG_BINDIR:-} ]]; then
    [[ -x $MULTIDB_PG_BINDIR/postgres ]] && { echo "$MULTIDB_PG_BINDIR"; return 0; }
    return 1
  fi
  while read -r d; do
    if [[ -x $d/postgres && -x $d/initdb && -x $d/pg_ctl && -x $d/pg_basebackup && -x $d/psql ]]; then
      echo "$d"
      return 0
    fi
  done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5,5 -rn)
  d=$(command -v initdb 2>/dev/null) || return 1
  d=${d%/*}
  [[ -x $d/postgres && -x $d/pg_ctl && -x $d/pg_basebackup && -x $d/psql ]] || return 1
  echo "$d"
}

find_my_bin() { # name: look on PATH and in the sbin folders (not on a user's PATH)
  local d
  command -v "$1" 2>/dev/null && return 0
  for d in /usr/sbin /usr/local/sbin /sbin; do
    [[ -x $d/$1 ]] && { echo "$d/$1"; return 0; }
  done
  return 1
}

locate_binaries() {
  MISSING=()
  if ((WANT_PG)); then
    PG_BIN=$(find_pg_bindir) || MISSING+=(postgresql)
  fi
  if ((WANT_MY)); then
    MY_SERVER_BIN=$(find_my_bin mariadbd) &&
      MY_INSTALL_BIN=$(find_my_bin mariadb-install-db) &&
      MY_CLIENT_BIN=$(find_my_bin mariadb) || MISSING+=(mariadb-server mariadb-client)
  fi
  command -v setsid >/dev/null || MISSING+=(util-linux)
  return 0
}

# A second message language for the tests that check errors are recognised
# by code, not by their English text (PostgreSQL `SET lc_messages`).
ensure_test_locale() {
  ((WANT_PG)) || return 0
  locale -a 2>/dev/null | grep -qix 'de_DE.utf8' && return 0
  if is_root && command -v localedef >/dev/null && [[ -d /usr/share/i18n/locales ]]; then
    localedef -i de_DE -f UTF-8 de_DE.UTF-8 >/dev/null 2>&1 ||
      warn "could not generate the de_DE.UTF-8 locale: the German-messages test will fail"
  else
    warn "no de_DE.UTF-8 locale (as root: localedef -i de_DE -f UTF-8 de_DE.UTF-8): the German-messages test will fail"
  fi
}

ensure_binaries() {
  ensure_test_locale
  # What the tests build with (pg_query's bindgen and protoc); installed as
  # root, else it says what to install.
  bash "$(dirname "$SELF")/test-deps.sh" || warn "the test suite needs libclang-dev and protobuf-compiler (see scripts/test-deps.sh)"
  locate_binaries
  ((${#MISSING[@]} == 0)) && return 0
  if is_root && command -v apt-get >/dev/null; then
    info "installing missing packages: ${MISSING[*]} (apt-get)"
    # Debian's postinst may start the system servers on 5432/3306: harmless.
    {
      DEBIAN_FRONTEND=noninteractive apt-get update -q &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${MISSING[@]}"
    } >&2 || die "apt-get install ${MISSING[*]} failed"
    locate_binaries
    ((${#MISSING[@]} == 0)) || die "still missing after apt-get install: ${MISSING[*]}"
    return 0
  fi
  die "missing server binaries. Install them, e.g. on Debian/Ubuntu (as root):
    apt-get update && apt-get install -y ${MISSING[*]}
  (needed: PostgreSQL server tools initdb, pg_ctl, postgres, pg_basebackup, psql
   under /usr/lib/postgresql/<version>/bin or MULTIDB_PG_BINDIR; MariaDB mariadbd,
   mariadb-install-db, mariadb). Or select one stack with MULTIDB_REPLICAS=pg|mariadb."
}

# ---------------------------------------------------------------- env lines --

# The variable-name part of each instance: MULTIDB_<stack>_<part>_URL.
readonly URL_PARTS=(PRIMARY REPLICA DELAYED_REPLICA SPARE_REPLICA)

env_lines() { # selection (as recorded), state dir -> export/unset lines
  local sel=" $1 " dir=$2 name i
  local -a set_vars=()
  echo "export MULTIDB_TEST_SERVERS=1"
  echo "export MULTIDB_REPLICAS_STATE_DIR=$dir"
  if [[ $sel == *" pg "* ]]; then
    for i in 0 1 2 3; do
      set_vars+=("MULTIDB_PG_${URL_PARTS[$i]}_URL" "MULTIDB_PG_PLAIN_${URL_PARTS[$i]}_URL")
      echo "export MULTIDB_PG_${URL_PARTS[$i]}_URL=postgres://$PG_SUPERUSER@127.0.0.1:$(pg_port "$i")/postgres"
    done
    for i in 0 1 2 3; do
      echo "export MULTIDB_PG_PLAIN_${URL_PARTS[$i]}_URL=postgres://$PLAIN_USER@127.0.0.1:$(pg_port "$i")/postgres"
    done
    set_vars+=(MULTIDB_PG_SLOWABLE_REPLICA_URL)
    echo "export MULTIDB_PG_SLOWABLE_REPLICA_URL=postgres://$PG_SUPERUSER@127.0.0.1:$(pg_port 4)/postgres"
    set_vars+=(MULTIDB_PG_REPLICA_DELAY_MS MULTIDB_PG_FAST_REPLICA_DELAY_MS)
    echo "export MULTIDB_PG_REPLICA_DELAY_MS=$PG_DELAY_MS"
    echo "export MULTIDB_PG_FAST_REPLICA_DELAY_MS=$PG_FAST_DELAY_MS"
  fi
  if [[ $sel == *" mariadb "* ]]; then
    local app="$MY_APP_USER:$MY_APP_PASSWORD" adm="$MY_ADMIN_USER:$MY_ADMIN_PASSWORD"
    local plain="$PLAIN_USER:$MY_PLAIN_PASSWORD"
    for i in 0 1 2 3; do
      set_vars+=("MULTIDB_MYSQL_${URL_PARTS[$i]}_URL" "MULTIDB_MYSQL_ADMIN_${URL_PARTS[$i]}_URL"
        "MULTIDB_MYSQL_PLAIN_${URL_PARTS[$i]}_URL")
      echo "export MULTIDB_MYSQL_${URL_PARTS[$i]}_URL=mysql://$app@127.0.0.1:$(my_port "$i")/$MY_DB"
    done
    set_vars+=(MULTIDB_MYSQL_REPLICA_DELAY_MS MULTIDB_MYSQL_FAST_REPLICA_DELAY_MS)
    echo "export MULTIDB_MYSQL_REPLICA_DELAY_MS=$MY_DELAY_MS"
    echo "export MULTIDB_MYSQL_FAST_REPLICA_DELAY_MS=$MY_FAST_DELAY_MS"
    for i in 0 1 2 3; do
      echo "export MULTIDB_MYSQL_ADMIN_${URL_PARTS[$i]}_URL=mysql://$adm@127.0.0.1:$(my_port "$i")/$MY_DB"
    done
    for i in 0 1 2 3; do
      echo "export MULTIDB_MYSQL_PLAIN_${URL_PARTS[$i]}_URL=mysql://$plain@127.0.0.1:$(my_port "$i")/$MY_DB"
    done
    set_vars+=(MULTIDB_MYSQL_SLOWABLE_REPLICA_URL)
    echo "export MULTIDB_MYSQL_SLOWABLE_REPLICA_URL=mysql://$app@127.0.0.1:$(my_port 4)/$MY_DB"
  fi
  for name in "${ALL_VARS[@]}"; do
    [[ " ${set_vars[*]} " == *" $name "* ]] || echo "unset $name"
  done
}

# ------------------------------------------------------------------- ports --

check_ports() {
  local -a ports=() busy=()
  local i port
  for i in 0 1 2 3 4; do
    ((WANT_PG)) && ports+=($((PG_PORT + i)))
    ((WANT_MY)) && ports+=($((MY_PORT + i)))
  done
  local listening=""
  if command -v ss >/dev/null; then
    listening=$(ss -Hltnp 2>/dev/null || ss -Hltn 2>/dev/null || true)
  fi
  for port in "${ports[@]}"; do
    if [[ -n $listening ]]; then
      local line
      line=$(awk -v p=":$port" 'substr($4, length($4) - length(p) + 1) == p' <<<"$listening")
      [[ -n $line ]] && busy+=("$port ($(awk '{ print $4, $6 }' <<<"$line" | head -n1))")
    elif (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      busy+=("$port")
    fi
  done
  if ((${#busy[@]})); then
    die "port(s) already in use: ${busy[*]}.
  Another cluster may be running: 'scripts/replicas.sh stop', or choose other
  ports with MULTIDB_PG_PORT / MULTIDB_MYSQL_PORT (and another MULTIDB_REPLICAS_DIR)."
  fi
}

# ============================================================== PostgreSQL ==

pg_sql() { # port sql
  PGCONNECT_TIMEOUT=5 "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$1" -U "$PG_SUPERUSER" -d postgres -c "$2"
}

pg_start() { # name
  local name=$1 dir=$PG_STATE/$1
  if ! as_pg "$PG_BIN/pg_ctl" start -w -s -t "$TIMEOUT" -D "$dir" -l "$PG_STATE/$name.log" \
    >>"$PG_STATE/pg_ctl.log" 2>&1; then
    show_log "$PG_STATE/pg_ctl.log" 5
    show_log "$PG_STATE/$name.log"
    die "PostgreSQL $name (port $(pg_port "$(instance_index "$name")")) did not start"
  fi
}

instance_index() { case $1 in primary) echo 0 ;; replica) echo 1 ;; delayed) echo 2 ;; spare) echo 3 ;; esac; }

# Copy the primary into $PG_STATE/<folder> (which must not exist), as a
# standby (-R). Without a slot pg_basebackup streams the WAL it needs through
# a temporary one.
pg_basebackup_into() { # folder [slot]
  local folder=$1 slot=${2:-}
  local -a slot_args=()
  [[ -n $slot ]] && slot_args=(-S "$slot")
  if ! as_pg "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$(pg_port 0)" -U "$PG_SUPERUSER" \
    -D "$PG_STATE/$folder" -R -X stream -c fast "${slot_args[@]}" --no-sync \
    >"$PG_STATE/$folder.basebackup.log" 2>&1; then
    show_log "$PG_STATE/$folder.basebackup.log"
    show_log "$PG_STATE/primary.log" 10
    die "pg_basebackup for the PostgreSQL $folder failed"
  fi
}

# Make the standby copy in $PG_STATE/<name> that replica: its port, slot and
# delay. pg_basebackup copied the primary's postgresql.conf (port included);
# postgresql.auto.conf is read last, and its last setting of a name wins.
pg_configure_replica() { # name
  local name=$1 i delay
  i=$(instance_index "$name")
  delay=$(pg_delay_of "$i")
  {
    echo "port = $(pg_port "$i")"
    echo "cluster_name = 'multidb_$name'"
    echo "primary_slot_name = 'multidb_$name'"
    ((delay == 0)) || echo "recovery_min_apply_delay = '${delay}ms'"
  } >>"$PG_STATE/$name/postgresql.auto.conf"
}

# Copy the primary into $PG_STATE/<name> (which must not exist), configure it
# as that replica and start it.
pg_make_replica() { # name
  pg_basebackup_into "$1" "multidb_$1"
  pg_configure_replica "$1"
  pg_start "$1"
}

# Wait until the replica on `port` shows the marker comment.
pg_wait_marker() { # name token t0
  local name=$1 token=$2 t0=$3 port got deadline
  port=$(pg_port "$(instance_index "$name")")
  deadline=$(($(now_us) + TIMEOUT * 1000000))
  while :; do
    got=$(pg_sql "$port" "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = 'postgres'" 2>/dev/null) || got=""
    [[ $got == "$token" ]] && break
    if (($(now_us) > deadline)); then
      show_log "$PG_STATE/$name.log"
      die "PostgreSQL $name (port $port) did not replay the marker within ${TIMEOUT}s"
    fi
    sleep 0.01
  done
  info "$name replayed the marker after $(since "$t0") s"
}

stack_pg() { # state-dir
  pg_setup_env "$1"
  mkdir -p "$PG_STATE"
  chmod 0700 "$PG_STATE"
  is_root && chown postgres: "$PG_STATE"
  cd "$PG_STATE" # the server tools run with this as working folder

  local t0
  t0=$(now_us)
  # Created here, not by initdb: if initdb is interrupted it then keeps the
  # (emptied) folder, whose inode number is the key of any System V shared
  # memory left behind, which teardown then finds and removes.
  mkdir -m 0700 "$PG_STATE/primary"
  is_root && chown postgres: "$PG_STATE/primary"
  if ! as_pg "$PG_BIN/initdb" -D "$PG_STATE/primary" -U "$PG_SUPERUSER" --auth=trust \
    --encoding=UTF8 --locale=C --wal-segsize=1 --no-sync >"$PG_STATE/initdb.log" 2>&1; then
    show_log "$PG_STATE/initdb.log"
    die "initdb failed"
  fi
  cat >>"$PG_STATE/primary/postgresql.conf" <<EOF

# --- multidb scripts/replicas.sh: throwaway test cluster ---
listen_addresses = '127.0.0.1'
port = $(pg_port 0)
unix_socket_directories = ''
cluster_name = 'multidb_primary'
max_connections = 200
shared_buffers = 32MB
fsync = off
full_page_writes = off
min_wal_size = 4MB
max_wal_size = 64MB
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
hot_standby_feedback = on
wal_receiver_status_interval = 1s
EOF
  pg_start primary
  info "primary up on $(pg_port 0) after $(since "$t0") s"
  # The unprivileged user, before the copies: they get it with the data.
  pg_sql "$(pg_port 0)" "CREATE ROLE $PLAIN_USER LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
      GRANT ALL ON SCHEMA public TO $PLAIN_USER" >/dev/null ||
    die "could not create the $PLAIN_USER role on the PostgreSQL primary"

  # Slots created (and reserving WAL) before the copies start: with
  # pg_basebackup -C, two copies in parallel race, the checkpoint of one
  # removing a WAL segment the other has yet to stream ("requested WAL segment
  # ... has already been removed"). Slots also let a replica paused or stopped
  # by a test catch up later.
  pg_sql "$(pg_port 0)" "SELECT pg_create_physical_replication_slot('multidb_replica', true),
      pg_create_physical_replication_slot('multidb_delayed', true),
      pg_create_physical_replication_slot('multidb_spare', true)" >/dev/null ||
    die "could not create the replication slots on the PostgreSQL primary"
  # One base backup, copied for the other replicas before any starts
  # (cheaper than one each on two cores: a local copy instead of a
  # checkpoint and a stream per replica). The slots, created before it, hold
  # the WAL each replica needs from there.
  pg_basebackup_into replica
  local -a jobs=()
  local r
  for r in 2 3; do
    cp -a -- "$PG_STATE/replica" "$PG_STATE/${INSTANCES[$r]}" &
    jobs+=($!)
  done
  for r in "${jobs[@]}"; do wait "$r" || die "could not copy the PostgreSQL base backup"; done
  jobs=()
  for r in "${REPLICA_INDEXES[@]}"; do
    pg_configure_replica "${INSTANCES[$r]}"
    pg_start "${INSTANCES[$r]}" &
    jobs+=($!)
  done
  for r in "${jobs[@]}"; do wait "$r" || exit 1; done
  info "replicas up on $(pg_port 1) (delay ${PG_FAST_DELAY_MS} ms), $(pg_port 2) (delay ${PG_DELAY_MS} ms), $(pg_port 3) after $(since "$t0") s"

  local token t1
  token="multidb-replicas marker $(now_us)-$$"
  pg_sql "$(pg_port 0)" "COMMENT ON DATABASE postgres IS '$token'" ||
    die "could not write the marker on the PostgreSQL primary"
  t1=$(now_us)
  # The spare and the fast replica first: the delayed one takes longest.
  pg_wait_marker spare "$token" "$t1"
  pg_wait_marker replica "$token" "$t1"
  pg_wait_marker delayed "$token" "$t1"
  for r in "${REPLICA_INDEXES[@]}"; do
    [[ $(pg_sql "$(pg_port "$r")" "SELECT pg_is_in_recovery()") == t ]] ||
      die "PostgreSQL ${INSTANCES[$r]} is not in recovery"
  done
  start_delay_proxy "$PG_STATE" "$(pg_port 4)" "$(pg_port 1)"
  info "ready after $(since "$t0") s"
}

# ================================================================= MariaDB ==

my_root() { # index sql...: run SQL as root over the unix socket
  local i=$1
  shift
  "$MY_CLIENT_BIN" --no-defaults --protocol=socket -S "$MY_STATE/${INSTANCES[$i]}/mysqld.sock" -u"$MY_SOCKET_USER" \
    --connect-timeout=5 -N -B "$@"
}

my_write_cnf() { # index
  local i=$1 name=${INSTANCES[$1]}
  local d=$MY_STATE/$name
  mkdir -p "$d/tmp"
  {
    echo "# multidb scripts/replicas.sh: MariaDB $name (throwaway test server)"
    echo "[mysqld]"
    is_root && echo "user = mysql"
    echo "datadir = $d/data"
    echo "tmpdir = $d/tmp"
    echo "socket = $d/mysqld.sock"
    echo "pid-file = $d/mariadbd.pid"
    echo "log-error = $d/error.log"
    echo "port = $(my_port "$i")"
    echo "bind-address = 127.0.0.1"
    echo "skip-name-resolve"
    echo "server-id = $((i + 1))"
    echo "gtid-strict-mode = 1"
    if ((i == 0)); then
      echo "log-bin = mariadb-bin"
      echo "binlog-format = ROW"
    else
      echo "read-only = 1"
      echo "relay-log = relay-bin"
    fi
    echo "character-set-server = utf8mb4"
    echo "collation-server = utf8mb4_general_ci"
    echo "max-connections = 200"
    echo "innodb-log-file-size = 16M"
    echo "innodb-buffer-pool-size = 32M"
    echo "innodb-flush-log-at-trx-commit = 2"
    echo "innodb-doublewrite = 0"
    echo "sync-binlog = 0"
    echo "performance-schema = 0"
  } >"$d/my.cnf"
}

my_launch() { # index
  local name=${INSTANCES[$1]}
  local d=$MY_STATE/$name
  # --defaults-file must be the first argument. setsid: a session of its own,
  # so a Ctrl-C on the terminal does not reach it; teardown stops it.
  setsid "$MY_SERVER_BIN" --defaults-file="$d/my.cnf" </dev/null >>"$d/stdout.log" 2>&1 &
  echo $! >"$d/launch.pid"
}

my_wait_up() { # index
  local i=$1 name=${INSTANCES[$1]} deadline pid
  local d=$MY_STATE/$name
  pid=$(<"$d/launch.pid")
  deadline=$(($(now_us) + TIMEOUT * 1000000))
  local err
  until err=$(my_root "$i" -e 'SELECT 1' 2>&1 >/dev/null); do
    if [[ $err == *"ERROR 1045"* || $err == *"ERROR 1698"* ]]; then
      die "MariaDB $name refuses the administrator login over its socket: $err"
    fi
    if ! pid_alive "$pid"; then
      show_log "$d/error.log"
      show_log "$d/stdout.log" 10
      die "MariaDB $name (port $(my_port "$i")) exited during startup"
    fi
    if (($(now_us) > deadline)); then
      show_log "$d/error.log"
      die "MariaDB $name (port $(my_port "$i")) did not accept connections within ${TIMEOUT}s"
    fi
    sleep 0.02
  done
}

my_wait_marker() { # index gtid token t0
  local i=$1 gtid=$2 token=$3 t0=$4 name=${INSTANCES[$1]} deadline got
  deadline=$(($(now_us) + TIMEOUT * 1000000))
  while :; do
    got=$(my_root "$i" -e "SELECT MASTER_GTID_WAIT('$gtid', 0.5),
        (SELECT SCHEMA_COMMENT FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '$MY_DB')" 2>&1) || got=""
    [[ $got == "0"$'\t'"$token" ]] && break
    [[ $got == -1* ]] || sleep 0.02
    if (($(now_us) > deadline)); then
      printf '%s: --- SHOW SLAVE STATUS on MariaDB %s ---\n' "$LOG_PREFIX" "$name" >&2
      my_root "$i" --column-names -e 'SHOW SLAVE STATUS\G' 2>&1 |
        grep -E 'Slave_(IO|SQL)_Running:|Last_(IO|SQL)_Error:|Gtid_IO_Pos|Seconds_Behind' | sed 's/^/    /' >&2 || true
      show_log "$MY_STATE/$name/error.log"
      die "MariaDB $name (port $(my_port "$i")) did not replicate the marker within ${TIMEOUT}s"
    fi
  done
  info "$name replicated the marker after $(since "$t0") s"
}

# Point replica `index` at the primary, from GTID position `pos`, with its
# delay, and start replicating.
my_follow_primary() { # index pos
  local i=$1 pos=$2 delay
  delay=$(($(my_delay_of "$i") / 1000))
  my_root "$i" <<EOF || die "could not configure replication on MariaDB ${INSTANCES[$i]}"
SET GLOBAL gtid_slave_pos = '$pos';
CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = $(my_port 0),
  MASTER_USER = '$MY_REPL_USER', MASTER_PASSWORD = '$MY_REPL_PASSWORD',
  MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1, MASTER_DELAY = $delay;
START SLAVE;
EOF
}

# Install the system tables in the data folder of instance `index` (which
# must not exist). The administrator account: the OS user we run as, over the
# unix socket (unix_socket authentication, no password).
my_install() { # index log
  local i=$1 log=$2 d=$MY_STATE/${INSTANCES[$1]}
  if ! "$MY_INSTALL_BIN" --defaults-file="$d/my.cnf" --skip-test-db \
    --skip-name-resolve --auth-root-authentication-method=socket \
    --auth-root-socket-user="$MY_SOCKET_USER" >"$log" 2>&1; then
    show_log "$log"
    show_log "$d/error.log"
    die "mariadb-install-db failed"
  fi
}

stack_mariadb() { # state-dir
  my_setup_env "$1"
  local -r sock_path="$MY_STATE/delayed/mysqld.sock"
  ((${#sock_path} < 100)) ||
    die "state folder path too long for a unix socket ($sock_path); set a shorter MULTIDB_REPLICAS_DIR"
  mkdir -p "$MY_STATE"
  cd "$MY_STATE"
  local t0 i
  t0=$(now_us)
  for i in 0 1 2 3; do my_write_cnf "$i"; done
  is_root && chown -R mysql: "$MY_STATE"

  # One installation, copied before first start: every server then has the
  # same system tables; the replicas replay everything the primary does after.
  my_install 0 "$MY_STATE/install.log"
  # In parallel: the copies are independent (two cores).
  local -a jobs=()
  for i in "${REPLICA_INDEXES[@]}"; do
    cp -a "$MY_STATE/primary/data" "$MY_STATE/${INSTANCES[$i]}/data" &
    jobs+=($!)
  done
  for i in "${jobs[@]}"; do wait "$i" || die "could not copy the MariaDB data folder"; done
  for i in 0 1 2 3; do my_launch "$i"; done

  my_wait_up 0
  info "primary up on $(my_port 0) after $(since "$t0") s"
  local start_pos
  start_pos=$(my_root 0 -e 'SELECT @@gtid_binlog_pos') || die "cannot read the MariaDB primary's GTID position"
  # For `ctl rebuild`: a new installation replays the binlog from there.
  printf '%s\n' "$start_pos" >"$MY_STATE/start_pos"
  printf '%s\n' "$MY_SOCKET_USER" >"$MY_STATE/socket_user"
  my_root 0 <<EOF || die "could not create the database and users on the MariaDB primary"
CREATE DATABASE $MY_DB CHARACTER SET utf8mb4;
CREATE USER '$MY_APP_USER'@'%' IDENTIFIED BY '$MY_APP_PASSWORD';
GRANT ALL PRIVILEGES ON \`$MY_DB\`.* TO '$MY_APP_USER'@'%';
GRANT ALL PRIVILEGES ON \`${MY_DB}\\_%\`.* TO '$MY_APP_USER'@'%';
GRANT BINLOG MONITOR, SLAVE MONITOR ON *.* TO '$MY_APP_USER'@'%';
CREATE USER '$PLAIN_USER'@'%' IDENTIFIED BY '$MY_PLAIN_PASSWORD';
GRANT ALL PRIVILEGES ON \`$MY_DB\`.* TO '$PLAIN_USER'@'%';
GRANT ALL PRIVILEGES ON \`${MY_DB}\\_%\`.* TO '$PLAIN_USER'@'%';
CREATE USER '$MY_ADMIN_USER'@'%' IDENTIFIED BY '$MY_ADMIN_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO '$MY_ADMIN_USER'@'%' WITH GRANT OPTION;
CREATE USER '$MY_REPL_USER'@'%' IDENTIFIED BY '$MY_REPL_PASSWORD';
GRANT REPLICATION SLAVE ON *.* TO '$MY_REPL_USER'@'%';
EOF
  for i in "${REPLICA_INDEXES[@]}"; do
    my_wait_up "$i"
    my_follow_primary "$i" "$start_pos"
  done
  info "replicas up on $(my_port 1) (delay ${MY_FAST_DELAY_MS} ms), $(my_port 2) (delay ${MY_DELAY_MS} ms), $(my_port 3) after $(since "$t0") s"

  local token gtid t1
  token="multidb-replicas marker $(now_us)-$$"
  gtid=$(my_root 0 -e "ALTER DATABASE $MY_DB COMMENT '$token'; SELECT @@gtid_binlog_pos") ||
    die "could not write the marker on the MariaDB primary"
  t1=$(now_us)
  my_wait_marker 3 "$gtid" "$token" "$t1"
  my_wait_marker 1 "$gtid" "$token" "$t1"
  my_wait_marker 2 "$gtid" "$token" "$t1"
  start_delay_proxy "$MY_STATE" "$(my_port 4)" "$(my_port 1)"
  info "ready after $(since "$t0") s"
}

# ============================================================ delay proxy ==

# The `replica` instance's delay proxy: a python3 asyncio script, running
# until teardown (its command line names the state folder).
start_delay_proxy() { # stack-state-dir listen-port upstream-port
  local state=$1 t0
  command -v python3 >/dev/null || die "python3 is needed for the delay proxy (scripts/delay-proxy.py)"
  t0=$(now_us)
  setsid python3 "${SELF%/*}/delay-proxy.py" serve --listen "$2" --upstream "$3" \
    --control "$state/replica.delay.sock" </dev/null >"$state/replica.delay.log" 2>&1 &
  local pid=$!
  until set_delay "$state" 0 2>/dev/null; do
    pid_alive "$pid" || { show_log "$state/replica.delay.log"; die "the delay proxy did not start"; }
    (($(now_us) - t0 < TIMEOUT * 1000000)) || die "the delay proxy did not answer within $TIMEOUT s"
    sleep 0.05
  done
  info "delay proxy on $2 in front of $3"
}

set_delay() { # stack-state-dir ms
  python3 "${SELF%/*}/delay-proxy.py" set --control "$1/replica.delay.sock" "$2"
}

# ================================================================ teardown ==

# Every process belonging to a state folder: its command line mentions the
# folder (servers, their tools, the stack helpers), or it runs as postgres or
# mysql with its working folder inside it (PostgreSQL's child processes).
folder_pids() { # dir
  local dir=$1 p pid uid k v d
  local -a cwds=("$dir/pg" "$dir/mariadb") uids=()
  for d in "$dir"/pg/*/ "$dir"/mariadb/*/data/; do cwds+=("${d%/}"); done
  if is_root; then
    uids=("$(id -u postgres 2>/dev/null)" "$(id -u mysql 2>/dev/null)")
  else
    uids=("$EUID")
  fi
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
    if pid_mentions "$pid" "$dir"; then
      echo "$pid"
      continue
    fi
    for d in "${cwds[@]}"; do
      [[ $p/cwd -ef $d ]] || continue
      uid=""
      { while read -r k v _; do [[ $k == Uid: ]] && { uid=$v; break; }; done <"$p/status"; } 2>/dev/null || true
      [[ -n $uid && " ${uids[*]} " == *" $uid "* ]] && echo "$pid"
      break
    done
  done
  return 0
}

# Stop everything belonging to the state folder and remove it. Robust to a
# partial start: stops what exists, then sweeps for stragglers.
teardown() { # dir
  local -
  set +e
  local dir=$1 d f pid t0 comm
  local -a argv
  [[ -d $dir ]] || return 0
  t0=$(now_us)
  # 1. The stack helpers, if still starting things: SIGKILL, so that they
  #    start nothing more. What they were running is handled by the sweep.
  #    Our own children first (their pids cannot have been reused since we
  #    have not reaped them), then those of another process (`stop` while a
  #    `start` is starting).
  for pid in "${STACK_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  for pid in "${STACK_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  STACK_PIDS=()
  for pid in $(folder_pids "$dir"); do
    argv=()
    { mapfile -d '' -t argv <"/proc/$pid/cmdline"; } 2>/dev/null
    [[ " ${argv[*]} " == *" __stack "* ]] && kill -KILL "$pid" 2>/dev/null
  done

  # 2. Orderly, in parallel: PostgreSQL immediate shutdown, MariaDB SIGKILL
  #    (the data is thrown away; SIGKILL is instant).
  local -a waits=()
  if [[ -d $dir/pg ]]; then
    [[ -n ${PG_BIN:-} ]] || PG_BIN=$(find_pg_bindir 2>/dev/null) || PG_BIN=""
    for d in "$dir"/pg/*/; do
      if [[ -n $PG_BIN && -f $d/postmaster.pid ]]; then
        (cd / && as_pg "$PG_BIN/pg_ctl" stop -D "${d%/}" -m immediate -w -t 10 -s >/dev/null 2>&1) &
        waits+=($!)
      fi
    done
  fi
  local -a my_pids=()
  for d in "$dir"/mariadb/*/; do
    for f in "$d/mariadbd.pid" "$d/launch.pid"; do
      pid=""
      { read -r pid <"$f"; } 2>/dev/null
      if pid_alive "$pid" && pid_mentions "$pid" "$dir"; then
        kill -KILL "$pid" 2>/dev/null && my_pids+=("$pid")
      fi
    done
  done
  for pid in "${waits[@]}"; do wait "$pid" 2>/dev/null; done
  local deadline=$(($(now_us) + 10000000))
  for pid in "${my_pids[@]}"; do
    while pid_alive "$pid" && (($(now_us) < deadline)); do sleep 0.01; done
  done

  # 3. Sweep: anything left (a server whose pid file was not written yet, a
  #    tool killed mid-way...), each with the signal that still lets it clean
  #    up. initdb and its single-user/bootstrap postgres are left to finish
  #    (under a second): killed, they leak System V and /dev/shm shared memory;
  #    so is runuser (it exits with its child; SIGTERM makes it linger 2 s).
  #    A postmaster gets SIGQUIT (immediate shutdown), mariadbd SIGKILL, other
  #    tools SIGTERM. Then SIGKILL for whatever is left.
  local round left kind
  for ((round = 1; round <= 60; round++)); do
    left=""
    for pid in $(folder_pids "$dir"); do
      pid_alive "$pid" || continue
      left+=" $pid"
      comm=""
      { read -r comm <"/proc/$pid/comm"; } 2>/dev/null
      argv=()
      { mapfile -d '' -t argv <"/proc/$pid/cmdline"; } 2>/dev/null
      if [[ $comm == initdb || $comm == runuser || " ${argv[*]} " == *" --single "* ||
        " ${argv[*]} " == *" --boot "* ]]; then
        kind="wait" # also initdb's `sh -c postgres`: initdb sees it die, empties
        #             the folder under the running postgres, which PANICs
      elif [[ $comm == postgres ]]; then
        if [[ ${argv[0]:-} == postgres:* ]]; then
          kind="child" # dies with its postmaster
        else
          kind="postmaster"
        fi
      elif [[ $comm == mariadbd ]]; then
        kind="kill"
      else
        kind="term"
      fi
      if ((round > 40)) || { ((round > 10)) && [[ $kind != wait ]]; }; then
        kind="kill"
      fi
      case $kind in
        postmaster) kill -QUIT "$pid" 2>/dev/null ;;
        term) kill -TERM "$pid" 2>/dev/null ;;
        kill) kill -KILL "$pid" 2>/dev/null ;;
      esac
    done
    [[ -z $left ]] && break
    sleep 0.1
  done
  [[ -n $left ]] && warn "processes still running after teardown:$left"

  # 4. Shared memory of a postmaster that died without cleaning up (killed
  #    while starting): its System V key is the data folder's inode number.
  pg_remove_orphan_shm "$dir"

  # 5. Remove the folder (only if it is ours). Renamed first: atomic, so a
  #    concurrent teardown (a `stop` during a `start`) sees it gone at once.
  if [[ -f $dir/$MARKER_FILE ]]; then
    if mv -T -- "$dir" "$dir.removing.$$" 2>/dev/null; then
      rm -rf -- "$dir.removing.$$"
    fi
  elif [[ -d $dir ]]; then
    rmdir -- "$dir" 2>/dev/null || warn "not removing $dir: no $MARKER_FILE in it"
  fi
  info "stopped and removed $dir in $(since "$t0") s"
}

pg_remove_orphan_shm() { # dir
  local d ino key shmid owner nattch
  local -a inodes=()
  command -v ipcs >/dev/null || return 0
  for d in "$1"/pg/*/; do
    ino=$(stat -c %i -- "$d" 2>/dev/null) && inodes+=("$ino")
  done
  ((${#inodes[@]})) || return 0
  local pg_user=postgres
  is_root || pg_user=$(id -un)
  while read -r key shmid owner _ _ nattch _; do
    [[ $key == 0x* && $owner == "$pg_user" && $nattch == 0 ]] || continue
    for ino in "${inodes[@]}"; do
      if ((key >= ino && key < ino + 16)); then
        ipcrm -m "$shmid" 2>/dev/null && warn "removed orphaned shared memory segment $shmid"
      fi
    done
  done < <(ipcs -m 2>/dev/null)
  return 0
}

# =================================================================== start ==

STACK_PIDS=()
TEARDOWN_DIR=""  # set while a start owned by this process may need undoing
CHILD_PID=""

# shellcheck disable=SC2317 # a trap handler
on_exit() {
  local rc=$?
  # Ignore further signals while tearing down: `timeout` and a terminal send
  # SIGINT to the whole process group, so a second one often follows the
  # first; with the default action it would kill us half-way.
  trap '' INT TERM HUP
  trap - EXIT
  set +e
  if [[ -n $TEARDOWN_DIR ]]; then
    teardown "$TEARDOWN_DIR"
  fi
  exit "$rc"
}

# shellcheck disable=SC2317 # a trap handler
on_signal() { # signal-name exit-status
  local sig=$1
  if [[ -n $CHILD_PID ]]; then
    # Pass it on; we exit with the command's status once it has exited.
    local fwd=$sig
    [[ $sig == INT && -n ${FORWARD_AS_TERM:-} ]] && fwd=TERM
    kill -s "$fwd" "$CHILD_PID" 2>/dev/null || true
  else
    info "interrupted ($sig), cleaning up"
    exit "$2"
  fi
}

install_traps() {
  trap on_exit EXIT
  trap 'on_signal INT 130' INT
  trap 'on_signal TERM 143' TERM
  trap 'on_signal HUP 129' HUP
}

# State of a folder: "none", "running", "starting", "stale", "foreign".
dir_state() { # dir
  local dir=$1
  [[ -e $dir ]] || { echo none; return; }
  [[ -f $dir/$MARKER_FILE ]] || {
    if [[ -d $dir && -z $(ls -A -- "$dir") ]]; then echo none; else echo foreign; fi
    return
  }
  local starter
  starter=$(sed -n 's/^starter=//p' "$dir/$MARKER_FILE")
  if [[ ! -f $dir/env ]]; then
    if pid_alive "$starter"; then echo starting; else echo stale; fi
    return
  fi
  # Ready once: check that every server still runs, except those a test
  # stopped on purpose (`ctl stop`, or `ctl rebuild` under way).
  local d pid
  for d in "$dir"/pg/*/; do
    [[ -e ${d%/}.stopped ]] && continue
    pid=$(head -n1 "$d/postmaster.pid" 2>/dev/null) || { echo stale; return; }
    pid_alive "$pid" || { echo stale; return; }
  done
  for d in "$dir"/mariadb/*/; do
    [[ -e ${d%/}.stopped ]] && continue
    pid=$(cat "$d/launch.pid" 2>/dev/null) || { echo stale; return; }
    pid_alive "$pid" || { echo stale; return; }
  done
  echo running
}

recorded_selection() { sed -n 's/^selection=//p' "$1/$MARKER_FILE"; }

# Start the selected stacks in `dir` (which must not be in use).
start_cluster() { # dir
  local dir=$1
  ensure_binaries
  check_ports
  local parent=${dir%/*}
  mkdir -p -- "${parent:-/}"
  # The folder is ours once we created its marker file (O_EXCL: of two
  # concurrent starts, one wins). An existing empty folder is accepted.
  mkdir -m 0755 -- "$dir" 2>/dev/null || [[ -d $dir && -z $(ls -A -- "$dir") ]] ||
    die "cannot create $dir (or it is no longer empty: another start?)"
  # The settings are recorded for `ctl`, which acts on this cluster whatever
  # its caller's environment says.
  (set -o noclobber && printf 'selection=%s\nstarter=%s\npg_port=%s\nmysql_port=%s\npg_delay_ms=%s\npg_fast_delay_ms=%s\nmysql_delay_ms=%s\nmysql_fast_delay_ms=%s\n' \
    "$SELECTION" "$$" "$PG_PORT" "$MY_PORT" "$PG_DELAY_MS" "$PG_FAST_DELAY_MS" "$MY_DELAY_MS" \
    "$MY_FAST_DELAY_MS" >"$dir/$MARKER_FILE") 2>/dev/null ||
    die "$dir is being started by another process"
  TEARDOWN_DIR=$dir
  chmod 0755 -- "$dir"
  if is_root; then
    local u
    for u in postgres mysql; do
      [[ $u == postgres ]] && ((!WANT_PG)) && continue
      [[ $u == mysql ]] && ((!WANT_MY)) && continue
      runuser -u "$u" -- test -x "$dir" 2>/dev/null ||
        die "the $u user cannot reach $dir (a parent folder is not traversable); set MULTIDB_REPLICAS_DIR elsewhere, e.g. under /tmp"
    done
  fi

  local what=""
  ((WANT_PG)) && what+="PostgreSQL on $(pg_port 0)-$(pg_port 3)"
  ((WANT_PG && WANT_MY)) && what+=" and "
  ((WANT_MY)) && what+="MariaDB on $(my_port 0)-$(my_port 3)"
  info "starting $what in $dir"
  local t0 stack pid rc failed=0
  t0=$(now_us)
  local -A stack_of=()
  for stack in $SELECTION; do
    # A session of its own: a Ctrl-C on the terminal does not reach the tools
    # it runs (initdb killed half-way leaks shared memory); teardown stops
    # them in order instead.
    setsid "$BASH" "$SELF" __stack "$stack" "$dir" </dev/null >&2 &
    STACK_PIDS+=($!)
    stack_of[$!]=$stack
  done
  local -a pending=("${STACK_PIDS[@]}")
  while ((${#pending[@]})); do
    pid=""
    rc=0
    wait -n -p pid "${pending[@]}" || rc=$?
    [[ -n $pid ]] || continue
    local -a rest=()
    local p
    for p in "${pending[@]}"; do [[ $p != "$pid" ]] && rest+=("$p"); done
    pending=("${rest[@]}")
    if ((rc != 0)); then
      failed=1
      break
    fi
  done
  if ((failed)); then
    ((rc > 128)) && die "the ${stack_of[$pid]} start was killed (signal $((rc - 128))); tearing down"
    die "starting ${stack_of[$pid]} failed (see above); tearing down"
  fi
  STACK_PIDS=()
  env_lines "$SELECTION" "$dir" >"$dir/env"
  info "ready in $(since "$t0") s"
}

# ===================================================================== ctl ==
# `ctl`: stop, start, rebuild one replica of a running cluster. A file
# <stack>/<name>.stopped marks an instance stopped on purpose: dir_state then
# still counts the cluster as running (so `env` and `status` work, and a
# `start` does not take the folder for stale and tear it down).

# The settings the cluster was started with, from its marker file: ctl acts
# on that cluster whatever its caller's environment says.
ctl_load_settings() { # dir
  local key value
  while IFS='=' read -r key value; do
    [[ $value =~ ^[0-9]+$ ]] || continue
    case $key in
      pg_port) PG_PORT=$value ;;
      mysql_port) MY_PORT=$value ;;
      pg_delay_ms) PG_DELAY_MS=$value ;;
      pg_fast_delay_ms) PG_FAST_DELAY_MS=$value ;;
      mysql_delay_ms) MY_DELAY_MS=$value ;;
      mysql_fast_delay_ms) MY_FAST_DELAY_MS=$value ;;
    esac
  done <"$1/$MARKER_FILE"
}

pg_setup_env() { # state-dir
  PG_STATE=$1/pg
  # Our own clients must not pick up the caller's PG* settings.
  unset PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD PGPASSFILE PGSERVICE \
    PGSERVICEFILE PGOPTIONS PGSSLMODE PGREQUIRESSL PGGSSENCMODE PGTARGETSESSIONATTRS PGDATA
}

my_setup_env() { # state-dir
  MY_STATE=$1/mariadb
  MY_SOCKET_USER=$(id -un)
  unset MYSQL_PWD MYSQL_HOST MYSQL_TCP_PORT MYSQL_UNIX_PORT MYSQL_TEST_LOGIN_FILE
}

pg_running() { # name
  local pid
  pid=$(head -n1 "$PG_STATE/$1/postmaster.pid" 2>/dev/null) && pid_alive "$pid"
}

pg_ctl_stop() { # name
  local name=$1
  touch "$PG_STATE/$name.stopped"
  [[ -f $PG_STATE/$name/postmaster.pid ]] || return 0
  if ! as_pg "$PG_BIN/pg_ctl" stop -D "$PG_STATE/$name" -m immediate -w -t "$TIMEOUT" -s \
    >>"$PG_STATE/pg_ctl.log" 2>&1; then
    show_log "$PG_STATE/pg_ctl.log" 5
    die "PostgreSQL $name did not stop"
  fi
}

pg_ctl_start() { # name
  local name=$1
  [[ -d $PG_STATE/$name ]] || die "PostgreSQL $name has no data folder (a rebuild failed?); use: ctl pg $name rebuild"
  pg_running "$name" || pg_start "$name"
  rm -f -- "$PG_STATE/$name.stopped"
}

# Wait until replica `name` has replayed the primary's current WAL position.
pg_wait_caught_up() { # name
  local name=$1 port target got deadline
  port=$(pg_port "$(instance_index "$name")")
  target=$(pg_sql "$(pg_port 0)" "SELECT pg_current_wal_lsn()") ||
    die "cannot read the PostgreSQL primary's WAL position"
  deadline=$(($(now_us) + TIMEOUT * 1000000))
  until got=$(pg_sql "$port" "SELECT pg_is_in_recovery() AND pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '$target') >= 0" 2>/dev/null) &&
    [[ $got == t ]]; do
    if (($(now_us) > deadline)); then
      show_log "$PG_STATE/$name.log"
      die "PostgreSQL $name (port $port) did not catch up with the primary ($target) within ${TIMEOUT}s"
    fi
    sleep 0.01
  done
}

pg_ctl_rebuild() { # name
  local name=$1 slot="multidb_$1" active deadline
  pg_ctl_stop "$name"
  rm -rf -- "${PG_STATE:?}/$name"
  # The slot survives a promotion (inactive) and keeps the WAL the new copy
  # starts from; recreate it if a test dropped it. The primary's walsender
  # may take a moment to notice the stopped replica is gone.
  deadline=$(($(now_us) + TIMEOUT * 1000000))
  while :; do
    active=$(pg_sql "$(pg_port 0)" "SELECT active FROM pg_replication_slots WHERE slot_name = '$slot'") ||
      die "cannot read the replication slots of the PostgreSQL primary"
    case $active in
      f) break ;;
      '')
        pg_sql "$(pg_port 0)" "SELECT pg_create_physical_replication_slot('$slot', true)" >/dev/null ||
          die "could not create the replication slot $slot on the PostgreSQL primary"
        break
        ;;
    esac
    (($(now_us) < deadline)) || die "the replication slot $slot stays in use on the PostgreSQL primary"
    sleep 0.01
  done
  pg_make_replica "$name"
  pg_wait_caught_up "$name"
  rm -f -- "$PG_STATE/$name.stopped"
}

pg_ctl_pause() { # name
  local name=$1 port got deadline
  port=$(pg_port "$(instance_index "$name")")
  got=$(pg_sql "$port" "SELECT pg_wal_replay_pause()" 2>&1) ||
    die "could not pause PostgreSQL $name (port $port): $got"
  # The request is asynchronous: wait until replay has actually stopped.
  deadline=$(($(now_us) + TIMEOUT * 1000000))
  until got=$(pg_sql "$port" "SELECT pg_get_wal_replay_pause_state()" 2>&1) && [[ $got == paused ]]; do
    (($(now_us) < deadline)) || die "PostgreSQL $name (port $port) did not pause: $got"
    sleep 0.005
  done
}

pg_ctl_resume() { # name
  local name=$1 port got
  port=$(pg_port "$(instance_index "$name")")
  got=$(pg_sql "$port" "SELECT pg_wal_replay_resume()" 2>&1) ||
    die "could not resume PostgreSQL $name (port $port): $got"
}

pg_ctl_status() { # name
  local name=$1 port line
  port=$(pg_port "$(instance_index "$name")")
  if ! pg_running "$name"; then
    echo "pg $name (port $port): stopped"
    return 0
  fi
  line=$(pg_sql "$port" "SELECT CASE WHEN pg_is_in_recovery() THEN 'in recovery' ELSE 'not in recovery' END
      || ', replication ' || coalesce((SELECT status FROM pg_stat_wal_receiver), 'not running')
      || CASE WHEN pg_is_in_recovery() THEN ', replay ' || pg_get_wal_replay_pause_state() ELSE '' END" 2>&1) ||
    die "PostgreSQL $name (port $port) runs but does not answer: $line"
  echo "pg $name (port $port): running, $line"
}

my_alive_pids() { # name: the live server processes of an instance
  local d=$MY_STATE/$1 f pid
  for f in "$d/launch.pid" "$d/mariadbd.pid"; do
    pid=""
    { read -r pid <"$f"; } 2>/dev/null
    if pid_alive "$pid" && pid_mentions "$pid" "$d"; then echo "$pid"; fi
  done | sort -u
}

my_ctl_stop() { # index
  local i=$1 name=${INSTANCES[$1]} pid deadline
  local -a pids
  touch "$MY_STATE/$name.stopped"
  mapfile -t pids < <(my_alive_pids "$name")
  ((${#pids[@]})) || return 0
  kill -KILL "${pids[@]}" 2>/dev/null || true
  # Gone or a zombie (which holds no port and no file); not `kill -0`.
  deadline=$(($(now_us) + TIMEOUT * 1000000))
  for pid in "${pids[@]}"; do
    while pid_alive "$pid"; do
      (($(now_us) < deadline)) || die "MariaDB $name (pid $pid) still runs after SIGKILL"
      sleep 0.005
    done
  done
}

my_ctl_start() { # index
  local i=$1 name=${INSTANCES[$1]}
  [[ -d $MY_STATE/$name/data ]] || die "MariaDB $name has no data folder (a rebuild failed?); use: ctl mariadb $name rebuild"
  if [[ -z $(my_alive_pids "$name") ]]; then
    my_launch "$i"
  fi
  my_wait_up "$i"
  rm -f -- "$MY_STATE/$name.stopped"
}

# Wait until replica `index` has applied the primary's current GTID position.
my_wait_caught_up() { # index
  local i=$1 name=${INSTANCES[$1]} gtid got deadline
  gtid=$(my_root 0 -e 'SELECT @@gtid_binlog_pos') || die "cannot read the MariaDB primary's GTID position"
  deadline=$(($(now_us) + TIMEOUT * 1000000))
  until got=$(my_root "$i" -e "SELECT MASTER_GTID_WAIT('$gtid', 0.5)" 2>&1) && [[ $got == 0 ]]; do
    [[ $got == -1 ]] || sleep 0.02
    if (($(now_us) > deadline)); then
      my_root "$i" --column-names -e 'SHOW SLAVE STATUS\G' 2>&1 |
        grep -E 'Slave_(IO|SQL)_Running:|Last_(IO|SQL)_Error:|Gtid_IO_Pos' | sed 's/^/    /' >&2 || true
      show_log "$MY_STATE/$name/error.log"
      die "MariaDB $name (port $(my_port "$i")) did not catch up with the primary ($gtid) within ${TIMEOUT}s"
    fi
  done
}

# A fresh installation replaying the primary's binlog from its first
# position: the same data as the primary whatever a test did to this one
# (rows written while it was writable, transactions it missed), which
# resetting its GTID position alone would not guarantee.
my_ctl_rebuild() { # index
  local i=$1 name=${INSTANCES[$1]} d=$MY_STATE/${INSTANCES[$1]} start_pos
  [[ -f $MY_STATE/start_pos ]] || die "no $MY_STATE/start_pos: this cluster was started by an older replicas.sh; restart it"
  start_pos=$(<"$MY_STATE/start_pos")
  [[ -f $MY_STATE/socket_user ]] && MY_SOCKET_USER=$(<"$MY_STATE/socket_user")
  my_ctl_stop "$i"
  rm -rf -- "${d:?}/data" "$d/tmp"
  mkdir -p "$d/tmp"
  is_root && chown mysql: "$d/tmp"
  my_install "$i" "$d/install.log"
  my_launch "$i"
  my_wait_up "$i"
  my_follow_primary "$i" "$start_pos"
  my_wait_caught_up "$i"
  rm -f -- "$MY_STATE/$name.stopped"
}

my_ctl_pause() { # index
  local i=$1 got
  got=$(my_root "$i" -e 'STOP SLAVE SQL_THREAD' 2>&1) ||
    die "could not pause MariaDB ${INSTANCES[$i]} (port $(my_port "$i")): $got"
}

my_ctl_resume() { # index
  local i=$1 got
  got=$(my_root "$i" -e 'START SLAVE SQL_THREAD' 2>&1) ||
    die "could not resume MariaDB ${INSTANCES[$i]} (port $(my_port "$i")): $got"
}

my_ctl_status() { # index
  local i=$1 name=${INSTANCES[$1]} port out ro io sql
  port=$(my_port "$i")
  if [[ -z $(my_alive_pids "$name") ]]; then
    echo "mariadb $name (port $port): stopped"
    return 0
  fi
  ro=$(my_root "$i" -e 'SELECT @@read_only' 2>&1) || die "MariaDB $name (port $port) runs but does not answer: $ro"
  out=$(my_root "$i" --column-names -e 'SHOW SLAVE STATUS\G' 2>&1) || die "SHOW SLAVE STATUS failed on MariaDB $name: $out"
  io=$(sed -n 's/^ *Slave_IO_Running: //p' <<<"$out")
  sql=$(sed -n 's/^ *Slave_SQL_Running: //p' <<<"$out")
  if [[ -z $io ]]; then
    out="not configured"
  elif [[ $io == Yes && $sql == Yes ]]; then
    out="running"
  else
    out="stopped (io $io, sql $sql)"
  fi
  echo "mariadb $name (port $port): running, read_only=$ro, replication $out"
}

cmd_ctl() { # stack instance action [ms]
  local usage="usage: scripts/replicas.sh ctl <pg|mariadb> <primary|replica|delayed|spare> <stop|start|rebuild|pause|resume|status|slow <ms>|fast>"
  (($# == 3)) || { (($# == 4)) && [[ $3 == slow ]]; } || die "$usage"
  local stack=$1 name=$2 action=$3 ms=${4:-0} i dir state
  case $stack in
    pg | postgres | postgresql) stack=pg ;;
    mariadb | mysql) stack=mariadb ;;
    *) die "unknown stack '$stack'; $usage" ;;
  esac
  case $name in
    replica | delayed | spare) i=$(instance_index "$name") ;;
    # The primary can be stopped and started (its replicas reconnect by
    # themselves), never rebuilt or paused.
    primary)
      i=0
      [[ $action == stop || $action == start || $action == status ]] ||
        die "the primary can only be stopped, started or shown; $usage"
      ;;
    *) die "unknown instance '$name'; $usage" ;;
  esac
  case $action in
    stop | start | rebuild | pause | resume | status) ;;
    slow | fast)
      [[ $name == replica ]] || die "only the replica instance has a delay proxy; $usage"
      [[ $action == fast || ($# == 4 && $ms =~ ^[0-9]+$) ]] ||
        die "slow needs a delay in milliseconds; $usage"
      ;;
    *) die "unknown action '$action'; $usage" ;;
  esac
  if [[ -n ${MULTIDB_REPLICAS_STATE_DIR:-} ]]; then
    dir=${MULTIDB_REPLICAS_STATE_DIR%/}
  else
    dir=$(resolve_dir)
  fi
  state=$(dir_state "$dir")
  [[ $state == running ]] || die "no running cluster in $dir ($state)"
  [[ " $(recorded_selection "$dir") " == *" $stack "* ]] || die "the cluster in $dir has no $stack stack"
  ctl_load_settings "$dir"
  LOG_PREFIX="replicas ctl $stack $name $action"
  MULTIDB_REPLICAS_QUIET=1 # quiet on success
  WANT_PG=0 WANT_MY=0
  if [[ $stack == pg ]]; then
    WANT_PG=1
    locate_binaries
    [[ -n ${PG_BIN:-} ]] || die "the PostgreSQL server binaries are missing"
    pg_setup_env "$dir"
    cd "$PG_STATE" # the server tools run with this as working folder
    case $action in
      stop) pg_ctl_stop "$name" ;;
      start) pg_ctl_start "$name" ;;
      rebuild) pg_ctl_rebuild "$name" ;;
      pause) pg_ctl_pause "$name" ;;
      resume) pg_ctl_resume "$name" ;;
      status) pg_ctl_status "$name" ;;
      slow | fast) set_delay "$PG_STATE" "$ms" ;;
    esac
  else
    WANT_MY=1
    locate_binaries
    [[ -n ${MY_CLIENT_BIN:-} && -n ${MY_SERVER_BIN:-} ]] || die "the MariaDB binaries are missing"
    my_setup_env "$dir"
    cd "$MY_STATE"
    case $action in
      stop) my_ctl_stop "$i" ;;
      start) my_ctl_start "$i" ;;
      rebuild) my_ctl_rebuild "$i" ;;
      pause) my_ctl_pause "$i" ;;
      resume) my_ctl_resume "$i" ;;
      status) my_ctl_status "$i" ;;
      slow | fast) set_delay "$MY_STATE" "$ms" ;;
    esac
  fi
}

# ================================================================ commands ==

usage() {
  sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$SELF"
}

cmd_start() {
  local dir state
  dir=$(resolve_dir)
  state=$(dir_state "$dir")
  case $state in
    running)
      local sel
      sel=$(recorded_selection "$dir")
      local s
      for s in $SELECTION; do
        [[ " $sel " == *" $s "* ]] ||
          die "already running in $dir with only: $sel. Run 'scripts/replicas.sh stop' first."
      done
      info "already running ($sel) in $dir"
      cat -- "$dir/env" # as written at start (its ports, not today's settings)
      return 0
      ;;
    starting) die "$dir is being started by another process; try again in a moment" ;;
    foreign) die "$dir exists and is not a multidb-replicas state folder; remove it or set MULTIDB_REPLICAS_DIR" ;;
    stale)
      info "removing the stale state folder $dir"
      teardown "$dir"
      ;;
  esac
  install_traps
  start_cluster "$dir"
  TEARDOWN_DIR="" # success: keep running
  info "stop with: scripts/replicas.sh stop"
  cat -- "$dir/env"
}

cmd_stop() {
  local dir state
  dir=$(resolve_dir)
  state=$(dir_state "$dir")
  case $state in
    none) info "not running (no state folder $dir)"; return 0 ;;
    foreign) die "$dir is not a multidb-replicas state folder; not touching it" ;;
  esac
  teardown "$dir"
}

cmd_env() {
  local dir state
  dir=$(resolve_dir)
  state=$(dir_state "$dir")
  case $state in
    running) cat -- "$dir/env" ;;
    none) die "not running; start with: eval \"\$(scripts/replicas.sh start)\"" ;;
    *) die "not running ($state state folder $dir); run 'scripts/replicas.sh stop' then 'start'" ;;
  esac
}

cmd_status() {
  local dir state
  dir=$(resolve_dir)
  state=$(dir_state "$dir")
  case $state in
    running)
      echo "running: $(recorded_selection "$dir") in $dir"
      local f stopped=""
      for f in "$dir"/pg/*.stopped "$dir"/mariadb/*.stopped; do
        f=${f#"$dir"/}
        stopped+=" ${f%.stopped}"
      done
      [[ -z $stopped ]] || echo "stopped with ctl:$stopped"
      sed -n 's/^export //p' "$dir/env"
      ;;
    none) echo "not running"; return 1 ;;
    *) echo "$state: $dir"; return 1 ;;
  esac
}

cmd_run() {
  [[ ${1:-} == -- ]] && shift
  (($#)) || die "usage: scripts/replicas.sh run -- <command...>"
  local dir state
  dir=$(resolve_dir)
  state=$(dir_state "$dir")
  case $state in
    none) ;;
    stale)
      info "removing the stale state folder $dir"
      teardown "$dir"
      ;;
    running | starting)
      die "a cluster is already $state in $dir (from 'scripts/replicas.sh start').
  Stop it first ('scripts/replicas.sh stop'), or use it directly:
  eval \"\$(scripts/replicas.sh env)\" && $*" ;;
    foreign) die "$dir exists and is not a multidb-replicas state folder; remove it or set MULTIDB_REPLICAS_DIR" ;;
  esac
  install_traps
  start_cluster "$dir"
  local line
  while IFS= read -r line; do
    case $line in
      "export "*) export "${line#export }" ;;
      "unset "*) unset "${line#unset }" ;;
    esac
  done <"$dir/env"

  # Run the command in the background so that a signal sent to this script
  # alone (CI cancelling, kill) is forwarded at once instead of waiting for
  # the command; it keeps our stdin and gets SIGINT/SIGQUIT back to default
  # (bash ignores them in background commands).
  local -a launcher=()
  FORWARD_AS_TERM=""
  if env --default-signal=INT,QUIT true 2>/dev/null; then
    # shellcheck disable=SC2054 # the comma is part of the option
    launcher=(env --default-signal=INT,QUIT --)
  else
    FORWARD_AS_TERM=TERM # cannot un-ignore SIGINT: send SIGTERM instead
  fi
  "${launcher[@]}" "$@" <&0 &
  CHILD_PID=$!
  local rc
  while :; do
    rc=0
    wait "$CHILD_PID" || rc=$?
    # wait also returns (>128) when a trapped signal arrives; the command then
    # still exists (running or not yet reaped) and we wait again.
    kill -0 "$CHILD_PID" 2>/dev/null || break
  done
  CHILD_PID=""
  exit "$rc"
}

main() {
  local cmd=${1:-}
  [[ $# -gt 0 ]] && shift
  case $cmd in
    __stack)
      # Internal: start one stack in the given folder (run by start_cluster).
      load_config
      locate_binaries
      LOG_PREFIX="replicas[$1]"
      case $1 in
        pg) stack_pg "$2" ;;
        mariadb) stack_mariadb "$2" ;;
        *) die "unknown stack $1" ;;
      esac
      ;;
    start) load_config; cmd_start ;;
    stop) load_config; cmd_stop ;;
    env) load_config; cmd_env ;;
    status) load_config; cmd_status ;;
    run) load_config; cmd_run "$@" ;;
    ctl) load_config; cmd_ctl "$@" ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

# One compound command: bash reads all of it before running main, so
# replacing this file while it runs cannot make it execute anything else.
{ main "$@"; exit; }
