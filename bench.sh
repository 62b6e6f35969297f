#!/usr/bin/env bash
# Run the benchmarks (setting up .venv like test.sh). With no argument: the command latency and
# throughput bench against bare Bolt (bench/http_bench.py). Otherwise the named one:
#   ./bench.sh http | capacity | cpd_summary | reminder_lateness | digest_build | school_lookup |
#     log_lines | web_pages | crash_window | db_stall | body_memory | mutation | all
# (`all` leaves out mutation, the mutation score of the tests: bench/mutation.py.)
# Each prints its figures with ratios against a baseline run in the same process or run, on
# PostgreSQL when one answers at 127.0.0.1:5432 (database `test`), else SQLite, as it says.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/ensure-venv.sh dev
which="${1:-http}"
case "$which" in
  http) benches=(http_bench) ;;
  all) benches=(http_bench capacity cpd_summary reminder_lateness digest_build school_lookup
            log_lines web_pages crash_window db_stall body_memory) ;;
  *) benches=("$which") ;;
esac
for bench in "${benches[@]}"; do
  echo "== bench/${bench}.py"
  .venv/bin/python -m "bench.${bench}"
done
