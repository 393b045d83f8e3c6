"""``jupyter spaces doctor | list``: what the server would find, read with no server running."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_config_path

from ..agent_state.model import parse_trail
from ..app import SpacesApp
from ..host.tmux import INSTALL_HINT, PaneInfo, TmuxError, TmuxServer, is_stale, session_name
from ..hub import describe, hub_server, identity_problems
from ..registry import Registry
from ..store import WorkspaceStore
from .base import _Command


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
        live = live_panes(app)
        rows = []
        for space_id, entry in Registry(Path(app.registry_path)).entries().items():
            result = store.load(Path(entry["dir"]))
            space = result.space
            panes = []
            for p in space.panes.values() if space else []:
                row: dict[str, Any] = {"id": p.id, "kind": p.kind, "title": p.title, "cwd": p.cwd}
                if p.kind == "agent":
                    row["agent"] = p.agent
                    row["agent_state"] = agent_state(live.get(session_name(space_id, p.id)))
                panes.append(row)
            rows.append(
                {
                    "id": space_id,
                    "name": space.name if space else entry.get("name", ""),
                    "dir": entry["dir"],
                    "status": result.status,
                    "message": result.message or None,
                    "panes": panes,
                    "needs_input": sum(1 for r in panes if r.get("agent_state") == "needs_input"),
                }
            )
        if not rows:
            self.emit(rows, "No spaces yet. Create one from JupyterLab or POST /api/spaces.")
            return
        text = [f"{'ID':<12} {'NAME':<20} {'STATUS':<8} {'PANES':>5}  {'AGENTS':<24} FOLDER"]
        for r in rows:
            text.append(
                f"{r['id']:<12} {r['name'][:20]:<20} {r['status']:<8} {len(r['panes']):>5}  "
                f"{agents_summary(r['panes']):<24} {r['dir']}"
                + (f"\n{'':<12} {r['message']}" if r["message"] else "")
            )
        self.emit(rows, "\n".join(text))


def live_panes(app: SpacesApp) -> dict[str, PaneInfo]:
    """What the private tmux server says of each pane now; empty when it is not running."""
    tmux = TmuxServer(Path(app.socket_dir), app.tmux_command, timeout=5)
    if not tmux.available:
        return {}
    try:
        return asyncio.run(tmux.list_panes())
    except TmuxError:
        return {}


def agent_state(info: PaneInfo | None) -> str:
    """An agent pane's state as its tmux option records it (the server's own reading may be
    a moment newer); ``exited`` when its process is gone, ``unknown`` if nothing says."""
    if info is None or info.dead:
        return "exited"
    try:
        trail = parse_trail(info.agent_state)
    except ValueError:
        return "unknown"
    return trail[-1].state if trail else "unknown"


def agents_summary(panes: list[dict[str, Any]]) -> str:
    """``1 needs input, 2 working``: the agent panes by state, those that need the user first."""
    order = ["needs_input", "working", "starting", "idle", "exited", "unknown"]
    counts = Counter(p["agent_state"] for p in panes if "agent_state" in p)
    words = [f"{counts[s]} {s.replace('_', ' ')}" for s in order if counts[s]]
    return ", ".join(words) or "-"


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

    if version:
        for name, verdict, detail in check_tmux_server(tmux, app.tmux_timeout):
            check(name, verdict, detail)

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

    hub = hub_server()
    if hub is not None:
        problems = identity_problems(hub)
        check(
            "jupyterhub",
            not problems,
            "; ".join(problems) or describe(hub, app.socket_dir, app.sessions_index_path),
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


def check_tmux_server(tmux: TmuxServer, timeout: float) -> list[tuple[str, bool | None, str]]:
    """Talk to the private tmux server (with a timeout): is it there, does it answer, and does
    it still serve control clients of a jupyter-server that is gone? Each with what to do."""
    sock = tmux.socket_path
    if not sock.exists():
        return [("tmux server", True, "not running (it starts with the first pane)")]
    argv = [*tmux.base_argv(), "list-sessions", "-F", "#{session_name}"]
    pid = tmux.server_pid()
    try:
        out = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            check=False,
            env=tmux.environment(),
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return [
            (
                "tmux server",
                False,
                f"at {sock} does not answer within {timeout:g} s. " + tmux.remedy(),
            )
        ]
    err = out.stderr.strip()
    if out.returncode != 0 and ("no server running" in err or "error connecting" in err):
        return [
            (
                "tmux server",
                None,
                f"not running: {sock} is left by a tmux server that died, so panes show as "
                "gone. Restarting a pane (or starting one) starts a new tmux server; "
                "`jupyter spaces restore` brings panes back from the workspace files.",
            )
        ]
    if out.returncode != 0 and any(word in err for word in ("exited unexpectedly", "lost server")):
        return [("tmux server", False, f"at {sock} drops connections ({err}). " + tmux.remedy())]
    sessions = len(out.stdout.split()) if out.returncode == 0 else 0
    checks: list[tuple[str, bool | None, str]] = [
        ("tmux server", True, f"running (pid {pid}), {sessions} session(s), answers")
    ]
    tmux.timeout = timeout
    try:
        clients = asyncio.run(tmux.list_clients())
    except TmuxError as e:
        return [*checks, ("tmux clients", False, str(e))]
    stale = [c.pid for c in clients if is_stale(c)]
    if stale:
        pids = " ".join(map(str, stale))
        checks.append(
            (
                "tmux clients",
                None,
                f"{len(stale)} control client(s) left by a jupyter-server that is gone "
                f"(pids {pids}); a tmux server that is asked to exit waits on them. A starting "
                f"jupyter-server removes them, or run `kill {pids}`.",
            )
        )
    else:
        control = sum(c.control for c in clients)
        checks.append(("tmux clients", True, f"{control} control client(s), none stale"))
    return checks


def _extension_enabled() -> bool:
    from jupyter_server.extension.config import ExtensionConfigManager

    manager = ExtensionConfigManager(read_config_path=jupyter_config_path())
    return bool(manager.get_jpserver_extensions().get("jupyter_spaces"))
