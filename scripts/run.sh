#!/usr/bin/env bash
# The README's run command: starts JupyterLab with jupyter-spaces from this checkout.
#
# Installs once, then only starts: tmux is installed if missing; the package is installed
# (editable, building the JupyterLab extension with npm) only when it is not installed from this
# checkout yet or pyproject.toml changed since; the extension is rebuilt only when its sources are
# newer than the build. Each of these says what it does and why before it does it. JupyterLab
# loads the extension from this checkout's build (an extra labextensions path), so a rebuild takes
# effect without reinstalling. Extra arguments go to `jupyter lab`.
#
#   JSP_FORCE_INSTALL=1 ./scripts/run.sh   # install again anyway
set -euo pipefail
cd "$(dirname "$0")/.."
here="$(pwd -P)"
python="${PYTHON:-python}"
say() { printf '[run.sh] %s\n' "$*" >&2; }

command -v tmux >/dev/null 2>&1 || { say "installing tmux (the panes live in it)…"; ./scripts/ensure-tmux.sh; }

# Where this checkout is installed from: prints the dist-info folder when it is an editable
# install of this very folder, exits 1 when it is installed from elsewhere, 2 when not at all.
stamp="$("$python" - "$here" 2>/dev/null <<'EOF' || true
import json, os, sys
from importlib import metadata
try:
    dist = metadata.distribution("jupyter-spaces")
except metadata.PackageNotFoundError:
    sys.exit(2)
info = json.loads(dist.read_text("direct_url.json") or "{}")
url = info.get("url", "")
where = url[len("file://"):] if url.startswith("file://") else ""
if info.get("dir_info", {}).get("editable") and os.path.realpath(where) == sys.argv[1]:
    print(dist._path)  # the dist-info folder: its time is the install's
    sys.exit(0)
print(where or url or "a wheel", file=sys.stderr)
sys.exit(1)
EOF
)"

install() {
  say "$1"
  say "installing jupyter-spaces from this checkout (pip install -e .; builds the JupyterLab extension with npm, about a minute the first time)…"
  "$python" -m pip install -q -e .
}

if [ -n "${JSP_FORCE_INSTALL:-}" ]; then
  install "JSP_FORCE_INSTALL is set."
elif [ -z "$stamp" ]; then
  install "jupyter-spaces is not installed from this checkout yet."
elif [ pyproject.toml -nt "$stamp" ]; then
  install "pyproject.toml changed since the install (dependencies or entry points may differ)."
else
  built=jupyter_spaces/labextension/package.json
  stale=""
  if [ ! -f "$built" ]; then
    stale="there is no build of the JupyterLab extension yet"
  elif [ -n "$(find labextension/src labextension/style labextension/schema labextension/package.json labextension/package-lock.json -newer "$built" -print -quit 2>/dev/null)" ]; then
    stale="its sources changed since the last build"
  fi
  if [ -n "$stale" ]; then
    say "rebuilding the JupyterLab extension: $stale (npm run build, about 20 s)…"
    if [ ! -d labextension/node_modules ]; then
      say "installing its npm dependencies first (npm ci)…"
      (cd labextension && npm ci --no-audit --no-fund --loglevel=error)
    fi
    mkdir -p build
    if ! (cd labextension && npm run --silent build) > build/run-build.log 2>&1; then
      cat build/run-build.log >&2
      say "the build failed (above; also in build/run-build.log)."
      exit 1
    fi
  fi
fi

# This checkout's build, found before any copy installed into share/jupyter/labextensions.
ext_dir="build/run-labextensions"
mkdir -p "$ext_dir"
ln -sfn "$here/jupyter_spaces/labextension" "$ext_dir/jupyter-spaces"

extra=(--LabApp.extra_labextensions_path="$here/$ext_dir")
[ "$(id -u)" = 0 ] && extra+=(--allow-root)
say "starting JupyterLab…"
exec "$python" -m jupyterlab "${extra[@]}" "$@"
