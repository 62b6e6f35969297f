#!/usr/bin/env bash
# Make .venv (Python 3.11+) and install the project into it, once per change of pyproject.toml
# or requirements.lock, at the versions the lock pins (scripts/lock.sh remakes it).
# Run by run.sh, test.sh and bench.sh; $1 is the extra to install ("" or "dev").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
extra="${1:-}"
python="$(bash "$root/scripts/python.sh")"
venv="$root/.venv"
if [ ! -x "$venv/bin/python" ]; then
  echo "Setting up a virtual environment in .venv (first run only)..." >&2
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip > "$venv/install.log" 2>&1 || true
fi
stamp="$venv/.installed-${extra:-base}"
lock="$root/requirements.lock"
want="$(cat "$root/pyproject.toml" "$lock" 2>/dev/null | sha256sum | cut -d' ' -f1)"
# The lock's pins as constraints: the same versions on every machine and in CI.
constraints=()
[ -f "$lock" ] && constraints=(-c "$lock")
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "Installing Partnership Bot and its dependencies into .venv..." >&2
  spec="$root"
  [ -n "$extra" ] && spec="$root[$extra]"
  if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$spec" \
      ${constraints[@]+"${constraints[@]}"} > "$venv/install.log" 2>&1; then
    tail -n 30 "$venv/install.log" >&2
    echo "Installing failed; the whole log is in .venv/install.log. If pyproject.toml's" \
         "dependencies changed, scripts/lock.sh remakes requirements.lock to match." >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi
