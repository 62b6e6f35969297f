#!/usr/bin/env bash
# Regenerate requirements.lock from pyproject.toml: the exact versions that run.sh, test.sh and
# CI install (scripts/ensure-venv.sh passes it to pip as constraints). Run it after changing the
# dependencies in pyproject.toml, or after merging branches that did, and commit the result:
#
#   scripts/lock.sh              # keep locked versions where pyproject still allows them
#   scripts/lock.sh --upgrade    # take the newest versions pyproject allows
#
# The lock covers the dev extra too, and every platform and Python from 3.11 (uv's --universal
# resolution, with markers where versions differ). uv comes from PyPI into .venv/lock-tools.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
tools="$root/.venv/lock-tools"
if [ ! -x "$tools/bin/uv" ]; then
  python="$(bash "$root/scripts/python.sh")"
  echo "Installing uv (the lock's resolver) into .venv/lock-tools..." >&2
  "$python" -m venv "$tools"
  "$tools/bin/python" -m pip install --quiet --disable-pip-version-check "uv>=0.5,<1"
fi
"$tools/bin/uv" pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
  --quiet --custom-compile-command "scripts/lock.sh" -o requirements.lock "$@"
echo "Wrote requirements.lock ($(grep -c '==' requirements.lock) pinned packages)."
