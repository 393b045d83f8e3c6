#!/usr/bin/env bash
# The README's run command: installs tmux (if missing) and the package (building the JupyterLab
# extension with npm), then starts JupyterLab. Extra arguments go to `jupyter lab`.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/ensure-tmux.sh
python -m pip install -q -e .
extra=()
[ "$(id -u)" = 0 ] && extra+=(--allow-root)
exec jupyter lab "${extra[@]}" "$@"
