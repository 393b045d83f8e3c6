"""``jupyter spaces …``: commands that work with no server running.

They read the same configuration as the server (``c.SpacesApp.*`` in jupyter_server_config),
so ``doctor`` checks the tmux, socket directory and registry the server will use.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

from jupyter_core.application import JupyterApp
from jupyter_core.paths import jupyter_config_path
from traitlets import Bool

from . import __version__
from .app import SpacesApp
from .host.tmux import INSTALL_HINT, TmuxServer
from .registry import Registry
from .store import WorkspaceStore


class _Command(JupyterApp):
    version = __version__
    # The server's own config files, so settings match what the server uses.
    config_file_name = "jupyter_server_config"
    json_output = Bool(False, config=True, help="Print JSON instead of text.")
    flags = {"json": ({"_Command": {"json_output": True}}, "Print JSON instead of text.")}
    classes = [SpacesApp]

    def settings(self) -> SpacesApp:
        return SpacesApp(config=self.config)

    def emit(self, data: Any, text: str) -> None:
        print(json.dumps(data, indent=2) if self.json_output else text)


class DoctorApp(_Command):
    name = "jupyter-spaces-doctor"
    description = "Check that durable panes can work here: tmux, socket dir, registry, extension."

    def start(self) -> None:
        checks = diagnose(self.settings())
        width = max(len(c["check"]) for c in checks)
        lines = [f"{c['check']:<{width}}  {c['status']:<4}  {c['detail']}" for c in checks]
        self.emit(checks, "\n".join(lines))
        if any(c["status"] == "FAIL" for c in checks):
            self.exit(1)


class ListApp(_Command):
    name = "jupyter-spaces-list"
    description = "List the known spaces from their workspace files (no server needed)."

    def start(self) -> None:
        app = self.settings()
        store = WorkspaceStore()
        rows = []
        for space_id, entry in Registry(Path(app.registry_path)).entries().items():
            result = store.load(Path(entry["dir"]))
            space = result.space
            rows.append(
                {
                    "id": space_id,
                    "name": space.name if space else entry.get("name", ""),
                    "dir": entry["dir"],
                    "status": result.status,
                    "message": result.message or None,
                    "panes": [
                        {"id": p.id, "kind": p.kind, "title": p.title, "cwd": p.cwd}
                        for p in (space.panes.values() if space else [])
                    ],
                }
            )
        if not rows:
            self.emit(rows, "No spaces yet. Create one from JupyterLab or POST /api/spaces.")
            return
        text = [f"{'ID':<12} {'NAME':<20} {'STATUS':<8} {'PANES':>5}  FOLDER"]
        for r in rows:
            text.append(
                f"{r['id']:<12} {r['name'][:20]:<20} {r['status']:<8} {len(r['panes']):>5}  "
                f"{r['dir']}" + (f"\n{'':<12} {r['message']}" if r["message"] else "")
            )
        self.emit(rows, "\n".join(text))


class SpacesCLI(JupyterApp):
    name = "jupyter-spaces"
    version = __version__
    description = "Durable terminal and agent panes for Jupyter."
    subcommands = {
        "doctor": (DoctorApp, DoctorApp.description),
        "list": (ListApp, ListApp.description),
    }

    def start(self) -> None:
        if self.subapp is None:
            if self.extra_args:
                print(f"jupyter spaces: unknown command {self.extra_args[0]!r}", file=sys.stderr)
            print(
                f"usage: jupyter spaces {{{','.join(self.subcommands)}}} [--json]", file=sys.stderr
            )
            print("Run `jupyter spaces --help-all` for the settings.", file=sys.stderr)
            self.exit(2)
        super().start()


def diagnose(app: SpacesApp) -> list[dict[str, str]]:
    checks: list[dict[str, str]] = []

    def check(name: str, ok: bool | None, detail: str) -> None:
        status = "OK" if ok else ("WARN" if ok is None else "FAIL")
        checks.append({"check": name, "status": status, "detail": detail})

    tmux = TmuxServer(Path(app.socket_dir), app.tmux_command)
    version = tmux.version()
    check(
        "tmux", version is not None, f"{version} at {tmux.executable}" if version else INSTALL_HINT
    )

    sock_dir = Path(app.socket_dir)
    if sock_dir.exists():
        st = sock_dir.stat()
        mode = stat.S_IMODE(st.st_mode)
        ok = st.st_uid == os.getuid() and mode == 0o700
        check(
            "socket dir",
            ok,
            f"{sock_dir} (mode {mode:04o}, owner uid {st.st_uid})"
            + ("" if ok else "; it must be 0700 and yours"),
        )
    else:
        parent = next(p for p in sock_dir.parents if p.exists())
        check(
            "socket dir",
            os.access(parent, os.W_OK),
            f"{sock_dir} does not exist yet; it will be created 0700",
        )

    if version and tmux.socket_path.exists():
        out = subprocess.run(
            [*tmux.base_argv(), "list-sessions", "-F", "#{session_name}"],
            capture_output=True,
            text=True,
            check=False,
        )
        n = len(out.stdout.split()) if out.returncode == 0 else 0
        check(
            "tmux server",
            True,
            f"running, {n} session(s)"
            if out.returncode == 0
            else "not running (it starts with the first pane)",
        )
    else:
        check("tmux server", True, "not running (it starts with the first pane)")

    registry = Path(app.registry_path)
    existing = next(p for p in [registry, *registry.parents] if p.exists())
    entries = Registry(registry).entries()
    check(
        "registry",
        os.access(existing, os.W_OK),
        f"{registry} ({len(entries)} space(s))"
        + ("" if os.access(existing, os.W_OK) else "; not writable"),
    )
    unwritable = [
        e["dir"]
        for e in entries.values()
        if not os.access(WorkspaceStore.state_dir(e["dir"]).parent, os.W_OK)
    ]
    check(
        "space folders",
        not unwritable,
        f"{len(entries) - len(unwritable)} of {len(entries)} writable"
        + (f"; not writable: {', '.join(unwritable)}" if unwritable else ""),
    )

    enabled = _extension_enabled()
    check(
        "server extension",
        enabled,
        "jupyter_spaces is enabled"
        if enabled
        else "not enabled: run `jupyter server extension enable jupyter_spaces`",
    )
    return checks


def _extension_enabled() -> bool:
    from jupyter_server.extension.config import ExtensionConfigManager

    manager = ExtensionConfigManager(read_config_path=jupyter_config_path())
    return bool(manager.get_jpserver_extensions().get("jupyter_spaces"))


main = SpacesCLI.launch_instance

if __name__ == "__main__":
    main()
