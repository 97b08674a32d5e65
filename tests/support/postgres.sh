#!/usr/bin/env bash
# Start or stop a throw-away PostgreSQL 15 server for the test suite.
#   tests/support/postgres.sh start PORT   -> prints the DATABASE URL on stdout
#   tests/support/postgres.sh stop PORT
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` system user.
set -euo pipefail
action=${1:?start|stop}
port=${2:-55432}
dir=/tmp/chathub-pg-$port
pgbin=${PGBIN:-/usr/lib/postgresql/15/bin}

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

ensure_binaries() {
  if [ ! -x "$pgbin/initdb" ]; then
    echo "installing PostgreSQL 15 from Debian's packages" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >&2
  fi
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home /var/lib/postgresql --shell /bin/bash postgres
  fi
}

case "$action" in
  start)
    ensure_binaries
    if [ -f "$dir/postmaster.pid" ]; then as_pg "$pgbin/pg_ctl" -D "$dir" stop -m immediate >/dev/null 2>&1 || true; fi
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    as_pg "$pgbin/initdb" -D "$dir" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
    as_pg "$pgbin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null
    as_pg "$pgbin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE chathub_test" >/dev/null
    echo "postgresql://postgres@127.0.0.1:$port/chathub_test"
    ;;
  stop)
    if [ -d "$dir" ]; then
      as_pg "$pgbin/pg_ctl" -D "$dir" stop -m fast >/dev/null 2>&1 || true
      rm -rf "$dir"
    fi
    ;;
  *) echo "usage: $0 start|stop [port]" >&2; exit 2 ;;
esac
