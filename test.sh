#!/usr/bin/env bash
# Run every check: ruff, mypy, then the tests (SQLite always; PostgreSQL too when one answers at
# $TEST_POSTGRES_URL, default postgresql://127.0.0.1:5432/test, else those tests skip with a reason),
# then the date-sensitive tests again at fixed awkward instants.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/ensure-venv.sh dev
echo "== ruff" && .venv/bin/ruff check .
echo "== mypy" && .venv/bin/mypy
# In TEST_WORKERS processes (default 4, also on 2 cores: the tests mostly wait on sockets and
# timers); each has its own databases. TEST_WORKERS=0 runs them in this one process.
echo "== pytest" && .venv/bin/pytest -q -rs -n "${TEST_WORKERS:-4}" "$@"
# The tests marked `clock` (they read today's date or the time) once more at each frozen instant
# of tests/conftest.py's FROZEN_INSTANTS, in UK time: a Monday 08:30, a Sunday 23:59, 29 February,
# both clock-change weekends (the March 01:30 that does not exist, the October 01:30 that happens
# twice), 31 August 23:59 and 31 December 23:59. One process, SQLite; FROZEN_AT=<instant>
# instead of `all` reproduces one.
echo "== pytest, date-sensitive tests at frozen instants"
status=0
FROZEN_AT=all .venv/bin/pytest -q -rs -m clock "$@" || status=$?
# 5: none of the tests chosen on the command line reads the clock
if [ "$status" = 5 ]; then status=0; fi
exit "$status"
