#!/usr/bin/env bash
# The README's test command: installs what the tests need, then runs lint, types and tests.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v tmux >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux
fi

python -m pip install -q -e ".[test]"
ruff check jupyter_spaces tests benchmarks
mypy
python -m pytest "$@"
