#!/usr/bin/env bash
# Start or stop a throw-away Redis server on loopback for tests.
#   tests/support/redis.sh start PORT   -> prints redis://127.0.0.1:PORT/0
#   tests/support/redis.sh stop PORT
set -euo pipefail
action=${1:?start|stop}
port=${2:-56379}
dir=/tmp/chathub-redis-$port

case "$action" in
  start)
    if ! command -v redis-server >/dev/null 2>&1; then
      echo "installing redis-server from Debian's packages" >&2
      apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2
    fi
    mkdir -p "$dir"
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no \
      --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null
    for _ in $(seq 1 50); do
      redis-cli -p "$port" ping >/dev/null 2>&1 && break
      sleep 0.1
    done
    echo "redis://127.0.0.1:$port/0"
    ;;
  stop)
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|stop [port]" >&2; exit 2 ;;
esac
