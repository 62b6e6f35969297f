#!/usr/bin/env bash
# Run every check: ruff, mypy, then the tests (SQLite always; PostgreSQL too when one answers at
# $TEST_POSTGRES_URL, default postgresql://127.0.0.1:5432/test, else those tests skip with a reason).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/ensure-venv.sh dev
echo "== ruff" && .venv/bin/ruff check .
echo "== mypy" && .venv/bin/mypy
echo "== pytest" && exec .venv/bin/pytest -q -rs "$@"
