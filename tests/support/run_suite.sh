#!/usr/bin/env bash
# The whole test suite: once on SQLite, then again on a real PostgreSQL 15 server started here.
# Exits non-zero if either pass fails or the PostgreSQL pass did not run.
set -uo pipefail
cd "$(dirname "$0")/../.."
py=${PYTHON:-.venv/bin/python}
# A free port unless one is given, so a server left over from another run cannot get in the way.
port=${CHATHUB_TEST_PG_PORT:-$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}

bash tests/support/install_test_deps.sh || { echo "could not install test dependencies" >&2; exit 1; }

echo "== pass 1: SQLite"
"$py" -m pytest "$@"
sqlite_rc=$?

echo "== pass 2: PostgreSQL 15"
url=$(bash tests/support/postgres.sh start "$port") || { echo "PostgreSQL did not start" >&2; exit 1; }
trap 'bash tests/support/postgres.sh stop "$port"' EXIT
TEST_DATABASE_URL=$url "$py" -m pytest "$@"
pg_rc=$?

echo "SQLite pass: exit $sqlite_rc; PostgreSQL pass: exit $pg_rc"
[ "$sqlite_rc" = 0 ] && [ "$pg_rc" = 0 ]
