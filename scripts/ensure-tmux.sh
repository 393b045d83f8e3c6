#!/usr/bin/env bash
# Installs tmux with apt-get when it is missing (tmux is a system package, not a Python one).
set -euo pipefail
command -v tmux >/dev/null 2>&1 && exit 0
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux
