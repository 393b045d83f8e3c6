"""SpaceManager: the single writer of workspace files and the only talker to tmux.

Pane state (running with a pid, exited with a code, gone) is never cached: it is read from tmux
when asked, so a server that restarts, or a tmux session that someone killed, is always reported
as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import os
import pwd
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import snapshots as snaps
from .agent_panes import AgentPanes, parse_agent_request, require_cli
from .agents import SessionIndex
from .agents.launch import AgentLaunch, resume_session, wrap
from .errors import SpacesError
from .host.stream import PaneStream
from .host.tmux import (
    INSTALL_HINT,
    PaneInfo,
    TmuxError,
    TmuxServer,
    parse_session_name,
    session_name,
)
from .model import PANE_KINDS, Pane, Space, WorkspaceError, valid_id, validate_layout
from .paths import existing_dir, relative_to_root
from .registry import Registry
from .restore import (
    capture_file,
    captured_at,
    forget_capture,
    restored_shell,
    waiting_command,
    when_text,
    write_capture,
)
from .sessions import SessionService
from .store import WorkspaceStore
from .trust import Notary

if TYPE_CHECKING:
    from .app import SpacesApp

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_TITLE = 200
MAX_NAME = 200


@dataclass
class SpaceEntry:
    """A known space as last read from its workspace file."""

    id: str
    dir: Path
    space: Space | None = None
    base: dict[str, Any] | None = None
    status: str = "missing"
    message: str = ""
    read_only: bool = False
    stamp: tuple[int, int] | None = None
    trusted: bool = False
    digest: tuple[tuple[int, int] | None, str | None] = (None, None)  # (stamp, sha256)

    @property
    def file(self) -> Path:
        return self.dir / ".jupyter-spaces" / "space.json"


def login_shell() -> str:
    shell = os.environ.get("SHELL")
    if not shell:
        try:
            shell = pwd.getpwuid(os.getuid()).pw_shell
        except KeyError:
            shell = ""
    return shell or "/bin/sh"


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


class SpaceManager:
    def __init__(
        self, app: SpacesApp, root_dir: Path, emit: Callable[[dict[str, Any]], None]
    ) -> None:
        self.app = app
        self.log = app.log
        assert app.serverapp is not None and app.serverapp.web_app is not None
        # The dict jupyter-server reads ``*_last_activity`` from (the app's own is a copy).
        self.web_settings: dict[str, Any] = app.serverapp.web_app.settings
        self.root = root_dir
        self.emit = emit
        self.tmux: TmuxServer = app.tmux_server()
        self.store = WorkspaceStore()
        self.notary = Notary(Path(app.trust_dir))
        # (space, pane) -> tmux's last-output time of the pane when its text was last captured
        self._captured: dict[tuple[str, str], float] = {}
        self._capturer: asyncio.Task[None] | None = None
        self.registry = Registry(Path(app.registry_path))
        self.entries: dict[str, SpaceEntry] = {}
        self.streams: dict[str, PaneStream] = {}
        self._stream_starting: dict[str, asyncio.Future[PaneStream]] = {}
        self.unknown_sessions: list[str] = []
        self.host_error: str | None = None
        self._locks: dict[str, asyncio.Lock] = {}
        self._states: dict[tuple[str, str], tuple[str, int | None]] = {}
        self._poller: asyncio.Task[None] | None = None
        self._started: asyncio.Future[None] | None = None
        self._closing: set[asyncio.Future[None]] = set()
        self.last_activity = 0.0
        index = SessionIndex(app.sessions_index_path, roots=app.agent_roots or None)
        self.sessions = SessionService(
            index,
            root_dir,
            self._space_dirs,
            self._sessions_changed,
            app.log,
            watch=app.sessions_watch,
            poll_interval=app.sessions_poll_interval,
        )
        self.agents = AgentPanes(index, index.roots("claude"))
        self._sessions_news = 0
        self._sessions_timer: asyncio.TimerHandle | None = None
        self._detecting: asyncio.Task[None] | None = None

    # -- lifecycle ------------------------------------------------------------------------

    async def ready(self) -> None:
        """Start once: from the server's start hook or the first request, whichever is first
        (a server embedded in tests never runs the start hooks)."""
        if self._started is None:
            self._started = asyncio.ensure_future(self._start())
        await asyncio.shield(self._started)

    async def _start(self) -> None:
        # Spaces registered before signatures existed (an upgrade) were all opened by this user:
        # they are trusted once, as they are now, rather than all stopping at once.
        upgrade = not self.notary.db_path.exists() and bool(self.registry.entries())
        for space_id, info in self.registry.entries().items():
            entry = self.entries[space_id] = SpaceEntry(space_id, Path(info["dir"]))
            self._refresh(entry)
            if upgrade and entry.status == "ok" and not entry.trusted:
                self.notary.trust(entry.file.read_bytes())
                entry.trusted = True
                self.log.info("jupyter-spaces: space %s trusted (it predates signatures)", space_id)
        if not self.tmux.available:
            self.host_error = INSTALL_HINT
            self.log.warning("jupyter-spaces: %s", INSTALL_HINT)
        else:
            try:
                self.tmux.prepare()
                await self._adopt()
                await self._restore_all()
            except (TmuxError, OSError) as e:
                self.host_error = f"the private tmux server cannot be used: {e}"
                self.log.error("jupyter-spaces: %s", self.host_error)
        self._poller = asyncio.ensure_future(self._poll())
        self._capturer = asyncio.ensure_future(self._capture_loop())
        self.sessions.start()
        for entry in self.entries.values():
            for pane in entry.space.panes.values() if entry.space else ():
                if pane.kind == "agent" and pane.session_id is None and pane.agent != "custom":
                    # Started before this server: any session since the pane was made will do.
                    created = datetime.fromisoformat(pane.created.replace("Z", "+00:00"))
                    self.agents.pending[(entry.id, pane.id)] = (
                        str(entry.dir / pane.cwd) if pane.cwd else str(entry.dir),
                        created.timestamp(),
                    )

    async def _adopt(self) -> None:
        panes = await self.tmux.list_panes()
        adopted = 0
        self.unknown_sessions = []
        for name in panes:
            ids = parse_session_name(name)
            entry = self.entries.get(ids[0]) if ids else None
            if ids and entry and entry.space and ids[1] in entry.space.panes:
                adopted += 1
            else:
                self.unknown_sessions.append(name)
        if panes:
            self.log.info("jupyter-spaces: adopted %d running pane(s)", adopted)
        if self.unknown_sessions:
            self.log.warning(
                "jupyter-spaces: tmux sessions that belong to no known space, left running: %s",
                ", ".join(self.unknown_sessions),
            )

    async def stop(self) -> None:
        if self._started is not None and not self._started.done():
            self._started.cancel()
        if self._poller is not None:
            self._poller.cancel()
        if self._capturer is not None:
            self._capturer.cancel()
            try:
                await self._capture_changed()  # a clean shutdown keeps the latest screens
            except Exception:
                self.log.exception("jupyter-spaces: capturing screens at shutdown failed")
        for stream in list(self.streams.values()):
            await stream.close("the server is shutting down; the pane keeps running")
        self.streams.clear()
        if self._sessions_timer is not None:
            self._sessions_timer.cancel()
        await self.sessions.stop()

    # -- spaces ---------------------------------------------------------------------------

    def _lock(self, space_id: str) -> asyncio.Lock:
        return self._locks.setdefault(space_id, asyncio.Lock())

    def _refresh(self, entry: SpaceEntry) -> None:
        """Re-read the workspace file if it changed on disk (a hand edit, a git pull)."""
        stamp = _stamp(entry.file)
        if stamp is not None and stamp == entry.stamp:
            if not entry.trusted and entry.status == "ok":  # `jupyter spaces trust` may have run
                entry.trusted = self.notary.file_trusted(entry.file)
            return
        result = self.store.load(entry.dir)
        entry.status, entry.message = result.status, result.message
        entry.read_only = result.read_only
        entry.space = result.space
        entry.base = result.document if result.status == "ok" else None
        entry.stamp = stamp
        entry.trusted = result.status == "ok" and self.notary.file_trusted(entry.file)

    def _digest(self, entry: SpaceEntry) -> str | None:
        """SHA-256 of the workspace file as last read (recomputed when the file changes)."""
        if entry.digest[0] != entry.stamp or entry.stamp is None:
            try:
                digest: str | None = hashlib.sha256(entry.file.read_bytes()).hexdigest()
            except OSError:
                digest = None
            entry.digest = (entry.stamp, digest)
        return entry.digest[1]

    def _entry(self, space_id: str) -> SpaceEntry:
        entry = self.entries.get(space_id) if valid_id(space_id) else None
        if entry is None or relative_to_root(self.root, entry.dir) is None:
            raise SpacesError(404, f"no space {space_id!r}")
        self._refresh(entry)
        return entry

    def _writable(self, entry: SpaceEntry) -> Space:
        if entry.space is None or entry.status in ("broken", "missing"):
            raise SpacesError(
                409, f"space {entry.id} cannot be changed: {entry.message or entry.status}"
            )
        if entry.read_only:
            raise SpacesError(409, f"space {entry.id} is read-only: {entry.message}")
        if not entry.trusted:
            raise SpacesError(409, _untrusted(entry.id), "untrusted")
        return entry.space

    def _save(self, entry: SpaceEntry, sign: bool = True) -> None:
        """Write the space; ``sign`` False leaves the result untrusted unless its bytes already
        were (a restored snapshot of an untrusted file)."""
        assert entry.space is not None
        try:
            entry.base = self.store.save(entry.dir, entry.space, entry.base)
        except (WorkspaceError, OSError) as e:
            # What was changed in memory did not reach the file: forget it, re-read the file.
            entry.stamp = None
            self._refresh(entry)
            if isinstance(e, WorkspaceError):
                raise SpacesError(409, str(e)) from None
            raise SpacesError(500, f"could not write space.json: {e.strerror or e}") from None
        entry.space = Space.from_json(entry.base)
        entry.stamp = _stamp(entry.file)
        if not sign:
            entry.trusted = self.notary.file_trusted(entry.file)
            return
        # What this server wrote is trusted (a file that changed elsewhere was refused above).
        self.notary.trust(entry.file.read_bytes())
        entry.trusted = True

    async def list_spaces(self) -> list[dict[str, Any]]:
        states = await self._pane_states()
        out = []
        for entry in self.entries.values():
            if relative_to_root(self.root, entry.dir) is None:
                continue  # registered under another root: not reachable from this server
            self._refresh(entry)
            out.append(self._space_json(entry, states))
        return out

    async def get_space(self, space_id: str) -> dict[str, Any]:
        entry = self._entry(space_id)
        return self._space_json(entry, await self._pane_states())

    async def create_space(self, body: dict[str, Any]) -> dict[str, Any]:
        _only(body, {"path", "name"})
        directory = existing_dir(self.root, body.get("path", ""), "path")
        name = body.get("name")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise SpacesError(400, "name must be a non-empty string")
        if name is not None and len(name) > MAX_NAME:
            raise SpacesError(400, f"name is longer than {MAX_NAME} characters")
        if not os.access(directory, os.W_OK):
            raise SpacesError(403, f"the folder {body.get('path')!r} is not writable")
        existing = self.store.load(directory)
        if existing.status != "missing":
            known = existing.space.id if existing.space else None
            if existing.space and known not in self.entries:
                # A workspace file that came with the folder (git clone): register, don't clobber.
                self._register(directory, existing.space)
                return await self.get_space(existing.space.id)
            raise SpacesError(
                409,
                f"the folder already has a space ({known or existing.message})",
            )
        space = Space.new(name.strip() if name else (directory.name or "root"))
        entry = SpaceEntry(space.id, directory, space=space, status="ok")
        self._save(entry)
        self._register(directory, space)
        self.emit({"action": "space_created", "space_id": space.id})
        return await self.get_space(space.id)

    def _register(self, directory: Path, space: Space) -> None:
        self.registry.add(space.id, str(directory), space.name)
        entry = SpaceEntry(space.id, directory)
        self.entries[space.id] = entry
        self._refresh(entry)

    async def update_space(self, space_id: str, body: dict[str, Any]) -> dict[str, Any]:
        _only(body, {"name", "layout"})
        async with self._lock(space_id):
            entry = self._entry(space_id)
            space = self._writable(entry)
            if "name" in body:
                name = body["name"]
                if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
                    raise SpacesError(400, f"name must be 1 to {MAX_NAME} characters")
            if "layout" in body:
                try:
                    validate_layout(body["layout"], space.panes)
                except ValueError as e:
                    raise SpacesError(400, f"layout: {e}") from None
            if "name" in body:
                space.name = body["name"].strip()
                self.registry.rename(space.id, space.name)
            if "layout" in body:
                space.layout = body["layout"]
            self._save(entry)
        self.emit({"action": "space_updated", "space_id": space_id})
        return await self.get_space(space_id)

    async def delete_space(self, space_id: str, remove_files: bool) -> None:
        async with self._lock(space_id):
            entry = self._entry(space_id)
            if entry.space is not None:
                for pane_id in entry.space.panes:
                    await self._stop_pane(space_id, pane_id)
            if remove_files and entry.status in ("ok", "newer", "broken"):
                self.store.delete(entry.dir)
            self.registry.remove(space_id)
            del self.entries[space_id]
        self.emit({"action": "space_deleted", "space_id": space_id})

    # -- panes ----------------------------------------------------------------------------

    def _pane(self, space_id: str, pane_id: str) -> tuple[SpaceEntry, Pane]:
        entry = self._entry(space_id)
        pane = entry.space.panes.get(pane_id) if entry.space else None
        if pane is None:
            raise SpacesError(404, f"no pane {pane_id!r} in space {space_id}")
        return entry, pane

    async def get_pane(self, space_id: str, pane_id: str) -> dict[str, Any]:
        entry, pane = self._pane(space_id, pane_id)
        return self._pane_json(entry, pane, await self._pane_states())

    def _require_host(self) -> None:
        if self.host_error:
            raise SpacesError(503, self.host_error)

    async def create_pane(self, space_id: str, body: dict[str, Any]) -> dict[str, Any]:
        _only(
            body,
            _PLACEMENT | {"kind", "argv", "cwd", "title", "env", "autorestart"} | _AGENT_FIELDS,
        )
        async with self._lock(space_id):
            entry = self._entry(space_id)
            space = self._writable(entry)
            kind = body.get("kind", "shell")
            if kind not in PANE_KINDS:
                raise SpacesError(
                    400, f"unknown pane kind {kind!r}; expected one of {', '.join(PANE_KINDS)}"
                )
            if kind != "agent" and (unknown := sorted(set(body) & _AGENT_FIELDS - {"argv"})):
                raise SpacesError(400, f"{', '.join(unknown)}: only for agent panes")
            argv = body.get("argv")
            if kind == "agent":
                req = parse_agent_request(body)
            elif kind == "command":
                if not isinstance(argv, list) or not argv:
                    raise SpacesError(400, "a command pane needs a non-empty argv list")
                if not all(isinstance(a, str) and a and "\x00" not in a for a in argv):
                    raise SpacesError(400, "argv must hold non-empty strings without NUL")
            elif argv not in (None, []):
                raise SpacesError(400, "a shell pane takes no argv (it runs your login shell)")
            else:
                argv = [login_shell(), "-l"]
            cwd = self._pane_cwd(entry, body.get("cwd", ""))
            title = body.get("title", "")
            if not isinstance(title, str) or len(title) > MAX_TITLE:
                raise SpacesError(400, f"title must be a string of at most {MAX_TITLE} characters")
            env = body.get("env", {})
            if not isinstance(env, dict) or not all(
                isinstance(k, str)
                and _ENV_NAME.fullmatch(k)
                and isinstance(v, str)
                and "\x00" not in v
                for k, v in env.items()
            ):
                raise SpacesError(400, "env must map variable names to strings")
            autorestart = body.get("autorestart", False)
            if not isinstance(autorestart, bool) or (autorestart and kind != "command"):
                raise SpacesError(400, "autorestart must be true or false, and only for commands")
            place = self._placement(space, body)
            self._require_host()
            rel_cwd = _rel(cwd, entry.dir)
            launch: AgentLaunch | None = None
            if kind == "agent":
                launch = await self.agents.start(req, env, cwd)
                pane = Pane.new(
                    kind,
                    launch.argv,
                    rel_cwd,
                    title or req.agent,
                    env,
                    launch=req.profile(launch.argv, env),
                    agent=req.agent,
                    session_id=launch.session_id,
                )
            else:
                assert argv is not None
                pane = Pane.new(kind, argv, rel_cwd, title or kind, env)
                pane.autorestart = autorestart
            await self._start_pane(entry, pane, cwd, place, launch)
        self.emit({"action": "pane_created", "space_id": space_id, "pane_id": pane.id})
        return await self.get_pane(space_id, pane.id)

    def _pane_cwd(self, entry: SpaceEntry, rel: object) -> Path:
        cwd = existing_dir(entry.dir, rel, "cwd")
        if relative_to_root(self.root, cwd) is None:
            raise SpacesError(400, f"cwd {rel!r} points outside the server's root")
        return cwd

    def _placement(self, space: Space, body: dict[str, Any]) -> _Placement:
        """Where a new pane goes and its size; checked before anything starts."""
        size = self._size(body.get("rows"), body.get("cols"))
        next_to = body.get("next_to")
        if next_to is not None and next_to not in space.panes:
            raise SpacesError(400, f"next_to: no pane {next_to!r} in this space")
        direction = body.get("direction", "row")
        if direction not in ("row", "column"):
            raise SpacesError(400, "direction must be 'row' or 'column'")
        if len(space.panes) >= self.app.max_panes_per_space:
            raise SpacesError(
                409, f"space {space.id} already has {len(space.panes)} panes (the most allowed)"
            )
        return _Placement(size, next_to, direction)

    async def _start_pane(
        self,
        entry: SpaceEntry,
        pane: Pane,
        cwd: Path,
        place: _Placement,
        launch: AgentLaunch | None = None,
    ) -> None:
        """Start the pane's process, then record the pane; a failure leaves neither behind."""
        space = entry.space
        assert space is not None
        name = session_name(space.id, pane.id)
        argv = self._spawn_argv(pane, launch)
        try:
            await self.tmux.new_pane(name, argv, str(cwd), self._pane_env(space, pane), place.size)
        except TmuxError as e:
            raise SpacesError(500, f"tmux could not start the pane: {e}") from None
        space.add_pane(pane, place.next_to, place.direction)
        try:
            self._save(entry)
        except SpacesError:
            # No orphan process for a pane the workspace file does not know about.
            space.remove_pane(pane.id)
            await self.tmux.kill(name)
            raise
        if launch is not None and launch.session_id is None and pane.agent != "custom":
            self.agents.expect(space.id, pane.id, cwd)

    def _spawn_argv(self, pane: Pane, launch: AgentLaunch | None) -> list[str]:
        """An agent runs inside a shell (a notice first, the shell after it exits)."""
        if pane.kind != "agent" or launch is None:
            return list(pane.launch.argv if launch is None else launch.argv)
        return wrap(launch.argv, login_shell(), launch.notice)

    def _pane_env(self, space: Space, pane: Pane) -> dict[str, str]:
        return {
            "COLORTERM": "truecolor",
            "JUPYTER_SPACES_SPACE": space.id,
            "JUPYTER_SPACES_PANE": pane.id,
            **pane.env,
        }

    def _size(self, rows: object, cols: object) -> tuple[int, int] | None:
        if rows is None and cols is None:
            return None
        return check_size(rows, cols, self.app.max_rows, self.app.max_cols)

    async def update_pane(
        self, space_id: str, pane_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        _only(body, {"title", "autorestart"})
        async with self._lock(space_id):
            entry, pane = self._pane(space_id, pane_id)
            self._writable(entry)
            title = body.get("title", pane.title)
            if not isinstance(title, str) or len(title) > MAX_TITLE:
                raise SpacesError(400, f"title must be a string of at most {MAX_TITLE} characters")
            autorestart = body.get("autorestart", pane.autorestart)
            if not isinstance(autorestart, bool):
                raise SpacesError(400, "autorestart must be true or false")
            if autorestart and pane.kind != "command":
                raise SpacesError(
                    400,
                    "autorestart is for command panes (shells and agents "
                    "always come back after a restart)",
                )
            pane.title, pane.autorestart = title, autorestart
            self._save(entry)
        self.emit({"action": "pane_updated", "space_id": space_id, "pane_id": pane_id})
        return await self.get_pane(space_id, pane_id)

    async def restart_pane(self, space_id: str, pane_id: str) -> dict[str, Any]:
        """Run the pane's launch command again in the same tmux session (killing what runs).
        An agent pane resumes its stored session, in the session's own folder."""
        async with self._lock(space_id):
            entry, pane = self._pane(space_id, pane_id)
            self._writable(entry)
            self._require_host()
            assert entry.space is not None
            cwd = existing_dir(entry.dir, pane.cwd, "cwd")
            launch: AgentLaunch | None = None
            if pane.kind == "agent":
                launch, cwd = await self.agents.restart(pane, entry.dir, cwd)
            argv = self._spawn_argv(pane, launch)
            name = session_name(space_id, pane_id)
            try:
                if name in await self.tmux.list_panes():
                    await self.tmux.respawn(name, argv, str(cwd))
                else:  # the session vanished: start it again
                    env = self._pane_env(entry.space, pane)
                    await self.tmux.new_pane(name, argv, str(cwd), env)
            except TmuxError as e:
                raise SpacesError(500, f"tmux could not restart the pane: {e}") from None
            if launch is not None:
                self.agents.forget(space_id, pane_id)
                if launch.session_id != pane.session_id:
                    pane.session_id = launch.session_id
                    self._save(entry)
                if launch.session_id is None and pane.agent != "custom":
                    self.agents.expect(space_id, pane_id, cwd)
            stream = self.streams.get(name)
            if stream is not None and stream.alive:
                stream.redraw()
        self.emit({"action": "pane_updated", "space_id": space_id, "pane_id": pane_id})
        return await self.get_pane(space_id, pane_id)

    async def delete_pane(self, space_id: str, pane_id: str) -> None:
        async with self._lock(space_id):
            entry, _pane = self._pane(space_id, pane_id)
            space = self._writable(entry)
            await self._stop_pane(space_id, pane_id)
            space.remove_pane(pane_id)
            self.agents.forget(space_id, pane_id)
            self._save(entry)
            self._captured.pop((space_id, pane_id), None)
            forget_capture(entry.dir, pane_id)
        self.emit({"action": "pane_deleted", "space_id": space_id, "pane_id": pane_id})

    async def _stop_pane(self, space_id: str, pane_id: str) -> None:
        name = session_name(space_id, pane_id)
        stream = self.streams.pop(name, None)
        if stream is not None:
            await stream.close()
        if self.tmux.available and not self.host_error:
            await self.tmux.kill(name)
        self._states.pop((space_id, pane_id), None)

    async def send_input(self, space_id: str, pane_id: str, body: dict[str, Any]) -> None:
        _only(body, {"text"})
        text = body.get("text")
        if not isinstance(text, str):
            raise SpacesError(400, "text must be a string")
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError:
            raise SpacesError(400, "text is not valid UTF-8 (it holds a lone surrogate)") from None
        if size > self.app.max_message_size:
            raise SpacesError(413, f"text is larger than {self.app.max_message_size} bytes")
        await self._live(space_id, pane_id)
        stream = self.streams.get(session_name(space_id, pane_id))
        if stream is not None and stream.alive:
            stream.write(text)
        else:
            await self.tmux.send_text(session_name(space_id, pane_id), text)
        self.touch()

    async def screen(self, space_id: str, pane_id: str, lines: int) -> dict[str, Any]:
        info = await self._info(space_id, pane_id)
        text = await self.tmux.capture(info.session, lines)
        return {"text": text, "rows": info.rows, "cols": info.cols}

    async def _info(self, space_id: str, pane_id: str) -> PaneInfo:
        self._pane(space_id, pane_id)
        self._require_host()
        info = (await self.tmux.list_panes()).get(session_name(space_id, pane_id))
        if info is None:
            raise SpacesError(409, f"pane {pane_id} is gone: its tmux session no longer exists")
        return info

    async def _live(self, space_id: str, pane_id: str) -> PaneInfo:
        info = await self._info(space_id, pane_id)
        if info.dead:
            raise SpacesError(409, f"pane {pane_id} has exited (status {info.exit_status})")
        return info

    async def stream(self, space_id: str, pane_id: str) -> PaneStream:
        """The shared control-mode stream of a pane, started on first use."""
        await self._info(space_id, pane_id)
        name = session_name(space_id, pane_id)
        stream = self.streams.get(name)
        if stream is not None and stream.alive:
            return stream
        starting = self._stream_starting.get(name)
        if starting is not None:
            return await starting
        fut: asyncio.Future[PaneStream] = asyncio.get_running_loop().create_future()
        self._stream_starting[name] = fut
        try:
            stream = PaneStream(
                self.tmux, name, self.app.flow_settings(), on_closed=self._stream_closed
            )
            await stream.start()
            self.streams[name] = stream
            fut.set_result(stream)
            return stream
        except BaseException as e:
            fut.set_exception(e)
            fut.exception()  # consumed here; waiters re-raise it
            raise
        finally:
            del self._stream_starting[name]

    def release(self, stream: PaneStream) -> None:
        """Called when a watcher leaves; the control client goes when nobody watches."""
        if not stream.watchers and self.streams.get(stream.session) is stream:
            del self.streams[stream.session]
            task = asyncio.ensure_future(stream.close())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    def _stream_closed(self, stream: PaneStream) -> None:
        if self.streams.get(stream.session) is stream:
            del self.streams[stream.session]

    def touch(self) -> None:
        """Typing into a pane counts as server activity (JupyterHub's idle culler reads
        ``*_last_activity`` settings); output counts too, see ``_announce_states``."""
        now = time.monotonic()
        if now - self.last_activity > 5:
            self.last_activity = now
            self.web_settings["spaces_last_activity"] = datetime.now(timezone.utc)

    # -- state ----------------------------------------------------------------------------

    async def _pane_states(self) -> dict[tuple[str, str], PaneInfo]:
        if self.host_error or not self.tmux.available:
            return {}
        try:
            panes = await self.tmux.list_panes()
        except TmuxError as e:
            self.log.warning("jupyter-spaces: tmux list-panes failed: %s", e)
            return {}
        out = {}
        for name, info in panes.items():
            ids = parse_session_name(name)
            if ids:
                out[ids] = info
        return out

    async def _poll(self) -> None:
        """Announce exits and vanished sessions even when nobody is watching the pane."""
        while True:
            await asyncio.sleep(self.app.poll_interval)
            try:
                if any(e.space and e.space.panes for e in self.entries.values()):
                    await self._announce_states()
                if self.agents.pending:
                    await self._detect_sessions()
            except Exception:  # keep polling whatever one round hit
                self.log.exception("jupyter-spaces: pane state poll failed")

    async def _announce_states(self) -> None:
        infos = await self._pane_states()
        # tmux notes each window's last output: a pane whose program works is server activity.
        latest = max((i.activity for i in infos.values() if not i.dead), default=0)
        if latest:
            seen = datetime.fromtimestamp(latest, timezone.utc)
            if seen > self.web_settings.get("spaces_last_activity", seen):
                self.web_settings["spaces_last_activity"] = seen
            self.web_settings.setdefault("spaces_last_activity", seen)
        for entry in list(self.entries.values()):
            if entry.space is None:
                continue
            for pane_id in entry.space.panes:
                state, code, _ = _state(infos.get((entry.id, pane_id)))
                key = (entry.id, pane_id)
                if self._states.get(key) != (state, code):
                    self._states[key] = (state, code)
                    self.emit(
                        {
                            "action": "pane_state",
                            "space_id": entry.id,
                            "pane_id": pane_id,
                            "state": state,
                            "exit_code": code,
                        }
                    )

    # -- trust, captures and cold restore ---------------------------------------------------

    async def trust_space(self, space_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Trust the space's workspace file as it is now, then start the panes it describes.
        With ``sha256`` (the ``file_sha256`` the user was shown) a file changed since is
        refused, so what is trusted is what was reviewed."""
        _only(body, {"sha256"})
        seen = body.get("sha256")
        if seen is not None and not isinstance(seen, str):
            raise SpacesError(400, "sha256 must be a string")
        async with self._lock(space_id):
            entry = self._entry(space_id)
            if entry.space is None or entry.status != "ok":
                raise SpacesError(
                    409, f"space {space_id} cannot be trusted: {entry.message or entry.status}"
                )
            if seen is not None and seen != self._digest(entry):
                raise SpacesError(
                    409,
                    f"space.json of space {space_id} changed since it was shown; review it again",
                    "changed",
                )
            try:
                self.notary.trust(entry.file.read_bytes())
            except OSError as e:
                raise SpacesError(500, f"could not record the trust: {e}") from None
            entry.trusted = True
            restored = await self._restore_space(entry) if not self.host_error else 0
        self.log.info("jupyter-spaces: space %s trusted; %d pane(s) started", space_id, restored)
        self.emit({"action": "space_updated", "space_id": space_id})
        return await self.get_space(space_id)

    # -- snapshots --------------------------------------------------------------------------

    async def list_snapshots(self, space_id: str) -> dict[str, Any]:
        entry = self._entry(space_id)
        return {"snapshots": await asyncio.to_thread(snaps.list_snapshots, entry.dir)}

    async def get_snapshot(self, space_id: str, snapshot_id: str) -> dict[str, Any]:
        entry = self._entry(space_id)
        snap = await asyncio.to_thread(snaps.read, entry.dir, snapshot_id)
        return {**snap.public(), "layout": snaps.layout(snap)}

    async def create_snapshot(self, space_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Copy the space (a fresh capture of every live pane's screen first) and every agent
        transcript its panes reference. Allowed for untrusted spaces: nothing runs."""
        _only(body, {"name"})
        name = snaps.check_name(body.get("name"))
        async with self._lock(space_id):
            entry = self._entry(space_id)
            if entry.space is None or entry.status != "ok":
                raise SpacesError(
                    409, f"space {space_id} cannot be snapshotted: {entry.message or entry.status}"
                )
            await self._capture_space(entry)
            sources = await asyncio.to_thread(self._transcript_sources, entry.space)
            try:
                data = entry.file.read_bytes()
                if entry.trusted:
                    # Keeps the signature of these bytes fresh: a restore years later is trusted.
                    self.notary.trust(data)
                manifest = await asyncio.to_thread(
                    snaps.create, entry.dir, data, sources, name=name, sign=self.notary.trust
                )
            except OSError as e:
                raise SpacesError(500, f"could not write the snapshot: {e.strerror or e}") from None
        self.log.info("jupyter-spaces: snapshot %s of space %s taken", manifest["id"], space_id)
        self.emit({"action": "space_updated", "space_id": space_id})
        return await self.get_snapshot(space_id, manifest["id"])

    async def _capture_space(self, entry: SpaceEntry) -> None:
        """Save the text of each live pane of the space now, changed or not."""
        if entry.space is None:
            return
        infos = await self._pane_states()
        for pane_id in entry.space.panes:
            info = infos.get((entry.id, pane_id))
            if info is None:
                continue
            try:
                text = await self.tmux.capture(info.session, self.app.capture_lines)
            except TmuxError as e:
                self.log.warning("jupyter-spaces: capturing pane %s failed: %s", pane_id, e)
                continue
            activity = info.activity or time.time()
            await asyncio.to_thread(
                write_capture, entry.dir, pane_id, text, activity, self.app.capture_max_bytes
            )
            self._captured[(entry.id, pane_id)] = activity

    def _transcript_sources(self, space: Space) -> list[snaps.TranscriptSource]:
        """The transcript files of every agent session the panes reference (runs in a thread)."""
        index = self.sessions.index
        out: list[snaps.TranscriptSource] = []
        seen: set[tuple[str, str]] = set()
        for pane in space.panes.values():
            agent, sid = pane.agent, pane.session_id
            if agent not in ("claude", "codex", "gemini") or not sid or (agent, sid) in seen:
                continue
            seen.add((agent, sid))
            session = index.get(agent, sid)
            files = list(session.files) if session is not None else []
            if agent == "claude":  # the index may not have seen a brand-new session yet
                for root in index.roots("claude"):
                    files += [str(p) for p in (root / "projects").glob(f"*/{sid}.jsonl")]
            out.append(snaps.TranscriptSource(agent, sid, snaps.session_files(files, sid)))
        return out

    async def delete_snapshot(self, space_id: str, snapshot_id: str) -> None:
        entry = self._entry(space_id)
        await asyncio.to_thread(snaps.delete, entry.dir, snapshot_id)
        self.emit({"action": "space_updated", "space_id": space_id})

    async def prune_snapshots(self, space_id: str, args: dict[str, str]) -> dict[str, Any]:
        unknown = sorted(set(args) - {"keep", "older_than_days"})
        if unknown:
            raise SpacesError(400, f"prune takes only keep and older_than_days, not {unknown[0]}")
        keep = args.get("keep")
        if keep is not None and not (keep.isascii() and keep.isdigit()):
            raise SpacesError(400, "keep must be a whole number, 0 or more")
        older: float | None = None
        if "older_than_days" in args:
            try:
                older = float(args["older_than_days"])
            except ValueError:
                raise SpacesError(400, "older_than_days must be a number of days") from None
            if older != older:  # NaN
                raise SpacesError(400, "older_than_days must be a number of days")
        entry = self._entry(space_id)
        result = await asyncio.to_thread(
            snaps.prune, entry.dir, int(keep) if keep is not None else None, older
        )
        if result["deleted"]:
            self.emit({"action": "space_updated", "space_id": space_id})
        return result

    async def restore_snapshot(
        self, space_id: str, snapshot_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """Bring the space back to a snapshot: stop its panes (only with ``stop_running`` when
        any runs), write the snapshot's workspace file and screens back, put back the transcripts
        the CLIs deleted, and start the panes as a cold restore does."""
        _only(body, {"stop_running"})
        stop_running = body.get("stop_running", False)
        if not isinstance(stop_running, bool):
            raise SpacesError(400, "stop_running must be true or false")
        async with self._lock(space_id):
            entry = self._entry(space_id)
            space = self._writable(entry)
            snap = await asyncio.to_thread(snaps.read, entry.dir, snapshot_id)
            doc, data = await asyncio.to_thread(snaps.load_space, snap, space_id)
            infos = await self._pane_states()
            running = [p for p in space.panes if _state(infos.get((space_id, p)))[0] == "running"]
            if running and not stop_running:
                n = len(running)
                raise SpacesError(
                    409,
                    f"restoring snapshot {snap.id} stops {n} running pane{'s' if n != 1 else ''} "
                    "of this space; send stop_running: true to go ahead",
                    "running",
                    panes=running,
                )
            restored = Space.from_json(doc)
            for pane_id in dict.fromkeys([*space.panes, *restored.panes]):
                await self._stop_pane(space_id, pane_id)
                self.agents.forget(space_id, pane_id)
                self._captured.pop((space_id, pane_id), None)
            # Transcripts go back only from a snapshot this user made (its manifest is signed).
            authentic = self.notary.is_trusted(snap.manifest_bytes)
            index = self.sessions.index
            roots = {a: index.roots(a) for a in ("claude", "codex", "gemini")}
            try:
                put = (
                    await asyncio.to_thread(snaps.put_back_transcripts, snap, roots)
                    if authentic
                    else snaps.PutBack()
                )
                for path in put.restored:
                    await asyncio.to_thread(index.sync_file, path)
                for pane_id in space.panes:
                    if pane_id not in restored.panes:
                        forget_capture(entry.dir, pane_id)
                await asyncio.to_thread(snaps.put_back_screens, snap, entry.dir)
            except OSError as e:
                raise SpacesError(
                    500, f"could not restore the snapshot: {e.strerror or e}"
                ) from None
            entry.space = restored
            # The workspace file keeps its trust only if these exact bytes were trusted.
            self._save(entry, sign=self.notary.is_trusted(data))
            with contextlib.suppress(KeyError):
                self.registry.rename(space_id, restored.name)
            started = (
                await self._restore_space(entry) if entry.trusted and not self.host_error else 0
            )
        self.log.info(
            "jupyter-spaces: space %s restored from snapshot %s (%d transcript(s) put back, "
            "%d pane(s) started%s)",
            space_id,
            snap.id,
            len(put.restored),
            started,
            "" if authentic else "; not made by this user, so no transcripts were put back",
        )
        self.emit({"action": "space_updated", "space_id": space_id})
        return await self.get_space(space_id)

    async def _restore_all(self) -> None:
        """After the machine restarted: start again every pane of a trusted space whose tmux
        session is gone. Panes that are live were adopted and are left alone."""
        t0 = time.monotonic()
        count = 0
        for entry in list(self.entries.values()):
            if entry.space is None or relative_to_root(self.root, entry.dir) is None:
                continue
            if not entry.trusted:
                if entry.space.panes:
                    self.log.warning(
                        "jupyter-spaces: space %s is not trusted; its %d pane(s) stay stopped "
                        "until it is trusted",
                        entry.id,
                        len(entry.space.panes),
                    )
                continue
            async with self._lock(entry.id):
                count += await self._restore_space(entry)
        if count:
            self.log.info(
                "jupyter-spaces: restored %d pane(s) in %.2f s", count, time.monotonic() - t0
            )

    async def _restore_space(self, entry: SpaceEntry) -> int:
        space = entry.space
        if space is None or entry.status != "ok" or entry.read_only or not entry.trusted:
            return 0
        live = await self.tmux.list_panes()
        todo = [p for p in space.panes.values() if session_name(space.id, p.id) not in live]
        # The first start also starts the tmux server (concurrent clients would race to do
        # that); the rest start side by side, each a few tmux client processes, mostly waiting.
        results: list[bool | BaseException] = []
        for batch in (todo[:1], todo[1:]):
            results += await asyncio.gather(
                *(self._restore_pane(entry, pane) for pane in batch), return_exceptions=True
            )
        count, changed = 0, False
        for pane, result in zip(todo, results, strict=True):
            if isinstance(result, (SpacesError, TmuxError, OSError)):
                self.log.error("jupyter-spaces: could not restore pane %s: %s", pane.id, result)
            elif isinstance(result, BaseException):
                raise result
            else:
                changed |= result
                count += 1
        if changed:
            self._save(entry)
        return count

    async def _restore_pane(self, entry: SpaceEntry, pane: Pane) -> bool:
        """Start a pane from its workspace entry; True if its session id changed."""
        assert entry.space is not None
        try:
            cwd = existing_dir(entry.dir, pane.cwd, "cwd")
        except SpacesError:
            cwd = entry.dir  # its folder was removed: start in the space's folder
        when = when_text(captured_at(entry.dir, pane.id))
        launch: AgentLaunch | None = None
        if pane.kind == "agent":
            launch, cwd = await self.agents.restart(pane, entry.dir, cwd)
            notice = launch.notice or f"restored from {when}"
            launch = AgentLaunch(launch.argv, launch.session_id, notice)
            argv = self._spawn_argv(pane, launch)
        elif pane.kind == "shell":
            argv = restored_shell(pane.launch.argv, capture_file(entry.dir, pane.id), when)
        elif pane.autorestart:
            argv = list(pane.launch.argv)
        else:
            argv = waiting_command(pane.launch.argv, when)
        name = session_name(entry.space.id, pane.id)
        await self.tmux.new_pane(name, argv, str(cwd), self._pane_env(entry.space, pane))
        if launch is None:
            return False
        if launch.session_id is None and pane.agent != "custom":
            self.agents.expect(entry.space.id, pane.id, cwd)
        if launch.session_id != pane.session_id:
            pane.session_id = launch.session_id
            return True
        return False

    async def _capture_loop(self) -> None:
        while True:
            await asyncio.sleep(self.app.capture_interval)
            try:
                await self._capture_changed()
            except Exception:
                self.log.exception("jupyter-spaces: capturing pane screens failed")

    async def _capture_changed(self) -> int:
        """Save the text of every pane that printed something since its last capture. With no
        output anywhere this is one `list-panes` and no writes."""
        infos = await self._pane_states()
        count = 0
        for entry in list(self.entries.values()):
            if entry.space is None or entry.status != "ok":
                continue
            for pane_id in list(entry.space.panes):  # panes may come and go while we wait
                key = (entry.id, pane_id)
                info = infos.get(key)
                if info is None or not info.activity:
                    continue
                if key not in self._captured:
                    self._captured[key] = captured_at(entry.dir, pane_id) or 0.0
                if info.activity <= self._captured[key]:
                    continue
                taken = time.time()
                text = await self.tmux.capture(info.session, self.app.capture_lines)
                # tmux counts activity in whole seconds: output later in the second of the
                # capture has the same stamp, so that second counts as not yet captured.
                upto = min(info.activity, math.floor(taken) - 1)
                await asyncio.to_thread(
                    write_capture, entry.dir, pane_id, text, upto, self.app.capture_max_bytes
                )
                self._captured[key] = upto
                count += 1
        return count

    # -- agent sessions ---------------------------------------------------------------------

    def _space_dirs(self) -> list[tuple[str, Path]]:
        return [
            (e.id, e.dir)
            for e in self.entries.values()
            if relative_to_root(self.root, e.dir) is not None
        ]

    def _sessions_changed(self, count: int) -> None:
        """Announce index changes at most twice a second, and look for pending panes' ids."""
        self._sessions_news += count
        if self.agents.pending and (self._detecting is None or self._detecting.done()):
            self._detecting = asyncio.ensure_future(self._detect_sessions())
        if self._sessions_timer is None and self._sessions_news:
            self._sessions_timer = asyncio.get_running_loop().call_later(
                0.5, self._announce_sessions
            )

    def _announce_sessions(self) -> None:
        self._sessions_timer = None
        count, self._sessions_news = self._sessions_news, 0
        if count:
            self.emit({"action": "sessions_changed", "count": count})

    async def _detect_sessions(self) -> None:
        """Give pending agent panes the sessions their CLI started (see AgentPanes.detect)."""
        infos = await self._pane_states()
        agents: dict[tuple[str, str], str] = {}
        pids: dict[tuple[str, str], int | None] = {}
        claimed = []
        for entry in self.entries.values():
            for pane in entry.space.panes.values() if entry.space else ():
                key = (entry.id, pane.id)
                if pane.session_id:
                    claimed.append(pane.session_id)
                elif key in self.agents.pending and pane.agent:
                    agents[key] = pane.agent
                    pids[key] = _state(infos.get(key))[2]
        for key in list(self.agents.pending):
            if key not in agents:
                self.agents.forget(*key)
        found = await asyncio.to_thread(self.agents.detect, agents, pids, claimed)
        for (space_id, pane_id), session_id in found.items():
            async with self._lock(space_id):
                try:
                    entry, pane = self._pane(space_id, pane_id)
                    self._writable(entry)
                except SpacesError:
                    continue
                pane.session_id = session_id
                self._save(entry)
            self.log.info(
                "jupyter-spaces: pane %s/%s holds %s session %s",
                space_id,
                pane_id,
                pane.agent,
                session_id,
            )
            self.emit({"action": "pane_updated", "space_id": space_id, "pane_id": pane_id})

    async def resume_session(
        self, agent: str, session_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """A new agent pane that resumes ``session_id`` in its own folder, in the space that
        holds that folder (or a fresh session there if ``fresh`` and the transcript is gone)."""
        _only(body, _PLACEMENT | {"space_id", "fresh", "title"})
        fresh = body.get("fresh", False)
        if not isinstance(fresh, bool):
            raise SpacesError(400, "fresh must be true or false")
        title = body.get("title")
        if title is not None and (not isinstance(title, str) or len(title) > MAX_TITLE):
            raise SpacesError(400, f"title must be a string of at most {MAX_TITLE} characters")
        session = await self.sessions.get(agent, session_id)
        where = session.resume_cwd or session.cwd
        if session.is_subagent or not where or (not session.resumable and not session.gone):
            why = session.resume_reason or "its folder is not known"
            raise SpacesError(
                409, f"{agent} session {session_id} cannot be resumed: {why}", "not_resumable"
            )
        rel = relative_to_root(self.root, Path(where))
        space_id = body.get("space_id") or self.sessions.space_of(where)
        if space_id is None:
            if rel is None:
                raise SpacesError(
                    409,
                    f"the session's folder {where} is outside this server's root",
                    "outside_root",
                )
            raise SpacesError(
                409,
                f"no space holds the session's folder {rel or '.'!r}; create one there first",
                "no_space",
                path=rel,
            )
        if session.gone and not fresh:
            raise SpacesError(
                409,
                f"the transcript of {agent} session {session_id} was deleted; "
                "send fresh: true to start a new session in its folder",
                "gone",
                path=rel,
            )
        async with self._lock(space_id):
            entry = self._entry(space_id)
            space = self._writable(entry)
            inside = Path(where).resolve()
            if rel is None or (entry.dir != inside and entry.dir not in inside.parents):
                raise SpacesError(
                    400, f"the session's folder {where} is not inside space {space_id}"
                )
            cwd = self._pane_cwd(entry, _rel(inside, entry.dir))
            for pane in space.panes.values():
                if pane.agent == agent and pane.session_id == session_id and not session.gone:
                    raise SpacesError(
                        409,
                        f"{agent} session {session_id} is already open in pane {pane.id}",
                        "already_open",
                        space_id=space_id,
                        pane_id=pane.id,
                    )
            place = self._placement(space, body)
            self._require_host()
            profile_req = parse_agent_request({"agent": agent})
            require_cli(agent, [agent], {}, cwd)
            if session.gone:
                launch = await self.agents.start(profile_req, {}, cwd)
            else:
                launch = resume_session(agent, session_id, None, [])
            pane = Pane.new(
                "agent",
                launch.argv,
                _rel(cwd, entry.dir),
                title or _short(session.title or session.first_prompt) or agent,
                launch=profile_req.profile(launch.argv, {}),
                agent=agent,
                session_id=launch.session_id,
            )
            await self._start_pane(entry, pane, cwd, place, launch)
        self.emit({"action": "pane_created", "space_id": space_id, "pane_id": pane.id})
        return await self.get_pane(space_id, pane.id)

    def status(self) -> dict[str, Any]:
        return {
            "durable": self.host_error is None,
            "tmux": self.tmux.version() if self.tmux.available else None,
            "message": self.host_error,
            "unknown_sessions": self.unknown_sessions,
        }

    # -- JSON -----------------------------------------------------------------------------

    def _space_json(
        self, entry: SpaceEntry, infos: dict[tuple[str, str], PaneInfo]
    ) -> dict[str, Any]:
        space = entry.space
        return {
            "id": entry.id,
            "name": space.name if space else entry.dir.name,
            "path": relative_to_root(self.root, entry.dir),
            "status": entry.status,
            "message": entry.message or None,
            "read_only": entry.read_only or entry.status != "ok",
            "trusted": entry.trusted,
            "file_sha256": self._digest(entry),
            "created": space.created if space else None,
            "layout": space.layout if space else None,
            "panes": [self._pane_json(entry, p, infos) for p in space.panes.values()]
            if space
            else [],
        }

    def _pane_json(
        self, entry: SpaceEntry, pane: Pane, infos: dict[tuple[str, str], PaneInfo]
    ) -> dict[str, Any]:
        info = infos.get((entry.id, pane.id))
        state, code, pid = _state(info)
        return {
            **pane.to_json(),
            "agent": pane.agent,
            "session_id": pane.session_id,
            "space_id": entry.id,
            "state": state,
            "exit_code": code,
            "exit_signal": info.exit_signal if info else None,
            "pid": pid,
            "rows": info.rows if info else None,
            "cols": info.cols if info else None,
        }


def _state(info: PaneInfo | None) -> tuple[str, int | None, int | None]:
    if info is None:
        return "gone", None, None
    if info.dead:
        return "exited", info.exit_status, None
    return "running", None, info.pid


_PLACEMENT = frozenset({"rows", "cols", "next_to", "direction"})
_AGENT_FIELDS = frozenset({"agent", "args", "model", "resume", "session_id", "argv"})


@dataclass
class _Placement:
    size: tuple[int, int] | None
    next_to: str | None
    direction: str


def _untrusted(space_id: str) -> str:
    return (
        f"space {space_id} is not trusted: its space.json was not written by this user's server "
        "(it came with the folder, or was edited); nothing in it runs until you trust it"
    )


def _short(text: str | None, cap: int = 60) -> str:
    """A pane title from a session title or prompt: one line, at most ``cap`` characters."""
    line = " ".join((text or "").split())
    return line if len(line) <= cap else line[: cap - 1] + "…"


def _rel(path: Path, base: Path) -> str:
    rel = path.relative_to(base).as_posix()
    return "" if rel == "." else rel


def check_size(rows: object, cols: object, max_rows: int, max_cols: int) -> tuple[int, int]:
    """Rows and columns from a client, or SpacesError(400) saying what is wrong."""
    for value, what, top in ((rows, "rows", max_rows), (cols, "cols", max_cols)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise SpacesError(400, f"{what} must be a whole number")
        if not 1 <= value <= top:
            raise SpacesError(400, f"{what} must be between 1 and {top}, not {value}")
    return rows, cols  # type: ignore[return-value]


def _only(body: dict[str, Any], allowed: set[str] | frozenset[str]) -> None:
    if not isinstance(body, dict):
        raise SpacesError(400, "the request body must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise SpacesError(
            400, f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )
