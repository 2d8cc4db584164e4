#!/usr/bin/env bash
# Starts a throwaway PostgreSQL on 127.0.0.1 (data under /tmp) for tests and benchmarks, and prints its DSN.
#   scripts/postgres.sh start [PORT]   → prints postgres://talos:talos@127.0.0.1:PORT/talos?sslmode=disable
#   scripts/postgres.sh stop|restart [PORT]
set -euo pipefail
action=${1:-start}
port=${2:-55432}
data=/tmp/talos-pg-$port
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case $action in
  start)
    if [ ! -f "$data/PG_VERSION" ]; then
      mkdir -p "$data" && { [ "$(id -u)" != 0 ] || chown postgres:postgres "$data"; }
      as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >/dev/null
    fi
    if ! as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
        -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off" start >/dev/null
    fi
    psql() { as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
    [ "$(psql -c "SELECT 1 FROM pg_roles WHERE rolname = 'talos'")" = 1 ] || psql -c "CREATE ROLE talos LOGIN SUPERUSER PASSWORD 'talos'"
    [ "$(psql -c "SELECT 1 FROM pg_database WHERE datname = 'talos'")" = 1 ] || psql -c "CREATE DATABASE talos OWNER talos"
    echo "postgres://talos:talos@127.0.0.1:$port/talos?sslmode=disable"
    ;;
  stop) as_pg "$bin/pg_ctl" -D "$data" -m fast stop >/dev/null ;;
  restart) as_pg "$bin/pg_ctl" -D "$data" -m fast -w restart >/dev/null ;;
  *) echo "usage: $0 start|stop|restart [PORT]" >&2; exit 2 ;;
esac
