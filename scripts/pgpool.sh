#!/usr/bin/env bash
# scripts/pgpool.sh — a throwaway pgpool-II in front of the PostgreSQL primary
# and replicas of scripts/replicas.sh, for the benchmark that compares
# multidb with it (cargo bench -p multidb-benches --bench pgpool).
#
# USAGE
#   scripts/pgpool.sh run -- <command...>
#       Configure and start pgpool-II in a fresh temporary folder, export the
#       variables below, run the command, stop pgpool and remove the folder
#       (always: also on failure, Ctrl-C, SIGTERM), and exit with the
#       command's status.
#       When MULTIDB_PG_PRIMARY_URL is not set, the PostgreSQL servers are
#       started first, around everything, with scripts/replicas.sh
#       (MULTIDB_REPLICAS=pg; its own settings such as MULTIDB_PG_PORT and
#       MULTIDB_REPLICAS_DIR apply), so on a fresh machine this is enough:
#           scripts/pgpool.sh run -- cargo bench -p multidb-benches --bench pgpool
#   scripts/pgpool.sh install
#       Only make sure pgpool-II is installed.
#
# WHAT RUNS
#   pgpool-II (Debian package `pgpool2`, installed with apt-get when it is
#   missing and we are root; binary /usr/sbin/pgpool) as the `postgres` user
#   when we are root, in streaming-replication mode
#   (backend_clustering_mode = 'streaming_replication') with load balancing
#   (load_balance_mode = on): backend 0 is the primary
#   (MULTIDB_PG_PRIMARY_URL), backends 1 and 2 the replicas
#   (MULTIDB_PG_REPLICA_URL, MULTIDB_PG_DELAYED_REPLICA_URL when set). Reads go
#   to the replicas only (primary weight 0, as multidb sends them), writes to
#   the primary. Trust authentication from 127.0.0.1 (pool_hba.conf), user
#   `postgres`; no health check; the replication check (sr_check_*) runs as
#   `postgres` and never excludes a replica for lag (delay_threshold = 0); no
#   query cache, no watchdog, no failover. Everything (pgpool.conf,
#   pool_hba.conf, pcp.conf, pid, sockets, log) lives in one temporary folder;
#   the system's /etc/pgpool2 is not used and no system service is started.
#
# EXPORTED VARIABLES (for the command)
#   MULTIDB_PGPOOL_URL=postgres://postgres@127.0.0.1:29999/postgres
#   MULTIDB_PGPOOL_PORT=29999
#   (and the MULTIDB_PG_* variables of scripts/replicas.sh, unchanged)
#
# SETTINGS (environment)
#   MULTIDB_PGPOOL_PORT=29999       pgpool's port (keep it below 32768);
#   MULTIDB_PGPOOL_PCP_PORT         its PCP port (default: the port + 1).
#   MULTIDB_PGPOOL_CHILDREN=40      num_init_children: concurrent clients
#                                   pgpool serves (each holds one connection
#                                   to every backend).
#   MULTIDB_PGPOOL_PRIMARY_WEIGHT=0 backend_weight0: 0 = no reads on the
#                                   primary (multidb's default behaviour).
#   MULTIDB_PGPOOL_STATEMENT_LB=off statement_level_load_balance (off, the
#                                   default: a session reads one replica).
#   MULTIDB_PGPOOL_TIMEOUT=30       seconds allowed for pgpool to be ready.
#   MULTIDB_PGPOOL_KEEP=1           keep the folder (its log) after the run.
# Linux only (uses /proc, setsid, runuser).

set -euo pipefail

