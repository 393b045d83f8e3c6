#!/usr/bin/env bash
# The README's test command: installs what the tests need, then runs lint, types and tests.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/ensure-tmux.sh

python -m pip install -q -e ".[test]"
ruff check jupyter_spaces tests benchmarks
mypy
python -m pytest "$@"
