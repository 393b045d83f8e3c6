"""``jupyter spaces export``: an agent session as a notebook, read from the session index."""

from __future__ import annotations

import argparse
import os
import secrets
import sqlite3
import sys
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any, NoReturn

from ..agents import AGENT_NAMES, SessionIndex, default_index_path
from ..export import AGENT_LABELS, notebook_filename, session_notebook
from .base import _Command, _Parser, _UsageError


class ExportError(Exception):
    """A reason, in one sentence, why an export cannot be done (exit status 1)."""


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
