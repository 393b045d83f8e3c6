"""``jupyter spaces …``: commands that work with no server running.

They read the same configuration as the server (``c.SpacesApp.*`` in jupyter_server_config),
so ``doctor`` checks the tmux, socket directory and registry the server will use.
"""

from __future__ import annotations

import argparse
import asyncio
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

from . import __version__, snapshots
from .agent_panes import AgentPanes
from .agents import AGENT_NAMES, SessionIndex, default_index_path
from .app import SpacesApp
from .client import ClientError, SpacesClient, q
from .discovery import DiscoveryError, ServerInfo, _alive, _from_file, runtime_dirs, server_files
from .errors import SpacesError
from .export import AGENT_LABELS, notebook_filename, session_notebook
from .host.tmux import INSTALL_HINT, TmuxError, TmuxServer, is_stale, session_name
from .model import Space, WorkspaceError
from .plan import describe, plans_digest, restore_plans
from .registry import Registry
from .restore import forget_capture
from .store import WorkspaceStore
from .trust import Notary


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


# -- snapshots and trust ------------------------------------------------------------------------
#
# PATH is a space's folder. When a Jupyter server that knows this space runs (found through
# JUPYTER_SPACES_URL, else the running-server files jpserver-*.json in the runtime dir whose
# root_dir holds PATH), the command goes through its REST API: the server is the single writer of
# workspace files and the only talker to tmux, so it captures fresh screens and starts panes. With
# no such server the command works on the files: snapshot, list, prune and restore-files (the
# panes come back when a server next starts, as after a machine restart), and `trust` signs the
# workspace file with the same notary the server uses.


class CommandError(Exception):
    """A refusal in one sentence (exit status 1); nothing was changed."""


def _space_parser(name: str, description: str) -> argparse.ArgumentParser:
    p = _Parser(prog=f"jupyter spaces {name}", description=description)
    p.add_argument("path", metavar="PATH", help="the space's folder")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    return p


def _parsers() -> dict[str, argparse.ArgumentParser]:
    snap = _space_parser("snapshot", "Take a snapshot of a space.")
    snap.add_argument("--name", help="a label for the snapshot (1 to 200 characters)")
    listing = _space_parser("snapshots", "List a space's snapshots, newest first.")
    restore = _space_parser(
        "restore",
        "Bring a space back to a snapshot: its layout, screens and agent conversations (deleted "
        "transcripts are put back). Asks before it stops running panes.",
    )
    restore.add_argument("snapshot", metavar="SNAPSHOT", help="the snapshot's id")
    restore.add_argument(
        "-y", "--yes", action="store_true", help="stop running panes without asking"
    )
    prune = _space_parser(
        "prune",
        "Delete old snapshots. A snapshot stays when any given rule keeps it: --keep N keeps the "
        "newest N, --older-than DAYS keeps those younger than DAYS.",
    )
    prune.add_argument("--keep", type=_whole, metavar="N", help="keep the newest N")
    prune.add_argument(
        "--older-than", type=_days, metavar="DAYS", help="delete those older than DAYS days"
    )
    trust = _space_parser(
        "trust",
        "Show what a space's workspace file would run (one that came with git clone, or was "
        "edited by hand) and, once you say yes, trust it so that exactly that may start.",
    )
    trust.add_argument(
        "-y",
        "--yes",
        action="store_true",
        help="trust without asking (the plan is still printed)",
    )
    return {
        "snapshot": snap,
        "snapshots": listing,
        "restore": restore,
        "prune": prune,
        "trust": trust,
    }


def _whole(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"expected a whole number, 0 or more, not {text!r}")
    return int(text)


def _days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 36500:
        raise argparse.ArgumentTypeError(f"expected a number of days, not {text!r}")
    return value


