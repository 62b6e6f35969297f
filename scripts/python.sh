#!/usr/bin/env bash
# Print the first Python 3.11 or newer on PATH (for ensure-venv.sh and lock.sh), or say so.
for candidate in python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "$candidate"
    exit 0
  fi
done
echo "Partnership Bot needs Python 3.11 or newer; install it and run this again." >&2
exit 1
