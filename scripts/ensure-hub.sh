#!/usr/bin/env bash
# What tests/test_hub.py needs beyond the Python test extras (jupyterhub comes from those):
# JupyterHub's proxy (configurable-http-proxy, npm) in tests/proxy/node_modules, and setfacl
# (Debian's acl), with which the test lets its throwaway users reach this Python (it may live
# under a 0700 home such as /root) without opening that folder to anyone else.
set -euo pipefail
cd "$(dirname "$0")/.."
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v setfacl >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq acl
fi
(cd tests/proxy && npm ci --no-audit --no-fund)