class _SpaceCommand(_Command):
    """``jupyter spaces <command> PATH ...``: through the server when one runs, else files."""

    command = ""
    options: argparse.Namespace

    def initialize(self, argv: Any = None) -> None:
        try:
            self.options = _parsers()[self.command].parse_args(
                sys.argv[1:] if argv is None else argv
            )
        except _UsageError as e:
            self.fail(f"{e} (see `jupyter spaces {self.command} --help`)", 2)
        self.json_output = self.options.json
        self.load_config_file()

    def fail(self, message: str, status: int = 1) -> NoReturn:
        print(f"jupyter spaces {self.command}: {message}", file=sys.stderr)
        sys.exit(status)

    def start(self) -> None:
        try:
            folder, loaded = self._folder()
            known = Registry(Path(self.settings().registry_path)).find_by_dir(folder)
            server = _find_server(folder, known or (loaded.space.id if loaded.space else None))
            if server is not None:
                data, text = self.remote(*server)
            else:
                data, text = self.local(folder, loaded)
        except (CommandError, ClientError) as e:
            self.fail(str(e))
        except SpacesError as e:
            self.fail(e.message)
        except (OSError, sqlite3.Error) as e:
            self.fail(f"{getattr(e, 'strerror', None) or e}")
        self.emit(data, text)

    def _folder(self) -> tuple[Path, Any]:
        folder = Path(self.options.path).expanduser().resolve()
        if not folder.is_dir():
            raise CommandError(f"{self.options.path} is not a folder")
        loaded = WorkspaceStore().load(folder)
        if loaded.status == "missing":
            raise CommandError(f"{folder} has no space (no .jupyter-spaces/space.json)")
        return folder, loaded

    def notary(self) -> Notary:
        return Notary(Path(self.settings().trust_dir))

    def index(self) -> SessionIndex:
        app = self.settings()
        return SessionIndex(app.sessions_index_path, roots=app.agent_roots or None)

    def remote(self, client: SpacesClient, space_id: str) -> tuple[Any, str]:
        raise NotImplementedError

    def local(self, folder: Path, loaded: Any) -> tuple[Any, str]:
        raise NotImplementedError


def _find_server(folder: Path, space_id: str | None) -> tuple[SpacesClient, str] | None:
    """The running server that knows the space in ``folder``, or None."""
    if space_id is None:
        return None
    candidates: list[ServerInfo] = []
    url = os.environ.get("JUPYTER_SPACES_URL", "").strip()
    if url:
        candidates.append(
            ServerInfo(
                url if url.endswith("/") else url + "/",
                os.environ.get("JUPYTER_SPACES_TOKEN", ""),
                "JUPYTER_SPACES_URL",
            )
        )
    for path, info in server_files(runtime_dirs()):
        root = info.get("root_dir")
        if not isinstance(root, str) or info.get("sock") or not _alive(info["pid"]):
            continue
        real = Path(root).expanduser().resolve()
        if folder != real and real not in folder.parents:
            continue
        with suppress(DiscoveryError):
            candidates.append(_from_file(path, info, "the running-server file"))
    for server in candidates:
        client = SpacesClient(server, timeout=120)
        try:
            space = client.space(space_id)
        except ClientError:
            continue  # not running jupyter-spaces, or not this space: not the writer
        if server.root_dir is None or space.get("path") == _rel(folder, server.root_dir):
            return client, space_id
    return None


def _rel(folder: Path, root: str) -> str:
    rel = folder.relative_to(Path(root).expanduser().resolve()).as_posix()
    return "" if rel == "." else rel


def _snapshot_line(s: dict[str, Any]) -> str:
    if s.get("status", "ok") != "ok":
        return f"{s['id']}  [{s['status']}] {s.get('message') or ''}"
    panes = s.get("panes") or []
    agents = sum(1 for p in panes if p.get("transcript"))
    missing = len(s.get("missing_transcripts") or [])
    size = _size(int(s.get("bytes") or 0))
    extra = f", {missing} transcript(s) missing" if missing else ""
    name = f"  {s['name']}" if s.get("name") else ""
    return f"{s['id']}  {len(panes)} pane(s), {agents} conversation(s), {size}{extra}{name}"


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1024:
            return f"{n} {unit}" if unit == "B" else f"{n:.0f} {unit}"
        n = n / 1024  # type: ignore[assignment]
    return f"{n:.1f} GB"


