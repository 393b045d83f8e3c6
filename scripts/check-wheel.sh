#!/usr/bin/env bash
# Checks that the wheel works on a machine with no node: it is built here (node needed only for
# that), installed into a fresh virtualenv whose PATH has no node or npm, and JupyterLab there
# must list the prebuilt extension as enabled and serve its files.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap '[ -n "${server:-}" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

python -m pip wheel -q --no-deps -w "$work/dist" .
python -m venv "$work/venv"
# PATH without node/npm: only the venv and the system's basic tools.
export PATH="$work/venv/bin:/usr/bin:/bin"
if command -v node >/dev/null 2>&1 && [ "$(command -v node)" != /usr/bin/node ]; then
  echo "node is still on PATH" >&2; exit 1
fi
hide=$(mktemp -d)  # /usr/bin/node may exist: shadow it with a failing stub
printf '#!/bin/sh\necho "node must not be needed" >&2; exit 1\n' > "$hide/node"
cp "$hide/node" "$hide/npm"; chmod +x "$hide/node" "$hide/npm"
export PATH="$hide:$PATH"

"$work/venv/bin/pip" install -q "$work"/dist/*.whl
cd "$work"
jupyter labextension list 2>&1 | tee "$work/list.txt"
grep -q "jupyter-spaces.*enabled.*OK" "$work/list.txt"
jupyter server extension list > "$work/server.txt" 2>&1
grep -q "jupyter_spaces.*enabled" "$work/server.txt"

port=$(python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
root=$(id -u)
extra=(); [ "$root" = 0 ] && extra+=(--allow-root)
jupyter lab --no-browser --port="$port" --ServerApp.token=t --ServerApp.root_dir="$work" \
  --ServerApp.ip=127.0.0.1 "${extra[@]}" > "$work/lab.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/api/status?token=t" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "http://127.0.0.1:$port/lab?token=t" > "$work/lab.html"
entry=$(grep -o 'jupyter-spaces/static/remoteEntry[^"]*' "$work/lab.html" | head -1 || true)
if [ -z "$entry" ]; then
  # The page lists federated extensions in its config; fall back to the share folder itself.
  entry="jupyter-spaces/static/$(basename "$(ls "$work"/venv/share/jupyter/labextensions/jupyter-spaces/static/remoteEntry.*.js)")"
fi
curl -fs -o /dev/null "http://127.0.0.1:$port/lab/extensions/$entry?token=t"
curl -fs "http://127.0.0.1:$port/api/spaces?token=t" > "$work/spaces.json"
grep -q '"spaces"' "$work/spaces.json"
echo "wheel check: the installed wheel serves the prebuilt extension and the API without node"
