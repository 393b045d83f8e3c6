#!/usr/bin/env bash
# The README's run command: installs tmux (if missing) and the package, then starts the server.
# Extra arguments go to `jupyter server` (for example --port=9999 or --ServerApp.root_dir=...).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v tmux >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux
fi
python -m pip install -q -e .
extra=()
[ "$(id -u)" = 0 ] && extra+=(--allow-root)
exec jupyter server "${extra[@]}" "$@"