class SnapshotApp(_SpaceCommand):
    name = "jupyter-spaces-snapshot"
    description = "Take a snapshot of a space (its layout, screens and agent transcripts)."
    command = "snapshot"

    def remote(self, client: SpacesClient, space_id: str) -> tuple[Any, str]:
        body = {} if self.options.name is None else {"name": self.options.name}
        snap = client.request("POST", f"api/spaces/{q(space_id)}/snapshots", body)
        return snap, f"snapshot {_snapshot_line(snap)}"

    def local(self, folder: Path, loaded: Any) -> tuple[Any, str]:
        name = snapshots.check_name(self.options.name)
        if loaded.status != "ok" or loaded.space is None:
            raise CommandError(f"the space cannot be snapshotted: {loaded.message}")
        data = loaded.data
        notary, scope = self.notary(), str(folder)
        if notary.is_trusted(data, scope):
            notary.trust(data, scope)  # keeps the signature fresh for a restore much later
        sources = _transcript_sources(self.index(), loaded.space)

        def sign(manifest: bytes) -> None:
            notary.trust(manifest, scope)

        snap = snapshots.create(folder, data, sources, name=name, sign=sign)
        public = snapshots.read(folder, snap["id"]).public()
        return public, f"snapshot {_snapshot_line(public)} (no server runs: screens as last saved)"


def _transcript_sources(index: SessionIndex, space: Any) -> list[snapshots.TranscriptSource]:
    out: list[snapshots.TranscriptSource] = []
    synced: set[str] = set()
    try:
        for pane in space.panes.values():
            agent, sid = pane.agent, pane.session_id
            if agent not in AGENT_NAMES or not sid:
                continue
            session = index.get(agent, sid)
            if session is None and agent not in synced:
                synced.add(agent)
                index.sync(agents=[agent])
                session = index.get(agent, sid)
            files = list(session.files) if session is not None else []
            if agent == "claude":
                for root in index.roots("claude"):
                    files += [str(p) for p in (root / "projects").glob(f"*/{sid}.jsonl")]
            out.append(snapshots.TranscriptSource(agent, sid, snapshots.session_files(files, sid)))
    finally:
        index.close()
    return out


class SnapshotsApp(_SpaceCommand):
    name = "jupyter-spaces-snapshots"
    description = "List a space's snapshots, newest first."
    command = "snapshots"

    def remote(self, client: SpacesClient, space_id: str) -> tuple[Any, str]:
        got = client.request("GET", f"api/spaces/{q(space_id)}/snapshots")["snapshots"]
        return got, self._text(got)

    def local(self, folder: Path, loaded: Any) -> tuple[Any, str]:
        got = snapshots.list_snapshots(folder)
        return got, self._text(got)

    def _text(self, got: list[dict[str, Any]]) -> str:
        if not got:
            return f"no snapshots yet (jupyter spaces snapshot {self.options.path})"
        return "\n".join(_snapshot_line(s) for s in got)


