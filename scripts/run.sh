#!/usr/bin/env bash
# The README's run command: installs tmux (if missing) and the package, then starts the server.
# Extra arguments go to `jupyter server` (for example --port=9999 or --ServerApp.root_dir=...).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/ensure-tmux.sh
python -m pip install -q -e .
extra=()
[ "$(id -u)" = 0 ] && extra+=(--allow-root)
exec jupyter server "${extra[@]}" "$@"