SELF=$(readlink -f -- "${BASH_SOURCE[0]}")
readonly SELF
readonly SCRIPTS=${SELF%/*}
readonly PG_USER=postgres

info() { printf 'pgpool: %s\n' "$*" >&2; }
die() { printf 'pgpool: error: %s\n' "$*" >&2; exit 1; }
is_root() { ((EUID == 0)); }
now_ms() { local t=${EPOCHREALTIME//[.,]/}; echo $((t / 1000)); }

find_pgpool() {
  local d
  command -v pgpool 2>/dev/null && return 0
  for d in /usr/sbin /usr/local/sbin /sbin; do
    [[ -x $d/pgpool ]] && { echo "$d/pgpool"; return 0; }
  done
  return 1
}

find_psql() {
  local d
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5,5 -rn); do
    [[ -x $d/psql ]] && { echo "$d/psql"; return 0; }
  done
  command -v psql 2>/dev/null || return 1
}

# Install Debian's pgpool2 when missing, without letting its postinst start
# the system service (it would listen on 5433 with no backends): a
# policy-rc.d that denies service starts for the time of the install, unless
# the machine already has one.
ensure_pgpool() {
  PGPOOL_BIN=$(find_pgpool) && return 0
  if ! is_root || ! command -v apt-get >/dev/null; then
    die "pgpool-II is not installed. On Debian/Ubuntu, as root: apt-get install -y pgpool2"
  fi
  info "installing pgpool2 (apt-get)"
  local policy=/usr/sbin/policy-rc.d ours=""
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\n# scripts/pgpool.sh: no service starts while pgpool2 installs\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    ours=1
  fi
  local rc=0
  {
    DEBIAN_FRONTEND=noninteractive apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends pgpool2
  } >&2 || rc=$?
  [[ -n $ours ]] && rm -f "$policy"
  ((rc == 0)) || die "apt-get install pgpool2 failed"
  PGPOOL_BIN=$(find_pgpool) || die "pgpool2 is installed but /usr/sbin/pgpool is missing"
}

# postgres://user@host:port/db -> "host port"
host_port() {
  local re='^postgres(ql)?://([^@/]*@)?([^:/?]+)(:([0-9]+))?'
  [[ $1 =~ $re ]] || die "cannot read host and port from '$1'"
  echo "${BASH_REMATCH[3]} ${BASH_REMATCH[5]:-5432}"
}

write_config() { # dir
  local dir=$1 i=0 url host port weight name
  local -a urls=("$MULTIDB_PG_PRIMARY_URL" "$MULTIDB_PG_REPLICA_URL")
  [[ -n ${MULTIDB_PG_DELAYED_REPLICA_URL:-} ]] && urls+=("$MULTIDB_PG_DELAYED_REPLICA_URL")
  {
    cat <<EOF
# Written by scripts/pgpool.sh for multidb's benchmark; removed after the run.
backend_clustering_mode = 'streaming_replication'
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$dir'
pcp_listen_addresses = '127.0.0.1'
pcp_port = $PCP_PORT
pcp_socket_dir = '$dir'
wd_ipc_socket_dir = '$dir'
pid_file_name = '$dir/pgpool.pid'
logdir = '$dir'
log_destination = 'stderr'
logging_collector = off
log_min_messages = warning
enable_pool_hba = on
pool_passwd = ''
ssl = off
num_init_children = $CHILDREN
max_pool = 1
reserved_connections = 0
child_life_time = 0
connection_life_time = 0
client_idle_limit = 0
connection_cache = on
load_balance_mode = on
statement_level_load_balance = $STATEMENT_LB
disable_load_balance_on_write = 'transaction'
sr_check_period = 10
sr_check_user = '$PG_USER'
sr_check_password = ''
sr_check_database = 'postgres'
delay_threshold = 0
health_check_period = 0
health_check_user = '$PG_USER'
failover_command = ''
failover_on_backend_error = off
failover_on_backend_shutdown = off
search_primary_node_timeout = 10
auto_failback = off
use_watchdog = off
memory_cache_enabled = off
EOF
    for url in "${urls[@]}"; do
      read -r host port < <(host_port "$url")
      weight=1 name=replica$i
      ((i == 0)) && weight=$PRIMARY_WEIGHT name=primary
      cat <<EOF
backend_hostname$i = '$host'
backend_port$i = $port
backend_weight$i = $weight
backend_flag$i = 'DISALLOW_TO_FAILOVER'
backend_application_name$i = '$name'
EOF
      i=$((i + 1))
    done
  } >"$dir/pgpool.conf"
  BACKENDS=$i
  cat >"$dir/pool_hba.conf" <<EOF
# TYPE  DATABASE  USER  CIDR-ADDRESS    METHOD
local   all       all                   trust
host    all       all   127.0.0.1/32    trust
EOF
  # PCP (pgpool's admin port) needs one user; md5 of the password "multidb".
  printf 'multidb:%s\n' "$(printf multidb | md5sum | cut -d' ' -f1)" >"$dir/pcp.conf"
  chmod 600 "$dir/pcp.conf"
}

port_free() { # port: nothing listens on 127.0.0.1:port
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Ready: SHOW pool_nodes lists every backend `up`, backend 0 as primary.
wait_ready() { # dir
  local dir=$1 t0 out="" up primary line
  t0=$(now_ms)
  while :; do
    if ! kill -0 "$PGPOOL_PID" 2>/dev/null; then
      tail -n 30 "$dir/pgpool.log" >&2 || true
      die "pgpool exited during startup (log above)"
    fi
    out=$(PGCONNECT_TIMEOUT=3 "$PSQL" -X -q -A -t -F ' ' -h 127.0.0.1 -p "$PORT" -U "$PG_USER" -d postgres \
      -c 'SHOW pool_nodes' 2>/dev/null) || out=""
    # columns: node_id hostname port status pg_status lb_weight role ...
    up=$(awk '$4 == "up"' <<<"$out" | wc -l)
    primary=$(awk '$1 == 0 && $7 == "primary"' <<<"$out" | wc -l)
    if ((up == BACKENDS && primary == 1)); then
      info "ready in $(($(now_ms) - t0)) ms on 127.0.0.1:$PORT ($BACKENDS backends)"
      while IFS= read -r line; do info "  $line"; done <<<"$out"
      return 0
    fi
    (($(now_ms) - t0 < TIMEOUT * 1000)) || {
      printf '%s\n' "$out" >&2
      tail -n 30 "$dir/pgpool.log" >&2 || true
      die "pgpool not ready after ${TIMEOUT}s (SHOW pool_nodes and log above)"
    }
    sleep 0.1
  done
}

STATE_DIR="" PGPOOL_PID="" CHILD_PID=""

# shellcheck disable=SC2317 # called from the trap handlers
teardown() {
  if [[ -n $PGPOOL_PID && -n ${MULTIDB_PGPOOL_URL:-} ]]; then
    # What pgpool did: statements per backend (select_cnt), as it counts them.
    local out line
    out=$(PGCONNECT_TIMEOUT=3 "$PSQL" -X -q -A -t -F ' ' -h 127.0.0.1 -p "$PORT" -U "$PG_USER" -d postgres \
      -c 'SHOW pool_nodes' 2>/dev/null) || out=""
    while read -r line; do
      # node_id hostname port status pg_status lb_weight role pg_role select_cnt ...
      read -r -a f <<<"$line"
      ((${#f[@]} > 8)) && info "backend ${f[0]} (${f[6]}, port ${f[2]}): select_cnt ${f[8]}"
    done <<<"$out"
  fi
  if [[ -n $PGPOOL_PID ]]; then
    # pgpool (and runuser above it) run in their own session (setsid), whose
    # process group is its pid: SIGINT asks every process of it for a fast
    # shutdown (clients are disconnected); what is left after 5 s is killed.
    kill -INT -- "-$PGPOOL_PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 100; i++)); do
      kill -0 -- "-$PGPOOL_PID" 2>/dev/null || break
      sleep 0.05
    done
    kill -KILL -- "-$PGPOOL_PID" 2>/dev/null || true
    wait "$PGPOOL_PID" 2>/dev/null || true
  fi
  PGPOOL_PID=""
  if [[ -n $STATE_DIR && -d $STATE_DIR ]]; then
    if [[ ${MULTIDB_PGPOOL_KEEP:-} == 1 ]]; then
      info "kept $STATE_DIR"
    else
      rm -rf -- "$STATE_DIR"
    fi
  fi
  STATE_DIR=""
}

# shellcheck disable=SC2317 # a trap handler
on_exit() {
  local rc=$?
  trap '' INT TERM HUP
  trap - EXIT
  set +e
  teardown
  exit "$rc"
}

# shellcheck disable=SC2317 # a trap handler
on_signal() { # signal status
  if [[ -n $CHILD_PID ]]; then
    kill -s "$1" "$CHILD_PID" 2>/dev/null || true
  else
    exit "$2"
  fi
}

load_config() {
  PORT=${MULTIDB_PGPOOL_PORT:-29999}
  PCP_PORT=${MULTIDB_PGPOOL_PCP_PORT:-$((PORT + 1))}
  CHILDREN=${MULTIDB_PGPOOL_CHILDREN:-40}
  PRIMARY_WEIGHT=${MULTIDB_PGPOOL_PRIMARY_WEIGHT:-0}
  STATEMENT_LB=${MULTIDB_PGPOOL_STATEMENT_LB:-off}
  TIMEOUT=${MULTIDB_PGPOOL_TIMEOUT:-30}
  local name
  for name in PORT PCP_PORT CHILDREN PRIMARY_WEIGHT TIMEOUT; do
    [[ ${!name} =~ ^[0-9]+$ ]] || die "$name must be a number (got '${!name}')"
  done
  ((PORT >= 1024 && PORT < 32768 && PCP_PORT >= 1024 && PCP_PORT < 32768)) ||
    die "MULTIDB_PGPOOL_PORT and its PCP port must be between 1024 and 32767 (got $PORT, $PCP_PORT)"
  [[ $STATEMENT_LB == on || $STATEMENT_LB == off ]] || die "MULTIDB_PGPOOL_STATEMENT_LB must be on or off"
}

cmd_run() {
  [[ ${1:-} == -- ]] && shift
  (($#)) || die "usage: scripts/pgpool.sh run -- <command...>"
  if [[ -z ${MULTIDB_PG_PRIMARY_URL:-} || -z ${MULTIDB_PG_REPLICA_URL:-} ]]; then
    info "no MULTIDB_PG_PRIMARY_URL: starting the PostgreSQL servers with scripts/replicas.sh first"
    MULTIDB_REPLICAS=pg exec "$SCRIPTS/replicas.sh" run -- "$SELF" run -- "$@"
  fi
  load_config
  ensure_pgpool
  PSQL=$(find_psql) || die "psql is missing (apt-get install postgresql-client)"
  command -v setsid >/dev/null || die "setsid is missing (util-linux)"
  port_free "$PORT" || die "127.0.0.1:$PORT is taken: set MULTIDB_PGPOOL_PORT"
  port_free "$PCP_PORT" || die "127.0.0.1:$PCP_PORT is taken: set MULTIDB_PGPOOL_PCP_PORT"

  trap on_exit EXIT
  trap 'on_signal INT 130' INT
  trap 'on_signal TERM 143' TERM
  trap 'on_signal HUP 129' HUP
  local t0
  t0=$(now_ms)
  # Short path: pgpool's unix sockets live here (at most 107 bytes).
  STATE_DIR=$(mktemp -d /tmp/mdb-pgpool.XXXXXX)
  is_root && chown "$PG_USER:" "$STATE_DIR"
  write_config "$STATE_DIR"
  is_root && chown "$PG_USER:" "$STATE_DIR"/*
  # -n: stay in the foreground (we own it); -D: no pgpool_status from a
  # previous run. setsid: its own process group, killed whole at teardown.
  (cd "$STATE_DIR" && exec setsid "${AS_PG[@]}" "$PGPOOL_BIN" -n -D \
    -f "$STATE_DIR/pgpool.conf" -a "$STATE_DIR/pool_hba.conf" -F "$STATE_DIR/pcp.conf" \
    >"$STATE_DIR/pgpool.log" 2>&1 </dev/null) &
  PGPOOL_PID=$!
  wait_ready "$STATE_DIR"
  info "up in $(($(now_ms) - t0)) ms, folder $STATE_DIR"
  export MULTIDB_PGPOOL_URL="postgres://$PG_USER@127.0.0.1:$PORT/postgres"
  export MULTIDB_PGPOOL_PORT=$PORT

  "$@" <&0 &
  CHILD_PID=$!
  local rc
  while :; do
    rc=0
    wait "$CHILD_PID" || rc=$?
    kill -0 "$CHILD_PID" 2>/dev/null || break
  done
  CHILD_PID=""
  exit "$rc"
}

main() {
  AS_PG=()
  is_root && AS_PG=(runuser -u "$PG_USER" --)
  case ${1:-} in
    run) shift; cmd_run "$@" ;;
    install) load_config; ensure_pgpool; info "pgpool-II: $PGPOOL_BIN ($("$PGPOOL_BIN" --version 2>&1))" ;;
    -h | --help | help) sed -n '2,/^# Linux only/p' "$SELF" | sed 's/^# \{0,1\}//' ;;
    *) sed -n '2,/^# Linux only/p' "$SELF" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
}

{ main "$@"; exit; }