class RestoreApp(_SpaceCommand):
    name = "jupyter-spaces-restore"
    description = "Bring a space back to a snapshot (deleted agent transcripts are put back)."
    command = "restore"

    def confirm(self, panes: list[str]) -> None:
        n = len(panes)
        question = f"Restoring stops {n} running pane{'s' if n != 1 else ''} ({', '.join(panes)})."
        if self.options.yes:
            return
        if not sys.stdin.isatty():
            raise CommandError(f"{question} Pass --yes to go ahead; nothing was changed")
        answer = input(f"{question} Continue? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            raise CommandError("not restored; nothing was changed")

    def remote(self, client: SpacesClient, space_id: str) -> tuple[Any, str]:
        path = f"api/spaces/{q(space_id)}/snapshots/{q(self.options.snapshot)}/restore"
        try:
            space = client.request("POST", path, {})
        except ClientError as e:
            if e.reason != "running":
                raise
            self.confirm([str(p) for p in e.body.get("panes") or []])
            space = client.request("POST", path, {"stop_running": True})
        state = "started" if space.get("trusted") else "not started: the snapshot is untrusted"
        return space, (
            f"restored snapshot {self.options.snapshot} of space {space.get('name')} "
            f"({len(space.get('panes') or [])} pane(s) {state})"
        )

    def local(self, folder: Path, loaded: Any) -> tuple[Any, str]:
        if loaded.status != "ok" or loaded.space is None:
            raise CommandError(f"the space cannot be restored: {loaded.message}")
        space_id = loaded.space.id
        notary, scope = self.notary(), str(folder)
        if loaded.data is None or not notary.is_trusted(loaded.data, scope):
            raise CommandError(
                f"space {space_id} is not trusted; check its space.json, then run "
                f"`jupyter spaces trust {self.options.path}`"
            )
        snap = snapshots.read(folder, self.options.snapshot)
        doc, data = snapshots.load_space(snap, space_id)
        restored = Space.from_json(doc)
        app = self.settings()
        tmux = TmuxServer(Path(app.socket_dir), app.tmux_command)
        names = [
            session_name(space_id, p) for p in dict.fromkeys([*loaded.space.panes, *restored.panes])
        ]
        live = asyncio.run(tmux.list_panes()) if tmux.available else {}
        running = [n for n in names if n in live and not live[n].dead]
        if running:
            self.confirm([n.rsplit("_", 1)[-1] for n in running])
        for n in names:
            if n in live:
                asyncio.run(tmux.kill(n))
        put = snapshots.PutBack()
        if notary.is_trusted(snap.manifest_bytes, scope):
            index = self.index()
            try:
                roots: dict[str, list[Path]] = {a: index.roots(a) for a in AGENT_NAMES}
                put = snapshots.put_back_transcripts(snap, roots)
                for path in put.restored:
                    index.sync_file(path)
            finally:
                index.close()
        for pane_id in loaded.space.panes:
            if pane_id not in restored.panes:
                forget_capture(folder, pane_id)
        snapshots.put_back_screens(snap, folder)
        try:
            saved = WorkspaceStore().save(folder, restored, loaded.document)
        except WorkspaceError as e:
            raise CommandError(str(e)) from None
        # Signed only when these are bytes decided from a trusted state and nothing else.
        trusted = notary.is_trusted(data, scope) and not saved.merged_foreign
        if trusted and saved.data is not None:
            notary.trust(saved.data, scope)
        result = {
            "id": space_id,
            "snapshot": snap.id,
            "transcripts_restored": put.restored,
            "trusted": trusted,
        }
        return result, (
            f"restored snapshot {snap.id} of space {restored.name}: "
            f"{len(put.restored)} transcript(s) put back; no server runs, so its panes start "
            "when one does" + ("" if trusted else " (after you trust it: the snapshot is not)")
        )


class PruneApp(_SpaceCommand):
    name = "jupyter-spaces-prune"
    description = "Delete old snapshots of a space (--keep N, --older-than DAYS)."
    command = "prune"

    def start(self) -> None:
        if self.options.keep is None and self.options.older_than is None:
            self.fail("give --keep N, --older-than DAYS, or both", 2)
        super().start()

    def remote(self, client: SpacesClient, space_id: str) -> tuple[Any, str]:
        query: dict[str, Any] = {"keep": self.options.keep}
        if self.options.older_than is not None:
            query["older_than_days"] = self.options.older_than
        got = client.request("DELETE", f"api/spaces/{q(space_id)}/snapshots", query=query)
        return got, self._text(got)

    def local(self, folder: Path, loaded: Any) -> tuple[Any, str]:
        got = snapshots.prune(folder, self.options.keep, self.options.older_than)
        return got, self._text(got)

    def _text(self, got: dict[str, list[str]]) -> str:
        gone = ", ".join(got["deleted"]) or "none"
        return f"deleted {len(got['deleted'])} snapshot(s): {gone}; kept {len(got['kept'])}"


class TrustApp(_SpaceCommand):
    name = "jupyter-spaces-trust"
    description = "Show what a space would run and, once you say yes, trust exactly that."
    command = "trust"

    def confirm(self, plan: dict[str, Any]) -> None:
        """Print the plan (to stderr with --json), then ask unless --yes."""
        out = sys.stderr if self.json_output else sys.stdout
        plans = plan["plans"]
        if plan.get("copy_of"):
            print(
                f"This folder is a copy of space {plan['copy_of']}; trusting it gives it its "
                "own id in space.json.",
                file=out,
            )
        starts = sum(1 for p in plans if not p.get("running"))
        print(
            f"Trusting it starts {starts} pane(s) now, and lets its {len(plans)} pane(s) run "
            "exactly this:",
            file=out,
        )
        for p in plans:
            print("\n".join(describe(p)), file=out)
        if self.options.yes:
            return
        if not sys.stdin.isatty():
            raise CommandError("not trusted: pass --yes to trust without a question")
        answer = input("Trust this space and start these? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            raise CommandError("not trusted; nothing was started")

    def remote(self, client: SpacesClient, space_id: str) -> tuple[Any, str]:
        plan = client.request("GET", f"api/spaces/{q(space_id)}/plan")
        self.confirm(plan)
        body = {"plan_sha256": plan["plan_sha256"]}
        space = client.request("POST", f"api/spaces/{q(space_id)}/trust", body)
        n = len(space.get("panes") or [])
        return space, f"trusted space {space.get('name')} ({space_id}); {n} pane(s)"

    def local(self, folder: Path, loaded: Any) -> tuple[Any, str]:
        if loaded.status != "ok" or loaded.space is None or loaded.data is None:
            raise CommandError(f"the space cannot be trusted: {loaded.message}")
        space = loaded.space
        known = Registry(Path(self.settings().registry_path)).find_by_dir(folder)
        if known is not None and known != space.id:
            raise CommandError(
                f"this folder is a copy of space {space.id}: start Jupyter and trust it there, "
                "so that it gets its own id"
            )
        app = self.settings()
        tmux = TmuxServer(Path(app.socket_dir), app.tmux_command)
        live = asyncio.run(tmux.list_panes()) if tmux.available else {}
        running = [p for p in space.panes if session_name(space.id, p) in live]
        index = self.index()
        try:
            index.sync(agents=sorted({p.agent for p in space.panes.values() if p.agent}))
            agents = AgentPanes(index, index.roots("claude"))
            plans = asyncio.run(restore_plans(folder, space, agents))
        finally:
            index.close()
        digest = plans_digest(plans, folder, running)
        shown = [{**p.to_json(folder), "running": p.pane_id in running} for p in plans]
        self.confirm({"plans": shown, "copy_of": None})
        # The digest is recorded: the server starts these panes only while they still match.
        self.notary().trust(loaded.data, str(folder), plan=digest)
        result = {"id": space.id, "name": space.name, "trusted": True, "plan_sha256": digest}
        return result, (
            f"trusted space {space.name} ({space.id}); no server runs, so its panes start "
            "when one does"
        )


class SpacesCLI(JupyterApp):
    name = "jupyter-spaces"
    version = __version__
    description = "Durable terminal and agent panes for Jupyter."
    subcommands = {
        "doctor": (DoctorApp, DoctorApp.description),
        "list": (ListApp, ListApp.description),
        "export": (ExportApp, ExportApp.description),
        "snapshot": (SnapshotApp, SnapshotApp.description),
        "snapshots": (SnapshotsApp, SnapshotsApp.description),
        "restore": (RestoreApp, RestoreApp.description),
        "prune": (PruneApp, PruneApp.description),
        "trust": (TrustApp, TrustApp.description),
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


main = SpacesCLI.launch_instance

if __name__ == "__main__":
    main()
