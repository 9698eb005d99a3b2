#!/usr/bin/env bash
# The local HA demo: three PostgreSQL servers on loopback and one kestreld
# managing them through the HA catalog (config/ha-demo.yaml).
#
#   bash packaging/ha-demo.sh start  [DIR]   install, build, start everything, print what to try
#   bash packaging/ha-demo.sh status [DIR]   what runs, and kestrelctl status
#   bash packaging/ha-demo.sh stop   [DIR]   stop everything it started, by PID (DIR is kept)
#   bash packaging/ha-demo.sh servers [DIR]  only the PostgreSQL servers (bench/failover runs its own client)
#
# DIR (default ./kestrel-ha-demo) holds: pg-a, pg-b, pg-c (the data
# directories; pg-b and pg-c are filled by the replicator's pg_basebackup),
# pg-*.log, kestrel-data/ (node.db, host-state.db, images/), kestreld.log, kestreld.pid,
# ports (the three servers' ports), token (the bearer token of both APIs)
# pg-password and run/ (the servers' sockets). The App API listens on 127.0.0.1:8000, the HA API on
# 127.0.0.1:8001. Runs as root (the servers run as the postgres user) or as
# the user owning DIR. Exit status: 0 done, 1 failure, 2 usage.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

usage() { echo "usage: bash packaging/ha-demo.sh start|status|stop|servers [DIR]" >&2; exit 2; }
die() { echo "ha-demo.sh: $*" >&2; exit 1; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
CMD=$1
DIR=${2:-./kestrel-ha-demo}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)

