"""``jupyter spaces …``: commands that work with no server running.

They read the same configuration as the server (``c.SpacesApp.*`` in jupyter_server_config),
so ``doctor`` checks the tmux, socket directory and registry the server will use.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any, NoReturn

from jupyter_core.application import JupyterApp
from jupyter_core.paths import jupyter_config_path
from traitlets import Bool

from . import __version__
from .agents import AGENT_NAMES, SessionIndex, default_index_path
from .app import SpacesApp
from .export import AGENT_LABELS, notebook_filename, session_notebook
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


class ExportError(Exception):
    """A reason, in one sentence, why an export cannot be done (exit status 1)."""


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    # argparse prints the whole usage and exits; one line from us is clearer.
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _export_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="jupyter spaces export",
        description="Write an agent session (Claude Code, Codex CLI, Gemini CLI) as a notebook: "
        "prompts and replies as Markdown cells, tool calls as code cells with their results as "
        "outputs. Nothing in it is run.",
    )
    p.add_argument(
        "session",
        metavar="SESSION",
        help="session id, a unique id prefix (at least 4 characters), or AGENT:ID",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="notebook to write (default: <agent>-<id8>.ipynb here; a folder: that name in it; "
        "'-': standard output)",
    )
    p.add_argument("--agent", choices=AGENT_NAMES, help="look only at this CLI's sessions")
    p.add_argument(
        "--index",
        metavar="PATH",
        help="session index to read (default: SpacesApp.sessions_index_path, else "
        "<jupyter data dir>/spaces/agent-sessions.sqlite)",
    )
    p.add_argument("--no-sync", action="store_true", help="do not scan the agents' folders first")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    p.add_argument("--json", action="store_true", help="print JSON instead of the path")
    return p


class ExportApp(_Command):
    name = "jupyter-spaces-export"
    description = "Write an agent session as a notebook (no server needed)."

    options: argparse.Namespace

    def initialize(self, argv: Any = None) -> None:
        # argparse rather than traitlets: a positional SESSION, and a one-line error for a bad
        # option instead of traitlets' help dump.
        try:
            self.options = _export_parser().parse_args(sys.argv[1:] if argv is None else argv)
        except _UsageError as e:
            _fail(f"{e} (see `jupyter spaces export --help`)", 2)
        self.json_output = self.options.json
        self.load_config_file()

    def start(self) -> None:
        o = self.options
        agent, ref = o.agent, o.session
        head, sep, tail = ref.partition(":")
        if sep and head in AGENT_NAMES:
            if agent is not None and agent != head:
                _fail(f"{ref!r} is a {head} session but --agent says {agent}", 2)
            agent, ref = head, tail
        if not ref.strip():
            _fail("SESSION is empty", 2)
        try:
            result = export_session(
                ref,
                agent=agent,
                index_path=Path(o.index) if o.index else self._index_path(),
                roots=self._configured("agent_roots") or None,
                output=o.output,
                sync=not o.no_sync,
                force=o.force,
            )
        except ExportError as e:
            _fail(str(e), 1)
        if o.output != "-":
            self.emit(result, result["path"])

    def _configured(self, name: str) -> Any:
        # The server's settings for the index, once SpacesApp has them; defaults otherwise.
        app = self.settings()
        return getattr(app, name) if app.has_trait(name) else None

    def _index_path(self) -> Path:
        configured = self._configured("sessions_index_path")
        return Path(configured) if configured else default_index_path()


def _fail(message: str, status: int) -> NoReturn:
    print(f"jupyter spaces export: {message}", file=sys.stderr)
    sys.exit(status)


def export_session(
    ref: str,
    *,
    agent: str | None,
    index_path: Path,
    roots: dict[str, list[str]] | None,
    output: str | None,
    sync: bool,
    force: bool,
) -> dict[str, Any]:
    """Find the session ``ref`` in the index, write its notebook, say where (ExportError if not)."""
    if not sync and not index_path.is_file():
        raise ExportError(f"no session index at {index_path} (leave out --no-sync to build it)")
    try:
        index = SessionIndex(index_path, roots=roots)
    except (OSError, sqlite3.Error) as e:
        raise ExportError(f"cannot open the session index {index_path}: {e}") from e
    try:
        if sync:
            index.sync(agents=[agent] if agent else None)
        found_agent, sid = resolve_session(index, ref, agent)
        session = index.get(found_agent, sid)
        if session is None:  # removed between resolve and get
            raise ExportError(f"no session {found_agent}:{sid} in {index_path}")
        messages: list[dict[str, Any]] = []
        page = 1000
        while True:
            batch = index.messages(found_agent, sid, limit=page, offset=len(messages))
            messages += [m.to_dict() for m in batch]
            if len(batch) < page:
                break
    except sqlite3.Error as e:
        raise ExportError(f"cannot read the session index {index_path}: {e}") from e
    finally:
        index.close()
    nb = session_notebook(session.to_json(), messages)
    text = _notebook_text(nb)
    if output == "-":
        sys.stdout.write(text)
        target = None
    else:
        target = _target(output, found_agent, sid)
        write_atomic(target, text, force=force)
    return {
        "path": str(target) if target else None,
        "agent": found_agent,
        "id": sid,
        "cells": len(nb.cells),
        "messages": len(messages),
    }


def resolve_session(index: SessionIndex, ref: str, agent: str | None) -> tuple[str, str]:
    """(agent, id) of the one session whose id is ``ref``, or else starts with it."""
    agents = [agent] if agent else list(AGENT_NAMES)
    exact = [(a, ref) for a in agents if index.get(a, ref) is not None]
    if len(exact) == 1:
        return exact[0]
    where = f"{AGENT_LABELS[agent]} session" if agent else "agent session"
    if not exact:
        if len(ref) < 4:
            raise ExportError(
                f"no {where} with id {ref!r} (an id prefix needs at least 4 characters)"
            )
        exact = _by_prefix(index, ref, agents)
        if not exact:
            raise ExportError(f"no {where} with id or id prefix {ref!r}")
        if len(exact) == 1:
            return exact[0]
    shown = ", ".join(f"{a}:{i}" for a, i in exact[:5])
    more = f" and {len(exact) - 5} more" if len(exact) > 5 else ""
    raise ExportError(
        f"{ref!r} matches {len(exact)} sessions: {shown}{more}; give more of the id or AGENT:ID"
    )


def _by_prefix(index: SessionIndex, prefix: str, agents: Sequence[str]) -> list[tuple[str, str]]:
    # The index has no prefix lookup; paging through its listing keeps to its public API.
    prefix = prefix.lower()
    found: list[tuple[str, str]] = []
    page = 500
    for a in agents:
        offset = 0
        while True:
            hits = index.search(agent=a, subagents=True, limit=page, offset=offset, order="recent")
            found += [(a, h.session.id) for h in hits if h.session.id.lower().startswith(prefix)]
            if len(hits) < page:
                break
            offset += page
    return found


def _notebook_text(nb: Any) -> str:
    import nbformat

    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as e:  # a bug in session_notebook, not bad input
        raise ExportError(f"the notebook does not validate: {e.message}") from e
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def _target(output: str | None, agent: str, sid: str) -> Path:
    name = notebook_filename(agent, sid)
    if not output:
        return Path(name)
    path = Path(output).expanduser()
    return path / name if path.is_dir() else path


def write_atomic(target: Path, text: str, *, force: bool) -> None:
    """Write ``target`` through a temporary file in its folder, so that a reader never sees half
    a notebook; without ``force`` an existing file is never replaced, not even by a race."""
    folder = target.parent
    if not folder.is_dir():
        raise ExportError(f"cannot write {target}: folder {folder} does not exist")
    if target.exists() and not force:
        raise ExportError(f"{target} already exists; pass --force to replace it")
    tmp = folder / f".{target.name}.{secrets.token_hex(4)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if force:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)  # fails if target exists: no check-then-write race
            except FileExistsError:
                raise ExportError(f"{target} already exists; pass --force to replace it") from None
            except OSError:
                # File systems without hard links: the check above has to do.
                if target.exists():
                    raise ExportError(
                        f"{target} already exists; pass --force to replace it"
                    ) from None
                os.replace(tmp, target)
    except OSError as e:
        raise ExportError(f"cannot write {target}: {e.strerror or e}") from e
    finally:
        with suppress(OSError):
            os.unlink(tmp)


class SpacesCLI(JupyterApp):
    name = "jupyter-spaces"
    version = __version__
    description = "Durable terminal and agent panes for Jupyter."
    subcommands = {
        "doctor": (DoctorApp, DoctorApp.description),
        "list": (ListApp, ListApp.description),
        "export": (ExportApp, ExportApp.description),
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
