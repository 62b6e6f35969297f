#!/usr/bin/env bash
# Run Partnership Bot. With no arguments: the local chat shell on the embedded SQLite database.
# Any arguments go to the `partnership-bot` command (e.g. `./run.sh serve`, `./run.sh --help`).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/ensure-venv.sh ""
if [ "$#" -eq 0 ]; then set -- shell; fi
exec .venv/bin/partnership-bot "$@"