PGBIN=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
[ -x "$PGBIN/initdb" ] || PGBIN=/usr/lib/postgresql/15/bin
as_pg() {  # runs a command as the owner of the data directories
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {  # a TCP port nothing listens on (loopback), from 15432 up
  local p=$1
  while ss -Htln "sport = :$p" | grep -q .; do p=$((p + 1)); done
  echo "$p"
}

env_for_kestreld() {
  export KESTREL_DEMO_DIR=$DIR
  read -r KESTREL_DEMO_PORT_A KESTREL_DEMO_PORT_B KESTREL_DEMO_PORT_C <"$DIR/ports"
  export KESTREL_DEMO_PORT_A KESTREL_DEMO_PORT_B KESTREL_DEMO_PORT_C
  KESTREL_PG_PASSWORD=$(cat "$DIR/pg-password")
  KESTREL_API_TOKEN=$(cat "$DIR/token")
  export KESTREL_PG_PASSWORD KESTREL_API_TOKEN
}

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
server_log() {  # DIR/NAME.log, writable by the server's user
  touch "$DIR/$1.log"
  [ "$(id -u)" -ne 0 ] || chown postgres:postgres "$DIR/$1.log"
  echo "$DIR/$1.log"
}
pid_of_server() { head -1 "$DIR/$1/postmaster.pid" 2>/dev/null || true; }

start_primary() {  # initdb pg-a (first run only) and start it
  local port=$1
  if [ ! -s "$DIR/pg-a/PG_VERSION" ]; then
    install -d -m 0700 "$DIR/pg-a" "$DIR/pg-b" "$DIR/pg-c" "$DIR/run"
    local pwfile="$DIR/.pwfile"
    (umask 077; cat "$DIR/pg-password" >"$pwfile")
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres:postgres "$DIR/pg-a" "$DIR/pg-b" "$DIR/pg-c" "$DIR/run" "$pwfile"
      chmod o+x "$DIR"
    fi
    as_pg "$PGBIN/initdb" -D "$DIR/pg-a" -U postgres --pwfile="$pwfile" --auth=scram-sha-256 \
      --data-checksums -E UTF8 --locale=C.UTF-8 >"$DIR/pg-a-initdb.log" 2>&1 ||
      die "initdb failed: see $DIR/pg-a-initdb.log"
    rm -f "$pwfile"
    as_pg tee -a "$DIR/pg-a/postgresql.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR/run'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
wal_keep_size = '256MB'
EOF
  fi
  if ! alive "$(pid_of_server pg-a)"; then
    as_pg "$PGBIN/pg_ctl" -D "$DIR/pg-a" -l "$(server_log pg-a)" -o "-p $port" -w -t 60 start >/dev/null ||
      die "pg-a did not start: see $DIR/pg-a.log"
  fi
  # The application role and database (idempotent).
  local pw
  pw=$(cat "$DIR/pg-password")
  export PGPASSWORD=$pw
  local psql=("$PGBIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qtA -v ON_ERROR_STOP=1)
  if [ "$("${psql[@]}" -c "SELECT pg_is_in_recovery()")" = "f" ]; then
    "${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = 'kestrel'" | grep -q 1 ||
      "${psql[@]}" -c "CREATE ROLE kestrel LOGIN PASSWORD '$pw'"
    "${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'kestrel'" | grep -q 1 ||
      "${psql[@]}" -c "CREATE DATABASE kestrel OWNER kestrel"
  fi
  unset PGPASSWORD
}

start_standby_if_copied() {  # a standby the replicator copied before: start it again
  local name=$1 port=$2
  if [ -s "$DIR/$name/PG_VERSION" ] && ! alive "$(pid_of_server "$name")"; then
    as_pg "$PGBIN/pg_ctl" -D "$DIR/$name" -l "$(server_log "$name")" -o "-p $port" -w -t 60 start >/dev/null ||
      echo "ha-demo.sh: $name did not start (see $DIR/$name.log); kestreld reports it" >&2
  fi
}

prepare() {  # passwords, token, ports; the primary (and copied standbys) running
  [ -s "$DIR/pg-password" ] || (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$DIR/pg-password")
  [ -s "$DIR/token" ] || (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$DIR/token")
  if [ ! -s "$DIR/ports" ]; then
    local a b c
    a=$(free_port 15432)
    b=$(free_port $((a + 1)))
    c=$(free_port $((b + 1)))
    echo "$a $b $c" >"$DIR/ports"
  fi
  env_for_kestreld
  start_primary "$KESTREL_DEMO_PORT_A"
  start_standby_if_copied pg-b "$KESTREL_DEMO_PORT_B"
  start_standby_if_copied pg-c "$KESTREL_DEMO_PORT_C"
  mkdir -p "$DIR/kestrel-data"
}

cmd_start() {
  bash packaging/install-deps.sh --test
  if [ ! -x build/bin/kestreld ] || [ ! -x build/bin/kestrelctl ]; then
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build build -j2
  fi
  if alive "$(cat "$DIR/kestreld.pid" 2>/dev/null)"; then
    echo "ha-demo.sh: already running in $DIR (pid $(cat "$DIR/kestreld.pid"))"
    cmd_status
    return
  fi
  for port in 8000 8001; do
    ! ss -Htln "sport = :$port" | grep -q . || die "127.0.0.1:$port is in use: stop what listens there first"
  done
  prepare
  nohup "$REPO/build/bin/kestreld" --config "$REPO/config/ha-demo.yaml" >>"$DIR/kestreld.log" 2>&1 &
  echo $! >"$DIR/kestreld.pid"
  local ok=0
  for _ in $(seq 1 120); do
    alive "$(cat "$DIR/kestreld.pid")" || die "kestreld exited: see $DIR/kestreld.log"
    if curl -fsS -o /dev/null http://127.0.0.1:8001/api/status 2>/dev/null ||
      curl -fsS -o /dev/null http://127.0.0.1:8000/api/health 2>/dev/null; then ok=1; break; fi
    sleep 0.5
  done
  [ $ok -eq 1 ] || die "kestreld does not answer on 127.0.0.1:8000/8001: see $DIR/kestreld.log"
  cat <<EOF
Kestrel HA demo running in $DIR
  PostgreSQL: pg-a 127.0.0.1:$KESTREL_DEMO_PORT_A (primary), pg-b :$KESTREL_DEMO_PORT_B, pg-c :$KESTREL_DEMO_PORT_C
              (the standbys are copied from pg-a in the background: a few seconds)
  kestreld:   pid $(cat "$DIR/kestreld.pid"), App API http://127.0.0.1:8000, HA API http://127.0.0.1:8001
  token:      $DIR/token
Try:
  export KESTREL_TOKEN=\$(cat $DIR/token)
  build/bin/kestrelctl status                       # nodes, roles, epoch, lag
  build/bin/kestrelctl crawl start URL              # crawl a site into the HA catalog
  kill -9 \$(head -1 $DIR/pg-a/postmaster.pid)      # crash the primary's server
  watch -n1 build/bin/kestrelctl status             # a new primary, a higher epoch
  build/bin/kestrelctl history                      # the failover, with its duration
  bash packaging/ha-demo.sh stop $DIR
EOF
}

cmd_status() {
  [ -s "$DIR/ports" ] || die "no demo in $DIR (run: bash packaging/ha-demo.sh start $DIR)"
  local pid
  pid=$(cat "$DIR/kestreld.pid" 2>/dev/null || true)
  if alive "$pid"; then echo "kestreld: running (pid $pid)"; else echo "kestreld: not running"; fi
  for n in pg-a pg-b pg-c; do
    pid=$(pid_of_server "$n")
    if alive "$pid"; then echo "$n: running (pid $pid)"; else echo "$n: not running"; fi
  done
  if [ -x build/bin/kestrelctl ] && alive "$(cat "$DIR/kestreld.pid" 2>/dev/null)"; then
    KESTREL_TOKEN=$(cat "$DIR/token") build/bin/kestrelctl status || true
  fi
}

stop_pid() {  # SIGTERM, then SIGKILL after 20 s
  local pid=$1
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 200); do alive "$pid" || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

cmd_stop() {
  [ -d "$DIR" ] || die "no demo in $DIR"
  # kestreld first, so that it does not fail over while the servers stop.
  stop_pid "$(cat "$DIR/kestreld.pid" 2>/dev/null || true)"
  rm -f "$DIR/kestreld.pid"
  for n in pg-a pg-b pg-c; do
    local pid
    pid=$(pid_of_server "$n")
    alive "$pid" || continue
    as_pg "$PGBIN/pg_ctl" -D "$DIR/$n" -m fast -w -t 30 stop >/dev/null 2>&1 || stop_pid "$pid"
  done
  echo "stopped; $DIR is kept (remove it to start from scratch)"
}

case $CMD in
  start) cmd_start ;;
  servers) prepare; echo "servers running in $DIR (ports $(cat "$DIR/ports"))" ;;
  status) cmd_status ;;
  stop) cmd_stop ;;
  *) usage ;;
esac
