#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests when it is missing (Playwright's own browser
# download cannot be used here; playwright-core drives /usr/bin/chromium).
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
