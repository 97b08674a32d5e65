#!/usr/bin/env bash
# `make run-scaled`: a scaled ChatHub on this machine. PostgreSQL 15 and Redis (installed from Debian's
# packages when missing, started here unless already running; data under instance/), the database
# created, migrated and seeded, then two ChatHub instances with WEB_CONCURRENCY gevent workers each on
# ports 5001 and 5002, in the foreground: Ctrl-C stops both (PostgreSQL and Redis keep running).
#
# Settings (environment or .env): DATABASE_URL / REDIS_URL to use servers you already run (nothing is
# started then); else CHATHUB_PG_PORT (5432) and CHATHUB_REDIS_PORT (6379) for the local ones;
# CHATHUB_PORTS ("5001 5002"), WEB_CONCURRENCY (2), DB_POOL_SIZE, DB_MAX_OVERFLOW.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv=${VENV:-.venv}
# .env may name the servers (the shell's environment wins)
if [ -f .env ]; then
  while IFS='=' read -r key value; do
    case "$key" in DATABASE_URL|REDIS_URL|WEB_CONCURRENCY) [ -z "${!key:-}" ] && [ -n "$value" ] && export "$key=$value" ;; esac
  done < <(grep -E '^(DATABASE_URL|REDIS_URL|WEB_CONCURRENCY)=' .env || true)
fi
pg_port=${CHATHUB_PG_PORT:-5432}
redis_port=${CHATHUB_REDIS_PORT:-6379}
ports=${CHATHUB_PORTS:-"5001 5002"}
export WEB_CONCURRENCY=${WEB_CONCURRENCY:-2}
pgbin=${PGBIN:-/usr/lib/postgresql/15/bin}
pgdata=$root/instance/postgres
redisdata=$root/instance/redis

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

install_missing() {
  local need=()
  [ -n "${DATABASE_URL:-}" ] || [ -x "$pgbin/initdb" ] || need+=(postgresql-15)
  [ -n "${REDIS_URL:-}" ] || command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  [ ${#need[@]} -eq 0 ] && return
  if [ "$(id -u)" != 0 ]; then echo "missing: ${need[*]} (install them with apt-get as root)" >&2; exit 1; fi
  echo "installing ${need[*]} from Debian's packages" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
}

start_postgres() {
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home /var/lib/postgresql --shell /bin/bash postgres
  fi
  if ! "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$pg_port"; then
    if [ ! -f "$pgdata/PG_VERSION" ]; then
      mkdir -p "$pgdata"
      [ "$(id -u)" = 0 ] && chown postgres:postgres "$pgdata"
      as_pg "$pgbin/initdb" -D "$pgdata" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    echo "starting PostgreSQL on 127.0.0.1:$pg_port (data: $pgdata)" >&2
    as_pg "$pgbin/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w -t 60 start \
      -o "-p $pg_port -k $pgdata -c listen_addresses=127.0.0.1 -c max_connections=200" >/dev/null
  fi
  if [ -z "$(psql -h 127.0.0.1 -p "$pg_port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='chathub'")" ]; then
    psql -h 127.0.0.1 -p "$pg_port" -U postgres -qc "CREATE DATABASE chathub" >/dev/null
  fi
  export DATABASE_URL="postgresql://postgres@127.0.0.1:$pg_port/chathub"
}

start_redis() {
  if ! redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
    mkdir -p "$redisdata"
    echo "starting Redis on 127.0.0.1:$redis_port (data: $redisdata)" >&2
    redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$redisdata" --appendonly yes --daemonize yes \
      --pidfile "$redisdata/redis.pid" --logfile "$redisdata/redis.log" >/dev/null
    for _ in $(seq 1 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  export REDIS_URL="redis://127.0.0.1:$redis_port/0"
}

install_missing
[ -n "${DATABASE_URL:-}" ] || start_postgres
[ -n "${REDIS_URL:-}" ] || start_redis
export RATELIMIT_STORAGE_URI=${RATELIMIT_STORAGE_URI:-$REDIS_URL}
export FLASK_APP=wsgi.py

"$venv/bin/flask" db upgrade
"$venv/bin/flask" chathub seed

pids=()
stop_all() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait
}
trap stop_all INT TERM EXIT
for port in $ports; do
  PORT=$port "$venv/bin/gunicorn" -c gunicorn.conf.py wsgi:app &
  pids+=($!)
done
echo "ChatHub: $(for p in $ports; do printf 'http://127.0.0.1:%s ' "$p"; done)x $WEB_CONCURRENCY workers;" \
  "PostgreSQL $(sed -E 's#//[^@/]*@#//#' <<<"$DATABASE_URL"), Redis $(sed -E 's#//[^@/]*@#//#' <<<"$REDIS_URL")." \
  "Ctrl-C stops." >&2
wait -n "${pids[@]}" || true
