#!/usr/bin/env bash
# The README's test command: installs what the tests need, then runs lint, types, the Python
# tests, the front end's unit tests and the browser tests (real JupyterLab, headless Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

# Every process the tests start inherits this mark; at the end, whatever still carries it was
# left running by a test: it is listed, killed, and the run fails.
export JUPYTER_SPACES_TEST_RUN="${JUPYTER_SPACES_TEST_RUN:-test-sh-$$-$(date +%s)}"
trap 'rc=$?; python -m tests.leftovers || rc=1; exit $rc' EXIT

./scripts/ensure-tmux.sh
./scripts/ensure-chromium.sh
./scripts/ensure-hub.sh      # JupyterHub's proxy and setfacl, for tests/test_hub.py
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

(cd labextension && npm ci --no-audit --no-fund)
# Also builds the JupyterLab extension (hatch-jupyter-builder runs `npm run build`).
python -m pip install -q -e ".[test]"
ruff check jupyter_spaces tests benchmarks
mypy
python -m pytest "$@"
(cd labextension && npm test)
./scripts/check-wheel.sh   # the wheel works where there is no node
(cd labextension/ui-tests && npm ci --no-audit --no-fund && npm test)
